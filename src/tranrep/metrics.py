"""Per-task test metrics: AUC (Census), accuracy (Fashion-MNIST), RMSE in torque units (SARCOS)."""

from __future__ import annotations

import numpy as np

HIGHER_IS_BETTER = {"auc": True, "accuracy": True, "rmse": False}


def task_metric(metric: str, y_true: np.ndarray, y_out: np.ndarray) -> float:
    """The metric of one task from targets and model outputs.

    ``y_out`` holds class probabilities (n, classes) for classification and predictions in the
    original units (n,) for regression.
    """
    if metric == "auc":
        from sklearn.metrics import roc_auc_score  # imported here: only AUC problems pay for it

        return float(roc_auc_score(y_true, y_out[:, 1]))
    if metric == "accuracy":
        return float(np.mean(y_out.argmax(axis=1) == y_true))
    if metric == "rmse":
        return float(np.sqrt(np.mean((y_out - y_true) ** 2)))
    raise ValueError(f"unknown metric {metric!r}; expected auc, accuracy or rmse")


def selection_score(metric: str, values: list[float], scales: list[float]) -> float:
    """One number to maximise for model selection: the task mean, RMSE first divided by the
    target's training standard deviation so that every torque counts alike."""
    if HIGHER_IS_BETTER[metric]:
        return float(np.mean(values))
    return -float(np.mean([v / s for v, s in zip(values, scales, strict=True)]))
