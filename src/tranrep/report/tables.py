"""The paper-style results tables (Tables 1-3): ours beside the paper's, best per column marked."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tranrep.report.figures import slug
from tranrep.report.formatting import (
    HIGHER_IS_BETTER,
    METRIC_LABEL,
    as_float,
    decimals_for,
    finite,
    format_value,
)
from tranrep.report.results import (
    ProblemInfo,
    Results,
    dataset_title,
    is_reduced,
    method_order,
    unique,
)

WIDE_TABLE_COLUMNS = 4


@dataclass(frozen=True)
class Column:
    """One column of a results table: one task of one problem."""

    problem: str
    task: str
    metric: str


@dataclass(frozen=True)
class Cell:
    """Our mean/std over seeds, the paper's value and whether ours is the column's best."""

    metric: str
    mean: float = math.nan
    std: float = math.nan
    n: int = 0
    paper: float = math.nan
    best: bool = False

    @property
    def has_ours(self) -> bool:
        return finite(self.mean)

    @property
    def has_paper(self) -> bool:
        return finite(self.paper)

    @property
    def ours_text(self) -> str:
        """'0.9412 ± 0.0021' (no ± part when the std is missing); empty without a run."""
        if not self.has_ours:
            return ""
        text = format_value(self.mean, self.metric)
        if finite(self.std):
            text += " ± " + format_value(self.std, self.metric)
        return text

    @property
    def n_text(self) -> str:
        return f"n={self.n}" if self.has_ours else ""

    @property
    def paper_text(self) -> str:
        return format_value(self.paper, self.metric)

    @property
    def diff_text(self) -> str:
        """Ours minus paper with an explicit sign; empty unless both exist."""
        if not (self.has_ours and self.has_paper):
            return ""
        return f"{self.mean - self.paper:+.{decimals_for(self.metric)}f}"


@dataclass(frozen=True)
class Row:
    """One method's row of a results table."""

    method: str
    display: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class ColumnGroup:
    """A header spanning the columns of one problem."""

    title: str
    span: int


@dataclass(frozen=True)
class ResultTable:
    """One of the paper's tables with our numbers next to the paper's."""

    key: str
    title: str
    caption: str
    groups: tuple[ColumnGroup, ...]
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    number: int | None = None

    @property
    def group_spans(self) -> list[tuple[ColumnGroup, int, int]]:
        """Each column group with its first and last LaTeX column (the method column is 1)."""
        spans, first = [], 2
        for group in self.groups:
            spans.append((group, first, first + group.span - 1))
            first += group.span
        return spans

    @property
    def wide(self) -> bool:
        """Whether the LaTeX table should be scaled to the text width."""
        return len(self.columns) > WIDE_TABLE_COLUMNS


def _summary_index(summary: pd.DataFrame) -> dict[tuple[str, str, str], dict[str, float]]:
    """summary.csv keyed by (problem, method, task)."""
    index: dict[tuple[str, str, str], dict[str, float]] = {}
    for row in summary.to_dict("records"):
        key = (str(row["problem"]), str(row["method"]), str(row["task"]))
        index[key] = {
            "mean": as_float(row.get("mean")),
            "std": as_float(row.get("std")),
            "n": as_float(row.get("n")),
            "paper": as_float(row.get("paper_value")),
        }
    return index


def _paper_index(paper: pd.DataFrame) -> dict[tuple[str, str, str], float]:
    """The paper's table values keyed by (problem, method, task)."""
    return {
        (str(r["problem"]), str(r["method"]), str(r["task"])): as_float(r["value"])
        for r in paper.to_dict("records")
    }


def _best_flags(means: Sequence[float], metric: str) -> list[bool]:
    """True where a mean equals the column's best (ties all marked)."""
    present = [m for m in means if finite(m)]
    if not present:
        return [False] * len(means)
    best = max(present) if HIGHER_IS_BETTER.get(metric, True) else min(present)
    return [finite(m) and bool(np.isclose(m, best, rtol=0.0, atol=1e-12)) for m in means]


def _build_rows(
    methods: Sequence[str],
    columns: Sequence[Column],
    ours: Mapping[tuple[str, str, str], Mapping[str, float]],
    paper: Mapping[tuple[str, str, str], float],
    display: Mapping[str, str],
) -> tuple[Row, ...]:
    """Rows of one table, with the best 'ours' of each column flagged."""
    grid: list[list[Cell]] = []
    for method in methods:
        cells = []
        for col in columns:
            found = ours.get((col.problem, method, col.task), {})
            paper_value = paper.get((col.problem, method, col.task), math.nan)
            if not finite(paper_value):
                paper_value = found.get("paper", math.nan)
            n = found.get("n", math.nan)
            cells.append(
                Cell(
                    metric=col.metric,
                    mean=found.get("mean", math.nan),
                    std=found.get("std", math.nan),
                    n=int(n) if finite(n) else 0,
                    paper=paper_value,
                )
            )
        grid.append(cells)
    for j, col in enumerate(columns):
        flags = _best_flags([cells[j].mean for cells in grid], col.metric)
        for cells, flag in zip(grid, flags, strict=True):
            if flag:
                cells[j] = Cell(**{**cells[j].__dict__, "best": True})
    return tuple(
        Row(method, display.get(method, method), tuple(cells))
        for method, cells in zip(methods, grid, strict=True)
    )


def _table_caption(problems: Sequence[ProblemInfo], reduced: bool) -> str:
    """Caption naming the data sets and metric and explaining each cell."""
    datasets = ", ".join(unique(dataset_title(p) for p in problems))
    metrics = unique(p.metric for p in problems)
    direction = "; ".join(
        f"{METRIC_LABEL.get(m, m)}: {'higher' if HIGHER_IS_BETTER.get(m, True) else 'lower'}"
        " is better"
        for m in metrics
    )
    caption = (
        f"Performance comparison on {datasets} in terms of "
        f"{', '.join(METRIC_LABEL.get(m, m) for m in metrics)} ({direction}). "
        "Each cell: ours as mean ± std over n seeds, the paper's value, and the difference "
        "ours − paper. Bold: best of ours in the column. Blank or dash: no run, or no "
        "published value."
    )
    if reduced:
        caption += (
            " SARCOS results here were made on REDUCED DATA: the public 4,449-row test file split"
            " into contiguous train/validation/test blocks, because the 44,484-row training file"
            " was unavailable."
        )
    return caption


def _one_table(
    number: int | None,
    title: str,
    problems: Sequence[ProblemInfo],
    results: Results,
    display: Mapping[str, str],
) -> ResultTable:
    """One results table over the columns of ``problems``."""
    ours = _summary_index(results.summary)
    paper = _paper_index(results.paper)
    columns = tuple(Column(p.name, t, p.metric) for p in problems for t in p.tasks)
    keys = set(ours) | set(paper)
    methods = method_order(
        (m for (p, m, t) in keys if any(c.problem == p and c.task == t for c in columns)),
        results.context,
    )
    reduced = is_reduced(results.context) and any(p.is_sarcos for p in problems)
    return ResultTable(
        key=str(number) if number is not None else slug(problems[0].name),
        title=title,
        caption=_table_caption(problems, reduced),
        groups=tuple(ColumnGroup(p.title, len(p.tasks)) for p in problems),
        columns=columns,
        rows=_build_rows(methods, columns, ours, paper, display),
        number=number,
    )


def build_result_tables(
    results: Results, infos: Mapping[str, ProblemInfo], display: Mapping[str, str]
) -> list[ResultTable]:
    """Tables 1-3 as in the paper, plus one extra table per problem the paper lacks."""
    numbered = sorted({p.table for p in infos.values() if p.table is not None})
    tables = [
        _one_table(
            number,
            f"Table {number}",
            [p for p in infos.values() if p.table == number],
            results,
            display,
        )
        for number in numbered
    ]
    for info in infos.values():
        if info.table is None:
            title = f"Additional table: {info.title}"
            tables.append(_one_table(None, title, [info], results, display))
    return tables
