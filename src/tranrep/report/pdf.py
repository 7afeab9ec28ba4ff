"""The LaTeX report compiled to PDF with pdflatex.

pdflatex runs in the .tex file's folder, so that ``\\includegraphics{figures/x.png}`` finds the
figures, but writes its auxiliary files and the PDF to a temporary folder: nothing but the
finished PDF ever lands beside the report, and it appears whole or not at all.

The page count is read with pypdf rather than poppler's ``pdfinfo``: pypdf is pure Python and
pinned in requirements.txt with the rest of the environment, so counting pages needs no second
system program beside pdflatex (a missing one would fail the rule after a good compile) and no
parsing of another program's text output.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from tranrep.io import atomic_path

log = logging.getLogger(__name__)

PDFLATEX = "pdflatex"
TEX_PACKAGES = "texlive-latex-base texlive-latex-recommended texlive-fonts-recommended lmodern"
MIN_PASSES = 2  # longtable settles its column widths on the second pass
MAX_PASSES = 3  # one more when the log still asks for a rerun
PASS_TIMEOUT_S = 300.0
LINES_AFTER_ERROR = 4  # quoted after a '!' line when no l.<number> line follows soon
MAX_LINES_TO_LINE_NUMBER = 12  # how far after a '!' line to look for TeX's l.<number> line
LINE_NUMBER = re.compile(r"^l\.\d+(\s|$)")
MAX_ERRORS_QUOTED = 5
RERUN_MARKS = ("Rerun to get", "Rerun LaTeX")


class PdfError(RuntimeError):
    """pdflatex is missing, failed, or produced no readable PDF."""


def compile_pdf(tex_path: Path, pdf_path: Path) -> int:
    """Compile ``tex_path`` with pdflatex and write the PDF atomically to ``pdf_path``.

    pdflatex runs with ``-interaction=nonstopmode -halt-on-error``, twice (longtable needs two
    passes) and a third time if the log still asks for a rerun. Returns the PDF's page count.
    Raises :class:`PdfError` when pdflatex is not installed, when it fails (quoting the log's
    error lines), or when its PDF cannot be read.
    """
    tex_path, pdf_path = Path(tex_path), Path(pdf_path)
    if not tex_path.is_file():
        raise PdfError(f"{tex_path}: no such LaTeX file; expected the report's .tex")
    pdflatex = shutil.which(PDFLATEX)
    if pdflatex is None:
        raise PdfError(
            f"cannot compile {tex_path}: {PDFLATEX} is not on the PATH. Install TeX Live, e.g. "
            f"`apt-get install {TEX_PACKAGES}` on Debian or Ubuntu, or set `report: {{pdf: false}}`"
            " in params.yaml (or an override file) to skip the PDF."
        )
    folder = tex_path.resolve().parent
    with tempfile.TemporaryDirectory(prefix="tranrep-pdflatex-") as tmp:
        out_dir = Path(tmp)
        built = out_dir / tex_path.with_suffix(".pdf").name
        for number in range(1, MAX_PASSES + 1):
            log_text = _run_pass(pdflatex, tex_path, folder, out_dir, number)
            if number >= MIN_PASSES and not any(mark in log_text for mark in RERUN_MARKS):
                break
        else:
            log.warning("%s: still asks for a rerun after %d passes", tex_path, MAX_PASSES)
        if not built.is_file():
            raise PdfError(f"{tex_path}: pdflatex reported success but wrote no {built.name}")
        pages = count_pages(built)
        with atomic_path(pdf_path, suffix=".pdf") as staged:
            shutil.copyfile(built, staged)
    log.info("wrote %s (%d pages)", pdf_path, pages)
    return pages


def count_pages(pdf_path: Path) -> int:
    """Number of pages of a PDF file, read with pypdf."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        pages = len(PdfReader(pdf_path).pages)
    except (PyPdfError, OSError, ValueError) as error:
        raise PdfError(f"{pdf_path}: not a readable PDF ({error})") from error
    if pages < 1:
        raise PdfError(f"{pdf_path}: the PDF has no pages; expected at least one")
    return pages


def _run_pass(pdflatex: str, tex_path: Path, folder: Path, out_dir: Path, number: int) -> str:
    """Run one pdflatex pass in ``folder``, writing to ``out_dir``; return the log's text."""
    command = [
        pdflatex,
        "-interaction=nonstopmode",
        "-halt-on-error",
        f"-output-directory={out_dir}",
        tex_path.name,
    ]
    log.debug("pdflatex pass %d: %s (in %s)", number, " ".join(command), folder)
    try:
        done = subprocess.run(
            command,
            cwd=folder,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=PASS_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise PdfError(
            f"{tex_path}: pdflatex pass {number} ran past {PASS_TIMEOUT_S:.0f} s; expected it to"
            " finish (nonstopmode never waits for input, so TeX is probably looping)"
        ) from error
    log_file = out_dir / tex_path.with_suffix(".log").name
    log_text = (
        log_file.read_text(encoding="utf-8", errors="replace")
        if log_file.is_file()
        else done.stdout
    )
    if done.returncode != 0:
        raise PdfError(
            f"{tex_path}: pdflatex failed on pass {number} (exit code {done.returncode}):\n"
            + error_excerpt(log_text)
        )
    return log_text


def error_excerpt(log_text: str) -> str:
    """The error lines of a TeX log: each line starting with '!' and the lines after it, up to
    TeX's ``l.<number>`` line (the input line at fault) and the one after it, or a few lines
    where there is no such line."""
    lines = log_text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("!")]
    if not starts:
        tail = "\n".join(lines[-20:])
        return f"(no error line in the log; its last lines:)\n{tail}"
    blocks: list[str] = []
    last_end = -1
    for start in starts[:MAX_ERRORS_QUOTED]:
        if start < last_end:
            continue
        last_end = _block_end(lines, start)
        blocks.append("\n".join(lines[start:last_end]))
    return "\n...\n".join(blocks)


def _block_end(lines: list[str], start: int) -> int:
    """End (exclusive) of the error block starting at ``lines[start]``."""
    end = min(len(lines), start + 1 + LINES_AFTER_ERROR)
    for i in range(start + 1, min(len(lines), start + 1 + MAX_LINES_TO_LINE_NUMBER)):
        if lines[i].startswith("!"):
            return min(end, i)  # the next error comes before any line number
        if LINE_NUMBER.match(lines[i]):
            return min(len(lines), i + 2)  # and the rest of the input line after the fault
    return end
