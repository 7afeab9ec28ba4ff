"""Collect every job's results into the tables and context the report is rendered from.

Writes to the results folder: ``summary.csv`` (mean ± std over seeds per problem, method and
task, beside the paper's value), ``runs.csv``, ``jobs.csv``, ``curves.csv``, ``attention.json``
(A on the test set for the TRAN family, every seed), ``paper_values.csv`` (a copy of the paper's
published values) and ``context.json`` (settings, data cards and audit, label correlations,
provenance).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from tranrep.data.audit import audit_processed
from tranrep.data.census import LABELS
from tranrep.io import read_json, write_atomic, write_json, write_text
from tranrep.names import DISPLAY_NAMES
from tranrep.paper_values import FILE_NAME as PAPER_VALUES
from tranrep.paper_values import quoted_figures, read_paper_values, table_values
from tranrep.pipeline import METRICS_FILE

log = logging.getLogger(__name__)

# Version of what aggregation computes; the aggregate rule's params carry it, so raising it when
# the results change meaning (a new statistic, a fixed computation) re-aggregates existing runs.
RESULTS_FORMAT = 4

PACKAGES = ["torch", "numpy", "pandas", "pyarrow", "scikit-learn", "scipy", "snakemake",
            "jinja2", "seaborn", "matplotlib"]  # fmt: skip
LABEL_PAIRS = {"census_group1": "income~marital", "census_group2": "education~marital"}


def run_dirs(runs_dir: Path, settings: dict) -> list[tuple[str, str, int, Path]]:
    """Every expected job folder; a missing one is an error naming it."""
    found = []
    for problem, method in settings["grid"]:
        for seed in settings["seeds"]:
            folder = runs_dir / problem / method / f"seed{seed}"
            if not (folder / "metrics.json").exists():
                raise FileNotFoundError(f"{folder / 'metrics.json'}: job result is missing")
            found.append((problem, method, seed, folder))
    return found


def collect(runs: list[tuple[str, str, int, Path]]) -> tuple[pd.DataFrame, ...]:
    """Per-seed metrics, per-job facts and training curves as three tables."""
    metric_rows, job_rows, curve_frames = [], [], []
    for problem, method, seed, folder in runs:
        result = read_json(folder / "metrics.json")
        for task, value in result["test"].items():
            metric_rows.append(
                {"problem": problem, "method": method, "seed": seed, "task": task,
                 "metric": result["metric"], "value": value}
            )  # fmt: skip
        job_rows.append(
            {"problem": problem, "method": method, "seed": seed,
             "wall_time_s": result["wall_time_s"], "n_parameters": result["n_parameters"],
             "best_epoch": result["best_epoch"], "epochs_run": result["epochs_run"],
             "device": result["device"], "kind": result.get("kind", "neural"),
             "solver_converged": result.get("solver_converged"),
             "zero_weight_fraction": result.get("zero_weight_fraction")}
        )  # fmt: skip
        curve = pd.read_csv(folder / "curve.csv")
        curve.insert(0, "seed", seed)
        curve.insert(0, "method", method)
        curve.insert(0, "problem", problem)
        curve_frames.append(curve)
    return pd.DataFrame(metric_rows), pd.DataFrame(job_rows), pd.concat(curve_frames)


def summarise(runs: pd.DataFrame, paper: pd.DataFrame) -> pd.DataFrame:
    """Mean, sample std and count over seeds, beside the paper's published value."""
    grouped = runs.groupby(["problem", "method", "task", "metric"], sort=False)["value"]
    summary = grouped.agg(mean="mean", std="std", n="count").reset_index()
    summary["std"] = summary["std"].fillna(0.0)
    published = paper.rename(columns={"value": "paper_value", "table": "paper_table"})
    return summary.merge(
        published[["problem", "method", "task", "paper_value", "paper_table"]],
        on=["problem", "method", "task"],
        how="left",
    )


def metrics_summary(summary: pd.DataFrame) -> dict:
    """Test metric mean and std over seeds as problem → method → task (DVC's metrics file)."""
    nested: dict = {}
    for row in summary.to_dict("records"):
        task = nested.setdefault(row["problem"], {}).setdefault(row["method"], {})
        task[row["task"]] = {"mean": float(row["mean"]), "std": float(row["std"])}
    return nested


def attention_table(attention: dict) -> pd.DataFrame:
    """Mean A over seeds in long form, one row per (problem, method, target task i, task j):
    the weight task i's representation takes from task j (DVC plots it as bars)."""
    rows = []
    for problem, methods in attention.items():
        for method, entry in methods.items():
            tasks = entry["tasks"]
            means = np.mean([s["mean"] for s in entry["per_seed"].values()], axis=0)
            for i, target in enumerate(tasks):
                for j, source in enumerate(tasks):
                    rows.append(
                        {"problem": problem, "method": method, "target": target,
                         "source": source, "pair": f"{problem} {method}: {target} <- {source}",
                         "weight": float(means[i, j]), "seeds": len(entry["per_seed"])}
                    )  # fmt: skip
    columns = ["problem", "method", "target", "source", "pair", "weight", "seeds"]
    return pd.DataFrame(rows, columns=columns)


def attention_statistics(A: np.ndarray) -> dict:
    """Mean and per-entry std over test samples of A (heads averaged), and its cross-task share.

    ``A`` is (N, H, K, K) as stored by training (eq. 5 per head). The per-entry std measures
    how much A changes from sample to sample (zero for a static A); the cross-task share is the
    mean off-diagonal mass of a row of the mean A, the weight a task gives the others.
    """
    # float64: float32 sums over ~50,000 samples drift by ~1e-4, enough to fake a varying A.
    per_sample = A.astype(np.float64).mean(axis=1)
    mean = per_sample.mean(axis=0)
    k = mean.shape[0]
    off_diagonal = ~np.eye(k, dtype=bool)
    return {
        "mean": mean.tolist(),
        "per_entry_std": per_sample.std(axis=0).tolist(),
        "cross_task_share": float(mean[off_diagonal].sum() / k) if k > 1 else 0.0,
    }


def attention_summary(
    runs: list[tuple[str, str, int, Path]], tasks: dict[str, list[str]], n_samples: int,
    sample_seed: int,
) -> dict:  # fmt: skip
    """A on the test set of each TRAN-family method: per-seed statistics, first seed's samples.

    The first seed's run also gives the figures: its mean A (Figure 2) and ``n_samples`` test
    samples drawn with ``sample_seed`` (Figure 3).
    """
    first_seed = min(seed for _, _, seed, _ in runs)
    summary: dict = {}
    for problem, method, seed, folder in runs:
        with np.load(folder / "attention.npz") as stored:
            A = stored["A"]
        if A.size == 0:
            continue
        statistics = attention_statistics(A)
        entry = summary.setdefault(problem, {}).setdefault(
            method, {"tasks": tasks[problem], "heads": int(A.shape[1]), "per_seed": {}}
        )
        entry["per_seed"][str(seed)] = statistics
        if seed == first_seed:
            per_sample = A.mean(axis=1)
            chosen = np.sort(
                np.random.default_rng(sample_seed).choice(
                    len(per_sample), min(n_samples, len(per_sample)), replace=False
                )
            )
            entry |= {
                "seed": int(seed),
                "mean": statistics["mean"],
                "per_entry_std": statistics["per_entry_std"],
                "samples": per_sample[chosen].tolist(),
                "sample_index": chosen.tolist(),
            }
    return summary


def label_correlations(processed_dir: Path, problems: dict) -> dict:
    """Pearson correlations of the Census labels on the training split, beside the paper's.

    Beside each group's pair, the row count and the income~education correlation are kept: the
    report compares the two groups' correlations, which share the marital label, with a test
    for dependent correlations.
    """
    train_path = processed_dir / "census" / "train.parquet"  # census has one processed folder
    if not train_path.exists():
        return {}
    labels = pd.read_parquet(train_path, columns=LABELS).astype(float)
    quoted = quoted_figures(read_paper_values(), "label_pearson_correlation")
    quoted = quoted.set_index("problem")["value"]
    between = float(labels["income"].corr(labels["education"]))
    return {
        problem: {
            "ours": float(labels[pair.split("~")[0]].corr(labels[pair.split("~")[1]])),
            "paper": float(quoted.get(problem, np.nan)),
            "labels": pair,
            "split": "train",
            "rows": len(labels),
            "income~education": between,
        }
        for problem, pair in LABEL_PAIRS.items()
        if problem in problems
    }


def hardware() -> dict:
    """CPU, memory and accelerators of the machine that aggregated (and, usually, trained)."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip()
            for line in cpuinfo.read_text(errors="replace").splitlines()
            if line.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    info = {"cpu": cpu, "logical_cpus": os.cpu_count() or 0}
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory_gib"] = round(int(line.split()[1]) / 2**20, 1)
    import torch

    info["cuda_devices"] = (
        ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())) or "none"
    )
    return info


def provenance(settings: dict) -> dict:
    """Commit, settings hash, data hashes, package versions and hardware."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        commit += " (uncommitted changes)" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown (not a git checkout)"
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    canonical = json.dumps(settings, sort_keys=True).encode()
    return {
        "git_commit": commit,
        "params_sha256": hashlib.sha256(canonical).hexdigest(),
        "data_hashes": settings["data_hashes"],
        "packages": versions,
        "platform": platform.platform(),
        "hardware": hardware(),
        "python": sys.version.split()[0],
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def aggregate(settings: dict, runs_dir: Path, processed_dir: Path, out_dir: Path) -> None:
    """Write every results file the report reads."""
    runs = run_dirs(runs_dir, settings)
    metrics, jobs, curves = collect(runs)
    summary = summarise(metrics, table_values(read_paper_values()))
    tasks = {name: problem["tasks"] for name, problem in settings["problems"].items()}
    report = settings["report"]
    attention = attention_summary(runs, tasks, report["attention_samples"], report["sample_seed"])
    cards = {
        dataset: read_json(processed_dir / folder / "card.json")
        for dataset, folder in sorted(settings["processed_folders"].items())
    }
    context = {
        "experiment": settings["experiment"],
        "seeds": settings["seeds"],
        "problems": settings["problems"],
        "methods": {
            name: {
                "display_name": DISPLAY_NAMES.get(name, name),
                "settings": method,
                "open_choices": settings.get("method_notes", {}).get(name, []),
            }
            for name, method in settings["methods"].items()
        },
        "sarcos_mode": settings["sarcos_mode"],
        "data_cards": cards,
        "label_correlations": label_correlations(processed_dir, settings["problems"]),
        "data_audit": {
            dataset: audit_processed(dataset, processed_dir / folder)
            for dataset, folder in sorted(settings["processed_folders"].items())
        },
        "report": settings["report"],
        "choices": settings["choices"],
        "provenance": provenance(settings),
        "total_wall_time_s": float(jobs["wall_time_s"].sum()),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = {"summary": summary, "runs": metrics, "jobs": jobs, "curves": curves,
              "attention": attention_table(attention)}  # fmt: skip
    for name, table in tables.items():
        write_atomic(out_dir / f"{name}.csv", lambda tmp, t=table: t.to_csv(tmp, index=False))
    write_text(out_dir / "attention.json", json.dumps(attention) + "\n")
    write_text(
        out_dir / PAPER_VALUES,
        (resources.files("tranrep") / "resources" / PAPER_VALUES).read_text("utf-8"),
    )
    write_json(out_dir / "context.json", context)
    write_json(out_dir / METRICS_FILE, metrics_summary(summary))
    log.info("aggregated %d jobs into %s", len(runs), out_dir)
