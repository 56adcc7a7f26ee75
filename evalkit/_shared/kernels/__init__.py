"""The numerical kernel every estimator shares.

- :mod:`.absorb`: absorbing fixed effects (:class:`OneWayAbsorber`, :class:`TwoWayAbsorber`:
  weighted or not, balanced or not) and :func:`codes_of`;
- :mod:`.sums`: group sums of rows (:func:`segment_sums`, :func:`label_sums`) and cluster sums of
  a design's scores (:func:`cluster_score_sums`);
- :mod:`.draws`: wild-bootstrap weights (:func:`draw_weights`, :func:`enumerated_weights`) and
  multiplier-bootstrap draws (:func:`multiplier_draws`).

A fix here reaches every estimator; nothing in evalkit computes these a second time.
"""

from .absorb import OneWayAbsorber, TwoWayAbsorber, codes_of
from .draws import draw_weights, enumerated_weights, multiplier_draws
from .sums import cluster_score_sums, label_sums, segment_sums

__all__ = [
    "OneWayAbsorber",
    "TwoWayAbsorber",
    "cluster_score_sums",
    "codes_of",
    "draw_weights",
    "enumerated_weights",
    "label_sums",
    "multiplier_draws",
    "segment_sums",
]
