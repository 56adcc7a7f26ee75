"""Inference: variance estimators, bootstraps, randomization inference, the resampling executor.

* :mod:`~evalkit.inference.covariance` -- the ``cov_type`` registry (``unadjusted``, ``robust``
  (HC0-HC3), ``clustered`` (CR1, one- or two-way), ``cr2`` (Bell-McCaffrey), ``wild``).
* :mod:`~evalkit.inference.wild` -- fast wild cluster bootstrap (WCR/WCU), test inversion.
* :mod:`~evalkit.inference.randomization` -- randomization inference, Conley-Taber.
* :mod:`~evalkit.inference.placebo` -- placebo tests in time and in space.
* :mod:`~evalkit.inference.executor` -- serial / local processes / Dask execution of draws.
* :mod:`~evalkit.inference.recommend` -- default inference by evidence, few-cluster report.
"""

from . import covariance
from .covariance import CovarianceResult, available, compute, register
from .design import LinearDesign
from .executor import Executor, get_executor, shutdown_workers
from .placebo import PlaceboResult, placebo_in_space, placebo_in_time
from .randomization import (
    ConleyTaberResult,
    RandomizationResult,
    conley_taber,
    permutation_test,
    randomization_inference,
)
from .recommend import (
    FewClusterReport,
    InferenceRecommendation,
    few_cluster_report,
    recommend_inference,
)
from .wild import WildBootstrapResult, wild_cluster_bootstrap
from .wild_iv import WREResult

__all__ = [
    "ConleyTaberResult",
    "CovarianceResult",
    "Executor",
    "FewClusterReport",
    "InferenceRecommendation",
    "LinearDesign",
    "PlaceboResult",
    "RandomizationResult",
    "WREResult",
    "WildBootstrapResult",
    "available",
    "compute",
    "conley_taber",
    "covariance",
    "few_cluster_report",
    "get_executor",
    "permutation_test",
    "placebo_in_space",
    "placebo_in_time",
    "randomization_inference",
    "recommend_inference",
    "register",
    "shutdown_workers",
    "wild_cluster_bootstrap",
]
