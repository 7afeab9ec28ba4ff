"""The LaTeX report compiled to PDF with pdflatex (tranrep.report.pdf and `tranrep pdf`).

Tests that need pdflatex skip where it is not installed, unless TRAN_REQUIRE_PDFLATEX=1 (set by
.ci/run), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.test_report import Rendered, build_and_render
from tranrep.cli import main
from tranrep.report.pdf import PdfError, compile_pdf, error_excerpt

REQUIRE_ENV = "TRAN_REQUIRE_PDFLATEX"
TEX_PACKAGES = "texlive-latex-base texlive-latex-recommended texlive-fonts-recommended lmodern"
# The fixture report: title page and summary, three result tables, 14 figures, data cards,
# settings and provenance. It fills 14 A4 pages today; the range allows for layout changes.
FIXTURE_PAGES = range(5, 41)
TWO_PAGES = r"""\documentclass{article}
\begin{document}
First page.
\newpage
Second page.
\end{document}
"""


@pytest.fixture
def pdflatex() -> str:
    """pdflatex's path; skips (or fails, under TRAN_REQUIRE_PDFLATEX=1) where it is missing."""
    path = shutil.which("pdflatex")
    if path is None:
        reason = f"pdflatex is not installed (apt-get install {TEX_PACKAGES})"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{reason}, and {REQUIRE_ENV}=1 requires it")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """The fixture's report, rendered once."""
    return build_and_render(tmp_path_factory.mktemp("pdf-report"))


def _image_xobjects(reader: PdfReader) -> set[int]:
    """Object numbers of the images drawn on the pages (each \\includegraphics'd PNG)."""
    found: set[int] = set()
    for page in reader.pages:
        resources = page.get("/Resources")
        xobjects = resources.get_object().get("/XObject") if resources is not None else None
        if xobjects is None:
            continue
        for reference in xobjects.get_object().values():
            if reference.get_object().get("/Subtype") == "/Image":
                found.add(reference.idnum)
    return found


def test_fixture_report_compiles_to_a_multi_page_pdf(
    pdflatex: str, rendered: Rendered, tmp_path: Path
) -> None:
    pdf_path = tmp_path / "out" / "replication.pdf"
    before = sorted(p.name for p in rendered.tex_path.parent.iterdir())

    pages = compile_pdf(rendered.tex_path, pdf_path)

    data = pdf_path.read_bytes()
    assert data.startswith(b"%PDF-")
    assert b"%%EOF" in data[-1024:]
    reader = PdfReader(pdf_path)
    assert len(reader.pages) == pages
    assert pages >= 2
    assert pages in FIXTURE_PAGES
    if shutil.which("pdfinfo"):  # a second, independent reader where poppler is installed
        info = subprocess.run(["pdfinfo", str(pdf_path)], capture_output=True, text=True)
        assert re.search(rf"^Pages:\s+{pages}$", info.stdout, re.MULTILINE), info.stdout

    # Every figure that the .tex includes is drawn in the PDF.
    included = re.findall(r"\\includegraphics\[[^\]]*\]\{([^}]*)\}", rendered.tex)
    assert len(included) == len(set(included)) == len(list(rendered.figures.glob("*.png")))
    assert len(_image_xobjects(reader)) == len(included)

    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Replication report" in reader.pages[0].extract_text()
    for heading in ("Results tables", "Performance comparison on Census-income",
                    "Performance comparison on Fashion-MNIST",
                    "Performance comparison on SARCOS", "Provenance"):  # fmt: skip
        assert heading in text, heading

    # Nothing but the PDF is written: no .aux, .log or temporaries beside the .tex or the PDF.
    assert sorted(p.name for p in rendered.tex_path.parent.iterdir()) == before
    assert [p.name for p in pdf_path.parent.iterdir()] == ["replication.pdf"]


def test_cli_writes_the_pdf(pdflatex: str, tmp_path: Path) -> None:
    tex = tmp_path / "two.tex"
    tex.write_text(TWO_PAGES, encoding="utf-8")
    pdf = tmp_path / "reports" / "two.pdf"
    main(["pdf", "--tex", str(tex), "--pdf", str(pdf)])
    assert len(PdfReader(pdf).pages) == 2


def test_latex_error_quotes_the_log_and_keeps_the_old_pdf(pdflatex: str, tmp_path: Path) -> None:
    tex = tmp_path / "broken.tex"
    tex.write_text(TWO_PAGES.replace("Second page.", r"Second \undefinedmacro page."), "utf-8")
    pdf = tmp_path / "broken.pdf"
    pdf.write_bytes(b"the previous PDF")
    with pytest.raises(PdfError) as caught:
        compile_pdf(tex, pdf)
    message = str(caught.value)
    assert str(tex) in message
    assert "! Undefined control sequence." in message
    assert r"l.5 Second \undefinedmacro" in message
    assert pdf.read_bytes() == b"the previous PDF"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.pdf", "broken.tex"]


def test_missing_pdflatex_names_the_packages_and_the_switch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tex = tmp_path / "two.tex"
    tex.write_text(TWO_PAGES, encoding="utf-8")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(PdfError) as caught:
        compile_pdf(tex, tmp_path / "two.pdf")
    message = str(caught.value)
    assert str(tex) in message
    assert f"apt-get install {TEX_PACKAGES}" in message
    assert "report: {pdf: false}" in message
    assert not (tmp_path / "two.pdf").exists()


def test_cli_reports_a_missing_tex_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["pdf", "--tex", str(tmp_path / "absent.tex"), "--pdf", str(tmp_path / "x.pdf")])
    assert caught.value.code == 1
    assert "absent.tex: no such LaTeX file" in caplog.text


# The end of pdflatex's log for a missing package: three '!' lines, one with a line number.
MISSING_PACKAGE_LOG = [
    "(/usr/share/texlive/texmf-dist/tex/latex/base/size10.clo))",
    "! LaTeX Error: File `nonexistentpkg.sty' not found.",
    "",
    "Type X to quit or <RETURN> to proceed,",
    "or enter new name. (Default extension: sty)",
    "",
    "Enter file name: ",
    "! Emergency stop.",
    "<read *> ",
    "         ",
    "l.3 \\begin",
    "          {document}^^M ",
    "Here is how much of TeX's memory you used:",
    " 233 strings out of 478051",
    "",
    "!  ==> Fatal error occurred, no output PDF file produced!",
]


def test_error_excerpt_quotes_each_error_up_to_its_line_number() -> None:
    lines = MISSING_PACKAGE_LOG
    assert error_excerpt("\n".join(lines)) == "\n...\n".join(
        ["\n".join(lines[1:6]), "\n".join(lines[7:12]), lines[15]]
    )
    assert error_excerpt("just\nsome\nlines").startswith("(no error line in the log")
