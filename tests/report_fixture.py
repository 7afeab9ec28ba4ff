"""A small but complete ``results_dir`` with made-up numbers, for the report tests.

The paper's values come from the package's ``paper_values.csv``; everything we "ran" is
generated from a fixed random seed, so every build of the fixture is identical.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tranrep.paper_values import read_paper_values, table_values

SEEDS: tuple[int, ...] = (0, 1, 2)
EPOCHS = 6
METHODS_RUN: tuple[str, ...] = (
    "nn", "shared_bottom", "l2_constrained", "cross_stitch", "mmoe", "mran", "tran", "mh_tran",
    "tran_static",
)  # fmt: skip
SARCOS_ONLY: tuple[str, ...] = ("mran",)
ATTENTION_METHODS: tuple[str, ...] = ("tran", "mh_tran", "tran_static")
N_SAMPLES = {"sarcos": 8}
PROBLEMS: dict[str, dict[str, Any]] = {
    "census_group1": {
        "title": "Census-income group I",
        "dataset": "census",
        "tasks": ["income", "marital"],
        "metric": "auc",
        "paper_table": 1,
    },
    "census_group2": {
        "title": "Census-income group II",
        "dataset": "census",
        "tasks": ["education", "marital"],
        "metric": "auc",
        "paper_table": 1,
    },
    "fashion_mnist": {
        "title": "Fashion-MNIST",
        "dataset": "fashion_mnist",
        "tasks": ["class10", "group3"],
        "metric": "accuracy",
        "paper_table": 2,
    },
    "sarcos": {
        "title": "SARCOS",
        "dataset": "sarcos",
        "tasks": [f"torque_{i}" for i in range(1, 8)],
        "metric": "rmse",
        "paper_table": 3,
    },
}
# Made-up quality of each method relative to the paper's TRAN (1.0 = as good as TRAN).
QUALITY = {
    "nn": 0.96,
    "shared_bottom": 0.97,
    "l2_constrained": 0.965,
    "cross_stitch": 0.975,
    "mmoe": 0.98,
    "mran": 0.98,
    "tran_static": 0.985,
    "tran": 0.99,
    "mh_tran": 0.995,
}


def paper_values_text() -> str:
    """The package's copy of the paper's published values (with its '#' comment lines)."""
    return resources.files("tranrep").joinpath("resources/paper_values.csv").read_text("utf-8")


def _paper_frame() -> pd.DataFrame:
    """The rows of the paper's Tables 1-3."""
    return table_values(read_paper_values())


def methods_for(problem: str) -> tuple[str, ...]:
    """The methods "run" on ``problem``: MRAN on SARCOS only, as in the paper's tables."""
    return tuple(m for m in METHODS_RUN if problem == "sarcos" or m not in SARCOS_ONLY)


def _score(metric: str, reference: float, quality: float, noise: float) -> float:
    """A made-up score: slightly worse than ``reference`` as ``quality`` drops below 1."""
    if metric == "rmse":
        return reference * (1.0 + 3.0 * (1.0 - quality)) + noise * reference
    return min(0.999, reference * quality + noise)


def make_runs(rng: np.random.Generator, paper: pd.DataFrame) -> pd.DataFrame:
    """One row per (problem, method, seed, task)."""
    rows = []
    for problem, info in PROBLEMS.items():
        for task in info["tasks"]:
            ref = paper[
                (paper.problem == problem) & (paper.method == "tran") & (paper.task == task)
            ]
            reference = float(ref["value"].iloc[0])
            for method in methods_for(problem):
                for seed in SEEDS:
                    noise = float(rng.normal(0.0, 0.002))
                    value = _score(info["metric"], reference, QUALITY[method], noise)
                    rows.append((problem, method, seed, task, info["metric"], value))
    return pd.DataFrame(rows, columns=["problem", "method", "seed", "task", "metric", "value"])


def make_summary(runs: pd.DataFrame, paper: pd.DataFrame) -> pd.DataFrame:
    """Mean, std and n over seeds, joined with the paper's value and table number."""
    keys = ["problem", "method", "task", "metric"]
    summary = runs.groupby(keys, sort=False)["value"].agg(["mean", "std", "count"]).reset_index()
    summary = summary.rename(columns={"count": "n"})
    published = paper.rename(columns={"value": "paper_value", "table": "paper_table"})
    summary = summary.merge(
        published[["problem", "method", "task", "paper_value", "paper_table"]],
        on=["problem", "method", "task"],
        how="left",
    )
    tables = {p: info["paper_table"] for p, info in PROBLEMS.items()}
    summary["paper_table"] = summary["problem"].map(tables)
    columns = ["problem", "method", "task", "metric", "mean", "std", "n"]
    return summary[[*columns, "paper_value", "paper_table"]]


def make_jobs(rng: np.random.Generator) -> pd.DataFrame:
    """One row per training job."""
    rows = []
    for p_index, problem in enumerate(PROBLEMS):
        for m_index, method in enumerate(methods_for(problem)):
            for seed in SEEDS:
                rows.append(
                    (
                        problem,
                        method,
                        seed,
                        round(float(rng.uniform(5.0, 60.0)), 2),
                        1000 * (p_index + 1) + 137 * m_index,
                        int(rng.integers(2, EPOCHS + 1)),
                        EPOCHS,
                        "cpu",
                    )
                )
    columns = ["problem", "method", "seed", "wall_time_s", "n_parameters", "best_epoch"]
    return pd.DataFrame(rows, columns=[*columns, "epochs_run", "device"])


def make_curves(rng: np.random.Generator) -> pd.DataFrame:
    """Validation metric per epoch, rising (or for RMSE falling) towards a plateau."""
    rows = []
    for problem, info in PROBLEMS.items():
        sign = -1.0 if info["metric"] == "rmse" else 1.0
        start = 3.0 if info["metric"] == "rmse" else 0.7
        for method in methods_for(problem):
            for seed in SEEDS:
                for epoch in range(1, EPOCHS + 1):
                    gain = (1.0 - np.exp(-epoch / 2.0)) * QUALITY[method] * 0.25
                    val = start + sign * gain * start + float(rng.normal(0.0, 0.005))
                    loss = 1.0 / epoch + float(rng.uniform(0.0, 0.05))
                    rows.append((problem, method, seed, epoch, loss, val))
    columns = ["problem", "method", "seed", "epoch", "train_loss", "val_metric"]
    return pd.DataFrame(rows, columns=columns)


def _row_softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return exp / exp.sum(axis=-1, keepdims=True)


def _attention_statistics(samples: np.ndarray) -> dict[str, Any]:
    k = samples.shape[-1]
    mean = samples.mean(axis=0)
    return {
        "mean": mean.round(6).tolist(),
        "per_entry_std": samples.std(axis=0).round(6).tolist(),
        "cross_task_share": float(mean[~np.eye(k, dtype=bool)].sum() / k),
    }


def make_attention(rng: np.random.Generator) -> dict[str, Any]:
    """attention.json: per-seed statistics, the first seed's mean and samples, per problem.

    TRAN-static's A is one matrix for every sample, so its per-entry std is zero.
    """
    heads = {"tran": 1, "mh_tran": 4, "tran_static": 1}
    out: dict[str, Any] = {}
    for problem, info in PROBLEMS.items():
        k = len(info["tasks"])
        out[problem] = {}
        for method in ATTENTION_METHODS:
            base = rng.normal(0.0, 1.0, (k, k)) + 2.0 * np.eye(k)
            n = N_SAMPLES.get(problem, 3)
            spread = 0.0 if method == "tran_static" else 0.2
            per_seed = {}
            for seed in SEEDS:
                samples = _row_softmax(base + rng.normal(0.0, 1.0, (n, k, k)) * spread)
                per_seed[str(seed)] = _attention_statistics(samples)
                if seed == SEEDS[0]:
                    first = samples
            out[problem][method] = {
                "tasks": list(info["tasks"]),
                "heads": heads[method],
                "seed": SEEDS[0],
                "mean": per_seed[str(SEEDS[0])]["mean"],
                "per_entry_std": per_seed[str(SEEDS[0])]["per_entry_std"],
                "samples": first.round(6).tolist(),
                "sample_index": sorted(int(i) for i in rng.choice(4449, n, replace=False)),
                "per_seed": per_seed,
            }
    return out


def make_context(sarcos_mode: str, total_wall: float) -> dict[str, Any]:
    """context.json with special characters in strings, to exercise LaTeX escaping."""
    display = {
        "nn": "NN",
        "shared_bottom": "Shared-bottom",
        "mmoe": "MMoE",
        "tran": "TRAN",
        "mh_tran": "MH-TRAN",
        "tran_static": "TRAN-static",
    }
    methods = {
        m: {
            "display_name": name,
            "settings": {"hidden_units": 64, "optimizer": {"name": "adam", "lr": 0.001}},
        }
        for m, name in display.items()
    }
    return {
        "experiment": "fixture_run",
        "problems": PROBLEMS,
        "methods": methods,
        "sarcos_mode": sarcos_mode,
        "data_cards": {
            "census_income": {
                "rows": {"train": 199523, "validation": 49881, "test": 49881},
                "label_rate": {"income": 0.062, "marital": 0.433},
                "features": [f"f_{i}" for i in range(40)],
            },
            "sarcos": {"rows": {"train": 2669, "validation": 890, "test": 890}, "inputs": 21},
        },
        "label_correlations": {
            "census_group1": {
                "ours": -0.1791,
                "paper": 0.1784,
                "labels": "income~marital",
                "rows": 199523,
                "income~education": 0.2311,
            },
            "census_group2": {
                "ours": -0.2403,
                "paper": 0.2396,
                "labels": "education~marital",
                "rows": 199523,
                "income~education": 0.2311,
            },
        },  # fmt: skip
        "data_audit": {
            "census": [
                {
                    "dataset": "census",
                    "check": "test_rows_in_train",
                    "value": 1234,
                    "detail": "1,234 test rows also appear in train or validation.",
                },
            ],
            "sarcos": [
                {
                    "dataset": "sarcos",
                    "check": "mode",
                    "value": sarcos_mode,
                    "detail": f"SARCOS ran in {sarcos_mode} mode.",
                },
            ],
        },  # fmt: skip
        "report": {"alpha": 0.05, "attention_samples": 8, "sample_seed": 0},
        "choices": [
            {
                "setting": "census.college_education",
                "value": "associate degrees & up",
                "why": "The paper names no cut; 100% of degrees {incl. $ ~ ^ # \\ _} count.",
            },
        ],
        "provenance": {
            "git_commit": "0123456789abcdef0123456789abcdef01234567",
            "params_sha256": "ab" * 32,
            "data_hashes": {"sarcos_inv_test.mat": "sha256:" + "cd" * 32},
            "packages": {"numpy": "2.0.0", "torch": "2.13.0"},
            "platform": "Linux-x86_64",
            "python": "3.11.7",
            "generated_at": "2025-01-01T00:00:00+00:00",
        },
        "total_wall_time_s": total_wall,
    }


def build_results_dir(root: Path, *, sarcos_mode: str = "reduced", seed: int = 20240) -> Path:
    """Write the seven result files under ``root / 'results'`` and return that folder."""
    rng = np.random.default_rng(seed)
    out = Path(root) / "results"
    out.mkdir(parents=True, exist_ok=True)
    paper = _paper_frame()
    runs = make_runs(rng, paper)
    jobs = make_jobs(rng)
    (out / "paper_values.csv").write_text(paper_values_text(), encoding="utf-8")
    runs.to_csv(out / "runs.csv", index=False)
    make_summary(runs, paper).to_csv(out / "summary.csv", index=False)
    jobs.to_csv(out / "jobs.csv", index=False)
    make_curves(rng).to_csv(out / "curves.csv", index=False)
    attention = make_attention(rng)
    (out / "attention.json").write_text(json.dumps(attention), encoding="utf-8")
    context = make_context(sarcos_mode, float(jobs["wall_time_s"].sum()))
    (out / "context.json").write_text(json.dumps(context, indent=1), encoding="utf-8")
    return out
