"""The plane names things by kind and id ("network 7f3e…") and returns ids, never a face's paths
(issue 13): the faces turn ids into their own paths where they show them, and take a path off
their input before they call the plane. This test reads the plane's source and fails on any
string literal -- a message, a docstring, the text of an f-string -- that holds an OCCI kind's
path, or builds one from an interpolated kind (``f"/{kind}/{entity_id}"``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import occistack.plane
from occistack.api.occi.paths import ALIAS_ROOT, SERVED_PATHS

PLANE = Path(occistack.plane.__file__).parent
#: Every path the OCCI face serves a kind at (locations and the clients' aliases), and the root
#: of the aliases.
KIND_PATHS = tuple(sorted({*SERVED_PATHS, ALIAS_ROOT}))
#: Stands for an interpolated value in an f-string's text.
HOLE = "\0"
#: A path whose first segment is interpolated: "/" starting the text or a word (not "iso/", not
#: the "/" between two values), a value, then "/".
INTERPOLATED_SEGMENT = re.compile(rf"(?:^|[^\w.{HOLE}])/{HOLE}/")


def face_paths_in(source: str, filename: str) -> list[str]:
    """``filename:line: literal`` for each string literal of ``source`` that holds a kind path."""
    found = []
    nodes = list(ast.walk(ast.parse(source, filename)))
    # An f-string's text is read whole, with its holes, not again piece by piece.
    pieces = {id(part) for node in nodes if isinstance(node, ast.JoinedStr) for part in node.values}
    for node in nodes:
        if isinstance(node, ast.JoinedStr):
            text = "".join(part.value if isinstance(part, ast.Constant) else HOLE for part in node.values)
            interpolated = INTERPOLATED_SEGMENT.search(text) is not None
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in pieces:
            text, interpolated = node.value, False
        else:
            continue
        if interpolated or any(path in text for path in KIND_PATHS):
            found.append(f"{filename}:{node.lineno}: {text.replace(HOLE, '{…}')!r}")
    return found


def test_the_plane_writes_no_face_paths():
    found = [hit for module in sorted(PLANE.rglob("*.py"))
             for hit in face_paths_in(module.read_text(), str(module.relative_to(PLANE.parent.parent)))]
    assert not found, ("the plane names things by kind and id, and the faces make their paths; "
                       "these literals hold OCCI paths:\n" + "\n".join(found))


def test_the_scan_finds_paths_in_messages_docstrings_and_f_strings():
    source = '''
"""A docstring that names ``/network/public``."""
refused = f"no compute /compute/{vm_id}"
built = f"/{kind}/{entity_id} is shared"
aliased = "POST it to /link/storagelink/"
fine = [f"network {network.id}", f"iso/{template.id}/{template.term}.iso", f"{gateway}/{prefix}",
        f"{base.rstrip('/')}/{path}", "/default_network/", "/ipnetwork"]
'''
    assert [hit.split(": ", 1)[0] for hit in face_paths_in(source, "sample.py")] == [
        "sample.py:2", "sample.py:3", "sample.py:4", "sample.py:5"]
