"""The package's shape: no import cycle, small modules, functions that fit on a screen.

Run it as a script to print the import graph check: ``python tests/test_package_shape.py``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import airflow_provider_hopsjobs as package

PACKAGE_DIR = Path(package.__file__).parent
PACKAGE = package.__name__
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60
#: A function may be longer when its ``def`` line says why, after this marker.
LONG_MARKER = "# long:"


def _module_name(path: Path) -> str:
    parts = [PACKAGE, *path.relative_to(PACKAGE_DIR).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE_DIR.rglob("*.py"))}


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports, ``TYPE_CHECKING`` and function-level imports included."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    imported.add(full if full in modules else node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
        # A package's own ``__init__`` is imported by everything below it; only real modules count.
        graph[name] = {m for m in imported if m in modules and m != name and modules[m].stem != "__init__"}
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), plus self-imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_no_import_cycle_in_the_package() -> None:
    assert import_cycles(import_graph()) == []


def test_no_module_is_over_500_lines() -> None:
    sizes = {name: path.read_text(encoding="utf-8").count("\n") for name, path in _modules().items()}
    assert {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES} == {}


def test_long_functions_say_why() -> None:
    unexplained = []
    for path in _modules().values():
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES and LONG_MARKER not in lines[node.lineno - 1]:
                    where = path.relative_to(PACKAGE_DIR)
                    unexplained.append(f"{where}:{node.lineno} {node.name} ({length} lines)")
    assert unexplained == []


if __name__ == "__main__":
    graph = import_graph()
    cycles = import_cycles(graph)
    edges = sum(len(targets) for targets in graph.values())
    print(f"{len(graph)} modules, {edges} imports between them, {len(cycles)} import cycles")
    for cycle in cycles:
        print("cycle:", " <-> ".join(cycle))
    sys.exit(1 if cycles else 0)
