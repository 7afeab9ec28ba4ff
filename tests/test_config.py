"""params.yaml validation and the settings each job receives."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from tranrep.config import (
    PROJECT_ROOT,
    ConfigError,
    job_settings,
    load_params,
    needed_files,
    train_gpus,
    validate_params,
)


@pytest.fixture
def params() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8"))


def test_shipped_params_and_overrides_are_valid():
    for extra in ([], ["workflow/quick.yaml"], ["workflow/offline.yaml"]):
        load_params(PROJECT_ROOT / "params.yaml", *(PROJECT_ROOT / e for e in extra))


def test_typo_in_a_setting_is_named(params):
    params["methods"]["tran"]["heds"] = 2
    with pytest.raises(ConfigError, match=r"methods\.tran.*'heds'"):
        validate_params(params)


def test_wrong_type_is_named(params):
    params["sarcos"]["mode"] = "tiny"
    with pytest.raises(ConfigError, match=r"sarcos\.mode: 'tiny' is not one of"):
        validate_params(params)


def test_bad_hash_form_is_named(params):
    params["data"]["files"]["census-income.test.gz"]["hash"] = "md5:abc"
    with pytest.raises(ConfigError, match=r"data\.files\.census-income\.test\.gz\.hash"):
        validate_params(params)


def test_group_index_out_of_range(params):
    params["fashion_mnist"]["class_to_group"][4] = 7
    with pytest.raises(ConfigError, match="class_to_group.4 is 7"):
        validate_params(params)


def test_task_weights_must_name_tasks(params):
    params["methods"]["tran"]["task_weights"] = {"incme": 2.0}
    with pytest.raises(ConfigError, match=r"task_weights names \['incme'\]"):
        validate_params(params)


def test_reduced_sarcos_needs_only_the_test_file(params):
    assert needed_files(params, "sarcos") == ["sarcos_inv.mat", "sarcos_inv_test.mat"]
    params["sarcos"]["mode"] = "reduced"
    assert needed_files(params, "sarcos") == ["sarcos_inv_test.mat"]


def test_a_tran_setting_changes_only_tran_jobs(params):
    before = {m: job_settings(params, "sarcos", m, 0) for m in params["methods"]}
    changed = copy.deepcopy(params)
    changed["methods"]["tran"]["beta_A"] = 0.5
    after = {m: job_settings(changed, "sarcos", m, 0) for m in params["methods"]}
    assert [m for m in before if before[m] != after[m]] == ["tran"]


def test_the_device_changes_only_neural_jobs(params):
    before = {m: job_settings(params, "sarcos", m, 0) for m in params["methods"]}
    changed = copy.deepcopy(params)
    changed["device"] = "cuda"
    after = {m: job_settings(changed, "sarcos", m, 0) for m in params["methods"]}
    assert sorted(m for m in before if before[m] == after[m]) == ["bayesian", "lasso"]


@pytest.mark.parametrize(
    ("device", "cuda_seen", "expected"),
    [("cpu", True, 0), ("cuda", False, 1), ("auto", True, 1), ("auto", False, 0)],
)
def test_neural_jobs_hold_a_gpu_only_when_they_train_on_cuda(
    params, monkeypatch, device, cuda_seen, expected
):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda_seen)
    params["device"] = device
    gpus = {m: train_gpus(params, m) for m in params["methods"]}
    assert gpus == {m: 0 if m in ("lasso", "bayesian") else expected for m in params["methods"]}


def test_invalid_yaml_names_the_file(tmp_path: Path):
    path = tmp_path / "broken.yaml"
    path.write_text("seeds: [0, 1\n")
    with pytest.raises(ConfigError, match="broken.yaml: not valid YAML"):
        load_params(path)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("experiment",), ".", r"experiment: '\.' does not match"),
        (("experiment",), "..", r"experiment: '\.\.' does not match"),
        (("seeds",), [1.0], r"seeds\.0: 1\.0 is not of type 'integer'"),
        (("training", "max_epochs", "sarcos"), 2.0, "is not of type 'integer'"),
        (("sarcos", "reduced_fractions"), [0.5, 0.3, 0.3], "must sum to 1"),
        (("problems", "sarcos", "tasks"), ["torque_1", "torque_9"], r"problems\.sarcos\.tasks"),
        (("problems", "census_group1", "metric"), "rmse", r"problems\.census_group1\.metric"),
    ],
)
def test_values_that_would_fail_later_fail_at_validation(params, path, value, message):
    target = params
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ConfigError, match=message):
        validate_params(params)


def test_names_that_become_paths_must_be_identifiers(params):
    params["methods"]["x;touch pwned;#"] = params["methods"]["tran"]
    with pytest.raises(ConfigError, match=r"methods: 'x;touch pwned;#' does not match"):
        validate_params(params)


def test_class_map_must_cover_every_class(params):
    del params["fashion_mnist"]["class_to_group"][9]
    params["fashion_mnist"]["class_to_group"][11] = 0
    with pytest.raises(ConfigError, match=r"class_to_group has classes \[0, .*11\]"):
        validate_params(params)


def test_override_must_be_a_mapping(tmp_path: Path):
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="list.yaml: the top level must be a mapping"):
        load_params(PROJECT_ROOT / "params.yaml", path)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_number_that_is_not_finite_is_named(params, value):
    params["report"]["alpha"] = value
    with pytest.raises(ConfigError, match=r"report\.alpha is not a finite number"):
        validate_params(params)
