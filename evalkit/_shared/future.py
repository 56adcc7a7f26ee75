"""Old names of result members kept until 0.3.0, with a warning saying the new one.

The results protocol gave one name to each idea (``pretrend_test()`` for the pre-trend test,
``conf_int(level)`` as a method on every result). The old spellings keep working until
:data:`REMOVED_IN` and warn on use. The test configuration turns evalkit's FutureWarnings into
errors (:class:`RenamedMemberWarning`, a ``FutureWarning``, fails a test run wherever it is raised),
so evalkit itself, the notebooks and the tests use the new names only.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

#: The release that removes the old names.
REMOVED_IN = "0.3.0"


class RenamedMemberWarning(FutureWarning):
    """A result member (method or attribute) used under its old name; removed in 0.3.0."""


def warn_renamed(old: str, new: str, *, stacklevel: int = 3) -> None:
    """Warn that ``old`` is deprecated in favour of ``new`` (removed in :data:`REMOVED_IN`).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_renamed("CSResult.pretest()", "CSResult.pretrend_test()")
    >>> print(caught[0].category.__name__, caught[0].message)
    RenamedMemberWarning CSResult.pretest() is deprecated and will be removed in evalkit 0.3.0; use CSResult.pretrend_test().
    """
    warnings.warn(
        f"{old} is deprecated and will be removed in evalkit {REMOVED_IN}; use {new}.",
        RenamedMemberWarning,
        stacklevel=stacklevel,
    )


class CallableInterval(tuple):
    """``(low, high)`` that is also the ``conf_int(level)`` method (old attribute, new method).

    Some test results had ``conf_int`` as a tuple attribute; the results protocol makes it a
    method. Until :data:`REMOVED_IN` the attribute value still behaves as the tuple (with a
    ``FutureWarning`` on indexing, unpacking and ``len``) and calling it gives the interval at
    any level by the result's own method.

    Examples
    --------
    >>> ci = CallableInterval((0.1, 0.9), lambda level: (-level, level))
    >>> ci(), ci(0.5)
    ((-0.95, 0.95), (-0.5, 0.5))
    """

    def __new__(cls, bounds, at: Callable[[float], tuple[float, float]], owner: str = "result"):
        obj = super().__new__(cls, (float(bounds[0]), float(bounds[1])))
        obj._at = at
        obj._owner = owner
        return obj

    def __call__(self, level: float = 0.95) -> tuple[float, float]:
        lo, hi = self._at(level)
        return float(lo), float(hi)

    def _warn(self) -> None:
        warnings.warn(
            f"{self._owner}.conf_int is a method now: call {self._owner}.conf_int(level) (the "
            f"tuple attribute is deprecated and will be removed in evalkit {REMOVED_IN}).",
            RenamedMemberWarning,
            stacklevel=3,
        )

    def __iter__(self):
        self._warn()
        return super().__iter__()

    def __getitem__(self, key):
        self._warn()
        return super().__getitem__(key)

    def __len__(self) -> int:
        self._warn()
        return super().__len__()
