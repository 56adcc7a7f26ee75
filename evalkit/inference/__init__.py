"""Inference: variance estimators, bootstraps, randomization inference, the resampling executor."""

from . import covariance
from .covariance import available, compute, register
from .design import LinearDesign

__all__ = ["LinearDesign", "available", "compute", "covariance", "register"]
