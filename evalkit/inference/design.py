"""The pieces of a fitted linear model that variance estimators need.

Estimators that end in a least-squares fit (TWFE, event studies, 2x2 DiD, IV second stages) keep a
:class:`LinearDesign` on their result, so inference can be recomputed by name without refitting
(``result.with_inference(cov_type=...)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class LinearDesign:
    """Regressors after absorbing fixed effects, with residuals and cluster ids.

    Parameters
    ----------
    X : ndarray, shape (n, k)
        Regressors after partialling out absorbed fixed effects (already multiplied by
        ``sqrt(weights)`` when weights are used).
    resid : ndarray, shape (n,)
        Residuals on the same (weighted) scale.
    beta : ndarray, shape (k,)
        Coefficient estimates.
    names : list of str
        Coefficient names.
    y : ndarray, shape (n,), optional
        Dependent variable after partialling out (weighted scale); needed by the wild bootstrap.
    clusters : ndarray, shape (n,) or (n, 2), optional
        Cluster labels (one column, or two for two-way clustering).
    df_absorbed : int
        Number of parameters absorbed by fixed effects (for small-sample corrections).
    fe_nested_in_cluster : bool
        Whether the absorbed effects are nested in the clusters (Stata/fixest then do not count
        them in the CR1 degrees-of-freedom correction).
    treated_clusters : ndarray, optional
        Labels of clusters that contain treated observations (for few-treated-cluster checks).
    extra : dict
        Anything else an inference method may need (e.g. raw data for randomization inference).

    Examples
    --------
    >>> import numpy as np
    >>> from evalkit.inference import LinearDesign, compute
    >>> rng = np.random.default_rng(0)
    >>> X = np.column_stack([np.ones(40), rng.normal(size=40)])
    >>> y = X @ [1.0, 0.5] + rng.normal(size=40)
    >>> b = np.linalg.lstsq(X, y, rcond=None)[0]
    >>> d = LinearDesign(X=X, resid=y - X @ b, beta=b, names=["const", "x"], y=y, clusters=np.arange(40) % 8)
    >>> print(np.round(d.beta, 2))
    [1.3  0.42]
    """

    X: np.ndarray
    resid: np.ndarray
    beta: np.ndarray
    names: list[str]
    y: np.ndarray | None = None
    clusters: np.ndarray | None = None
    df_absorbed: int = 0
    fe_nested_in_cluster: bool = False
    treated_clusters: np.ndarray | None = None
    extra: dict = field(default_factory=dict)

    @property
    def nobs(self) -> int:
        """Number of observations."""
        return int(self.X.shape[0])

    @property
    def k(self) -> int:
        """Number of estimated (non-absorbed) coefficients."""
        return int(self.X.shape[1])

    @property
    def df_resid(self) -> int:
        """Residual degrees of freedom ``n - k - absorbed``."""
        return self.nobs - self.k - self.df_absorbed

    def bread(self) -> np.ndarray:
        """``(X'X)^{-1}``."""
        return np.linalg.pinv(self.X.T @ self.X)
