"""DVC drives the same pipeline: dvc.yaml from the stage table, `dvc repro`, experiments, a remote.

The end-to-end tests copy the pipeline into a fresh git + DVC repository under a temporary folder,
with a params.yaml for generated fixture data (two problems, two methods, one seed).
"""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.fixtures import build_raw_files, fixture_params, tool_env
from tranrep import config as settings
from tranrep.config import PROJECT_ROOT, deep_merge
from tranrep.pipeline import STAGES, render_dvc_yaml

COPIED = ("Snakefile", "workflow", "src", "envs", "dvc.yaml")


# --------------------------------------------------------------------------------------------
# dvc.yaml and the stage table


def test_committed_dvc_yaml_is_the_generated_one():
    committed = (PROJECT_ROOT / "dvc.yaml").read_text(encoding="utf-8")
    assert committed == render_dvc_yaml(), "run `tranrep dvc-yaml` and commit dvc.yaml"


def _set(config: dict, dotted: str, value) -> None:
    keys = dotted.split(".")
    for key in keys[:-1]:
        config = config[key]
    config[keys[-1]] = value


def _stage_reads(config: dict, stage: str):
    """What the Snakemake rules behind ``stage`` receive from the settings."""
    datasets = settings.datasets(config)
    if stage == "acquire":
        return (
            settings.source_lists(config),
            sorted({f for d in datasets for f in settings.needed_files(config, d)}),
            {n: e["hash"] for n, e in config["data"]["files"].items()},
            config["data"]["raw_dir"],
            config["data"]["mirror_env"],
            config["data"]["download_timeout_s"],
        )
    if stage == "preprocess":
        return [
            (d, settings.preprocess_settings(config, d), settings.processed_folder(config, d),
             settings.needed_files(config, d))
            for d in datasets
        ] + [config["data"]["raw_dir"], config["data"]["processed_dir"]]  # fmt: skip
    if stage == "train":
        return [
            (p, m, s, settings.job_settings(config, p, m, s))
            for p, m in settings.grid(config)
            for s in config["seeds"]
        ] + [config["experiment"], config["data"]["processed_dir"]]
    if stage == "aggregate":
        return settings.aggregate_settings(config)
    return (config["experiment"], config["report"]["pdf"], config["report"]["ablations"])


# A changed value for every setting a stage might read.
PERTURBATIONS = {
    "experiment": "other",
    "seeds": [7],
    "device": "cpu",
    "threads_per_job": 2,
    "run_methods": ["tran"],
    "data.raw_dir": "elsewhere/raw",
    "data.processed_dir": "elsewhere/processed",
    "data.mirror_env": "OTHER_MIRROR",
    "data.download_timeout_s": 5,
    "data.files.census-income.test.gz.hash": "sha256:" + "0" * 64,
    "census.split_seed": 1,
    "fashion_mnist.split_seed": 1,
    "sarcos.mode": "reduced",
    "methods.tran.beta_A": 0.5,
    "training.learning_rate": 0.5,
    "encoders.tabular.hidden": [8],
    "report.alpha": 0.01,
    "report.sample_seed": 99,
    "report.attention_samples": 2,
    "report.pdf": False,
    "report.ablations": ["ablation-heads"],
}


def _listed(stage_params: tuple[str, ...], dotted: str) -> bool:
    return any(dotted == p or dotted.startswith(p + ".") for p in stage_params)


@pytest.mark.parametrize("stage", [s.name for s in STAGES])
def test_every_setting_a_stage_reads_is_in_its_params(stage: str):
    base = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8"))
    listed = next(s.params for s in STAGES if s.name == stage)
    before = _stage_reads(base, stage)
    for dotted, value in PERTURBATIONS.items():
        changed = copy.deepcopy(base)
        if dotted.startswith("data.files."):
            changed["data"]["files"]["census-income.test.gz"]["hash"] = value
        else:
            _set(changed, dotted, value)
        if _stage_reads(changed, stage) != before:
            assert _listed(listed, dotted), f"stage {stage} reads {dotted} but does not list it"


# --------------------------------------------------------------------------------------------
# End to end on fixture data


def run(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = tool_env(DVC_NO_ANALYTICS="1", GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@localhost",
                   GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@localhost")  # fmt: skip
    result = subprocess.run(args, cwd=repo, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{args} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


def small_params(raw_source: Path) -> dict:
    """Fixture data, Census group I and SARCOS, NN and TRAN, one seed, no PDF."""
    params = deep_merge(
        yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8")),
        fixture_params(raw_source, experiment="default"),
    )
    params["problems"] = {k: params["problems"][k] for k in ("census_group1", "sarcos")}
    params["methods"] = {k: params["methods"][k] for k in ("nn", "tran")}
    params["report"]["pdf"] = False
    return params


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git + DVC repository holding the pipeline, after a first `dvc repro`."""
    root = tmp_path_factory.mktemp("dvc")
    raw_source = build_raw_files(root / "source")["census-income.data.gz"].parent
    repo = root / "repo"
    repo.mkdir()
    for name in COPIED:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(
                source, repo / name, ignore=shutil.ignore_patterns("*.egg-info", "__pycache__")
            )
        else:
            shutil.copy(source, repo / name)
    (repo / "profiles").symlink_to("workflow/profiles")
    (repo / "params.yaml").write_text(yaml.safe_dump(small_params(raw_source)), encoding="utf-8")
    shutil.copy(PROJECT_ROOT / ".gitignore", repo / ".gitignore")
    run(repo, "git", "init", "-q")
    run(repo, "dvc", "init", "-q")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-q", "-m", "pipeline")
    result = run(repo, "dvc", "repro")
    (repo / "first-repro.log").write_text(result.stdout + result.stderr, encoding="utf-8")
    return repo


@pytest.mark.slow
def test_dvc_repro_builds_the_report_and_a_second_has_nothing_to_do(repo: Path):
    assert (repo / "reports" / "default" / "replication.html").stat().st_size > 0
    assert (repo / "dvc.lock").exists()
    lock = yaml.safe_load((repo / "dvc.lock").read_text(encoding="utf-8"))
    assert set(lock["stages"]) == {s.name for s in STAGES}
    second = run(repo, "dvc", "repro")
    assert "Data and pipelines are up to date" in second.stdout
    status = run(repo, "dvc", "status")
    assert "Data and pipelines are up to date" in status.stdout
    snakemake = run(repo, "snakemake", "-n", "all")
    assert "Nothing to be done" in snakemake.stdout + snakemake.stderr


@pytest.mark.slow
def test_metrics_and_plots_are_shown(repo: Path):
    metrics = json.loads(run(repo, "dvc", "metrics", "show", "--json").stdout)
    values = json.dumps(metrics)
    assert '"income"' in values and '"mean"' in values
    plots = run(repo, "dvc", "plots", "show", "--json")
    assert "curves.csv" in plots.stdout and "attention.csv" in plots.stdout
    assert "failed" not in plots.stdout + plots.stderr


@pytest.mark.slow
def test_editing_a_tran_setting_reruns_only_tran_jobs(repo: Path):
    params = yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))
    params["methods"]["tran"]["beta_A"] = 0.2
    (repo / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    status = run(repo, "dvc", "status").stdout
    assert "train" in status and "acquire" not in status and "preprocess" not in status
    result = run(repo, "dvc", "repro")
    trained = set(re.findall(r"Training (\w+) on (\w+)", result.stdout + result.stderr))
    assert trained == {("tran", "census_group1"), ("tran", "sarcos")}
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-q", "-m", "beta_A 0.2")


@pytest.mark.slow
def test_an_experiment_with_a_changed_setting_shows_its_metrics(repo: Path):
    run(repo, "dvc", "exp", "run", "-S", "methods.tran.beta_A=0.0", "-n", "beta-a-zero")
    shown = run(repo, "dvc", "exp", "show", "--json").stdout
    assert "beta-a-zero" in shown
    assert "metrics.json" in shown and "income" in shown
    rows = list(csv.DictReader(io.StringIO(run(repo, "dvc", "exp", "show", "--csv").stdout)))
    row = next(r for r in rows if r["Experiment"] == "beta-a-zero")
    column = next(name for name in row if name.endswith("tran.income.mean"))
    assert 0.0 < float(row[column]) <= 1.0  # an AUC, from the experiment's own run
    assert float(row["methods.tran.beta_A"]) == 0.0


@pytest.mark.slow
def test_remote_round_trip(repo: Path, tmp_path: Path):
    remote = tmp_path / "remote"
    run(repo, "dvc", "remote", "add", "-f", "-d", "store", str(remote))
    run(repo, "git", "add", "-A")  # dvc.lock, the remote and the metrics file go to git
    run(repo, "git", "commit", "-q", "-m", "remote")
    run(repo, "dvc", "push")
    shutil.rmtree(repo / ".dvc" / "cache")
    for path in ("data/raw", "data/processed", "data/runs", "reports/default"):
        shutil.rmtree(repo / path)
    for path in (repo / "data" / "results" / "default").iterdir():
        if path.name != "metrics.json":  # in git, not in the DVC cache
            path.unlink()
    run(repo, "dvc", "pull")
    status = run(repo, "dvc", "status")
    assert "Data and pipelines are up to date" in status.stdout
    assert (repo / "reports" / "default" / "replication.html").stat().st_size > 0
