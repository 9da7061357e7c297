"""Each report page rendered in headless Chromium, as the team leader's browser would show it:
no error, no request for anything outside the file, nothing wider than the window, every
chart drawn, every headline figure whole, Chinese drawn with a Chinese font, and a PDF when
printed.

Chromium comes from Debian (`scripts/install-browser`, run by the set-up in the README);
Playwright drives it. Where neither can be had, the tests skip and say why. Set
HAOWU_SCREENSHOT=docs/session-review.png to refresh the screenshot kept in the docs.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from haowu_cli.cli import run

LAUNCH_ARGS = [
    "--no-sandbox",  # the tests may run as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",  # no calls home on a closed network
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CJK_FONTS = (
    "CJK",
    "WenQuanYi",
    "PingFang",
    "YaHei",
    "Source Han",
    "Hiragino",
    "Droid Sans Fallback",
)


def chromium() -> str | None:
    return (
        os.environ.get("HAOWU_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
        or shutil.which("google-chrome")
    )


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is not installed: pip install -e '.[test]'"
    )
    path = chromium()
    if path is None:
        pytest.skip(
            "no Chromium on this machine, and scripts/install-browser could not install it "
            "(it needs root or password-less sudo, and apt-get)"
        )
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=LAUNCH_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """The three pages of the demo's database."""
    folder = tmp_path_factory.mktemp("pages")
    db = folder / "demo.duckdb"
    assert run(["--quiet", "demo", "--db", str(db)]) == 0
    found = {}
    for kind, args in (
        ("session", ["session", "1", "--as-of", "2026-12-31"]),
        ("merchants", ["merchants"]),
        ("grades", ["grades"]),
    ):
        found[kind] = folder / f"{kind}.html"
        assert run(["--quiet", "--db", str(db), "report", *args, "--html", str(found[kind])]) == 0
    return found


@pytest.mark.parametrize("kind", ["session", "merchants", "grades"])
def test_the_page_lays_out_in_chromium(browser, pages, kind, tmp_path):
    url = pages[kind].as_uri()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, requests = [], []
    page.on("console", lambda m: m.type in ("error", "warning") and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: r.url != url and requests.append(r.url))
    page.goto(url, wait_until="load")
    assert errors == [] and requests == []  # nothing broken, nothing fetched

    def fits() -> bool:
        return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    assert fits(), "the page is wider than the window"
    charts = page.locator("svg.chart")
    assert charts.count() >= 2
    for index in range(charts.count()):
        box = charts.nth(index).bounding_box()
        assert box["width"] > 400 and box["height"] > 20
    cut = page.evaluate(
        "[...document.querySelectorAll('.figure .value')]"
        ".filter(e => e.scrollWidth > e.clientWidth).map(e => e.textContent)"
    )
    assert cut == []  # every headline figure shows whole
    _assert_chinese_font(page)
    page.emulate_media(media="print")
    assert fits(), "the printed page is wider than the paper"
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    page.emulate_media(media="screen")
    shot = page.screenshot(full_page=True)
    assert len(shot) > 50_000
    if kind == "session" and os.environ.get("HAOWU_SCREENSHOT"):
        page.set_viewport_size({"width": 1100, "height": 1500})
        page.screenshot(path=os.environ["HAOWU_SCREENSHOT"])
    page.close()


def _assert_chinese_font(page) -> None:
    """The title's Chinese is drawn with a font that has Chinese glyphs, not boxes."""
    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False)
    if not fonts.stdout.strip():
        pytest.skip("no Chinese font on this machine (scripts/install-browser installs Noto CJK)")
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    title = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "h1"})["nodeId"]
    used = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": title})["fonts"]
    assert any(any(name in f["familyName"] for name in CJK_FONTS) for f in used), used
    cdp.detach()
