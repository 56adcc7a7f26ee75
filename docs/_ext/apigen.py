"""Write the API reference pages from each package's ``__all__`` before autosummary runs.

One page per package (``api/<package>.rst``), grouped as the package is: functions, classes,
submodules and constants named in ``__all__``, then the result classes defined in the package's
public modules that ``__all__`` does not name (e.g. ``CSResult``, returned by
``did.callaway_santanna``). A name added to ``__all__`` or a new public class therefore appears
in the site without editing the docs.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import types
from pathlib import Path

#: (package, title) in the order of the site's API index; the package layout of evalkit.
PACKAGES = [
    ("evalkit.data", "Data: schema, reading, validation, demo panel"),
    ("evalkit.did", "Difference-in-differences and event studies"),
    ("evalkit.synth", "Synthetic control and synthetic DiD"),
    ("evalkit.iv", "Panel IV with the formula instrument"),
    ("evalkit.inference", "Inference: covariance registry, bootstraps, randomization"),
    ("evalkit.sensitivity", "Sensitivity: HonestDiD and pre-trend power"),
    ("evalkit.allocation", "Factor-method allocation workbench"),
    ("evalkit.report", "Report: figures, labels, tables, headlines"),
    ("evalkit.pipeline", "Pipeline: evidence packs"),
    ("evalkit.pipeline.verify", "Verifying an evidence pack"),
    ("evalkit.results", "The results family"),
    ("evalkit.targets", "Plan targets and the scorecard"),
]
#: Modules that are entry points, not library API.
SKIP_MODULES = {"cli"}


def _public_modules(package: types.ModuleType) -> list[types.ModuleType]:
    """Public submodules of a package (names without a leading underscore), imported."""
    if not hasattr(package, "__path__"):
        return []
    found = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_") or info.name in SKIP_MODULES:
            continue
        found.append(importlib.import_module(f"{package.__name__}.{info.name}"))
    return found


def _kind(obj) -> str:
    if isinstance(obj, types.ModuleType):
        return "module"
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return "data"


def _public_names(module: types.ModuleType) -> list[str]:
    """``__all__``, or, for a module without one, the functions and classes it defines."""
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return sorted(n for n, o in vars(module).items()
                  if not n.startswith("_") and (inspect.isfunction(o) or inspect.isclass(o))
                  and o.__module__ == module.__name__)


def _returns(obj) -> str:
    """The return annotation of a function, or of every public method of a class, as text."""
    funcs = [obj] if not inspect.isclass(obj) else [
        m for n, m in vars(obj).items() if not n.startswith("_") and callable(getattr(m, "fget", m))]
    texts = []
    for f in funcs:
        f = getattr(f, "fget", f)
        try:
            texts.append(str(inspect.signature(f).return_annotation))
        except (TypeError, ValueError):
            continue
    return " ".join(texts)


def _is_result(cls) -> bool:
    from evalkit.results import EffectVector, Renderable, ScalarEffect

    return issubclass(cls, (ScalarEffect, EffectVector, Renderable))


def collect(name: str) -> dict[str, list[str]]:
    """Fully qualified names to document for one package, by kind.

    Besides the names in ``__all__``, the "result" group holds the classes of the package's
    public modules that a documented function or method returns (by its return annotation), or
    that belong to the results family, followed to closure (``CSResult.aggregate`` returns
    ``AggregatedEffects``).
    """
    module = importlib.import_module(name)
    groups: dict[str, list[str]] = {"function": [], "class": [], "module": [], "data": [],
                                    "result": []}
    documented = []
    for public in _public_names(module):
        if public.startswith("__"):
            continue
        obj = getattr(module, public)
        documented.append(obj)
        groups[_kind(obj)].append(f"{name}.{public}")
    candidates = {}
    for sub in [module, *_public_modules(module)]:
        for cname, cls in vars(sub).items():
            if (inspect.isclass(cls) and not cname.startswith("_") and cls.__module__ == sub.__name__
                    and not issubclass(cls, BaseException)):
                candidates.setdefault(cls, f"{sub.__name__}.{cname}")
    named = {id(o) for o in documented}
    pending = list(documented)
    while pending:
        text = _returns(pending.pop())
        for cls, qual in candidates.items():
            if id(cls) not in named and (re.search(rf"\b{cls.__name__}\b", text) or _is_result(cls)):
                named.add(id(cls))
                pending.append(cls)
                groups["result"].append(qual)
    groups["result"].sort()
    return groups


# class and module pages use _templates/autosummary/{class,module}.rst by autosummary's lookup
_SECTIONS = [
    ("function", "Functions"),
    ("class", "Classes"),
    ("result", "Result and helper classes"),
    ("module", "Modules"),
    ("data", "Constants"),
]


def page(name: str, title: str) -> str:
    groups = collect(name)
    lines = [f"``{name}``", "=" * (len(name) + 4), "", f"*{title}*", "",
             f".. automodule:: {name}", "   :no-members:", "   :no-index:", "",
             f".. currentmodule:: {name}", ""]
    for kind, heading in _SECTIONS:
        if not groups[kind]:
            continue
        lines += [heading, "-" * len(heading), "", ".. autosummary::", "   :toctree: generated",
                  "   :nosignatures:", ""]
        lines += [f"   {item[len(name) + 1:]}" for item in groups[kind]]
        lines.append("")
    return "\n".join(lines)


def write_pages(app) -> None:
    out = Path(app.srcdir) / "api"
    out.mkdir(exist_ok=True)
    for name, title in PACKAGES:
        text = page(name, title)
        target = out / f"{name.split('.', 1)[1]}.rst"
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
    # the environment listed the source files before this hook ran: on a fresh checkout the pages
    # just written are not in it, and autosummary (which generates stubs for listed files only)
    # would skip them. List the files again.
    app.env.find_files(app.config, app.builder)


def setup(app):
    app.connect("builder-inited", write_pages, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
