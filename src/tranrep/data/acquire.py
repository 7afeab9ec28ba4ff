"""Fetch one raw data file from an ordered list of sources and verify its content hash.

A file is described by a :class:`RawFileSpec`: its name in the raw folder, the expected content
hash and the addresses to try. :func:`acquire` tries an optional mirror first, then each listed
source, downloading or copying into a temporary file inside the raw folder, checking the hash and
renaming the file into place atomically. Nothing is left behind in the raw folder on failure.

For ``.gz`` files the hash is taken over the *decompressed* content, so a mirror that recompressed
the file (different gzip header or compression level) is still accepted.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import logging
import os
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tranrep.io import atomic_path

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024
"""Bytes read per chunk when hashing, copying or downloading."""

PROGRESS_MIN_BYTES = 8 * CHUNK_SIZE
"""Downloads at least this large (or of unknown size) get progress log lines."""

PROGRESS_STEP_BYTES = 16 * CHUNK_SIZE
"""Log a progress line after roughly this many further bytes of a download."""

HASH_HEX_LENGTHS: dict[str, int] = {"sha256": 64, "git-blob": 40}
"""Accepted hash kinds and the length of their hex digests."""

HASH_FORM = "'sha256:<64 hex digits>' or 'git-blob:<40 hex digits>'"

_HEX_RE = re.compile(r"[0-9a-fA-F]+")
_URL_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


class AcquisitionError(RuntimeError):
    """No source yielded a file with the expected hash.

    ``failures`` holds one ``(source, reason)`` pair per source tried, in order.
    """

    def __init__(self, message: str, failures: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.failures: list[tuple[str, str]] = list(failures or [])


@dataclass(frozen=True)
class RawFileSpec:
    """One raw input file: where to get it and what its content must hash to."""

    name: str
    """File name in the raw folder, e.g. ``census-income.data.gz``."""
    hash: str
    """``sha256:<64 hex>`` or ``git-blob:<40 hex>`` (what ``git hash-object FILE`` prints)."""
    sources: tuple[str, ...]
    """Full addresses tried in order: ``http(s)://...``, ``file:///abs/path`` or a local path."""
    mirror_path: str
    """Path of the file under a mirror base, e.g. ``census-income/census-income.data.gz``."""


class _SourceFailure(Exception):
    """One source could not provide a valid file; the message is the reason."""


# --------------------------------------------------------------------------------------------
# Hashes
# --------------------------------------------------------------------------------------------


def parse_hash(text: str, name: str | None = None) -> tuple[str, str]:
    """Split ``"<kind>:<hex>"`` into ``(kind, lowercase hex)``.

    Args:
        text: the hash string, e.g. ``"sha256:3676a8..."``.
        name: optional file name to mention in the error message.

    Raises:
        ValueError: unknown kind, wrong digest length or non-hex digits.
    """
    subject = f"hash for {name!r}" if name else "hash"
    kind, sep, digest = str(text).strip().partition(":")
    kind = kind.strip().lower()
    digest = digest.strip()
    if not sep or kind not in HASH_HEX_LENGTHS:
        raise ValueError(f"malformed {subject}: {text!r}; expected {HASH_FORM}")
    want = HASH_HEX_LENGTHS[kind]
    if len(digest) != want or not _HEX_RE.fullmatch(digest):
        raise ValueError(
            f"malformed {subject}: {text!r}; a {kind} digest is {want} hex digits "
            f"(got {len(digest)} characters); expected {HASH_FORM}"
        )
    return kind, digest.lower()


def _iter_content(path: Path, decompress: bool) -> Iterator[bytes]:
    """Yield the file content in chunks, gunzipped on the fly when ``decompress`` is set."""
    opener = gzip.open if decompress else open
    with opener(path, "rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            yield chunk


def _content_length(path: Path, decompress: bool) -> int:
    """Length in bytes of the (possibly decompressed) content."""
    if not decompress:
        return path.stat().st_size
    return sum(len(chunk) for chunk in _iter_content(path, decompress=True))


def content_digest(path: Path, hash_kind: str, decompress: bool) -> str:
    """Hex digest of a file's content.

    Args:
        path: file to hash.
        hash_kind: ``"sha256"`` or ``"git-blob"`` (SHA-1 of ``b"blob <len>\\0" + content``,
            the object id ``git hash-object`` prints).
        decompress: hash the gunzipped content instead of the raw bytes (streamed).

    Raises:
        ValueError: unknown ``hash_kind``.
        OSError, EOFError, zlib.error: unreadable file or corrupt/truncated gzip data.
    """
    path = Path(path)
    if hash_kind == "sha256":
        hasher = hashlib.sha256()
    elif hash_kind == "git-blob":
        hasher = hashlib.sha1()
        hasher.update(b"blob %d\0" % _content_length(path, decompress))
    else:
        raise ValueError(f"unknown hash kind {hash_kind!r}; expected one of {HASH_FORM}")
    for chunk in _iter_content(path, decompress):
        hasher.update(chunk)
    return hasher.hexdigest()


# --------------------------------------------------------------------------------------------
# Source addresses
# --------------------------------------------------------------------------------------------


def _scheme(address: str) -> str | None:
    """Lowercase URL scheme of ``address`` or None for a plain path."""
    match = _URL_SCHEME_RE.match(address)
    return match.group(1).lower() if match else None


def _join_mirror(mirror: str, relative: str) -> str:
    """Address of ``relative`` under a mirror folder, ``file://`` base or http(s) base."""
    relative = relative.lstrip("/")
    if _scheme(mirror) is None:
        return str(Path(mirror) / relative)
    return mirror.rstrip("/") + "/" + urllib.parse.quote(relative)


def candidate_sources(spec: RawFileSpec, mirror: str | None) -> list[str]:
    """Addresses to try, in order: mirror first, then the spec's local sources, then its remote
    ones.

    With a non-empty ``mirror`` the list starts with ``<mirror>/<mirror_path>`` and
    ``<mirror>/<name>``; the spec's sources follow, a folder source joined with the file's name,
    those on this machine (paths, ``file://``) before those on the network, each group in its
    listed order: a verified local copy is the same file, without the network. Duplicates are
    dropped, keeping the first.
    """
    ordered: list[str] = []
    base = (mirror or "").strip()
    if base:
        if spec.mirror_path:
            ordered.append(_join_mirror(base, spec.mirror_path))
        ordered.append(_join_mirror(base, spec.name))
    own = [_source_address(source, spec.name) for source in spec.sources]
    ordered.extend(sorted(own, key=lambda address: _scheme(address) not in (None, "file")))
    return list(dict.fromkeys(ordered))


def _source_address(source: str, name: str) -> str:
    """A source is a file's address, or a folder (a base ending in '/', or a local directory)
    that holds the file under its own name."""
    if source.endswith("/"):
        return _join_mirror(source, name)
    scheme = _scheme(source)
    local = Path(source) if scheme is None else None
    if scheme == "file":
        local = Path(urllib.request.url2pathname(urllib.parse.urlparse(source).path))
    if local is not None and local.is_dir():
        return _join_mirror(source, name)
    return source


def _file_url_path(address: str) -> Path:
    """Local path named by a ``file://`` address."""
    parsed = urllib.parse.urlparse(address)
    if parsed.netloc not in ("", "localhost"):
        raise _SourceFailure(f"file:// address with a remote host {parsed.netloc!r} is unsupported")
    return Path(urllib.request.url2pathname(parsed.path))


# --------------------------------------------------------------------------------------------
# Fetching into a temporary file
# --------------------------------------------------------------------------------------------


def _copy_local(path: Path, out: BinaryIO) -> None:
    """Copy a local file into ``out``."""
    if not path.exists():
        raise _SourceFailure(f"no such file: {path}")
    if not path.is_file():
        raise _SourceFailure(f"not a regular file: {path}")
    try:
        with path.open("rb") as handle:
            shutil.copyfileobj(handle, out, CHUNK_SIZE)
    except OSError as exc:
        raise _SourceFailure(f"cannot read {path}: {exc}") from exc


def _log_progress(name: str, done: int, total: int | None, next_mark: int) -> int:
    """Log download progress when ``done`` passes ``next_mark``; return the next mark."""
    if done < next_mark:
        return next_mark
    mib = done / CHUNK_SIZE
    if total:
        logger.info(
            "%s: %.1f of %.1f MiB (%d%%)", name, mib, total / CHUNK_SIZE, 100 * done // total
        )
    else:
        logger.info("%s: %.1f MiB", name, mib)
    return done + PROGRESS_STEP_BYTES


def _stream_response(response: http.client.HTTPResponse, out: BinaryIO, name: str) -> None:
    """Copy an HTTP response body into ``out`` in chunks, logging progress for big files."""
    header = response.headers.get("Content-Length")
    total = int(header) if header and header.isdigit() else None
    show = total is None or total >= PROGRESS_MIN_BYTES
    done = 0
    next_mark = PROGRESS_STEP_BYTES
    while chunk := response.read(CHUNK_SIZE):
        out.write(chunk)
        done += len(chunk)
        if show:
            next_mark = _log_progress(name, done, total, next_mark)
    if total is not None and done != total:
        raise _SourceFailure(f"truncated download: received {done} of {total} bytes")


def _download(url: str, out: BinaryIO, name: str, timeout_s: float) -> None:
    """Download ``url`` into ``out``; translate network errors into :class:`_SourceFailure`."""
    request = urllib.request.Request(url, headers={"User-Agent": "tranrep-acquire"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            _stream_response(response, out, name)
    except urllib.error.HTTPError as exc:
        raise _SourceFailure(f"HTTP error {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise _SourceFailure(f"timed out after {timeout_s:g} s") from exc
        raise _SourceFailure(f"cannot connect: {exc.reason}") from exc
    except TimeoutError as exc:
        raise _SourceFailure(f"timed out after {timeout_s:g} s") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise _SourceFailure(f"download failed: {type(exc).__name__}: {exc}") from exc


def _fetch(source: str, out: BinaryIO, name: str, timeout_s: float) -> None:
    """Write the bytes at ``source`` into ``out``."""
    scheme = _scheme(source)
    if scheme in ("http", "https"):
        logger.info("downloading %s from %s", name, source)
        _download(source, out, name, timeout_s)
    elif scheme == "file":
        _copy_local(_file_url_path(source), out)
    elif scheme is None:
        _copy_local(Path(source).expanduser(), out)
    else:
        raise _SourceFailure(f"unsupported address scheme {scheme!r}")


def _verify(path: Path, spec: RawFileSpec, source: str, kind: str, expected: str) -> None:
    """Check the hash of the fetched file; raise :class:`_SourceFailure` on any problem."""
    decompress = spec.name.endswith(".gz")
    try:
        actual = content_digest(path, kind, decompress)
    except (OSError, EOFError, zlib.error) as exc:
        raise _SourceFailure(
            f"unreadable archive {spec.name} from {source}: {type(exc).__name__}: {exc}"
        ) from exc
    if actual != expected:
        what = "decompressed content of " if decompress else ""
        raise _SourceFailure(
            f"hash mismatch for {what}{spec.name} from {source}: "
            f"expected {kind}:{expected}, actual {kind}:{actual}"
        )


def _try_source(
    spec: RawFileSpec, source: str, raw_dir: Path, kind: str, expected: str, timeout_s: float
) -> Path:
    """Fetch one source into a temp file in ``raw_dir``, verify it and move it into place."""
    target = raw_dir / spec.name
    with atomic_path(target, ".part") as tmp:
        with open(tmp, "wb") as out:
            _fetch(source, out, spec.name, timeout_s)
            out.flush()
            os.fsync(out.fileno())
        _verify(tmp, spec, source, kind, expected)
    return target


def _failure_message(spec: RawFileSpec, failures: list[tuple[str, str]]) -> str:
    """Error text listing every source tried, one line each."""
    lines = [f"could not acquire {spec.name}; tried {len(failures)} source(s):"]
    lines.extend(f"  - {source}: {reason}" for source, reason in failures)
    return "\n".join(lines)


def acquire(
    spec: RawFileSpec, raw_dir: Path, mirror: str | None = None, timeout_s: float = 120
) -> Path:
    """Fetch ``spec`` into ``raw_dir`` from the first source that gives the expected content.

    Sources come from :func:`candidate_sources` (mirror first). Each is downloaded or copied into
    a temporary file inside ``raw_dir``, hashed (decompressed content for ``.gz`` names) and,
    if it matches, atomically renamed to ``raw_dir / spec.name``.

    Returns:
        Path of the verified file.

    Raises:
        ValueError: ``spec.hash`` is malformed.
        AcquisitionError: no source worked; the message lists each source and why it failed.
    """
    kind, expected = parse_hash(spec.hash, name=spec.name)
    raw_dir = Path(raw_dir)
    raw_dir.mkdir(parents=True, exist_ok=True)
    sources = candidate_sources(spec, mirror)
    if not sources:
        raise AcquisitionError(f"could not acquire {spec.name}: no sources configured")
    failures: list[tuple[str, str]] = []
    for source in sources:
        try:
            path = _try_source(spec, source, raw_dir, kind, expected, timeout_s)
        except _SourceFailure as exc:
            logger.warning("%s: source %s failed: %s", spec.name, source, exc)
            failures.append((source, str(exc)))
            continue
        except OSError as exc:
            reason = f"{type(exc).__name__}: {exc}"
            logger.warning("%s: source %s failed: %s", spec.name, source, reason)
            failures.append((source, reason))
            continue
        logger.info("acquired %s from %s (%s verified)", spec.name, source, kind)
        return path
    raise AcquisitionError(_failure_message(spec, failures), failures)
