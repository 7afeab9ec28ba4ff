"""The report's tables as CSV files beside it, for reuse in other documents."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from tranrep.io import write_atomic
from tranrep.report.figures import slug
from tranrep.report.sections import SimpleTable
from tranrep.report.tables import ResultTable

log = logging.getLogger(__name__)


def result_table_frame(table: ResultTable) -> pd.DataFrame:
    """One row per (method, problem, task): ours as numbers, the paper's value, the best flag."""
    rows = []
    for row in table.rows:
        for column, cell in zip(table.columns, row.cells, strict=True):
            rows.append(
                {"method": row.method, "problem": column.problem, "task": column.task,
                 "metric": column.metric, "mean": cell.mean, "std": cell.std, "n": cell.n,
                 "paper": cell.paper, "ours_minus_paper": cell.mean - cell.paper,
                 "best": cell.best}
            )  # fmt: skip
    return pd.DataFrame(rows)


def simple_table_frame(table: SimpleTable) -> pd.DataFrame:
    return pd.DataFrame(list(table.rows), columns=list(table.header))


def write_tables(
    out_dir: Path, results: Sequence[ResultTable], others: Mapping[str, SimpleTable]
) -> list[Path]:
    """Write ``table-<key>.csv`` per results table and ``<name>.csv`` per other table."""
    frames = {f"table-{slug(t.key)}": result_table_frame(t) for t in results}
    frames |= {slug(name): simple_table_frame(t) for name, t in others.items()}
    paths = []
    for name, frame in frames.items():
        path = Path(out_dir) / f"{name}.csv"
        write_atomic(path, lambda tmp, f=frame: f.to_csv(tmp, index=False))
        paths.append(path)
    log.info("wrote %d tables to %s", len(paths), out_dir)
    return paths
