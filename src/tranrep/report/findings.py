"""The report's tables of findings: claim verdicts, the section 4.3 improvements, how dynamic
A is, and the data audit. Each is a :class:`SimpleTable` of strings."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tranrep.report.claims import Claim
from tranrep.report.derived import Dynamics, Improvement
from tranrep.report.formatting import format_scalar
from tranrep.report.results import ProblemInfo, problem_title
from tranrep.report.sections import SimpleTable


def _number(value: float, spec: str) -> str:
    return format(value, spec) if math.isfinite(value) else "n/a"


def claims_table(claims: Sequence[Claim]) -> SimpleTable:
    """One row per claim: where the paper makes it, what it says, our verdict, the evidence."""
    rows = tuple((f"§{c.section}", c.statement, c.verdict, c.evidence) for c in claims)
    return SimpleTable(
        "The paper's claims checked against our runs",
        ("section", "claim", "verdict", "evidence"),
        rows,
    )


def comparisons_table(claims: Sequence[Claim], names: Mapping[str, str]) -> SimpleTable:
    """Every seed-paired comparison behind the verdicts."""
    rows = tuple(
        (
            claim.key,
            c.problem,
            c.task,
            names.get(c.subject, c.subject),
            names.get(c.other, c.other),
            str(c.n),
            _number(c.difference, "+.4g"),
            _number(c.p_value, ".3g"),
            _number(c.p_holm, ".3g"),
            c.outcome,
        )
        for claim in claims
        for c in claim.comparisons
    )
    header = ("claim", "problem", "task", "subject", "other", "n", "difference", "p", "Holm p")
    return SimpleTable("Every comparison behind the verdicts", (*header, "outcome"), rows)


def improvements_table(rows: Sequence[Improvement], names: Mapping[str, str]) -> SimpleTable:
    """Section 4.3's average relative improvements of MH-TRAN: ours, recomputed, quoted."""
    body = []
    for r in rows:
        ours = r.ours
        body.append(
            (
                r.title,
                names.get(r.reference, r.reference),
                str(r.tasks),
                f"{_number(ours.mean, '+.2f')} ± {_number(ours.std, '.2f')} (n={ours.n})"
                if ours.n
                else "",
                f"{_number(ours.low, '+.2f')} to {_number(ours.high, '+.2f')}",
                _number(r.paper_recomputed, "+.2f"),
                _number(r.paper_quoted, "+.2f"),
            )
        )
    return SimpleTable(
        "Average relative improvement of MH-TRAN over each method, in percent (section 4.3)",
        ("dataset", "over", "tasks", "ours", "ours, 95 % CI", "paper's tables", "paper's text"),
        tuple(body),
        note=(
            "Relative improvement on one task: (MH-TRAN − other) / other for AUC and accuracy, "
            "(other − MH-TRAN) / other for RMSE; averaged over the dataset's tasks, per seed "
            "for ours. 'paper's tables' applies the same formula to the paper's Tables 1–3; "
            "'paper's text' is the figure quoted in section 4.3."
        ),
    )


def _mean_std(values: Sequence[float], spec: str) -> str:
    array = np.asarray(values, dtype=float)
    if array.size == 0:
        return ""
    std = float(array.std(ddof=1)) if array.size > 1 else math.nan
    return f"{_number(float(array.mean()), spec)} ± {_number(std, spec)} (n={array.size})"


def dynamics_table(
    rows: Sequence[Dynamics], infos: Mapping[str, ProblemInfo], names: Mapping[str, str]
) -> SimpleTable:
    """How much A changes across test samples, per problem and TRAN-family method."""
    body = tuple(
        (
            problem_title(r.problem, infos),
            names.get(r.method, r.method),
            _mean_std(r.spread, ".4f"),
            _number(r.largest, ".4f"),
            _mean_std(r.cross_task_share, ".3f"),
        )
        for r in rows
    )
    return SimpleTable(
        "How dynamic A is: spread of A across test samples, over seeds",
        (
            "problem",
            "method",
            "per-entry std (mean over entries)",
            "largest entry std",
            "cross-task share",
        ),  # fmt: skip
        body,
        note=(
            "Per-entry std: the standard deviation of each entry of A (heads averaged) across "
            "every test sample, averaged over the K×K entries, one value per seed. A static A "
            "(TRAN-static) gives 0 by construction. Cross-task share: the mean weight a row of "
            "the mean A gives to the other tasks."
        ),
    )


def audit_table(context: Mapping[str, Any]) -> SimpleTable:
    """The data audit's findings, one row each."""
    rows = tuple(
        (
            str(dataset),
            str(f.get("check", "")),
            format_scalar(f.get("value")),
            str(f.get("detail", "")),
        )  # fmt: skip
        for dataset, findings in context.get("data_audit", {}).items()
        for f in findings
    )
    return SimpleTable("Data audit", ("dataset", "check", "value", "finding"), rows)
