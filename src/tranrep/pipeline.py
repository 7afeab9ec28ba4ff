"""The pipeline's stages for DVC, each one a Snakemake target: one source of truth for the DAG.

Snakemake owns the jobs (one per raw file, dataset, training run...); DVC sees five stages, each
running ``snakemake <target>``, with the params.yaml keys that stage's rules read, so that
``dvc repro`` reruns only the stages a change touches and Snakemake inside reruns only the jobs.
``dvc.yaml`` is generated from :data:`STAGES` by ``tranrep dvc-yaml``; a test checks that the
committed file is the generated one and that every stage lists all the settings it reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tranrep.io import write_text

RAW = "${data.raw_dir}"
PROCESSED = "${data.processed_dir}"
RUNS = "data/runs/${experiment}"
RESULTS = "data/results/${experiment}"
REPORTS = "reports/${experiment}"
# Files of data/results/<experiment>/ (metrics.json is DVC's metrics file, kept out of the cache).
RESULT_TABLES = ("summary.csv", "runs.csv", "jobs.csv", "curves.csv", "attention.csv",
                 "paper_values.csv", "attention.json", "context.json")  # fmt: skip
METRICS_FILE = "metrics.json"
SNAKEMAKE = "snakemake --cores all"  # $SNAKEMAKE_PROFILE picks a profile (e.g. a cluster's)


@dataclass(frozen=True)
class Stage:
    """One DVC stage: the Snakemake target it builds and what it reads and writes."""

    name: str
    target: str
    params: tuple[str, ...]
    deps: tuple[str, ...]
    outs: tuple[str, ...]
    metrics: tuple[str, ...] = ()
    desc: str = ""

    def as_dvc(self) -> dict[str, Any]:
        """The stage's dvc.yaml entry. Outputs persist: Snakemake decides which jobs rerun."""
        entry: dict[str, Any] = {
            "desc": self.desc,
            "cmd": f"{SNAKEMAKE} {self.target}",
            "deps": list(self.deps),
            "params": list(self.params),
            "outs": [{path: {"persist": True}} for path in self.outs],
        }
        if self.metrics:
            entry["metrics"] = [{path: {"cache": False}} for path in self.metrics]
        return entry


# The settings each stage reads (see tranrep.config: source_lists and needed_files,
# preprocess_settings, job_settings, aggregate_settings).
DATA_FILES = ("data.files", "data.raw_dir", "data.mirror_env", "data.download_timeout_s")
DATASETS = ("problems", "sarcos.mode")
TRAINING = ("experiment", "seeds", "device", "threads_per_job", "run_methods", "problems",
            "methods", "training", "encoders", "sarcos.mode", "data.processed_dir")  # fmt: skip

STAGES: tuple[Stage, ...] = (
    Stage(
        "acquire",
        "raw_data",
        params=(*DATA_FILES, *DATASETS),
        deps=("workflow/rules/data.smk", "src/tranrep/data/acquire.py"),
        outs=(RAW,),
        desc="Fetch and verify the raw files (mirror first when TRAN_DATA_MIRROR is set).",
    ),
    Stage(
        "preprocess",
        "processed_data",
        params=(
            "census",
            "fashion_mnist",
            "sarcos",
            "problems",
            "data.raw_dir",
            "data.processed_dir",
        ),  # fmt: skip
        deps=(RAW, "workflow/rules/data.smk", "src/tranrep/data"),
        outs=(PROCESSED,),
        desc="Raw files to Parquet splits and a data card per dataset.",
    ),
    Stage(
        "train",
        "trained",
        params=TRAINING,
        deps=(
            PROCESSED,
            "workflow/rules/train.smk",
            "src/tranrep/models",
            "src/tranrep/train.py",
            "src/tranrep/metrics.py",
        ),  # fmt: skip
        outs=(RUNS,),
        desc="One training job per problem, method and seed.",
    ),
    Stage(
        "aggregate",
        "aggregated",
        params=(
            *TRAINING,
            "census",
            "fashion_mnist",
            "data.files",
            "report.attention_samples",
            "report.sample_seed",
            "report.alpha",
        ),  # fmt: skip
        deps=(
            RUNS,
            PROCESSED,
            "workflow/rules/report.smk",
            "src/tranrep/aggregate.py",
            "src/tranrep/data/audit.py",
            "src/tranrep/resources",
        ),  # fmt: skip
        outs=tuple(f"{RESULTS}/{name}" for name in RESULT_TABLES),
        metrics=(f"{RESULTS}/{METRICS_FILE}",),
        desc="Every job's results in tables: mean and std over seeds, A, curves, provenance.",
    ),
    Stage(
        "report",
        "all",
        params=("experiment", "report.pdf", "report.ablations"),
        deps=(*(f"{RESULTS}/{name}" for name in RESULT_TABLES), "src/tranrep/report"),
        outs=(REPORTS,),
        desc="The replication report: HTML, LaTeX, PDF, figures and tables as CSV.",
    ),
)

PLOTS: list[Any] = [
    {f"{RESULTS}/curves.csv": {"x": "epoch", "y": "val_metric", "template": "scatter",
                               "title": "Validation metric by epoch, every job"}},
    {f"{RESULTS}/attention.csv": {"x": "weight", "y": "pair", "template": "bar_horizontal",
                                  "title": "Mean attention A over test samples and seeds"}},
]  # fmt: skip


def dvc_yaml() -> dict[str, Any]:
    """The content of dvc.yaml."""
    return {"stages": {s.name: s.as_dvc() for s in STAGES}, "plots": PLOTS}


HEADER = """\
# Generated by `tranrep dvc-yaml` from src/tranrep/pipeline.py: edit that, not this file.
# Each stage runs one Snakemake target (Snakemake owns the jobs; set SNAKEMAKE_PROFILE to use a
# cluster profile) and lists the params.yaml settings its rules read.
"""


def render_dvc_yaml() -> str:
    return HEADER + yaml.safe_dump(dvc_yaml(), sort_keys=False, width=100)


def write_dvc_yaml(path: Path = Path("dvc.yaml")) -> None:
    """Write dvc.yaml atomically."""
    write_text(path, render_dvc_yaml())
