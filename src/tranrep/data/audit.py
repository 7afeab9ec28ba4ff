"""Data audit of the processed datasets, for the replication report.

``audit_processed`` reads one processed folder (train/validation/test Parquet files and the data
card written by ``tranrep.data.census``, ``fashion_mnist`` or ``sarcos``) and returns findings:
plain dicts with the dataset, a short machine name of the check, its value and one English
sentence that states it with its numbers. Some findings repeat what preprocessing recorded in the
card (duplicates on raw attributes, label rates); the overlaps between splits are computed here
from the Parquet files by hashing whole rows (64-bit hashes: a false match among a few hundred
thousand rows has a probability below 1e-8).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from tranrep.data import census, fashion_mnist, sarcos
from tranrep.data.parquet import SPLITS
from tranrep.io import read_json

log = logging.getLogger(__name__)

Finding = dict[str, Any]
# Size of the SARCOS training file (sarcos_inv.mat) on the GPML data page.
SARCOS_TRAIN_FILE_ROWS = 44_484
# Decimals kept when SARCOS input vectors are compared.
SARCOS_DECIMALS = 6
CENSUS_LABEL_MEANINGS = {
    "income": "income above $50,000",
    "marital": "never married",
    "education": "a college degree, as listed in the data card's college_education",
}
# Attributes the card's duplicate counts compare: every raw column but these two.
CENSUS_DUPLICATE_ATTRIBUTES = [
    c for c in census.COLUMNS if c not in ("instance_weight", "income_label")
]


def audit_processed(dataset: str, folder: Path) -> list[Finding]:
    """Findings of the data audit of one processed folder.

    ``dataset`` is ``census``, ``fashion_mnist`` or ``sarcos``; ``folder`` holds its
    ``train.parquet``, ``validation.parquet``, ``test.parquet`` and ``card.json``. Each finding is
    ``{"dataset", "check", "value", "detail"}``. Raises ``ValueError`` for an unknown dataset or a
    card or file that does not fit it, ``FileNotFoundError`` naming a missing folder or file.
    """
    if dataset not in AUDITS:
        raise ValueError(f"{folder}: unknown dataset {dataset!r}; expected one of {sorted(AUDITS)}")
    folder = Path(folder)
    paths = _split_paths(folder)
    card_path = folder / "card.json"
    card = read_json(card_path)
    if card.get("dataset") != dataset:
        raise ValueError(
            f"{card_path}: field 'dataset' is {card.get('dataset')!r}, expected {dataset!r}"
        )
    start = time.perf_counter()
    findings = _row_findings(dataset, paths, card)
    findings += AUDITS[dataset](paths, card, card_path)
    log.info(
        "audit %s (%s): %d findings in %.2f s",
        dataset, folder, len(findings), time.perf_counter() - start,
    )  # fmt: skip
    return findings


# --- shared helpers ---------------------------------------------------------------------------


def _finding(dataset: str, check: str, value: int | float | str, detail: str) -> Finding:
    """One finding; ``check`` is a short machine name, ``detail`` one plain English sentence."""
    return {"dataset": dataset, "check": check, "value": value, "detail": detail}


def _split_paths(folder: Path) -> dict[str, Path]:
    """The three split files of ``folder``, checking that the folder, they and the card exist."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: processed data folder does not exist")
    paths = {split: folder / f"{split}.parquet" for split in SPLITS}
    for path in [*paths.values(), folder / "card.json"]:
        if not path.is_file():
            raise FileNotFoundError(f"{path}: missing; preprocess the dataset again")
    return paths


def _card_field(card: dict, card_path: Path, *keys: str) -> Any:
    """``card[keys[0]][keys[1]]...``; a missing field is an error naming the card and field."""
    value: Any = card
    for depth, key in enumerate(keys):
        if not isinstance(value, dict) or key not in value:
            field = ".".join(keys[: depth + 1])
            raise ValueError(f"{card_path}: field {field!r} is missing")
        value = value[key]
    return value


def _checked_columns(path: Path, columns: list[str]) -> list[str]:
    """``columns``, once the file's schema is known to hold them all (else an error naming both)."""
    names = pq.read_schema(path).names
    missing = [c for c in columns if c not in names]
    if missing:
        raise ValueError(f"{path}: columns {missing} are missing (the file has {names})")
    return columns


def _read_columns(path: Path, columns: list[str]) -> pd.DataFrame:
    """Only the named columns of a Parquet file, as a data frame."""
    return pq.read_table(path, columns=_checked_columns(path, columns)).to_pandas()


def _row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash of every row's values (the index is ignored), computed column-wise."""
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


def _count_duplicates(hashes: np.ndarray) -> int:
    """Rows whose values repeat an earlier row of the same array."""
    return int(len(hashes) - len(np.unique(hashes)))


def _share(part: int, whole: int) -> str:
    """``part`` out of ``whole`` as a percentage with one decimal."""
    return f"{100.0 * part / whole:.1f}%" if whole else "0.0%"


def _row_findings(dataset: str, paths: dict[str, Path], card: dict) -> list[Finding]:
    """Rows per split, from the Parquet footers; a disagreement with the card is stated."""
    findings = []
    for split, path in paths.items():
        rows = pq.ParquetFile(path).metadata.num_rows
        detail = f"The {split} split has {rows:,} rows"
        card_rows = card.get("rows", {}).get(split)
        if card_rows is not None and card_rows != rows:
            log.warning("%s: %d rows, but the data card says %d", path, rows, card_rows)
            detail += f", but the data card says {card_rows:,}"
        findings.append(_finding(dataset, f"rows_{split}", rows, detail + "."))
    return findings


def _overlap_findings(
    dataset: str, what: str, hashes: dict[str, np.ndarray], noun: str, sameness: str
) -> list[Finding]:
    """Test rows whose hash occurs in train, in validation, and in either of them; the checks
    are named ``test_{what}_in_...`` and the sentences say "N of the M test {noun} {sameness}"."""
    test = hashes["test"]
    seen = {
        "train": np.isin(test, hashes["train"]),
        "validation": np.isin(test, hashes["validation"]),
    }
    seen["train_or_validation"] = seen["train"] | seen["validation"]
    findings = []
    for where, mask in seen.items():
        count = int(mask.sum())
        detail = (
            f"{count:,} of the {len(test):,} test {noun} ({_share(count, len(test))}) "
            f"{sameness} of the {where.replace('_', ' ')} split{'s' if '_or_' in where else ''}."
        )
        findings.append(_finding(dataset, f"test_{what}_in_{where}", count, detail))
    return findings


# --- Census-income ----------------------------------------------------------------------------


def _audit_census(paths: dict[str, Path], card: dict, card_path: Path) -> list[Finding]:
    """Duplicates and label rates from the card; test feature vectors seen in train/validation."""
    features = census.CONTINUOUS + census.NOMINAL
    findings = []
    for split in SPLITS:
        duplicates = int(_card_field(card, card_path, "duplicates", split))
        rows = int(_card_field(card, card_path, "rows", split))
        findings.append(_finding(
            "census", f"duplicates_{split}", duplicates,
            f"The data card counts {duplicates:,} of the {rows:,} {split} rows "
            f"({_share(duplicates, rows)}) as exact repeats of an earlier row of the same split, "
            f"comparing the {len(CENSUS_DUPLICATE_ATTRIBUTES)} raw attributes other than the "
            "instance weight and the income label.",
        ))  # fmt: skip
    hashes = {split: _row_hashes(_census_features(path, features)) for split, path in paths.items()}
    findings += _overlap_findings(
        "census", "rows", hashes, "rows",
        f"have a feature vector ({len(census.CONTINUOUS)} continuous values and "
        f"{len(census.NOMINAL)} nominal codes, labels excluded) identical to a row",
    )  # fmt: skip
    for split in SPLITS:
        for label in census.LABELS:
            rate = float(_card_field(card, card_path, "label_rates", split, label))
            findings.append(_finding(
                "census", f"label_rate_{label}_{split}", rate,
                f"In the {split} split, {100 * rate:.2f}% of rows are positive for the {label} "
                f"label ({CENSUS_LABEL_MEANINGS.get(label, label)}).",
            ))  # fmt: skip
    for pair, value in sorted(card.get("label_pearson_train", {}).items()):
        first, second = pair.split("~")
        findings.append(_finding(
            "census", f"label_pearson_{first}_{second}", float(value),
            f"On the train split, the Pearson correlation between the {first} and {second} "
            f"labels is {value:.4f} (absolute value {abs(value):.4f}).",
        ))  # fmt: skip
    return findings


def _census_features(path: Path, features: list[str]) -> pd.DataFrame:
    """The continuous values and nominal codes of one split; -0.0 becomes 0.0 so that equal
    numbers hash alike whatever the pandas version (pandas 3 does so itself, older ones not)."""
    frame = _read_columns(path, features)
    frame[census.CONTINUOUS] = frame[census.CONTINUOUS] + 0.0
    return frame


# --- Fashion-MNIST ----------------------------------------------------------------------------


def _audit_fashion_mnist(paths: dict[str, Path], card: dict, card_path: Path) -> list[Finding]:
    """Byte-identical images within and across splits, group rates and class balance."""
    class_names = list(_card_field(card, card_path, "class_names"))
    group_names = list(_card_field(card, card_path, "group_names"))
    hashes, counts = {}, {}
    for split, path in paths.items():
        hashes[split], counts[split] = _fashion_split(path, len(class_names))
    findings = []
    for split in SPLITS:
        repeats, rows = _count_duplicates(hashes[split]), len(hashes[split])
        findings.append(_finding(
            "fashion_mnist", f"duplicate_images_{split}", repeats,
            f"{repeats:,} of the {rows:,} {split} images ({_share(repeats, rows)}) are "
            "byte-identical to an earlier image of the same split.",
        ))  # fmt: skip
    seen = int(np.isin(hashes["validation"], hashes["train"]).sum())
    findings.append(_finding(
        "fashion_mnist", "validation_images_in_train", seen,
        f"{seen:,} of the {len(hashes['validation']):,} validation images "
        f"({_share(seen, len(hashes['validation']))}) are byte-identical to an image of the "
        "train split.",
    ))  # fmt: skip
    findings += _overlap_findings(
        "fashion_mnist", "images", hashes, "images", "are byte-identical to an image"
    )
    for split in SPLITS:
        for name in group_names:
            rate = float(_card_field(card, card_path, "label_rates", split, "group3", name))
            findings.append(_finding(
                "fashion_mnist", f"group_rate_{name.replace(' ', '_')}_{split}", rate,
                f"In the {split} split, {100 * rate:.2f}% of images belong to the {name!r} group.",
            ))  # fmt: skip
        findings.append(_class_balance(split, counts[split], class_names))
    return findings


def _fashion_split(path: Path, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of the 784 image bytes of every row, and the image count of each class."""
    table = pq.read_table(path, columns=_checked_columns(path, ["image", "class10"]))
    pixels = fashion_mnist.image_pixels(table).reshape(table.num_rows, -1)
    # 784 bytes are 98 uint64 words: hashing 98 columns is much faster than 784
    words = np.ascontiguousarray(pixels).view(np.uint64)
    classes = table.column("class10").to_numpy()
    if classes.size and (classes.min() < 0 or classes.max() >= n_classes):
        raise ValueError(
            f"{path}: column 'class10' holds values outside 0-{n_classes - 1}, the classes of "
            "the data card"
        )
    return _row_hashes(pd.DataFrame(words)), np.bincount(classes, minlength=n_classes)


def _class_balance(split: str, counts: np.ndarray, class_names: list[str]) -> Finding:
    """Smallest over largest class count, with every class's count in the sentence."""
    smallest, largest = int(np.argmin(counts)), int(np.argmax(counts))
    ratio = float(counts[smallest] / counts[largest]) if counts[largest] else 0.0
    if counts[smallest] == counts[largest]:
        detail = (
            f"Each of the {len(class_names)} classes of the {split} split holds "
            f"{int(counts[largest]):,} images, a smallest-to-largest ratio of {ratio:.3f}."
        )
    else:
        listing = ", ".join(f"{n} {int(c):,}" for n, c in zip(class_names, counts, strict=True))
        detail = (
            f"The {len(class_names)} classes of the {split} split hold between "
            f"{int(counts[smallest]):,} ({class_names[smallest]}) and {int(counts[largest]):,} "
            f"({class_names[largest]}) images, a smallest-to-largest ratio of {ratio:.3f} "
            f"({listing})."
        )
    return _finding("fashion_mnist", f"class_balance_{split}", ratio, detail)


# --- SARCOS -----------------------------------------------------------------------------------


def _audit_sarcos(paths: dict[str, Path], card: dict, card_path: Path) -> list[Finding]:
    """The preprocessing mode, the training-file overlap where known, and test inputs that occur
    in our train or validation split."""
    mode = _card_field(card, card_path, "mode")
    if mode == "standard":
        findings = _sarcos_standard(card, card_path)
    elif mode == "reduced":
        findings = _sarcos_reduced(card, card_path)
    else:
        raise ValueError(f"{card_path}: field 'mode' is {mode!r}, expected 'standard' or 'reduced'")
    hashes = {split: _row_hashes(_sarcos_inputs(path)) for split, path in paths.items()}
    findings += _overlap_findings(
        "sarcos", "inputs", hashes, "rows",
        f"have {len(sarcos.INPUTS)} input values that, as stored (normalised) and rounded to "
        f"{SARCOS_DECIMALS} decimals, equal those of a row",
    )  # fmt: skip
    return findings


def _sarcos_inputs(path: Path) -> pd.DataFrame:
    """The 21 stored inputs of one split rounded to 6 decimals; -0.0 becomes 0.0 (see
    ``_census_features``)."""
    return _read_columns(path, sarcos.INPUTS).round(SARCOS_DECIMALS) + 0.0


def _sarcos_standard(card: dict, card_path: Path) -> list[Finding]:
    """Standard mode: the card's count of test rows whose inputs occur in the training file."""
    train_file_rows = sum(int(_card_field(card, card_path, "rows", s)) for s in SPLITS[:2])
    test_rows = int(_card_field(card, card_path, "rows", "test"))
    overlap = int(_card_field(card, card_path, "test_inputs_in_train_file"))
    return [
        _finding(
            "sarcos", "mode", "standard",
            f"SARCOS was preprocessed in standard mode: the {train_file_rows:,}-row training "
            f"file gave the train and validation splits and the {test_rows:,}-row public test "
            "file is the test split.",
        ),
        _finding(
            "sarcos", "test_inputs_in_train_file", overlap,
            f"{overlap:,} of the {test_rows:,} test rows have {len(sarcos.INPUTS)} inputs "
            f"(rounded to {SARCOS_DECIMALS} decimals) that also occur in the "
            f"{train_file_rows:,}-row training file; the public test file is known to be drawn "
            "from the training file, so test inputs already seen in training inflate the test "
            "scores of methods that memorise.",
        ),
    ]  # fmt: skip


def _sarcos_reduced(card: dict, card_path: Path) -> list[Finding]:
    """Reduced mode: the public test file split in contiguous blocks; no training file."""
    rows = [int(_card_field(card, card_path, "rows", s)) for s in SPLITS]
    fractions = list(_card_field(card, card_path, "reduced_fractions"))
    shares = ", ".join(f"{100 * f:g}%" for f in fractions)
    return [
        _finding(
            "sarcos", "mode", "reduced",
            f"The {SARCOS_TRAIN_FILE_ROWS:,}-row SARCOS training file was unavailable, so these "
            f"numbers come from splitting the {sum(rows):,}-row public test file into contiguous "
            f"train, validation and test blocks of {shares} of its rows "
            f"({', '.join(f'{r:,}' for r in rows)} rows).",
        ),
        _finding(
            "sarcos", "test_inputs_in_train_file", "not checkable",
            f"Whether test inputs also occur in the {SARCOS_TRAIN_FILE_ROWS:,}-row training file "
            "cannot be checked because that file was unavailable; it was not used for training "
            "either, so only the overlap between our own splits, reported below, can inflate "
            "these test scores.",
        ),
    ]  # fmt: skip


AUDITS: dict[str, Callable[[dict[str, Path], dict, Path], list[Finding]]] = {
    "census": _audit_census,
    "fashion_mnist": _audit_fashion_mnist,
    "sarcos": _audit_sarcos,
}
