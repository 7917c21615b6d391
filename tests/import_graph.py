"""occistack's import graph, read from the source with ``ast``, and the checks run on it.

Every ``import`` counts: at module level, under ``if TYPE_CHECKING:``, and inside functions (a
function-local import that avoids a cycle at run time is still a cycle in the design), relative or
absolute. ``from a.b import c`` is an import of the module ``a.b.c`` when there is one, else of
``a.b``. Importing ``a.b.c`` also runs ``a/__init__.py`` and ``a/b/__init__.py``; those implicit
imports of parent packages are not edges (every submodule would otherwise "import" its package).

The rules themselves -- which layer may import which -- are in tests/test_layering.py; this
module only knows how to apply a table of them to a graph, so that a unit test can feed it a
small made-up graph.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Import:
    """One import statement's edge: where it is, and whether it runs inside a function."""

    line: int
    local: bool


@dataclass
class ImportGraph:
    #: importer → imported occistack module → the first statement importing it.
    edges: dict[str, dict[str, Import]] = field(default_factory=dict)
    #: importer → third-party top-level package → the first statement importing it.
    packages: dict[str, dict[str, Import]] = field(default_factory=dict)
    #: importer → occistack module it imports inside a function → the first such statement.
    deferred: dict[str, dict[str, Import]] = field(default_factory=dict)

    @property
    def modules(self) -> list[str]:
        return sorted(self.edges)


def module_name(path: Path, root: Path) -> tuple[str, bool]:
    """The dotted name of the file at ``path`` (under ``root``) and whether it is a package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts), is_package


def read_graph(root: Path, package: str = "occistack") -> ImportGraph:
    """The import graph of every module of ``package`` (a directory under ``root``)."""
    sources = {}
    for path in sorted((root / package).rglob("*.py")):
        name, is_package = module_name(path, root)
        sources[name] = (path.read_text(encoding="utf-8"), is_package)
    graph = ImportGraph()
    for name, (source, is_package) in sources.items():
        graph.edges[name], graph.packages[name], graph.deferred[name] = {}, {}, {}
        _collect(ast.parse(source, filename=name), name, is_package, set(sources), package, graph, local=False)
    return graph


def _collect(node: ast.AST, importer: str, is_package: bool, known: set[str], package: str, graph: ImportGraph,
             local: bool) -> None:
    # Imports are statements: only statement lists are walked, never expressions (much faster).
    for child in _statements_in(node):
        inside = local or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
        if isinstance(child, ast.Import):
            for alias in child.names:
                _add(graph, importer, alias.name, known, package, Import(child.lineno, inside))
        elif isinstance(child, ast.ImportFrom):
            base = _absolute(child, importer, is_package)
            if base == "__future__":
                continue
            for alias in child.names:
                candidate = f"{base}.{alias.name}"
                _add(graph, importer, candidate if candidate in known else base, known, package,
                     Import(child.lineno, inside))
        else:
            _collect(child, importer, is_package, known, package, graph, inside)


def _statements_in(node: ast.AST):
    for name in ("body", "orelse", "finalbody", "handlers", "cases"):
        block = getattr(node, name, None)
        if isinstance(block, list):
            yield from block


def _absolute(statement: ast.ImportFrom, importer: str, is_package: bool) -> str:
    if not statement.level:
        return statement.module or ""
    anchor = importer.split(".") if is_package else importer.split(".")[:-1]
    anchor = anchor[:len(anchor) - (statement.level - 1)]
    return ".".join([*anchor, *([statement.module] if statement.module else [])])


def _add(graph: ImportGraph, importer: str, imported: str, known: set[str], package: str, where: Import) -> None:
    top = imported.split(".")[0]
    if top != package:
        graph.packages[importer].setdefault(top, where)
        return
    while imported not in known and "." in imported:
        imported = imported.rsplit(".", 1)[0]
    if imported != importer:
        graph.edges[importer].setdefault(imported, where)
        if where.local:
            graph.deferred[importer].setdefault(imported, where)


# --- cycles ------------------------------------------------------------------------------------

def find_cycles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """One cycle (``[a, b, …, a]``) for each group of modules that import each other, found
    with Tarjan's strongly connected components (iterative: the graph is deep)."""
    index: dict[str, int] = {}
    lowest: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = lowest[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            following = next(successors, None)
            if following is not None:
                if following not in index:
                    index[following] = lowest[following] = len(index)
                    stack.append(following)
                    on_stack.add(following)
                    work.append((following, iter(sorted(edges.get(following, ())))))
                elif following in on_stack:
                    lowest[node] = min(lowest[node], index[following])
                continue
            work.pop()
            if work:
                lowest[work[-1][0]] = min(lowest[work[-1][0]], lowest[node])
            if lowest[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return [_cycle_through(group, edges) for group in sorted(groups)]


def _cycle_through(group: list[str], edges: Mapping[str, Iterable[str]]) -> list[str]:
    """A shortest cycle from the group's first module back to it, inside the group."""
    members, start = set(group), group[0]
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following_frontier = []
        for node in frontier:
            for following in sorted(edges.get(node, ())):
                if following == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [*reversed(path), start]
                if following in members and following not in came_from:
                    came_from[following] = node
                    following_frontier.append(following)
        frontier = following_frontier
    raise AssertionError(f"no cycle through {start} in its component")  # Tarjan guarantees one


# --- layers ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Layer:
    """Modules that may import each other freely (cycles aside) and the layers below them they
    may import. A pattern ``a.b.*`` covers ``a.b`` and everything under it; ``a.b`` covers that
    one module. The most specific pattern decides which layer a module is in."""

    name: str
    modules: tuple[str, ...]
    may_import: tuple[str, ...]
    why: str


def layer_of(module: str, layers: Iterable[Layer]) -> Layer | None:
    best, best_length = None, -1
    for layer in layers:
        for pattern in layer.modules:
            exact = not pattern.endswith(".*")
            stem = pattern if exact else pattern[:-2]
            covers = module == stem or (not exact and module.startswith(stem + "."))
            # An exact pattern beats a package pattern of the same name.
            length = len(stem) * 2 + (1 if exact else 0)
            if covers and length > best_length:
                best, best_length = layer, length
    return best


def check_table(layers: list[Layer]) -> list[str]:
    """Mistakes in the table itself: a layer may import only layers listed before it (which
    makes the rules acyclic by construction), each named once."""
    problems, seen = [], set()
    for layer in layers:
        for lower in layer.may_import:
            if lower not in seen:
                problems.append(f"layer {layer.name!r} may import {lower!r}, which is not a layer listed before it")
        if layer.name in seen:
            problems.append(f"layer {layer.name!r} is listed twice")
        seen.add(layer.name)
    return problems


def broken_rules(edges: Mapping[str, Mapping[str, Import]], layers: list[Layer],
                 forbidden: Iterable[tuple[str, str, str]] = ()) -> list[str]:
    """Every import that breaks a rule, said with importer, imported, line and the rule: a
    module in no layer, an import of a layer not below, an import a ``forbidden`` rule
    (importer pattern, imported pattern, why) names."""
    problems = []
    for importer in sorted(edges):
        home = layer_of(importer, layers)
        if home is None:
            problems.append(f"{importer} is in no layer: add it to the table in tests/test_layering.py")
            continue
        for imported, where in sorted(edges[importer].items()):
            target = layer_of(imported, layers)
            if target is None or target is home:
                continue
            if target.name not in home.may_import:
                problems.append(f"{importer} (line {where.line}) imports {imported}: layer {home.name!r} may not "
                                f"import layer {target.name!r} (it may import: "
                                f"{', '.join(home.may_import) or 'nothing'}); {home.name}: {home.why}")
        for importer_pattern, imported_pattern, why in forbidden:
            if not _matches(importer, importer_pattern):
                continue
            for imported, where in sorted(edges[importer].items()):
                if _matches(imported, imported_pattern):
                    problems.append(f"{importer} (line {where.line}) imports {imported}: {importer_pattern} never "
                                    f"imports {imported_pattern}: {why}")
    return problems


def _matches(module: str, pattern: str) -> bool:
    if pattern.endswith(".*"):
        return module == pattern[:-2] or module.startswith(pattern[:-1])
    return module == pattern
