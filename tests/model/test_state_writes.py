"""State is data: no code moves a row by assigning its state. Every move goes through a
transition table and plane/transitions.py's conditional UPDATE (jobs and agent commands through
the set-based UPDATEs built from their tables), so an assignment like ``template.state =
"ready"`` anywhere in occistack is a move that no table checks and no concurrent writer sees."""

from __future__ import annotations

import ast
from pathlib import Path

import occistack

STATE_COLUMNS = {"state", "status", "resource_state"}
SOURCE = Path(occistack.__file__).parent


def assigned_attributes(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        else:
            continue
        for target in targets:
            for element in target.elts if isinstance(target, ast.Tuple) else [target]:
                if isinstance(element, ast.Attribute):
                    yield node.lineno, element


def test_no_row_changes_state_by_assignment():
    offenders = []
    for path in sorted(SOURCE.rglob("*.py")):
        for line, attribute in assigned_attributes(ast.parse(path.read_text(), str(path))):
            # An object's own field (an exception's state, a response's status) is no row.
            own = isinstance(attribute.value, ast.Name) and attribute.value.id == "self"
            if attribute.attr in STATE_COLUMNS and not own:
                offenders.append(f"{path.relative_to(SOURCE.parent)}:{line}: {ast.unparse(attribute)} = ...")
    assert not offenders, "move these through their transition table (plane/transitions.apply_event):\n" + "\n".join(
        offenders)
