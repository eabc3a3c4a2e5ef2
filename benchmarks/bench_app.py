"""Benchmark of the app as a user meets it (a script, not a test).

Serves ``streamlit_app.py`` and drives Debian's Chromium with the internet
blocked and measures wall-clock times:

* **server start**: ``streamlit run`` until ``/_stcore/health`` answers; the
  server answers once it has opened (or, on an empty data folder, built) the
  store and drawn the default map's layers (``app_pages.startup``), so that
  work shows here and no longer in the first map;
* **first map**: from opening the page (its navigation start) until the
  browser has painted the layers Leaflet drew in the ``st_folium`` iframe
  (shapes and report-item clusters), with an empty data folder (the GeoPackage is built
  from the report at server start) and with the store in place; each as a
  *first visit* (a browser that never saw the app: empty HTTP cache) and as a
  *returning visit* (the planner's browser of yesterday: Streamlit's hashed
  bundles and the vendored Leaflet come from its cache);
* **interactions** (the < 1 s target), each from the moment before the
  driver clicks until the page shows the change and is idle: a layer switched off and on in the page's
  layer picker, the basemap changed (the map reloads on other tiles), the
  districts' colour figure, un-/re-clustering the report items, a fly-to
  (search result -> the map's view at the target), a report filter (the item
  count changes), opening a popup, and a coverage run until its results show
  (the first run of a session apart from the reruns after it);
* **anchors**, on the same machine and browser: a Streamlit page of one line
  of text, and a Streamlit page of one ``st_folium`` map with one polygon
  (the vendored Leaflet): the floor under any first map this stack draws.

Both ends of a time come from the page's own clock (the map frame is looked
into from the page; a change is waited for inside the page), not from the
driver's waits: Playwright looks again for an element that is not there yet
only after 0, 20, 50, 100 and 100 ms and then every 500 ms, which added up to
half a second to each figure of earlier versions of this script.

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
    """A browser profile of its own (its own HTTP cache), 1280×720, outside requests recorded, marks installed."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    ctx.add_init_script(_MARKS_JS)

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

# Times are read from the page's own clock, not from the driver's waits. Playwright
# looks for an element that is not there yet again after 0, 20, 50, 100, 100 ms and
# then every 500 ms (retryWithProgressAndBackoff), so a map drawn 1.3 s after the
# page opened is seen by `wait_for` at 1.77 s, a result shown 0.3 s after a click at
# 0.77 s. Instead the page records when the elements a first map waits for were
# painted (_MARKS_JS), and a wait for a change resolves inside the page at the
# moment the change is there (_WHEN_JS). Every time is the page's performance.now()
# (milliseconds since its navigation started): one monotonic clock for both ends,
# whatever the map frame or the machine's wall clock do meanwhile. The page looks
# into the map frame itself (same origin): an init script in the frame would be
# lost, as the frame starts as about:blank and its document is replaced.

#: Elements whose first painting the page records (window.__paPainted): the text
#: anchor's line in the page, the map's shapes and clusters in the map frame.
MAP_PATH = ".leaflet-overlay-pane path"
MAP_CLUSTER = ".marker-cluster"
ANCHOR_TEXT = '[data-testid="stMarkdownContainer"] p'
# An element counts as painted at the first timer after the animation frame that
# follows its insertion (after that frame's paint).
_MARKS_JS = """(() => {
  if (window.top !== window) return;
  const inPage = [TEXT], inMap = [PATH, CLUSTER];
  const painted = {};
  window.__paPainted = painted;
  const seen = new Set();
  const mark = (s) => {
    seen.add(s);
    requestAnimationFrame(() => setTimeout(() => { painted[s] = performance.now(); }, 0));
  };
  const look = () => {
    for (const s of inPage) if (!seen.has(s) && document.querySelector(s)) mark(s);
    for (const f of document.querySelectorAll("iframe")) {
      let doc = null;
      try { doc = f.contentDocument; } catch (e) { doc = null; }
      if (doc) for (const s of inMap) if (!seen.has(s) && doc.querySelector(s)) mark(s);
    }
    return seen.size === inPage.length + inMap.length || performance.now() > 60000;
  };
  const tick = () => { if (!look()) setTimeout(tick, 4); };
  tick();
  // clicks and key presses the page received, and messages it sent to the server
  // (a rerun asked for): an interaction is timed from the input that led to its rerun
  window.__paInputs = [];
  window.__paSends = [];
  for (const type of ["click", "keydown"]) {
    window.addEventListener(type, (e) => window.__paInputs.push(e.timeStamp), true);
  }
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    window.__paSends.push(performance.now());
    return send.call(this, data);
  };
})();""".replace("TEXT", repr(ANCHOR_TEXT)).replace("PATH", repr(MAP_PATH)).replace("CLUSTER", repr(MAP_CLUSTER))

#: Resolves with the page's performance.now() at which ``test`` first holds. ``test`` is a
#: JavaScript expression over ``doc`` and ``win``: the page's document and window, or (where
#: "map") the map frame's; false while there is no map frame.
_WHEN_JS = """([test, where, limitMs]) => new Promise((resolve, reject) => {
  const holds = new Function("doc", "win", "try { return !!(" + test + "); } catch (e) { return false; }");
  const frame = 'iframe[title="streamlit_folium.st_folium"]';
  const ok = () => {
    if (where === "page") return holds(document, window);
    const f = document.querySelector(frame);
    return !!(f && f.contentDocument && f.contentDocument.body) && holds(f.contentDocument, f.contentWindow);
  };
  let done = false;
  const tick = () => {
    if (done) return;
    if (ok()) { done = true; resolve(performance.now()); return; }
    setTimeout(tick, 4);
  };
  tick();
  setTimeout(() => { if (!done) { done = true; reject(new Error("timed out: " + test)); } }, limitMs);
})"""

#: JavaScript tests used by the waits (see _WHEN_JS).
IDLE = ("((w) => !w || w.getClientRects().length === 0)(doc.querySelector('[data-testid=\"stStatusWidget\"]'))")


def _text_is(text: str) -> str:
    """A test: some text node of the document reads ``text`` exactly (trimmed), as ``get_by_text(exact=True)``."""
    return ("((w) => { while (w.nextNode()) if (w.currentNode.data.trim() === " + repr(text) + ") return true;"
            " return false; })(doc.createTreeWalker(doc.body, NodeFilter.SHOW_TEXT))")


def _now(page) -> float:
    """The page's clock (ms since its navigation started), read just before the driver acts."""
    return float(page.evaluate("() => performance.now()"))


def _map_frame(page):
    return next((f for f in page.frames if "streamlit_folium" in f.url), None)


def _when(page, test: str, *, where: str = "map") -> float:
    """The page's clock when ``test`` first held in the page (``where="page"``) or in its map frame."""
    try:
        return float(page.evaluate(_WHEN_JS, [test, where, LIMIT_S * 1000]))
    except Exception as exc:
        raise TimeoutError(f"not seen within a minute: {test}") from exc


def _idle(page) -> float:
    """Wait until Streamlit has finished the script run (its status widget is gone); the page's clock then."""
    return _when(page, IDLE, where="page")


def _done(page, test: str, *, where: str = "map") -> float:
    """The page's clock when ``test`` holds and, after it, the page is idle."""
    seen = _when(page, test, where=where)
    return max(seen, _idle(page))


def _painted(page, selectors: tuple[str, ...]) -> float | None:
    """The page's clock when the last of ``selectors`` was first painted (None: not all yet)."""
    try:
        marks = page.evaluate("() => window.__paPainted || {}")
    except Exception:
        return None
    if not all(s in marks for s in selectors):
        return None
    return max(float(marks[s]) for s in selectors)


def _visit(ctx, url: str, selectors: tuple[str, ...]) -> float:
    """Seconds from the navigation start of ``url`` in a new tab of ``ctx`` until ``selectors`` are all painted.

    By the page's clock (``_MARKS_JS``), which starts at the navigation.
    """
    page = _new_page(ctx)
    page.goto(url + "/", wait_until="commit")
    deadline = time.monotonic() + LIMIT_S
    while True:
        drawn = _painted(page, selectors)
        if drawn is not None:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"{selectors} not drawn within a minute")
        page.wait_for_timeout(20)
    page.close()
    return drawn / 1000.0


def _first_maps(browser, url: str, repeat: int,
                selectors: tuple[str, ...] = (MAP_PATH, MAP_CLUSTER)) -> tuple[list[float], list[float]]:
    """First visits (each in a new profile) and returning visits (one profile, its cache filled)."""
    first = []
    for _ in range(repeat):
        ctx = _context(browser)
        first.append(_visit(ctx, url, selectors))
        ctx.close()
    ctx = _context(browser)
    _visit(ctx, url, selectors)  # yesterday's visit fills the cache
    returning = [_visit(ctx, url, selectors) for _ in range(repeat)]
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
        for name, script, selectors in (
            ("anchor: a page of one line of text", "text.py", (ANCHOR_TEXT,)),
            ("anchor: a page of one st_folium map", "map.py", (MAP_PATH,)),
        ):
            proc, url, _ = _start(folder, script=script, cwd=folder)
            try:
                out[name] = _first_maps(browser, url, repeat, selectors)
            finally:
                _stop(proc)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return out


def _items_drawn(*, clusters: bool) -> str:
    """A map-frame test: report items drawn, clustered or not."""
    has = "> 0" if clusters else "=== 0"
    return (f"doc.querySelectorAll('path.pa-item').length > 0"
            f" && doc.querySelectorAll('.marker-cluster').length {has}")


def _layer_listed(title: str, shown: bool) -> str:
    """A map-frame test: the layer control lists ``title`` (or no longer does)."""
    listed = (f"[...doc.querySelectorAll('.leaflet-control-layers-overlays label')]"
              f".some((l) => l.textContent.includes({title!r}))")
    return listed if shown else f"!({listed})"


def _zoom_is(test: str) -> str:
    """A map-frame test on the Leaflet map's zoom ``z``, e.g. ``"z >= 13"``."""
    return f"win.map && ((z) => {test})(win.map.getZoom())"


def _legend_names(figure: str) -> str:
    return f"[...doc.querySelectorAll('.pa-legend')].some((e) => e.textContent.includes({figure!r}))"


#: The tile host of each basemap the benchmark switches between (spatial/webmap/basemaps.py).
_TILE_HOST = {"CARTO": "basemaps.cartocdn.com", "OpenStreetMap": "tile.openstreetmap.org"}


def _tiles_from(host: str) -> str:
    return f"doc.querySelector('.leaflet-tile-pane img[src*=\"{host}\"]') !== null"


_UNCOVERED_MARKER = """() => {
    for (const p of document.querySelectorAll('path.pa-item')) {
        const r = p.getBoundingClientRect();
        const x = r.left + r.width / 2, y = r.top + r.height / 2;
        if (r.width > 0 && document.elementFromPoint(x, y) === p) return [x, y];
    }
    return null;
}"""


#: The map's shapes as one string (their SVG paths): a map that shows something else differs.
_SHAPES = "[...doc.querySelectorAll('.leaflet-overlay-pane path')].map((p) => p.getAttribute('d')).join('|')"


def _shapes_changed() -> str:
    """A map-frame test: the shapes differ from those kept by ``_keep_shapes`` (and there are some)."""
    return f"((now) => now.length > 0 && now !== window.__paShapes)({_SHAPES})"


def _keep_shapes(page) -> None:
    """Keep the map's shapes of now in the page (``window.__paShapes``)."""
    page.evaluate("() => { const doc = document.querySelector('iframe[title=\"streamlit_folium.st_folium\"]')"
                  f".contentDocument; window.__paShapes = {_SHAPES}; }}")


def _seconds_since(t0_ms: float, end_ms: float) -> float:
    return (end_ms - t0_ms) / 1000.0


def _since_input(page, mark_ms: float, end_ms: float) -> float:
    """Seconds from the planner's input that asked for the rerun until ``end_ms`` (the page's clock).

    The input is the last click or key press after ``mark_ms`` (taken before the
    driver started the interaction) that came before the page's first message to
    the server after ``mark_ms``; with no such message, the last input. Not from
    the moment the driver was told to click: Playwright first waits for the
    element to be visible, stable over two animation frames and enabled
    (0.08-0.28 s on a page that is still drawing), and a choice in a list takes
    the driver several steps, of which only the last asks for the rerun.
    """
    inputs, sends = page.evaluate("() => [window.__paInputs, window.__paSends]")
    inputs = [float(t) for t in inputs if t >= mark_ms]
    sends = [float(t) for t in sends if t >= mark_ms]
    if sends:
        inputs = [t for t in inputs if t <= sends[0]]
    start = inputs[-1] if inputs else mark_ms
    return (end_ms - start) / 1000.0


def _interactions(browser, url: str, repeat: int) -> dict[str, list[float]]:
    """Each interaction from the moment before the driver acts until the change is there and the page idle."""
    ctx, page = _page(browser, url)
    page.goto(url + "/")
    _when(page, _items_drawn(clusters=True))
    _idle(page)
    out: dict[str, list[float]] = {"layer off and on (layer picker)": [], "basemap change": [],
                                   "toggle clustering (rerun + redraw)": [],
                                   "change colour figure (rerun + redraw)": [], "fly-to (search result)": [],
                                   "open a popup": [], "report filter": [], "coverage: first run of a session": [],
                                   "coverage rerun (click -> results)": []}
    for _ in range(repeat):  # 起步区 off, then on again: two reruns, each timed
        for want in (False, True):
            mark = _now(page)
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
            out["layer off and on (layer picker)"].append(
                _since_input(page, mark, _done(page, _layer_listed("起步区", want))))
    bases = ["CARTO", "OpenStreetMap"]
    for i in range(repeat):
        mark = _now(page)
        page.get_by_role("combobox", name="底图").click()
        page.get_by_role("option", name=re.compile(bases[i % 2])).click()
        test = f"{_tiles_from(_TILE_HOST[bases[i % 2]])} && {_items_drawn(clusters=True)}"
        out["basemap change"].append(_since_input(page, mark, _done(page, test)))
    clustered = True
    for _ in range(repeat):
        mark = _now(page)
        page.get_by_text("聚合报告条目").click()
        clustered = not clustered
        out["toggle clustering (rerun + redraw)"].append(
            _since_input(page, mark, _done(page, _items_drawn(clusters=clustered))))
    if clustered:  # popups are measured on unclustered markers
        page.get_by_text("聚合报告条目").click()
        _done(page, _items_drawn(clusters=False))
    figures = ["面积 (km²)", "人口密度 (人/km²)"]
    for i in range(repeat):
        mark = _now(page)
        page.get_by_role("combobox", name="区县着色指标").click()
        page.get_by_role("option", name=figures[i % 2]).click()
        # done when the legend names the new figure and the districts are redrawn
        test = f"{_legend_names(figures[i % 2])} && {_items_drawn(clusters=False)}"
        out["change colour figure (rerun + redraw)"].append(_since_input(page, mark, _done(page, test)))
    page.get_by_label("搜索条目或地名").fill("济西湿地")
    page.get_by_label("搜索条目或地名").press("Enter")
    page.get_by_role("button", name="在地图上定位").wait_for()
    _idle(page)
    for _ in range(repeat):
        _map_frame(page).evaluate("() => window.map.setView([37.3, 117.5], 8)")
        _done(page, _zoom_is("z === 8"))
        mark = _now(page)
        page.get_by_role("button", name="在地图上定位").click()
        out["fly-to (search result)"].append(_since_input(page, mark, _done(page, _zoom_is("z >= 13"))))
    page.get_by_label("搜索条目或地名").fill("")
    page.get_by_label("搜索条目或地名").press("Enter")
    _idle(page)
    _map_frame(page).evaluate("() => window.map.setView([36.66, 117.02], 11)")
    _idle(page)
    for _ in range(repeat):
        frame = _map_frame(page)
        spot = frame.evaluate(_UNCOVERED_MARKER)
        box = page.locator(FRAME).first.bounding_box()
        t0 = _now(page)
        page.mouse.click(box["x"] + spot[0], box["y"] + spot[1])
        out["open a popup"].append(
            _seconds_since(t0, _when(page, "doc.querySelector('.leaflet-popup-content .pa-quote') !== null")))
        _map_frame(page).evaluate("() => window.map.closePopup()")
        _when(page, "doc.querySelector('.leaflet-popup') === null")
        _idle(page)
    page.goto(url + "/report")
    count = page.get_by_text(re.compile(r"^\d+ / \d+ 条$"))
    count.wait_for()
    _idle(page)
    for i in range(repeat):
        before = count.inner_text()
        mark = _now(page)
        if i % 2 == 0:  # 公园 chosen, then taken away again
            box = page.get_by_role("combobox", name="类别")
            box.click()
            box.fill("公园")
            page.get_by_role("option", name="公园", exact=True).first.click()
            page.keyboard.press("Escape")
        else:
            page.locator('[data-testid="stMultiSelect"] button[aria-label$=" 公园"]').first.click()
        page.mouse.click(150, 650)
        changed = ("((w) => { while (w.nextNode()) { const t = w.currentNode.data.trim();"
                   r" if (/^\d+ \/ \d+ 条$/.test(t)) return t !== " + repr(before) + "; } return false; })"
                   "(doc.createTreeWalker(doc.body, NodeFilter.SHOW_TEXT))")
        out["report filter"].append(_since_input(page, mark, _done(page, changed, where="page")))
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
        _keep_shapes(page)
        mark = _now(page)
        page.get_by_role("button", name="运行分析").click()
        shown = _when(page, _text_is(f"{value * 80:,} m"), where="page")  # 80 m/min default speed
        drawn = _when(page, _shapes_changed())  # the map shows the new service area
        end = max(shown, drawn, _idle(page))
        out["coverage rerun (click -> results)" if i else "coverage: first run of a session"].append(
            _since_input(page, mark, end))
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
    if args.repeat < 1:
        parser.error("--repeat must be 1 or more")
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
