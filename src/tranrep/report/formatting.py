"""How the report shows numbers and values, and the conventions of each metric."""

from __future__ import annotations

import math
from typing import Any

HIGHER_IS_BETTER: dict[str, bool] = {"auc": True, "accuracy": True, "rmse": False}
DECIMALS: dict[str, int] = {"auc": 4, "accuracy": 4, "rmse": 3}
METRIC_LABEL: dict[str, str] = {"auc": "AUC", "accuracy": "accuracy", "rmse": "RMSE"}


def as_float(value: Any) -> float:
    """``value`` as a float, NaN when missing or not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def finite(value: float) -> bool:
    return not math.isnan(value) and not math.isinf(value)


def decimals_for(metric: str) -> int:
    """Decimals shown for a metric: 4 for AUC and accuracy, 3 for RMSE."""
    return DECIMALS.get(metric, 4)


def format_value(value: float, metric: str) -> str:
    """A metric value with the metric's decimals; empty when missing."""
    return f"{value:.{decimals_for(metric)}f}" if finite(value) else ""


def format_scalar(value: Any) -> str:
    """A short readable form of a JSON scalar."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def format_duration(seconds: float) -> str:
    """Seconds as '12.3 s' or '1 h 02 min 05 s'."""
    if not finite(seconds):
        return "unknown"
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min {secs:02d} s"
    return f"{minutes} min {secs:02d} s"
