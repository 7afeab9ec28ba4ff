"""Small generated raw files in the real formats, and a params override that points at them."""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import sys
from pathlib import Path

import numpy as np
import scipy.io
import yaml

from tranrep.data.census import COLUMNS

EDUCATION = ["Bachelors degree(BA AB BS)", "High school graduate", "Children",
             "Masters degree(MA MS MEng MEd MSW MBA)", "Some college but no degree"]  # fmt: skip
MARITAL = ["Never married", "Married-civilian spouse present", "Divorced", "Widowed"]
WORKER = ["Private", "Not in universe", "Self-employed-incorporated"]


def census_rows(n_rows: int, seed: int) -> list[list[str]]:
    """Rows of 42 fields with learnable structure: income and marital depend on age and work."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n_rows):
        age = int(rng.integers(0, 91))
        weeks = int(rng.integers(0, 53))
        education = EDUCATION[int(rng.integers(len(EDUCATION)))]
        marital = MARITAL[0] if age < 25 or rng.random() < 0.1 else MARITAL[int(rng.integers(1, 4))]
        rich = weeks > 40 and age > 30 and rng.random() < 0.6
        fields = {name: "Not in universe" for name in COLUMNS}
        fields |= {
            "age": str(age), "wage_per_hour": str(int(rng.integers(0, 2000))),
            "capital_gains": "0", "capital_losses": "0",
            "dividends_from_stocks": str(int(rng.integers(0, 100))),
            "num_persons_worked_for_employer": str(int(rng.integers(0, 7))),
            "weeks_worked_in_year": str(weeks), "instance_weight": f"{rng.uniform(40, 4000):.2f}",
            "education": education, "marital_stat": marital,
            "class_of_worker": WORKER[int(rng.integers(len(WORKER)))],
            "sex": "Female" if rng.random() < 0.5 else "Male", "year": "94" if age % 2 else "95",
            "detailed_industry_recode": str(int(rng.integers(0, 5))),
            "income_label": "50000+." if rich else "- 50000.",
        }  # fmt: skip
        rows.append([fields[name] for name in COLUMNS])
    return rows


def write_census(path: Path, rows: list[list[str]]) -> None:
    text = "".join(", ".join(row) + "\n" for row in rows)
    with gzip.open(path, "wt", encoding="ascii") as handle:
        handle.write(text)


def write_idx(path: Path, array: np.ndarray) -> None:
    magic = 2051 if array.ndim == 3 else 2049
    header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


def fashion_arrays(n_rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Images whose brightness pattern reveals the class, so that a model can learn it."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n_rows).astype(np.uint8)
    images = rng.integers(0, 60, (n_rows, 28, 28)).astype(np.uint8)
    for k, label in enumerate(labels):
        images[k, int(label) * 2 : int(label) * 2 + 8, :] = 250
    return images, labels


def sarcos_matrix(n_rows: int, seed: int) -> np.ndarray:
    """21 inputs and 7 targets that are smooth functions of them, the same in every file."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_rows, 21))
    weights = np.random.default_rng(2019).normal(size=(21, 7))
    y = np.tanh(x @ weights / 4) * 10 + 0.05 * rng.normal(size=(n_rows, 7))
    return np.round(np.hstack([x, y]), 6)


def digest(path: Path, kind: str = "sha256") -> str:
    """sha256 of decompressed content for .gz files; git blob id otherwise when asked."""
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    if kind == "git-blob":
        return "git-blob:" + hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    return "sha256:" + hashlib.sha256(data).hexdigest()


def build_raw_files(folder: Path, seed: int = 0) -> dict[str, Path]:
    """Write every raw file of the three datasets in its real format under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    write_census(folder / "census-income.data.gz", census_rows(600, seed))
    write_census(folder / "census-income.test.gz", census_rows(400, seed + 1))
    for part, n_rows in (("train", 400), ("t10k", 120)):
        images, labels = fashion_arrays(n_rows, seed + n_rows)
        write_idx(folder / f"{part}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{part}-labels-idx1-ubyte.gz", labels)
    scipy.io.savemat(folder / "sarcos_inv.mat", {"sarcos_inv": sarcos_matrix(500, seed)})
    scipy.io.savemat(
        folder / "sarcos_inv_test.mat", {"sarcos_inv_test": sarcos_matrix(300, seed + 7)}
    )
    for path in sorted(folder.iterdir()):
        files[path.name] = path
    return files


def fixture_params(raw_folder: Path, experiment: str = "fixture") -> dict:
    """A params override: fixture hashes and sources, one seed, tiny training."""
    files = {}
    for name in sorted(p.name for p in raw_folder.iterdir()):
        kind = "git-blob" if name == "sarcos_inv.mat" else "sha256"
        files[name] = {
            "hash": digest(raw_folder / name, kind),
            "mirror_path": f"unused/{name}",
            "sources": [str(raw_folder / name)],
        }
    return {
        "experiment": experiment,
        "seeds": [0],
        "data": {"files": files},
        "census": {"college_education": [EDUCATION[0], EDUCATION[3]]},
        "fashion_mnist": {"validation_size": 80},
        "training": {
            "max_epochs": {"census_group1": 2, "census_group2": 2, "fashion_mnist": 2, "sarcos": 3},
            "batch_size": {
                "census_group1": 64,
                "census_group2": 64,
                "fashion_mnist": 32,
                "sarcos": 64,
            },
            "eval_batch_size": 256,
        },  # fmt: skip
    }


def write_params(path: Path, params: dict) -> Path:
    path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    return path


def tool_env(**overrides: str) -> dict[str, str]:
    """The environment of the Snakemake or DVC a test starts: this Python's bin folder first on
    the PATH (rules call `tranrep`), and no SNAKEMAKE_PROFILE from the caller's shell, so a run
    is local unless the test names a profile (in ``overrides``)."""
    env = {k: v for k, v in os.environ.items() if k != "SNAKEMAKE_PROFILE"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    return {**env, **overrides}
