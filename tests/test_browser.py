"""The review and the agreement document, opened in a real browser (headless Chromium).

Needs Playwright's Python package (`pip install ".[browser]"`) and a Chromium on the PATH
(Debian: `apt-get install chromium`); skipped otherwise. `.ci/run` installs both. The
screenshots are saved beside the pages, under the test's temporary folder.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Handoff
from test_report import march  # noqa: F401  (the fixture: a March of three handoffs)

playwright = pytest.importorskip("playwright.sync_api", reason="pip install '.[browser]'")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on the PATH")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


class Opened:
    """A page opened from a file, with every console error and outside request it caused."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page = browser.new_page(viewport={"width": 1100, "height": 900})
        self.page.on("console",
                     lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")
        self.url = path.as_uri()

    def prints(self, pdf: Path) -> bytes:
        self.page.emulate_media(media="print")
        self.page.pdf(path=str(pdf), format="A4", print_background=True)
        return pdf.read_bytes()


def drawn_charts(opened: Opened) -> list[dict[str, Any]]:
    """Every chart's box, and how many of its shapes have a visible size."""
    charts = opened.page.locator("figure.chart svg")
    found = []
    for i in range(charts.count()):
        chart = charts.nth(i)
        assert chart.is_visible()
        chart.scroll_into_view_if_needed()
        found.append({
            "box": chart.bounding_box(),
            "shapes": chart.evaluate(
                "svg => [...svg.querySelectorAll('rect, polyline, circle, line')]"
                ".filter(s => { const b = s.getBBox(); return b.width > 0 || b.height > 0; })"
                ".length"
            ),
            "label": chart.get_attribute("aria-label"),
        })
    return found


def test_the_review_draws_every_chart_and_prints(
    browser: Any, march: Handoff, tmp_path: Path  # noqa: F811
) -> None:
    page_file = tmp_path / "review.html"
    march.ok("report", "--month", "2026-03", "--out", str(page_file))
    opened = Opened(browser, page_file)
    charts = drawn_charts(opened)
    assert len(charts) == 10  # the funnel, eight trends, the response times
    for chart in charts:
        assert chart["box"]["width"] > 250 and chart["box"]["height"] > 100, chart
        assert chart["shapes"] > 3, chart
    opened.page.screenshot(path=str(tmp_path / "review.png"), full_page=True)
    assert opened.errors == []
    assert opened.requests == [opened.url]  # nothing fetched from anywhere else
    pdf = opened.prints(tmp_path / "review.pdf")
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 2


def test_the_agreement_document_reads_and_prints(
    browser: Any, march: Handoff, tmp_path: Path  # noqa: F811
) -> None:
    march.ok("sla", "verify")
    page_file = tmp_path / "sla.html"
    march.ok("sla", "doc", "--month", "2026-03", "--out", str(page_file))
    opened = Opened(browser, page_file)
    clauses = opened.page.locator(".clause")
    assert clauses.count() > 20
    for i in range(clauses.count()):
        marks = clauses.nth(i).locator(".mark")
        assert marks.count() == 2
        assert marks.nth(0).is_visible() and marks.nth(1).is_visible()
    assert opened.page.locator(".m-verified").count() == opened.page.locator(
        ".clause").count()
    charts = drawn_charts(opened)  # the funnel; SLA compliance by month, response times
    assert [c["label"] for c in charts] == [
        "The period's funnel beside the plan", "SLA compliance",
        "How long sales took to decide the period's handoffs"]
    for chart in charts:
        assert chart["box"]["width"] > 250 and chart["box"]["height"] > 100, chart
        assert chart["shapes"] > 3, chart
    opened.page.screenshot(path=str(tmp_path / "sla.png"), full_page=True)
    assert opened.errors == []
    assert opened.requests == [opened.url]
    pdf = opened.prints(tmp_path / "sla.pdf")
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 3
