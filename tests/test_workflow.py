"""The whole workflow on generated fixture data, through Snakemake, in a temporary folder."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.fixtures import build_raw_files, fixture_params, tool_env, write_params
from tranrep.config import PROJECT_ROOT

SNAKEMAKE = [sys.executable, "-m", "snakemake", "-s", str(PROJECT_ROOT / "Snakefile")]
PDF = shutil.which("pdflatex") is not None  # the PDF rule runs where TeX Live is installed
pytestmark = pytest.mark.slow


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    command = [*SNAKEMAKE, "--directory", str(workdir), "--cores", "2", *args]
    result = subprocess.run(command, capture_output=True, text=True, cwd=workdir, env=tool_env())
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


def planned_jobs(output: str) -> dict[str, int]:
    """Rule -> job count from the 'Job stats' table of a dry run."""
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", output, re.MULTILINE)}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("workflow")
    raw_source = build_raw_files(folder / "source")["census-income.data.gz"].parent
    shutil.copy(PROJECT_ROOT / "params.yaml", folder / "params.yaml")
    write_params(folder / "fixture.yaml", {**fixture_params(raw_source), "report": {"pdf": PDF}})
    snakemake(folder, "all", "--configfile", "fixture.yaml")
    return folder


def test_full_run_produces_report_and_tables(workdir: Path):
    html = (workdir / "reports" / "fixture" / "replication.html").read_text(encoding="utf-8")
    assert (workdir / "reports" / "fixture" / "replication.tex").stat().st_size > 0
    assert (workdir / "reports" / "fixture" / "replication.pdf").is_file() is PDF
    summary = pd.read_csv(workdir / "data" / "results" / "fixture" / "summary.csv")
    assert set(summary["problem"]) == {"census_group1", "census_group2", "fashion_mnist", "sarcos"}
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8"))
    assert set(summary["method"]) == set(params["methods"])  # every method of the paper's tables
    assert set(summary.query("method == 'mran'")["problem"]) == set(
        params["methods"]["mran"]["problems"]
    )
    expected_rows = sum(
        len(problem["tasks"])
        for name, problem in params["problems"].items()
        for method in params["methods"].values()
        if name in method.get("problems", [name])
    )
    assert len(summary) == expected_rows
    tran_income = summary.query(
        "problem == 'census_group1' and method == 'tran' and task == 'income'"
    )
    assert f"{tran_income['mean'].iloc[0]:.4f}" in html


def test_second_run_has_nothing_to_do(workdir: Path):
    result = snakemake(workdir, "all", "--configfile", "fixture.yaml", "--dry-run")
    assert "Nothing to be done" in result.stdout + result.stderr


@pytest.mark.parametrize("profile", ["gpu", "slurm"])
def test_the_gpu_and_slurm_profiles_plan_the_same_jobs(workdir: Path, profile: str):
    """The profiles change where jobs run, never what they compute: no job is out of date under
    them, and a forced rerun plans the same jobs as the default profile (a dry run needs no
    cluster)."""
    args = ["all", "--configfile", "fixture.yaml", "--dry-run"]
    under_profile = ["--profile", str(PROJECT_ROOT / "workflow" / "profiles" / profile), *args]
    result = snakemake(workdir, *under_profile)
    assert "Nothing to be done" in result.stdout + result.stderr
    forced = planned_jobs(snakemake(workdir, *under_profile, "--forcerun", "train").stdout)
    assert forced == planned_jobs(snakemake(workdir, *args, "--forcerun", "train").stdout)
    assert forced["train"] > 0


def test_changing_a_tran_setting_reruns_only_tran_jobs(workdir: Path):
    override = yaml.safe_load((workdir / "fixture.yaml").read_text())
    override["methods"] = {"tran": {"beta_A": 0.3}}
    write_params(workdir / "changed.yaml", override)
    result = snakemake(workdir, "all", "--configfile", "changed.yaml", "--dry-run")
    jobs = planned_jobs(result.stdout)
    assert jobs["train"] == 4  # tran on four problems, one seed
    assert {k: v for k, v in jobs.items() if k != "total"} == {
        "train": 4, "aggregate": 1, "report": 1, "all": 1, **({"pdf": 1} if PDF else {})
    }  # fmt: skip
    listing = result.stdout
    trained = set(re.findall(r"Training (\w+) on", listing))
    assert trained == {"tran"}


def test_changing_the_tabular_encoder_leaves_linear_and_image_jobs_alone(workdir: Path):
    override = yaml.safe_load((workdir / "fixture.yaml").read_text())
    override["encoders"] = {"tabular": {"hidden": [24]}}
    write_params(workdir / "encoder.yaml", override)
    result = snakemake(workdir, "all", "--configfile", "encoder.yaml", "--dry-run")
    planned = set(re.findall(r"Training (\w+) on (\w+), seed", result.stdout))
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8"))
    linear = {"lasso", "bayesian"}
    expected = {
        (method, problem)
        for problem in ("census_group1", "census_group2", "sarcos")
        for method, entry in params["methods"].items()
        if method not in linear and problem in entry.get("problems", [problem])
    }
    assert planned == expected


def test_missing_sarcos_train_file_names_file_and_working_mode(tmp_path: Path):
    shutil.copy(PROJECT_ROOT / "params.yaml", tmp_path / "params.yaml")
    override = {
        "experiment": "missing",
        "data": {"files": {"sarcos_inv.mat": {"sources": [str(tmp_path / "absent.mat")]}}},
    }
    write_params(tmp_path / "missing.yaml", override)
    result = snakemake(
        tmp_path, "data/raw/sarcos_inv.mat", "--configfile", "missing.yaml", check=False
    )
    assert result.returncode != 0
    log = (tmp_path / "logs" / "missing" / "acquire" / "sarcos_inv.mat.log").read_text()
    assert "sarcos_inv.mat" in log and "absent.mat" in log
    assert "mode: reduced" in log
    assert not (tmp_path / "data" / "raw" / "sarcos_inv.mat").exists()


def test_switching_the_pdf_off_reruns_nothing(workdir: Path):
    override = yaml.safe_load((workdir / "fixture.yaml").read_text())
    override["report"] = {"pdf": False}
    write_params(workdir / "nopdf.yaml", override)
    result = snakemake(workdir, "all", "--configfile", "nopdf.yaml", "--dry-run")
    assert "Nothing to be done" in result.stdout + result.stderr


def test_changing_the_significance_level_rerenders_without_training(workdir: Path):
    override = yaml.safe_load((workdir / "fixture.yaml").read_text())
    override["report"] = {**override.get("report", {}), "alpha": 0.01}
    write_params(workdir / "alpha.yaml", override)
    result = snakemake(workdir, "all", "--configfile", "alpha.yaml", "--dry-run")
    jobs = {k: v for k, v in planned_jobs(result.stdout).items() if k != "total"}
    assert jobs == {"aggregate": 1, "report": 1, "all": 1, **({"pdf": 1} if PDF else {})}


def test_a_missing_report_folder_is_remade(workdir: Path, tmp_path: Path):
    copy = shutil.copytree(workdir, tmp_path / "copy", symlinks=True)
    shutil.rmtree(copy / "reports" / "fixture" / "tables")
    result = snakemake(copy, "all", "--configfile", "fixture.yaml", "--dry-run")
    jobs = {k: v for k, v in planned_jobs(result.stdout).items() if k != "total"}
    assert jobs == {"report": 1, "all": 1, **({"pdf": 1} if PDF else {})}


def test_changing_one_runs_metric_changes_the_report(workdir: Path, tmp_path: Path):
    copy = shutil.copytree(workdir, tmp_path / "copy", symlinks=True)
    reports, results = copy / "reports" / "fixture", copy / "data" / "results" / "fixture"
    before = (reports / "replication.html").read_text(encoding="utf-8")
    metrics_path = copy / "data/runs/fixture/census_group1/tran/seed0/metrics.json"
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    metrics["test"]["income"] = 0.123456
    metrics_path.write_text(json.dumps(metrics), encoding="utf-8")

    result = snakemake(copy, "all", "--configfile", "fixture.yaml")
    assert not re.search(r"Training \w+ on", result.stdout + result.stderr)  # no job retrained
    after = (reports / "replication.html").read_text(encoding="utf-8")
    tran_row = after.split('<tr data-method="tran">', 1)[1].split("</tr>", 1)[0]
    assert "0.1235" in tran_row and "0.1235" not in before
    table = pd.read_csv(reports / "tables" / "table-1.csv")
    cell = table.query("method == 'tran' and problem == 'census_group1' and task == 'income'")
    assert cell["mean"].iloc[0] == pytest.approx(0.123456)
    runs = pd.read_csv(results / "runs.csv")
    nn = runs.query("problem == 'census_group1' and method == 'nn' and task == 'income'")
    comparisons = pd.read_csv(reports / "tables" / "claim-comparisons.csv")
    versus_nn = comparisons.query(
        "claim == 'tran_beats_all' and problem == 'census_group1' and task == 'income'"
        " and other == 'NN'"
    )
    assert float(versus_nn["difference"].iloc[0]) == pytest.approx(
        0.123456 - nn["value"].iloc[0], rel=1e-3
    )


def test_an_ablation_trains_only_its_variants_and_the_report_compares_it(
    workdir: Path, tmp_path: Path
):
    copy = shutil.copytree(workdir, tmp_path / "copy", symlinks=True)
    ablation = str(PROJECT_ROOT / "ablations" / "static.yaml")
    planned = snakemake(copy, "aggregated", "--configfile", "fixture.yaml", ablation, "-n")
    trained = set(re.findall(r"Training (\w+) on", planned.stdout))
    assert trained == {"mh_tran_static"}
    snakemake(copy, "aggregated", "--configfile", "fixture.yaml", ablation)
    assert (copy / "data/results/ablation-static/summary.csv").exists()

    write_params(copy / "compare.yaml", {"report": {"ablations": ["ablation-static"]}})
    rendered = snakemake(copy, "all", "--configfile", "fixture.yaml", "compare.yaml")
    ran = set(re.findall(r"rule (\w+):", rendered.stdout + rendered.stderr))
    assert "aggregate" not in ran and "train" not in ran
    table = pd.read_csv(copy / "reports/fixture/tables/ablation-1.csv")
    variant = table[table["method"] == "mh_tran_static"].iloc[0]
    assert variant["differs from TRAN in"] == "heads: 4; relations: static"
    summary = pd.read_csv(copy / "data/results/ablation-static/summary.csv")
    sarcos = summary.query("method == 'mh_tran_static' and task == 'torque_1'").iloc[0]
    assert variant["SARCOS: torque_1"].startswith(f"{sarcos['mean']:.3f} ± ")
    assert "TRAN (this run)" in set(table["method"])
    html = (copy / "reports/fixture/replication.html").read_text(encoding="utf-8")
    assert "Ablation ablation-static" in html


def test_every_shipped_ablation_is_compared_by_make_ablations():
    listed = yaml.safe_load((PROJECT_ROOT / "workflow" / "ablations.yaml").read_text())
    names = {
        yaml.safe_load(path.read_text())["experiment"]
        for path in (PROJECT_ROOT / "ablations").glob("*.yaml")
    }
    assert set(listed["report"]["ablations"]) == names
    assert len(names) == 6


def test_editing_the_sources_reruns_nothing(workdir: Path):
    override = yaml.safe_load((workdir / "fixture.yaml").read_text())
    entry = override["data"]["files"]["census-income.test.gz"]
    entry["sources"] = ["https://example.invalid/census-income.test.gz", *entry["sources"]]
    write_params(workdir / "sources.yaml", override)
    result = snakemake(workdir, "all", "--configfile", "sources.yaml", "--dry-run")
    assert "Nothing to be done" in result.stdout + result.stderr
