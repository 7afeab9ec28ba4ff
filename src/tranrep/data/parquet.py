"""Parquet writing and reading with explicit pyarrow schemas."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tranrep.io import write_atomic

SPLITS = ("train", "validation", "test")
# Version of the processed files' layout, kept in every data card; a new one reruns preprocessing.
PROCESSED_FORMAT = 3


def write_table(path: Path, table: pa.Table, schema: pa.Schema) -> None:
    """Write ``table`` cast to ``schema`` atomically; a column mismatch is an error naming both."""
    if table.schema.names != schema.names:
        missing = sorted(set(schema.names) - set(table.schema.names))
        extra = sorted(set(table.schema.names) - set(schema.names))
        raise ValueError(
            f"{path}: columns differ from the schema (missing {missing}, extra {extra})"
        )
    table = table.cast(schema)
    write_atomic(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"), ".parquet")


def read_table(path: Path, schema: pa.Schema | None = None) -> pa.Table:
    """Read a Parquet file; when ``schema`` is given, check it field by field."""
    table = pq.read_table(path)
    if schema is not None and not table.schema.equals(schema, check_metadata=False):
        for field in schema:
            if field.name not in table.schema.names:
                raise ValueError(f"{path}: column {field.name!r} is missing")
            actual = table.schema.field(field.name).type
            if actual != field.type:
                raise ValueError(
                    f"{path}: column {field.name!r} has type {actual}, expected {field.type}"
                )
        raise ValueError(f"{path}: columns {table.schema.names} differ from {schema.names}")
    return table


def float_matrix(table: pa.Table, columns: list[str]) -> np.ndarray:
    """Stack the named numeric columns into a float32 matrix (rows x columns)."""
    matrix = np.empty((table.num_rows, len(columns)), dtype=np.float32)
    for index, name in enumerate(columns):
        matrix[:, index] = table.column(name).to_numpy()
    return matrix
