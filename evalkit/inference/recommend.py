"""Default inference chosen by evidence, and the few-cluster report.

With few clusters (fewer than :data:`MIN_CLUSTERS`) or few treated clusters (fewer than
:data:`MIN_TREATED_CLUSTERS`), no single method is reliable in every design. evalkit's own size
study (``benchmarks/inference_size_study.py``, table in ``benchmarks/README.md``: TWFE designs
with 10-16 clusters, 3-4 treated, 10-20 periods -- more units than years and fewer --, at least
1,000 replications each) decides what is used by default; see :data:`SIZE_STUDY`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._shared.exceptions import FewClustersWarning, InferenceError
from .._shared.vocabulary import DEFAULT_SEED, keywords
from .._summary import Summary
from ..results import TIDY_COLUMNS, TidyVector
from . import covariance
from .covariance import CovarianceResult
from .design import LinearDesign
from .executor import Executor
from .wild import wild_cluster_bootstrap
from .wild_iv import IV_DEFAULT_FEW, wild_iv_covariance

MIN_CLUSTERS = 30
MIN_TREATED_CLUSTERS = 10

#: Designs of the size study (benchmarks/inference_size_study.py): units x years, treated units,
#: errors. "noisier" = treated units' errors 3x as large, AR(1) rho = 0.7; "quieter" = 1/3 as large.
SIZE_STUDY_DESIGNS: dict[str, str] = {
    "a": "12x10, 3 treated, i.i.d.",
    "b": "12x10, 3 treated, noisier AR(1)",
    "c": "12x10, 3 treated, quieter AR(1)",
    "d": "12x10, 3 treated, equal AR(1)",
    "u12x14a": "12x14, 3 treated, i.i.d.",
    "u12x14b": "12x14, 3 treated, noisier AR(1)",
    "u16x14a": "16x14, 4 treated, i.i.d.",
    "u16x14b": "16x14, 4 treated, noisier AR(1)",
    "u10x20b": "10x20, 3 treated, noisier AR(1)",
}

#: Rejection rates (%) of true nulls by 5% tests in each design of :data:`SIZE_STUDY_DESIGNS`
#: (same order); 1,000 replications per design (Monte-Carlo s.e. ~0.7 points at 5%), 2,000 for
#: the wild bootstrap with observation weights in u16x14b and u10x20b, 4,000 for the default.
SIZE_STUDY: dict[str, tuple[float, ...]] = {
    "CR1 (fixest) t(G-1)": (8.8, 14.8, 6.4, 10.7, 9.8, 17.8, 8.3, 15.2, 16.9),
    "CR2 Bell-McCaffrey dof": (3.5, 7.5, 1.3, 4.0, 3.5, 7.8, 4.9, 8.5, 9.6),
    "CR3 jackknife t(G-1)": (5.8, 9.9, 5.3, 7.9, 6.3, 11.8, 6.9, 9.9, 11.1),
    "WCR Rademacher, cluster weights": (5.0, 14.9, 1.5, 6.4, 4.8, 18.4, 5.9, 10.8, 17.7),
    "WCU Rademacher, cluster weights": (6.9, 8.7, 6.0, 8.4, 7.1, 10.5, 7.0, 8.7, 11.7),
    "WCR Rademacher, observation-level weights": (4.5, 6.0, 4.9, 6.1, 4.5, 5.7, 5.4, 5.6, 7.5),
    "RI t statistic (exact)": (4.3, 12.2, 1.7, 5.4, 4.6, 15.1, 5.5, 12.3, 16.3),
    "CR2, treated/untreated working-model dof (default)": (3.7, 4.5, 4.6, 4.4, 3.8, 4.2, 4.5, 4.7, 4.9),
}

#: Acceptable band for the 5% rejection rate in every design.
SIZE_BAND = (3.5, 6.5)


@dataclass
class InferenceRecommendation:
    """What evalkit uses by default for a design, and why.

    Attributes
    ----------
    cov_type : str
        Registry name to use (``"clustered"``, ``"cr2"``, ``"wild"``...), or ``"few_cluster_report"``
        when the evidence says to report the range across methods.
    options : dict
        Options for that method.
    n_clusters, n_treated_clusters : int or None
        Counts the decision rests on.
    reason : str
        The decision in words, for the summary (``.inference``).
    report_range : bool
        ``True`` when no method held its level in every design of the size study that resembles
        this case: the summary must show the range across methods (:func:`few_cluster_report`)
        next to the number of ``cov_type``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> from evalkit.inference import recommend_inference
    >>> df = pd.DataFrame([(u, t) for u in range(40) for t in range(2015, 2021)], columns=["unit", "year"])
    >>> df["treated"] = ((df.unit < 20) & (df.year >= 2018)).astype(int)
    >>> df["y"] = df.unit + df.treated + np.random.default_rng(0).normal(0, 0.1, len(df))
    >>> r = did.twfe(df, outcome="y", unit="unit", time="year", treatment="treated", cov_type="clustered")
    >>> rec = recommend_inference(r)
    >>> rec.cov_type, rec.n_clusters
    ('clustered', 40)
    """

    cov_type: str
    options: dict[str, Any]
    n_clusters: int | None
    n_treated_clusters: int | None
    reason: str
    report_range: bool = False


def _design_of(obj: Any) -> LinearDesign:
    if isinstance(obj, LinearDesign):
        return obj
    design = getattr(obj, "design", None)
    if isinstance(design, LinearDesign):
        return design
    raise InferenceError(
        "Expected a LinearDesign or a result carrying one (.design), e.g. from evalkit.did.twfe; "
        f"got {type(obj).__name__}."
    )


def cluster_counts(design: LinearDesign, clusters: np.ndarray | None = None) -> tuple[int, int | None]:
    """Number of clusters and of treated clusters (``None`` when treatment is unknown)."""
    cl = design.clusters if clusters is None else np.asarray(clusters)
    if cl is None:
        raise InferenceError("The design has no cluster labels; pass cluster=...")
    cl = np.asarray(cl)
    if cl.ndim == 2:
        cl = cl[:, 0]
    uniq = np.unique(cl)
    n_treated = None
    if design.treated_clusters is not None:
        n_treated = int(np.intersect1d(np.asarray(design.treated_clusters), uniq).size)
    return int(uniq.size), n_treated


@keywords(clusters="cluster")
def recommend_inference(design_or_result: Any, *, cluster: np.ndarray | None = None) -> InferenceRecommendation:
    """The default inference for a fitted least-squares design, chosen by the size study.

    Parameters
    ----------
    design_or_result : LinearDesign or result with ``.design``
        The fitted model.
    cluster : array, optional
        Cluster labels (default the design's).

    Returns
    -------
    InferenceRecommendation

    Raises
    ------
    InferenceError
        Fewer than 2 clusters.

    Warns
    -----
    FewClustersWarning
        One treated cluster (and what can still be done).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> from evalkit.inference import recommend_inference
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(12) for t in range(2015, 2021)], columns=["unit", "year"])
    >>> df["treated"] = ((df.unit < 3) & (df.year >= 2018)).astype(int)
    >>> df["y"] = df.unit + df.treated + rng.normal(0, 0.1, len(df))
    >>> r = did.twfe(df, outcome="y", unit="unit", time="year", treatment="treated", cov_type="clustered")
    >>> rec = recommend_inference(r)
    >>> rec.cov_type, rec.options, rec.n_clusters, rec.n_treated_clusters
    ('cr2', {'working_model': 'treatment_groups'}, 12, 3)
    """
    design = _design_of(design_or_result)
    G, G1 = cluster_counts(design, cluster)
    if G < 2:
        raise InferenceError(
            f"Only {G} cluster: no cluster-robust inference is possible. Use randomization "
            "inference or placebo tests across units instead."
        )
    if G1 == 1:
        warnings.warn(
            "Only one treated cluster: cluster-robust standard errors, CR2 and the wild cluster "
            "bootstrap are all unreliable for the treatment effect. What can still be done: "
            "randomization inference / placebo in space (evalkit.inference.randomization_inference, "
            "placebo_in_space) with the t statistic, or Conley-Taber (evalkit.inference.conley_taber), "
            "which assume errors exchangeable across units.",
            FewClustersWarning,
            stacklevel=2,
        )
        return InferenceRecommendation(
            "cr2", {}, G, G1,
            "one treated cluster: analytic and bootstrap cluster inference unreliable; report the "
            "range across methods and rely on randomization/placebo-in-space evidence",
            report_range=True,
        )
    few = G < MIN_CLUSTERS or (G1 is not None and G1 < MIN_TREATED_CLUSTERS)
    if not few:
        return InferenceRecommendation(
            "clustered", {}, G, G1,
            f"{G} clusters ({G1 if G1 is not None else 'unknown'} treated): cluster-robust CR1 "
            f"with t({G - 1}) reference",
        )
    choice = DEFAULT_FEW if G1 is not None and 0 < G1 < G else DEFAULT_FEW_UNKNOWN_TREATMENT
    why = ("treated clusters unknown" if G1 is None else
           "every cluster treated (no untreated clusters to compare error variances with)")
    return InferenceRecommendation(
        choice["cov_type"], dict(choice["options"]), G, G1,
        choice["reason"].format(G=G, G1=G1 if G1 is not None else "?", why=why),
        report_range=choice["report_range"],
    )


#: Choice for few (treated) clusters, from the size study (benchmarks/README.md): CR2 with
#: Satterthwaite degrees of freedom under a working model that gives treated and untreated clusters
#: their own error variance (``working_model="treatment_groups"``). It is the one method that held
#: [3.5%, 6.5%] in all nine designs (3.7-4.9% over 4,000 replications each), units fewer or more
#: than years included. The Bell-McCaffrey dof (identity working model) are too large when the
#: treated clusters are noisier (7.5-9.6%) and too small when they are quieter (1.3%); the wild
#: bootstrap with observation-level weights, the earlier default, over-rejected 7.5% with 10 units
#: over 20 years and noisier autocorrelated treated units. Analytic, so intervals at every level
#: and the covariance of effect vectors (HonestDiD) come from the same method.
DEFAULT_FEW: dict[str, Any] = {
    "cov_type": "cr2",
    "options": {"working_model": "treatment_groups"},
    "reason": (
        "{G} clusters, {G1} treated: CR2 standard errors with Satterthwaite degrees of freedom "
        "under a working model with separate error variances for treated and untreated clusters. "
        "In evalkit's size study (12-16 units over 10-14 years and 10 units over 20 years, equal, "
        "noisier and quieter treated units) its 5% tests rejected 3.7-4.9% of true nulls in every "
        "design"
    ),
    "report_range": False,
}

#: Choice for few clusters when the design does not say which clusters are treated, or when every
#: cluster is (a dose received by all units): the working model above needs treated and untreated
#: clusters: the restricted wild bootstrap with observation-level Rademacher weights
#: (MacKinnon-Webb subcluster bootstrap), 4.5-7.5% in the size study.
DEFAULT_FEW_UNKNOWN_TREATMENT: dict[str, Any] = {
    "cov_type": "wild",
    "options": {"bootcluster": "observation", "bootstrap_weights": "rademacher", "impose_null": True},
    "reason": (
        "{G} clusters, {why}: restricted wild bootstrap with observation-level "
        "Rademacher weights and cluster-robust t (MacKinnon-Webb subcluster bootstrap). In "
        "evalkit's size study its 5% tests rejected 4.5-6.1% of true nulls in 8 of 9 designs but "
        "7.5% with 10 units over 20 years and noisier autocorrelated treated units; check the "
        "range across methods (few_cluster_report)"
    ),
    "report_range": True,
}


@dataclass(repr=False)
class FewClusterReport(TidyVector):
    """P-values and confidence intervals of one effect under several few-cluster methods.

    A vector result of the results protocol with one entry per method: ``params`` (the
    estimate, the same for every method), ``std_errors`` (missing: the methods differ in more
    than the standard error), ``pvalues`` and ``conf_int()`` (at the report's ``level``) are
    indexed by method; ``to_frame()``, ``summary()``, ``plot()`` (the intervals side by side).

    Attributes
    ----------
    term : str
        The coefficient or contrast.
    estimate : float
        Point estimate.
    table : DataFrame
        One row per method: ``method, p_value, conf_low, conf_high``.
    level : float
        Coverage of the intervals.
    notes : list of str
        Size-study facts shown with the report.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> from evalkit.inference import few_cluster_report
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(12) for t in range(2015, 2021)], columns=["unit", "year"])
    >>> df["treated"] = ((df.unit < 3) & (df.year >= 2018)).astype(int)
    >>> df["y"] = df.unit + df.treated + rng.normal(0, 0.1, len(df))
    >>> r = did.twfe(df, outcome="y", unit="unit", time="year", treatment="treated", cov_type="clustered")
    >>> rep = few_cluster_report(r, n_draws=199)
    >>> print(f"{rep.term}: {rep.estimate:.2f}")
    treated: 1.00
    >>> rep.pvalues.index[0], bool((rep.params == rep.estimate).all())
    ('CR1, t(G-1)', True)
    """

    term: str
    estimate: float
    table: pd.DataFrame
    level: float
    n_clusters: int
    n_treated_clusters: int | None
    notes: list[str] = field(default_factory=list)

    @property
    def pvalue_range(self) -> tuple[float, float]:
        """Smallest and largest p-value across methods."""
        p = self.table["p_value"].to_numpy(dtype=float)
        return float(np.nanmin(p)), float(np.nanmax(p))

    @property
    def conf_int_range(self) -> tuple[float, float]:
        """Union of the intervals (smallest lower end, largest upper end)."""
        return float(self.table["conf_low"].min()), float(self.table["conf_high"].max())

    @property
    def inference(self) -> str:
        """The report in words (for a result's ``.inference``)."""
        lo, hi = self.pvalue_range
        return (
            f"few clusters ({self.n_clusters}, {self.n_treated_clusters} treated): p-value ranges "
            f"{lo:.3g}-{hi:.3g} across {len(self.table)} methods ({', '.join(self.table['method'])})"
        )

    rerun_hint = "run few_cluster_report(...) again with that level"

    @property
    def title(self) -> str:  # type: ignore[override]
        return f"Few-cluster report for {self.term}"

    def _fixed_level(self) -> float:
        return float(self.level)

    def _index(self, frame: pd.DataFrame) -> pd.Index:
        return pd.Index(frame["method"].astype(str), name="method")

    def to_frame(self) -> pd.DataFrame:
        """The per-method table: the tidy columns (``term`` = the effect) and ``method``."""
        out = self.table.assign(term=self.term, estimate=self.estimate)
        for col in TIDY_COLUMNS:
            if col not in out.columns:
                out[col] = np.nan
        return out[["method", *TIDY_COLUMNS]].reset_index(drop=True)

    def plot(self, ax=None, language: str | None = None, **kwargs):
        """The estimate with each method's interval, side by side.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw.
        language : {"en", "zh"}, optional
            Label language (default: the one set by ``report.use()``, else English).
        **kwargs
            Passed to :func:`evalkit.report.plot_effects`.

        Returns
        -------
        matplotlib Axes
        """
        from ..report.plots import plot_effects

        frame = self.to_frame().assign(term=lambda f: f["method"])
        frame = frame.drop(columns=["event_time", "time", "group"])
        kwargs.setdefault("title", self.title)
        return plot_effects(frame, ax=ax, uniform=False, language=language, **kwargs)

    def summary(self) -> Summary:
        """Readable text."""
        lo, hi = self.conf_int_range
        lines = [
            f"Few-cluster report for {self.term}: estimate {self.estimate:.6g}",
            self.table.to_string(index=False, float_format=lambda x: f"{x:.4g}"),
            f"p-value range: {self.pvalue_range[0]:.4g} - {self.pvalue_range[1]:.4g}; "
            f"{int(self.level * 100)}% CI range: [{lo:.6g}, {hi:.6g}]",
        ]
        lines += [f"Note: {n}" for n in self.notes]
        return Summary("\n".join(lines))

    def __repr__(self) -> str:
        return f"<FewClusterReport: {self.term}, p in [{self.pvalue_range[0]:.3g}, {self.pvalue_range[1]:.3g}]>"


def few_cluster_report(
    design_or_result: Any,
    *,
    param: str | int | None = None,
    R: np.ndarray | None = None,
    level: float = 0.95,
    n_draws: int = 9999,
    seed: int | None = DEFAULT_SEED,
    executor: Executor | str | dict | None = None,
    extra: dict[str, Any] | None = None,
) -> FewClusterReport:
    """Run the few-cluster methods on one effect and report each p-value and interval.

    Methods: CR1 with t(G-1), CR2 with Bell-McCaffrey dof and with the treated/untreated
    working-model dof (the default, when the design says which clusters are treated), wild cluster
    bootstrap restricted
    (WCR) with Rademacher weights (fully enumerated for G <= 12) and with Webb weights, the
    unrestricted WCU with Webb weights, and the WCR with observation-level weights studentised by
    the cluster-robust variance (the "subcluster" bootstrap of MacKinnon and Webb 2018). Randomization inference or Conley-Taber results (which
    need the data, not just the design) can be added through ``extra``.

    Parameters
    ----------
    design_or_result : LinearDesign or result with ``.design``
        The fitted model.
    param, R : see :func:`~evalkit.inference.wild.wild_cluster_bootstrap`
        The effect (default ``design.extra["target_param"]`` or the first coefficient).
    level : float
        Coverage.
    n_draws : int
        Random bootstrap draws (Webb).
    seed : int or None
        Seed.
    executor : Executor, str, dict or None
        Where the bootstrap runs.
    extra : dict, optional
        ``{method name: result}`` with results exposing ``pvalue`` and optionally ``conf_int``
        (e.g. :class:`~evalkit.inference.randomization.RandomizationResult`).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> from evalkit.inference import few_cluster_report
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(12) for t in range(2015, 2021)], columns=["unit", "year"])
    >>> df["treated"] = ((df.unit < 3) & (df.year >= 2018)).astype(int)
    >>> df["y"] = df.unit + df.treated + rng.normal(0, 0.1, len(df))
    >>> r = did.twfe(df, outcome="y", unit="unit", time="year", treatment="treated", cov_type="clustered")
    >>> rep = few_cluster_report(r, n_draws=199)
    >>> rep.n_clusters, rep.n_treated_clusters, len(rep.table) > 1
    (12, 3, True)
    """
    from scipy import stats

    design = _design_of(design_or_result)
    G, G1 = cluster_counts(design)
    if G < 2:
        raise InferenceError(f"Only {G} cluster: no cluster-based method applies.")
    if R is None and param is None:
        param = (design.extra or {}).get("target_param", design.names[0])
    if R is not None:
        c = np.asarray(R, dtype=float).ravel()
        term = "contrast"
    else:
        idx = design.names.index(param) if isinstance(param, str) else int(param)
        c = np.zeros(design.k)
        c[idx] = 1.0
        term = design.names[idx]
    est = float(c @ design.beta)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewClustersWarning)
        v1 = covariance.compute(design, "clustered")
        se1 = float(np.sqrt(c @ v1.cov @ c))
        crit = stats.t.ppf(0.5 + level / 2, v1.dof)
        rows.append(("CR1, t(G-1)", 2 * stats.t.sf(abs(est / se1), v1.dof), est - crit * se1, est + crit * se1))
        v2 = covariance.compute(design, "cr2", contrast=c, level=level)
        rows.append((f"CR2, Bell-McCaffrey dof {v2.details['contrast_dof']:.3g}", v2.pvalue, *v2.conf_int))
        if G1 is not None and 0 < G1 < G:
            v2g = covariance.compute(design, "cr2", contrast=c, level=level, working_model="treatment_groups")
            rows.append((f"CR2, treated/untreated working-model dof {v2g.details['contrast_dof']:.3g}",
                         v2g.pvalue, *v2g.conf_int))
        kw = dict(R=c, level=level, seed=seed, executor=executor)
        for label, opts in (
            ("WCR, Rademacher", dict(bootstrap_weights="rademacher", n_draws=n_draws)),
            ("WCR, Webb", dict(bootstrap_weights="webb", n_draws=n_draws, full_enumeration=False)),
            ("WCU, Webb", dict(bootstrap_weights="webb", n_draws=n_draws, impose_null=False,
                               full_enumeration=False)),
            ("WCR, Rademacher, subcluster = observation",
             dict(bootstrap_weights="rademacher", n_draws=n_draws, bootcluster="observation")),
        ):
            w = wild_cluster_bootstrap(design, **kw, **opts)
            lab = label + (" (full enumeration)" if w.full_enumeration else f" ({w.n_draws} draws)")
            rows.append((lab, w.pvalue, *w.interval))
    for name, res in (extra or {}).items():
        rows.append((name, float(res.pvalue), *_interval_of(res, level)))
    table = pd.DataFrame(rows, columns=["method", "p_value", "conf_low", "conf_high"])
    notes = [
        f"{G} clusters, {G1 if G1 is not None else 'unknown'} treated: below the "
        f"{MIN_CLUSTERS}/{MIN_TREATED_CLUSTERS} thresholds, methods can disagree; see "
        "benchmarks/README.md (inference size study) for how each holds its level.",
        "Size study (% of 5% tests rejecting a true null in designs "
        + ", ".join(SIZE_STUDY_DESIGNS.values()) + "): "
        + "; ".join(f"{m} " + "/".join(f"{r:.1f}" for r in rates) for m, rates in SIZE_STUDY.items()),
    ]
    return FewClusterReport(term, est, table, level, G, G1, notes)


def _interval_of(res: Any, level: float) -> tuple[float, float]:
    """A result's interval at ``level`` by its own method, or ``(nan, nan)`` when it has none
    (randomization and placebo tests give p-values only)."""
    if hasattr(res, "conf_int_at"):
        return tuple(float(x) for x in res.conf_int_at(level))
    ci = getattr(res, "conf_int", None)
    if callable(ci):
        try:
            ci = ci(level)
        except InferenceError:
            return float("nan"), float("nan")
    if ci is None or not np.isclose(level, getattr(res, "level", level)):
        return float("nan"), float("nan")
    return float(ci[0]), float(ci[1])


def iv_auto_inference(design: LinearDesign, cluster=None, small_sample: str | None = None,
                      level: float = 0.95, **options) -> CovarianceResult:
    """``cov_type="auto"`` for a 2SLS design: CR1 with many clusters, the IV size study's choice
    with few (:data:`~evalkit.inference.wild_iv.IV_DEFAULT_FEW`), and the reason in the description."""
    G, G1 = cluster_counts(design, cluster)
    if G < 2:
        raise InferenceError(
            f"Only {G} cluster: no cluster-robust inference is possible for the 2SLS estimate."
        )
    few = G < MIN_CLUSTERS or (G1 is not None and G1 < MIN_TREATED_CLUSTERS)
    kw = {"cluster": cluster} if cluster is not None else {}
    if not few:
        if small_sample is not None:
            kw["small_sample"] = small_sample
        out = covariance.compute(design, "clustered", **kw)
        out.description = f"{out.description} [default: {G} clusters, {G1} treated: CR1 with t({G - 1})]"
        return out
    choice = IV_DEFAULT_FEW
    opts = {**choice["options"], **kw}
    if choice["cov_type"] == "wild":
        opts.update({k: v for k, v in options.items() if k in ("n_draws", "seed", "executor")})
        out = wild_iv_covariance(design, level=level, **opts)
    else:
        out = covariance.compute(design, choice["cov_type"], **opts)
    out.description = f"{out.description} [default chosen for {choice['reason'].format(G=G)}]"
    return out


@covariance.register(
    "auto",
    allowed_kwargs={"cluster", "param", "n_draws", "seed", "executor", "level", "small_sample"},
    doc="Evidence-based default: CR1 with many clusters, the size study's choice with few.",
)
def auto_inference(design: LinearDesign, cluster=None, small_sample: str = "fixest", **options):
    """Registry entry ``cov_type="auto"``: the inference :func:`recommend_inference` picks.

    With at least ``MIN_CLUSTERS`` clusters and ``MIN_TREATED_CLUSTERS`` treated ones this is
    CR1 (``"clustered"``); with fewer, the method that held its level in evalkit's size study
    (:data:`DEFAULT_FEW`). The description says which was used and why, so summaries show it.
    Bootstrap options (``n_draws``, ``seed``, ``executor``, ``param``, ``level``) apply only when
    the bootstrap is chosen.
    """
    if (design.extra or {}).get("iv") is not None:  # 2SLS: the IV size study decides
        return iv_auto_inference(design, cluster=cluster, small_sample=small_sample, **options)
    rec = recommend_inference(design, cluster=cluster)
    if cluster is not None:
        options = {**options, "cluster": cluster}
    if rec.cov_type == "clustered":
        keep = {k: v for k, v in options.items() if k == "cluster"}
        out = covariance.compute(design, "clustered", small_sample=small_sample, **keep)
    else:
        allowed = covariance.allowed_options(rec.cov_type)
        merged = {**rec.options, **{k: v for k, v in options.items() if k in allowed}}
        out = covariance.compute(design, rec.cov_type, **merged)
    out.description = f"{out.description} [default chosen for {rec.reason}]" if rec.cov_type != "clustered" else (
        f"{out.description} [default: {rec.reason}]")
    return out
