"""Render the replication report (HTML and LaTeX) from an aggregated results folder.

The entry point is :func:`render_report`. It reads ``summary.csv``, ``paper_results.csv``,
``runs.csv``, ``jobs.csv``, ``curves.csv``, ``attention.json`` and ``context.json``, draws the
figures, and fills the two Jinja templates in ``templates/``. Both documents show the same
sections, built once as a plain view model.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd

from tranrep.report.figures import (
    FigureOutput,
    attention_mean_figure,
    attention_samples_figure,
    slug,
    training_curve_figure,
    write_atomic,
)

log = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).with_name("templates")
HTML_TEMPLATE = "replication.html.j2"
TEX_TEMPLATE = "replication.tex.j2"
PAPER_TITLE = (
    "Adaptive and Dynamic Knowledge Transfer in Multi-task Learning with Attention Networks"
)

PAPER_METHOD_ORDER: tuple[str, ...] = (
    "lasso",
    "bayesian",
    "nn",
    "shared_bottom",
    "l2_constrained",
    "cross_stitch",
    "mmoe",
    "mran",
    "tran",
    "mh_tran",
)
FALLBACK_DISPLAY: dict[str, str] = {
    "lasso": "LASSO",
    "bayesian": "Bayesian",
    "nn": "NN",
    "shared_bottom": "Shared-bottom",
    "l2_constrained": "L2-Norm",
    "cross_stitch": "CSN",
    "mmoe": "MMoE",
    "mran": "MRAN",
    "tran": "TRAN",
    "mh_tran": "MH-TRAN",
    "tran_static": "TRAN-static",
}
FALLBACK_TITLES: dict[str, str] = {
    "census_group1": "Census-income group I",
    "census_group2": "Census-income group II",
    "fashion_mnist": "Fashion-MNIST",
    "sarcos": "SARCOS",
}
PROPOSED: tuple[str, ...] = ("tran", "mh_tran")
HIGHER_IS_BETTER: dict[str, bool] = {"auc": True, "accuracy": True, "rmse": False}
DECIMALS: dict[str, int] = {"auc": 4, "accuracy": 4, "rmse": 3}
METRIC_LABEL: dict[str, str] = {"auc": "AUC", "accuracy": "accuracy", "rmse": "RMSE"}
LONG_LIST = 8
WIDE_TABLE_COLUMNS = 4
REDUCED_SARCOS_TEXT = (
    "Every SARCOS number in this report was made on REDUCED DATA: the 44,484-row SARCOS "
    "training file was unavailable, so the public 4,449-row test file was split into contiguous "
    "train/validation/test blocks. These numbers are not directly comparable with the paper's "
    "Table 3."
)


# --------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True)
class Results:
    """Everything the aggregation step wrote to ``results_dir``."""

    summary: pd.DataFrame
    paper: pd.DataFrame
    runs: pd.DataFrame
    jobs: pd.DataFrame
    curves: pd.DataFrame
    attention: dict[str, Any]
    context: dict[str, Any]


def load_results(results_dir: Path) -> Results:
    """Read the seven result files of ``results_dir``."""
    results_dir = Path(results_dir)

    def read_json(name: str) -> dict[str, Any]:
        return json.loads((results_dir / name).read_text(encoding="utf-8"))

    return Results(
        summary=pd.read_csv(results_dir / "summary.csv"),
        paper=pd.read_csv(results_dir / "paper_results.csv", comment="#"),
        runs=pd.read_csv(results_dir / "runs.csv"),
        jobs=pd.read_csv(results_dir / "jobs.csv"),
        curves=pd.read_csv(results_dir / "curves.csv"),
        attention=read_json("attention.json"),
        context=read_json("context.json"),
    )


def _unique(values: Iterable[Any]) -> list[Any]:
    """Distinct values in first-seen order, skipping missing ones."""
    seen: dict[Any, None] = {}
    for value in values:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        seen.setdefault(value, None)
    return list(seen)


def _as_float(value: Any) -> float:
    """``value`` as a float, NaN when missing or not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _finite(value: float) -> bool:
    return not math.isnan(value) and not math.isinf(value)


# --------------------------------------------------------------------------------------------
# Problems and methods


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
    number = _as_float(value)
    return int(number) if _finite(number) else None


def _problem_info(name: str, results: Results) -> ProblemInfo:
    """Merge what context.json, paper_results.csv and summary.csv say about one problem."""
    ctx = results.context.get("problems", {}).get(name, {})
    paper = results.paper[results.paper["problem"] == name]
    ours = results.summary[results.summary["problem"] == name]
    tasks = _unique([*ctx.get("tasks", []), *paper["task"], *ours["task"]])
    metrics = _unique([ctx.get("metric"), *paper["metric"], *ours["metric"]])
    tables = _unique(
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
    names = _unique(
        [
            *results.paper["problem"],
            *results.context.get("problems", {}),
            *results.summary["problem"],
        ]
    )
    return {str(name): _problem_info(str(name), results) for name in names}


def display_names(context: Mapping[str, Any]) -> dict[str, str]:
    """Display name per method: context.json's when given, else the fallback map."""
    names = dict(FALLBACK_DISPLAY)
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


# --------------------------------------------------------------------------------------------
# Number formatting


def decimals_for(metric: str) -> int:
    """Decimals shown for a metric: 4 for AUC and accuracy, 3 for RMSE."""
    return DECIMALS.get(metric, 4)


def format_value(value: float, metric: str) -> str:
    """A metric value with the metric's decimals; empty when missing."""
    return f"{value:.{decimals_for(metric)}f}" if _finite(value) else ""


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
    if not _finite(seconds):
        return "unknown"
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min {secs:02d} s"
    return f"{minutes} min {secs:02d} s"


# --------------------------------------------------------------------------------------------
# Results tables (Tables 1-3)


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
        return _finite(self.mean)

    @property
    def has_paper(self) -> bool:
        return _finite(self.paper)

    @property
    def ours_text(self) -> str:
        """'0.9412 ± 0.0021' (no ± part when the std is missing); empty without a run."""
        if not self.has_ours:
            return ""
        text = format_value(self.mean, self.metric)
        if _finite(self.std):
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
            "mean": _as_float(row.get("mean")),
            "std": _as_float(row.get("std")),
            "n": _as_float(row.get("n")),
            "paper": _as_float(row.get("paper_value")),
        }
    return index


def _paper_index(paper: pd.DataFrame) -> dict[tuple[str, str, str], float]:
    """paper_results.csv keyed by (problem, method, task)."""
    return {
        (str(r["problem"]), str(r["method"]), str(r["task"])): _as_float(r["value"])
        for r in paper.to_dict("records")
    }


def _best_flags(means: Sequence[float], metric: str) -> list[bool]:
    """True where a mean equals the column's best (ties all marked)."""
    finite = [m for m in means if _finite(m)]
    if not finite:
        return [False] * len(means)
    best = max(finite) if HIGHER_IS_BETTER.get(metric, True) else min(finite)
    return [_finite(m) and bool(np.isclose(m, best, rtol=0.0, atol=1e-12)) for m in means]


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
            if not _finite(paper_value):
                paper_value = found.get("paper", math.nan)
            n = found.get("n", math.nan)
            cells.append(
                Cell(
                    metric=col.metric,
                    mean=found.get("mean", math.nan),
                    std=found.get("std", math.nan),
                    n=int(n) if _finite(n) else 0,
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
    datasets = ", ".join(_unique(p.title.split(" group ")[0] for p in problems))
    metrics = _unique(p.metric for p in problems)
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
    reduced = _is_reduced(results.context) and any(p.is_sarcos for p in problems)
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


# --------------------------------------------------------------------------------------------
# Summary statement


@dataclass(frozen=True)
class WinCount:
    """In how many cells a method (or either proposed method) beat every comparator."""

    label: str
    wins: int
    cells: int


def _beats(value: float, others: Iterable[float], metric: str) -> bool:
    """Whether ``value`` is strictly better than each of ``others``."""
    higher = HIGHER_IS_BETTER.get(metric, True)
    return all(value > o if higher else value < o for o in others)


def _column_values(table: ResultTable, j: int, value: Callable[[Cell], float]) -> dict[str, float]:
    """Finite values of column ``j`` by method."""
    out = {}
    for row in table.rows:
        v = value(row.cells[j])
        if _finite(v):
            out[row.method] = v
    return out


def count_wins(
    tables: Sequence[ResultTable],
    value: Callable[[Cell], float],
    display: Mapping[str, str],
) -> list[WinCount]:
    """Cells where TRAN, MH-TRAN, or either of them beat every non-proposed method present.

    A cell counts only when the candidate has a value and at least one other method has one.
    """
    candidates: list[tuple[str, tuple[str, ...]]] = [(m, (m,)) for m in PROPOSED]
    candidates.append(("either", PROPOSED))
    counts = []
    for label, members in candidates:
        wins = cells = 0
        for table in tables:
            for j, col in enumerate(table.columns):
                values = _column_values(table, j, value)
                others = [v for m, v in values.items() if m not in PROPOSED]
                mine = [values[m] for m in members if m in values]
                if not mine or not others:
                    continue
                cells += 1
                wins += any(_beats(v, others, col.metric) for v in mine)
        name = display.get(label, label) if label != "either" else "either"
        counts.append(WinCount(name, wins, cells))
    return counts


def _count_phrase(count: WinCount) -> str:
    return f"{count.wins} of {count.cells}" if count.cells else "none (no comparable cell)"


def win_statement(tables: Sequence[ResultTable], display: Mapping[str, str]) -> str:
    """The summary paragraph: where TRAN / MH-TRAN beat every other method, ours and paper's."""
    ours = count_wins(tables, lambda c: c.mean, display)
    paper = count_wins(tables, lambda c: c.paper, display)
    tran, mh, either = ours
    return (
        "We count a table cell (one task of one problem) as won when a method's mean over "
        "seeds beats the mean of every other method we ran; TRAN and MH-TRAN are not counted "
        f"against each other. {tran.label} won {_count_phrase(tran)} cells, {mh.label} "
        f"{_count_phrase(mh)}, and at least one of the two {_count_phrase(either)}. On the "
        "paper's published values, against every method in its tables, the same counts are "
        f"{_count_phrase(paper[0])}, {_count_phrase(paper[1])} and {_count_phrase(paper[2])}."
    )


# --------------------------------------------------------------------------------------------
# Generic key/value tables (data cards, settings, provenance, jobs)


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
        ours = _as_float(values.get("ours"))
        paper = _as_float(values.get("paper"))
        diff = f"{ours - paper:+.4f}" if _finite(ours) and _finite(paper) else ""
        title = infos[problem].title if problem in infos else problem
        rows.append((title, format_value(ours, "auc"), format_value(paper, "auc"), diff))
    if not rows:
        return None
    return SimpleTable(
        "Pearson correlation of the task labels",
        ("problem", "ours", "paper", "ours − paper"),
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
    number = _as_float(value)
    return str(int(number)) if _finite(number) else ""


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
            f"{_as_float(r['wall_time_s']):.1f}",
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


# --------------------------------------------------------------------------------------------
# Figures


@dataclass(frozen=True)
class FigureGroup:
    """Figures shown together (e.g. TRAN and MH-TRAN attention for one problem)."""

    title: str
    figures: tuple[FigureOutput, ...]
    note: str = ""
    single_width: float = 0.6

    @property
    def tex_width(self) -> str:
        """Width of each image in LaTeX, as a fraction of the line width."""
        if len(self.figures) == 1:
            return f"{self.single_width:.2f}"
        return f"{0.96 / len(self.figures):.2f}"


def _attention_methods(attention: Mapping[str, Any], context: Mapping[str, Any]) -> list[str]:
    methods = {m for per_problem in attention.values() for m in per_problem}
    return method_order(methods, context)


def figure2(
    results: Results,
    infos: Mapping[str, ProblemInfo],
    display: Mapping[str, str],
    out_dir: Path,
) -> list[FigureGroup]:
    """Mean attention heatmaps, one per (problem, method), grouped by problem."""
    groups = []
    methods = _attention_methods(results.attention, results.context)
    for problem in _unique([*infos, *results.attention]):
        entries = results.attention.get(problem, {})
        title = infos[problem].title if problem in infos else problem
        figures = []
        for method in (m for m in methods if m in entries):
            entry = entries[method]
            name = display.get(method, method)
            caption = (
                f"{name}, {title}: attention matrix A averaged over test samples and "
                f"{entry.get('heads', 1)} head(s), seed-0 run."
            )
            path = out_dir / f"fig2-attention-{slug(problem)}-{slug(method)}.png"
            figures.append(attention_mean_figure(entry, f"{name} — {title}", caption, path))
        if figures:
            groups.append(FigureGroup(title, tuple(figures)))
    return groups


def _std_note(entry: Mapping[str, Any]) -> str:
    """Mean and max of the per-entry std of A across test samples."""
    values = np.asarray(entry.get("per_entry_std") or [], dtype=float)
    if values.size == 0 or not np.isfinite(values).any():
        return "No per-entry standard deviation was recorded."
    return (
        "Std of each entry of A across all test samples: mean "
        f"{np.nanmean(values):.4f}, max {np.nanmax(values):.4f}."
    )


def figure3(
    results: Results,
    infos: Mapping[str, ProblemInfo],
    display: Mapping[str, str],
    out_dir: Path,
) -> list[FigureGroup]:
    """Per-sample SARCOS attention grids (up to eight samples), one per method."""
    groups = []
    methods = _attention_methods(results.attention, results.context)
    sarcos = [p for p in results.attention if p in infos and infos[p].is_sarcos]
    sarcos += [p for p in results.attention if p not in infos and "sarcos" in p.lower()]
    for problem in sarcos:
        entries = results.attention[problem]
        title = infos[problem].title if problem in infos else problem
        for method in (m for m in methods if m in entries):
            name = display.get(method, method)
            caption = (
                f"{name}, {title}: attention matrices of individual test samples "
                "(heads averaged), seed-0 run."
            )
            path = out_dir / f"fig3-samples-{slug(problem)}-{slug(method)}.png"
            figure = attention_samples_figure(entries[method], f"{name} — {title}", caption, path)
            if figure is not None:
                note = _std_note(entries[method])
                groups.append(FigureGroup(f"{name} — {title}", (figure,), note, 1.0))
    return groups


def curve_figures(
    results: Results,
    infos: Mapping[str, ProblemInfo],
    display: Mapping[str, str],
    out_dir: Path,
) -> list[FigureOutput]:
    """One validation-curve plot per problem."""
    curves = results.curves
    methods = method_order(curves["method"].astype(str).unique(), results.context)
    figures = []
    for problem in _unique([*infos, *curves["problem"].astype(str)]):
        subset = curves[curves["problem"] == problem]
        if subset.empty:
            continue
        info = infos.get(problem)
        title = info.title if info else problem
        metric = METRIC_LABEL.get(info.metric, info.metric) if info else "metric"
        caption = (
            f"{title}: validation {metric} by epoch; line = mean over seeds, band = min–max "
            "over seeds."
        )
        path = out_dir / f"curves-{slug(problem)}.png"
        figure = training_curve_figure(subset, methods, display, metric, title, caption, path)
        if figure is not None:
            figures.append(figure)
    return figures


# --------------------------------------------------------------------------------------------
# LaTeX escaping


class RawTex(str):
    """A string that is already LaTeX and must not be escaped again."""

    __slots__ = ()


TEX_SPECIAL: dict[str, str] = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "\t": " ",
    "\n": " ",
    "\r": " ",
}
TEX_UNICODE: dict[str, str] = {
    "±": r"$\pm$",
    "−": "$-$",
    "×": r"$\times$",
    "÷": r"$\div$",
    "≤": r"$\leq$",
    "≥": r"$\geq$",
    "≈": r"$\approx$",
    "→": r"$\rightarrow$",
    "←": r"$\leftarrow$",
    "Δ": r"$\Delta$",
    "α": r"$\alpha$",
    "β": r"$\beta$",
    "λ": r"$\lambda$",
    "σ": r"$\sigma$",
    "µ": r"$\mu$",
    "μ": r"$\mu$",
    "∞": r"$\infty$",
    "·": r"$\cdot$",
    "°": r"$^{\circ}$",
    "²": r"$^{2}$",
    "–": "--",
    "—": "---",
    "…": r"\ldots{}",
    "“": "``",
    "”": "''",
    "‘": "`",
    "’": "'",
    "\u00a0": "~",
}
BREAK_EVERY = 8
LONG_TOKEN = 20


def _tex_char(char: str) -> str:
    """One character as pdflatex-safe text (T1 fontenc, utf8 input)."""
    if char in TEX_SPECIAL:
        return TEX_SPECIAL[char]
    if char in TEX_UNICODE:
        return TEX_UNICODE[char]
    if ord(char) < 128 or "\u00c0" <= char <= "\u00ff":
        return char
    log.debug("replacing %r, which pdflatex cannot typeset, with '?'", char)
    return "?"


def tex_escape(value: Any) -> str:
    """Escape every LaTeX special character of ``str(value)``; RawTex passes through."""
    if isinstance(value, RawTex):
        return str(value)
    text = "" if value is None else str(value)
    return "".join(_tex_char(c) for c in text)


def tex_breakable(value: Any) -> RawTex:
    """Escaped text in which long unbroken tokens (hashes, paths) may wrap."""
    pieces = []
    for token in str(value).split(" "):
        if len(token) <= LONG_TOKEN:
            pieces.append(tex_escape(token))
            continue
        chunks = [token[i : i + BREAK_EVERY] for i in range(0, len(token), BREAK_EVERY)]
        pieces.append(r"\allowbreak{}".join(tex_escape(c) for c in chunks))
    return RawTex(" ".join(pieces))


def latex_environment(template_dir: Path) -> jinja2.Environment:
    """Jinja environment with LaTeX-friendly delimiters that escapes every output value."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_dir),
        block_start_string=r"\BLOCK{",
        block_end_string="}",
        variable_start_string=r"\VAR{",
        variable_end_string="}",
        comment_start_string=r"\#{",
        comment_end_string="}",
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        finalize=tex_escape,
    )
    env.filters["breakable"] = tex_breakable
    env.filters["raw"] = RawTex
    return env


# --------------------------------------------------------------------------------------------
# View model and rendering


@dataclass
class ReportView:
    """Everything both templates show."""

    title: str
    experiment: str
    generated_at: str
    seeds_text: str
    n_jobs: int
    total_wall: str
    statement: str
    reduced: bool
    reduced_text: str
    tables: list[ResultTable]
    fig2: list[FigureGroup]
    fig3: list[FigureGroup]
    curves: list[FigureOutput]
    data_cards: list[SimpleTable]
    correlations: SimpleTable | None
    choices: SimpleTable
    parameters: SimpleTable
    method_settings: list[SimpleTable]
    provenance: list[SimpleTable]
    wall_per_method: SimpleTable
    jobs: SimpleTable


def _is_reduced(context: Mapping[str, Any]) -> bool:
    return str(context.get("sarcos_mode", "standard")).lower() == "reduced"


def _seeds_text(results: Results) -> str:
    source = results.runs if "seed" in results.runs else results.jobs
    seeds = sorted(int(s) for s in pd.to_numeric(source["seed"], errors="coerce").dropna().unique())
    return f"{len(seeds)} ({', '.join(str(s) for s in seeds)})" if seeds else "0"


def _total_wall(results: Results) -> str:
    seconds = _as_float(results.context.get("total_wall_time_s"))
    if not _finite(seconds):
        seconds = float(pd.to_numeric(results.jobs["wall_time_s"], errors="coerce").sum())
    return f"{format_duration(seconds)} ({seconds:,.0f} s)"


def build_view(results: Results, figures_dir: Path) -> ReportView:
    """Compute every section of the report and draw its figures."""
    context = results.context
    infos = problem_infos(results)
    display = display_names(context)
    tables = build_result_tables(results, infos, display)
    ran = _unique([*results.summary["method"], *results.jobs["method"]])
    methods = method_order([*ran, *context.get("methods", {})], context)
    wall_per_method, jobs = job_tables(results.jobs, methods, infos, display)
    provenance = context.get("provenance", {})
    return ReportView(
        title=f"Replication report: {PAPER_TITLE} (Ma and Tan)",
        experiment=str(context.get("experiment", "")),
        generated_at=str(provenance.get("generated_at", "")),
        seeds_text=_seeds_text(results),
        n_jobs=len(results.jobs),
        total_wall=_total_wall(results),
        statement=win_statement(tables, display),
        reduced=_is_reduced(context),
        reduced_text=REDUCED_SARCOS_TEXT,
        tables=tables,
        fig2=figure2(results, infos, display, figures_dir),
        fig3=figure3(results, infos, display, figures_dir),
        curves=curve_figures(results, infos, display, figures_dir),
        data_cards=data_card_tables(context),
        correlations=correlation_table(context, infos),
        choices=choices_table(context),
        parameters=parameter_table(results.jobs, method_order(ran, context), infos, display),
        method_settings=method_settings_tables(context, methods, display),
        provenance=provenance_tables(provenance),
        wall_per_method=wall_per_method,
        jobs=jobs,
    )


def render_html(view: ReportView) -> str:
    """Fill the HTML template (autoescaped)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template(HTML_TEMPLATE).render(view=view)


def render_tex(view: ReportView, tex_path: Path) -> str:
    """Fill the LaTeX template; every value is escaped unless marked as raw LaTeX."""
    env = latex_environment(TEMPLATE_DIR)
    folder = Path(tex_path).parent

    def graphic(figure: FigureOutput) -> str:
        return figure.relative_to(folder)

    return env.get_template(TEX_TEMPLATE).render(view=view, graphic=graphic)


def render_report(results_dir: Path, html_path: Path, tex_path: Path, figures_dir: Path) -> None:
    """Build the replication report from ``results_dir``.

    Writes ``html_path`` (self-contained, figures embedded), ``tex_path`` (pdflatex, figures
    included from ``figures_dir`` relative to the .tex file) and the PNG figures. Every file is
    written atomically.
    """
    html_path, tex_path, figures_dir = Path(html_path), Path(tex_path), Path(figures_dir)
    log.info("rendering report from %s", results_dir)
    results = load_results(Path(results_dir))
    figures_dir.mkdir(parents=True, exist_ok=True)
    view = build_view(results, figures_dir)
    write_atomic(html_path, render_html(view).encode("utf-8"))
    log.info("wrote %s", html_path)
    write_atomic(tex_path, render_tex(view, tex_path).encode("utf-8"))
    log.info("wrote %s", tex_path)
