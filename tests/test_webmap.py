"""Tests of spatial.webmap: layers, escaping, GCJ-02 basemap, offline assets."""

from __future__ import annotations

import json
import re

import folium
import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod

from spatial import webmap
from spatial._errors import CRSError, UnknownLayerError

XSS_SCRIPT = "<script>alert('x1')</script>"
XSS_IMG = "<img src=x onerror=alert(2)>"
XSS_BREAKOUT = "</script><script>alert(3)</script>"
XSS_TEMPLATE = "${alert(4)}`"

PROV = {"source": "test fixture", "source_datum": "WGS84", "precision": "approximate"}


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
            "precision": ["approximate", "exact", "unresolved"],
        },
        geometry=[shapely.Point(117.02, 36.68), shapely.Point(117.05, 36.66), None],
        crs="EPSG:4326",
    )
    return {"districts": districts, "river_crossings": crossings, "report_items": items}


def geojson_elements(m: folium.Map) -> list[folium.GeoJson]:
    return [e for e in webmap._walk(m) if isinstance(e, folium.GeoJson)]


def all_properties(m: folium.Map) -> list[dict]:
    return [f["properties"] for g in geojson_elements(m) for f in g.data["features"]]


def unescape_json(page: str) -> str:
    """What the browser's JS engine sees inside JSON strings (\\u003c -> <)."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda mt: chr(int(mt.group(1), 16)), page)


# --------------------------------------------------------------------------- escaping


@pytest.mark.parametrize("payload", [XSS_SCRIPT, XSS_IMG, XSS_BREAKOUT, XSS_TEMPLATE])
def test_payloads_reach_the_page_only_escaped(payload):
    m = webmap.make_map(sample_layers(payload), color_districts_by="density")
    page = m.get_root().render()
    decoded = unescape_json(page)  # what the browser's JS sees after parsing JSON strings
    assert payload not in page
    assert payload not in decoded
    # the payload is still there for the reader, as text
    assert webmap.escape(payload) in decoded


def test_escape_neutralises_html_and_js_template_characters():
    out = webmap.escape("<a href='x'>&`${y}\\")
    assert "<" not in out and ">" not in out and "'" not in out
    assert "`" not in out and "$" not in out and "\\" not in out
    assert webmap.escape(None) == "" and webmap.escape(float("nan")) == ""


def test_layer_names_in_layer_control_are_escaped():
    m = webmap.make_map(sample_layers(XSS_IMG))
    page = unescape_json(m.get_root().render())
    # Leaflet's layer control inserts names as HTML: the category name carries the payload
    assert XSS_IMG not in page
    assert "L.control.layers" in page


# --------------------------------------------------------------------------- content


def test_item_popup_shows_sentence_section_category_quantities_and_provenance():
    m = webmap.make_map(sample_layers(), cluster_items=False)
    popups = [p["_popup"] for p in all_properties(m) if "建成黄河大桥" in p["_popup"]]
    assert len(popups) == 1
    popup = popups[0]
    for expected in ("建成黄河大桥，新增公园10处。", "2023年工作安排 / （一）交通", "交通",
                     "10处", "gazetteer:g1", "WGS84", "approximate", "2023"):
        assert expected in popup, expected


def test_ungeocoded_items_are_left_out_and_categories_get_groups():
    m = webmap.make_map(sample_layers())
    texts = [p["_popup"] for p in all_properties(m)]
    assert not any("未定位的句子" in t for t in texts)
    groups = [e.layer_name for e in webmap._walk(m) if isinstance(e, folium.FeatureGroup)]
    assert any("交通" in g for g in groups) and any("区县" in g for g in groups)
    # ecology has only an ungeocoded item: no empty group for it
    assert not any("生态" in g for g in groups)


def test_clustered_items_sit_in_a_marker_cluster():
    clustered = webmap.make_map(sample_layers(), cluster_items=True)
    flat = webmap.make_map(sample_layers(), cluster_items=False)
    count = lambda m: sum(isinstance(e, folium.plugins.MarkerCluster) for e in webmap._walk(m))  # noqa: E731
    assert count(clustered) >= 1
    assert count(flat) == 0


def test_districts_choropleth_follows_the_chosen_figure():
    layers = sample_layers()
    m = webmap.make_map({"districts": layers["districts"]}, color_districts_by="density")
    fills = {p["_popup"].split("</b>")[0]: p["_style"]["fillColor"] for p in all_properties(m)}
    dense = next(v for k, v in fills.items() if "历下区" in k)
    sparse = next(v for k, v in fills.items() if "市中区" in k)
    assert dense != sparse
    assert dense == webmap._CHOROPLETH[-1]  # the densest district gets the darkest class
    plain = webmap.make_map({"districts": layers["districts"]}, color_districts_by=None)
    assert len({p["_style"]["fillColor"] for p in all_properties(plain)}) == 1
    by_area = webmap.make_map({"districts": layers["districts"]}, color_districts_by="area_km2")
    area_fill = {p["_tooltip"]: p["_style"]["fillColor"] for p in all_properties(by_area)}
    assert area_fill[next(k for k in area_fill if "市中区" in k)] == webmap._CHOROPLETH[-1]


def test_crossings_are_coloured_by_status():
    m = webmap.make_map({"river_crossings": sample_layers()["river_crossings"]})
    colours = [p["_style"]["color"] for p in all_properties(m)]
    assert len(set(colours)) == 3
    assert colours[0] == webmap._STATUS_COLOURS["open"]


def test_class_breaks_are_quantiles_without_duplicates():
    breaks = webmap.class_breaks([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], k=5)
    assert breaks[0] == 1 and breaks[-1] == 10 and len(breaks) == 6
    assert np.all(np.diff(breaks) > 0)
    assert len(webmap.class_breaks([5, 5, 5])) == 1
    assert len(webmap.class_breaks([None, "x"])) == 0


def test_layer_without_crs_is_refused():
    gdf = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Point(117, 36.6)])
    with pytest.raises(CRSError):
        webmap.make_map({"parks": gdf})


def test_other_crs_is_shown_in_wgs84():
    gdf = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Point(117.0, 36.65)], crs=4326).to_crs(4548)
    m = webmap.make_map({"uploaded": gdf})
    coords = geojson_elements(m)[0].data["features"][0]["geometry"]["coordinates"]
    assert coords == pytest.approx([117.0, 36.65], abs=1e-7)


# --------------------------------------------------------------------------- basemaps and datums


def _first_point(m: folium.Map) -> tuple[float, float]:
    for g in geojson_elements(m):
        for f in g.data["features"]:
            if f["geometry"]["type"] == "Point":
                return tuple(f["geometry"]["coordinates"])
    raise AssertionError("no point drawn")


def test_amap_basemap_shifts_overlays_to_gcj02():
    layers = sample_layers()
    wgs = _first_point(webmap.make_map(layers, basemap="osm", cluster_items=False))
    gcj = _first_point(webmap.make_map(layers, basemap="amap", cluster_items=False))
    _, _, dist = Geod(ellps="WGS84").inv(wgs[0], wgs[1], gcj[0], gcj[1])
    assert 300 < dist < 700  # GCJ-02 offset in Jinan is about half a kilometre
    assert gcj[0] > wgs[0]  # eastwards, as GCJ-02 always is around Jinan
    # the input frames are not modified
    assert layers["report_items"].geometry.iloc[0].x == 117.02


def test_amap_shifts_polygons_and_lines_too():
    layers = sample_layers()
    osm = webmap.make_map({"districts": layers["districts"]}, basemap="osm")
    amap = webmap.make_map({"districts": layers["districts"]}, basemap="amap")
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
    with pytest.raises(UnknownLayerError, match="TIANDITU_KEY"):
        webmap.make_map({}, basemap="tianditu")
    monkeypatch.setenv("TIANDITU_KEY", "abc123")
    assert "tianditu" in webmap.available_basemaps()
    page = webmap.make_map({}, basemap="tianditu").get_root().render()
    assert "tianditu.gov.cn" in page and "tk=abc123" in page


def test_unknown_basemap_is_refused():
    with pytest.raises(UnknownLayerError, match="osm"):
        webmap.make_map({}, basemap="google")


# --------------------------------------------------------------------------- offline assets

CDN = re.compile(r"jsdelivr|cdnjs|code\.jquery|bootstrapcdn|fontawesome|unpkg", re.IGNORECASE)


def test_map_assets_point_at_the_app_static_folder():
    page = webmap.make_map(sample_layers()).get_root().render()
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
    with pytest.raises(UnknownLayerError, match="no local copy"):
        webmap.localise_assets(m)


def test_standalone_html_has_no_cdn_script_or_link():
    page = webmap.standalone_html(webmap.make_map(sample_layers()))
    assert not re.search(r"<script[^>]+src=[\"']https?://", page)
    assert not re.search(r"<link[^>]+href=[\"']https?://", page)
    assert not re.search(r"<script[^>]+src=", page)  # everything inlined
    assert not CDN.search(page)
    assert "L.MarkerClusterGroup" in page  # markercluster code is inside
    assert "data:image/png;base64," in page  # leaflet.css images inlined
    # parse as a browser would (script bodies are raw text up to "</script"):
    # each inlined library must arrive whole inside one script element
    from html.parser import HTMLParser

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
    for asset in webmap._ASSETS:
        if asset.file.endswith(".js"):
            code = webmap._asset_source(asset).read_text(encoding="utf-8")
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


def test_popup_html_skips_empty_rows():
    out = webmap.popup_html("T", [("a", None), ("b", ""), ("c", float("nan")), ("d", 0)])
    assert "<th" in out and out.count("<tr>") == 1 and ">d<" in out


# --------------------------------------------------------------------------- live map for st_folium


def test_live_map_splits_base_and_overlays():
    live = webmap.make_live_map(sample_layers(XSS_SCRIPT), color_districts_by="density", cluster_items=False)
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
    props = [f["properties"] for g in live.groups for e in webmap._walk(g)
             if isinstance(e, folium.GeoJson) for f in e.data["features"]]
    assert any(webmap.escape("建成黄河大桥" + XSS_SCRIPT) in p["_popup"] for p in props)
    assert XSS_SCRIPT not in json.dumps(props, ensure_ascii=False)
    # legend under the map, escaped, naming the figure
    assert "人口密度" in live.legend and "position:absolute" not in live.legend
    assert isinstance(live.control, folium.LayerControl)


def test_live_map_base_does_not_depend_on_the_overlays():
    a = webmap.make_live_map(sample_layers(), color_districts_by="density", cluster_items=True)
    b = webmap.make_live_map({"districts": sample_layers()["districts"]}, color_districts_by=None,
                             cluster_items=False)
    strip = lambda page: re.sub(r"_[0-9a-f]{32}", "", page)  # noqa: E731 - folium's random ids
    assert strip(a.base.get_root().render()) == strip(b.base.get_root().render())
    assert b.legend == ""


def test_display_geometry_simplifies_shapes_only_and_keeps_the_data():
    import numpy as np
    import shapely

    from spatial.webmap import display_geometry

    wiggly = shapely.LineString([(117.0 + i * 1e-5, 36.6 + (i % 2) * 1e-6) for i in range(500)])
    point = shapely.Point(117.123456789, 36.6)
    geoms = np.array([wiggly, point], dtype=object)
    shown = display_geometry(geoms)
    assert shapely.get_num_coordinates(shown[0]) < 10  # micro-wiggles gone
    assert shown[0].hausdorff_distance(wiggly) < 1e-4
    assert shown[1].x == 117.123457  # points only rounded (0.1 m)
    assert shapely.get_num_coordinates(geoms[0]) == 500  # the input is untouched
