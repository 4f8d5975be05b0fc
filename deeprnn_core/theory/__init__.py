"""What the mean-field theory predicts (``theory.mean_field``), and the phase diagram it is
checked on (``theory.phase``). ``from deeprnn_core.theory import predict`` reads the former."""

from deeprnn_core.theory.mean_field import (
    SCOPE,
    Prediction,
    gaussian_equivalent,
    predict,
    scope_gap,
    stationary,
)

__all__ = ["SCOPE", "Prediction", "gaussian_equivalent", "predict", "scope_gap", "stationary"]
