"""Refuse keyword arguments no estimator knows, with a "did you mean ...?" suggestion.

Estimators that pass ``**cov_options`` on to the covariance registry used to let any keyword
through, so a misspelt or mis-named argument surfaced later as a covariance error about the wrong
thing. :func:`refuse_unknown` checks the keywords at the door: a keyword that is neither an
argument of the function nor an option of any registered covariance estimator is refused, naming
the closest valid names (or the new name of a retired one). Functions without ``**options`` get
the same check from :func:`evalkit._shared.vocabulary.keywords`.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Iterable, Mapping

from .exceptions import EvalkitError


def _parameters(func: Callable) -> list[str]:
    sig = inspect.signature(func)
    return [n for n, p in sig.parameters.items() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]


def covariance_option_names() -> set[str]:
    """Every option name accepted by some registered covariance estimator (retired names too).

    The retired names (``clusters``, ``weights``) pass on to the registry, which warns and
    renames them.
    """
    from ..inference import covariance
    from .retired import RETIRED_OPTIONS

    names = covariance.option_names()
    return names | {old for old, new in RETIRED_OPTIONS.items() if new in names}


def suggest(name: str, candidates: Iterable[str]) -> str:
    """`` Did you mean 'x'?`` (or ``'x' or 'y'``) for the closest candidates, else ``""``."""
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=2, cutoff=0.6)
    if not close:
        return ""
    return " Did you mean " + " or ".join(repr(c) for c in close) + "?"


def refuse_unknown(
    func: Callable, options: Mapping[str, object], *, passes_to: str | None = "covariance",
    accepted: Iterable[str] | None = None, retired: Mapping[str, str] | None = None,
) -> None:
    """Raise :class:`EvalkitError` for keywords that neither ``func`` nor its ``**`` target accepts.

    Parameters
    ----------
    func : callable
        The public function (its own argument names are the first suggestions).
    options : mapping
        The keywords collected by ``**options``.
    passes_to : str or None
        What ``**options`` feeds, in words (``"covariance"`` = the covariance registry); ``None``
        for a function without ``**options``.
    accepted : iterable of str, optional
        Names the ``**`` target accepts; default: every covariance option.
    retired : mapping, optional
        Retired argument names and their replacements (default: evalkit's,
        :data:`evalkit._shared.vocabulary.RETIRED`): an unknown keyword that is (or is close to)
        a retired name whose replacement ``func`` accepts is answered with that replacement.

    Raises
    ------
    EvalkitError
        Naming each unknown keyword with the closest valid name.

    Examples
    --------
    >>> from evalkit.did import event_study
    >>> refuse_unknown(event_study, {"clusters": "state"})  # a covariance option: accepted
    """
    allowed = covariance_option_names() if accepted is None else set(accepted)
    own = _parameters(func)
    unknown = [k for k in options if k not in allowed and k not in own]
    if not unknown:
        return
    if retired is None:
        from .retired import RETIRED, RETIRED_OPTIONS

        retired = {**RETIRED, **RETIRED_OPTIONS}
    valid = set(own) | allowed
    renames = {old: new for old, new in retired.items() if new in valid and old not in valid}

    def hint(k: str) -> str:
        if k in renames:
            return f" Did you mean {renames[k]!r}?"
        close = difflib.get_close_matches(k, sorted(valid | set(renames)), n=2, cutoff=0.6)
        close = list(dict.fromkeys(renames.get(c, c) for c in close))
        return " Did you mean " + " or ".join(repr(c) for c in close) + "?" if close else ""

    lines = [f"{func.__name__}() got an unknown keyword argument {k!r}.{hint(k)}" for k in unknown]
    if passes_to is None:
        raise EvalkitError(" ".join(lines) + f" Its arguments are {', '.join(own)}.")
    target = "covariance options" if passes_to == "covariance" else passes_to
    raise EvalkitError(
        " ".join(lines)
        + f" Its arguments are {', '.join(own)}; further keywords go to the {target}"
        + (f" ({', '.join(sorted(allowed))})." if allowed else ".")
    )
