"""Atomic writes: whole files or none, usual permissions, no debris from killed writers."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tranrep.io import atomic_path, write_text


def test_failed_write_leaves_nothing(tmp_path: Path):
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("writer died")
    assert list(tmp_path.iterdir()) == []


def test_output_gets_the_usual_mode(tmp_path: Path):
    old = os.umask(0o022)
    try:
        write_text(tmp_path / "card.json", "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "card.json").stat().st_mode) == 0o644


def test_debris_of_a_killed_writer_is_removed(tmp_path: Path):
    debris = tmp_path / ".curve.csv.abc123.tmp"
    debris.write_text("partial")
    unrelated = tmp_path / ".other.csv.abc123.tmp"
    unrelated.write_text("keep")
    write_text(tmp_path / "curve.csv", "epoch\n1\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.csv.abc123.tmp", "curve.csv"]
