"""The ablation section: each ablation's variants beside this run's TRAN-family methods.

An ablation is an experiment of its own (``ablations/<name>.yaml`` sets ``experiment`` and
``run_methods``) that trains only its variants; this run's report reads its aggregated results
and shows, per problem and task, the variants' test metric (mean ± std over seeds) beside the
default TRAN, MH-TRAN and TRAN-static, each row naming the settings that differ from TRAN's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from tranrep.report.checks import check_metrics, read_csv, read_json_object
from tranrep.report.formatting import format_scalar, format_value
from tranrep.report.results import ProblemInfo, Results, problem_title
from tranrep.report.sections import SimpleTable

REFERENCES: tuple[str, ...] = ("tran", "mh_tran", "tran_static")
BASELINE = "tran"


def differences(settings: Mapping[str, Any], baseline: Mapping[str, Any]) -> str:
    """'heads: 2; beta_A: 0' — the settings that differ from the baseline method's."""
    keys = [k for k in settings if k not in ("family", "problems")]
    changed = [k for k in keys if settings.get(k) != baseline.get(k)]
    return "; ".join(f"{k}: {format_scalar(settings[k])}" for k in changed) or "as TRAN"


def _cell(summary: pd.DataFrame, problem: str, method: str, task: str, metric: str) -> str:
    row = summary[
        (summary["problem"] == problem) & (summary["method"] == method) & (summary["task"] == task)
    ]
    if row.empty:
        return ""
    first = row.iloc[0]
    return (
        f"{format_value(first['mean'], metric)} ± {format_value(first['std'], metric)} "
        f"(n={int(first['n'])})"
    )


def ablation_table(
    name: str,
    folder: Path,
    results: Results,
    infos: Mapping[str, ProblemInfo],
    names: Mapping[str, str],
) -> SimpleTable:
    """One ablation's variants and this run's references, one column per (problem, task)."""
    summary = read_csv(folder / "summary.csv")
    check_metrics(summary, folder / "summary.csv")
    context = read_json_object(folder / "context.json")
    methods = context.get("methods", {})
    baseline = results.context.get("methods", {}).get(BASELINE, {}).get("settings", {})
    columns = [(p, t, info.metric) for p, info in infos.items() for t in info.tasks]
    rows = []
    for method in REFERENCES:
        if (results.summary["method"] == method).any():
            label = f"{names.get(method, method)} (this run)"
            rows.append(
                (label, "reference", *(_cell(results.summary, p, method, t, m)
                                       for p, t, m in columns))
            )  # fmt: skip
    for method in dict.fromkeys(summary["method"].astype(str)):
        settings = methods.get(method, {}).get("settings", {})
        cells = (_cell(summary, p, method, t, m) for p, t, m in columns)
        rows.append((method, differences(settings, baseline), *cells))
    header = ("method", "differs from TRAN in",
              *(f"{problem_title(p, infos)}: {t}" for p, t, _ in columns))  # fmt: skip
    return SimpleTable(
        f"Ablation {name} (results in {folder})",
        header,
        tuple(rows),
        note="Test metric, mean ± std over n seeds; AUC and accuracy: higher is better, RMSE: "
        "lower is better.",
    )


def ablation_tables(
    folders: Sequence[tuple[str, Path]],
    results: Results,
    infos: Mapping[str, ProblemInfo],
    names: Mapping[str, str],
) -> list[SimpleTable]:
    """A table per ablation results folder given to the report."""
    return [ablation_table(name, folder, results, infos, names) for name, folder in folders]
