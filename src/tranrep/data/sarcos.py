"""SARCOS inverse dynamics (GPML data page) to Parquet.

21 inputs (7 joint positions, velocities, accelerations) and 7 regression targets (one torque per
joint). In ``standard`` mode the 44,484-row training file trains (validation carved at random) and
the 4,449-row test file tests. In ``reduced`` mode only the public test file is used, split into
contiguous train / validation / test blocks. Inputs and targets are standardised with training
statistics; the data card keeps them so that RMSE is reported in torque units.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pyarrow as pa
import scipy.io

from tranrep.data.parquet import PROCESSED_FORMAT, SPLITS, write_table
from tranrep.io import write_json

log = logging.getLogger(__name__)

N_INPUTS = 21
N_TASKS = 7
INPUTS = [f"x_{k}" for k in range(1, N_INPUTS + 1)]
TARGETS = [f"torque_{k}" for k in range(1, N_TASKS + 1)]
SCHEMA = pa.schema(
    [pa.field("row_id", pa.int32(), nullable=False)]
    + [pa.field(name, pa.float64(), nullable=False) for name in INPUTS + TARGETS]
)


def read_sarcos(path: Path) -> np.ndarray:
    """Read the only matrix of a SARCOS .mat file; it must be N x 28 and finite."""
    try:
        contents = scipy.io.loadmat(path)
    except Exception as error:  # scipy raises many kinds on a file that is not MATLAB
        raise ValueError(f"{path}: not a readable MATLAB file ({error})") from error
    matrices = {k: v for k, v in contents.items() if not k.startswith("__")}
    if len(matrices) != 1:
        raise ValueError(f"{path}: holds variables {sorted(matrices)}, expected exactly one")
    ((name, matrix),) = matrices.items()
    if matrix.ndim != 2 or matrix.shape[1] != N_INPUTS + N_TASKS:
        raise ValueError(
            f"{path}: variable {name!r} has shape {matrix.shape}, "
            f"expected (N, {N_INPUTS + N_TASKS})"
        )
    if matrix.shape[0] == 0:
        raise ValueError(f"{path}: variable {name!r} has no rows")
    if not np.isfinite(matrix).all():
        raise ValueError(f"{path}: variable {name!r} holds NaN or infinite values")
    return matrix.astype(np.float64)


def contiguous_blocks(n_rows: int, fractions: list[float]) -> list[np.ndarray]:
    """Split ``range(n_rows)`` into consecutive blocks of the given fractions."""
    if not np.isclose(sum(fractions), 1.0):
        raise ValueError(f"params.yaml: sarcos.reduced_fractions {fractions} must sum to 1")
    edges = np.round(np.cumsum([0.0, *fractions]) * n_rows).astype(int)
    edges[-1] = n_rows
    return [np.arange(edges[k], edges[k + 1]) for k in range(len(fractions))]


def split_rows(
    mode: str,
    train: np.ndarray | None,
    test: np.ndarray,
    validation_fraction: float,
    split_seed: int,
    reduced_fractions: list[float],
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Rows of each split as (matrix, source row numbers)."""
    if mode not in ("standard", "reduced"):
        raise ValueError(f"sarcos.mode is {mode!r}; expected 'standard' or 'reduced'")
    if mode == "reduced":
        blocks = contiguous_blocks(len(test), reduced_fractions)
        return {split: (test[rows], rows) for split, rows in zip(SPLITS, blocks, strict=True)}
    if train is None:
        raise ValueError("SARCOS standard mode needs sarcos_inv.mat (the training file)")
    order = np.random.default_rng(split_seed).permutation(len(train))
    n_validation = int(round(validation_fraction * len(train)))
    validation_rows, train_rows = np.sort(order[:n_validation]), np.sort(order[n_validation:])
    test_rows = np.arange(len(test))
    return {
        "train": (train[train_rows], train_rows),
        "validation": (train[validation_rows], validation_rows),
        "test": (test, test_rows),
    }


def preprocess_sarcos(
    test_path: Path,
    out_dir: Path,
    mode: str,
    validation_fraction: float,
    split_seed: int,
    reduced_fractions: list[float],
    train_path: Path | None = None,
) -> dict:
    """Write train/validation/test Parquet files and the data card; return the card."""
    test = read_sarcos(test_path)
    train = read_sarcos(train_path) if train_path is not None else None
    splits = split_rows(mode, train, test, validation_fraction, split_seed, reduced_fractions)
    for split, (matrix, _) in splits.items():
        if len(matrix) < 2:
            raise ValueError(
                f"SARCOS {mode} mode: the {split} split has {len(matrix)} rows, expected at "
                "least 2 (check sarcos.reduced_fractions / validation_fraction in params.yaml)"
            )
    fit = splits["train"][0]
    mean, std = fit.mean(axis=0), fit.std(axis=0)
    std[std == 0] = 1.0
    card: dict = {
        "dataset": "sarcos",
        "format": PROCESSED_FORMAT,
        "mode": mode,
        "rows": {},
        "normalisation": {
            name: {"mean": float(mean[k]), "std": float(std[k])}
            for k, name in enumerate(INPUTS + TARGETS)
        },
    }
    if mode == "reduced":
        card["reduced_fractions"] = reduced_fractions
    else:
        card |= {"validation_fraction": validation_fraction, "split_seed": split_seed}
        train_inputs = {row.tobytes() for row in np.round(train[:, :N_INPUTS], 6)}
        card["test_inputs_in_train_file"] = int(
            sum(row.tobytes() in train_inputs for row in np.round(test[:, :N_INPUTS], 6))
        )
    for split in SPLITS:
        matrix, rows = splits[split]
        scaled = (matrix - mean) / std
        columns = {"row_id": rows.astype(np.int32)}
        columns |= {name: scaled[:, k] for k, name in enumerate(INPUTS + TARGETS)}
        write_table(out_dir / f"{split}.parquet", pa.table(columns), SCHEMA)
        card["rows"][split] = len(rows)
        log.info("sarcos (%s) %s: %d rows", mode, split, len(rows))
    write_json(out_dir / "card.json", card)
    return card
