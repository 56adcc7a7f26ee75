"""maketables plug-in: evalkit results in ``maketables.ETable`` beside pyfixest and linearmodels.

maketables (https://py-econometrics.github.io/maketables/) renders regression tables in HTML,
LaTeX, Word and Typst and reads any package's results through documented ``__maketables_*__``
attributes. :class:`MaketablesMixin` implements them from the one results protocol (``params``,
``std_errors``, ``to_frame()``, ``nobs``, ``inference``), so evalkit never imports maketables:

>>> import maketables as mt                                      # doctest: +SKIP
>>> mt.ETable([evalkit_result, pyfixest_model]).make("gt")       # doctest: +SKIP

Attributes provided: ``__maketables_coef_table__`` (columns ``b``, ``se``, ``t``, ``p``,
``ci95l``, ``ci95u``; one row per coefficient, or per effect of a vector result),
``__maketables_stat__(key)`` (``"N"``, ``"se_type"``, ``"N_clusters"``),
``__maketables_depvar__``, ``__maketables_fixef_string__``, ``__maketables_vcov_info__`` and
``__maketables_default_stat_keys__``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

#: TIDY column -> maketables token.
_TOKENS = {"estimate": "b", "std_error": "se", "statistic": "t", "p_value": "p",
           "conf_low": "ci95l", "conf_high": "ci95u"}


class MaketablesMixin:
    """The maketables plug-in attributes, computed from a result's tidy table."""

    def _maketables_frame(self) -> pd.DataFrame:
        coef_table = getattr(self, "coef_table", None)
        if callable(coef_table):  # regressions: every coefficient
            return coef_table(0.95)
        tidy = getattr(self, "_frame", None)  # results protocol: the rows behind params
        return tidy(0.95) if callable(tidy) else self.to_frame(0.95)  # type: ignore[attr-defined]

    def _maketables_terms(self, frame: pd.DataFrame) -> list[str]:
        index = getattr(self, "_index", None)
        if not callable(index):
            return [str(t) for t in frame["term"]]
        return [" / ".join(map(str, k)) if isinstance(k, tuple) else str(k) for k in index(frame)]

    @property
    def __maketables_coef_table__(self) -> pd.DataFrame:
        """Coefficients with ``b``, ``se``, ``t``, ``p`` and 95% bounds, indexed by term."""
        frame = self._maketables_frame()
        out = frame.reindex(columns=list(_TOKENS)).rename(columns=_TOKENS).astype(float)
        out.index = pd.Index(self._maketables_terms(frame), name="Coefficient")
        return out

    def __maketables_stat__(self, key: str) -> Any:
        """Model statistic by maketables key (``None`` when evalkit has no such statistic)."""
        extra = getattr(self, "extra", {}) or {}
        if key == "N":
            return getattr(self, "nobs", None)
        if key == "se_type":
            return getattr(self, "inference", None)
        if key == "N_clusters":
            return extra.get("n_clusters")
        return None

    @property
    def __maketables_depvar__(self) -> str:
        """Outcome column name (empty when the estimator did not record it)."""
        extra = getattr(self, "extra", {}) or {}
        cols = extra.get("columns", {})
        return str(cols.get("outcome") or extra.get("outcome") or "")

    @property
    def __maketables_fixef_string__(self) -> str | None:
        """``"unit+time"`` when unit and time effects were absorbed, else ``None``."""
        design = getattr(self, "design", None)
        cols = (getattr(self, "extra", {}) or {}).get("columns", {})
        if design is None or "absorber" not in getattr(design, "extra", {}):
            return None
        return "+".join(str(cols[k]) for k in ("unit", "time") if cols.get(k)) or None

    @property
    def __maketables_vcov_info__(self) -> dict[str, Any]:
        """``vcov_type`` (the inference in words) and ``clustervar``."""
        extra = getattr(self, "extra", {}) or {}
        cols = extra.get("columns", {})
        inference = getattr(self, "inference", None)
        cluster = cols.get("cluster") or extra.get("cluster")
        if cluster is None and "clust" in str(inference).lower():
            cluster = cols.get("unit")  # evalkit clusters by unit unless told otherwise
        return {"vcov_type": inference, "clustervar": cluster}

    @property
    def __maketables_default_stat_keys__(self) -> list[str]:
        """Statistics shown by default: observations."""
        return ["N"]


class DelegatingMaketables:
    """Plug-in attributes of a fit that enters a table as one of its results.

    A class sets :meth:`_maketables_result` (e.g. a Callaway-Sant'Anna fit returns its overall
    ``simple`` ATT) and gets every attribute of :class:`MaketablesMixin` from that result.
    """

    def _maketables_result(self) -> MaketablesMixin:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def __maketables_coef_table__(self) -> pd.DataFrame:
        return self._maketables_result().__maketables_coef_table__

    def __maketables_stat__(self, key: str) -> Any:
        return self._maketables_result().__maketables_stat__(key)

    @property
    def __maketables_depvar__(self) -> str:
        return self._maketables_result().__maketables_depvar__

    @property
    def __maketables_vcov_info__(self) -> dict[str, Any]:
        return self._maketables_result().__maketables_vcov_info__

    @property
    def __maketables_default_stat_keys__(self) -> list[str]:
        return self._maketables_result().__maketables_default_stat_keys__
