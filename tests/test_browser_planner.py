"""End-to-end, as a Jinan planner meets the app on a 1280×720 laptop (issue 14), in headless Chromium.

Each test walks one of the things a new user stumbled over: find a place
(fly-to twice in a row, with panning between, the target marked), Chinese
throughout (the visible text of every page checked against the vocabulary's
codes and Streamlit's own English words), state that stays (across a page
switch and a reload), a map that reads (legend and layer control inside the
map at 1280×720, unticked layers staying unticked), coverage and targets
readable, uploads that reach the map with an explicit datum and no silent
second import, a reload that asks first only when a computed result would be
lost. The server and the browser are those of ``tests/test_browser.py``
(internet blocked; the store is built offline on the first visit).

Set ``PLANATLAS_SCREENSHOT_DIR`` to keep a 1280×720 screenshot of every page there
(``docs/`` holds the ones the README shows).
"""

# ruff: noqa: F811  (the fixtures of tests/test_browser.py are imported and used as parameters)
from __future__ import annotations

import json
import re

import pytest
from test_browser import _shot, _wait_until, browser, served_app, sync_api  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEWPORT = {"width": 1280, "height": 720}
FRAME = 'iframe[title="streamlit_folium.st_folium"]'
STATUS = '[data-testid="stStatusWidget"]'

#: Streamlit's own English a planner must not meet (exact texts of an element).
STREAMLIT_ENGLISH = ("Select all", "Clear all", "No results", "Choose an option", "Choose options", "Upload",
                     "Browse files", "Drag and drop file here", "Running...", "Press Enter to apply")

# every visible text of a document: text nodes of rendered, non-icon elements
_VISIBLE_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    const text = node.textContent.trim();
    const el = node.parentElement;
    if (!text || !el || el.closest('[data-testid="stIconMaterial"], script, style, noscript')) continue;
    if (!el.checkVisibility({opacityProperty: true, visibilityProperty: true})) continue;
    const r = el.getBoundingClientRect();
    if (r.width < 2 || r.height < 2) continue;
    out.push(text);
  }
  return out;
}"""


@pytest.fixture
def laptop(browser, served_app):
    """A 1280×720 page that may reach only the app (a reload's "leave the page?" question is accepted)."""
    ctx = browser.new_context(viewport=VIEWPORT, accept_downloads=True, locale="zh-CN")
    host = served_app["url"].split("//", 1)[1]
    blocked: list[str] = []

    def route(r):
        url = r.request.url
        if url.startswith(("data:", "blob:", "about:")) or url.split("//", 1)[-1].startswith(host):
            return r.continue_()
        blocked.append(url)
        return r.abort()

    ctx.route("**/*", route)
    pg = ctx.new_page()
    pg.on("dialog", lambda d: d.accept())
    pg.set_default_timeout(120_000)
    pg.blocked = blocked
    yield pg
    ctx.close()


def _idle(pg) -> None:
    _wait_until(lambda: not pg.locator(STATUS).is_visible(), settle=4)


def _open(pg, url: str, path: str = "") -> None:
    pg.goto(url + "/" + path)
    pg.locator('[data-testid="stMain"] h1, [data-testid="stMain"] h2').first.wait_for()
    _idle(pg)


def _map(pg, index: int = 0):
    return pg.frame_locator(FRAME).nth(index)


def _map_ready(pg) -> None:
    _map(pg).locator(".leaflet-overlay-pane path").first.wait_for(state="attached")
    _idle(pg)


def _view(pg) -> tuple[float, float, float]:
    """(lat, lon, zoom) of the live map as Leaflet has it."""
    return tuple(_map(pg).locator("body").evaluate(
        "() => { const c = window.map.getCenter(); return [c.lat, c.lng, window.map.getZoom()]; }"))


def _nav(pg, title: str) -> None:
    """Switch page with the sidebar, as a planner does (no reload).

    On the map page the planner waits until the map is drawn: the map reports
    its first view to the server (streamlit-folium sends it once on load), and
    a page link clicked before that report has arrived is overtaken by the
    rerun it causes (Streamlit sends it with the page still shown).
    """
    pg.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
    _wait_until(lambda: pg.locator('[data-testid="stMain"] h1, [data-testid="stMain"] h2', has_text=title).count() > 0)
    _idle(pg)
    if title == "地图":
        _map_ready(pg)


def _choose(pg, label: str, option: str | re.Pattern) -> None:
    pg.get_by_role("combobox", name=label).click()
    pg.get_by_role("option", name=option).first.click()
    _idle(pg)


def _value(pg, label: str) -> str:
    return pg.get_by_role("combobox", name=label).input_value()


def _visible_texts(pg) -> list[str]:
    texts = list(pg.evaluate(_VISIBLE_TEXT))
    for frame in pg.frames[1:]:
        try:
            texts += frame.evaluate(_VISIBLE_TEXT)
        except sync_api.Error:  # a frame replaced while reading
            continue
    return texts


def _raw_codes() -> set[str]:
    """Codes a planner must never read: the vocabulary's machine-looking codes, and raw column names."""
    from spatial import vocab

    codes = {c for domain in vocab.LABELS.values() for c in domain if re.search(r"[_0-9]", c) and len(c) > 3}
    return codes | {"value_2022", "value_2023", "population_2020", "None", "nan", "NaN"}


def _problems(texts: list[str], codes: set[str]) -> list[str]:
    bad = []
    for text in texts:
        if text in STREAMLIT_ENGLISH:
            bad.append(text)
        for code in codes:
            if re.search(rf"(?<![A-Za-z0-9_.:/-]){re.escape(code)}(?![A-Za-z0-9_.:/-])", text):
                bad.append(f"{code!r} in {text[:80]!r}")
        if re.search(r"\de[+-]\d", text) or re.search(r"\b\d{4,}\.0\b", text):
            bad.append(text[:80])
    return bad


# --------------------------------------------------------------------------- 1 find a place


def test_fly_to_twice_in_a_row_with_panning_between_shows_and_marks_the_target(laptop, served_app):
    pg = laptop
    _open(pg, served_app["url"])
    _map_ready(pg)
    home = _view(pg)
    assert home[2] <= 9, home  # the default view shows the whole city, not a fixed zoom 10
    pg.get_by_role("textbox", name="搜索条目或地名").fill("济西湿地")
    pg.get_by_role("textbox", name="搜索条目或地名").press("Enter")
    pg.get_by_role("button", name="在地图上定位").wait_for()
    _idle(pg)
    targets = []
    for attempt in range(2):
        pg.get_by_role("button", name="在地图上定位").click()
        _wait_until(lambda: _view(pg)[2] >= 13)
        _idle(pg)
        lat, lon, zoom = _view(pg)
        targets.append((lat, lon))
        assert 36.5 < lat < 36.8 and 116.7 < lon < 116.95, (lat, lon)  # 济西湿地, west of the old city
        assert zoom >= 13
        # the target is marked, and no cluster swallows the mark
        mark = _map(pg).locator("path.pa-focus")
        assert mark.count() == 1
        assert _map(pg).locator(".pa-focus-label", has_text="济西湿地").count() == 1
        if attempt == 0:
            # the planner pans and zooms far away; the second fly-to must still come back
            _map(pg).locator("body").evaluate("() => window.map.setView([37.3, 117.5], 8)")
            _wait_until(lambda: _view(pg)[2] == 8)
            _idle(pg)
    assert abs(targets[0][0] - targets[1][0]) < 1e-3 and abs(targets[0][1] - targets[1][1]) < 1e-3
    # the 公园 layer holding the wetland is switched on with the fly-to
    assert "公园" in pg.locator('[data-testid="stMultiSelect"]').first.inner_text()


def test_an_item_shown_from_the_report_is_marked_outside_any_cluster(laptop, served_app):
    pg = laptop
    _open(pg, served_app["url"], "report")
    pg.get_by_role("button", name="在地图上显示").click()
    _map_ready(pg)
    _wait_until(lambda: _map(pg).locator("path.pa-focus").count() == 1)
    assert _view(pg)[2] >= 12
    # the mark is its own layer: not inside a cluster of the report items
    inside = _map(pg).locator("body").evaluate(
        "() => [...document.querySelectorAll('path.pa-focus')].some(p => p.closest('.marker-cluster'))")
    assert not inside


# --------------------------------------------------------------------------- 2 Chinese throughout


def test_no_page_shows_english_of_streamlit_raw_codes_or_none(laptop, served_app, tmp_path):
    pg = laptop
    codes = _raw_codes()
    found: dict[str, list[str]] = {}
    pages = [("", "map"), ("coverage", "coverage"), ("lifecircle", "lifecircle"), ("siting", "siting"),
             ("report", "report"), ("targets", "targets"), ("export", "export"), ("upload", "upload")]
    for path, name in pages:
        _open(pg, served_app["url"], path)
        if path == "":
            _map_ready(pg)
            # popups: a feature's provenance reads in Chinese first
            popup = _map(pg).locator("body").evaluate(
                "() => { for (const id in window.map._layers) { const l = window.map._layers[id];"
                " if (l.feature && l.feature.properties && l.feature.properties._popup) "
                "return l.feature.properties._popup; } return ''; }")
            assert "来源" in popup
        if path == "coverage":
            pg.get_by_role("button", name="运行分析").click()
            pg.get_by_text("覆盖缺口排名").wait_for()
            _idle(pg)
        if path == "report":
            # a multiselect's own options ("Select all") are in Chinese too
            pg.locator('[data-testid="stMultiSelect"]').first.click()
            pg.get_by_role("option").first.wait_for()
            texts = [t.strip() for t in pg.get_by_role("option").all_inner_texts()]
            assert "全选" in texts and "Select all" not in texts, texts[:5]
            pg.keyboard.press("Escape")
        pg.wait_for_timeout(400)
        _shot(pg, tmp_path, f"page_{name}.png")
        found[name] = _problems(_visible_texts(pg), codes)
    assert not {k: v for k, v in found.items() if v}, found
    # the scale bar is metric only
    _open(pg, served_app["url"])
    _map_ready(pg)
    scale = _map(pg).locator(".leaflet-control-scale").inner_text()
    assert "km" in scale or " m" in scale
    assert "mi" not in scale and "ft" not in scale


# --------------------------------------------------------------------------- 3 state that stays


def test_coverage_inputs_survive_a_page_switch_and_a_changed_input_marks_the_result_stale(laptop, served_app):
    pg = laptop
    _open(pg, served_app["url"], "coverage")
    _choose(pg, "设施图层", "绿道")
    pg.get_by_role("button", name="运行分析").click()
    pg.get_by_text("覆盖缺口排名").wait_for()
    _idle(pg)
    assert pg.get_by_text("已过期").count() == 0
    _nav(pg, "地图")
    _nav(pg, "服务圈分析")
    pg.get_by_role("button", name="运行分析").wait_for()
    pg.get_by_text("设施：绿道").wait_for()  # the result of the last run is still shown
    # the selector says what the result was run for, and the result is not stale
    assert _value(pg, "设施图层") == "绿道"
    assert pg.get_by_text("已过期").count() == 0
    _choose(pg, "设施图层", "公园")
    pg.get_by_text("已过期").first.wait_for()


def test_map_and_report_state_survive_a_reload(laptop, served_app):
    pg = laptop
    _open(pg, served_app["url"])
    _map_ready(pg)
    _choose(pg, "底图", re.compile("CARTO"))
    _wait_until(lambda: "base=carto" in pg.url)
    before = _view(pg)
    pg.reload()
    _map_ready(pg)
    assert "CARTO" in _value(pg, "底图")
    after = _view(pg)
    assert abs(after[0] - before[0]) < 0.01 and abs(after[1] - before[1]) < 0.01 and after[2] == before[2]

    _open(pg, served_app["url"], "report")
    chosen = pg.locator('[data-testid="stMultiSelect"]', has_text="类别").locator('[aria-label="公园"]')
    for _ in range(3):  # the dropdown may open only on a second click while the page settles
        pg.get_by_role("combobox", name="类别").click()
        option = pg.get_by_role("option", name="公园", exact=True)
        if option.count():
            option.first.click()
        pg.keyboard.press("Escape")
        _idle(pg)
        if chosen.count():
            break
    _wait_until(lambda: "cat=parks" in pg.url)
    shown = pg.get_by_text(re.compile(r"^\d+ / \d+ 条$")).inner_text()
    pg.reload()
    pg.get_by_text(re.compile(r"^\d+ / \d+ 条$")).wait_for()
    _idle(pg)
    assert pg.get_by_text(re.compile(r"^\d+ / \d+ 条$")).inner_text() == shown
    assert "公园" in pg.locator('[data-testid="stMultiSelect"]', has_text="类别").inner_text()


def test_a_layer_unticked_in_the_layer_control_stays_unticked_after_a_widget_change(laptop, served_app):
    pg = laptop
    _open(pg, served_app["url"])
    _map_ready(pg)
    frame = _map(pg)
    frame.locator(".leaflet-control-layers").hover()
    box = frame.locator(".leaflet-control-layers-overlays label", has_text="起步区").locator("input")
    box.click()
    assert not box.is_checked()
    pg.mouse.move(5, 5)
    _idle(pg)
    pg.get_by_text("聚合报告条目").click()  # a widget change redraws every overlay
    _wait_until(lambda: _map(pg).locator(".marker-cluster").count() == 0)
    _idle(pg)
    pg.wait_for_timeout(500)
    frame.locator(".leaflet-control-layers").hover()
    assert not frame.locator(".leaflet-control-layers-overlays label", has_text="起步区").locator("input").is_checked()
    assert frame.locator(".leaflet-control-layers-overlays label", has_text="黄河").first.locator("input").is_checked()


# --------------------------------------------------------------------------- 4 a map that reads


def test_legend_and_layer_control_sit_inside_the_map_on_a_1280x720_screen(laptop, served_app):
    pg = laptop
    _open(pg, served_app["url"])
    _map_ready(pg)
    frame_box = pg.locator(FRAME).first.bounding_box()
    assert frame_box["y"] + frame_box["height"] <= VIEWPORT["height"] + 1  # the map fits the window
    assert frame_box["height"] >= 450  # and uses it
    boxes = _map(pg).locator("body").evaluate("""() => {
        const map = document.querySelector('.leaflet-container').getBoundingClientRect();
        return [...document.querySelectorAll('.pa-legend, .leaflet-control-layers')].map(el => {
            const r = el.getBoundingClientRect();
            return [el.className, r.left >= map.left, r.right <= map.right, r.top >= map.top,
                    r.bottom <= map.bottom, r.height];
        });
    }""")
    legends = [b for b in boxes if "pa-legend" in b[0]]
    assert len(legends) >= 2, boxes  # the density classes, the crossings, the item categories
    assert all(all(b[1:5]) for b in boxes), boxes
    text = _map(pg).locator(".pa-legend").all_inner_texts()
    assert any("定位精度" in t and "区域中心" in t for t in text), text  # precision drawn and explained
    assert _map(pg).locator("path.pa-hollow").count() >= 1  # parks placed at an area's centre: hollow rings


# --------------------------------------------------------------------------- 5 coverage and targets


def test_coverage_headline_stands_on_its_basis_and_targets_read_cleanly(laptop, served_app):
    pg = laptop
    _open(pg, served_app["url"], "coverage")
    pg.get_by_role("button", name="运行分析").click()
    pg.get_by_text("覆盖缺口排名").wait_for()
    _idle(pg)
    main = pg.locator('[data-testid="stMain"]').inner_text()
    for basis in ("标准：", "设施：", "人口：", "方法："):
        assert basis in main
    # metric values are shown whole, not cut off with an ellipsis
    cut = pg.evaluate("""() => [...document.querySelectorAll('[data-testid="stMetricValue"]')]
        .filter(el => el.scrollWidth > el.clientWidth + 1).map(el => el.innerText)""")
    assert cut == []
    _open(pg, served_app["url"], "targets")
    texts = _visible_texts(pg)
    assert "None" not in " ".join(texts)
    pg.get_by_text("只看可定位的目标").click()
    _idle(pg)
    _choose(pg, "单位", re.compile("^元$"))
    main = pg.locator('[data-testid="stMain"]').inner_text()
    # a unit chosen: either its targets (and their chart) or the hint that none is mappable, never the
    # hint to choose a unit
    assert "选择一个单位即可比较数值" not in main
    assert ("没有可定位的单位为“元”的目标" in main) or pg.locator('[data-testid="stDataFrame"]').count() == 1


# --------------------------------------------------------------------------- 6 uploads


def test_an_upload_made_before_the_map_is_opened_reaches_the_map_and_is_not_imported_twice(laptop, served_app,
                                                                                             tmp_path):
    pg = laptop
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "社区中心"},
         "geometry": {"type": "Point", "coordinates": [117.03, 36.67]}}]}
    path = tmp_path / "amap_centres.geojson"
    path.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    _open(pg, served_app["url"], "upload")
    for attempt in range(2):
        pg.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
        pg.get_by_text("推测坐标系").wait_for()  # guessed from the name (amap: GCJ-02), to confirm
        _idle(pg)
        assert "GCJ-02" in _value(pg, "坐标系 (数据来源的坐标)")
        if attempt == 0:
            pg.get_by_role("button", name="导入").click()
            pg.get_by_text("已导入").first.wait_for()
            _idle(pg)
            pg.reload()  # another day: the same file chosen again
            pg.get_by_text("先选择文件").wait_for()
            _idle(pg)
        else:
            pg.get_by_text("同一文件已导入过").wait_for()
            assert pg.get_by_role("button", name="导入").is_disabled()
    _nav(pg, "地图")
    _map_ready(pg)
    frame = _map(pg)
    frame.locator(".leaflet-control-layers").hover()
    labels = frame.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    assert any("amap_centres" in label for label in labels), labels


def test_a_reload_asks_first_only_when_a_result_would_be_lost(laptop, served_app):
    pg = laptop
    seen: list[str] = []
    pg.on("dialog", lambda d: seen.append(d.type))
    _open(pg, served_app["url"], "coverage")
    pg.get_by_role("combobox", name="设施图层").click()  # a planner's click: browsers ask only after one
    pg.keyboard.press("Escape")
    _idle(pg)
    pg.reload()
    pg.get_by_role("button", name="运行分析").wait_for()
    _idle(pg)
    assert "beforeunload" not in seen  # nothing computed yet: nothing to lose, no question
    pg.get_by_role("button", name="运行分析").click()
    pg.get_by_text("覆盖缺口排名").wait_for()
    _idle(pg)
    pg.reload()  # the laptop fixture answers "leave" to the question
    pg.get_by_role("button", name="运行分析").wait_for()
    assert seen.count("beforeunload") == 1
