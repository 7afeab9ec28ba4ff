"""The paper's published values: one data file, ``resources/paper_values.csv``, citing each."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from tranrep.report.checks import check_unique

FILE_NAME = "paper_values.csv"
TABLE_PREFIX = "Table "
SOURCE_PATTERN = r"Table \d+|Section \d+(\.\d+)*"


def read_paper_values(path: Path | None = None) -> pd.DataFrame:
    """Every published value (Tables 1–3 and the figures quoted in sections 4.3–4.4).

    Reads the package's copy unless ``path`` names another (a results folder keeps one).
    """
    source = path if path is not None else resources.files("tranrep") / "resources" / FILE_NAME
    frame = pd.read_csv(source, comment="#", dtype=str, keep_default_na=False)
    expected = {"source", "problem", "method", "task", "metric", "value"}
    missing = expected - set(frame.columns)
    if missing:
        raise ValueError(
            f"{source}: missing columns {sorted(missing)}; expected {sorted(expected)}"
        )
    sources = frame["source"].astype(str)
    unknown = sources[~sources.str.fullmatch(SOURCE_PATTERN)]
    if not unknown.empty:
        raise ValueError(
            f"{source}: source {unknown.iloc[0]!r} (data row {unknown.index[0] + 1}); "
            "expected 'Table <n>' or 'Section <n.n>'"
        )
    values = pd.to_numeric(frame["value"], errors="coerce")
    if values.isna().any():
        row = int(values.isna().to_numpy().argmax())
        raise ValueError(
            f"{source}: value {frame['value'].iloc[row]!r} (data row {row + 1}); expected a number"
        )
    frame["value"] = values.astype(float)
    check_unique(frame, Path(str(source)), ("source", "problem", "method", "task", "metric"))
    return frame


def table_values(values: pd.DataFrame) -> pd.DataFrame:
    """The rows of Tables 1–3, with the table's number in a ``table`` column."""
    rows = values[values["source"].str.startswith(TABLE_PREFIX)].copy()
    rows.insert(0, "table", rows["source"].str.removeprefix(TABLE_PREFIX).astype(int))
    return rows.drop(columns="source").reset_index(drop=True)


def quoted_figures(values: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The figures quoted in the text under ``metric`` (e.g. 'label_pearson_correlation')."""
    rows = values[~values["source"].str.startswith(TABLE_PREFIX) & (values["metric"] == metric)]
    return rows.reset_index(drop=True)
