"""The summary statement: in how many table cells TRAN and MH-TRAN beat every other method."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from tranrep.report.formatting import HIGHER_IS_BETTER, finite
from tranrep.report.tables import Cell, ResultTable

PROPOSED: tuple[str, ...] = ("tran", "mh_tran")


@dataclass(frozen=True)
class WinCount:
    """In how many cells a method (or either proposed method) beat every comparator."""

    label: str
    wins: int
    cells: int


def _beats(value: float, others: Iterable[float], metric: str) -> bool:
    """Whether ``value`` is strictly better than each of ``others``."""
    higher = HIGHER_IS_BETTER.get(metric, True)
    return all(value > o if higher else value < o for o in others)


def _column_values(table: ResultTable, j: int, value: Callable[[Cell], float]) -> dict[str, float]:
    """Finite values of column ``j`` by method."""
    out = {}
    for row in table.rows:
        v = value(row.cells[j])
        if finite(v):
            out[row.method] = v
    return out


def count_wins(
    tables: Sequence[ResultTable],
    value: Callable[[Cell], float],
    display: Mapping[str, str],
) -> list[WinCount]:
    """Cells where TRAN, MH-TRAN, or either of them beat every non-proposed method present.

    A cell counts only when the candidate has a value and at least one other method has one.
    """
    candidates: list[tuple[str, tuple[str, ...]]] = [(m, (m,)) for m in PROPOSED]
    candidates.append(("either", PROPOSED))
    counts = []
    for label, members in candidates:
        wins = cells = 0
        for table in tables:
            for j, col in enumerate(table.columns):
                values = _column_values(table, j, value)
                others = [v for m, v in values.items() if m not in PROPOSED]
                mine = [values[m] for m in members if m in values]
                if not mine or not others:
                    continue
                cells += 1
                wins += any(_beats(v, others, col.metric) for v in mine)
        name = display.get(label, label) if label != "either" else "either"
        counts.append(WinCount(name, wins, cells))
    return counts


def _count_phrase(count: WinCount) -> str:
    return f"{count.wins} of {count.cells}" if count.cells else "none (no comparable cell)"


def win_statement(tables: Sequence[ResultTable], display: Mapping[str, str]) -> str:
    """The summary paragraph: where TRAN / MH-TRAN beat every other method, ours and paper's."""
    ours = count_wins(tables, lambda c: c.mean, display)
    paper = count_wins(tables, lambda c: c.paper, display)
    tran, mh, either = ours
    return (
        "We count a table cell (one task of one problem) as won when a method's mean over "
        "seeds beats the mean of every other method we ran; TRAN and MH-TRAN are not counted "
        f"against each other. {tran.label} won {_count_phrase(tran)} cells, {mh.label} "
        f"{_count_phrase(mh)}, and at least one of the two {_count_phrase(either)}. On the "
        "paper's published values, against every method in its tables, the same counts are "
        f"{_count_phrase(paper[0])}, {_count_phrase(paper[1])} and {_count_phrase(paper[2])}."
    )
