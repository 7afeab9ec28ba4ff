"""Shared fixtures: generated raw files and processed datasets in temporary folders."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.fixtures import build_raw_files, fixture_params
from tranrep.config import PROJECT_ROOT, deep_merge, validate_params
from tranrep.data.census import preprocess_census
from tranrep.data.fashion_mnist import preprocess_fashion_mnist
from tranrep.data.sarcos import preprocess_sarcos


@pytest.fixture(scope="session")
def raw_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("raw")
    build_raw_files(folder)
    return folder


@pytest.fixture(scope="session")
def fixture_config(raw_dir: Path) -> dict:
    base = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8"))
    config = deep_merge(base, fixture_params(raw_dir))
    validate_params(config)
    return config


@pytest.fixture(scope="session")
def processed_dir(raw_dir: Path, fixture_config: dict, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("processed")
    census = fixture_config["census"]
    preprocess_census(
        raw_dir / "census-income.data.gz", raw_dir / "census-income.test.gz", out / "census",
        census["college_education"], census["split_seed"],
    )  # fmt: skip
    fashion = fixture_config["fashion_mnist"]
    preprocess_fashion_mnist(
        raw_dir / "train-images-idx3-ubyte.gz", raw_dir / "train-labels-idx1-ubyte.gz",
        raw_dir / "t10k-images-idx3-ubyte.gz", raw_dir / "t10k-labels-idx1-ubyte.gz",
        out / "fashion_mnist", fashion["validation_size"], fashion["split_seed"],
        fashion["class_to_group"], fashion["group_names"],
    )  # fmt: skip
    preprocess_sarcos(
        raw_dir / "sarcos_inv_test.mat", out / "sarcos", "standard", 0.1, 1, [0.6, 0.2, 0.2],
        train_path=raw_dir / "sarcos_inv.mat",
    )  # fmt: skip
    return out
