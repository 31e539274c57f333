"""The import layers of docs/architecture.md hold: no import from a higher layer, sideways imports only
where the page lists them, no import cycle. Imports are read with ``ast`` from every module of
src/opnet, at module level and inside functions alike."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PAGE = ROOT / "docs" / "architecture.md"

LAYERS = (
    ("errors", "compat"),
    ("fileio", "parallel", "geometry", "normalization", "settings", "progress"),
    ("targets", "preprocess", "original_crop"),
    ("data", "facemodel", "render", "viz"),
    ("augment", "models", "losses", "datatools"),
    ("runtime", "prepare", "synth", "augment3d"),
    ("train", "evaluate", "export"),
    ("track",),
    ("demo",),
    ("cli", "api"),
    ("__main__",),
)
"""Top-level packages and modules of ``opnet``, lowest layer first (docs/architecture.md, "Layers")."""

SIDEWAYS = frozenset(
    {
        ("losses", "models"),
        ("augment3d", "synth"),
        ("train", "evaluate"),
        ("train", "export"),
        ("export", "evaluate"),
        ("parallel", "fileio"),
        ("viz", "data"),
    }
)
"""Imports between packages of one layer (docs/architecture.md, "Sideways imports", with the reasons)."""


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted((SRC / "opnet").rglob("*.py"))}


def imported_modules(name: str) -> set[str]:
    """The OpNet modules that module ``name`` imports anywhere in its file (``from P import m`` of a
    submodule m counts as an import of P.m)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            subs = {f"{base}.{alias.name}" for alias in node.names} & MODULES.keys()
            found.update(subs or {base})
            if len(subs) < len(node.names):
                found.add(base)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: imported_modules(name) for name in MODULES}


def unit(module: str) -> str:
    """The top-level package or module of ``opnet`` that ``module`` belongs to."""
    return module.split(".")[1] if "." in module else "opnet"


LAYER_OF = {name: k for k, names in enumerate(LAYERS) for name in names}


def test_every_package_has_a_layer():
    units = {unit(m) for m in MODULES} - {"opnet"}
    missing = sorted(units - LAYER_OF.keys())
    assert not missing, f"place {missing} in a layer of docs/architecture.md and LAYERS here"
    assert not LAYER_OF.keys() - units, f"LAYERS names packages that do not exist: {LAYER_OF.keys() - units}"


def test_no_import_from_a_higher_layer_and_sideways_only_where_listed():
    wrong = []
    for source, targets in GRAPH.items():
        for target in targets:
            a, b = unit(source), unit(target)
            if a == b or "opnet" in (a, b):
                continue
            if LAYER_OF[b] > LAYER_OF[a] or (LAYER_OF[b] == LAYER_OF[a] and (a, b) not in SIDEWAYS):
                wrong.append(f"{source} imports {target}")
    assert not wrong, "imports against the layers:\n" + "\n".join(sorted(wrong))
    used = {(unit(source), unit(target)) for source, targets in GRAPH.items() for target in targets}
    assert SIDEWAYS <= used, f"listed but no longer imported: {sorted(SIDEWAYS - used)}"


def test_the_package_root_imports_nothing_when_imported():
    """``opnet/__init__.py`` sits outside the layers: everything imports it, so it imports OpNet code only
    inside functions (``opnet.load``), and other modules take nothing but ``__version__`` from it."""
    tree = ast.parse(MODULES["opnet"].read_text(encoding="utf-8"))
    eager = [
        node
        for node in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom))
        and (getattr(node, "module", "") or "").startswith("opnet")
    ]
    assert not eager
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "opnet" and not node.level:
                assert [a.name for a in node.names] == ["__version__"], name


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path (first node repeated at the end), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_between_modules():
    """The root is left out: it imports nothing when imported (the test above), only inside ``load``."""
    cycle = _cycle({name: targets - {"opnet"} for name, targets in GRAPH.items() if name != "opnet"})
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_import_cycle_between_packages():
    packages: dict[str, set[str]] = {}
    for source, targets in GRAPH.items():
        packages.setdefault(unit(source), set()).update(unit(t) for t in targets if unit(t) != unit(source))
    packages.pop("opnet", None)
    cycle = _cycle({k: v - {"opnet"} for k, v in packages.items()})
    assert cycle is None, "package cycle: " + " -> ".join(cycle or [])


def _table_rows(section: str) -> list[list[str]]:
    """The cells of the markdown table under the heading ``## section`` of docs/architecture.md."""
    text = PAGE.read_text(encoding="utf-8").split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.strip().strip("|").split("|") for line in text.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row] for row in rows[2:]]


def test_the_page_lists_the_same_layers_and_sideways_imports():
    layers = tuple(tuple(re.findall(r"`([\w.]+)`", row[1])) for row in _table_rows("Layers"))
    assert layers == LAYERS
    sideways = {tuple(re.findall(r"`(\w+)`", row[0])) for row in _table_rows("Sideways imports")}
    assert sideways == SIDEWAYS
