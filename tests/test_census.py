"""Census-income preprocessing: labels, encoding, schema and bad input."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch

from tests.fixtures import census_rows, write_census
from tranrep.data import census
from tranrep.data.parquet import PROCESSED_FORMAT
from tranrep.data.problems import load_problem


def handmade_frame() -> pd.DataFrame:
    rows = census_rows(4, seed=1)
    frame = pd.DataFrame(rows, columns=census.COLUMNS)
    frame["income_label"] = ["50000+.", "- 50000.", "50000+.", "- 50000."]
    frame["marital_stat"] = ["Never married", "Divorced", "Married-civilian spouse present",
                             "Never married"]  # fmt: skip
    frame["education"] = ["Bachelors degree(BA AB BS)", "High school graduate",
                          "Some college but no degree", "Doctorate degree(PhD EdD)"]  # fmt: skip
    return frame


def test_labels_follow_section_4_1_definitions():
    college = ["Bachelors degree(BA AB BS)", "Doctorate degree(PhD EdD)"]
    labels = census.census_labels(handmade_frame(), college)
    assert labels["income"].tolist() == [1, 0, 1, 0]
    assert labels["marital"].tolist() == [1, 0, 0, 1]
    assert labels["education"].tolist() == [1, 0, 0, 1]


def test_label_columns_and_weight_are_not_inputs():
    assert set(census.NOT_INPUTS) == {
        "income_label",
        "marital_stat",
        "education",
        "instance_weight",
    }
    assert not set(census.NOT_INPUTS) & set(census.NOMINAL + census.CONTINUOUS)
    assert len(census.NOMINAL) + len(census.CONTINUOUS) == 38  # 40 attributes, 2 define labels


def test_unseen_values_go_to_the_unknown_slot_and_continuous_are_standardised():
    train = pd.DataFrame(census_rows(50, seed=2), columns=census.COLUMNS)
    for column in census.CONTINUOUS:
        train[column] = train[column].astype(float)
    encoding = census.fit_encoding(train)
    other = train.iloc[:2].copy()
    other.loc[other.index[0], "class_of_worker"] = "Never seen before"
    features = census.one_hot(*census.encode_features(other, encoding), encoding.cardinalities)
    names = encoding.feature_names
    assert features.shape[1] == len(names)
    assert features[0, names.index(f"class_of_worker={census.UNKNOWN}")] == 1.0
    assert features[1, names.index(f"class_of_worker={other['class_of_worker'].iloc[1]}")] == 1.0
    continuous, codes = census.encode_features(train, encoding)
    assert codes.dtype == np.int16 and codes.shape == (50, len(census.NOMINAL))
    full = census.one_hot(continuous, codes, encoding.cardinalities)
    age = full[:, names.index("age")]
    assert abs(age.mean()) < 1e-5 and abs(age.std() - 1) < 1e-5
    per_column = [[n for n in names if n.startswith(f"{c}=")] for c in census.NOMINAL]
    for column_names in per_column:  # exactly one hot slot per nominal column
        block = full[:, [names.index(n) for n in column_names]]
        assert np.all(block.sum(axis=1) == 1.0)


def test_parquet_schema_splits_and_card(processed_dir: Path):
    folder = processed_dir / "census"
    schema = pq.read_schema(folder / "train.parquet")
    assert schema.names[:4] == ["row_id", "income", "marital", "education"]
    assert str(schema.field("income").type) == "int8"
    assert schema.names[4:] == census.CONTINUOUS + census.NOMINAL
    assert all(str(schema.field(n).type) == "float" for n in census.CONTINUOUS)
    assert all(str(schema.field(n).type) == "int16" for n in census.NOMINAL)
    card = json.loads((folder / "card.json").read_text())
    assert card["rows"] == {"train": 600, "validation": 200, "test": 200}
    validation = pq.read_table(folder / "validation.parquet").column("row_id").to_pylist()
    test = pq.read_table(folder / "test.parquet").column("row_id").to_pylist()
    assert not set(validation) & set(test) and len(set(validation) | set(test)) == 400
    assert set(card["label_pearson_train"]) == {"income~marital", "education~marital"}
    assert card["format"] == PROCESSED_FORMAT
    assert len(card["feature_names"]) == card["n_features"]
    assert card["n_features"] == len(census.CONTINUOUS) + sum(card["cardinalities"].values())


def test_loader_reads_codes_as_the_models_input_spec(processed_dir: Path):
    card = json.loads((processed_dir / "census" / "card.json").read_text())
    problem = load_problem("g1", "census", ["income", "marital"], processed_dir / "census")
    spec = problem.inputs
    assert spec.kind == "tabular" and spec.n_continuous == len(census.CONTINUOUS)
    assert spec.categories == tuple(card["cardinalities"][c] for c in census.NOMINAL)
    assert spec.n_features == card["n_features"]
    codes = problem.splits["train"].x[:, spec.n_continuous :]
    assert torch.equal(codes, codes.round()) and (codes >= 0).all()


def test_loader_rejects_processed_files_of_an_older_layout(processed_dir: Path, tmp_path: Path):
    import shutil

    old = tmp_path / "census"
    shutil.copytree(processed_dir / "census", old)
    card = json.loads((old / "card.json").read_text())
    del card["format"]
    (old / "card.json").write_text(json.dumps(card))
    with pytest.raises(ValueError, match=r"card.json: field 'format' is None, expected 3"):
        load_problem("g1", "census", ["income"], old)


def test_wrong_field_count_names_the_file(tmp_path: Path):
    path = tmp_path / "bad.data.gz"
    with gzip.open(path, "wt") as handle:
        handle.write("1, 2, 3\n4, 5, 6\n")
    with pytest.raises(ValueError, match=r"bad\.data\.gz: rows have 3 fields, expected 42"):
        census.read_census(path)


def test_non_numeric_continuous_field_names_row_and_field(tmp_path: Path):
    rows = census_rows(3, seed=3)
    rows[1][census.COLUMNS.index("age")] = "old"
    path = tmp_path / "bad.gz"
    write_census(path, rows)
    with pytest.raises(ValueError, match=r"row 2, field 'age' is 'old', expected a number"):
        census.read_census(path)


def test_unknown_college_value_is_rejected(tmp_path: Path, raw_dir: Path):
    with pytest.raises(ValueError, match="census.college_education lists"):
        census.preprocess_census(
            raw_dir / "census-income.data.gz", raw_dir / "census-income.test.gz", tmp_path,
            ["Bachelor degree (typo)"], 0,
        )  # fmt: skip
    assert not any(tmp_path.iterdir())


def test_short_row_is_named(tmp_path: Path):
    rows = census_rows(4, seed=4)
    rows[2] = rows[2][:39]
    path = tmp_path / "short.gz"
    write_census(path, rows)
    with pytest.raises(ValueError, match=r"short\.gz: row 3 has 39 fields, expected 42"):
        census.read_census(path)


def test_empty_file_is_named(tmp_path: Path):
    path = tmp_path / "empty.gz"
    write_census(path, [])
    with pytest.raises(ValueError, match=r"empty\.gz: the file is empty"):
        census.read_census(path)
