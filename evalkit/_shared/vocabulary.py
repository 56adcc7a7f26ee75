"""One vocabulary for the arguments of evalkit's public functions, and the door they pass.

Every public function names one idea with one word (:data:`VOCABULARY`; the README and
``docs/coming_from.md`` show the same table). Names used before 0.2.0 keep working until
:data:`REMOVED_IN` with an :class:`~evalkit._shared.exceptions.RenamedArgumentWarning` (a
``FutureWarning``) that names the new one; keywords no argument knows are refused with the closest
valid names. Both happen in one decorator, :func:`keywords`, placed on each public function::

    @keywords(control="control_group")
    def event_study(data, *, ..., control_group="never_treated", ...): ...

Random draws everywhere default to the one seed :data:`DEFAULT_SEED`, so a report run twice gives
the same numbers.
"""

from __future__ import annotations

import functools
import inspect
import sys
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from .exceptions import EvalkitError, RenamedArgumentWarning
from .options import refuse_unknown
from .retired import REMOVED_IN
from .retired import RETIRED as RETIRED
from .retired import RETIRED_OPTIONS as RETIRED_OPTIONS
from .retired import renamed_options as renamed_options

#: The seed every function that draws at random uses by default (bootstrap, placebo and
#: permutation draws, Monte Carlo of the allocation weights, the least-favourable critical
#: values of HonestDiD, the demo panel).
DEFAULT_SEED = 20210514

#: Argument name -> meaning: the same word means the same thing in every public function.
VOCABULARY: dict[str, str] = {
    "outcome": "column of the outcome variable",
    "unit": "column identifying the unit (county, zone, firm, state...)",
    "time": "column of the period (integer years; yearly datetimes are converted to years)",
    "cohort": "column of the first treated period of each unit, 0 = never treated",
    "treatment": "column of the treatment (0/1, absorbing where the estimator says so, or a dose)",
    "covariates": (
        "control variables: a column name or a list of them (arrays in the functions that take "
        "arrays)"
    ),
    "weights": "column of observation (sampling or regression) weights",
    "control_group": (
        "which untreated units serve as comparisons (``\"never_treated\"``, "
        "``\"not_yet_treated\"``, ``\"last_treated\"``: the estimator lists what it supports)"
    ),
    "cov_type": (
        "how standard errors, p-values and intervals are computed: a registered covariance name "
        "(``\"auto\"``, the default of every least-squares estimator, ``\"clustered\"``, "
        "``\"cr2\"``, ``\"wild\"``...) or the estimator's own methods (synthetic DiD: "
        "``\"placebo\"``, ``\"bootstrap\"``, ``\"jackknife\"``)"
    ),
    "cluster": (
        "cluster labels: a column name in functions that take data, an array of labels (one per "
        "observation) in functions that take a design or arrays and in covariance options"
    ),
    "n_draws": (
        "number of random draws (bootstrap, placebo, permutation or Monte Carlo); where draws are "
        "optional, 0 means none (analytic inference)"
    ),
    "seed": f"seed of the random draws (default {DEFAULT_SEED} everywhere)",
    "level": "confidence level of intervals and bands (default 0.95)",
}


def keywords(
    _func: Callable | None = None,
    *,
    convert: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    **renamed: str,
) -> Callable:
    """Decorator: accept retired argument names with a warning, refuse unknown keywords.

    Parameters
    ----------
    convert : callable, optional
        ``convert(old) -> new``: builds the new keywords from the retired ones given (a dict),
        for renames that also change the meaning of the value (``bootstrap=True`` ->
        ``n_draws=999``); default: the value passes under the new name.
    **renamed : str
        ``old_name="new_name"`` for each retired name of the function.

    Returns
    -------
    callable
        The function, with the same signature (``inspect.signature`` shows the new names only)
        and ``__renamed__`` (the mapping old -> new).

    Notes
    -----
    A retired name warns with :class:`~evalkit._shared.exceptions.RenamedArgumentWarning` (a
    ``FutureWarning``) pointing at the caller's line and naming the new argument; passing both
    the retired and the new name raises. A keyword that is neither an argument nor a retired name
    is refused with "did you mean ...?" (:func:`~evalkit._shared.options.refuse_unknown`);
    functions with ``**options`` check those themselves.

    Examples
    --------
    >>> import warnings
    >>> @keywords(control="control_group")
    ... def estimate(*, control_group="never_treated"):
    ...     return control_group
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     estimate(control="not_yet_treated")
    'not_yet_treated'
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    estimate(control=...) is deprecated: use control_group=... (control is accepted until evalkit 0.3.0).
    >>> estimate(contrl_group="never_treated")
    Traceback (most recent call last):
    ...
    evalkit._shared.exceptions.EvalkitError: estimate() got an unknown keyword argument 'contrl_group'. Did you mean 'control_group'? Its arguments are control_group.
    """

    def decorate(func: Callable) -> Callable:
        params = inspect.signature(func).parameters
        open_ended = any(p.kind is p.VAR_KEYWORD for p in params.values())
        missing = sorted({n for n in renamed.values() if n not in params})
        if missing and not open_ended:
            raise RuntimeError(f"{func.__name__} has no argument {missing} for its retired names.")

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            old = {k: kwargs.pop(k) for k in list(kwargs) if k in renamed}
            if old:
                new = convert(dict(old)) if convert is not None else {renamed[k]: v for k, v in old.items()}
                _warn_retired(func.__name__, old, renamed, new if convert is not None else None)
                both = sorted(k for k in new if k in kwargs)
                if both:
                    given = ", ".join(f"{k}=" for k in old)
                    raise EvalkitError(
                        f"{func.__name__}() got {given} (retired) and {', '.join(f'{k}=' for k in both)}: "
                        "pass only the new name."
                    )
                kwargs.update(new)
            if not open_ended:
                refuse_unknown(wrapper, {k: v for k, v in kwargs.items() if k not in params},
                               passes_to=None, accepted=())
            return _call_keeping_warning_locations(func, args, kwargs)

        wrapper.__renamed__ = dict(renamed)
        return wrapper

    return decorate(_func) if _func is not None else decorate


def _call_keeping_warning_locations(func: Callable, args: tuple, kwargs: dict) -> Any:
    """Call ``func``; warnings it points at this module are re-issued at the caller's line.

    Functions warn with ``stacklevel`` counted for a direct call; the decorator adds one frame,
    which would point those warnings here (and let Python's once-per-location rule hide the
    warnings of later calls) instead of at the user's code.
    """
    caller = sys._getframe(2)  # 0: this function, 1: the decorator's wrapper, 2: the caller
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            return func(*args, **kwargs)
    finally:  # also when func raises: its warnings explain the error
        for w in caught:
            if w.filename == __file__:
                warnings.warn_explicit(
                    w.message, w.category, caller.f_code.co_filename, caller.f_lineno,
                    module=caller.f_globals.get("__name__", "__main__"),
                    registry=caller.f_globals.setdefault("__warningregistry__", {}),
                )
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno,
                                       module=_module_of(w.filename))


def _module_of(filename: str) -> str | None:
    """The module name of an evalkit file (so filters by module, e.g. pytest's, still match)."""
    path = filename.replace("\\", "/")
    if "/evalkit/" not in path or not path.endswith(".py"):
        return None
    return "evalkit." + path.rsplit("/evalkit/", 1)[1][:-3].replace("/", ".").removesuffix(".__init__")


def _warn_retired(name: str, old: Mapping[str, Any], renamed: Mapping[str, str],
                  converted: Mapping[str, Any] | None) -> None:
    for k in old:
        use = (", ".join(f"{n}={v!r}" for n, v in converted.items() if isinstance(v, int | float | str))
               if converted else "") or f"{renamed[k]}=..."
        warnings.warn(  # stacklevel 3: the line that called the decorated function
            f"{name}({k}=...) is deprecated: use {use} ({k} is accepted until evalkit {REMOVED_IN}).",
            RenamedArgumentWarning,
            stacklevel=3,
        )
