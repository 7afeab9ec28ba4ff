"""Tests for tranrep.data.acquire: source order, hashing, verification and clean failure."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import logging
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tranrep.data import acquire as acq
from tranrep.data.acquire import (
    AcquisitionError,
    RawFileSpec,
    acquire,
    candidate_sources,
    content_digest,
    parse_hash,
)

CONTENT = b"".join(b"%d, age=%d, income=%d\n" % (i, 20 + i % 50, 1000 * i) for i in range(2000))
OTHER = b"this is not the file you are looking for\n"
GZ_NAME = "table.data.gz"
TXT_NAME = "table.txt"


def sha256_spec(content: bytes) -> str:
    """``sha256:<hex>`` of ``content``, computed independently of the module under test."""
    return "sha256:" + hashlib.sha256(content).hexdigest()


def git_blob_hex(content: bytes) -> str:
    """Git object id of a blob holding ``content``."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def write(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path``, creating parent folders; return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def make_spec(
    name: str, hash_text: str, *sources: str | Path, mirror_path: str = ""
) -> RawFileSpec:
    """Spec with stringified sources."""
    return RawFileSpec(
        name=name,
        hash=hash_text,
        sources=tuple(str(s) for s in sources),
        mirror_path=mirror_path or f"sub/{name}",
    )


@pytest.fixture()
def raw_dir(tmp_path: Path) -> Path:
    """Empty raw folder."""
    path = tmp_path / "raw"
    path.mkdir()
    return path


@pytest.fixture()
def gz_level9() -> bytes:
    """CONTENT gzipped at level 9 with a fixed timestamp."""
    return gzip.compress(CONTENT, compresslevel=9, mtime=0)


@pytest.fixture()
def gz_level1() -> bytes:
    """CONTENT recompressed differently (level 1, another timestamp)."""
    return gzip.compress(CONTENT, compresslevel=1, mtime=1_600_000_000)


# ------------------------------------------------------------------------------------------
# Local HTTP server on 127.0.0.1
# ------------------------------------------------------------------------------------------


@dataclass
class Server:
    """A running local HTTP server serving ``root``."""

    base: str
    root: Path
    requests: list[str]


def _handler_class(root: Path, requests: list[str]) -> type[http.server.BaseHTTPRequestHandler]:
    """Static file handler with two special paths: /slow (stalls) and /short (truncated)."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def do_GET(self) -> None:
            requests.append(self.path)
            if self.path == "/slow":
                time.sleep(1.5)
                return
            if self.path == "/short":
                self.send_response(200)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                self.wfile.write(b"x" * 100)
                self.close_connection = True
                return
            super().do_GET()

        def log_message(self, format: str, *args: object) -> None:
            """Keep test output quiet."""

    return Handler


@pytest.fixture()
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """Threaded HTTP server on 127.0.0.1 with an OS-chosen port; proxies disabled."""
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    root = tmp_path / "www"
    root.mkdir()
    requests: list[str] = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(root, requests))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{httpd.server_address[1]}", root, requests)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


# ------------------------------------------------------------------------------------------
# parse_hash / content_digest / candidate_sources
# ------------------------------------------------------------------------------------------


def test_parse_hash_accepts_both_kinds_and_lowercases() -> None:
    assert parse_hash("sha256:" + "AB" * 32) == ("sha256", "ab" * 32)
    assert parse_hash("git-blob:" + "0f" * 20) == ("git-blob", "0f" * 20)


@pytest.mark.parametrize(
    "text",
    [
        "md5:" + "0" * 32,
        "sha256:" + "0" * 63,
        "sha256:" + "z" * 64,
        "git-blob:" + "0" * 64,
        "0" * 64,
        "",
    ],
)
def test_malformed_hash_raises_value_error_naming_file(text: str, raw_dir: Path) -> None:
    spec = make_spec("bad.csv", text, "/nowhere/bad.csv")
    with pytest.raises(ValueError) as info:
        acquire(spec, raw_dir)
    message = str(info.value)
    assert "bad.csv" in message
    assert "sha256:<64 hex digits>" in message
    assert "git-blob:<40 hex digits>" in message
    assert list(raw_dir.iterdir()) == []


def test_content_digest_plain_and_decompressed(tmp_path: Path, gz_level9: bytes) -> None:
    plain = write(tmp_path / "a.txt", CONTENT)
    packed = write(tmp_path / "a.txt.gz", gz_level9)
    expected_sha = hashlib.sha256(CONTENT).hexdigest()
    assert content_digest(plain, "sha256", decompress=False) == expected_sha
    assert content_digest(packed, "sha256", decompress=True) == expected_sha
    assert content_digest(packed, "sha256", False) == hashlib.sha256(gz_level9).hexdigest()
    assert content_digest(packed, "git-blob", decompress=True) == git_blob_hex(CONTENT)
    with pytest.raises(ValueError, match="unknown hash kind 'md5'"):
        content_digest(plain, "md5", decompress=False)


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_git_blob_digest_matches_git_hash_object(tmp_path: Path) -> None:
    plain = write(tmp_path / "blob.bin", CONTENT + bytes(range(256)))
    result = subprocess.run(
        ["git", "hash-object", str(plain)], capture_output=True, text=True, check=True
    )
    git_id = result.stdout.strip()
    assert len(git_id) == 40
    assert content_digest(plain, "git-blob", decompress=False) == git_id
    assert git_id == git_blob_hex(CONTENT + bytes(range(256)))


def test_candidate_sources_order_and_dedupe(tmp_path: Path) -> None:
    """Mirror first, then the file's local sources, then its network sources (listed order kept
    within each group)."""
    spec = RawFileSpec(
        "f.gz",
        "sha256:" + "0" * 64,
        ("https://a/f.gz", "/b/f.gz", "http://c/f.gz", "file:///d/f.gz"),
        "grp/f.gz",
    )
    own = ["/b/f.gz", "file:///d/f.gz", "https://a/f.gz", "http://c/f.gz"]
    assert candidate_sources(spec, None) == own
    assert candidate_sources(spec, "") == own
    assert candidate_sources(spec, "http://127.0.0.1:9/m/") == [
        "http://127.0.0.1:9/m/grp/f.gz",
        "http://127.0.0.1:9/m/f.gz",
        *own,
    ]
    assert candidate_sources(spec, "file:///srv/m") == [
        "file:///srv/m/grp/f.gz",
        "file:///srv/m/f.gz",
        *own,
    ]
    folder = tmp_path / "mirror"
    assert candidate_sources(spec, str(folder)) == [
        str(folder / "grp" / "f.gz"),
        str(folder / "f.gz"),
        *own,
    ]
    flat = RawFileSpec("f.gz", "sha256:" + "0" * 64, (str(folder / "f.gz"),), "f.gz")
    assert candidate_sources(flat, str(folder)) == [str(folder / "f.gz")]


# ------------------------------------------------------------------------------------------
# acquire: successes
# ------------------------------------------------------------------------------------------


def test_success_from_folder_mirror_with_subfolder(tmp_path: Path, raw_dir: Path) -> None:
    mirror = tmp_path / "mirror"
    write(mirror / "tables" / TXT_NAME, CONTENT)
    spec = make_spec(
        TXT_NAME, sha256_spec(CONTENT), tmp_path / "missing.txt", mirror_path=f"tables/{TXT_NAME}"
    )
    result = acquire(spec, raw_dir, mirror=str(mirror))
    assert result == raw_dir / TXT_NAME
    assert result.read_bytes() == CONTENT
    assert sorted(p.name for p in raw_dir.iterdir()) == [TXT_NAME]


def test_success_from_file_url(tmp_path: Path, raw_dir: Path) -> None:
    source = write(tmp_path / "src dir" / TXT_NAME, CONTENT)
    spec = make_spec(TXT_NAME, sha256_spec(CONTENT), source.as_uri())
    assert source.as_uri().startswith("file:///")
    result = acquire(spec, raw_dir)
    assert result == raw_dir / TXT_NAME
    assert result.read_bytes() == CONTENT
    assert sorted(p.name for p in raw_dir.iterdir()) == [TXT_NAME]


def test_success_from_local_path_into_new_raw_dir(tmp_path: Path) -> None:
    source = write(tmp_path / "here" / TXT_NAME, CONTENT)
    target_dir = tmp_path / "fresh" / "raw"
    result = acquire(make_spec(TXT_NAME, sha256_spec(CONTENT), source), target_dir)
    assert result == target_dir / TXT_NAME
    assert result.read_bytes() == CONTENT


def test_success_from_http_server(server: Server, raw_dir: Path, gz_level9: bytes) -> None:
    write(server.root / "d" / GZ_NAME, gz_level9)
    spec = make_spec(GZ_NAME, sha256_spec(CONTENT), f"{server.base}/d/{GZ_NAME}")
    result = acquire(spec, raw_dir, timeout_s=10)
    assert result == raw_dir / GZ_NAME
    assert result.read_bytes() == gz_level9
    assert server.requests == [f"/d/{GZ_NAME}"]
    assert sorted(p.name for p in raw_dir.iterdir()) == [GZ_NAME]


def test_http_download_logs_progress(
    server: Server, raw_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    write(server.root / TXT_NAME, CONTENT)
    monkeypatch.setattr(acq, "CHUNK_SIZE", 4096)
    monkeypatch.setattr(acq, "PROGRESS_MIN_BYTES", 4096)
    monkeypatch.setattr(acq, "PROGRESS_STEP_BYTES", 16384)
    spec = make_spec(TXT_NAME, sha256_spec(CONTENT), f"{server.base}/{TXT_NAME}")
    with caplog.at_level(logging.INFO, logger="tranrep.data.acquire"):
        acquire(spec, raw_dir, timeout_s=10)
    progress = [r.getMessage() for r in caplog.records if "MiB (" in r.getMessage()]
    assert len(progress) == len(CONTENT) // 16384
    assert progress[0].startswith(f"{TXT_NAME}: ")


def test_recompressed_gz_accepted(tmp_path: Path, raw_dir: Path, gz_level1: bytes) -> None:
    # The spec hash is of the decompressed content, so any gzip encoding of it is fine.
    assert gz_level1 != gzip.compress(CONTENT, compresslevel=9, mtime=0)
    source = write(tmp_path / "recompressed" / GZ_NAME, gz_level1)
    result = acquire(make_spec(GZ_NAME, sha256_spec(CONTENT), source), raw_dir)
    assert result.read_bytes() == gz_level1
    assert gzip.decompress(result.read_bytes()) == CONTENT


def test_git_blob_hash_accepted(tmp_path: Path, raw_dir: Path, gz_level9: bytes) -> None:
    plain = write(tmp_path / "s" / TXT_NAME, CONTENT)
    packed = write(tmp_path / "s" / GZ_NAME, gz_level9)
    blob = "git-blob:" + git_blob_hex(CONTENT)
    assert acquire(make_spec(TXT_NAME, blob, plain), raw_dir).read_bytes() == CONTENT
    assert acquire(make_spec(GZ_NAME, blob, packed), raw_dir).read_bytes() == gz_level9
    assert sorted(p.name for p in raw_dir.iterdir()) == [GZ_NAME, TXT_NAME]


def test_existing_file_is_replaced_by_verified_copy(tmp_path: Path, raw_dir: Path) -> None:
    write(raw_dir / TXT_NAME, b"stale partial conte")
    source = write(tmp_path / "s" / TXT_NAME, CONTENT)
    result = acquire(make_spec(TXT_NAME, sha256_spec(CONTENT), source), raw_dir)
    assert result.read_bytes() == CONTENT
    assert sorted(p.name for p in raw_dir.iterdir()) == [TXT_NAME]


# ------------------------------------------------------------------------------------------
# acquire: failures
# ------------------------------------------------------------------------------------------


def test_hash_mismatch_names_file_source_and_both_hashes(tmp_path: Path, raw_dir: Path) -> None:
    source = write(tmp_path / "s" / TXT_NAME, OTHER)
    expected = hashlib.sha256(CONTENT).hexdigest()
    actual = hashlib.sha256(OTHER).hexdigest()
    with pytest.raises(AcquisitionError) as info:
        acquire(make_spec(TXT_NAME, "sha256:" + expected, source), raw_dir)
    message = str(info.value)
    assert TXT_NAME in message
    assert str(source) in message
    assert f"expected sha256:{expected}" in message
    assert f"actual sha256:{actual}" in message
    assert info.value.failures == [
        (
            str(source),
            f"hash mismatch for {TXT_NAME} from {source}: "
            f"expected sha256:{expected}, actual sha256:{actual}",
        )
    ]
    assert list(raw_dir.iterdir()) == []


def test_truncated_gz_is_unreadable_and_leaves_nothing(
    tmp_path: Path, raw_dir: Path, gz_level9: bytes
) -> None:
    source = write(tmp_path / "s" / GZ_NAME, gz_level9[: len(gz_level9) // 2])
    with pytest.raises(AcquisitionError) as info:
        acquire(make_spec(GZ_NAME, sha256_spec(CONTENT), source), raw_dir)
    assert len(info.value.failures) == 1
    tried, reason = info.value.failures[0]
    assert tried == str(source)
    assert reason.startswith(f"unreadable archive {GZ_NAME} from {source}: ")
    assert "EOFError" in reason
    assert list(raw_dir.iterdir()) == []


def test_not_a_gzip_is_unreadable(tmp_path: Path, raw_dir: Path) -> None:
    source = write(tmp_path / "s" / GZ_NAME, CONTENT)
    with pytest.raises(AcquisitionError, match=r"unreadable archive table\.data\.gz from .*"):
        acquire(make_spec(GZ_NAME, sha256_spec(CONTENT), source), raw_dir)
    assert list(raw_dir.iterdir()) == []


def test_no_source_works_lists_every_source_and_reason(
    tmp_path: Path, raw_dir: Path, server: Server
) -> None:
    wrong = write(tmp_path / "s" / TXT_NAME, OTHER)
    mirror = tmp_path / "empty-mirror"
    mirror.mkdir()
    sources = [
        str(tmp_path / "missing" / TXT_NAME),
        f"{server.base}/nope/{TXT_NAME}",
        f"{server.base}/slow",
        f"{server.base}/short",
        wrong.as_uri(),
        f"ftp://127.0.0.1:9/{TXT_NAME}",
    ]
    spec = make_spec(TXT_NAME, sha256_spec(CONTENT), *sources, mirror_path=f"m/{TXT_NAME}")
    with pytest.raises(AcquisitionError) as info:
        acquire(spec, raw_dir, mirror=str(mirror), timeout_s=0.3)
    local, remote = [sources[0], sources[4]], [*sources[1:4], sources[5]]  # local ones first
    tried = [str(mirror / "m" / TXT_NAME), str(mirror / TXT_NAME), *local, *remote]
    assert [source for source, _ in info.value.failures] == tried
    reasons = [reason for _, reason in info.value.failures]
    assert reasons[0] == f"no such file: {mirror / 'm' / TXT_NAME}"
    assert reasons[1] == f"no such file: {mirror / TXT_NAME}"
    assert reasons[2] == f"no such file: {tmp_path / 'missing' / TXT_NAME}"
    assert reasons[3].startswith(f"hash mismatch for {TXT_NAME} from {wrong.as_uri()}: ")
    assert reasons[4] == "HTTP error 404 File not found"
    assert reasons[5] == "timed out after 0.3 s"
    assert reasons[6] == "truncated download: received 100 of 1000 bytes"
    assert reasons[7] == "unsupported address scheme 'ftp'"
    lines = str(info.value).splitlines()
    assert lines[0] == f"could not acquire {TXT_NAME}; tried 8 source(s):"
    assert lines[1:] == [f"  - {source}: {reason}" for source, reason in info.value.failures]
    assert list(raw_dir.iterdir()) == []


def test_good_mirror_wins_over_bad_listed_source(
    tmp_path: Path, raw_dir: Path, server: Server
) -> None:
    write(server.root / TXT_NAME, OTHER)
    mirror = tmp_path / "mirror"
    write(mirror / TXT_NAME, CONTENT)  # only the flat <mirror>/<name> exists
    spec = make_spec(TXT_NAME, sha256_spec(CONTENT), f"{server.base}/{TXT_NAME}")
    result = acquire(spec, raw_dir, mirror=str(mirror), timeout_s=10)
    assert result.read_bytes() == CONTENT
    assert server.requests == []  # the listed source was never contacted


def test_http_mirror_goes_first(server: Server, raw_dir: Path, tmp_path: Path) -> None:
    write(server.root / "grp" / TXT_NAME, CONTENT)
    listed = write(tmp_path / "s" / TXT_NAME, OTHER)
    spec = make_spec(TXT_NAME, sha256_spec(CONTENT), listed, mirror_path=f"grp/{TXT_NAME}")
    result = acquire(spec, raw_dir, mirror=server.base + "/", timeout_s=10)
    assert result.read_bytes() == CONTENT
    assert server.requests == [f"/grp/{TXT_NAME}"]


def test_bad_mirror_falls_through_to_good_source(
    tmp_path: Path, raw_dir: Path, gz_level9: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    mirror = tmp_path / "mirror"
    write(mirror / "sub" / GZ_NAME, gz_level9[:-20])  # truncated copy in the mirror
    good = write(tmp_path / "good" / GZ_NAME, gz_level9)
    spec = make_spec(GZ_NAME, sha256_spec(CONTENT), good.as_uri())
    with caplog.at_level(logging.WARNING, logger="tranrep.data.acquire"):
        result = acquire(spec, raw_dir, mirror=mirror.as_uri())
    assert result.read_bytes() == gz_level9
    assert sorted(p.name for p in raw_dir.iterdir()) == [GZ_NAME]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert f"{mirror.as_uri()}/sub/{GZ_NAME}" in warnings[0]
    assert "unreadable archive" in warnings[0]
    assert f"{mirror.as_uri()}/{GZ_NAME}" in warnings[1]
    assert "no such file" in warnings[1]


def test_folder_sources_are_joined_with_the_file_name(tmp_path: Path):
    from tranrep.data.acquire import candidate_sources

    folder = tmp_path / "debian"
    folder.mkdir()
    spec = RawFileSpec(
        "a.gz", "sha256:" + "0" * 64,
        (str(folder), f"file://{folder}", "https://example.invalid/base/", str(tmp_path / "x.gz")),
        "sub/a.gz",
    )  # fmt: skip
    assert candidate_sources(spec, None) == [
        str(folder / "a.gz"), f"file://{folder}/a.gz", str(tmp_path / "x.gz"),
        "https://example.invalid/base/a.gz",
    ]  # fmt: skip
