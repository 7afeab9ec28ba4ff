"""The report's plain tables of strings.

Data cards, label correlations, replication choices, parameter counts, method settings,
provenance, and the training jobs with their wall times.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from tranrep.report.formatting import as_float, finite, format_scalar, format_value
from tranrep.report.results import ProblemInfo, problem_title

LONG_LIST = 8


@dataclass(frozen=True)
class SimpleTable:
    """A plain table: a title, header cells and rows of strings."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""

    @property
    def tex_colspec(self) -> str:
        """LaTeX column spec: 'l' for short columns, wrapping 'p' columns for long ones."""
        lengths = [
            max([len(h)] + [len(r[i]) for r in self.rows if i < len(r)])
            for i, h in enumerate(self.header)
        ]
        long_cols = [i for i, n in enumerate(lengths) if n > 30]
        if not long_cols:
            return "l" * len(self.header)
        short = len(self.header) - len(long_cols)
        width = max(0.18, (0.92 - 0.14 * short) / len(long_cols))
        return "".join(
            f"p{{{width:.2f}\\linewidth}}" if i in long_cols else "l"
            for i in range(len(self.header))
        )


def flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Nested dicts as (dotted key, text) pairs; long or nested lists become 'list of N items'."""
    if isinstance(value, Mapping):
        if not value:
            return [(prefix, "(empty)")] if prefix else []
        pairs: list[tuple[str, str]] = []
        for key, inner in value.items():
            pairs.extend(flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
        return pairs
    if isinstance(value, list | tuple):
        nested = any(isinstance(item, Mapping | list | tuple) for item in value)
        if len(value) > LONG_LIST or nested:
            return [(prefix, f"list of {len(value)} items")]
        return [(prefix, ", ".join(format_scalar(item) for item in value))]
    return [(prefix, format_scalar(value))]


def data_card_tables(context: Mapping[str, Any]) -> list[SimpleTable]:
    """One key/value table per dataset card."""
    return [
        SimpleTable(str(dataset), ("field", "value"), tuple(flatten(card)))
        for dataset, card in context.get("data_cards", {}).items()
    ]


def correlation_table(
    context: Mapping[str, Any], infos: Mapping[str, ProblemInfo]
) -> SimpleTable | None:
    """Pearson correlation of the two labels per Census group, ours beside the paper's."""
    rows = []
    for problem, values in context.get("label_correlations", {}).items():
        ours = as_float(values.get("ours"))
        paper = as_float(values.get("paper"))
        size = abs(ours)
        diff = f"{size - paper:+.4f}" if finite(ours) and finite(paper) else ""
        title = problem_title(problem, infos)
        labels = str(values.get("labels", ""))
        rows.append(
            (title, labels, format_value(ours, "auc"), format_value(size, "auc"),
             format_value(paper, "auc"), diff)
        )  # fmt: skip
    if not rows:
        return None
    return SimpleTable(
        "Pearson correlation of the task labels on the training set (the paper quotes its size; "
        "never married goes with lower income and less education, hence our negative sign)",
        ("problem", "labels", "ours", "|ours|", "paper", "|ours| − paper"),
        tuple(rows),
    )


def choices_table(context: Mapping[str, Any]) -> SimpleTable:
    """The replication's own choices, where the paper left a setting open."""
    rows = tuple(
        (
            format_scalar(c.get("setting")),
            format_scalar(c.get("value")),
            format_scalar(c.get("why")),
        )
        for c in context.get("choices", [])
    )
    return SimpleTable("Choices made for this replication", ("setting", "value", "why"), rows)


def _count_range(values: pd.Series) -> str:
    """'12345', or 'a–b' when seeds disagree; empty when missing."""
    clean = pd.to_numeric(values, errors="coerce").dropna()
    if clean.empty:
        return ""
    low, high = int(clean.min()), int(clean.max())
    return f"{low}" if low == high else f"{low}–{high}"


def parameter_table(
    jobs: pd.DataFrame, methods: Sequence[str], infos: Mapping[str, ProblemInfo], display: Any
) -> SimpleTable:
    """Trainable parameter count per method (rows) and problem (columns), from jobs.csv."""
    problems = [p for p in infos if (jobs["problem"] == p).any()]
    rows = []
    for method in methods:
        cells = []
        for problem in problems:
            mask = (jobs["problem"] == problem) & (jobs["method"] == method)
            cells.append(_count_range(jobs.loc[mask, "n_parameters"]))
        if any(cells):
            rows.append((display.get(method, method), *cells))
    header = ("method", *(infos[p].title for p in problems))
    return SimpleTable("Number of trainable parameters", header, tuple(rows))


def method_settings_tables(
    context: Mapping[str, Any], methods: Sequence[str], display: Mapping[str, str]
) -> list[SimpleTable]:
    """One settings table per method that context.json describes."""
    described = context.get("methods", {})
    tables = []
    for method in methods:
        settings = described.get(method, {}).get("settings", {})
        pairs = flatten(settings) or [("(none)", "")]
        pairs += [("choice", note) for note in described.get(method, {}).get("open_choices", [])]
        tables.append(SimpleTable(display.get(method, method), ("setting", "value"), tuple(pairs)))
    return tables


def provenance_tables(provenance: Mapping[str, Any]) -> list[SimpleTable]:
    """Scalar provenance entries in one table, each nested entry in a table of its own."""
    scalars = {k: v for k, v in provenance.items() if not isinstance(v, Mapping)}
    nested = {k: v for k, v in provenance.items() if isinstance(v, Mapping)}
    tables = [SimpleTable("Provenance", ("field", "value"), tuple(flatten(scalars)))]
    for key, value in nested.items():
        tables.append(SimpleTable(str(key), ("name", "value"), tuple(flatten(value))))
    return tables


def _job_sort(jobs: pd.DataFrame, methods: Sequence[str], infos: Mapping[str, Any]) -> pd.DataFrame:
    problem_rank = {p: i for i, p in enumerate(infos)}
    method_rank = {m: i for i, m in enumerate(methods)}
    return jobs.assign(
        _p=jobs["problem"].map(problem_rank).fillna(len(problem_rank)),
        _m=jobs["method"].map(method_rank).fillna(len(method_rank)),
    ).sort_values(["_p", "_m", "seed"])


def _int_text(value: Any) -> str:
    number = as_float(value)
    return str(int(number)) if finite(number) else ""


def job_tables(
    jobs: pd.DataFrame,
    methods: Sequence[str],
    infos: Mapping[str, ProblemInfo],
    display: Mapping[str, str],
) -> tuple[SimpleTable, SimpleTable]:
    """Wall time per (problem, method) in total, and every job of jobs.csv."""
    ordered = _job_sort(jobs, methods, infos)
    per_job = tuple(
        (
            str(r["problem"]),
            display.get(str(r["method"]), str(r["method"])),
            _int_text(r["seed"]),
            f"{as_float(r['wall_time_s']):.1f}",
            _int_text(r["n_parameters"]),
            _int_text(r["best_epoch"]),
            _int_text(r["epochs_run"]),
            format_scalar(r["device"]),
        )
        for r in ordered.to_dict("records")
    )
    header = ("problem", "method", "seed", "wall time (s)", "parameters", "best epoch")
    jobs_table = SimpleTable("Every training job", (*header, "epochs run", "device"), per_job)
    grouped = ordered.groupby(["_p", "_m", "problem", "method"], sort=True)["wall_time_s"]
    totals = tuple(
        (
            str(problem),
            display.get(str(method), str(method)),
            str(int(series.count())),
            f"{series.sum():.1f}",
            f"{series.mean():.1f}",
        )
        for (_, _, problem, method), series in grouped
    )
    total_header = ("problem", "method", "jobs", "total wall time (s)", "mean per job (s)")
    return SimpleTable("Wall time per problem and method", total_header, totals), jobs_table
