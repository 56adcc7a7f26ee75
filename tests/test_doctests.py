"""Run the ``Examples`` sections of evalkit's public docstrings as doctests.

Every public function and result class listed in the ``__all__`` of the packages below carries a
numpydoc ``Examples`` section built on small data; this module runs them all (and the other
examples of those modules). Options: ``ELLIPSIS | NORMALIZE_WHITESPACE``; printed numbers are
rounded so the output does not depend on the BLAS. The examples that read the demo panel run
from the repository root.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import matplotlib
import pytest

import evalkit

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("data", "did", "synth", "iv", "inference", "sensitivity", "allocation", "report",
            "_shared.kernels")
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
# Public names excused from the example rule (none: every public name has a running example).
PENDING: set[str] = set()


def _modules() -> list[str]:
    names = []
    for pkg in PACKAGES:
        mod = importlib.import_module(f"evalkit.{pkg}")
        names.append(mod.__name__)
        if hasattr(mod, "__path__"):
            names += [m.name for m in pkgutil.iter_modules(mod.__path__, f"{mod.__name__}.")]
    return sorted(names)


def _public_objects():
    for pkg in PACKAGES:
        mod = importlib.import_module(f"evalkit.{pkg}")
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                yield f"{pkg}.{name}", obj


@pytest.fixture(autouse=True)
def _at_repository_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("module", _modules())
def test_docstring_examples_run(module):
    mod = importlib.import_module(module)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    for test in finder.find(mod, module, globs=dict(vars(mod))):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} doctest example(s) of {module} failed (see above)"


def test_every_public_name_has_a_running_example():
    missing = []
    for qual, obj in _public_objects():
        if qual in PENDING:
            continue
        doc = inspect.getdoc(obj) or ""
        examples = doc.split("Examples\n--------", 1)
        if len(examples) < 2 or ">>>" not in examples[1]:
            missing.append(qual)
        elif all("+SKIP" in line for line in examples[1].splitlines() if line.startswith(">>>")):
            missing.append(f"{qual} (only skipped examples)")
    assert evalkit.__version__
    assert not missing, "public names without a running Examples section: " + ", ".join(missing)


def test_docstrings_cite_only_documents_in_the_repository():
    cited = set()
    for path in (ROOT / "evalkit").rglob("*.py"):
        cited |= set(re.findall(r"[\w./-]+\.md\b", path.read_text(encoding="utf-8")))
    # a bare "README.md" is the file the demo generator writes next to the data
    dangling = sorted(c for c in cited - {"README.md"} if not (ROOT / c).is_file())
    assert cited and not dangling, dangling
