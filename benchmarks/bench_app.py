"""Benchmark of the app as a user meets it (a script, not a test).

Serves ``streamlit_app.py`` and drives Debian's Chromium with the internet
blocked and measures wall-clock times:

* **server start**: ``streamlit run`` until ``/_stcore/health`` answers; the
  server answers once it has opened (or, on an empty data folder, built) the
  store and drawn the default map's layers (``app_pages.startup``), so that
  work shows here and no longer in the first map;
* **first map**: from opening the page until Leaflet has drawn the layers in
  the ``st_folium`` iframe, with an empty data folder (the GeoPackage is built
  from the report at server start) and with the store in place; each as a
  *first visit* (a browser that never saw the app: empty HTTP cache) and as a
  *returning visit* (the planner's browser of yesterday: Streamlit's hashed
  bundles and the vendored Leaflet come from its cache);
* **interactions** (the < 1 s target), each from the click until the page is
  idle and the map shows the change: a layer switched off and on in the page's
  layer picker, the basemap changed (the map reloads on other tiles), the
  districts' colour figure, un-/re-clustering the report items, a fly-to
  (search result -> the map's view at the target), a report filter (the item
  count changes), opening a popup, and a coverage run until its results show
  (the first run of a session apart from the reruns after it);
* **anchors**, on the same machine and browser: a Streamlit page of one line
  of text, and a Streamlit page of one ``st_folium`` map with one polygon
  (the vendored Leaflet): the floor under any first map this stack draws.

The internet is blocked by pointing Chromium's proxy at a closed local port
(loopback is never proxied), not by request interception, which would turn
the browser's HTTP cache off and make every visit a first one. Requests that
left for the internet are counted: none may be answered.

Pages are 1280×720, a laptop screen.

Server-side parts are timed too, without a browser: building the folium map
of all default layers and rendering its HTML.

Usage::

    python benchmarks/bench_app.py              # 3 repeats of each interaction and visit
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
#: Where every non-loopback request goes: a local port nothing listens on (see :func:`_closed_port`).
_PROXY = "--proxy-server=http://127.0.0.1:{port}"
FRAME = 'iframe[title="streamlit_folium.st_folium"]'
STATUS = '[data-testid="stStatusWidget"]'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _closed_port() -> int:
    """A local port that refuses connections (bound, never listened on, held for the whole run)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    _HELD.append(sock)
    return sock.getsockname()[1]


_HELD: list[socket.socket] = []


def _start(data: Path, *, script: str = "streamlit_app.py", cwd: Path = ROOT) -> tuple[subprocess.Popen, str, float]:
    port = _free_port()
    env = dict(os.environ, PLANATLAS_DATA_DIR=str(data))
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
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


#: URLs of requests that left for the internet and were answered (must stay empty) / were refused.
ANSWERED: list[str] = []
REFUSED: list[str] = []


def _context(browser):
    """A browser profile of its own (its own HTTP cache), 1280×720, outside requests recorded."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})

    def outside(request) -> bool:
        return urlparse(request.url).hostname not in ("127.0.0.1", "localhost", None) \
            and not request.url.startswith(("data:", "blob:"))

    ctx.on("requestfinished", lambda r: ANSWERED.append(r.url) if outside(r) else None)
    ctx.on("requestfailed", lambda r: REFUSED.append(r.url) if outside(r) else None)
    return ctx


def _new_page(ctx):
    page = ctx.new_page()
    page.on("dialog", lambda d: d.accept())  # "leave the page?" once a result exists
    page.set_default_timeout(120_000)
    return page


def _page(browser, url: str):
    ctx = _context(browser)
    return ctx, _new_page(ctx)


LIMIT_S = 60.0


def _idle(page) -> None:
    """Wait until Streamlit has finished the script run (its status widget is gone)."""
    deadline = time.monotonic() + LIMIT_S
    while page.locator(STATUS).is_visible():
        if time.monotonic() > deadline:
            raise TimeoutError("the app is still running after a minute")
        time.sleep(0.02)


def _map_drawn(page, *, clusters: bool = True) -> None:
    frame = page.frame_locator(FRAME).first
    frame.locator(".leaflet-overlay-pane path").first.wait_for()
    if clusters:
        frame.locator(".marker-cluster").first.wait_for()


def _visit(ctx, url: str, drawn) -> float:
    """Seconds from opening ``url`` in a new tab of ``ctx`` until ``drawn(page)`` returns."""
    page = _new_page(ctx)
    t0 = time.perf_counter()
    page.goto(url + "/")
    drawn(page)
    elapsed = time.perf_counter() - t0
    page.close()
    return elapsed


def _first_maps(browser, url: str, repeat: int, drawn=_map_drawn) -> tuple[list[float], list[float]]:
    """First visits (each in a new profile) and returning visits (one profile, its cache filled)."""
    first = []
    for _ in range(repeat):
        ctx = _context(browser)
        first.append(_visit(ctx, url, drawn))
        ctx.close()
    ctx = _context(browser)
    _visit(ctx, url, drawn)  # yesterday's visit fills the cache
    returning = [_visit(ctx, url, drawn) for _ in range(repeat)]
    ctx.close()
    return first, returning


_ANCHOR_TEXT = """import streamlit as st
st.write("anchor")
"""

_ANCHOR_MAP = """import folium
import streamlit as st
from streamlit_folium import st_folium
from spatial.webmap import install_assets, localise_assets
install_assets("static")
m = folium.Map(location=[36.66, 117.0], zoom_start=9, tiles=None)
ring = [[117.0, 36.6], [117.1, 36.6], [117.1, 36.7], [117.0, 36.6]]
folium.GeoJson({"type": "Polygon", "coordinates": [ring]}).add_to(m)
st_folium(localise_assets(m), height=540, returned_objects=[])
"""


def _anchors(browser, repeat: int) -> dict[str, tuple[list[float], list[float]]]:
    """First and returning visits of the two anchor pages (module docstring)."""
    folder = Path(tempfile.mkdtemp(prefix="planatlas-anchor-"))
    (folder / ".streamlit").mkdir()
    (folder / ".streamlit" / "config.toml").write_text("[server]\nenableStaticServing = true\n", encoding="utf-8")
    (folder / "text.py").write_text(_ANCHOR_TEXT, encoding="utf-8")
    (folder / "map.py").write_text(_ANCHOR_MAP, encoding="utf-8")
    out = {}
    try:
        for name, script, drawn in (
            ("anchor: a page of one line of text", "text.py",
             lambda page: page.get_by_text("anchor", exact=True).wait_for()),
            ("anchor: a page of one st_folium map", "map.py", lambda page: _map_drawn(page, clusters=False)),
        ):
            proc, url, _ = _start(folder, script=script, cwd=folder)
            try:
                out[name] = _first_maps(browser, url, repeat, drawn)
            finally:
                _stop(proc)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return out


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
                                   "open a popup": [], "report filter": [], "coverage: first run of a session": [],
                                   "coverage rerun (click -> results)": []}
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
    for i in range(repeat + 1):  # the first run of the page, then reruns with other inputs
        value = 10 + 5 * (i % 2)
        minutes.fill(str(value))
        minutes.press("Enter")
        _idle(page)
        t0 = time.perf_counter()
        page.get_by_role("button", name="运行分析").click()
        page.get_by_text(f"{value * 80:,} m", exact=True).wait_for()  # 80 m/min default speed
        page.frame_locator(FRAME).first.locator(".leaflet-overlay-pane path").first.wait_for()
        _idle(page)
        out["coverage rerun (click -> results)" if i else "coverage: first run of a session"].append(
            time.perf_counter() - t0)
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
            blocked = _PROXY.format(port=_closed_port())  # every request but loopback refused
            browser = p.chromium.launch(executable_path=CHROMIUM, args=[*LAUNCH_ARGS, blocked])
            proc, url, start_cold = _start(data)
            try:
                cold = _first_maps(browser, url, args.repeat)  # the store was built at server start
            finally:
                _stop(proc)
            proc, url, start_warm = _start(data)
            try:
                warm = _first_maps(browser, url, args.repeat)
                inter = _interactions(browser, url, args.repeat)
            finally:
                _stop(proc)
            anchors = _anchors(browser, args.repeat)
            browser.close()
        server = _server_side(data, args.repeat)
    finally:
        shutil.rmtree(data, ignore_errors=True)

    print("planatlas app benchmark (Chromium headless, internet blocked)")
    print(f"  server start (cold)                      {start_cold:6.2f} s   (store built from the report)")
    print(f"  first map, empty data folder: very first visit {cold[0][0]:6.2f} s")
    print(f"    first visits (empty browser cache)     {_fmt(cold[0])}")
    print(f"    returning visits (browser cache warm)  {_fmt(cold[1])}")
    print(f"  server start (store present)             {start_warm:6.2f} s")
    print("  first map, store present")
    print(f"    first visits (empty browser cache)     {_fmt(warm[0])}")
    print(f"    returning visits (browser cache warm)  {_fmt(warm[1])}")
    for name, (first, returning) in anchors.items():
        print(f"  {name}")
        print(f"    first visits (empty browser cache)     {_fmt(first)}")
        print(f"    returning visits (browser cache warm)  {_fmt(returning)}")
    for name, values in inter.items():
        print(f"  {name:<41}{_fmt(values)}")
    for name, values in server.items():
        print(f"  {name:<41}{_fmt(values)}")
    print(f"  requests to the internet: {len(REFUSED)} refused, {len(ANSWERED)} answered")
    if ANSWERED:
        raise SystemExit(f"requests left the machine and were answered: {ANSWERED[:5]}")


if __name__ == "__main__":
    main()
