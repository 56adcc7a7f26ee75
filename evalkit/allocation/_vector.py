"""Vectorised float64 model of an allocation, for many weight draws or factor subsets at once.

The exact engine (``engine.py``) produces the published numbers; this model re-runs steps 4–8 for
thousands of weight vectors in one go (Monte Carlo, Shapley subsets). Units are in code order, so
the rounding tie-break by code is the column order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .constraints import water_fill_batch
from .rounding import largest_remainder_batch


@dataclass
class VectorModel:
    """Float model of one allocation.

    Attributes
    ----------
    codes : list of str
    factor_ids : list of str
    Z : ndarray (n, K)
        Factor share vectors (columns sum to 1).
    w : ndarray (K,)
        Weights as fractions (sum to 1).
    p : ndarray (n,)
        Performance coefficients.
    base : ndarray (n,)
    lo, hi : ndarray (n,)
        Integer bounds in 万元 (``hi`` is ``inf`` without a cap).
    total : float
        ``T_alloc`` in 万元.
    unit : int or float
        Rounding unit (万元; a float below 1 万元, amounts then rounded to 0.01).
    method : str
        Rounding method.
    """

    codes: list[str]
    factor_ids: list[str]
    Z: np.ndarray
    w: np.ndarray
    p: np.ndarray
    base: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    total: float
    unit: int | float
    method: str

    @classmethod
    def from_allocation(cls, alloc) -> VectorModel:
        """Build the model from an :class:`~evalkit.allocation.Allocation`."""
        core, spec = alloc.core, alloc.spec
        fids = spec.factor_ids
        Z = np.array([[float(core.z[f][i]) for f in fids] for i in range(len(alloc.codes))])
        return cls(
            codes=alloc.codes, factor_ids=fids, Z=Z.reshape(len(alloc.codes), len(fids)),
            w=np.array([float(f.weight) / 100 for f in spec.factors]),
            p=np.array([float(v) for v in alloc.inputs.coefficient]),
            base=np.array([float(v) for v in core.fill_base]),  # base + net awards
            lo=np.array([float(v) for v in core.lo]),
            hi=np.array([np.inf if v is None else float(v) for v in core.hi]),
            total=float(core.t_alloc), method=spec.rounding_method,
            unit=spec.rounding_unit if isinstance(spec.rounding_unit, int)
            else float(spec.rounding_unit),  # 0.01 万元 ...: float draws, rounded to cents
        )

    def shares(self, W: np.ndarray, Z: np.ndarray | None = None,
               empty: np.ndarray | None = None, use_p: np.ndarray | None = None) -> np.ndarray:
        """Final shares ``s`` (m, n) for weight rows ``W`` (m, K), renormalised within each row.

        Parameters
        ----------
        W : ndarray (m, K)
            Non-negative weights; rows are renormalised to sum to 1.
        Z : ndarray (m, n, K) or (n, K), optional
            Factor shares per draw (default the model's).
        empty : ndarray (n,), optional
            Composite used for rows whose weights are all zero (default an equal split).
        use_p : ndarray (m,) of bool, optional
            Rows that apply the performance coefficients (default all rows).
        """
        W = np.atleast_2d(np.asarray(W, dtype=float))
        tot = W.sum(axis=1, keepdims=True)
        Wn = np.divide(W, tot, out=np.zeros_like(W), where=tot > 0)
        Z = self.Z if Z is None else Z
        comp = Wn @ Z.T if Z.ndim == 2 else np.einsum("mk,mnk->mn", Wn, Z)
        n = len(self.codes)
        fallback = np.full(n, 1.0 / n) if empty is None else np.asarray(empty, dtype=float)
        comp = np.where(tot > 0, comp, fallback[None, :])
        p = self.p[None, :] if use_p is None else np.where(
            np.asarray(use_p, dtype=bool)[:, None], self.p[None, :], 1.0)
        adj = comp * p
        return adj / adj.sum(axis=1, keepdims=True)

    def continuous(self, s: np.ndarray, constrained: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Continuous amounts and bound flags (-1 floor, +1 cap) for share rows ``s``."""
        s = np.atleast_2d(s)
        if not constrained:
            inc = self.total - self.base.sum()
            return self.base[None, :] + inc * s, np.zeros(s.shape, dtype=np.int8)
        return water_fill_batch(self.base, s, self.lo, self.hi, self.total)

    def rounded(self, amounts: np.ndarray) -> np.ndarray:
        """Integer amounts (万元) from continuous rows, by the spec's rounding method."""
        u = self.unit
        q = np.atleast_2d(amounts) / u
        tot = int(round(self.total / u))
        caps = np.where(np.isfinite(self.hi), self.hi / u, np.inf)
        if self.method == "largest_remainder":
            out = largest_remainder_batch(q, tot, caps) * u
            return out if isinstance(u, int) else np.round(out, 2)
        half = np.floor(np.round(q, 9) + 0.5)
        resid = tot - half.sum(axis=1)
        order = np.lexsort((np.arange(q.shape[1])[None, :].repeat(q.shape[0], 0), -q), axis=-1)
        half[np.arange(q.shape[0]), order[:, 0]] += resid
        return (half * u).astype(np.int64) if isinstance(u, int) else np.round(half * u, 2)


def ranks(amounts: np.ndarray) -> np.ndarray:
    """Rank of each unit per row (1 = largest amount; ties by column = code order)."""
    a = np.atleast_2d(amounts)
    m, n = a.shape
    order = np.lexsort((np.broadcast_to(np.arange(n), (m, n)), -a), axis=-1)
    r = np.empty_like(order)
    np.put_along_axis(r, order, np.broadcast_to(np.arange(1, n + 1), (m, n)), axis=1)
    return r
