"""The package's shape: size limits, no private reach-ins, no import cycles.

Rules (DEVNOTES.md, "Layers"):

- no function or method in ``evalkit/`` longer than :data:`MAX_FUNCTION_LINES` lines and no module
  longer than :data:`MAX_MODULE_LINES` lines;
- no private name (``from x import _name``) imported from another module, unless ``x`` is a
  private submodule of the importing module's own package (``from ._fe import demean`` inside
  ``evalkit/did/`` is fine, ``from evalkit.results import _critical`` is not);
- no import cycle between modules, counting imports inside functions too. A name a package
  ``__init__`` re-exports is followed to the module that defines it (``from evalkit.did import
  twfe`` is an edge to ``evalkit.did.twfe``, not to the package), so an ``__init__`` that only
  re-exports its submodules closes no cycle; one that defines names its submodules import does. Imports under ``if TYPE_CHECKING:`` (annotations only, never
  executed) are not edges.

The checks read the source with :mod:`ast`; nothing is imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "evalkit"
MAX_FUNCTION_LINES = 150
MAX_MODULE_LINES = 800


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


MODULES = _modules()
TREES = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in MODULES.items()}


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _resolve(importer: str, module: str | None, level: int) -> str:
    """Absolute name of ``from <level dots><module> import ...`` written in ``importer``."""
    if level == 0:
        return module or ""
    base = importer.split(".")
    if not _is_package(importer):
        base = base[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def _is_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _runtime_nodes(tree: ast.AST):
    """Every node except the bodies of ``if TYPE_CHECKING:`` (annotations only, never run)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if _is_type_checking(child):
                stack.extend(child.orelse)
                continue
            stack.append(child)


def _imports(name: str):
    """Yield ``(line, target module, imported names)`` for every import in module ``name``
    (at any depth: in functions, methods, branches), except those for type checkers only."""
    for node in _runtime_nodes(TREES[name]):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(name, node.module, node.level)
            yield node.lineno, target, [alias.name for alias in node.names]


def _package_exports(package: str) -> dict[str, str]:
    """Names a package ``__init__`` takes from its own submodules: name -> defining module."""
    out: dict[str, str] = {}
    for _, target, names in _imports(package):
        if not target.startswith(package + "."):
            continue
        for alias in names:
            sub = f"{target}.{alias}"
            out[alias] = sub if sub in MODULES else target
    return out


EXPORTS = {name: _package_exports(name) for name in MODULES if _is_package(name)}


def _defining_module(package: str, alias: str, seen=()) -> str:
    """Follow re-exports through package ``__init__`` files to the module defining ``alias``."""
    sub = f"{package}.{alias}"
    if sub in MODULES:
        return sub
    target = EXPORTS.get(package, {}).get(alias)
    if target is None or target in seen:
        return package
    if target in EXPORTS:
        return _defining_module(target, alias, seen + (target,))
    return target


def _edges(name: str) -> set[str]:
    """Modules of evalkit that module ``name`` imports (at any depth of its code)."""
    edges: set[str] = set()
    for _, target, names in _imports(name):
        if not target.startswith("evalkit"):
            continue
        if names and target in EXPORTS:
            for alias in names:
                edges.add(_defining_module(target, alias))
        else:
            # ``import a.b.c`` or ``from a.b import name`` of a plain module
            while target not in MODULES and "." in target:
                target = target.rsplit(".", 1)[0]
            edges.add(target)
    edges.discard(name)
    return edges


def long_functions() -> list[str]:
    found = []
    for name, tree in TREES.items():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{name}.{node.name} (line {node.lineno}): {length} lines")
    return found


def long_modules() -> list[str]:
    found = []
    for name, path in MODULES.items():
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_MODULE_LINES:
            found.append(f"{name}: {n} lines")
    return found


def _reachable_private(importer: str, target: str) -> bool:
    """Whether ``importer`` may use module ``target`` although a part of its name is private.

    A private module (or package) is internal to the package that holds it: ``evalkit._summary``
    and ``evalkit._shared.*`` serve every module of evalkit, ``evalkit.did._fe`` only
    ``evalkit.did``.
    """
    parts = target.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            holder = ".".join(parts[:i])
            if not (importer == holder or importer.startswith(holder + ".")):
                return False
    return True


def private_imports() -> list[str]:
    """Private names imported from another module, and private modules of other packages."""
    found = []
    for name in MODULES:
        for line, target, names in _imports(name):
            if not target.startswith("evalkit"):
                continue
            if not _reachable_private(name, target):
                found.append(f"{name}:{line} imports from {target}, private to another package")
                continue
            for alias in names:
                if not alias.startswith("_") or alias.startswith("__"):
                    continue
                sub = f"{target}.{alias}"
                if sub in MODULES and _reachable_private(name, sub):
                    continue  # ``from . import _fe``: a private submodule of one's own package
                found.append(f"{name}:{line} imports {alias} from {target}")
    return found


def import_cycles() -> list[list[str]]:
    """Strongly connected components (more than one module) of the import graph (Tarjan)."""
    graph = {name: sorted(_edges(name)) for name in MODULES}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return components


#: Layers, bottom up (DEVNOTES.md "Layers"): a module may import its own layer and those below.
LAYERS = {
    "evalkit": 0, "_shared": 0,
    "data": 1,
    # the results protocol is the base every result implements, the inference results too
    "results": 2, "_summary": 2, "_maketables": 2,
    "inference": 3,
    "did": 4, "synth": 4, "sensitivity": 4, "iv": 4,
    "report": 5, "targets": 5, "allocation": 5,
    "pipeline": 6, "verify": 6, "cli": 6, "__main__": 6,
}
#: Imports that go up a layer, each inside a function, with the reason they may.
UPWARD = {
    # result objects draw themselves with the report's plots (report never imports them)
    ("evalkit.results", "evalkit.report.plots"): "plot() of the results family",
    ("evalkit.did.compare", "evalkit.report.plots"): "Comparison.plot()",
    ("evalkit.did.compare", "evalkit.report.labels"): "Comparison.plot() labels",
    ("evalkit.synth.results", "evalkit.report.labels"): "synthetic-control plot labels",
    # plot() of a result: the report language (report.use), the CJK font and the synthetic mark
    ("evalkit.did.bacon", "evalkit.report.style"): "BaconResult.plot()",
    ("evalkit.did.bacon", "evalkit.report.labels"): "BaconResult.plot() labels",
    ("evalkit.did.dcdh", "evalkit.report.labels"): "DCDHResult.plot() labels",
    ("evalkit.iv.panel", "evalkit.report.labels"): "PanelIVResult plot labels",
    ("evalkit.did.compare", "evalkit.report.style"): "Comparison.plot() language",
    ("evalkit.did.continuous", "evalkit.report.style"): "DoseCurve.plot() language",
    ("evalkit.did.continuous", "evalkit.report.labels"): "DoseCurve.plot() labels",
    ("evalkit.did.dcdh", "evalkit.report.style"): "DCDHResult.plot()",
    ("evalkit.inference._protocol", "evalkit.report.style"): "ScalarTest.plot()",
    ("evalkit.inference._protocol", "evalkit.report.labels"): "ScalarTest.plot() labels",
    ("evalkit.inference.recommend", "evalkit.report.plots"): "FewClusterReport.plot()",
    ("evalkit.iv.panel", "evalkit.report.plots"): "PanelIVResult.plot()",
    ("evalkit.iv.panel", "evalkit.report.style"): "PanelIVResult plots",
    ("evalkit.sensitivity.honest", "evalkit.report.style"): "HonestDiDResult.plot()",
    ("evalkit.sensitivity.honest", "evalkit.report.labels"): "HonestDiDResult.plot() labels",
    ("evalkit.synth.results", "evalkit.report.style"): "synthetic-control plots",
    # the formula instrument is computed by the allocation engine (the IV estimator is not)
    ("evalkit.iv.instrument", "evalkit.allocation"): "adapter: formula instrument",
    ("evalkit.iv.instrument", "evalkit.allocation.spec"): "adapter: formula instrument",
    # the demo generator writes the worked formula examples next to the demo data
    ("evalkit.data.demo", "evalkit.allocation.template"): "demo data: formula examples",
    # "did you mean ...?" over the covariance registry's option names
    ("evalkit._shared.options", "evalkit.inference.covariance"): "option names for suggestions",
}


def _layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS[parts[1] if len(parts) > 1 else parts[0]]


def upward_imports() -> list[str]:
    """Imports of a higher layer than the importer's, other than those in :data:`UPWARD`."""
    found = []
    for name in MODULES:
        for target in sorted(_edges(name)):
            if _layer(target) > _layer(name) and (name, target) not in UPWARD:
                found.append(f"{name} imports {target} (layer {_layer(target)} > {_layer(name)})")
    return found


def test_layers_point_down():
    assert upward_imports() == [], "import only your own layer and those below (DEVNOTES.md)"


def test_every_package_has_a_layer():
    assert {m.split(".")[1] if "." in m else m for m in MODULES} <= set(LAYERS)


def test_no_long_functions():
    assert long_functions() == [], "split these along their section comments"


def test_no_long_modules():
    assert long_modules() == [], "split these modules along their sections"


def test_no_private_names_across_modules():
    assert private_imports() == [], "make the helper public (or move it to a private submodule)"


def test_no_import_cycles():
    assert import_cycles() == []


@pytest.mark.parametrize(
    "source, expected",
    [
        ("def f():\n" + "    x = 1\n" * (MAX_FUNCTION_LINES) + "    return x\n", True),
        ("def f():\n" + "    x = 1\n" * (MAX_FUNCTION_LINES - 2) + "    return x\n", False),
    ],
)
def test_function_length_rule_can_fail(source, expected):
    tree = ast.parse(source)
    node = tree.body[0]
    assert (node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES) is expected


def test_cycle_finder_sees_function_level_cycles(monkeypatch):
    a = ast.parse("def f():\n    from evalkit.did.twfe import twfe\n")
    b = ast.parse("from evalkit.iv import iv_fit\n")
    monkeypatch.setitem(TREES, "evalkit.iv", a)
    monkeypatch.setitem(TREES, "evalkit.did.twfe", b)
    assert ["evalkit.did.twfe", "evalkit.iv"] in import_cycles()


def test_type_checking_imports_are_not_edges(monkeypatch):
    a = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from evalkit.did.twfe import twfe\n")
    b = ast.parse("from evalkit.iv import iv_fit\n")
    monkeypatch.setitem(TREES, "evalkit.iv", a)
    monkeypatch.setitem(TREES, "evalkit.did.twfe", b)
    assert ["evalkit.did.twfe", "evalkit.iv"] not in import_cycles()


def test_layer_rule_sees_upward_imports(monkeypatch):
    monkeypatch.setitem(TREES, "evalkit.inference.design", ast.parse("from evalkit.did.twfe import twfe\n"))
    assert any(item.startswith("evalkit.inference.design imports evalkit.did.twfe")
               for item in upward_imports())


def test_private_rule_sees_reach_ins(monkeypatch):
    monkeypatch.setitem(TREES, "evalkit.iv", ast.parse("from evalkit.results import _critical\n"))
    assert any("_critical" in item for item in private_imports())


if __name__ == "__main__":
    for title, items in [("long functions", long_functions()), ("long modules", long_modules()),
                         ("upward imports", upward_imports()),
                         ("private imports", private_imports()), ("cycles", import_cycles())]:
        print(f"== {title}: {len(items)}")
        for item in items:
            print("  ", item)
