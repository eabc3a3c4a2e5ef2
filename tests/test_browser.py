"""End-to-end: the served app in a real headless Chromium, with the internet blocked.

Starts ``streamlit run streamlit_app.py`` on a free port with an empty data
folder (so the store is built offline from the embedded report), drives
Debian's ``/usr/bin/chromium`` through Playwright and refuses every request
that does not go to the app itself. The map must still draw (Leaflet and its
plugins come from the app's static folder); only basemap tiles are lost.

Set ``PLANATLAS_SCREENSHOT_DIR`` to also keep the screenshots there.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
WAIT_MS = 120_000  # upper bound for an element to appear (first run builds the store)

if not Path(CHROMIUM).exists():
    # .ci/run installs chromium: in CI a missing browser is a failure, not a skip
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing although .ci/run installs it", pytrace=False)
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, *, limit_s: float = 120) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    pytest.fail(f"streamlit did not start within {limit_s:.0f} s:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="module")
def served_app(tmp_path_factory):
    """URL of the app served from a fresh data folder; the server is stopped afterwards."""
    data = tmp_path_factory.mktemp("planatlas-data")
    log = data / "streamlit.log"
    port = _free_port()
    env = dict(os.environ, PLANATLAS_DATA_DIR=str(data))
    env.pop("TIANDITU_KEY", None)
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
             "--server.headless", "true", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log)
        yield {"url": url, "data": data, "log": log}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, served_app):
    """A page that may reach only the app; blocked requests are recorded."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 950}, accept_downloads=True,
                              locale="zh-CN")
    blocked: list[tuple[str, str]] = []
    app_host = urlparse(served_app["url"]).netloc

    def route(r):
        url = r.request.url
        parsed = urlparse(url)
        if parsed.scheme in ("data", "blob", "about") or parsed.netloc == app_host:
            return r.continue_()
        blocked.append((r.request.resource_type, url))
        return r.abort()

    ctx.route("**/*", route)
    pg = ctx.new_page()
    pg.set_default_timeout(WAIT_MS)
    pg.blocked = blocked
    yield pg
    ctx.close()


def _shot(pg, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    pg.screenshot(path=str(path), full_page=False)
    keep = os.environ.get("PLANATLAS_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / name)
    return path


def _wait_until(condition, *, limit_s: float = WAIT_MS / 1000, settle: int = 3) -> None:
    """Wait until ``condition()`` holds ``settle`` checks in a row (a bound, not a timing test)."""
    deadline = time.monotonic() + limit_s
    streak = 0
    while time.monotonic() < deadline:
        try:
            ok = bool(condition())
        except sync_api.Error:  # frame replaced while looking
            ok = False
        streak = streak + 1 if ok else 0
        if streak >= settle:
            return
        time.sleep(0.25)
    pytest.fail("condition not reached in time")


def _map_frame(pg, index: int = 0):
    return pg.frame_locator('iframe[title="streamlit_folium.st_folium"]').nth(index)


def _item_texts(data_dir: Path) -> set[str]:
    from spatial.store import read_layer

    items = read_layer("report_items", path=data_dir / "planatlas.gpkg")
    return set(items["text"].astype(str))


# centre (x, y), in the iframe, of the first report-item marker that is the
# topmost element at its own centre
_UNCOVERED_MARKER = """() => {
    for (const p of document.querySelectorAll('path.pa-item')) {
        const r = p.getBoundingClientRect();
        const x = r.left + r.width / 2, y = r.top + r.height / 2;
        if (r.width > 0 && document.elementFromPoint(x, y) === p) return [x, y];
    }
    return null;
}"""


def test_the_server_opens_the_store_before_it_answers(served_app):
    """``streamlit run streamlit_app.py`` serves the st.App whose start builds the store (app_pages.startup)."""
    assert (served_app["data"] / "planatlas.gpkg").is_file()
    log = served_app["log"].read_text(errors="replace")
    assert "planatlas：数据已就绪" in log
    assert "Traceback" not in log and "ScriptRunContext" not in log


def test_the_map_page_loads_no_streamlit_code_its_html_did_not_name(page, served_app):
    """Every element file the landing page needs is named in the page itself (app_pages._preload).

    Otherwise the browser asks for it only once the script run has sent the
    first element of its kind, and the map waits for it.
    """
    import re

    with urllib.request.urlopen(served_app["url"] + "/", timeout=30) as resp:
        html = resp.read().decode("utf-8")
    named = {"/" + u.removeprefix("./") for u in re.findall(r'(?:href|src)="(\./static/js/[^"]+\.js)"', html)}
    page.goto(served_app["url"] + "/")
    _map_frame(page).locator(".marker-cluster").first.wait_for()
    _wait_until(lambda: not page.locator('[data-testid="stStatusWidget"]').is_visible())
    loaded = page.evaluate("() => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname)")
    chunks = {p for p in loaded if p.startswith("/static/js/")}
    assert any("/Multiselect." in p for p in chunks)  # the page did load widget code
    assert chunks - named == set(), "not named in the page: add its element to app_pages._preload.ELEMENTS"
    # and Streamlit's page alone was changed: the map frame's page is the component's own
    with urllib.request.urlopen(served_app["url"] + "/component/streamlit_folium.st_folium/index.html",
                                timeout=30) as resp:
        assert b"modulepreload" not in resp.read()


def test_map_draws_offline_and_a_popup_shows_a_report_sentence(page, served_app, tmp_path):
    page.goto(served_app["url"] + "/")
    frame = _map_frame(page)
    frame.locator(".leaflet-container").wait_for()
    # the layer control is folded into Leaflet's layers button: unfold it as a user would
    frame.locator(".leaflet-control-layers").hover()
    frame.locator(".leaflet-control-layers-overlays label").first.wait_for()
    labels = [t.strip() for t in frame.locator(".leaflet-control-layers-overlays label").all_inner_texts()]
    for expected in ("区县", "起步区", "黄河", "跨黄河通道"):
        assert expected in labels, labels
    from layers import LAYERS

    assert any(label.startswith(LAYERS["report_items"].title_zh + " · ") for label in labels), labels
    # vector layers drawn (districts, river, crossings) and report items clustered
    assert frame.locator(".leaflet-overlay-pane path").count() > 10
    frame.locator(".marker-cluster").first.wait_for()
    page.mouse.move(5, 5)  # fold the layer control again for the screenshot
    _shot(page, tmp_path, "map.png")

    # unclustered, every item is a circle marker one can click
    page.get_by_text("聚合报告条目").click()
    frame = _map_frame(page)
    # the rerun replaces the map: wait until the one on the page has no clusters
    # (singleton markers of the old, clustered map are pa-items too)
    _wait_until(lambda: frame.locator(".marker-cluster").count() == 0
                and frame.locator("path.pa-item").count() > 0)
    _wait_until(lambda: not page.locator('[data-testid="stStatusWidget"]').is_visible())
    page.wait_for_timeout(500)  # let Leaflet finish drawing before measuring
    # a marker not covered by the layer control or another marker, clicked
    # like a user would (at its position on screen)
    spot = frame.locator("body").evaluate(_UNCOVERED_MARKER)
    assert spot is not None, "no report item is visible on the map"
    box = page.locator('iframe[title="streamlit_folium.st_folium"]').first.bounding_box()
    page.mouse.click(box["x"] + spot[0], box["y"] + spot[1])
    quote = frame.locator(".leaflet-popup-content .pa-quote")
    quote.wait_for()
    sentence = quote.inner_text().strip()
    assert sentence in _item_texts(served_app["data"])
    assert "来源" in frame.locator(".leaflet-popup-content").inner_text()
    _wait_until(lambda: not page.locator('[data-testid="stStatusWidget"]').is_visible())
    _shot(page, tmp_path, "map_popup.png")

    # nothing but basemap tiles was asked of the internet
    kinds = {kind for kind, _ in page.blocked}
    assert kinds <= {"image"}, page.blocked
    assert all("tile" in url for _, url in page.blocked), page.blocked


def test_coverage_run_finishes_and_downloads(page, served_app, tmp_path):
    page.goto(served_app["url"] + "/coverage")
    page.get_by_role("button", name="运行分析").click()
    page.get_by_text("人口覆盖率", exact=True).wait_for()
    frame = _map_frame(page)
    frame.locator(".leaflet-overlay-pane path").first.wait_for()
    _wait_until(lambda: not page.locator('[data-testid="stStatusWidget"]').is_visible())
    _shot(page, tmp_path, "coverage.png")

    with page.expect_download() as info:
        page.get_by_role("button", name="服务范围 (GEOJSON)").click()
    download = info.value
    assert download.suggested_filename == "coverage_area.geojson"
    data = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection" and len(data["features"]) >= 1
    assert data["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert {kind for kind, _ in page.blocked} <= {"image"}, page.blocked
