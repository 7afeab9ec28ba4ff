"""Figures derived from the runs: seed-paired differences, the relative improvements of
section 4.3, and how much the attention matrix A changes from sample to sample.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tranrep.report.formatting import HIGHER_IS_BETTER
from tranrep.report.results import ProblemInfo, Results, dataset_title
from tranrep.report.stats import PairedTest, paired_test

IMPROVEMENT_METRIC = "mh_tran_relative_improvement_percent"
IMPROVING_METHOD = "mh_tran"


def oriented(better: float | np.ndarray, worse: float | np.ndarray, metric: str):
    """``better − worse`` when higher is better, ``worse − better`` for errors: > 0 favours the
    first argument."""
    return better - worse if HIGHER_IS_BETTER.get(metric, True) else worse - better


def relative_improvement(ours: float | np.ndarray, reference: float | np.ndarray, metric: str):
    """Relative improvement of ``ours`` over ``reference`` in percent (section 4.3): the gain
    ``oriented(ours, reference)`` as a share of the reference's value."""
    return 100.0 * oriented(ours, reference, metric) / reference


@dataclass(frozen=True)
class Improvement:
    """MH-TRAN's average relative improvement over one reference method on one dataset."""

    dataset: str
    title: str
    reference: str
    tasks: int
    ours: PairedTest  # per-seed averages over tasks, in percent
    paper_quoted: float
    paper_recomputed: float


def _dataset_problems(infos: Mapping[str, ProblemInfo], dataset: str) -> list[ProblemInfo]:
    return [p for p in infos.values() if p.dataset == dataset or p.name == dataset]


def method_values(table: pd.DataFrame, problem: str, method: str, task: str) -> pd.Series:
    """Values of one (problem, method, task), by seed; a table without seeds (the paper's) gives
    its single value under seed 0."""
    rows = table[
        (table["problem"] == problem) & (table["method"] == method) & (table["task"] == task)
    ]
    seeds = rows["seed"] if "seed" in rows else np.zeros(len(rows), dtype=int)
    return pd.Series(rows["value"].astype(float).to_numpy(), index=seeds)


def paired_differences(
    runs: pd.DataFrame, problem: str, task: str, method: str, other: str, metric: str
) -> np.ndarray:
    """Seed-by-seed ``oriented(method, other)`` over the seeds both ran."""
    mine = method_values(runs, problem, method, task)
    theirs = method_values(runs, problem, other, task)
    return oriented(mine, theirs, metric).dropna().to_numpy(dtype=float)


def _average_improvement(
    table: pd.DataFrame, problems: Sequence[ProblemInfo], reference: str
) -> pd.Series:
    """Per seed, the relative improvement of MH-TRAN over ``reference`` averaged over every task
    of ``problems``; only seeds present for both methods on every task count."""
    per_task = []
    for problem in problems:
        for task in problem.tasks:
            mine = method_values(table, problem.name, IMPROVING_METHOD, task)
            theirs = method_values(table, problem.name, reference, task)
            per_task.append(relative_improvement(mine, theirs, problem.metric))
    if not per_task:
        return pd.Series(dtype=float)
    return pd.concat(per_task, axis=1).dropna().mean(axis=1)


def improvements(results: Results, infos: Mapping[str, ProblemInfo]) -> list[Improvement]:
    """Every improvement quoted in section 4.3, recomputed from our runs and the paper's tables."""
    quoted = results.paper_values[results.paper_values["metric"] == IMPROVEMENT_METRIC]
    rows = []
    for entry in quoted.to_dict("records"):
        problems = _dataset_problems(infos, str(entry["problem"]))
        ours = _average_improvement(results.runs, problems, str(entry["method"]))
        paper = _average_improvement(results.paper, problems, str(entry["method"]))
        rows.append(
            Improvement(
                dataset=str(entry["problem"]),
                title=dataset_title(problems[0]) if problems else str(entry["problem"]),
                reference=str(entry["method"]),
                tasks=sum(len(p.tasks) for p in problems),
                ours=paired_test(ours.to_numpy()),
                paper_quoted=float(entry["value"]),
                paper_recomputed=float(paper.iloc[0]) if len(paper) else math.nan,
            )
        )
    return rows


@dataclass(frozen=True)
class Dynamics:
    """How much one method's A changes across test samples on one problem, over seeds.

    ``spread`` is the per-entry std of A across test samples, averaged over the K×K entries, one
    value per seed; ``largest`` is the largest per-entry std seen in any seed.
    """

    problem: str
    method: str
    spread: tuple[float, ...]
    largest: float
    cross_task_share: tuple[float, ...]


def dynamics(results: Results) -> list[Dynamics]:
    """One row per (problem, TRAN-family method) with attention recorded, every seed."""
    rows = []
    for problem, methods in results.attention.items():
        for method, entry in methods.items():
            per_seed = entry.get("per_seed") or {}
            spreads = [np.asarray(s["per_entry_std"], dtype=float) for s in per_seed.values()]
            if not spreads:
                continue
            rows.append(
                Dynamics(
                    problem=problem,
                    method=method,
                    spread=tuple(float(s.mean()) for s in spreads),
                    largest=float(max(s.max() for s in spreads)),
                    cross_task_share=tuple(
                        float(s.get("cross_task_share", math.nan)) for s in per_seed.values()
                    ),
                )
            )
    return rows


def seed_statistic(results: Results, problem: str, method: str, key: str) -> pd.Series:
    """A per-seed attention statistic (e.g. 'cross_task_share') indexed by seed."""
    entry = results.attention.get(problem, {}).get(method, {})
    per_seed = entry.get("per_seed") or {}
    values = {}
    for seed, stats in per_seed.items():
        value = stats.get(key)
        if key == "per_entry_std":
            value = float(np.mean(value))
        values[int(seed)] = float(value)
    return pd.Series(values, dtype=float)
