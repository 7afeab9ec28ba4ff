"""The pipeline on a SLURM cluster, through workflow/profiles/slurm, against a local run.

A slice of fixture data (SARCOS, NN and TRAN, seeds 0 and 1, no PDF) runs twice: with Snakemake's
local executor in one folder, and through SLURM in another, started the way a DVC stage starts
Snakemake (`snakemake --cores all <target>` with $SNAKEMAKE_PROFILE naming the profile). The test
checks that the jobs went through SLURM (they are in its accounting, sacct) and that both runs
trained the same models.

Needs a cluster: skipped unless TRAN_SLURM=1, and then failing, not skipping, where the SLURM
commands are missing. On one machine, .ci/slurm-cluster.sh starts a one-node cluster (partition
`debug`, account `tranrep`, the defaults here); elsewhere set TRAN_SLURM_PARTITION and
TRAN_SLURM_ACCOUNT, and run from a file system the compute nodes share (TRAN_SLURM_TMP: a folder
there for the test's files).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.fixtures import build_raw_files, fixture_params, tool_env
from tranrep.config import PROJECT_ROOT, deep_merge

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("TRAN_SLURM") != "1", reason="needs a SLURM cluster: TRAN_SLURM=1"
    ),
]

PROFILE = PROJECT_ROOT / "workflow" / "profiles" / "slurm"
PROBLEM, METHODS, SEEDS = "sarcos", ("nn", "tran"), (0, 1)
RULES = ("preprocess", "train", "aggregate", "report")  # the SLURM jobs of the slice (acquire is
# a local rule: downloads run where Snakemake runs)
TARGET = "all"
EXPERIMENT = "slurm"
# Where the jobs go (empty counts as unset, as in the profile): the one-node cluster's by default.
PARTITION = os.environ.get("TRAN_SLURM_PARTITION") or "debug"
ACCOUNT = os.environ.get("TRAN_SLURM_ACCOUNT") or "tranrep"


def slice_params(raw_source: Path) -> dict:
    """A whole params file: fixture data, one problem, two methods, two seeds, no PDF."""
    params = deep_merge(
        yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8")),
        fixture_params(raw_source, experiment=EXPERIMENT),
    )
    params["problems"] = {PROBLEM: params["problems"][PROBLEM]}
    params["methods"] = {name: params["methods"][name] for name in METHODS}
    params["seeds"] = list(SEEDS)
    params["device"] = "cpu"  # the same device in both runs, whatever the nodes have
    params["report"]["pdf"] = False
    return params


def snakemake(folder: Path, *args: str, env: dict | None = None, fails: bool = False) -> str:
    """Snakemake on the repository's Snakefile in ``folder``; its output. It must succeed, or
    with ``fails``, fail."""
    command = [sys.executable, "-m", "snakemake", "-s", str(PROJECT_ROOT / "Snakefile"),
               "--directory", str(folder), *args]  # fmt: skip
    result = subprocess.run(
        command, cwd=folder, env=tool_env(**(env or {})), capture_output=True, text=True
    )
    output = result.stdout + result.stderr
    (folder / "snakemake.out").write_text(output, encoding="utf-8")
    if fails:
        assert result.returncode != 0, f"snakemake succeeded:\n{output[-3000:]}"
        return output
    if result.returncode != 0:
        slurm_logs = "".join(
            f"\n--- {path}\n{path.read_text(errors='replace')[-2000:]}"
            for path in sorted((folder / "logs").rglob("*.log"))
        )
        raise AssertionError(f"snakemake failed:\n{output[-6000:]}{slurm_logs[-6000:]}")
    return output


def sacct(*args: str) -> list[dict[str, str]]:
    fields = ["JobID", "JobName", "State", "Partition", "Account", "NodeList", "Comment",
              "ReqMem", "Timelimit"]  # fmt: skip
    result = subprocess.run(
        ["sacct", "-X", "-n", "-P", "--format", ",".join(fields), *args],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return [dict(zip(fields, line.split("|"), strict=True)) for line in result.stdout.splitlines()]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The slice run locally and through SLURM; folders, the SLURM run's id and output."""
    missing = [tool for tool in ("sbatch", "sinfo", "sacct", "srun") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"TRAN_SLURM=1 but {', '.join(missing)} not found: start a cluster first "
                    "(.ci/slurm-cluster.sh)")  # fmt: skip
    shared = os.environ.get("TRAN_SLURM_TMP")
    root = (
        Path(tempfile.mkdtemp(prefix="slurm-", dir=shared))
        if shared
        else tmp_path_factory.mktemp("slurm")
    )
    raw_source = build_raw_files(root / "source")["sarcos_inv.mat"].parent
    params = slice_params(raw_source)
    folders = {}
    for name in ("local", "slurm"):
        folders[name] = root / name
        folders[name].mkdir()
        (folders[name] / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")

    snakemake(folders["local"], "--cores", "2", TARGET)

    started = (datetime.now() - timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%S")
    output = snakemake(
        folders["slurm"],
        "--cores", "all", TARGET,  # a DVC stage's command; the profile comes from the environment
        # One resource changed for this run (the others are the rules' own); status checks soon
        # after submission.
        "--set-resources", "train:runtime=10",
        "--slurm-init-seconds-before-status-checks", "5",
        env={
            "SNAKEMAKE_PROFILE": str(PROFILE),
            "TRAN_SLURM_PARTITION": PARTITION,
            "TRAN_SLURM_ACCOUNT": ACCOUNT,
        },
    )  # fmt: skip
    run_id = re.search(r"SLURM run ID: (\S+)", output)
    assert run_id, f"no SLURM run ID in Snakemake's output:\n{output[-3000:]}"
    return {**folders, "run_id": run_id[1], "started": started, "output": output}


def run_folders(folder: Path) -> list[Path]:
    return [
        folder / "data" / "runs" / EXPERIMENT / PROBLEM / method / f"seed{seed}"
        for method in METHODS
        for seed in SEEDS
    ]


def test_every_job_of_the_slice_went_through_slurm(runs: dict):
    jobs = sacct("--starttime", runs["started"], "--name", runs["run_id"])
    assert jobs, f"sacct lists no job named {runs['run_id']}"
    assert {job["State"] for job in jobs} == {"COMPLETED"}, jobs
    rules = [re.match(r"rule_([a-z_]+?)(_wildcards_|$)", job["Comment"])[1] for job in jobs]
    assert sorted(rules) == sorted(["preprocess", *["train"] * 4, "aggregate", "report"]), jobs
    trained = {job["Comment"] for job in jobs if job["Comment"].startswith("rule_train_")}
    assert trained == {
        f"rule_train_wildcards_{PROBLEM}_{method}_{seed}" for method in METHODS for seed in SEEDS
    }
    # Downloads are local rules: they ran (not in sacct, above) where Snakemake ran.
    assert len(re.findall(r"Finished jobid: \d+ \(Rule: acquire\)", runs["output"])) == 2
    assert sorted(p.name for p in (runs["slurm"] / "data" / "raw").iterdir()) == sorted(
        p.name for p in (runs["local"] / "data" / "raw").iterdir()
    )
    # Each rule's time limit and memory (workflow/rules/*.smk), but train's time limit, which
    # --set-resources changed for this run alone.
    asks = {(re.match(r"rule_([a-z]+)", job["Comment"])[1], job["ReqMem"], job["Timelimit"])
            for job in jobs}  # fmt: skip
    assert asks == {
        ("preprocess", "3000M", "00:30:00"),
        ("train", "3000M", "00:10:00"),
        ("aggregate", "4000M", "00:30:00"),
        ("report", "4000M", "00:30:00"),
    }, jobs
    assert {(job["Partition"], job["Account"]) for job in jobs} == {(PARTITION, ACCOUNT)}


def test_slurm_logs_are_kept_per_job(runs: dict):
    logs = runs["slurm"] / "logs" / "_slurm"
    train_logs = sorted(logs.glob("rule_train/*/*.log"))
    assert [p.parent.name for p in train_logs] == sorted(
        f"{PROBLEM}_{method}_{seed}" for method in METHODS for seed in SEEDS
    )
    assert all(p.stem.isdigit() for p in train_logs)  # <SLURM job id>.log


def test_slurm_run_equals_the_local_run(runs: dict):
    for local, remote in zip(run_folders(runs["local"]), run_folders(runs["slurm"]), strict=True):
        a = json.loads((local / "metrics.json").read_text(encoding="utf-8"))
        b = json.loads((remote / "metrics.json").read_text(encoding="utf-8"))
        assert a["test"].keys() == b["test"].keys()
        for task, value in a["test"].items():
            assert b["test"][task] == pytest.approx(value, rel=0, abs=1e-9), (remote, task)
        ignored = {"wall_time_s", "test"}
        assert {k: v for k, v in a.items() if k not in ignored} == {
            k: v for k, v in b.items() if k not in ignored
        }
        pd.testing.assert_frame_equal(
            pd.read_parquet(local / "predictions.parquet"),
            pd.read_parquet(remote / "predictions.parquet"),
        )
    summaries = [
        pd.read_csv(folder / "data" / "results" / EXPERIMENT / "summary.csv")
        for folder in (runs["local"], runs["slurm"])
    ]
    pd.testing.assert_frame_equal(*summaries, check_exact=False, rtol=0, atol=1e-9)
    assert (runs["slurm"] / "reports" / EXPERIMENT / "replication.html").stat().st_size > 0


def test_a_second_run_through_slurm_has_nothing_to_do(runs: dict):
    output = snakemake(runs["slurm"], "--cores", "all", TARGET, "--dry-run",
                       env={"SNAKEMAKE_PROFILE": str(PROFILE)})  # fmt: skip
    assert "Nothing to be done" in output


def cluster_gpus() -> list[str]:
    """The generic resources (GRES) of the test's partition other than none."""
    result = subprocess.run(["sinfo", "-h", "-p", PARTITION, "-o", "%G"],
                            capture_output=True, text=True, check=True)  # fmt: skip
    return [gres for gres in result.stdout.split() if gres != "(null)"]


def test_cuda_training_jobs_ask_slurm_for_a_gpu(runs: dict):
    """Under `device: cuda` a neural training job is submitted with --gpus=1. The one-node test
    cluster has no GPU, so SLURM refuses the request: the refusal, naming the sbatch call, is the
    proof (where the partition has GPUs the job would run, so this test is skipped there)."""
    if cluster_gpus():
        pytest.skip("the partition has GPUs: this test needs one without")
    folder = runs["slurm"].parent / "cuda"
    shutil.copytree(runs["slurm"], folder, ignore=shutil.ignore_patterns("logs", ".snakemake"))
    target = f"data/runs/{EXPERIMENT}/{PROBLEM}/tran/seed0/metrics.json"
    output = snakemake(
        folder, "--cores", "all", target, "--force", "--config", "device=cuda", "--retries", "0",
        "--set-resources", "train:runtime=10",
        "--latency-wait", "5", "--slurm-init-seconds-before-status-checks", "5",
        env={"SNAKEMAKE_PROFILE": str(PROFILE)}, fails=True,
    )  # fmt: skip
    sbatch = [line for line in output.splitlines() if line.strip().startswith("sbatch --")]
    assert len(sbatch) == 1, output[-3000:]
    assert " --gpus=1 " in sbatch[0] and "rule_train_wildcards_sarcos_tran_0" in sbatch[0]
    assert "Invalid generic resource (gres) specification" in output
