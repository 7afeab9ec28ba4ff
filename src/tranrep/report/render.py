"""Render the replication report (HTML and LaTeX) from an aggregated results folder.

The entry point is :func:`render_report`. It reads ``summary.csv``, ``paper_values.csv``,
``runs.csv``, ``jobs.csv``, ``curves.csv``, ``attention.json`` and ``context.json``, checks the
paper's claims, draws the figures, fills the two Jinja templates in ``templates/`` and writes
every table as CSV. Both documents show the same sections, built once as a plain view model.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2
import pandas as pd

from tranrep.io import write_bytes
from tranrep.report.ablations import ablation_tables
from tranrep.report.claims import DEFAULT_ALPHA, FAILS, HOLDS, INCONCLUSIVE, Claim, ClaimChecker
from tranrep.report.derived import dynamics, improvements
from tranrep.report.export import write_tables
from tranrep.report.figure_groups import FigureGroup, ReportFigures
from tranrep.report.figures import FigureOutput
from tranrep.report.findings import (
    audit_table,
    claims_table,
    comparisons_table,
    dynamics_table,
    improvements_table,
)
from tranrep.report.formatting import as_float, finite, format_duration
from tranrep.report.latex import latex_environment
from tranrep.report.results import (
    Results,
    display_names,
    is_reduced,
    load_results,
    method_order,
    problem_infos,
    unique,
)
from tranrep.report.sections import (
    SimpleTable,
    choices_table,
    correlation_table,
    data_card_tables,
    job_tables,
    method_settings_tables,
    parameter_table,
    provenance_tables,
)
from tranrep.report.tables import ResultTable, build_result_tables
from tranrep.report.wins import win_statement

log = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).with_name("templates")
HTML_TEMPLATE = "replication.html.j2"
TEX_TEMPLATE = "replication.tex.j2"
PAPER_TITLE = (
    "Adaptive and Dynamic Knowledge Transfer in Multi-task Learning with Attention Networks"
)
REDUCED_SARCOS_TEXT = (
    "Every SARCOS number in this report was made on REDUCED DATA: the 44,484-row SARCOS "
    "training file was unavailable, so the public 4,449-row test file was split into contiguous "
    "train/validation/test blocks. These numbers are not directly comparable with the paper's "
    "Table 3."
)


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
    budget_note: str
    statement: str
    claims: list[Claim]
    verdicts: str
    alpha: float
    claims_table: SimpleTable
    comparisons: SimpleTable
    improvements: SimpleTable
    dynamics: SimpleTable
    audit: SimpleTable
    ablations: list[SimpleTable]
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


def _seeds_text(results: Results) -> str:
    source = results.runs if "seed" in results.runs else results.jobs
    seeds = sorted(int(s) for s in pd.to_numeric(source["seed"], errors="coerce").dropna().unique())
    return f"{len(seeds)} ({', '.join(str(s) for s in seeds)})" if seeds else "0"


def _total_wall(results: Results) -> str:
    seconds = as_float(results.context.get("total_wall_time_s"))
    if not finite(seconds):
        seconds = float(pd.to_numeric(results.jobs["wall_time_s"], errors="coerce").sum())
    return f"{format_duration(seconds)} ({seconds:,.0f} s)"


def _budget_note(results: Results) -> str:
    """How many jobs ran out of epochs while still improving (best epoch = last epoch run)."""
    jobs = results.jobs
    if jobs.empty or not {"best_epoch", "epochs_run"} <= set(jobs.columns):
        return ""
    notes = []
    if "kind" in jobs.columns:
        linear, jobs = jobs[jobs["kind"] == "linear"], jobs[jobs["kind"] != "linear"]
        stopped = linear[linear["solver_converged"].astype(str) == "False"]
        if not stopped.empty:
            notes.append(
                f"{len(stopped)} of {len(linear)} linear fits stopped at their solver's iteration "
                "limit (methods.<name>.max_iter) before its tolerance: "
                + ", ".join(sorted({f"{r.problem}/{r.method}" for r in stopped.itertuples()}))
                + "."
            )
    cut = jobs[jobs["best_epoch"] == jobs["epochs_run"]]
    if cut.empty:
        return " ".join(
            ["Every neural training job stopped early on its validation metric.", *notes]
        )
    where = ", ".join(
        f"{problem} {count}/{int((jobs['problem'] == problem).sum())}"
        for problem, count in cut.groupby("problem").size().items()
    )
    budget = (
        f"{len(cut)} of {len(jobs)} neural training jobs were still improving at their last "
        f"allowed epoch (training.max_epochs), so they may not have converged: {where}."
    )
    return " ".join([budget, *notes])


def _verdict_counts(claims: list[Claim]) -> str:
    """'Of 19 claims checked, 3 hold, 10 do not hold and 6 are inconclusive.'"""
    counts = {v: sum(c.verdict == v for c in claims) for v in (HOLDS, FAILS, INCONCLUSIVE)}
    return (
        f"Of {len(claims)} claims checked, {counts[HOLDS]} hold, {counts[FAILS]} do not hold "
        f"and {counts[INCONCLUSIVE]} are inconclusive."
    )


def build_view(
    results: Results, figures_dir: Path, ablations: Sequence[tuple[str, Path]] = ()
) -> ReportView:
    """Compute every section of the report and draw its figures."""
    context = results.context
    infos = problem_infos(results)
    display = display_names(context)
    tables = build_result_tables(results, infos, display)
    ran = unique([*results.summary["method"], *results.jobs["method"]])
    methods = method_order([*ran, *context.get("methods", {})], context)
    wall_per_method, jobs = job_tables(results.jobs, methods, infos, display)
    provenance = context.get("provenance", {})
    figures = ReportFigures(results, infos, display, figures_dir)
    alpha = float(context.get("report", {}).get("alpha", DEFAULT_ALPHA))
    claims = ClaimChecker(results, infos, display, alpha).all_claims()
    return ReportView(
        title=f"Replication report: {PAPER_TITLE} (Ma and Tan)",
        experiment=str(context.get("experiment", "")),
        generated_at=str(provenance.get("generated_at", "")),
        seeds_text=_seeds_text(results),
        n_jobs=len(results.jobs),
        total_wall=_total_wall(results),
        budget_note=_budget_note(results),
        statement=win_statement(tables, display),
        claims=claims,
        verdicts=_verdict_counts(claims),
        alpha=alpha,
        claims_table=claims_table(claims),
        comparisons=comparisons_table(claims, display),
        improvements=improvements_table(improvements(results, infos), display),
        dynamics=dynamics_table(dynamics(results), infos, display),
        audit=audit_table(context),
        ablations=ablation_tables(ablations, results, infos, display),
        reduced=is_reduced(context),
        reduced_text=REDUCED_SARCOS_TEXT,
        tables=tables,
        fig2=figures.figure2(),
        fig3=figures.figure3(),
        curves=figures.curves(),
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


def csv_tables(view: ReportView) -> dict[str, SimpleTable]:
    """The plain tables saved as CSV beside the report, by file name."""
    tables = {
        "claims": view.claims_table,
        "claim-comparisons": view.comparisons,
        "relative-improvements": view.improvements,
        "attention-dynamics": view.dynamics,
        "data-audit": view.audit,
        "choices": view.choices,
        "parameters": view.parameters,
        "wall-time-per-method": view.wall_per_method,
        "jobs": view.jobs,
    }
    if view.correlations is not None:
        tables["label-correlations"] = view.correlations
    for number, table in enumerate(view.ablations, start=1):
        tables[f"ablation-{number}"] = table
    return tables


def render_report(
    results_dir: Path,
    html_path: Path,
    tex_path: Path,
    figures_dir: Path,
    tables_dir: Path | None = None,
    ablations: Sequence[tuple[str, Path]] = (),
) -> None:
    """Build the replication report from ``results_dir``.

    Writes ``html_path`` (self-contained, figures embedded), ``tex_path`` (pdflatex, figures
    included from ``figures_dir`` relative to the .tex file), the PNG figures and every table as
    CSV in ``tables_dir`` (default: ``tables/`` beside the HTML). ``ablations`` are (name, results
    folder) pairs of ablation experiments to compare with this run. Every file is written
    atomically.
    """
    html_path, tex_path, figures_dir = Path(html_path), Path(tex_path), Path(figures_dir)
    tables_dir = Path(tables_dir) if tables_dir is not None else html_path.parent / "tables"
    log.info("rendering report from %s", results_dir)
    results = load_results(Path(results_dir))
    figures_dir.mkdir(parents=True, exist_ok=True)
    view = build_view(results, figures_dir, ablations)
    write_tables(tables_dir, view.tables, csv_tables(view))
    write_bytes(html_path, render_html(view).encode("utf-8"))
    log.info("wrote %s", html_path)
    write_bytes(tex_path, render_tex(view, tex_path).encode("utf-8"))
    log.info("wrote %s", tex_path)
