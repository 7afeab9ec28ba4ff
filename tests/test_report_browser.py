"""The rendered HTML report in a real browser: headless Chromium driven through Selenium.

Needs Debian's `chromium` and `chromium-driver`. Skips where they are missing, unless
TRAN_REQUIRE_BROWSER=1 (set by .ci/run), which turns the skip into a failure. Screenshots go to
the folder in TRAN_SCREENSHOT_DIR, or else to the test's temporary folder.
"""

from __future__ import annotations

import base64
import os
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_report import Rendered, build_and_render

REQUIRE_ENV = "TRAN_REQUIRE_BROWSER"
SCREENSHOT_ENV = "TRAN_SCREENSHOT_DIR"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
LAPTOP_WIDTH = 1280
PHONE_WIDTH = 390
VIEWPORT_HEIGHT = 800
MAX_SHOT_HEIGHT = 16_000  # Chromium cannot capture much taller in one image
PAGE_LOAD_TIMEOUT_S = 60
CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",  # CI and the developers' machines run as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",  # so that the screenshots are of the page alone
)
# Every section of the report, by a piece of its <h2> heading.
SECTIONS = (
    "Summary",
    "The paper's claims",
    "Results tables",
    "Figure 2",
    "Figure 3",
    "Data",
    "Training curves",
    "Ablations of TRAN",
    "Settings and choices",
    "Provenance",
)


def _tools() -> tuple[str, str]:
    """Paths of chromium and chromedriver; skips (or fails under TRAN_REQUIRE_BROWSER=1)."""
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium and chromedriver:
        return chromium, chromedriver
    missing = " and ".join(n for n, p in (("chromium", chromium), ("chromedriver", chromedriver))
                           if p is None)  # fmt: skip
    reason = f"{missing} not installed (apt-get install chromium chromium-driver)"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason}, and {REQUIRE_ENV}=1 requires it")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """The fixture's report, rendered once."""
    return build_and_render(tmp_path_factory.mktemp("browser-report"))


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    """A headless Chromium that records the page's console messages."""
    chromium, chromedriver = _tools()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in CHROMIUM_ARGS:
        options.add_argument(argument)
    options.set_capability("goog:loggingOptions", {"browser": "ALL"})
    browser = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    browser.set_page_load_timeout(PAGE_LOAD_TIMEOUT_S)
    try:
        yield browser
    finally:
        browser.quit()


def _open(driver: Any, rendered: Rendered, width: int) -> None:
    """Load the report in a viewport ``width`` pixels wide, as a desktop window of that size
    (so that window.innerWidth stays ``width``: a mobile viewport would widen to fit overflow
    and hide it). Drains the console log of any earlier page."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": VIEWPORT_HEIGHT, "deviceScaleFactor": 1, "mobile": False},
    )
    driver.get_log("browser")
    driver.get(rendered.html_path.resolve().as_uri())


def _widths(driver: Any) -> dict[str, int]:
    return driver.execute_script(
        "const root = document.documentElement;"
        "return {scroll: root.scrollWidth, client: root.clientWidth, inner: window.innerWidth};"
    )


def _full_page_png(driver: Any, width: int) -> bytes:
    height = driver.execute_script("return document.documentElement.scrollHeight")
    clip = {"x": 0, "y": 0, "width": width, "height": min(height, MAX_SHOT_HEIGHT), "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    return base64.b64decode(shot["data"])


def _png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    assert data[:8] == PNG_MAGIC
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_page_loads_without_errors_and_every_figure_decodes(
    driver: Any, rendered: Rendered
) -> None:
    _open(driver, rendered, LAPTOP_WIDTH)
    images = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "Promise.all(Array.from(document.images, img => img.decode().then("
        "  () => ({alt: img.alt, complete: img.complete, width: img.naturalWidth}),"
        "  error => ({alt: img.alt, complete: img.complete, width: 0, error: String(error)})"
        "))).then(done);"
    )
    severe = [m for m in driver.get_log("browser") if m["level"] == "SEVERE"]
    assert severe == []
    assert len(images) == len(list(rendered.figures.glob("*.png"))) > 0
    for image in images:
        assert image["complete"] and image["width"] > 0, image


def test_page_has_every_section_and_the_result_tables(driver: Any, rendered: Rendered) -> None:
    _open(driver, rendered, LAPTOP_WIDTH)
    headings = driver.execute_script(
        "return Array.from(document.querySelectorAll('h2'), h => h.textContent.trim());"
    )
    for section in SECTIONS:
        assert any(section in heading for heading in headings), (section, headings)
    tables = driver.execute_script(
        "return Array.from(document.querySelectorAll('h3[id^=\"table-\"]'), h => {"
        '  const table = document.querySelector(`table[aria-describedby="${h.id}"]`);'
        "  return {id: h.id, title: h.textContent.trim(), visible: h.offsetHeight > 0,"
        "          rows: table ? table.tBodies[0].rows.length : 0,"
        "          scrolls: table ? table.parentElement.classList.contains('scroll') : false};"
        "});"
    )
    assert [t["id"] for t in tables] == ["table-1", "table-2", "table-3"]
    for table in tables:
        assert table["visible"] and table["rows"] > 0 and table["scrolls"], table


@pytest.mark.parametrize(("device", "width"), [("laptop", LAPTOP_WIDTH), ("phone", PHONE_WIDTH)])
def test_full_page_screenshot_and_no_horizontal_overflow(
    driver: Any, rendered: Rendered, tmp_path: Path, device: str, width: int
) -> None:
    _open(driver, rendered, width)
    widths = _widths(driver)
    assert widths["inner"] == width
    # Wide tables scroll inside their .scroll boxes; the page itself never scrolls sideways.
    assert widths["scroll"] <= min(widths["inner"], widths["client"]) + 1, widths

    folder = Path(os.environ.get(SCREENSHOT_ENV) or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"replication-{device}-{width}.png"
    path.write_bytes(_full_page_png(driver, width))
    data = path.read_bytes()
    assert len(data) > 0 and data.startswith(PNG_MAGIC)
    shot_width, shot_height = _png_size(data)
    assert shot_width == width
    assert shot_height > VIEWPORT_HEIGHT  # the whole page, not one screenful


def test_overflow_check_catches_a_too_wide_element(driver: Any, rendered: Rendered) -> None:
    """The check above is not vacuous: an element wider than the phone makes it fail."""
    _open(driver, rendered, PHONE_WIDTH)
    driver.execute_script(
        "const wide = document.createElement('div');"
        "wide.style.width = '600px'; wide.textContent = 'too wide';"
        "document.body.appendChild(wide);"
    )
    widths = _widths(driver)
    assert widths["scroll"] > widths["inner"] + 1, widths
