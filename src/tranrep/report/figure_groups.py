"""The report's figures: which to draw, their captions, and how they are grouped.

Figure 2 (mean attention per problem and method), Figure 3 (per-sample SARCOS attention) and the
validation curves. The drawing itself is in :mod:`tranrep.report.figures`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tranrep.report.figures import (
    FigureOutput,
    attention_mean_figure,
    attention_samples_figure,
    slug,
    training_curve_figure,
)
from tranrep.report.formatting import METRIC_LABEL
from tranrep.report.results import ProblemInfo, Results, method_order, problem_title, unique


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


@dataclass(frozen=True)
class AttentionPlot:
    """One method's attention.json entry for one problem, with the names it is shown under."""

    problem: str
    method: str
    title: str  # the problem's display title
    name: str  # the method's display name
    entry: Mapping[str, Any]

    @property
    def heading(self) -> str:
        return f"{self.name} — {self.title}"

    @property
    def run(self) -> str:
        """The training run the matrices come from, for a caption."""
        seed = self.entry.get("seed")
        return f"seed-{seed} run" if seed is not None else "first seed's run"

    def path(self, out_dir: Path, figure: str) -> Path:
        return out_dir / f"{figure}-{slug(self.problem)}-{slug(self.method)}.png"


def _std_note(entry: Mapping[str, Any]) -> str:
    """Mean and max of the per-entry std of A across test samples."""
    values = np.asarray(entry.get("per_entry_std") or [], dtype=float)
    if values.size == 0 or not np.isfinite(values).any():
        return "No per-entry standard deviation was recorded."
    return (
        "Std of each entry of A across all test samples: mean "
        f"{np.nanmean(values):.4f}, max {np.nanmax(values):.4f}."
    )


@dataclass(frozen=True)
class ReportFigures:
    """Draws the report's figures from the results into ``out_dir``."""

    results: Results
    infos: Mapping[str, ProblemInfo]
    display: Mapping[str, str]
    out_dir: Path

    def attention_plots(self, problem: str) -> list[AttentionPlot]:
        """The attention entries of ``problem``, one per method, in table row order."""
        attention = self.results.attention
        methods = {m for per_problem in attention.values() for m in per_problem}
        entries = attention.get(problem, {})
        title = problem_title(problem, self.infos)
        return [
            AttentionPlot(problem, method, title, self.display.get(method, method), entries[method])
            for method in method_order(methods, self.results.context)
            if method in entries
        ]

    def figure2(self) -> list[FigureGroup]:
        """Mean attention heatmaps, one per (problem, method), grouped by problem."""
        groups = []
        for problem in unique([*self.infos, *self.results.attention]):
            figures = []
            for plot in self.attention_plots(problem):
                caption = (
                    f"{plot.name}, {plot.title}: attention matrix A averaged over test samples "
                    f"and {plot.entry.get('heads', 1)} head(s), {plot.run}."
                )
                path = plot.path(self.out_dir, "fig2-attention")
                figures.append(attention_mean_figure(plot.entry, plot.heading, caption, path))
            if figures:
                groups.append(FigureGroup(problem_title(problem, self.infos), tuple(figures)))
        return groups

    def figure3(self) -> list[FigureGroup]:
        """Per-sample SARCOS attention grids (up to eight samples), one per method."""
        attention, infos = self.results.attention, self.infos
        sarcos = [p for p in attention if p in infos and infos[p].is_sarcos]
        sarcos += [p for p in attention if p not in infos and "sarcos" in p.lower()]
        groups = []
        for problem in sarcos:
            for plot in self.attention_plots(problem):
                caption = (
                    f"{plot.name}, {plot.title}: attention matrices of individual test samples "
                    f"(heads averaged), {plot.run}."
                )
                path = plot.path(self.out_dir, "fig3-samples")
                figure = attention_samples_figure(plot.entry, plot.heading, caption, path)
                if figure is not None:
                    note = _std_note(plot.entry)
                    groups.append(FigureGroup(plot.heading, (figure,), note, 1.0))
        return groups

    def curves(self) -> list[FigureOutput]:
        """One validation-curve plot per problem."""
        curves = self.results.curves
        methods = method_order(curves["method"].astype(str).unique(), self.results.context)
        figures = []
        for problem in unique([*self.infos, *curves["problem"].astype(str)]):
            subset = curves[curves["problem"] == problem]
            if subset.empty:
                continue
            info = self.infos.get(problem)
            title = info.title if info else problem
            metric = METRIC_LABEL.get(info.metric, info.metric) if info else "metric"
            caption = (
                f"{title}: validation {metric} by epoch; line = mean over seeds, band = min–max "
                "over seeds."
            )
            path = self.out_dir / f"curves-{slug(problem)}.png"
            figure = training_curve_figure(
                subset, methods, self.display, metric, title, caption, path
            )
            if figure is not None:
                figures.append(figure)
        return figures
