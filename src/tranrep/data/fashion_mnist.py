"""Fashion-MNIST idx files to Parquet.

Task 1 (``class10``) is the original 10-class label; task 2 (``group3``) maps each class to one of
three groups (shoes / female products / other) with the map in params.yaml. The validation set is
carved at random from the 60,000 training images; the 10,000 test images test.
"""

from __future__ import annotations

import gzip
import logging
import struct
from pathlib import Path

import numpy as np
import pyarrow as pa

from tranrep.data.parquet import PROCESSED_FORMAT, SPLITS, write_table
from tranrep.io import write_json

log = logging.getLogger(__name__)

TASKS = ["class10", "group3"]
IMAGE_SIDE = 28
IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049
CLASS_NAMES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip
SCHEMA = pa.schema(
    [
        pa.field("row_id", pa.int32(), nullable=False),
        pa.field("class10", pa.int8(), nullable=False),
        pa.field("group3", pa.int8(), nullable=False),
        # 784 row-major pixels as raw bytes: read back without per-pixel decoding
        pa.field("image", pa.binary(IMAGE_SIDE * IMAGE_SIDE), nullable=False),
    ]
)


def read_idx(path: Path, expected_magic: int) -> np.ndarray:
    """Read a gzipped idx file (images: N x 28 x 28, labels: N) as uint8, checking its header."""
    try:
        with gzip.open(path, "rb") as handle:
            payload = handle.read()
    except (OSError, EOFError) as error:
        raise ValueError(f"{path}: not a readable gzip file ({error})") from error
    if len(payload) < 8:
        raise ValueError(f"{path}: {len(payload)} bytes, too short for an idx header")
    magic, count = struct.unpack(">II", payload[:8])
    if magic != expected_magic:
        raise ValueError(f"{path}: idx magic number is {magic}, expected {expected_magic}")
    dims = 3 if expected_magic == IMAGE_MAGIC else 1
    shape = struct.unpack(f">{dims}I", payload[4 : 4 + 4 * dims])
    header = 4 + 4 * dims
    expected = int(np.prod(shape))
    if len(payload) - header != expected:
        raise ValueError(
            f"{path}: payload holds {len(payload) - header} bytes, expected {expected} for {shape}"
        )
    if count != shape[0]:
        raise ValueError(f"{path}: header counts {count} items but shape is {shape}")
    if dims == 3 and shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise ValueError(f"{path}: images are {shape[1]}x{shape[2]}, expected 28x28")
    return np.frombuffer(payload, dtype=np.uint8, offset=header).reshape(shape)


def group_labels(labels: np.ndarray, class_to_group: dict[int, int]) -> np.ndarray:
    """Map 10-class labels to the groups of task 2."""
    table = np.array([class_to_group[k] for k in range(len(CLASS_NAMES))], dtype=np.int8)
    return table[labels]


def _table(images: np.ndarray, labels: np.ndarray, groups: np.ndarray, rows: np.ndarray):
    size = IMAGE_SIDE * IMAGE_SIDE
    flat = np.ascontiguousarray(images.reshape(len(images), size), dtype=np.uint8)
    image_column = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(size), len(images), [None, pa.py_buffer(flat.tobytes())]
    )
    return pa.table(
        {
            "row_id": rows.astype(np.int32),
            "class10": labels.astype(np.int8),
            "group3": groups,
            "image": image_column,
        }
    )


def preprocess_fashion_mnist(
    train_images: Path,
    train_labels: Path,
    test_images: Path,
    test_labels: Path,
    out_dir: Path,
    validation_size: int,
    split_seed: int,
    class_to_group: dict[int, int],
    group_names: list[str],
) -> dict:
    """Write train/validation/test Parquet files and the data card; return the card."""
    images = {
        "train": read_idx(train_images, IMAGE_MAGIC),
        "test": read_idx(test_images, IMAGE_MAGIC),
    }
    labels = {
        "train": read_idx(train_labels, LABEL_MAGIC),
        "test": read_idx(test_labels, LABEL_MAGIC),
    }
    paths = {"train": train_labels, "test": test_labels}
    for part in ("train", "test"):
        if labels[part].size and labels[part].max() >= len(CLASS_NAMES):
            raise ValueError(f"{paths[part]}: label value {int(labels[part].max())}, expected 0-9")
        if len(images[part]) != len(labels[part]):
            raise ValueError(
                f"Fashion-MNIST {part}: {len(images[part])} images but {len(labels[part])} labels"
            )
    if not 0 < validation_size < len(images["train"]):
        raise ValueError(
            f"params.yaml: fashion_mnist.validation_size is {validation_size}; expected fewer "
            f"than the {len(images['train'])} training images"
        )
    order = np.random.default_rng(split_seed).permutation(len(images["train"]))
    rows = {
        "train": np.sort(order[validation_size:]),
        "validation": np.sort(order[:validation_size]),
        "test": np.arange(len(images["test"])),
    }
    source = {"train": "train", "validation": "train", "test": "test"}
    train_pixels = images["train"][rows["train"]].astype(np.float64) / 255.0
    card: dict = {
        "dataset": "fashion_mnist", "format": PROCESSED_FORMAT,
        "rows": {},
        "label_rates": {},
        "class_names": CLASS_NAMES,
        "group_names": group_names,
        "class_to_group": {CLASS_NAMES[k]: group_names[g] for k, g in class_to_group.items()},
        "normalisation": {"pixel_scale": 255.0, "mean": float(train_pixels.mean()),
                          "std": float(train_pixels.std())},
        "validation_size": validation_size,
        "split_seed": split_seed,
    }  # fmt: skip
    for split in SPLITS:
        split_images = images[source[split]][rows[split]]
        split_labels = labels[source[split]][rows[split]]
        groups = group_labels(split_labels, class_to_group)
        write_table(
            out_dir / f"{split}.parquet", _table(split_images, split_labels, groups, rows[split]),
            SCHEMA,
        )  # fmt: skip
        card["rows"][split] = len(split_labels)
        card["label_rates"][split] = {
            "group3": {name: float(np.mean(groups == g)) for g, name in enumerate(group_names)}
        }
        log.info("fashion_mnist %s: %d images", split, len(split_labels))
    write_json(out_dir / "card.json", card)
    return card


def image_pixels(table: pa.Table) -> np.ndarray:
    """The images of a processed table as uint8 (n, 28, 28)."""
    column = table.column("image").combine_chunks()
    data = np.frombuffer(column.buffers()[1], dtype=np.uint8)
    side = IMAGE_SIDE
    start = column.offset * side * side
    return data[start : start + len(column) * side * side].reshape(len(column), side, side)
