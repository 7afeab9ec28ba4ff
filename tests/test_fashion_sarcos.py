"""Fashion-MNIST and SARCOS preprocessing: formats, splits, schemas and bad input."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import scipy.io

from tranrep.data import fashion_mnist, sarcos
from tranrep.data.problems import load_problem


def test_group_map_of_params(fixture_config: dict):
    mapping = fixture_config["fashion_mnist"]["class_to_group"]
    groups = fashion_mnist.group_labels(np.arange(10), mapping)
    assert groups.tolist() == [2, 2, 2, 1, 2, 0, 2, 0, 1, 0]  # shoes 0, female 1, other 2


def test_fashion_schema_and_splits(processed_dir: Path):
    folder = processed_dir / "fashion_mnist"
    assert pq.read_schema(folder / "train.parquet").equals(fashion_mnist.SCHEMA)
    card = json.loads((folder / "card.json").read_text())
    assert card["rows"] == {"train": 320, "validation": 80, "test": 120}
    train_rows = set(pq.read_table(folder / "train.parquet").column("row_id").to_pylist())
    validation_rows = set(pq.read_table(folder / "validation.parquet").column("row_id").to_pylist())
    assert not train_rows & validation_rows and len(train_rows | validation_rows) == 400


def test_bad_idx_magic_names_file(tmp_path: Path):
    path = tmp_path / "labels.gz"
    with gzip.open(path, "wb") as handle:
        handle.write((1234).to_bytes(4, "big") + (2).to_bytes(4, "big") + b"\x01\x02")
    with pytest.raises(ValueError, match=r"labels\.gz: idx magic number is 1234, expected 2049"):
        fashion_mnist.read_idx(path, fashion_mnist.LABEL_MAGIC)


def test_truncated_idx_payload_is_an_error(tmp_path: Path):
    path = tmp_path / "labels.gz"
    with gzip.open(path, "wb") as handle:
        handle.write((2049).to_bytes(4, "big") + (5).to_bytes(4, "big") + b"\x01\x02")
    with pytest.raises(ValueError, match="payload holds 2 bytes, expected 5"):
        fashion_mnist.read_idx(path, fashion_mnist.LABEL_MAGIC)


def test_reduced_mode_uses_contiguous_blocks():
    blocks = sarcos.contiguous_blocks(4449, [0.6, 0.2, 0.2])
    assert [len(b) for b in blocks] == [2669, 890, 890]
    assert np.array_equal(np.concatenate(blocks), np.arange(4449))


def test_sarcos_standard_split_and_units(processed_dir: Path):
    folder = processed_dir / "sarcos"
    card = json.loads((folder / "card.json").read_text())
    assert card["rows"] == {"train": 450, "validation": 50, "test": 300}
    assert pq.read_schema(folder / "test.parquet").equals(sarcos.SCHEMA)
    train = pq.read_table(folder / "train.parquet").to_pandas()
    assert abs(train["torque_1"].mean()) < 1e-9 and abs(train["torque_1"].std(ddof=0) - 1) < 1e-9
    problem = load_problem("sarcos", "sarcos", sarcos.TARGETS, folder)
    assert problem.tasks[0].target_std == pytest.approx(card["normalisation"]["torque_1"]["std"])


def test_sarcos_reduced_mode_needs_only_the_test_file(tmp_path: Path, raw_dir: Path):
    card = sarcos.preprocess_sarcos(
        raw_dir / "sarcos_inv_test.mat", tmp_path, "reduced", 0.1, 0, [0.6, 0.2, 0.2]
    )
    assert card["mode"] == "reduced" and card["rows"] == {
        "train": 180,
        "validation": 60,
        "test": 60,
    }
    test_rows = pq.read_table(tmp_path / "test.parquet").column("row_id").to_pylist()
    assert test_rows == list(range(240, 300))


def test_sarcos_wrong_shape_names_file_and_variable(tmp_path: Path):
    path = tmp_path / "bad.mat"
    scipy.io.savemat(path, {"sarcos_inv": np.zeros((5, 20))})
    with pytest.raises(ValueError, match=r"bad\.mat: variable 'sarcos_inv' has shape \(5, 20\)"):
        sarcos.read_sarcos(path)


def test_sarcos_unreadable_file(tmp_path: Path):
    path = tmp_path / "junk.mat"
    path.write_bytes(b"not a mat file at all" * 10)
    with pytest.raises(ValueError, match=r"junk\.mat: not a readable MATLAB file"):
        sarcos.read_sarcos(path)


def test_label_out_of_range_names_file(tmp_path: Path, raw_dir: Path):
    from tests.fixtures import write_idx

    write_idx(tmp_path / "labels.gz", np.full(400, 11, dtype=np.uint8))
    with pytest.raises(ValueError, match=r"labels\.gz: label value 11, expected 0-9"):
        fashion_mnist.preprocess_fashion_mnist(
            raw_dir / "train-images-idx3-ubyte.gz", tmp_path / "labels.gz",
            raw_dir / "t10k-images-idx3-ubyte.gz", raw_dir / "t10k-labels-idx1-ubyte.gz",
            tmp_path / "out", 80, 0, {k: 0 for k in range(10)}, ["a", "b", "c"],
        )  # fmt: skip
    assert not (tmp_path / "out").exists()


def test_empty_split_is_refused(tmp_path: Path, raw_dir: Path):
    with pytest.raises(ValueError, match="the validation split has 0 rows"):
        sarcos.preprocess_sarcos(
            raw_dir / "sarcos_inv_test.mat", tmp_path, "reduced", 0.1, 0, [0.999, 0.001, 0.0]
        )
    assert not any(tmp_path.iterdir())
