"""Census-income (KDD) to Parquet, following the MMoE paper's construction (Ma et al., KDD 2018).

The official training file trains; the official test file is split 1:1 at random into validation
and test. Labels: ``income`` (> 50K), ``marital`` (never married) and ``education`` (at least
college, a configurable list of education values). The columns that define labels and the
instance weight are not inputs. Continuous columns are standardised with training statistics.
Nominal columns are coded 0..V with the training vocabulary of V values plus an unknown slot (code
V); the models see them one-hot (``tranrep.models.base.InputLinear``), and the files keep the codes,
which are 11 times smaller than the 521 one-hot columns and faster to read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from tranrep.data.parquet import PROCESSED_FORMAT, SPLITS, write_table
from tranrep.io import write_json

log = logging.getLogger(__name__)

COLUMNS = [
    "age", "class_of_worker", "detailed_industry_recode", "detailed_occupation_recode",
    "education", "wage_per_hour", "enroll_in_edu_inst_last_wk", "marital_stat",
    "major_industry_code", "major_occupation_code", "race", "hispanic_origin", "sex",
    "member_of_a_labor_union", "reason_for_unemployment", "full_or_part_time_employment_stat",
    "capital_gains", "capital_losses", "dividends_from_stocks", "tax_filer_stat",
    "region_of_previous_residence", "state_of_previous_residence",
    "detailed_household_and_family_stat", "detailed_household_summary_in_household",
    "instance_weight", "migration_code_change_in_msa", "migration_code_change_in_reg",
    "migration_code_move_within_reg", "live_in_this_house_1_year_ago",
    "migration_prev_res_in_sunbelt", "num_persons_worked_for_employer",
    "family_members_under_18", "country_of_birth_father", "country_of_birth_mother",
    "country_of_birth_self", "citizenship", "own_business_or_self_employed",
    "fill_inc_questionnaire_for_veterans_admin", "veterans_benefits", "weeks_worked_in_year",
    "year", "income_label",
]  # fmt: skip
CONTINUOUS = [
    "age", "wage_per_hour", "capital_gains", "capital_losses", "dividends_from_stocks",
    "num_persons_worked_for_employer", "weeks_worked_in_year",
]  # fmt: skip
NOT_INPUTS = ["income_label", "marital_stat", "education", "instance_weight"]
NOMINAL = [c for c in COLUMNS if c not in CONTINUOUS and c not in NOT_INPUTS]
LABELS = ["income", "marital", "education"]
POSITIVE_INCOME = "50000+."
NEVER_MARRIED = "Never married"
UNKNOWN = "__unknown__"


@dataclass(frozen=True)
class CensusEncoding:
    """The training-set vocabulary and normalisation, applied unchanged to every split."""

    vocabularies: dict[str, list[str]]
    means: dict[str, float]
    stds: dict[str, float]

    @property
    def cardinalities(self) -> list[int]:
        """Codes per nominal column: its training values plus the unknown slot."""
        return [len(self.vocabularies[c]) + 1 for c in NOMINAL]

    @property
    def feature_names(self) -> list[str]:
        """Names of the one-hot input features, in the order the models see them."""
        names = list(CONTINUOUS)
        for column in NOMINAL:
            names += [f"{column}={value}" for value in self.vocabularies[column]]
            names.append(f"{column}={UNKNOWN}")
        return names


def read_census(path: Path) -> pd.DataFrame:
    """Read one Census-income file (42 comma-separated fields per row) as strings and floats."""
    try:
        frame = pd.read_csv(
            path,
            header=None,
            sep=",",
            skipinitialspace=True,
            dtype=str,
            keep_default_na=False,
            compression="infer",
        )
    except pd.errors.EmptyDataError as error:
        raise ValueError(f"{path}: the file is empty, expected Census-income rows") from error
    except (pd.errors.ParserError, EOFError, OSError) as error:
        raise ValueError(f"{path}: cannot be read as Census-income data ({error})") from error
    if frame.shape[1] != len(COLUMNS):
        raise ValueError(f"{path}: rows have {frame.shape[1]} fields, expected {len(COLUMNS)}")
    short = (frame.iloc[:, -1].isna() | (frame.iloc[:, -1] == "")).to_numpy()
    if short.any():  # the parser pads a short row with empty fields at its end
        row = int(np.flatnonzero(short)[0])
        filled = np.flatnonzero(frame.iloc[row].fillna("").to_numpy() != "")
        n_fields = int(filled[-1]) + 1 if filled.size else 0
        raise ValueError(f"{path}: row {row + 1} has {n_fields} fields, expected {len(COLUMNS)}")
    frame.columns = COLUMNS
    for column in CONTINUOUS + ["instance_weight"]:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(
                f"{path}: row {row + 1}, field {column!r} is {frame[column].iloc[row]!r}, "
                "expected a number"
            )
        frame[column] = values.astype(np.float64)
    labels = set(frame["income_label"].str.rstrip("."))
    expected = {"- 50000", "50000+"}
    if not labels <= expected:
        raise ValueError(
            f"{path}: field 'income_label' has values {sorted(labels - expected)}, "
            "expected '- 50000.' or '50000+.'"
        )
    return frame


def census_labels(frame: pd.DataFrame, college_education: list[str]) -> pd.DataFrame:
    """The three binary labels of section 4.1: income > 50K, never married, at least college."""
    return pd.DataFrame(
        {
            "income": (frame["income_label"] == POSITIVE_INCOME).astype(np.int8),
            "marital": (frame["marital_stat"] == NEVER_MARRIED).astype(np.int8),
            "education": frame["education"].isin(college_education).astype(np.int8),
        }
    )


def fit_encoding(train: pd.DataFrame) -> CensusEncoding:
    """Vocabulary of every nominal column and mean/std of every continuous one, on training data."""
    vocabularies = {c: sorted(train[c].unique().tolist()) for c in NOMINAL}
    means = {c: float(train[c].mean()) for c in CONTINUOUS}
    stds = {c: float(train[c].std(ddof=0)) or 1.0 for c in CONTINUOUS}
    return CensusEncoding(vocabularies, means, stds)


def encode_features(frame: pd.DataFrame, encoding: CensusEncoding) -> tuple[np.ndarray, np.ndarray]:
    """Standardised continuous columns (float32) and nominal codes (int16, unseen values get the
    unknown slot), one column per attribute."""
    continuous = np.column_stack(
        [(frame[c].to_numpy() - encoding.means[c]) / encoding.stds[c] for c in CONTINUOUS]
    ).astype(np.float32)
    codes = np.empty((len(frame), len(NOMINAL)), dtype=np.int16)
    for index, column in enumerate(NOMINAL):
        vocabulary = encoding.vocabularies[column]
        column_codes = pd.Index(vocabulary).get_indexer(frame[column])
        column_codes[column_codes < 0] = len(vocabulary)
        codes[:, index] = column_codes
    return continuous, codes


def one_hot(continuous: np.ndarray, codes: np.ndarray, cardinalities: list[int]) -> np.ndarray:
    """The dense one-hot feature matrix, in the order of ``feature_names`` (continuous first)."""
    blocks = [continuous.astype(np.float32)]
    for index, size in enumerate(cardinalities):
        block = np.zeros((len(codes), size), dtype=np.float32)
        block[np.arange(len(codes)), codes[:, index]] = 1.0
        blocks.append(block)
    return np.hstack(blocks)


def census_schema() -> pa.Schema:
    """Parquet schema: the source row number, three int8 labels, standardised continuous columns
    (float32) and nominal codes (int16)."""
    fields = [pa.field("row_id", pa.int64(), nullable=False)]
    fields += [pa.field(name, pa.int8(), nullable=False) for name in LABELS]
    fields += [pa.field(name, pa.float32(), nullable=False) for name in CONTINUOUS]
    fields += [pa.field(name, pa.int16(), nullable=False) for name in NOMINAL]
    return pa.schema(fields)


def split_validation_test(n_rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split the official test file's rows 1:1 at random into validation and test indices."""
    order = np.random.default_rng(seed).permutation(n_rows)
    half = n_rows // 2
    return np.sort(order[:half]), np.sort(order[half:])


def preprocess_census(
    train_path: Path,
    test_path: Path,
    out_dir: Path,
    college_education: list[str],
    split_seed: int,
) -> dict:
    """Write train/validation/test Parquet files and the data card; return the card."""
    train = read_census(train_path)
    official_test = read_census(test_path)
    unknown = sorted(set(college_education) - set(train["education"].unique()))
    if unknown:
        raise ValueError(
            f"params.yaml: census.college_education lists {unknown}, which never occur in "
            f"field 'education' of {train_path}; expected values such as "
            f"{sorted(train['education'].unique())[:4]}"
        )
    validation_rows, test_rows = split_validation_test(len(official_test), split_seed)
    frames = {
        "train": train,
        "validation": official_test.iloc[validation_rows],
        "test": official_test.iloc[test_rows],
    }
    encoding = fit_encoding(train)
    schema = census_schema()
    card: dict = {
        "dataset": "census",
        "format": PROCESSED_FORMAT,
        "rows": {},
        "label_rates": {},
        "duplicates": {},
    }
    for split in SPLITS:
        frame = frames[split]
        labels = census_labels(frame, college_education)
        continuous, codes = encode_features(frame, encoding)
        columns = {"row_id": frame.index.to_numpy(dtype=np.int64)}
        columns |= {name: labels[name].to_numpy() for name in LABELS}
        columns |= {name: continuous[:, k] for k, name in enumerate(CONTINUOUS)}
        columns |= {name: codes[:, k] for k, name in enumerate(NOMINAL)}
        write_table(out_dir / f"{split}.parquet", pa.table(columns), schema)
        card["rows"][split] = len(frame)
        card["label_rates"][split] = {name: float(labels[name].mean()) for name in LABELS}
        attributes = [c for c in COLUMNS if c not in ("instance_weight", "income_label")]
        card["duplicates"][split] = int(frame.duplicated(subset=attributes).sum())
        log.info("census %s: %d rows", split, len(frame))
    train_labels = census_labels(train, college_education)
    card |= {
        "n_features": len(encoding.feature_names),
        "inputs": {"continuous": CONTINUOUS, "nominal": NOMINAL, "excluded": NOT_INPUTS},
        "vocabulary_sizes": {c: len(v) for c, v in encoding.vocabularies.items()},
        "cardinalities": dict(zip(NOMINAL, encoding.cardinalities, strict=True)),
        "feature_names": encoding.feature_names,
        "normalisation": {
            c: {"mean": encoding.means[c], "std": encoding.stds[c]} for c in CONTINUOUS
        },
        "college_education": college_education,
        "split_seed": split_seed,
        "label_pearson_train": {
            "income~marital": float(train_labels["income"].corr(train_labels["marital"])),
            "education~marital": float(train_labels["education"].corr(train_labels["marital"])),
        },
    }
    write_json(out_dir / "card.json", card)
    return card
