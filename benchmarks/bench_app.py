"""Benchmark of the app as a user meets it (a script, not a test).

Serves ``streamlit_app.py`` and drives Debian's Chromium with the internet
blocked, as ``tests/test_browser.py`` does, and measures wall-clock times:

* **server start**: ``streamlit run`` until ``/_stcore/health`` answers; the
  server answers once it has opened (or, on an empty data folder, built) the
  store and drawn the default map's layers (``app_pages.startup``), so that
  work shows here and no longer in the first map;
* **first map**: from opening the page until Leaflet has drawn the layers in
  the ``st_folium`` iframe, with an empty data folder (the GeoPackage is built
  from the report on this first visit) and again with the store in place;
* **interactions** (the < 1 s target), each from the click until the page is
  idle and the map shows the change: a layer switched off and on in the page's
  layer picker, the basemap changed (the map reloads on other tiles), the
  districts' colour figure, un-/re-clustering the report items, a fly-to
  (search result -> the map's view at the target), a report filter (the item
  count changes), opening a popup, and a coverage run until its results show.

Pages are 1280×720, a laptop screen.

Server-side parts are timed too, without a browser: building the folium map
of all default layers and rendering its HTML.

Usage::

    python benchmarks/bench_app.py              # 3 repeats of each interaction
    python benchmarks/bench_app.py --repeat 5
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
FRAME = 'iframe[title="streamlit_folium.st_folium"]'
STATUS = '[data-testid="stStatusWidget"]'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(data: Path) -> tuple[subprocess.Popen, str, float]:
    port = _free_port()
    env = dict(os.environ, PLANATLAS_DATA_DIR=str(data))
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.05)
    return proc, url, time.perf_counter() - t0


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def _page(browser, url: str):
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    host = urlparse(url).netloc
    ctx.route("**/*", lambda r: r.continue_() if urlparse(r.request.url).netloc == host
              or r.request.url.startswith(("data:", "blob:")) else r.abort())
    page = ctx.new_page()
    page.on("dialog", lambda d: d.accept())  # "leave the page?" once a result exists
    page.set_default_timeout(120_000)
    return ctx, page


LIMIT_S = 60.0


def _idle(page) -> None:
    """Wait until Streamlit has finished the script run (its status widget is gone)."""
    deadline = time.monotonic() + LIMIT_S
    while page.locator(STATUS).is_visible():
        if time.monotonic() > deadline:
            raise TimeoutError("the app is still running after a minute")
        time.sleep(0.02)


def _first_map(browser, url: str) -> float:
    ctx, page = _page(browser, url)
    t0 = time.perf_counter()
    page.goto(url + "/")
    frame = page.frame_locator(FRAME).first
    frame.locator(".leaflet-overlay-pane path").first.wait_for()
    frame.locator(".marker-cluster").first.wait_for()
    elapsed = time.perf_counter() - t0
    ctx.close()
    return elapsed


def _poll(page, ready, what: str) -> None:
    """Until ``ready(frame)`` holds and the page is idle (a frame replaced while looking counts as not yet)."""
    frame = page.frame_locator(FRAME).first
    deadline = time.monotonic() + LIMIT_S
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        try:
            ok = bool(ready(frame))
        except Exception:
            ok = False
        if ok and not page.locator(STATUS).is_visible():
            return
        time.sleep(0.02)


def _wait_map(page, *, clusters: bool) -> None:
    def redrawn(frame) -> bool:
        n_items = frame.locator("path.pa-item").count()
        return (frame.locator(".marker-cluster").count() > 0) == clusters and n_items > 0

    _poll(page, redrawn, f"map not redrawn (clusters={clusters})")


def _wait_layer(page, title: str, shown: bool) -> None:
    """Until the map's layer control lists ``title`` (or no longer does) and the page is idle."""
    def listed(frame) -> bool:
        return (frame.locator(".leaflet-control-layers-overlays label", has_text=title).count() > 0) == shown

    _poll(page, listed, f"layer {title} not {'shown' if shown else 'removed'}")


def _wait_zoom(page, ok) -> None:
    frame = page.frame_locator(FRAME).first
    deadline = time.monotonic() + LIMIT_S
    while not ok(frame.locator("body").evaluate("() => window.map.getZoom()")):
        if time.monotonic() > deadline:
            raise TimeoutError("the map did not move")
        time.sleep(0.02)


_UNCOVERED_MARKER = """() => {
    for (const p of document.querySelectorAll('path.pa-item')) {
        const r = p.getBoundingClientRect();
        const x = r.left + r.width / 2, y = r.top + r.height / 2;
        if (r.width > 0 && document.elementFromPoint(x, y) === p) return [x, y];
    }
    return null;
}"""


def _interactions(browser, url: str, repeat: int) -> dict[str, list[float]]:
    ctx, page = _page(browser, url)
    page.goto(url + "/")
    page.frame_locator(FRAME).first.locator(".marker-cluster").first.wait_for()
    _idle(page)
    out: dict[str, list[float]] = {"layer off and on (layer picker)": [], "basemap change": [],
                                   "toggle clustering (rerun + redraw)": [],
                                   "change colour figure (rerun + redraw)": [], "fly-to (search result)": [],
                                   "open a popup": [], "report filter": [], "coverage run (click -> results)": []}
    frame = page.frame_locator(FRAME).first
    for _ in range(repeat):  # 起步区 off, then on again: two reruns, each timed
        for want in (False, True):
            t0 = time.perf_counter()
            if want:
                box = page.get_by_role("combobox", name="图层")
                box.click()
                box.fill("起步区")
                page.get_by_role("option", name="起步区").first.click()
                page.keyboard.press("Escape")
                page.mouse.click(150, 650)  # the picker loses focus (a click on the sidebar)
            else:
                page.locator('[data-testid="stMultiSelect"] button[aria-label$=" 起步区"]').first.click()
                page.mouse.click(150, 650)
            _wait_layer(page, "起步区", want)
            out["layer off and on (layer picker)"].append(time.perf_counter() - t0)
    bases = ["CARTO", "OpenStreetMap"]
    for i in range(repeat):
        t0 = time.perf_counter()
        page.get_by_role("combobox", name="底图").click()
        page.get_by_role("option", name=re.compile(bases[i % 2])).click()
        frame.locator(".leaflet-tile-pane").first.wait_for(state="attached")
        _wait_map(page, clusters=True)
        out["basemap change"].append(time.perf_counter() - t0)
    clustered = True
    for _ in range(repeat):
        t0 = time.perf_counter()
        page.get_by_text("聚合报告条目").click()
        clustered = not clustered
        _wait_map(page, clusters=clustered)
        out["toggle clustering (rerun + redraw)"].append(time.perf_counter() - t0)
    if clustered:  # popups are measured on unclustered markers
        page.get_by_text("聚合报告条目").click()
        _wait_map(page, clusters=False)
    figures = ["面积 (km²)", "人口密度 (人/km²)"]
    for i in range(repeat):
        t0 = time.perf_counter()
        page.get_by_role("combobox", name="区县着色指标").click()
        page.get_by_role("option", name=figures[i % 2]).click()
        # done when the legend names the new figure and the districts are redrawn
        page.frame_locator(FRAME).first.locator(".pa-legend", has_text=figures[i % 2]).wait_for()
        _wait_map(page, clusters=False)
        out["change colour figure (rerun + redraw)"].append(time.perf_counter() - t0)
    page.get_by_label("搜索条目或地名").fill("济西湿地")
    page.get_by_label("搜索条目或地名").press("Enter")
    page.get_by_role("button", name="在地图上定位").wait_for()
    _idle(page)
    for _ in range(repeat):
        frame.locator("body").evaluate("() => window.map.setView([37.3, 117.5], 8)")
        _wait_zoom(page, lambda z: z == 8)
        _idle(page)
        t0 = time.perf_counter()
        page.get_by_role("button", name="在地图上定位").click()
        _wait_zoom(page, lambda z: z >= 13)
        _idle(page)
        out["fly-to (search result)"].append(time.perf_counter() - t0)
    page.get_by_label("搜索条目或地名").fill("")
    page.get_by_label("搜索条目或地名").press("Enter")
    _idle(page)
    frame.locator("body").evaluate("() => window.map.setView([36.66, 117.02], 11)")
    _idle(page)
    for _ in range(repeat):
        spot = frame.locator("body").evaluate(_UNCOVERED_MARKER)
        box = page.locator(FRAME).first.bounding_box()
        t0 = time.perf_counter()
        page.mouse.click(box["x"] + spot[0], box["y"] + spot[1])
        frame.locator(".leaflet-popup-content .pa-quote").wait_for()
        out["open a popup"].append(time.perf_counter() - t0)
        frame.locator("body").evaluate("() => window.map.closePopup()")
        frame.locator(".leaflet-popup").wait_for(state="detached")
        _idle(page)
    page.goto(url + "/report")
    count = page.get_by_text(re.compile(r"^\d+ / \d+ 条$"))
    count.wait_for()
    _idle(page)
    for i in range(repeat):
        before = count.inner_text()
        t0 = time.perf_counter()
        if i % 2 == 0:  # 公园 chosen, then taken away again
            box = page.get_by_role("combobox", name="类别")
            box.click()
            box.fill("公园")
            page.get_by_role("option", name="公园", exact=True).first.click()
            page.keyboard.press("Escape")
        else:
            page.locator('[data-testid="stMultiSelect"] button[aria-label$=" 公园"]').first.click()
        page.mouse.click(150, 650)
        deadline = time.monotonic() + LIMIT_S
        while count.inner_text() == before and time.monotonic() < deadline:
            time.sleep(0.02)
        _idle(page)
        out["report filter"].append(time.perf_counter() - t0)
    page.goto(url + "/coverage")
    page.get_by_role("button", name="运行分析").wait_for()
    # alternate two custom radii so each run's result differs from the last one shown
    page.get_by_role("combobox", name="服务标准").click()
    page.get_by_role("option", name="自定义 (分钟 × 速度)").click()
    minutes = page.get_by_label("时间 (分钟)")
    minutes.wait_for()
    _idle(page)
    for i in range(repeat):
        value = 10 + 5 * (i % 2)
        minutes.fill(str(value))
        minutes.press("Enter")
        _idle(page)
        t0 = time.perf_counter()
        page.get_by_role("button", name="运行分析").click()
        page.get_by_text(f"{value * 80:,} m", exact=True).wait_for()  # 80 m/min default speed
        page.frame_locator(FRAME).first.locator(".leaflet-overlay-pane path").first.wait_for()
        _idle(page)
        out["coverage run (click -> results)"].append(time.perf_counter() - t0)
    ctx.close()
    return out


def _server_side(data: Path, repeat: int) -> dict[str, list[float]]:
    os.environ["PLANATLAS_DATA_DIR"] = str(data)
    from spatial import webmap
    from spatial.store import read_layer, read_specs

    specs = read_specs()
    layers = {n: read_layer(n) for n, spec in specs.items() if spec.visible}
    out: dict[str, list[float]] = {"make_map (default layers)": [], "render map HTML": []}
    for _ in range(repeat):
        t0 = time.perf_counter()
        m = webmap.make_map(layers, specs=specs, color_by="density")
        out["make_map (default layers)"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        m.get_root().render()
        out["render map HTML"].append(time.perf_counter() - t0)
    return out


def _fmt(values: list[float]) -> str:
    med = statistics.median(values)
    return f"median {med:6.2f} s   (min {min(values):.2f}, max {max(values):.2f}, n={len(values)})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="repeats of each interaction")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is needed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    data = Path(tempfile.mkdtemp(prefix="planatlas-bench-"))
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            proc, url, start_cold = _start(data)
            try:
                first_cold = _first_map(browser, url)  # builds the store
            finally:
                _stop(proc)
            proc, url, start_warm = _start(data)
            try:
                first_warm = _first_map(browser, url)
                first_again = _first_map(browser, url)  # caches warm in the server
                inter = _interactions(browser, url, args.repeat)
            finally:
                _stop(proc)
            browser.close()
        server = _server_side(data, args.repeat)
    finally:
        shutil.rmtree(data, ignore_errors=True)

    print("planatlas app benchmark (Chromium headless, internet blocked)")
    print(f"  server start (cold)                      {start_cold:6.2f} s")
    print(f"  first map, empty data folder             {first_cold:6.2f} s   (store built at server start)")
    print(f"  server start (store present)             {start_warm:6.2f} s")
    print(f"  first map, store present                 {first_warm:6.2f} s")
    print(f"  first map, second visitor                {first_again:6.2f} s")
    print(f"  server start + first map (store present) {start_warm + first_warm:6.2f} s")
    for name, values in inter.items():
        print(f"  {name:<41}{_fmt(values)}")
    for name, values in server.items():
        print(f"  {name:<41}{_fmt(values)}")


if __name__ == "__main__":
    main()
