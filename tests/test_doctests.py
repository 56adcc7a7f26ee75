"""Run the ``Examples`` sections of evalkit's public docstrings as doctests.

Every public function and result class listed in the ``__all__`` of the packages below carries a
numpydoc ``Examples`` section built on small data; this module runs them all (and the other
examples of those modules). Every class returned by a public function of the estimator packages
(found from the return annotations, ``result_classes.py``) must have an ``Examples`` section in
its own docstring (not inherited), and that example is run on its own. Options: ``ELLIPSIS | NORMALIZE_WHITESPACE``; printed numbers are
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
from result_classes import qualname, returned_classes

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


RETURNED = sorted(returned_classes(), key=qualname)


def _own_examples(cls) -> str:
    doc = inspect.cleandoc(cls.__doc__ or "")  # the class's own docstring, not a parent's
    parts = doc.split("Examples\n--------", 1)
    return parts[1] if len(parts) == 2 else ""


@pytest.mark.parametrize("cls", RETURNED, ids=qualname)
def test_every_returned_class_has_its_own_running_example(cls):
    examples = _own_examples(cls)
    runnable = [ln for ln in examples.splitlines() if ln.startswith(">>>") and "+SKIP" not in ln]
    assert runnable, f"{qualname(cls)} has no Examples section of its own with a running example"
    module = importlib.import_module(cls.__module__)
    finder = doctest.DocTestFinder(exclude_empty=True, recurse=False)
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    tests = finder.find(cls, qualname(cls), module=module, globs=dict(vars(module)))
    assert tests and tests[0].examples
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0 and result.attempted > 0, f"the example of {qualname(cls)} failed"


def test_docstrings_cite_only_documents_in_the_repository():
    cited = set()
    for path in (ROOT / "evalkit").rglob("*.py"):
        cited |= set(re.findall(r"[\w./-]+\.md\b", path.read_text(encoding="utf-8")))
    # a bare "README.md" is the file the demo generator writes next to the data
    dangling = sorted(c for c in cited - {"README.md"} if not (ROOT / c).is_file())
    assert cited and not dangling, dangling
