"""Atomic writes: whole files or none, usual permissions, no debris from killed writers."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tranrep.io import atomic_path, read_json, write_json_if_changed, write_text


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


def test_an_unchanged_json_file_is_left_alone(tmp_path: Path):
    """Cluster jobs that start together all rewrite the run's sources file: when its content is
    already right, neither the file nor another writer's temporary beside it is touched."""
    target = tmp_path / "sources.json"
    assert write_json_if_changed(target, {"b": [1, 2], "a": "x"}) is True
    inode = target.stat().st_ino
    in_flight = tmp_path / ".sources.json.another-writer.tmp"  # as atomic_path names its files
    in_flight.write_text("{}", encoding="utf-8")
    assert write_json_if_changed(target, {"a": "x", "b": [1, 2]}) is False
    assert target.stat().st_ino == inode and in_flight.exists()
    assert write_json_if_changed(target, {"a": "y"}) is True
    assert read_json(target) == {"a": "y"}
