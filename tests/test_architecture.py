"""The layer contract of ``solarray`` (README "Architecture"): imports only go down the layers,
no import cycles, no function-local imports of solarray (they hide cycles), modules under ~400
lines, and the top-level entry points need no ``sys.path`` edits.

Parsed with :mod:`ast`, so every import counts: module level, inside functions and under
``if TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "solarray"

#: Lowest first. A module may import its own layer and the layers before it, never a later one.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",),
    ("metrics",),
    ("data",),
    ("analysis",),
    ("losses",),
    ("models",),
    ("train",),
    ("forecast",),
    ("viz",),
    ("pipeline",),
    ("compress", "translate", "search"),
    ("benchmarks",),
    ("live",),
    ("tune",),
    ("serve",),
    ("ops",),
    ("demo",),
    ("commands",),
    ("cli",),
)
#: ``solarray/__init__.py`` holds the version only.
UNLAYERED = {"solarray"}
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _layer(module: str) -> int:
    if module in UNLAYERED:
        return -1
    room = module.split(".")[1]
    for i, names in enumerate(LAYERS):
        if room in names:
            return i
    raise AssertionError(f"{module}: room {room!r} is in no layer of tests/test_architecture.py; "
                         "add it where it belongs")


def _target(module: str, node: ast.AST) -> list[str]:
    """solarray modules an import statement in ``module`` names (resolved to known modules)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        assert isinstance(node, ast.ImportFrom)
        if node.level:
            pkg = module.split(".")
            if MODULES[module].name != "__init__.py":
                pkg = pkg[:-1]
            pkg = pkg[: len(pkg) - node.level + 1]
            base = ".".join(pkg + ([node.module] if node.module else []))
        else:
            base = node.module or ""
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
    out = []
    for name in names:
        if not (name == "solarray" or name.startswith("solarray.")):
            continue
        while name not in MODULES and "." in name:
            name = name.rsplit(".", 1)[0]
        out.append(name)
    return out


def _imports(module: str) -> list[tuple[str, int, bool]]:
    """(target, line, inside a function) for every solarray import of ``module``."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    local: set[int] = set()
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            local |= {id(n) for n in ast.walk(fn) if isinstance(n, (ast.Import, ast.ImportFrom))}
    return [(t, n.lineno, id(n) in local) for n in ast.walk(tree)
            if isinstance(n, (ast.Import, ast.ImportFrom)) for t in _target(module, n)]


GRAPH = {m: _imports(m) for m in MODULES}


def test_every_room_has_a_layer():
    for module in MODULES:
        _layer(module)


def test_imports_only_go_down_the_layers():
    bad = [f"{m}:{line} imports {t} (layer {LAYERS[_layer(t)]} is above {LAYERS[_layer(m)]})"
           for m, edges in GRAPH.items() for t, line, _ in edges
           if t not in UNLAYERED and m not in UNLAYERED and _layer(t) > _layer(m)]
    assert not bad, "\n".join(bad)


def test_no_function_local_solarray_imports():
    bad = [f"{m}:{line} imports {t} inside a function" for m, edges in GRAPH.items()
           for t, line, local in edges if local]
    assert not bad, "\n".join(bad)


def test_no_import_cycles():
    edges = {m: sorted({t for t, _, _ in GRAPH[m] if t != m}) for m in MODULES}
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in edges[m]:
            if state.get(t) == 1:
                cycles.append(" → ".join(stack[stack.index(t):] + [t]))
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in MODULES:
        if m not in state:
            visit(m)
    assert not cycles, "\n".join(cycles)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_is_under_the_line_limit(module):
    n = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert n <= MAX_LINES, f"{MODULES[module].relative_to(ROOT)} has {n} lines (> {MAX_LINES}): split it"


@pytest.mark.parametrize("folder", ["jobs", "tune", "serve"])
def test_entry_points_need_no_sys_path_edits(folder):
    bad = [str(p.relative_to(ROOT)) for p in sorted((ROOT / folder).rglob("*.py"))
           if "sys.path" in p.read_text(encoding="utf-8")]
    assert not bad, f"sys.path edited in {bad}"


def test_the_contract_sees_a_violation(tmp_path, monkeypatch):
    """The checker itself: an upward, function-local import is found."""
    fake = tmp_path / "solarray" / "core" / "bad.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("def f():\n    from solarray.serve import app\n")
    monkeypatch.setitem(MODULES, "solarray.core.bad", fake)
    edges = _imports("solarray.core.bad")
    assert edges and edges[0][2]
    assert _layer(edges[0][0]) > _layer("solarray.core.bad")
