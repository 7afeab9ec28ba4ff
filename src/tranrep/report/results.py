"""The aggregated results folder: reading it, and what it says about problems and methods."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from tranrep.names import DISPLAY_NAMES, PAPER_METHOD_ORDER
from tranrep.paper_values import FILE_NAME as PAPER_VALUES
from tranrep.paper_values import read_paper_values, table_values
from tranrep.report.checks import (
    check_attention,
    check_context,
    check_metrics,
    read_csv,
    read_json_object,
)
from tranrep.report.formatting import as_float, finite

CSV_NAMES = ("summary", "runs", "jobs", "curves")
FALLBACK_TITLES: dict[str, str] = {
    "census_group1": "Census-income group I",
    "census_group2": "Census-income group II",
    "fashion_mnist": "Fashion-MNIST",
    "sarcos": "SARCOS",
}


@dataclass(frozen=True)
class Results:
    """Everything the aggregation step wrote to ``results_dir``."""

    summary: pd.DataFrame
    paper: pd.DataFrame  # the rows of the paper's Tables 1-3, with their table number
    paper_values: pd.DataFrame  # every published value, figures quoted in the text included
    runs: pd.DataFrame
    jobs: pd.DataFrame
    curves: pd.DataFrame
    attention: dict[str, Any]
    context: dict[str, Any]


def load_results(results_dir: Path) -> Results:
    """Read and check the seven result files of ``results_dir`` (see :mod:`.checks`)."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise ValueError(f"{results_dir}: no such results folder; run the aggregate step first")
    paper_values = read_paper_values(results_dir / PAPER_VALUES)
    tables = {name: read_csv(results_dir / f"{name}.csv") for name in CSV_NAMES}
    for name in ("summary", "runs"):
        check_metrics(tables[name], results_dir / f"{name}.csv")
    attention = read_json_object(results_dir / "attention.json")
    check_attention(attention, results_dir / "attention.json")
    context = read_json_object(results_dir / "context.json")
    check_context(context, results_dir / "context.json")
    return Results(
        paper=table_values(paper_values),
        paper_values=paper_values,
        attention=attention,
        context=context,
        **tables,
    )


def unique(values: Iterable[Any]) -> list[Any]:
    """Distinct values in first-seen order, skipping missing ones."""
    seen: dict[Any, None] = {}
    for value in values:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        seen.setdefault(value, None)
    return list(seen)


def is_reduced(context: Mapping[str, Any]) -> bool:
    """Whether SARCOS was run on the reduced (test-file only) data."""
    return str(context.get("sarcos_mode", "standard")).lower() == "reduced"


# --------------------------------------------------------------------------------------------
# Problems


@dataclass(frozen=True)
class ProblemInfo:
    """One multi-task problem: its tasks, metric and the paper table it belongs to."""

    name: str
    title: str
    dataset: str
    tasks: tuple[str, ...]
    metric: str
    table: int | None

    @property
    def is_sarcos(self) -> bool:
        """Whether the problem is built on the SARCOS data."""
        return "sarcos" in self.name.lower() or "sarcos" in self.dataset.lower()


def _table_number(value: Any) -> int | None:
    number = as_float(value)
    return int(number) if finite(number) else None


def _problem_info(name: str, results: Results) -> ProblemInfo:
    """Merge what context.json, the paper's tables and summary.csv say about one problem."""
    ctx = results.context.get("problems", {}).get(name, {})
    paper = results.paper[results.paper["problem"] == name]
    ours = results.summary[results.summary["problem"] == name]
    tasks = unique([*ctx.get("tasks", []), *paper["task"], *ours["task"]])
    metrics = unique([ctx.get("metric"), *paper["metric"], *ours["metric"]])
    tables = unique(
        [_table_number(ctx.get("paper_table"))]
        + [_table_number(v) for v in paper["table"]]
        + [_table_number(v) for v in ours["paper_table"]]
    )
    return ProblemInfo(
        name=name,
        title=str(ctx.get("title") or FALLBACK_TITLES.get(name, name)),
        dataset=str(ctx.get("dataset") or name),
        tasks=tuple(str(t) for t in tasks),
        metric=str(metrics[0]) if metrics else "",
        table=tables[0] if tables else None,
    )


def problem_infos(results: Results) -> dict[str, ProblemInfo]:
    """All problems, in paper order first, then context order, then any others we ran."""
    names = unique(
        [
            *results.paper["problem"],
            *results.context.get("problems", {}),
            *results.summary["problem"],
        ]
    )
    return {str(name): _problem_info(str(name), results) for name in names}


def dataset_title(problem: ProblemInfo) -> str:
    """The data set's part of a problem's title: 'Census-income' of 'Census-income, group I'."""
    return re.split(r",? group ", problem.title, maxsplit=1)[0]


def problem_title(problem: str, infos: Mapping[str, ProblemInfo]) -> str:
    """The problem's display title; its name when the results do not describe it."""
    return infos[problem].title if problem in infos else problem


# --------------------------------------------------------------------------------------------
# Methods


def display_names(context: Mapping[str, Any]) -> dict[str, str]:
    """Display name per method: context.json's when given, else the package's names."""
    names = dict(DISPLAY_NAMES)
    for method, info in context.get("methods", {}).items():
        if isinstance(info, Mapping) and info.get("display_name"):
            names[method] = str(info["display_name"])
    return names


def method_order(methods: Iterable[str], context: Mapping[str, Any]) -> list[str]:
    """Paper row order first, then extra methods in context order, then alphabetically."""
    context_order = list(context.get("methods", {}))

    def key(method: str) -> tuple[int, int, str]:
        if method in PAPER_METHOD_ORDER:
            return (0, PAPER_METHOD_ORDER.index(method), method)
        if method in context_order:
            return (1, context_order.index(method), method)
        return (2, 0, method)

    return sorted(set(methods), key=key)
