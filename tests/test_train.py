"""Training: determinism, learning on fixtures, and the files a job writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from tranrep.config import PROJECT_ROOT, job_settings, load_params
from tranrep.data.problems import load_problem
from tranrep.train import run_job


def train_once(
    fixture_config: dict, processed_dir: Path, problem: str, method: str, out: Path,
    epochs: int | None = None,
):  # fmt: skip
    settings = job_settings(fixture_config, problem, method, seed=0)
    if epochs is not None and "training" in settings:  # a budget to learn in, for every method
        settings["training"] |= {"max_epochs": epochs, "patience": epochs}
    spec = fixture_config["problems"][problem]
    data = load_problem(problem, spec["dataset"], spec["tasks"], processed_dir / spec["dataset"])
    return run_job(data, json.loads(json.dumps(settings)), out)


def test_same_seed_same_numbers(fixture_config, processed_dir, tmp_path):
    first = train_once(fixture_config, processed_dir, "sarcos", "mh_tran", tmp_path / "a")
    second = train_once(fixture_config, processed_dir, "sarcos", "mh_tran", tmp_path / "b")
    assert first["test"] == second["test"]
    A_first = np.load(tmp_path / "a" / "attention.npz")["A"]
    assert np.array_equal(A_first, np.load(tmp_path / "b" / "attention.npz")["A"])


METHODS = list(load_params(PROJECT_ROOT / "params.yaml")["methods"])


@pytest.mark.parametrize("method", METHODS)
def test_every_method_beats_a_constant_predictor_on_census(
    method, fixture_config, processed_dir, tmp_path
):
    result = train_once(fixture_config, processed_dir, "census_group1", method, tmp_path, 12)
    assert result["test"]["marital"] > 0.6  # a constant score has AUC 0.5


@pytest.mark.parametrize("method", METHODS)
def test_every_method_beats_the_training_mean_on_sarcos(
    method, fixture_config, processed_dir, tmp_path
):
    result = train_once(fixture_config, processed_dir, "sarcos", method, tmp_path, 60)
    predictions = pq.read_table(tmp_path / "predictions.parquet").to_pandas()
    card = json.loads((processed_dir / "sarcos" / "card.json").read_text())
    for task, rmse in result["test"].items():
        mean = card["normalisation"][task]["mean"]  # the constant that minimises training MSE
        constant = float(np.sqrt(np.mean((predictions[f"{task}_true"] - mean) ** 2)))
        assert rmse < 0.9 * constant, task


@pytest.mark.parametrize("method", METHODS)
def test_every_method_beats_the_majority_class_on_fashion_mnist(
    method, fixture_config, processed_dir, tmp_path
):
    result = train_once(fixture_config, processed_dir, "fashion_mnist", method, tmp_path, 30)
    predictions = pq.read_table(tmp_path / "predictions.parquet").to_pandas()
    majority = float(predictions["class10_true"].value_counts(normalize=True).max())
    assert result["test"]["class10"] > majority + 0.1
    assert (
        result["family"] == load_params(PROJECT_ROOT / "params.yaml")["methods"][method]["family"]
    )


def test_linear_jobs_record_sparsity_and_convergence(fixture_config, processed_dir, tmp_path):
    result = train_once(fixture_config, processed_dir, "census_group1", "lasso", tmp_path)
    assert result["kind"] == "linear" and result["epochs_run"] == 1
    assert 0.0 <= result["zero_weight_fraction"] <= 1.0
    assert isinstance(result["solver_converged"], bool)
    assert "encoder" not in result["settings"]  # linear jobs do not read the encoders


def test_job_writes_its_files_and_A_on_the_test_set(fixture_config, processed_dir, tmp_path):
    result = train_once(fixture_config, processed_dir, "fashion_mnist", "tran", tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {
        "metrics.json", "predictions.parquet", "attention.npz", "curve.csv"
    }  # fmt: skip
    A = np.load(tmp_path / "attention.npz")["A"]
    assert A.shape == (120, 1, 2, 2)
    assert np.allclose(A.sum(-1), 1.0, atol=1e-5)
    predictions = pq.read_table(tmp_path / "predictions.parquet").to_pandas()
    accuracy = float((predictions["class10_pred"] == predictions["class10_true"]).mean())
    assert accuracy == pytest.approx(result["test"]["class10"])
    assert result["test"]["class10"] > 0.3  # chance is 0.1
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["settings"]["method"]["heads"] == 1 and saved["n_parameters"] > 0


def test_sarcos_rmse_is_in_torque_units(fixture_config, processed_dir, tmp_path):
    result = train_once(fixture_config, processed_dir, "sarcos", "shared_bottom", tmp_path)
    predictions = pq.read_table(tmp_path / "predictions.parquet").to_pandas()
    rmse = float(
        np.sqrt(np.mean((predictions["torque_3_pred"] - predictions["torque_3_true"]) ** 2))
    )
    assert rmse == pytest.approx(result["test"]["torque_3"], rel=1e-5)
    raw_std = float(predictions["torque_3_true"].std())
    assert raw_std > 2  # targets are back in their original scale, not standardised
