"""Load a processed dataset as the in-memory tensors of one multi-task problem."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from tranrep.data import census, fashion_mnist, sarcos
from tranrep.data.parquet import SPLITS, float_matrix, read_table
from tranrep.io import read_json


@dataclass(frozen=True)
class TaskSpec:
    """One task: its name, kind (binary, multiclass or regression) and output width."""

    name: str
    kind: str
    n_outputs: int
    target_mean: float = 0.0
    target_std: float = 1.0

    @property
    def is_classification(self) -> bool:
        return self.kind != "regression"


@dataclass
class SplitTensors:
    """Inputs and per-task targets of one split, plus the source row numbers."""

    x: torch.Tensor
    y: list[torch.Tensor]
    row_id: np.ndarray

    def __len__(self) -> int:
        return self.x.shape[0]


@dataclass
class ProblemData:
    """A multi-task problem ready for training: every task shares the inputs (X_i = X_s)."""

    name: str
    input_kind: str
    input_shape: tuple[int, ...]
    tasks: list[TaskSpec]
    splits: dict[str, SplitTensors]

    def to(self, device: torch.device) -> ProblemData:
        for split in self.splits.values():
            split.x = split.x.to(device)
            split.y = [y.to(device) for y in split.y]
        return self


def _census_split(path: Path, tasks: list[str]) -> SplitTensors:
    table = read_table(path)
    features = [n for n in table.schema.names if n not in ("row_id", *census.LABELS)]
    targets = [torch.from_numpy(table.column(t).to_numpy().astype(np.int64)) for t in tasks]
    x = torch.from_numpy(float_matrix(table, features))
    return SplitTensors(x, targets, table.column("row_id").to_numpy())


def _fashion_split(path: Path, tasks: list[str], mean: float, std: float) -> SplitTensors:
    table = read_table(path, fashion_mnist.SCHEMA)
    side = fashion_mnist.IMAGE_SIDE
    pixels = table.column("image").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    images = (pixels.reshape(-1, 1, side, side).astype(np.float32) / 255.0 - mean) / std
    targets = [torch.from_numpy(table.column(t).to_numpy().astype(np.int64)) for t in tasks]
    return SplitTensors(torch.from_numpy(images), targets, table.column("row_id").to_numpy())


def _sarcos_split(path: Path, tasks: list[str]) -> SplitTensors:
    table = read_table(path, sarcos.SCHEMA)
    x = torch.from_numpy(float_matrix(table, sarcos.INPUTS))
    targets = [torch.from_numpy(float_matrix(table, [t])[:, 0]) for t in tasks]
    return SplitTensors(x, targets, table.column("row_id").to_numpy())


def _check_tasks(dataset: str, tasks: list[str], allowed: list[str]) -> None:
    unknown = [t for t in tasks if t not in allowed]
    if unknown:
        raise ValueError(
            f"params.yaml: problems.*.tasks of dataset {dataset!r} lists {unknown}; "
            f"expected some of {allowed}"
        )


def load_problem(name: str, dataset: str, tasks: list[str], processed_dir: Path) -> ProblemData:
    """Read the three splits of ``dataset`` from ``processed_dir`` for the given tasks."""
    card = read_json(processed_dir / "card.json")
    paths = {split: processed_dir / f"{split}.parquet" for split in SPLITS}
    if dataset == "census":
        _check_tasks(dataset, tasks, census.LABELS)
        splits = {s: _census_split(p, tasks) for s, p in paths.items()}
        specs = [TaskSpec(t, "binary", 2) for t in tasks]
        return ProblemData(name, "tabular", (splits["train"].x.shape[1],), specs, splits)
    if dataset == "fashion_mnist":
        _check_tasks(dataset, tasks, fashion_mnist.TASKS)
        norm = card["normalisation"]
        splits = {s: _fashion_split(p, tasks, norm["mean"], norm["std"]) for s, p in paths.items()}
        widths = {"class10": len(card["class_names"]), "group3": len(card["group_names"])}
        specs = [TaskSpec(t, "multiclass", widths[t]) for t in tasks]
        side = fashion_mnist.IMAGE_SIDE
        return ProblemData(name, "image", (1, side, side), specs, splits)
    if dataset == "sarcos":
        _check_tasks(dataset, tasks, sarcos.TARGETS)
        splits = {s: _sarcos_split(p, tasks) for s, p in paths.items()}
        norm = card["normalisation"]
        specs = [TaskSpec(t, "regression", 1, norm[t]["mean"], norm[t]["std"]) for t in tasks]
        return ProblemData(name, "tabular", (len(sarcos.INPUTS),), specs, splits)
    raise ValueError(f"params.yaml: unknown dataset {dataset!r}")
