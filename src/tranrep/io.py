"""Atomic file writing: every output appears whole or not at all."""

from __future__ import annotations

import glob
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

TEMP_MARK = ".tmp"


@contextmanager
def atomic_path(path: Path | str, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` only if the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target)
    handle, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=TEMP_MARK + suffix, dir=target.parent
    )
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual mode
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def remove_stale_temporaries(target: Path) -> None:
    """Delete temporary siblings of ``target`` left by a writer that was killed outright."""
    for stale in target.parent.glob(f".{glob.escape(target.name)}.*{TEMP_MARK}*"):
        stale.unlink(missing_ok=True)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_atomic(path: Path | str, writer: Callable[[Path], None], suffix: str = "") -> None:
    """Call ``writer(tmp_path)`` and move the result onto ``path`` atomically."""
    with atomic_path(path, suffix) as tmp:
        writer(tmp)


def write_bytes(path: Path | str, data: bytes) -> None:
    """Write a binary file atomically."""
    write_atomic(path, lambda tmp: tmp.write_bytes(data))


def write_text(path: Path | str, text: str) -> None:
    """Write a text file atomically."""
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json(path: Path | str, data: Any) -> None:
    """Write JSON (sorted keys, indented) atomically."""
    write_text(path, _json_text(data))


def write_json_if_changed(path: Path | str, data: Any) -> bool:
    """Write JSON as :func:`write_json` does unless ``path`` already holds exactly that text;
    whether it wrote.

    For a file that every process of a run rewrites with the same content (each cluster job
    re-reads the workflow): left alone, it is never replaced under a process that is reading or
    writing it at the same moment."""
    text = _json_text(data)
    try:
        if Path(path).read_text(encoding="utf-8") == text:
            return False
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    write_text(path, text)
    return True


def _json_text(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, default=_jsonable) + "\n"


def read_json(path: Path | str) -> Any:
    """Read a JSON file, naming the file when it is not valid JSON."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from error


def _jsonable(value: Any) -> Any:
    """Turn numpy scalars and paths into plain JSON values."""
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
