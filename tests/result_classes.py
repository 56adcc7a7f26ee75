"""Find every class returned by a public function of the estimator packages (test helper).

A public function is a function named in the ``__all__`` of ``evalkit.did``, ``synth``, ``iv``,
``inference``, ``sensitivity`` or of one of their public submodules. The classes its return
annotation names are followed to closure through their public methods and properties
(``CSResult.aggregate`` returns ``AggregatedEffects``), and the classes those ``__all__`` export
are added. Used by the results-protocol tests and the doctest rule, so a new result class is
covered without editing a list.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import types

PACKAGES = ("did", "synth", "iv", "inference", "sensitivity")

#: Classes returned by public functions that are not results of an estimate or a test, with why.
NOT_RESULTS = {
    "evalkit.inference.covariance.CovarianceResult": "the covariance of a design's coefficients, "
    "which estimators turn into results (with_inference)",
    "evalkit.inference.design.LinearDesign": "a fitted least-squares design, the input of inference",
    "evalkit.inference.executor.Executor": "runs resampling draws",
    "evalkit.inference.recommend.InferenceRecommendation": "advice: which cov_type and why",
    "evalkit._summary.Summary": "the text summary() of a result",
    "evalkit._shared.future.CallableInterval": "the old conf_int attribute, kept until 0.3.0",
}


def _modules() -> list[types.ModuleType]:
    mods = []
    for pkg in PACKAGES:
        mod = importlib.import_module(f"evalkit.{pkg}")
        mods.append(mod)
        if hasattr(mod, "__path__"):
            for info in pkgutil.iter_modules(mod.__path__, f"{mod.__name__}."):
                if not info.name.rsplit(".", 1)[1].startswith("_"):
                    mods.append(importlib.import_module(info.name))
    return mods


def _named_classes(func, namespace: dict) -> set[type]:
    """evalkit classes named in ``func``'s return annotation (resolved in ``namespace``)."""
    try:
        ann = inspect.signature(func).return_annotation
    except (TypeError, ValueError):
        return set()
    if ann is inspect.Signature.empty:
        return set()
    found = set()
    for token in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", ann if isinstance(ann, str) else repr(ann)):
        obj = namespace.get(token)
        if inspect.isclass(obj) and obj.__module__.startswith("evalkit"):
            found.add(obj)
    return found


def qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__name__}"


def returned_classes() -> dict[type, str]:
    """Every class returned by a public function (or exported next to one), with where from."""
    found: dict[type, str] = {}
    for mod in _modules():
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name)
            if inspect.isfunction(obj):
                for cls in _named_classes(obj, obj.__globals__):
                    found.setdefault(cls, f"{mod.__name__}.{name}")
            elif inspect.isclass(obj) and obj.__module__.startswith("evalkit"):
                found.setdefault(obj, f"{mod.__name__}.__all__")
    pending = list(found)
    while pending:
        cls = pending.pop()
        namespace = vars(importlib.import_module(cls.__module__))
        for name, member in inspect.getmembers(cls):
            if name.startswith("_"):
                continue
            func = member.fget if isinstance(member, property) else member
            if not inspect.isfunction(func):
                continue
            for new in _named_classes(func, {**namespace, **func.__globals__}):
                if new not in found and not issubclass(new, BaseException):
                    found[new] = f"{cls.__name__}.{name}"
                    pending.append(new)
    return found


def result_classes() -> dict[type, str]:
    """The classes of :func:`returned_classes` that are results (not in :data:`NOT_RESULTS`)."""
    return {c: w for c, w in returned_classes().items() if qualname(c) not in NOT_RESULTS}
