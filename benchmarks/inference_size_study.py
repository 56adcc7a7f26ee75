"""Monte-Carlo size study of few-cluster inference: a registry of designs, one table.

Every design simulates panels under a true null, runs each of its inference methods on every
replication and records the p-values; the rejection rate of 5 % tests (with its Monte-Carlo
standard error) is what decides evalkit's few-cluster default (``cov_type="auto"``, see
``evalkit/inference/recommend.py``) and fills the table in ``benchmarks/README.md``.

Designs are registered with :func:`register_design` (a :class:`SizeDesign`: a key, a label and a
``replicate(rng, seed) -> {method: p-value}`` function), so other estimators (e.g. an IV design)
join the same study and table without touching the loop::

    from benchmarks.inference_size_study import SizeDesign, register_design
    register_design(SizeDesign("iv12x14", "IV, 12 x 14", my_replicate))

The TWFE designs (:class:`TWFEDesign`) build the design the way ``evalkit.did.twfe`` does (unit
and year effects absorbed and described in ``design.extra["fe_codes"]``, clusters = units) and
test ``beta = 0`` with every method of :data:`TWFE_METHODS`.

Run: ``OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/inference_size_study.py [--reps 1000]
[--designs a b u12x14a ...] [--workers 2]`` (one process, or its chunks spread over
``--workers`` local worker processes with the same p-values). Each design's p-values go to
``results/inference_size_pvalues_<key>.csv`` (one column per method, one row per replication,
appended chunk by chunk, so an interrupted run keeps what it finished and ``--resume`` continues
it); ``--table`` rebuilds ``results/inference_size_study.csv`` and prints the markdown table from
whatever is saved.
"""

from __future__ import annotations

import argparse
import itertools
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from evalkit.inference import covariance
from evalkit.inference.design import LinearDesign
from evalkit.inference.executor import Chunk, Executor, get_executor
from evalkit.inference.wild import wild_cluster_bootstrap

SEED = 20240601
B_WILD = 9999
ALPHA = 0.05
RESULTS = Path(__file__).parent / "results"


@dataclass(frozen=True)
class SizeDesign:
    """One simulation design of the size study.

    Parameters
    ----------
    key : str
        Short identifier (file names, command line).
    label : str
        Column heading of the table.
    replicate : callable
        ``replicate(rng, seed) -> dict[str, float]``: simulate one data set under the null with
        ``rng`` and return each method's p-value (``seed`` seeds the methods' own resampling).
        Must be a module-level (picklable) object for the process pool.
    """

    key: str
    label: str
    replicate: Callable[[np.random.Generator, int], dict[str, float]]


#: Registered designs, in table order.
DESIGNS: dict[str, SizeDesign] = {}


def register_design(design: SizeDesign) -> SizeDesign:
    """Add ``design`` to :data:`DESIGNS` (replacing one with the same key)."""
    DESIGNS[design.key] = design
    return design


# ---------------------------------------------------------------------------------------------
# TWFE difference-in-differences designs
# ---------------------------------------------------------------------------------------------
TWFE_METHODS = [
    "CR1 (fixest), t(G-1)",
    "CR2, Bell-McCaffrey dof",
    "CR3 jackknife, t(G-1)",
    "WCR Rademacher, cluster weights",
    "WCU Rademacher, cluster weights",
    "WCR Rademacher, observation weights",
    "RI t statistic (exact)",
    "WCR Rademacher, cluster weights, CR2-studentised",
    "WCR Rademacher, observation weights, CR2-studentised",
    "WCR Rademacher, unit x pre/post weights",
    "WCU Rademacher, observation weights",
    "WCR Webb, observation weights",
    "WCR-S Rademacher, cluster weights, CV3-studentised",
    "WCU-S Rademacher, cluster weights, CV3-studentised",
    "WCR Rademacher, observation weights, CV3-studentised",
    "WCU Rademacher, observation weights, CV3-studentised",
    "CR2, per-cluster-variance working-model dof",
    "CR2 t, exact under the identity working model",
    "CR2 t, exact under a per-cluster-variance working model",
    "CR2 t, exact under the treated/untreated working model",
    "CR2, treated/untreated working-model dof (default)",
    "CR2, treated/untreated working-model dof, restricted residuals",
    "CR2 with a treated/untreated target, exact",
]


def _ar1(rng: np.random.Generator, N: int, T: int, rho: float) -> np.ndarray:
    e = np.empty((N, T))
    e[:, 0] = rng.normal(size=N) / np.sqrt(1 - rho**2)
    for t in range(1, T):
        e[:, t] = rho * e[:, t - 1] + rng.normal(size=N)
    return e * np.sqrt(1 - rho**2)  # unit stationary variance


@dataclass(frozen=True)
class TWFEDesign:
    """A TWFE DiD under the null: N units (clusters), T periods, the first ``n_treated`` units
    treated from period ``first_treated`` (0-based), unit and year effects N(0, 1).

    ``errors``: ``"iid"`` N(0, 1); ``"noisy"`` treated units' errors 3x as large, AR(1) 0.7;
    ``"quiet"`` treated units 1/3 as noisy, AR(1) 0.7; ``"equal"`` equal scales, AR(1) 0.7.
    """

    N: int
    T: int
    n_treated: int
    first_treated: int
    errors: str

    def simulate(self, rng: np.random.Generator) -> np.ndarray:
        N, T = self.N, self.T
        alpha, gamma = rng.normal(size=(N, 1)), rng.normal(size=(1, T))
        if self.errors == "iid":
            eps = rng.normal(size=(N, T))
        else:
            scale = {"noisy": 3.0, "quiet": 1 / 3, "equal": 1.0}[self.errors]
            eps = _ar1(rng, N, T, 0.7) * np.where(np.arange(N) < self.n_treated, scale, 1.0)[:, None]
        return alpha + gamma + eps

    @cached_property
    def D(self) -> np.ndarray:
        return np.outer(np.arange(self.N) < self.n_treated, np.arange(self.T) >= self.first_treated).astype(float)

    @cached_property
    def unit(self) -> np.ndarray:
        return np.repeat(np.arange(self.N), self.T)

    @cached_property
    def year(self) -> np.ndarray:
        return np.tile(np.arange(self.T), self.N)

    @cached_property
    def assignments(self) -> np.ndarray:
        """Every set of ``n_treated`` units (the actual one first)."""
        return np.array([np.isin(np.arange(self.N), c)
                         for c in itertools.combinations(range(self.N), self.n_treated)], float)

    def design(self, Y: np.ndarray) -> LinearDesign:
        yt, dt = two_way(Y).ravel(), two_way(self.D).ravel()
        beta = np.array([dt @ yt / (dt @ dt)])
        return LinearDesign(
            X=dt[:, None], resid=yt - dt * beta[0], beta=beta, names=["treat"], y=yt,
            clusters=self.unit, df_absorbed=self.N + self.T - 1, fe_nested_in_cluster=True,
            treated_clusters=np.arange(self.n_treated),
            extra={"fe_codes": np.column_stack([self.unit, self.year])},
        )

    def ri_t_pvalue(self, Y: np.ndarray) -> float:
        """Exact randomization p-value of the CR1 t statistic over every treated set."""
        Yt = two_way(Y)
        post = (np.arange(self.T) >= self.first_treated).astype(float)
        pc = post - post.mean()
        ac = self.assignments - self.assignments.mean(axis=1, keepdims=True)
        sxx = (ac**2).sum(axis=1) * (pc @ pc)
        beta = (ac @ Yt @ pc) / sxx
        s = ac * ((Yt @ pc)[None, :] - beta[:, None] * ac * (pc @ pc))
        t = beta / np.sqrt((s**2).sum(axis=1)) * sxx  # CR1 factor is common: cancels
        return float(np.mean(np.abs(t) >= np.abs(t[0]) * (1 - 1e-9)))

    def cr3_pvalue(self, Y: np.ndarray) -> float:
        """Jackknife CV3 (MacKinnon, Nielsen and Webb 2023) with leave-one-cluster-out refits."""
        def beta_of(Ym, Dm):
            yt, dt = two_way(Ym), two_way(Dm)
            return float(np.sum(dt * yt) / np.sum(dt * dt))

        b = beta_of(Y, self.D)
        jack = [beta_of(np.delete(Y, g, 0), np.delete(self.D, g, 0)) for g in range(self.N)]
        v3 = (self.N - 1) / self.N * np.sum((np.array(jack) - b) ** 2)
        return float(2 * stats.t.sf(abs(b) / np.sqrt(v3), self.N - 1))

    def __call__(self, rng: np.random.Generator, seed: int) -> dict[str, float]:
        Y = self.simulate(rng)
        des = self.design(Y)
        methods = TWFE_METHODS if ONLY is None else [m for m in TWFE_METHODS if m in ONLY]
        return {m: float(_TWFE_RUNNERS[m](self, Y, des, seed)) for m in methods}


def _cr1(d: TWFEDesign, Y, des, seed) -> float:
    c1 = covariance.compute(des, "clustered")
    return 2 * stats.t.sf(abs(des.beta[0]) / np.sqrt(c1.cov[0, 0]), c1.dof)


def _wild(**opts):
    def run(d: TWFEDesign, Y, des, seed) -> float:
        return wild_cluster_bootstrap(des, param=0, level=None, seed=seed, n_draws=B_WILD,
                                      bootstrap_weights="rademacher", **opts).pvalue
    return run


_TWFE_RUNNERS = dict(zip(TWFE_METHODS, [
    _cr1,
    lambda d, Y, des, seed: covariance.compute(des, "cr2").pvalue[0],
    lambda d, Y, des, seed: d.cr3_pvalue(Y),
    _wild(),
    _wild(impose_null=False),
    _wild(bootcluster="observation"),
    lambda d, Y, des, seed: d.ri_t_pvalue(Y),
    _wild(studentize="cr2"),
    _wild(bootcluster="observation", studentize="cr2"),
    lambda d, Y, des, seed: _wild(bootcluster=d.unit * 2 + (d.year >= d.first_treated))(d, Y, des, seed),
    _wild(bootcluster="observation", impose_null=False),
    lambda d, Y, des, seed: wild_cluster_bootstrap(des, param=0, level=None, seed=seed, n_draws=B_WILD,
                                                   bootstrap_weights="webb", bootcluster="observation").pvalue,
    _wild(studentize="cv3"),
    _wild(impose_null=False, studentize="cv3"),
    _wild(bootcluster="observation", studentize="cv3"),
    _wild(bootcluster="observation", impose_null=False, studentize="cv3"),
    lambda d, Y, des, seed: _working_model(d, des, Y, "per_cluster", exact=False),
    lambda d, Y, des, seed: _working_model(d, des, Y, "identity", exact=True),
    lambda d, Y, des, seed: _working_model(d, des, Y, "per_cluster", exact=True),
    lambda d, Y, des, seed: _working_model(d, des, Y, "treatment_groups", exact=True),
    lambda d, Y, des, seed: covariance.compute(des, "cr2", working_model="treatment_groups").pvalue[0],
    lambda d, Y, des, seed: _working_model(d, des, Y, "treatment_groups_restricted", exact=False),
    lambda d, Y, des, seed: _cr2_target(d, des),
], strict=True))


def _annihilator(d: TWFEDesign) -> tuple[np.ndarray, np.ndarray]:
    """Dense ``M`` of the explicit-dummy design, and the CR2 score weights as an n x G matrix."""
    N, T = d.N, d.T
    Z = np.column_stack([d.D.ravel(), np.eye(N)[d.unit], np.eye(T)[d.year][:, 1:]])
    return np.eye(N * T) - Z @ np.linalg.pinv(Z), Z


def _working_variances(d: TWFEDesign, des: LinearDesign, Y, M, model: str) -> np.ndarray:
    """Per-observation variance of a working model, estimated from the residuals."""
    n = d.N * d.T
    e, m = des.resid, np.diag(M)
    if model == "identity":
        return np.ones(n)
    if model == "per_cluster":
        return (np.bincount(d.unit, weights=e**2) / np.bincount(d.unit, weights=m))[d.unit]
    if model == "treatment_groups_restricted":  # residuals with the null imposed
        e = two_way(Y).ravel()
        Zr = _annihilator(d)[1][:, 1:]
        m = np.diag(np.eye(n) - Zr @ np.linalg.pinv(Zr))
    grp = (d.unit < d.n_treated).astype(int)
    return (np.bincount(grp, weights=e**2) / np.bincount(grp, weights=m))[grp]


def _working_model(d: TWFEDesign, des: LinearDesign, Y, model: str, exact: bool) -> float:
    """CR2 t tested with Satterthwaite dof (``exact=False``) or with its exact distribution
    (``exact=True``, Imhof 1961) under a Gaussian working model estimated from the residuals.

    Written with dense explicit-dummy matrices, independently of evalkit's ``cr2`` (which the
    default row calls): the two agree to 1e-9 (``tests/inference/test_cr2_working_model.py``)."""
    N, n = d.N, d.N * d.T
    M, _ = _annihilator(d)
    t0 = des.beta[0] / np.sqrt(covariance.compute(des, "cr2").cov[0, 0])
    q = covariance.cr2_rows(des, d.unit, N, covariance.FEProjection.from_design(des, des.clusters))[:, 0]
    A = np.zeros((n, N))
    A[np.arange(n), d.unit] = q
    MA = M @ A
    phi = _working_variances(d, des, Y, M, model)
    if not exact:
        W = MA.T @ (phi[:, None] * MA)
        return float(2 * stats.t.sf(abs(t0), np.trace(W) ** 2 / np.sum(W * W)))
    return _exact_t_pvalue(des.X[:, 0] * des.bread()[0, 0], MA, phi, t0)


def _exact_t_pvalue(a: np.ndarray, MA: np.ndarray, phi: np.ndarray, t0: float) -> float:
    """P(|a'u| >= |t0| sqrt(sum_g (MA_g'u)^2)) for u ~ N(0, diag(phi)): a quadratic form in
    Gaussians, whose sign probability Imhof's integral gives from the eigenvalues."""
    L = np.column_stack([a, MA])
    K = L.T @ (phi[:, None] * L)
    w, v = np.linalg.eigh((K + K.T) / 2)
    Kh = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    lams = np.linalg.eigvalsh(Kh @ np.diag(np.r_[1.0, -np.full(MA.shape[1], t0**2)]) @ Kh)
    return _imhof_upper(lams)


def _imhof_upper(lams: np.ndarray) -> float:
    """P(sum_j lams_j chi2_1 > 0) by Imhof's (1961) integral."""
    from scipy import integrate

    lams = lams[np.abs(lams) > 1e-12 * np.abs(lams).max()]

    def f(u):
        th = 0.5 * np.sum(np.arctan(lams * u))
        rho = np.exp(0.25 * np.sum(np.log1p((lams * u) ** 2)))
        return np.sin(th) / (u * rho)

    val, _ = integrate.quad(f, 0, np.inf, limit=500)
    return float(0.5 + val / np.pi)


def _cr2_target(d: TWFEDesign, des: LinearDesign) -> float:
    """Pustejovsky-Tipton CR2 whose adjustment matrices use the treated/untreated working model
    as target, tested with its exact distribution under that model."""
    N, T = d.N, d.T
    n = N * T
    M, _ = _annihilator(d)
    e = des.resid
    phi = _working_variances(d, des, None, M, "treatment_groups")
    a = des.X[:, 0] * des.bread()[0, 0]
    MA = np.zeros((n, N))
    meat = 0.0
    for g in range(N):
        idx = np.arange(g * T, (g + 1) * T)
        Bg = (M[idx] * phi) @ M[idx].T
        Ag = np.sqrt(phi[idx])[:, None] * covariance._inv_sqrt_psd(Bg) * np.sqrt(phi[idx])[None, :]
        qg = Ag @ a[idx]
        meat += float(qg @ e[idx]) ** 2
        col = np.zeros(n)
        col[idx] = qg
        MA[:, g] = M @ col
    return _exact_t_pvalue(a, MA, phi, des.beta[0] / np.sqrt(meat))


#: Methods run in this process (``None`` = all); set by ``--methods``. Replications are seeded by
#: design and chunk and methods draw no data, so runs of different methods on the same design see
#: the same simulated panels and their p-value files join row by row.
ONLY: list[str] | None = None


def two_way(m: np.ndarray) -> np.ndarray:
    """Two-way demeaned balanced N x T matrix."""
    return m - m.mean(axis=1, keepdims=True) - m.mean(axis=0, keepdims=True) + m.mean()


_ERRORS_LABEL = {"iid": "i.i.d.", "noisy": "treated 3x noisier, AR(1) 0.7",
                 "quiet": "treated 1/3 as noisy, AR(1) 0.7", "equal": "equal scales, AR(1) 0.7"}
for _key, (_N, _T, _N1, _T0, _err) in {
    "a": (12, 10, 3, 5, "iid"),
    "b": (12, 10, 3, 5, "noisy"),
    "c": (12, 10, 3, 5, "quiet"),
    "d": (12, 10, 3, 5, "equal"),
    "u12x14a": (12, 14, 3, 7, "iid"),
    "u12x14b": (12, 14, 3, 7, "noisy"),
    "u16x14a": (16, 14, 4, 7, "iid"),
    "u16x14b": (16, 14, 4, 7, "noisy"),
    "u10x20b": (10, 20, 3, 10, "noisy"),
}.items():
    register_design(SizeDesign(
        _key, f"{_N}x{_T}, {_N1} treated, {_ERRORS_LABEL[_err]}", TWFEDesign(_N, _T, _N1, _T0, _err)))


# ---------------------------------------------------------------------------------------------
# The loop
# ---------------------------------------------------------------------------------------------
def run_chunk(chunk: Chunk, key: str) -> pd.DataFrame:
    """Replications ``chunk.start..chunk.stop`` of design ``key`` (seeded by the chunk)."""
    rng = chunk.rng()
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(chunk.size):
            rows.append(DESIGNS[key].replicate(rng, int(rng.integers(2**31))))
    return pd.DataFrame(rows).assign(chunk=chunk.index)


def _study_chunks(task: Chunk, key: str, chunks: list[Chunk], only: list[str] | None) -> list:
    """Executor task: the study chunks ``chunks[task.start:task.stop]`` of design ``key``.

    The study's own chunks keep their seeds (design and chunk number), so a replication gives the
    same p-values whichever process runs it; ``only`` carries ``--methods`` into the workers."""
    global ONLY
    ONLY = only
    return [run_chunk(c, key) for c in chunks[task.start:task.stop]]


def run_design(key: str, reps: int, chunk_size: int = 25, resume: bool = False, tag: str = "",
               first_rep: int = 0, executor: Executor | str | dict | None = None) -> Path:
    """Run ``reps`` replications of design ``key``; p-values appended to its CSV chunk by chunk.

    ``executor`` (e.g. ``Executor("processes", n_workers=2)``) spreads the chunks over workers,
    a few at a time so that finished chunks are saved as they come; the p-values do not depend
    on it. ``tag`` names a partial file holding only some methods (``--methods``), joined to the
    others by row."""
    path = RESULTS / f"inference_size_pvalues_{key}{'__' + tag if tag else ''}.csv"
    done: set[int] = set()
    if resume and path.exists():
        done = set(pd.read_csv(path, usecols=["chunk"])["chunk"].unique())
    elif path.exists():
        path.unlink()
    seed = SEED + sum(ord(c) * 31**i for i, c in enumerate(key)) % 100_000
    n_chunks = -(-reps // chunk_size)
    todo = [Chunk(i, i * chunk_size, min((i + 1) * chunk_size, reps), seed)
            for i in range(first_rep // chunk_size, n_chunks) if i not in done]
    ex = get_executor(executor)
    batch = 1 if ex.backend == "serial" else 2 * (ex.n_workers or 2)
    t0 = time.perf_counter()
    for b in range(0, len(todo), batch):
        part = todo[b:b + batch]
        frames = ex.map(_study_chunks, len(part), seed=seed, args=(key, part, ONLY), chunk_size=1)
        for frame, c in zip((f for group in frames for f in group), part, strict=True):
            frame.to_csv(path, mode="a", header=not path.exists(), index=False)
            print(f"{key}: chunk {c.index + 1}/{n_chunks} at {time.perf_counter() - t0:.0f}s", flush=True)
    return path


def table() -> pd.DataFrame:
    """Rejection rates (%) and Monte-Carlo standard errors from every saved design."""
    rows = []
    for key, design in DESIGNS.items():
        parts = sorted(RESULTS.glob(f"inference_size_pvalues_{key}.csv")) + sorted(
            RESULTS.glob(f"inference_size_pvalues_{key}__*.csv"))
        if not parts:
            continue
        frames = [pd.read_csv(p) for p in parts]
        frames = [f.assign(row=f.groupby("chunk").cumcount()).set_index(["chunk", "row"]) for f in frames]
        pv = frames[0]
        for f in frames[1:]:  # same replications (same seeds): align on chunk and row
            pv = pv.combine_first(f)
        for method in pv.columns:
            p = pv[method].dropna().to_numpy()
            rate = float(np.mean(p <= ALPHA))
            rows.append({"design": key, "label": design.label, "method": method, "reps": p.size,
                         "rejection_pct": 100 * rate,
                         "mc_se_pct": 100 * float(np.sqrt(rate * (1 - rate) / max(p.size, 1)))})
    out = pd.DataFrame(rows)
    if not out.empty:
        out.to_csv(RESULTS / "inference_size_study.csv", index=False)
    return out


def markdown(tab: pd.DataFrame) -> str:
    """Method x design table of ``rate (MC s.e.)`` for the README."""
    cell = tab.assign(cell=[f"{r:.1f} ({s:.1f})" + ("" if n == 1000 else f" [{n}]")
                            for r, s, n in zip(tab["rejection_pct"], tab["mc_se_pct"], tab["reps"])])
    wide = cell.pivot(index="method", columns="design", values="cell")
    keys = [k for k in DESIGNS if k in wide.columns]
    methods = [m for m in TWFE_METHODS if m in wide.index] + [m for m in wide.index if m not in TWFE_METHODS]
    methods.sort(key=lambda m: not m.endswith("(default)"))  # the default first, the rest in order
    wide = wide.loc[methods, keys].fillna("")
    head = "| method | " + " | ".join(keys) + " |"
    lines = [head, "|---|" + "---:|" * len(keys)]
    lines += [f"| {m} | " + " | ".join(wide.loc[m]) + " |" for m in wide.index]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--designs", nargs="*", default=list(DESIGNS))
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--first-rep", type=int, default=0, help="start at this replication (extends a "
                    "design already run to --reps with other --methods)")
    ap.add_argument("--methods", nargs="*", default=None, help="run only these methods (by position in "
                    "TWFE_METHODS, 0-based); results go to a tagged file joined to the others")
    ap.add_argument("--table", action="store_true", help="only rebuild the table from saved p-values")
    ap.add_argument("--workers", type=int, default=1, help="run the replications on this many local "
                    "worker processes (same p-values as one process)")
    args = ap.parse_args()
    RESULTS.mkdir(exist_ok=True)
    global ONLY
    tag = ""
    if args.methods:
        ONLY = [TWFE_METHODS[int(i)] for i in args.methods]
        tag = "m" + "-".join(args.methods)
    if not args.table:
        for key in args.designs:
            run_design(key, args.reps, resume=args.resume, tag=tag, first_rep=args.first_rep,
                       executor=Executor("processes", n_workers=args.workers) if args.workers > 1 else None)
    tab = table()
    print(markdown(tab))


if __name__ == "__main__":
    main()
