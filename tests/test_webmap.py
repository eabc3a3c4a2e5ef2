"""Tests of spatial.webmap: drawing from specs, labels, escaping, GCJ-02 basemap, legends, offline assets."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod

from layers import LAYERS
from spatial import webmap
from spatial._errors import CRSError, ParameterError, PlanatlasError
from spatial.layerspec import PALETTE, LayerSpec, LayerStyle, default_spec
from spatial.webmap._draw import display_geometry
from spatial.webmap._format import cell_text, fmt_number, fmt_year
from spatial.webmap.assets import ASSETS, asset_source, walk
from spatial.webmap.legends import LegendControl

XSS_SCRIPT = "<script>alert('x1')</script>"
XSS_IMG = "<img src=x onerror=alert(2)>"
XSS_BREAKOUT = "</script><script>alert(3)</script>"
XSS_TEMPLATE = "${alert(4)}`"
#: folium compiles each finished script as a Jinja template: template code from data must stay text
JINJA_TEMPLATE = "{% if x %}{{ y }}{# z"

PROV = {"source": "test fixture", "source_datum": "WGS84", "precision": "approximate"}

#: The raw codes and blanks a planner must never read on the map.
RAW = (" schematic (", "area_centroid", "under_construction", ">None<", ">nan<")


def sample_layers(payload: str | None = None) -> dict[str, gpd.GeoDataFrame]:
    """Small layers around Jinan with the store's columns; ``payload`` in every text cell."""
    p = payload or ""
    districts = gpd.GeoDataFrame(
        {
            "name": ["历下区" + p, "市中区", "槐荫区"],
            "population_2020_alloc": [1_000_000, 1_200_000, 700_000],
            "area_km2": [100.0, 280.0, 150.0],
            "density": [10_000.0, 4_300.0, 4_700.0],
            **{k: [v + p] * 3 for k, v in PROV.items()},
        },
        geometry=[shapely.box(117.0, 36.6, 117.1, 36.7), shapely.box(116.9, 36.55, 117.0, 36.7),
                  shapely.box(116.8, 36.6, 116.9, 36.7)],
        crs="EPSG:4326",
    )
    crossings = gpd.GeoDataFrame(
        {
            "name": ["A桥" + p, "B隧道", "C桥"],
            "status": ["open", "under_construction", "planned"],
            "mode": ["bridge", "tunnel", "bridge"],
            "carries": ["road", "metro", "road+rail"],
            "opened": [1982, None, None],
            **{k: [v] * 3 for k, v in PROV.items()},
        },
        geometry=[shapely.LineString([(117.0, 36.70), (117.0, 36.73)]),
                  shapely.LineString([(117.05, 36.70), (117.05, 36.73)]),
                  shapely.LineString([(117.1, 36.70), (117.1, 36.73)])],
        crs="EPSG:4326",
    )
    items = gpd.GeoDataFrame(
        {
            "item_id": ["p3-s1-001", "p3-s1-002", "p3-s2-003"],
            "part": [3, 3, 3],
            "part_title": ["2023年工作安排" + p] * 3,
            "section": [1, 1, 2],
            "section_title": ["（一）交通" + p, "（一）交通", "（二）生态"],
            "topic": ["", "", ""],
            "year": [2023, 2023, 2023],
            "category": ["transport" + p, "transport", "ecology"],
            "text": ["建成黄河大桥" + p + "，新增公园10处。", "开通地铁4号线。", "未定位的句子。"],
            "start": [10, 40, 80],
            "end": [30, 50, 90],
            "quantities": [json.dumps([{"raw": "10处" + p, "value": 10, "unit": "处"}], ensure_ascii=False),
                           "[]", "[]"],
            "mentions": ["[]", "[]", "[]"],
            "place_id": ["g1", "g2", None],
            "place_name": ["黄河大桥" + p, "地铁4号线", None],
            "geocode_status": ["place", "place", "unresolved"],
            "source": ["gazetteer:g1" + p, "gazetteer:g2", ""],
            "source_datum": ["WGS84", "GCJ02", ""],
            "precision": ["approximate", "schematic", "unresolved"],
        },
        geometry=[shapely.Point(117.02, 36.68), shapely.Point(117.05, 36.66), None],
        crs="EPSG:4326",
    )
    return {"districts": districts, "river_crossings": crossings, "report_items": items}


def points(n: int, **columns: list[object]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=[shapely.Point(117.0 + i / 100, 36.6) for i in range(n)],
                            crs="EPSG:4326")


def geojson_elements(m: folium.Element) -> list[folium.GeoJson]:
    return [e for e in walk(m) if isinstance(e, folium.GeoJson)]


def all_properties(m: folium.Element) -> list[dict]:
    return [f["properties"] for g in geojson_elements(m) for f in g.data["features"]]


def feature_groups(m: folium.Map) -> list[folium.FeatureGroup]:
    return [e for e in walk(m) if isinstance(e, folium.FeatureGroup)]


def unescape_json(page: str) -> str:
    """What the browser's JS engine sees inside JSON strings (\\u003c -> <)."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda mt: chr(int(mt.group(1), 16)), page)


class Headings(HTMLParser):
    """The text of every ``<th>`` of a popup."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.headings: list[str] = []
        self._in = False

    def handle_starttag(self, tag, attrs):
        self._in = tag == "th"
        if self._in:
            self.headings.append("")

    def handle_endtag(self, tag):
        self._in = False

    def handle_data(self, data):
        if self._in:
            self.headings[-1] += data


# --------------------------------------------------------------------------- escaping


@pytest.mark.parametrize("payload", [XSS_SCRIPT, XSS_IMG, XSS_BREAKOUT, XSS_TEMPLATE, JINJA_TEMPLATE])
def test_payloads_reach_the_page_only_escaped(payload):
    m = webmap.make_map(sample_layers(payload), specs=LAYERS, color_by="density")
    page = m.get_root().render()
    decoded = unescape_json(page)  # what the browser's JS sees after parsing JSON strings
    assert payload not in page
    assert payload not in decoded
    # the payload is still there for the reader, as text
    assert webmap.escape(payload) in decoded


def test_escape_neutralises_html_and_js_template_characters():
    out = webmap.escape("<a href='x'>&`${y}\\{%")
    assert "<" not in out and ">" not in out and "'" not in out
    assert "`" not in out and "$" not in out and "\\" not in out and "{" not in out and "}" not in out
    assert webmap.escape(None) == "" and webmap.escape(float("nan")) == ""


def test_layer_names_in_layer_control_are_escaped():
    m = webmap.make_map(sample_layers(XSS_IMG), specs=LAYERS)
    page = unescape_json(m.get_root().render())
    # Leaflet's layer control inserts names as HTML: the category name carries the payload
    assert XSS_IMG not in page
    assert "L.control.layers" in page


def test_hostile_colour_in_a_stored_spec_cannot_leave_the_style_attribute():
    evil = 'red;background:url(javascript:alert(1))"><script>alert(1)</script>'
    spec = LayerSpec("sites", "地块", style=LayerStyle(color=evil, color_by="kind", colors={"park": evil},
                                                      group_by="kind"))
    page = webmap.make_map({"sites": points(2, kind=["park", "zone"])}, specs={"sites": spec}).get_root().render()
    assert "javascript:" not in unescape_json(page) and "<script>alert" not in unescape_json(page)


# --------------------------------------------------------------------------- drawing from the spec


def test_a_layer_is_drawn_with_the_colours_visibility_order_and_title_of_its_spec():
    specs = {
        "sites": LayerSpec("sites", "地块图层", order=50, visible=False,
                           style=LayerStyle(color="#123456", weight=7, dash="6 4", fill_opacity=0.4)),
        "towers": LayerSpec("towers", "塔", order=5, visible=True,
                            style=LayerStyle(color_by="kind", colors={"zone": "#abcdef"})),
    }
    layers = {"sites": points(2, name=["a", "b"]),
              "towers": points(4, name=list("wxyz"), kind=["zone", "park", "station", "park"])}
    m = webmap.make_map(layers, specs=specs)
    groups = feature_groups(m)
    # drawing order is spec.order (towers first although given second), titles from title_zh
    assert [g.layer_name for g in groups] == ["塔", "地块图层"]
    assert [g.show for g in groups] == [True, False]
    sites = [f["properties"]["_style"] for f in geojson_elements(groups[1])[0].data["features"]]
    assert {s["color"] for s in sites} == {"#123456"} and {s["fillColor"] for s in sites} == {"#123456"}
    assert sites[0]["weight"] == 7 and sites[0]["dashArray"] == "6 4" and sites[0]["fillOpacity"] == 0.4
    towers = {f["properties"]["_tooltip"]: f["properties"]["_style"]["color"]
              for f in geojson_elements(groups[0])[0].data["features"]}
    # a listed code keeps its colour; unlisted codes take PALETTE colours in sorted code order
    assert towers["w · 片区"] == "#abcdef"
    assert towers["x · 公园"] == towers["z · 公园"] == PALETTE[0]  # "park" < "station"
    assert towers["y · 车站"] == PALETTE[1]
    # hidden= overrides the specs' visibility
    shown = webmap.make_map(layers, specs=specs, hidden=["towers"])
    assert [g.show for g in feature_groups(shown)] == [False, True]


def test_the_legend_of_a_coloured_layer_lists_its_codes_in_vocabulary_order():
    m = webmap.make_map({"river_crossings": sample_layers()["river_crossings"]}, specs=LAYERS)
    legends = [e.html for e in walk(m) if isinstance(e, LegendControl)]
    assert len(legends) == 1
    legend = legends[0]
    assert "跨黄河通道" in legend
    assert legend.index("已通车") < legend.index("在建") < legend.index("规划")
    assert "under_construction" not in legend
    for colour in LAYERS["river_crossings"].style.colors.values():
        assert colour in legend


def test_a_layer_without_a_spec_gets_the_default_spec():
    m = webmap.make_map({"my_upload": points(1, name=["a"])})
    group = feature_groups(m)[0]
    assert group.layer_name == "my_upload" and group.show
    assert all_properties(m)[0]["_style"]["color"] == default_spec("my_upload").style.color


def test_unknown_popup_template_falls_back_to_the_generic_one():
    spec = LayerSpec("x", "某层", style=LayerStyle(popup="no-such-template"))
    props = all_properties(webmap.make_map({"x": points(1, name=["甲"], kind=["park"])}, specs={"x": spec}))
    assert "公园" in props[0]["_popup"] and props[0]["_style"]["className"] == "pa-generic"


def test_a_spec_that_is_not_a_layerspec_is_refused():
    with pytest.raises(ParameterError, match="LayerSpec"):
        webmap.make_map({"x": points(1)}, specs={"x": {"title_zh": "x"}})


def test_group_by_splits_a_layer_into_entries_labelled_from_the_vocabulary():
    m = webmap.make_map(sample_layers(), specs=LAYERS)
    names = [g.layer_name for g in feature_groups(m)]
    items = [n for n in names if "报告条目" in n]
    assert len(items) == 1 and items[0].endswith("报告条目 · 交通")
    # grouped by the colour column: the entry carries the colour's swatch
    assert LAYERS["report_items"].style.colors["transport"] in items[0]
    # ecology has only an ungeocoded item: no empty group for it
    assert not any("生态" in n for n in names)


def test_tolerance_of_the_style_simplifies_the_drawn_lines_only():
    wiggly = shapely.LineString([(117.0 + i * 1e-4, 36.6 + (i % 2) * 5e-4) for i in range(200)])
    frame = gpd.GeoDataFrame({"name": ["w"]}, geometry=[wiggly], crs="EPSG:4326")

    def drawn(tolerance):
        spec = LayerSpec("w", "w", style=LayerStyle(tolerance_deg=tolerance))
        geometry = geojson_elements(webmap.make_map({"w": frame}, specs={"w": spec}))[0].data["features"][0]
        return len(geometry["geometry"]["coordinates"])

    assert drawn(1e-5) == 200
    assert drawn(1e-2) < 10
    assert shapely.get_num_coordinates(frame.geometry.iloc[0]) == 200


def test_ungeocoded_items_are_left_out():
    texts = [p["_popup"] for p in all_properties(webmap.make_map(sample_layers(), specs=LAYERS))]
    assert not any("未定位的句子" in t for t in texts)
    assert any("开通地铁4号线" in t for t in texts)


def test_clustering_needs_the_style_and_the_map_switch():
    count = lambda m: sum(isinstance(e, folium.plugins.MarkerCluster) for e in walk(m))  # noqa: E731
    assert count(webmap.make_map(sample_layers(), specs=LAYERS, cluster_items=True)) >= 1
    assert count(webmap.make_map(sample_layers(), specs=LAYERS, cluster_items=False)) == 0
    unclustered = {**LAYERS, "report_items": LAYERS["report_items"].with_(style={"cluster": False})}
    assert count(webmap.make_map(sample_layers(), specs=unclustered, cluster_items=True)) == 0


def test_popups_are_bound_per_feature_so_they_open_inside_clusters():
    m = webmap.make_map(sample_layers(), specs=LAYERS, cluster_items=True)
    page = m.get_root().render()
    assert "layer.bindPopup(p._popup" in page
    cluster = next(e for e in walk(m) if isinstance(e, folium.plugins.MarkerCluster))
    assert any(isinstance(e, folium.GeoJson) for e in walk(cluster))


# --------------------------------------------------------------------------- choropleth


def test_districts_choropleth_follows_the_chosen_figure():
    layers = {"districts": sample_layers()["districts"]}
    m = webmap.make_map(layers, specs=LAYERS, color_by="density")
    fills = {p["_tooltip"]: p["_style"]["fillColor"] for p in all_properties(m)}
    dense = next(v for k, v in fills.items() if "历下区" in k)
    sparse = next(v for k, v in fills.items() if "市中区" in k)
    assert dense != sparse
    assert dense == webmap.CHOROPLETH_COLOURS[-1]  # the densest district gets the darkest class
    assert next(k for k in fills if "历下区" in k) == "历下区 · 10,000"
    plain = webmap.make_map(layers, specs=LAYERS, color_by=None)
    assert {p["_style"]["fillColor"] for p in all_properties(plain)} == {LAYERS["districts"].style.fill_color}
    by_area = webmap.make_map(layers, specs=LAYERS, color_by="area_km2")
    area_fill = {p["_tooltip"]: p["_style"]["fillColor"] for p in all_properties(by_area)}
    assert area_fill[next(k for k in area_fill if "市中区" in k)] == webmap.CHOROPLETH_COLOURS[-1]
    assert all(p["_style"]["fillOpacity"] == webmap.styles.CHOROPLETH_FILL_OPACITY for p in all_properties(by_area))


def test_a_figure_the_districts_cannot_be_coloured_by_is_refused_in_chinese_first():
    layers = {"districts": sample_layers()["districts"]}
    with pytest.raises(ParameterError, match=r"^没有可着色的字段 name.*\(no figure 'name'") as info:
        webmap.make_map(layers, specs=LAYERS, color_by="name")
    assert isinstance(info.value, PlanatlasError) and "density" in str(info.value)
    # a district layer drawn without its spec is not a districts layer
    with pytest.raises(ParameterError, match="districts"):
        webmap.make_map(layers, color_by="density")
    with pytest.raises(ParameterError):
        webmap.make_live_map(layers, specs=LAYERS, color_by="urban_share")


def test_figure_choices_are_the_figures_of_the_districts_spec_with_their_headings():
    choices = webmap.figure_choices(LAYERS)
    assert list(choices) == list(LAYERS["districts"].style.figures)
    assert choices["density"] == "人口密度 (人/km²)"


def test_class_breaks_are_quantiles_without_duplicates():
    breaks = webmap.class_breaks([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], k=5)
    assert breaks[0] == 1 and breaks[-1] == 10 and len(breaks) == 6
    assert np.all(np.diff(breaks) > 0)
    assert len(webmap.class_breaks([5, 5, 5])) == 1
    assert len(webmap.class_breaks([None, "x"])) == 0


# --------------------------------------------------------------------------- words a planner reads


def test_item_popup_shows_sentence_section_category_quantities_and_labelled_provenance():
    m = webmap.make_map(sample_layers(), specs=LAYERS, cluster_items=False)
    popups = [p["_popup"] for p in all_properties(m) if "建成黄河大桥" in p["_popup"]]
    assert len(popups) == 1
    popup = popups[0]
    for expected in ("建成黄河大桥，新增公园10处。", "2023年工作安排 / （一）交通", "<td>交通</td>", "10处",
                     "gazetteer:g1", "来源坐标系", "WGS-84 (GPS/OSM/天地图)", ">约1公里内</td>", "<td>2023</td>",
                     "定位状态", "<td>地点</td>"):
        assert expected in popup, expected
    for raw in ("approximate", "transport", ">place<", "2,023"):
        assert raw not in popup, raw
    second = next(p["_popup"] for p in all_properties(m) if "开通地铁4号线" in p["_popup"])
    assert ">示意线</td>" in second and "schematic" not in second and "GCJ-02 (高德/腾讯)" in second


def test_crossing_popup_labels_status_mode_carries_and_shows_the_year_as_a_year():
    m = webmap.make_map({"river_crossings": sample_layers()["river_crossings"]}, specs=LAYERS)
    props = all_properties(m)
    first = props[0]["_popup"]
    for expected in ("<td>已通车</td>", "<td>桥梁</td>", "<td>公路</td>", "<td>1982</td>"):
        assert expected in first, expected
    assert "1,982" not in first and ">None<" not in first and "通车年份" in first
    assert props[1]["_tooltip"] == "B隧道 · 在建"
    assert "公铁两用" in props[2]["_popup"]
    colours = [p["_style"]["color"] for p in props]
    assert colours == [LAYERS["river_crossings"].style.colors[s] for s in ("open", "under_construction", "planned")]


def test_popup_html_skips_empty_rows_and_labels_provenance():
    out = webmap.popup_html("T", [("a", None), ("b", ""), ("c", float("nan")), ("e", "None"), ("d", 0)])
    assert "<th" in out and out.count("<tr>") == 1 and ">d<" in out and ">0<" in out
    prov = webmap.popup_html("T", provenance={"source": "OSM", "source_datum": "GCJ02", "precision": "schematic"})
    assert ">来源<" in prov and ">来源坐标系<" in prov and ">精度<" in prov
    assert "GCJ-02 (高德/腾讯)" in prov and ">示意线<" in prov and "schematic" not in prov


def test_numbers_read_as_people_write_them():
    assert fmt_number(13_000_000.0) == "13,000,000" and "e+" not in fmt_number(1.3e17)
    assert fmt_number(1_000_000) == "1,000,000" and fmt_number(4300.4) == "4,300"
    assert fmt_number(12.5) == "12.5" and fmt_number(0.034) == "0.034" and fmt_number(float("nan")) == ""
    assert fmt_year(1982.0) == "1982" and fmt_year("1982") == "1982" and fmt_year(None) == ""
    assert cell_text("opened", 2021) == "2021" and cell_text("population_2020", 9202432) == "9,202,432"
    assert cell_text("adcode", 370102) == "370102"
    assert cell_text("precision", "area_centroid") == "区域中心"
    assert cell_text("categories", "parks|greenways") == "公园、绿道"
    assert cell_text("note", "nan") == "" and cell_text("district", "历下区|槐荫区") == "历下区、槐荫区"


def test_generic_popup_heads_rows_with_the_vocabulary_and_shows_an_uploads_own_columns():
    spec = LayerSpec("parks", "公园", role="facilities")
    frame = points(1, name=["泉城公园"], kind=["park"], lon=[117.0], gazetteer_file=["gazetteer.csv"],
                   area_km2=[1.25])
    popup = all_properties(webmap.make_map({"parks": frame}, specs={"parks": spec}))[0]["_popup"]
    assert "<th" in popup and ">类型<" in popup and ">公园<" in popup and ">面积 (km²)<" in popup
    assert "gazetteer" not in popup and "lon" not in popup  # bookkeeping of planatlas's own layers
    upload = all_properties(webmap.make_map({"mine": points(1, name=["x"], 备注=["自己的列"])}))[0]["_popup"]
    assert "备注" in upload and "自己的列" in upload


def test_popups_of_the_default_layers_show_no_raw_code(seed_build):
    r = seed_build  # layers.build.build_all() of the embedded report (tests/conftest.py)
    m = webmap.make_map(r.layers, specs=r.specs, cluster_items=False, hidden=[])
    page = m.get_root().render()
    for raw in RAW:
        assert raw not in page, raw
    props = all_properties(m)
    assert len(props) > 100  # every layer was drawn
    headings = Headings()
    for p in props:
        for raw in RAW:
            assert raw not in p["_popup"] and raw not in p["_tooltip"], (raw, p["_popup"])
        headings.feed(p["_popup"])
    # every heading is a word of the vocabulary, never a column name
    assert headings.headings and not [h for h in headings.headings if re.fullmatch(r"[a-z0-9_]+", h)]
    assert "精度" in headings.headings and "来源坐标系" in headings.headings


def test_the_default_layers_keep_their_order_and_visibility(seed_build):
    r = seed_build
    m = webmap.make_map(r.layers, specs=r.specs)
    groups = feature_groups(m)
    titles = [g.layer_name.split("</span>")[-1].split(" · ")[0] for g in groups]
    by_order = sorted(r.layers, key=lambda n: r.specs[n].order)
    assert list(dict.fromkeys(titles)) == [r.specs[n].title_zh for n in by_order]
    for g, title in zip(groups, titles, strict=True):
        spec = next(s for s in r.specs.values() if s.title_zh == title)
        assert g.show == spec.visible, title


# --------------------------------------------------------------------------- legend inside the map


def test_the_choropleth_legend_is_a_control_inside_the_map_not_html_under_it():
    m = webmap.make_map({"districts": sample_layers()["districts"]}, specs=LAYERS, color_by="density")
    legends = [e for e in walk(m) if isinstance(e, LegendControl)]
    assert len(legends) == 1
    assert isinstance(legends[0]._parent, folium.FeatureGroup)  # comes and goes with its layer
    assert "人口密度" in legends[0].html and "10,000" in legends[0].html
    page = m.get_root().render()
    body = page.split("<script>")[0]
    assert "pa-legend" not in body  # not an element of the page outside the map
    script = page[page.index("L.control({position:"):]
    assert "legend.addTo(group._map)" in script and "pa-legend" in unescape_json(script)
    none = webmap.make_map({"districts": sample_layers()["districts"]}, specs=LAYERS)
    assert not [e for e in walk(none) if isinstance(e, LegendControl)]


def _chromium():
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("/usr/bin/chromium is not installed")
    return pytest.importorskip("playwright.sync_api")


@pytest.mark.browser
def test_the_legend_sits_inside_the_map_element_in_a_browser(tmp_path):
    sync_api = _chromium()
    m = webmap.make_map(sample_layers(), specs=LAYERS, color_by="density", height=500)
    page_file = tmp_path / "map.html"
    page_file.write_text(webmap.standalone_html(m), encoding="utf-8")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.route("**/*", lambda r: r.abort() if r.request.url.startswith("http") else r.continue_())
        page.goto(page_file.as_uri())
        page.wait_for_selector(".leaflet-container .pa-legend")
        inside = page.evaluate("""() => [...document.querySelectorAll('.pa-legend')].map(el => {
            const map = el.closest('.leaflet-container');
            if (!map) return false;
            const a = el.getBoundingClientRect(), b = map.getBoundingClientRect();
            return a.left >= b.left && a.right <= b.right && a.top >= b.top && a.bottom <= b.bottom;
        })""")
        assert inside == [True, True, True]  # the choropleth, the crossings by status, the items by category
        # switching the districts off in the layer control takes their legend away
        page.evaluate("""() => {
            for (const label of document.querySelectorAll('.leaflet-control-layers-overlays label')) {
                if (label.textContent.trim() === '区县') label.querySelector('input').click();
            }
        }""")
        assert page.evaluate("document.querySelectorAll('.pa-legend').length") == 2
        browser.close()


# --------------------------------------------------------------------------- CRS


def test_layer_without_crs_is_refused():
    gdf = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Point(117, 36.6)])
    with pytest.raises(CRSError):
        webmap.make_map({"parks": gdf}, specs=LAYERS)


def test_a_layer_that_is_not_a_frame_is_refused():
    with pytest.raises(ParameterError, match="GeoDataFrame"):
        webmap.make_map({"parks": [1, 2]})


def test_other_crs_is_shown_in_wgs84():
    gdf = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Point(117.0, 36.65)], crs=4326).to_crs(4548)
    m = webmap.make_map({"uploaded": gdf})
    coords = geojson_elements(m)[0].data["features"][0]["geometry"]["coordinates"]
    assert coords == pytest.approx([117.0, 36.65], abs=1e-7)


def test_fit_to_zooms_to_a_layer_and_refuses_an_unknown_one():
    m = webmap.make_map(sample_layers(), specs=LAYERS, fit_to="river_crossings")
    assert "fitBounds" in m.get_root().render()
    with pytest.raises(ParameterError, match="fit_to"):
        webmap.make_map(sample_layers(), specs=LAYERS, fit_to="service_area")


# --------------------------------------------------------------------------- basemaps and datums


def _first_point(m: folium.Map) -> tuple[float, float]:
    for g in geojson_elements(m):
        for f in g.data["features"]:
            if f["geometry"]["type"] == "Point":
                return tuple(f["geometry"]["coordinates"])
    raise AssertionError("no point drawn")


def test_amap_basemap_shifts_overlays_to_gcj02():
    layers = sample_layers()
    wgs = _first_point(webmap.make_map(layers, specs=LAYERS, basemap="osm", cluster_items=False))
    gcj = _first_point(webmap.make_map(layers, specs=LAYERS, basemap="amap", cluster_items=False))
    _, _, dist = Geod(ellps="WGS84").inv(wgs[0], wgs[1], gcj[0], gcj[1])
    assert 300 < dist < 700  # GCJ-02 offset in Jinan is about half a kilometre
    assert gcj[0] > wgs[0]  # eastwards, as GCJ-02 always is around Jinan
    # the input frames are not modified
    assert layers["report_items"].geometry.iloc[0].x == 117.02


def test_amap_shifts_polygons_and_lines_too():
    layers = {"districts": sample_layers()["districts"]}
    osm = webmap.make_map(layers, specs=LAYERS, basemap="osm")
    amap = webmap.make_map(layers, specs=LAYERS, basemap="amap")
    a = shapely.geometry.shape(geojson_elements(osm)[0].data["features"][0]["geometry"])
    b = shapely.geometry.shape(geojson_elements(amap)[0].data["features"][0]["geometry"])
    assert a.centroid.distance(b.centroid) > 0.002  # degrees, i.e. hundreds of metres
    assert "autonavi" in amap.get_root().render()


def test_display_point_round_trips():
    lat, lon = webmap.display_point(36.65, 117.0, basemap="amap")
    assert (lat, lon) != (36.65, 117.0)
    back = webmap.from_display_point(lat, lon, basemap="amap")
    assert back == pytest.approx((36.65, 117.0), abs=1e-8)
    assert webmap.display_point(36.65, 117.0, basemap="osm") == (36.65, 117.0)


def test_tianditu_needs_a_key(monkeypatch):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    assert "tianditu" not in webmap.available_basemaps()
    with pytest.raises(ParameterError, match=r"^天地图.*TIANDITU_KEY"):
        webmap.make_map({}, basemap="tianditu")
    monkeypatch.setenv("TIANDITU_KEY", "abc123")
    assert "tianditu" in webmap.available_basemaps()
    page = webmap.make_map({}, basemap="tianditu").get_root().render()
    assert "tianditu.gov.cn" in page and "tk=abc123" in page


def test_unknown_basemap_is_refused():
    with pytest.raises(ParameterError, match=r"^未知底图 'google'.*osm"):
        webmap.make_map({}, basemap="google")
    with pytest.raises(ParameterError, match="google"):
        webmap.make_live_map({}, basemap="google")


# --------------------------------------------------------------------------- offline assets

CDN = re.compile(r"jsdelivr|cdnjs|code\.jquery|bootstrapcdn|fontawesome|unpkg", re.IGNORECASE)


def test_map_assets_point_at_the_app_static_folder():
    page = webmap.make_map(sample_layers(), specs=LAYERS).get_root().render()
    srcs = re.findall(r'<script src="([^"]+)"', page)
    hrefs = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)
    assert srcs and hrefs
    assert all(u.startswith(webmap.STATIC_URL) for u in srcs + hrefs), srcs + hrefs
    assert any("leaflet.markercluster.js" in u for u in srcs)
    assert not CDN.search(page)
    assert "bootstrap" not in page.lower() and "awesome" not in page.lower()


def test_unvendored_plugin_is_refused_rather_than_loaded_from_a_cdn():
    m = webmap.make_map({})
    folium.plugins.Fullscreen().add_to(m)
    with pytest.raises(ParameterError, match="no local copy"):
        webmap.localise_assets(m)


def test_standalone_html_has_no_cdn_script_or_link():
    page = webmap.standalone_html(webmap.make_map(sample_layers(), specs=LAYERS))
    assert not re.search(r"<script[^>]+src=[\"']https?://", page)
    assert not re.search(r"<link[^>]+href=[\"']https?://", page)
    assert not re.search(r"<script[^>]+src=", page)  # everything inlined
    assert not CDN.search(page)
    assert "L.MarkerClusterGroup" in page  # markercluster code is inside
    assert "data:image/png;base64," in page  # leaflet.css images inlined

    # parse as a browser would (script bodies are raw text up to "</script"):
    # each inlined library must arrive whole inside one script element
    class Scripts(HTMLParser):
        def __init__(self):
            super().__init__()
            self.bodies, self._in = [], False

        def handle_starttag(self, tag, attrs):
            self._in = tag == "script"
            if self._in:
                self.bodies.append("")

        def handle_endtag(self, tag):
            self._in = False

        def handle_data(self, data):
            if self._in:
                self.bodies[-1] += data

    parser = Scripts()
    parser.feed(page)
    bodies = parser.bodies
    for asset in ASSETS:
        if asset.file.endswith(".js"):
            code = asset_source(asset).read_text(encoding="utf-8")
            core = re.sub(r"^//# sourceMappingURL=.*$", "", code, flags=re.MULTILINE).strip()
            assert any(core in b for b in bodies), asset.file
    assert "sourceMappingURL" not in page  # no request for .map files that are not there


def test_install_assets_copies_and_is_idempotent(tmp_path):
    vendor = webmap.install_assets(tmp_path / "static")
    files = sorted(p.relative_to(vendor).as_posix() for p in vendor.rglob("*") if p.is_file())
    assert "leaflet/leaflet.js" in files and "markercluster/leaflet.markercluster.js" in files
    assert "jquery/jquery.min.js" in files and "leaflet/images/layers.png" in files
    js = vendor / "leaflet" / "leaflet.js"
    stamp = js.stat().st_mtime_ns
    webmap.install_assets(tmp_path / "static")
    assert js.stat().st_mtime_ns == stamp  # not copied again
    js.write_text("truncated")
    webmap.install_assets(tmp_path / "static")
    assert js.stat().st_size > 100_000  # a damaged copy is replaced
    assert not list(vendor.rglob("*.tmp"))


# --------------------------------------------------------------------------- live map for st_folium


def test_live_map_splits_base_and_overlays():
    live = webmap.make_live_map(sample_layers(XSS_SCRIPT), specs=LAYERS, color_by="density", cluster_items=False)
    base_page = live.base.get_root().render()
    assert "pa-item" not in base_page and "L.geoJson" not in base_page  # tiles only
    # markercluster is linked up front: scripts load once per page in st_folium
    srcs = re.findall(r'<script src="([^"]+)"', base_page)
    assert any(u.endswith("leaflet.markercluster.js") for u in srcs)
    assert all(u.startswith(webmap.STATIC_URL) for u in srcs)
    assert live.groups and all(g._parent is None for g in live.groups)
    names = [g.layer_name for g in live.groups]
    assert any("区县" in n for n in names) and any("交通" in n for n in names)
    # the same escaped popups as make_map
    props = [p for g in live.groups for p in all_properties(g)]
    assert any(webmap.escape("建成黄河大桥" + XSS_SCRIPT) in p["_popup"] for p in props)
    assert XSS_SCRIPT not in json.dumps(props, ensure_ascii=False)
    # the legend travels inside the districts' group, drawn inside the map
    districts = next(g for g in live.groups if g.layer_name == "区县")
    legend = next(e for e in walk(districts) if isinstance(e, LegendControl))
    assert "人口密度" in legend.html and legend.html in live.legends
    assert XSS_SCRIPT not in "".join(live.legends)
    assert isinstance(live.control, folium.LayerControl)


def test_live_map_base_does_not_depend_on_the_overlays():
    a = webmap.make_live_map(sample_layers(), specs=LAYERS, color_by="density", cluster_items=True)
    b = webmap.make_live_map({"districts": sample_layers()["districts"]}, specs=LAYERS, color_by=None,
                             cluster_items=False)
    strip = lambda page: re.sub(r"_[0-9a-f]{32}", "", page)  # noqa: E731 - folium's random ids
    assert strip(a.base.get_root().render()) == strip(b.base.get_root().render())
    assert b.legends == [] and len(a.legends) == 3  # the choropleth, the crossings by status, the items by category


def test_live_map_legend_script_survives_st_folium_renaming():
    """st_folium renames a group's variable before rendering its script: the legend must follow it."""
    sf = pytest.importorskip("streamlit_folium")
    live = webmap.make_live_map({"districts": sample_layers()["districts"]}, specs=LAYERS, color_by="density")
    script = sf._get_feature_group_string(live.groups[0], map=live.base, idx=0)
    assert "var group = feature_group_feature_group_0;" in script
    assert script.index("var feature_group_feature_group_0") < script.index("var group = feature_group")


def test_display_geometry_simplifies_shapes_only_and_keeps_the_data():
    wiggly = shapely.LineString([(117.0 + i * 1e-5, 36.6 + (i % 2) * 1e-6) for i in range(500)])
    point = shapely.Point(117.123456789, 36.6)
    geoms = np.array([wiggly, point], dtype=object)
    shown = display_geometry(geoms)
    assert shapely.get_num_coordinates(shown[0]) < 10  # micro-wiggles gone
    assert shown[0].hausdorff_distance(wiggly) < 1e-4
    assert shown[1].x == 117.123457  # points only rounded (0.1 m)
    assert shapely.get_num_coordinates(geoms[0]) == 500  # the input is untouched
