"""The house's rules, read from the source with ``ast`` (issue 16): the import graph of
``deeprnn_core`` and ``app`` has no cycle (function-level imports included: an import placed
inside a function to hide a cycle is still an edge), no module reaches for another module's
private name, the core imports no UI library, core files stay small, and ``app/``'s root holds
only the router."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("deeprnn_core", "app")
UI_LIBRARIES = ("streamlit", "plotly")
MAX_CORE_LINES = 350
APP_ROOT_FILES = {"__init__.py", "streamlit_app.py"}  # every other module sits in a sub-package

# (importing module, imported module, private name): crossings known and owned elsewhere. Each
# entry says who removes it; an entry that no longer matches a crossing fails the test.
KNOWN_PRIVATE: set[tuple[str, str, str]] = set()  # none: make a crossing name public instead


def module_name(path: Path) -> str:
    """deeprnn_core/engine/order.py -> deeprnn_core.engine.order; a package's __init__ is the
    package."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


FILES = {module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")}
TREES = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in FILES.items()}


def is_package(name: str) -> bool:
    return FILES[name].name == "__init__.py"


def absolute(module: str, node: ast.ImportFrom) -> str:
    """The absolute name of an ImportFrom's module (``from ..x import y`` in ``module``)."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package(module) else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(module: str) -> list[tuple[str, str | None, str | None, ast.AST]]:
    """Every import in ``module`` (at any depth): (module imported, name taken from it or None,
    the local name it is bound to, node)."""
    return imports_in(TREES[module], module)


def imports_in(tree: ast.AST, module: str) -> list[tuple[str, str | None, str | None, ast.AST]]:
    """The imports anywhere under ``tree``, a node of ``module``, as ``imports`` gives them."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((alias.name, None, alias.asname or alias.name, node))
        elif isinstance(node, ast.ImportFrom):
            source = absolute(module, node)
            for alias in node.names:
                found.append((source, alias.name, alias.asname or alias.name, node))
    return found


def target(source: str, name: str | None) -> str | None:
    """The project module an import reaches: ``from pkg import name`` is the submodule
    pkg.name when that is a module, else pkg; None outside the project."""
    if name is not None and f"{source}.{name}" in FILES:
        return f"{source}.{name}"
    return source if source in FILES else None


def graph() -> dict[str, set[str]]:
    """module -> the project modules it imports."""
    edges = {}
    for module in FILES:
        reached = (target(source, name) for source, name, _, _ in imports(module))
        edges[module] = {m for m in reached if m is not None and m != module}
    return edges


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as [a, b, ..., a], or None (depth-first search, three colours)."""
    state, stack = {}, []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_crossings() -> set[tuple[str, str, str]]:
    """(module, the project module whose private name it uses, the name): ``from x import _y``,
    and ``alias._y`` / ``alias.sub._y`` on a name bound to a project module."""
    crossings = set()
    for module in FILES:
        aliases = {}  # local name -> the project module it is bound to
        for source, name, local, _ in imports(module):
            reached = target(source, name)
            if name is None:  # import a.b.c binds a (import a.b.c as x binds a.b.c)
                local_module = source if local != source else source.split(".")[0]
                if local_module in FILES:
                    aliases[local] = local_module
            elif reached is not None and private(name) and reached != module:
                crossings.add((module, reached, name))
            elif reached == f"{source}.{name}":
                aliases[local] = reached
        for node in ast.walk(TREES[module]):
            if not isinstance(node, ast.Attribute):
                continue
            chain, base = [node.attr], node.value
            while isinstance(base, ast.Attribute):
                chain.insert(0, base.attr)
                base = base.value
            if not isinstance(base, ast.Name) or base.id not in aliases:
                continue
            owner = aliases[base.id]
            for attr in chain:
                if f"{owner}.{attr}" in FILES:
                    owner = f"{owner}.{attr}"
                    continue
                if private(attr) and owner != module:
                    crossings.add((module, owner, attr))
                break
    return crossings


def test_the_walk_sees_every_room():
    # the test is only as good as its reading: the known layers are all there, and a cycle
    # planted in a copy of the graph is found
    assert {"deeprnn_core.engine.stack", "app.settings.state", "app.runs.compute"} <= set(FILES)
    edges = graph()
    assert "deeprnn_core.config" in edges["deeprnn_core.trace"]
    planted = edges | {"deeprnn_core.config": edges["deeprnn_core.config"] | {"app.runs.compute"}}
    assert find_cycle(planted) is not None


def test_no_import_cycle():
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_project_import_inside_a_function():
    # an import placed in a function hides a cycle from a reader (and, before this test, from
    # the tests). Only a lazy load of a heavy library outside the project may sit there, with
    # a comment that says why (torch, safetensors, statsmodels: start-up time)
    hidden = [
        f"{module}:{node.lineno} imports {source}" + (f".{name}" if name else "")
        for module in FILES
        for function in ast.walk(TREES[module])
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
        for source, name, _, node in imports_in(function, module)
        if source.split(".")[0] in PACKAGES
    ]
    assert not hidden, f"project imports inside functions (move them to the top): {hidden}"


def test_no_private_name_crosses_modules():
    crossings = private_crossings()
    new = sorted(crossings - KNOWN_PRIVATE)
    listed = "\n".join(f"  {module} uses {owner}.{name}" for module, owner, name in new)
    assert not new, f"private names used across modules (make them public, documented):\n{listed}"
    stale = sorted(KNOWN_PRIVATE - crossings)
    assert not stale, f"KNOWN_PRIVATE lists crossings that are gone; remove them: {stale}"


def test_core_imports_no_ui_library_anywhere():
    # statically, every module and every function: tests/test_core_imports.py checks the
    # import of the package at run time
    found = [
        f"{module} imports {source}"
        for module in FILES
        if module.startswith("deeprnn_core")
        for source, _, _, _ in imports(module)
        if source.split(".")[0] in UI_LIBRARIES
    ]
    assert not found, found


def test_core_files_are_small():
    long = {
        str(path.relative_to(ROOT)): n
        for module, path in FILES.items()
        if module.startswith("deeprnn_core")
        and (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_CORE_LINES
    }
    assert not long, f"core files over {MAX_CORE_LINES} lines (split them along a seam): {long}"


def test_app_root_holds_only_the_router():
    loose = sorted(p.name for p in (ROOT / "app").glob("*.py") if p.name not in APP_ROOT_FILES)
    assert not loose, f"app modules at app/'s root (give them a room: settings, runs, ...): {loose}"
