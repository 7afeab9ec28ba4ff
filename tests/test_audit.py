"""Data audit of processed folders: exact counts on generated data, and clear errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import scipy.io

from tests.fixtures import sarcos_matrix
from tranrep.data import census, fashion_mnist, sarcos
from tranrep.data.audit import audit_processed
from tranrep.data.parquet import SPLITS, write_table
from tranrep.io import read_json, write_json

FEATURES = census.CONTINUOUS + census.NOMINAL


def checks(findings: list[dict]) -> dict:
    """Value of every finding by its check name."""
    return {f["check"]: f["value"] for f in findings}


def copy_folder(processed_dir: Path, name: str, tmp_path: Path) -> Path:
    """A private copy of one session-wide processed folder, free to modify."""
    return Path(shutil.copytree(processed_dir / name, tmp_path / name))


def append_rows(path: Path, extra: pa.Table) -> None:
    """Append ``extra`` (same schema) to the Parquet file at ``path``."""
    table = pq.read_table(path)
    pq.write_table(pa.concat_tables([table, extra.cast(table.schema)]), path)


def tuples(path: Path, columns: list[str]) -> list[tuple]:
    """The rows of a Parquet file as plain Python tuples, for brute-force counting."""
    return list(zip(*pq.read_table(path, columns=columns).to_pydict().values(), strict=True))


def brute_force_seen(folder: Path, columns: list[str]) -> dict[str, int]:
    """Test rows equal to some train / validation / train-or-validation row, by Python sets."""
    rows = {split: tuples(folder / f"{split}.parquet", columns) for split in SPLITS}
    train, validation = set(rows["train"]), set(rows["validation"])
    return {
        "train": sum(r in train for r in rows["test"]),
        "validation": sum(r in validation for r in rows["test"]),
        "train_or_validation": sum(r in train or r in validation for r in rows["test"]),
    }


def unseen_unique_test_row(folder: Path, columns: list[str]) -> int:
    """Index of a test row that occurs once in test and nowhere in train or validation."""
    rows = {split: tuples(folder / f"{split}.parquet", columns) for split in SPLITS}
    elsewhere = set(rows["train"]) | set(rows["validation"])
    for index, row in enumerate(rows["test"]):
        if rows["test"].count(row) == 1 and row not in elsewhere:
            return index
    raise AssertionError(f"{folder}: every test row repeats; the fixture cannot test overlap")


def test_findings_are_well_formed(processed_dir: Path):
    for dataset in ("census", "fashion_mnist", "sarcos"):
        findings = audit_processed(dataset, processed_dir / dataset)
        names = [f["check"] for f in findings]
        assert len(names) == len(set(names)), f"{dataset}: repeated check names"
        for finding in findings:
            assert set(finding) == {"dataset", "check", "value", "detail"}
            assert finding["dataset"] == dataset
            assert isinstance(finding["value"], int | float | str)
            assert finding["detail"].endswith(".") and "\n" not in finding["detail"]
            if isinstance(finding["value"], int):  # counts are spelled out in the sentence
                assert f"{finding['value']:,}" in finding["detail"]


# --- Census-income ----------------------------------------------------------------------------


def test_census_reports_card_and_counts_overlap_like_brute_force(processed_dir: Path):
    folder = processed_dir / "census"
    card = read_json(folder / "card.json")
    found = checks(audit_processed("census", folder))
    assert [found[f"rows_{s}"] for s in SPLITS] == [600, 200, 200]
    for split in SPLITS:
        assert found[f"duplicates_{split}"] == card["duplicates"][split]
        for label in census.LABELS:
            assert found[f"label_rate_{label}_{split}"] == card["label_rates"][split][label]
    expected = brute_force_seen(folder, FEATURES)
    for where, count in expected.items():
        assert found[f"test_rows_in_{where}"] == count
    pearson = card["label_pearson_train"]
    assert found["label_pearson_income_marital"] == pearson["income~marital"]
    assert found["label_pearson_education_marital"] == pearson["education~marital"]


def test_a_census_test_row_copied_into_train_counts_exactly_once(
    processed_dir: Path, tmp_path: Path
):
    folder = copy_folder(processed_dir, "census", tmp_path)
    before = checks(audit_processed("census", folder))
    index = unseen_unique_test_row(folder, FEATURES)
    row = pq.read_table(folder / "test.parquet").slice(index, 1).to_pydict()
    row |= {"row_id": [10**6], "income": [1 - row["income"][0]]}  # labels are not features
    append_rows(folder / "train.parquet", pa.table(row))
    findings = audit_processed("census", folder)
    after = checks(findings)
    assert after["rows_train"] == before["rows_train"] + 1 == 601
    assert after["test_rows_in_train"] == before["test_rows_in_train"] + 1
    assert after["test_rows_in_validation"] == before["test_rows_in_validation"]
    after_either = after["test_rows_in_train_or_validation"]
    assert after_either == before["test_rows_in_train_or_validation"] + 1
    detail = next(f["detail"] for f in findings if f["check"] == "rows_train")
    assert detail == "The train split has 601 rows, but the data card says 600."


def census_split(features: np.ndarray) -> pa.Table:
    """A processed Census table with the given feature rows (7 continuous, 31 codes each)."""
    columns = {"row_id": np.arange(len(features)), "income": np.arange(len(features)) % 2}
    columns |= {"marital": np.zeros(len(features)), "education": np.ones(len(features))}
    columns |= {name: features[:, k] for k, name in enumerate(FEATURES)}
    table = pa.table(columns)
    return table.cast(census.census_schema())


def test_census_overlap_on_handmade_rows(tmp_path: Path):
    rng = np.random.default_rng(5)
    base = np.hstack([rng.normal(size=(9, 7)), rng.integers(0, 4, (9, 31))])
    a, b, c, d, f, g, h, z = base[:8]
    h_changed = h.copy()
    h_changed[-1] += 1  # one nominal code differs: a different feature vector
    z[0] = 0.0
    minus_zero = z.copy()
    minus_zero[0] = -0.0  # equal to z as a number
    splits = {
        "train": np.stack([a, b, c, d, a, z]),
        "validation": np.stack([f, g, b]),
        "test": np.stack([a, b, f, h, h_changed, a, minus_zero]),
    }
    for split, features in splits.items():
        write_table(tmp_path / f"{split}.parquet", census_split(features), census.census_schema())
    write_json(
        tmp_path / "card.json",
        {
            "dataset": "census",
            "rows": {s: len(v) for s, v in splits.items()},
            "duplicates": {"train": 1, "validation": 0, "test": 1},
            "label_rates": {s: dict.fromkeys(census.LABELS, 0.5) for s in SPLITS},
        },
    )
    found = checks(audit_processed("census", tmp_path))
    assert found["test_rows_in_train"] == 4  # a, b, the second a, -0.0 version of z
    assert found["test_rows_in_validation"] == 2  # b, f
    assert found["test_rows_in_train_or_validation"] == 5
    assert found["duplicates_train"] == 1 and found["rows_test"] == 7
    assert not [name for name in found if name.startswith("label_pearson")]


# --- Fashion-MNIST ----------------------------------------------------------------------------


def test_fashion_counts_classes_groups_and_copied_images(processed_dir: Path, tmp_path: Path):
    folder = copy_folder(processed_dir, "fashion_mnist", tmp_path)
    card = read_json(folder / "card.json")
    before = checks(audit_processed("fashion_mnist", folder))
    assert [before[f"rows_{s}"] for s in SPLITS] == [320, 80, 120]
    for where, count in brute_force_seen(folder, ["image"]).items():
        assert before[f"test_images_in_{where}"] == count
    for split in SPLITS:
        classes = pq.read_table(folder / f"{split}.parquet").column("class10").to_numpy()
        counts = np.bincount(classes, minlength=10)
        assert before[f"class_balance_{split}"] == pytest.approx(counts.min() / counts.max())
        for name, rate in card["label_rates"][split]["group3"].items():
            assert before[f"group_rate_{name.replace(' ', '_')}_{split}"] == rate
    index = unseen_unique_test_row(folder, ["image"])
    test_row = pq.read_table(folder / "test.parquet").slice(index, 1)
    train_row = pq.read_table(folder / "train.parquet").slice(3, 1)
    append_rows(folder / "train.parquet", pa.concat_tables([test_row, train_row]))
    after = checks(audit_processed("fashion_mnist", folder))
    assert after["duplicate_images_train"] == before["duplicate_images_train"] + 1
    assert after["test_images_in_train"] == before["test_images_in_train"] + 1
    assert after["test_images_in_validation"] == before["test_images_in_validation"]
    assert after["validation_images_in_train"] == before["validation_images_in_train"]


def test_fashion_images_differing_in_one_byte_are_different(processed_dir: Path, tmp_path: Path):
    folder = copy_folder(processed_dir, "fashion_mnist", tmp_path)
    before = checks(audit_processed("fashion_mnist", folder))
    table = pq.read_table(folder / "test.parquet").slice(0, 1)
    pixels = fashion_mnist.image_pixels(table).reshape(-1).copy()
    pixels[-1] ^= 1
    image = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(784), 1, [None, pa.py_buffer(pixels.tobytes())]
    )
    append_rows(folder / "train.parquet", table.set_column(3, "image", image))
    after = checks(audit_processed("fashion_mnist", folder))
    assert after["test_images_in_train"] == before["test_images_in_train"]


# --- SARCOS -----------------------------------------------------------------------------------


def test_sarcos_standard_reports_the_card_and_planted_test_inputs(tmp_path: Path, raw_dir: Path):
    train, test = sarcos_matrix(500, 0), sarcos_matrix(300, 7)
    # Five test rows in the train file, one of them twice: five test rows are seen in training.
    train[[10, 200, 300, 400, 499, 450]] = test[[3, 4, 5, 6, 7, 7]]
    scipy.io.savemat(tmp_path / "train.mat", {"sarcos_inv": train})
    scipy.io.savemat(tmp_path / "test.mat", {"sarcos_inv_test": test})
    out = tmp_path / "processed"
    card = sarcos.preprocess_sarcos(
        tmp_path / "test.mat", out, "standard", 0.1, 1, [0.6, 0.2, 0.2],
        train_path=tmp_path / "train.mat",
    )  # fmt: skip
    assert card["test_inputs_in_train_file"] == 5
    findings = audit_processed("sarcos", out)
    found = checks(findings)
    assert found["mode"] == "standard" and found["test_inputs_in_train_file"] == 5
    assert found["test_inputs_in_train_or_validation"] == 5
    detail = next(f["detail"] for f in findings if f["check"] == "test_inputs_in_train_file")
    assert "5 of the 300 test rows" in detail and "500-row training file" in detail
    assert "drawn from the training" in detail


def sarcos_row(inputs: np.ndarray) -> pa.Table:
    """One processed SARCOS row with the given 21 inputs and zero targets."""
    columns = {"row_id": [9999]}
    columns |= {name: [float(inputs[k])] for k, name in enumerate(sarcos.INPUTS)}
    columns |= dict.fromkeys(sarcos.TARGETS, [0.0])
    return pa.table(columns).cast(sarcos.SCHEMA)


def test_sarcos_reduced_says_so_and_compares_rounded_inputs(tmp_path: Path, raw_dir: Path):
    sarcos.preprocess_sarcos(raw_dir / "sarcos_inv_test.mat", tmp_path, "reduced", 0.1, 0,
                             [0.6, 0.2, 0.2])  # fmt: skip
    findings = audit_processed("sarcos", tmp_path)
    before = checks(findings)
    assert before["mode"] == "reduced"
    assert before["test_inputs_in_train_file"] == "not checkable"
    mode = next(f["detail"] for f in findings if f["check"] == "mode")
    assert "44,484-row SARCOS training file was unavailable" in mode
    assert "300-row public test file" in mode and "60%, 20%, 20%" in mode
    assert "180, 60, 60 rows" in mode
    for where, count in brute_force_seen(tmp_path, sarcos.INPUTS).items():
        assert before[f"test_inputs_in_{where}"] == count == 0
    test = pq.read_table(tmp_path / "test.parquet").to_pandas()[sarcos.INPUTS].to_numpy().copy()
    near = np.round(test[0], 6) + 1e-9  # equal to test row 0 once rounded to 6 decimals
    far = np.round(test[1], 6) + 1e-3  # differs from test row 1
    zero = np.round(test[2], 6)
    zero[0] = 0.0
    test[2, 0] = -1e-9  # rounds to -0.0, which equals 0.0
    rewritten = pq.read_table(tmp_path / "test.parquet").set_column(1, "x_1", pa.array(test[:, 0]))
    pq.write_table(rewritten, tmp_path / "test.parquet")
    append_rows(tmp_path / "train.parquet", pa.concat_tables([sarcos_row(near), sarcos_row(far)]))
    append_rows(tmp_path / "validation.parquet", sarcos_row(zero))
    after = checks(audit_processed("sarcos", tmp_path))
    assert after["test_inputs_in_train"] == 1
    assert after["test_inputs_in_validation"] == 1
    assert after["test_inputs_in_train_or_validation"] == 2


# --- errors -----------------------------------------------------------------------------------


def test_unknown_dataset_names_it_and_the_folder(processed_dir: Path):
    with pytest.raises(ValueError, match=r"census.*unknown dataset 'mnist'; expected one of"):
        audit_processed("mnist", processed_dir / "census")


def test_missing_folder_split_or_card_is_named(processed_dir: Path, tmp_path: Path):
    with pytest.raises(FileNotFoundError, match=r"nowhere: processed data folder does not exist"):
        audit_processed("census", tmp_path / "nowhere")
    folder = copy_folder(processed_dir, "census", tmp_path)
    (folder / "card.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"census/card\.json: missing"):
        audit_processed("census", folder)
    (folder / "test.parquet").unlink()
    with pytest.raises(FileNotFoundError, match=r"census/test\.parquet: missing"):
        audit_processed("census", folder)


def test_card_of_another_dataset_or_without_a_field_is_named(processed_dir: Path, tmp_path: Path):
    with pytest.raises(
        ValueError, match=r"card\.json: field 'dataset' is 'census', expected 'sarcos'"
    ):
        audit_processed("sarcos", processed_dir / "census")
    folder = copy_folder(processed_dir, "census", tmp_path)
    card = read_json(folder / "card.json")
    del card["label_rates"]["test"]
    write_json(folder / "card.json", card)
    with pytest.raises(ValueError, match=r"card\.json: field 'label_rates\.test' is missing"):
        audit_processed("census", folder)
    del card["duplicates"]
    write_json(folder / "card.json", card)
    with pytest.raises(ValueError, match=r"card\.json: field 'duplicates' is missing"):
        audit_processed("census", folder)


def test_bad_sarcos_mode_and_missing_column_are_named(processed_dir: Path, tmp_path: Path):
    folder = copy_folder(processed_dir, "sarcos", tmp_path)
    card = read_json(folder / "card.json")
    write_json(folder / "card.json", card | {"mode": "weird"})
    with pytest.raises(ValueError, match=r"card\.json: field 'mode' is 'weird', expected"):
        audit_processed("sarcos", folder)
    folder = copy_folder(processed_dir, "fashion_mnist", tmp_path)
    table = pq.read_table(folder / "test.parquet")
    pq.write_table(table.drop_columns(["class10"]), folder / "test.parquet")
    with pytest.raises(ValueError, match=r"test\.parquet: columns \['class10'\] are missing"):
        audit_processed("fashion_mnist", folder)
