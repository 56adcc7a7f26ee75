"""Retired argument and option names, and the renaming of retired covariance options.

The names evalkit used before 0.2.0 (:data:`RETIRED`, :data:`RETIRED_OPTIONS`) keep working until
:data:`REMOVED_IN` with a warning. This module imports nothing else of evalkit but its exceptions,
so the covariance registry (:func:`renamed_options`) and the keyword checks
(:mod:`evalkit._shared.options`) can both use it; :mod:`evalkit._shared.vocabulary` re-exports it.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Mapping
from typing import Any

from .exceptions import EvalkitError, RenamedArgumentWarning

#: The version from which the retired names (:data:`RETIRED`) raise instead of warning.
REMOVED_IN = "0.3.0"

#: Every retired argument name and the vocabulary name that replaced it (in some function).
RETIRED: dict[str, str] = {
    "control": "control_group",
    "controls": "covariates",
    "exog": "covariates",
    "clusters": "cluster",
    "bootstrap": "n_draws",
    "n_bootstrap": "n_draws",
    "n_reps": "n_draws",
    "n_placebo": "n_draws",
    "se_method": "cov_type",
    "alpha": "level",
}

#: Retired option names of the covariance registry (``compute``, ``with_inference``,
#: ``**cov_options``) and their new names.
RETIRED_OPTIONS: dict[str, str] = {"clusters": "cluster", "weights": "bootstrap_weights"}


def first_frame_outside_evalkit() -> int:
    """``stacklevel`` (for a warning issued by this function's caller) of the first frame outside
    the evalkit package: the user's line, however deep the option travelled."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def renamed_options(cov_type: str, options: Mapping[str, Any], allowed: frozenset[str] | set[str]) -> dict:
    """Covariance options with retired names (:data:`RETIRED_OPTIONS`) put under their new ones.

    Each retired name the estimator ``cov_type`` now accepts under its new name warns with
    :class:`~evalkit._shared.exceptions.RenamedArgumentWarning`; giving both names raises.

    Parameters
    ----------
    cov_type : str
        Registered covariance name (for the messages).
    options : mapping
        The options as given.
    allowed : set of str
        The options ``cov_type`` accepts.

    Returns
    -------
    dict
        The options under their current names.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     renamed_options("clustered", {"clusters": [1, 1, 2]}, {"cluster", "small_sample"})
    {'cluster': [1, 1, 2]}
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    cov_type='clustered' option clusters=... is deprecated: use cluster=... (...until evalkit 0.3.0).
    """
    out = dict(options)
    for old, new in RETIRED_OPTIONS.items():
        if old in out and new in allowed and old not in allowed:
            if new in out:
                raise EvalkitError(
                    f"cov_type={cov_type!r} got {old}= (retired) and {new}=: pass only {new}=."
                )
            warnings.warn(
                f"cov_type={cov_type!r} option {old}=... is deprecated: use {new}=... ({old} is "
                f"accepted until evalkit {REMOVED_IN}).",
                RenamedArgumentWarning,
                stacklevel=first_frame_outside_evalkit(),
            )
            out[new] = out.pop(old)
    return out
