"""Checks of an aggregated results folder before anything is drawn from it.

The report's verdicts depend on every column it reads: a missing seed column would pair runs by
row order, an unknown metric would flip which direction is better. So each file is checked for
the columns and types the report uses, and a problem raises ``ValueError`` naming the file, the
field and what was expected.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from tranrep.io import read_json
from tranrep.report.formatting import HIGHER_IS_BETTER

NUMERIC = "number"
TEXT = "text"
# The columns the report reads from each CSV file, and their kind.
CSV_COLUMNS: dict[str, dict[str, str]] = {
    "summary.csv": {"problem": TEXT, "method": TEXT, "task": TEXT, "metric": TEXT,
                    "mean": NUMERIC, "std": NUMERIC, "n": NUMERIC},
    "runs.csv": {"problem": TEXT, "method": TEXT, "seed": NUMERIC, "task": TEXT,
                 "metric": TEXT, "value": NUMERIC},
    "jobs.csv": {"problem": TEXT, "method": TEXT, "seed": NUMERIC, "wall_time_s": NUMERIC,
                 "n_parameters": NUMERIC, "best_epoch": NUMERIC, "epochs_run": NUMERIC},
    "curves.csv": {"problem": TEXT, "method": TEXT, "seed": NUMERIC, "epoch": NUMERIC,
                   "val_metric": NUMERIC},
}  # fmt: skip
UNIQUE_KEYS: dict[str, tuple[str, ...]] = {
    "summary.csv": ("problem", "method", "task"),
    "runs.csv": ("problem", "method", "seed", "task"),
    "jobs.csv": ("problem", "method", "seed"),
}
SARCOS_MODES = ("standard", "reduced")


def read_csv(path: Path) -> pd.DataFrame:
    """A CSV file of the results folder, with its columns checked; errors name the file."""
    try:
        frame = pd.read_csv(path, comment="#")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not a readable CSV file ({error})") from error
    check_columns(frame, path, CSV_COLUMNS.get(path.name, {}))
    check_unique(frame, path, UNIQUE_KEYS.get(path.name, ()))
    return frame


def check_unique(frame: pd.DataFrame, path: Path, keys: Sequence[str]) -> None:
    """No two rows share the values of ``keys``."""
    if not keys:
        return
    repeated = frame[frame.duplicated(list(keys), keep=False)]
    if not repeated.empty:
        first = repeated.iloc[0]
        raise ValueError(
            f"{path}: {len(repeated)} rows repeat the key ({', '.join(keys)}), e.g. "
            f"{tuple(first[k] for k in keys)}; expected one row per key"
        )


def check_columns(frame: pd.DataFrame, path: Path, columns: Mapping[str, str]) -> None:
    """Every column of ``columns`` present; numeric ones hold numbers (or are empty)."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; expected {list(columns)}")
    for column, kind in columns.items():
        if kind != NUMERIC:
            continue
        values = frame[column]
        converted = pd.to_numeric(values, errors="coerce")
        bad = values[converted.isna() & values.notna()]
        if not bad.empty:
            raise ValueError(
                f"{path}: column {column!r} holds {bad.iloc[0]!r} (row {bad.index[0] + 2}); "
                "expected a number"
            )
        frame[column] = converted


def check_metrics(frame: pd.DataFrame, path: Path) -> None:
    """Metric names the report knows the direction of (higher or lower is better)."""
    unknown = sorted(set(frame["metric"].astype(str)) - set(HIGHER_IS_BETTER))
    if unknown:
        raise ValueError(
            f"{path}: column 'metric' holds {unknown}; expected one of {sorted(HIGHER_IS_BETTER)}"
        )


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON object of the results folder; errors name the file."""
    try:
        value = read_json(path)
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text ({error})") from error
    if not isinstance(value, dict):
        raise ValueError(f"{path}: expected a JSON object, found {type(value).__name__}")
    return value


def check_context(context: Mapping[str, Any], path: Path) -> None:
    """The fields of context.json whose value changes what the report concludes."""
    mode = context.get("sarcos_mode")
    if mode not in SARCOS_MODES:
        raise ValueError(f"{path}: sarcos_mode is {mode!r}; expected one of {list(SARCOS_MODES)}")
    for key in ("problems", "methods", "report"):
        if not isinstance(context.get(key), Mapping):
            raise ValueError(f"{path}: {key} is missing or not an object; expected an object")
    alpha = context["report"].get("alpha")
    if not isinstance(alpha, int | float) or not 0 < alpha < 1 or math.isnan(alpha):
        raise ValueError(f"{path}: report.alpha is {alpha!r}; expected a number in (0, 1)")


def check_attention(attention: Mapping[str, Any], path: Path) -> None:
    """Each recorded A is K×K for its K tasks, with entries in [0, 1]."""
    for problem, methods in attention.items():
        if not isinstance(methods, Mapping):
            raise ValueError(f"{path}: {problem} is not an object of methods")
        for method, entry in methods.items():
            where = f"{path}: {problem}.{method}"
            k = len(entry.get("tasks", []))
            matrices: list[tuple[str, Sequence]] = [("mean", entry.get("mean", []))]
            for seed, stats in (entry.get("per_seed") or {}).items():
                if not str(seed).lstrip("-").isdigit():
                    raise ValueError(f"{where}.per_seed: key {seed!r}; expected a seed number")
                matrices.append((f"per_seed.{seed}.mean", stats.get("mean", [])))
            for name, matrix in matrices:
                frame = pd.DataFrame(matrix)
                if frame.shape != (k, k):
                    raise ValueError(
                        f"{where}.{name}: shape {frame.shape}; expected ({k}, {k}) for its tasks"
                    )
                values = frame.to_numpy(dtype=float)
                if not ((values >= -1e-6) & (values <= 1 + 1e-6)).all():
                    raise ValueError(f"{where}.{name}: entries outside [0, 1]; A is a softmax")
