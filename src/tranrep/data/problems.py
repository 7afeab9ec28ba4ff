"""Load a processed dataset as the in-memory tensors of one multi-task problem."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from tranrep.data import census, fashion_mnist, sarcos
from tranrep.data.parquet import PROCESSED_FORMAT, SPLITS, float_matrix, read_table
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


@dataclass(frozen=True)
class InputSpec:
    """How the rows of ``x`` encode the inputs X.

    ``image``: x has shape (n, *shape). ``tabular``: each row of x holds ``n_continuous`` real
    features, then one code per nominal attribute (stored as a float; attribute k takes values
    0..categories[k]-1). A model reads such a row as the one-hot vector of ``n_features`` entries:
    the real features followed by the indicators of every attribute's code.
    """

    kind: str
    shape: tuple[int, ...]
    n_continuous: int = 0
    categories: tuple[int, ...] = ()

    @property
    def code_offsets(self) -> tuple[int, ...]:
        """Where each nominal attribute's indicators start among all attributes' indicators."""
        return tuple(int(v) for v in np.cumsum([0, *self.categories[:-1]]))

    @property
    def n_features(self) -> int:
        """Width of one input once flattened (images) or one-hot expanded (tables)."""
        if self.kind == "image":
            return int(np.prod(self.shape))
        return self.n_continuous + sum(self.categories)


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
    inputs: InputSpec
    tasks: list[TaskSpec]
    splits: dict[str, SplitTensors]

    def to(self, device: torch.device) -> ProblemData:
        for split in self.splits.values():
            split.x = split.x.to(device)
            split.y = [y.to(device) for y in split.y]
        return self


def _census_split(path: Path, tasks: list[str]) -> SplitTensors:
    table = read_table(path, census.census_schema())
    targets = [torch.from_numpy(table.column(t).to_numpy().astype(np.int64)) for t in tasks]
    x = torch.from_numpy(float_matrix(table, census.CONTINUOUS + census.NOMINAL))
    return SplitTensors(x, targets, table.column("row_id").to_numpy())


def _fashion_split(path: Path, tasks: list[str], mean: float, std: float) -> SplitTensors:
    table = read_table(path, fashion_mnist.SCHEMA)
    pixels = fashion_mnist.image_pixels(table)[:, None]
    images = (pixels.astype(np.float32) / 255.0 - mean) / std
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
    if card.get("format") != PROCESSED_FORMAT:
        raise ValueError(
            f"{processed_dir / 'card.json'}: field 'format' is {card.get('format')!r}, expected "
            f"{PROCESSED_FORMAT}; these files were written by an older version, preprocess again"
        )
    paths = {split: processed_dir / f"{split}.parquet" for split in SPLITS}
    if dataset == "census":
        _check_tasks(dataset, tasks, census.LABELS)
        splits = {s: _census_split(p, tasks) for s, p in paths.items()}
        specs = [TaskSpec(t, "binary", 2) for t in tasks]
        categories = tuple(card["cardinalities"][c] for c in census.NOMINAL)
        for split_name, split in splits.items():
            codes = split.x[:, len(census.CONTINUOUS) :]
            if len(split) and (codes.max(dim=0).values >= torch.tensor(categories)).any():
                raise ValueError(
                    f"{paths[split_name]}: a nominal code exceeds the cardinality in "
                    f"{processed_dir / 'card.json'}; preprocess the dataset again"
                )
        inputs = InputSpec(
            "tabular", (len(census.CONTINUOUS) + len(categories),), len(census.CONTINUOUS),
            categories,
        )  # fmt: skip
        return ProblemData(name, inputs, specs, splits)
    if dataset == "fashion_mnist":
        _check_tasks(dataset, tasks, fashion_mnist.TASKS)
        norm = card["normalisation"]
        splits = {s: _fashion_split(p, tasks, norm["mean"], norm["std"]) for s, p in paths.items()}
        widths = {"class10": len(card["class_names"]), "group3": len(card["group_names"])}
        specs = [TaskSpec(t, "multiclass", widths[t]) for t in tasks]
        side = fashion_mnist.IMAGE_SIDE
        return ProblemData(name, InputSpec("image", (1, side, side)), specs, splits)
    if dataset == "sarcos":
        _check_tasks(dataset, tasks, sarcos.TARGETS)
        splits = {s: _sarcos_split(p, tasks) for s, p in paths.items()}
        norm = card["normalisation"]
        specs = [TaskSpec(t, "regression", 1, norm[t]["mean"], norm[t]["std"]) for t in tasks]
        n_inputs = len(sarcos.INPUTS)
        return ProblemData(name, InputSpec("tabular", (n_inputs,), n_inputs), specs, splits)
    raise ValueError(f"params.yaml: unknown dataset {dataset!r}")
