"""AppTest of every page of the Streamlit app, on the store built offline from the report."""

from __future__ import annotations

import io
import json
import re
import warnings
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

from app_pages import state
from app_pages.page_report import filter_items, highlighted_source

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")
TIMEOUT = 180  # seconds a single script run may take (first run builds the store)


@pytest.fixture(scope="module", autouse=True)
def data_dir(tmp_path_factory):
    """Every test of this module uses one fresh data folder (store built once)."""
    folder = tmp_path_factory.mktemp("planatlas-data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PLANATLAS_DATA_DIR", str(folder))
        mp.delenv("TIANDITU_KEY", raising=False)
        from layers.build import ensure_default_store

        ensure_default_store()
        yield folder


def open_page(page: str = "map") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    if page != "map":
        at.switch_page(f"app_pages/page_{page}.py")
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def by_label(widgets, label: str):
    found = [w for w in widgets if w.label == label]
    assert found, f"no widget labelled {label!r}; have {[w.label for w in widgets]}"
    return found[0]


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [e.value for e in at.error] + [w.value for w in at.warning] + [s.value for s in at.success]
    return "\n".join(str(p) for p in parts)


# --------------------------------------------------------------------------- 地图


def test_map_page_shows_controls_and_the_map():
    at = open_page("map")
    assert at.header[0].value == "地图"
    layers = by_label(at.multiselect, "图层")
    assert "districts" in layers.value and "report_items" in layers.value
    basemap = by_label(at.selectbox, "底图")
    assert set(basemap.options) >= {"OpenStreetMap", "高德地图 (GCJ-02)"}
    assert "天地图" not in basemap.options  # no TIANDITU_KEY
    assert by_label(at.selectbox, "区县着色指标").value == "density"
    assert by_label(at.checkbox, "聚合报告条目").value is True
    # the st_folium component is on the page, loading Leaflet & co. from the app only
    args = folium_args(at)
    assert args["js_links"] and all(u.startswith("/app/static/vendor/") for u in args["js_links"])
    assert args["css_links"] and all(u.startswith("/app/static/vendor/") for u in args["css_links"])
    assert any(u.endswith("leaflet.markercluster.js") for u in args["js_links"])
    # overlays travel as dynamic feature groups, beside a base map of tiles only
    assert "L.control.layers" in args["layer_control"]
    assert "L.markerClusterGroup" in args["feature_group"]
    assert "pa-item" in args["feature_group"] and "pa-item" not in args["script"]
    assert sorted(args["returned_objects"]) == ["center", "last_object_clicked_popup", "zoom"]


def test_layer_colour_and_cluster_changes_do_not_reload_the_map():
    at = open_page("map")
    before = folium_args(at)
    by_label(at.checkbox, "聚合报告条目").uncheck()
    by_label(at.selectbox, "区县着色指标").set_value("area_km2")
    by_label(at.multiselect, "图层").set_value(["districts", "report_items", "parks"])
    at.run()
    after = folium_args(at)
    # same base-map script: st_folium keeps the browser's Leaflet map and swaps the overlays
    assert after["script"] == before["script"]
    assert after["feature_group"] != before["feature_group"]
    assert "L.markerClusterGroup" not in after["feature_group"]
    # the legend travels inside the map, with the districts' feature group
    legend_title = json.dumps("面积 (km²)")[1:-1]  # the legend's HTML is a JavaScript string
    assert legend_title in after["feature_group"] and "pa-legend" in after["feature_group"]
    # a new basemap is a new map
    by_label(at.selectbox, "底图").set_value("amap").run()
    assert folium_args(at)["script"] != before["script"]


def folium_args(at: AppTest, index: int = 0) -> dict:
    comps = [c for c in at.get("component_instance") if c.proto.component_name == "streamlit_folium.st_folium"]
    assert len(comps) > index, "st_folium map missing"
    return json.loads(comps[index].proto.json_args)


def test_map_settings_survive_reruns_and_page_switches():
    at = open_page("map")
    by_label(at.selectbox, "底图").set_value("carto")
    by_label(at.multiselect, "图层").set_value(["districts", "parks"])
    by_label(at.checkbox, "聚合报告条目").uncheck()
    at.run()
    at.switch_page("app_pages/page_report.py").run()
    at.switch_page("app_pages/page_map.py").run()
    assert not at.exception
    assert by_label(at.selectbox, "底图").value == "carto"
    assert by_label(at.multiselect, "图层").value == ["districts", "parks"]
    assert by_label(at.checkbox, "聚合报告条目").value is False
    assert at.session_state[state.MAP_BASEMAP] == "carto"


def test_map_search_flies_to_a_place():
    at = open_page("map")
    script_before = folium_args(at)["script"]
    by_label(at.text_input, "搜索条目或地名").input("黄河").run()
    results = by_label(at.selectbox, "结果")
    assert len(results.options) >= 1
    by_label(at.button, "在地图上定位").click().run()
    assert not at.exception
    lat, lon = at.session_state[state.MAP_CENTER]
    assert 36.0 < lat < 37.8 and 116.0 < lon < 118.0  # somewhere in Jinan
    zoom = at.session_state[state.MAP_ZOOM]
    assert 8 <= zoom <= 16  # the target's extent fitted (a point gets a street zoom)
    args = folium_args(at)
    assert args["zoom"] == pytest.approx(zoom) and args["center"] == pytest.approx([lat, lon])
    assert "pa-focus" in args["feature_group"]  # the target is marked, in a layer of its own
    # the view moves through st_folium's arguments: the map script (and so the
    # browser's map with its open popups) stays the same
    assert args["script"] == script_before
    # later reruns leave the browser's view alone (no fight with the user's panning) ...
    at.run()
    assert folium_args(at)["center"] is None
    # ... until the map is mounted afresh, e.g. after visiting another page
    at.switch_page("app_pages/page_targets.py").run()
    at.switch_page("app_pages/page_map.py").run()
    assert folium_args(at)["center"] == pytest.approx([lat, lon])
    assert "当前定位" in texts(at)


def test_map_search_without_hits_says_so():
    at = open_page("map")
    by_label(at.text_input, "搜索条目或地名").input("不存在的地名xyz").run()
    assert "没有找到" in texts(at)


# --------------------------------------------------------------------------- 服务圈分析


def test_coverage_page_runs_and_offers_downloads():
    at = open_page("coverage")
    assert by_label(at.selectbox, "设施图层").value == "parks"
    preset = by_label(at.selectbox, "服务标准")
    assert preset.value == "gb50180-15min"
    assert by_label(at.radio, "方法").value == "buffer"
    assert by_label(at.radio, "人口数据").value == "store"
    by_label(at.button, "运行分析").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    labels = [m.label for m in at.metric]
    assert labels == ["服务半径", "覆盖面积", "覆盖人口", "人口覆盖率"]
    assert at.metric[0].value.endswith(" m")
    pct = float(at.metric[3].value.split()[0])
    assert 0 < pct < 100
    assert at.dataframe, "unit table missing"
    unit_table = json.loads(at.dataframe[-1].proto.columns)
    assert unit_table["人口覆盖率 (%)"]["type_config"]["type"] == "progress", "the share is drawn as a bar in the table"
    assert unit_table["人口覆盖率 (%)"]["type_config"]["max_value"] == 100
    downloads = [d.label for d in at.download_button]
    assert any("GEOJSON" in d for d in downloads) and any("GPKG" in d for d in downloads)
    assert any("CSV" in d for d in downloads)
    assert at.session_state[state.COVERAGE_RESULT] is not None
    groups = re.sub(r"\\u([0-9a-f]{4})", lambda m: chr(int(m.group(1), 16)), folium_args(at)["feature_group"])
    assert "服务范围" in groups and "覆盖缺口" in groups  # service area and gaps drawn on a map


def test_a_new_coverage_result_moves_the_map_without_reloading_it():
    at = open_page("coverage")
    by_label(at.selectbox, "服务标准").set_value("__custom__").run()
    by_label(at.number_input, "时间 (分钟)").set_value(5.0).run()
    by_label(at.button, "运行分析").click().run()
    first = folium_args(at)
    assert first["center"] is not None and first["zoom"] is not None  # fitted to the service area
    at.run()  # a rerun with the same result leaves the planner's panning alone
    assert folium_args(at)["center"] is None
    by_label(at.number_input, "时间 (分钟)").set_value(30.0).run()
    by_label(at.button, "运行分析").click().run()
    second = folium_args(at)
    assert not at.exception
    # the same base map: streamlit-folium swaps the layers and moves the view, Leaflet stays loaded
    assert second["script"] == first["script"]
    assert second["feature_group"] != first["feature_group"]
    assert second["center"] is not None and second["center"] != first["center"]


def test_the_coverage_map_is_there_before_the_first_run_and_keeps_its_frame():
    at = open_page("coverage")
    before = folium_args(at)  # the facilities about to be analysed, on the map the result will use
    groups = re.sub(r"\\u([0-9a-f]{4})", lambda m: chr(int(m.group(1), 16)), before["feature_group"])
    assert "设施" in groups and "服务范围" not in groups
    assert before["center"] is not None  # fitted to the facilities
    by_label(at.button, "运行分析").click().run()
    after = folium_args(at)
    assert not at.exception
    assert after["script"] == before["script"]  # same base map: the first result does not mount a new frame
    assert after["feature_group"] != before["feature_group"]
    assert len([c for c in at.get("component_instance")
                if c.proto.component_name == "streamlit_folium.st_folium"]) == 1


def test_coverage_reruns_send_the_drawn_map_again_without_drawing(monkeypatch):
    from spatial import webmap

    drawn = []
    real = webmap.make_live_map
    monkeypatch.setattr(webmap, "make_live_map", lambda layers, **k: drawn.append(sorted(layers)) or real(layers, **k))
    at = open_page("coverage")
    assert drawn.count(["facilities"]) == 1
    by_label(at.selectbox, "服务标准").set_value("__custom__").run()  # not about the facilities
    assert drawn.count(["facilities"]) == 1
    by_label(at.multiselect, "类别筛选").set_value(["ecology"]).run()  # other facilities: drawn again
    assert drawn.count(["facilities"]) == 2
    by_label(at.multiselect, "类别筛选").set_value([]).run()
    assert drawn.count(["facilities"]) == 3
    by_label(at.button, "运行分析").click().run()
    first = folium_args(at)["feature_group"]
    assert [d for d in drawn if d][-1] == ["facilities", "gaps", "service_area"]
    n = len([d for d in drawn if d])
    by_label(at.number_input, "时间 (分钟)").set_value(25.0).run()  # stale result: the same map
    at.run()
    assert len([d for d in drawn if d]) == n and folium_args(at)["feature_group"] == first
    by_label(at.button, "运行分析").click().run()
    assert len([d for d in drawn if d]) == n + 1 and folium_args(at)["feature_group"] != first


def test_coverage_custom_minutes_and_speed():
    at = open_page("coverage")
    by_label(at.selectbox, "服务标准").set_value("__custom__").run()
    by_label(at.number_input, "时间 (分钟)").set_value(10.0)
    by_label(at.number_input, "速度 (米/分钟)").set_value(100.0)
    at.run()
    by_label(at.button, "运行分析").click().run()
    assert not at.exception and not at.error
    assert at.session_state[state.COVERAGE_RESULT].parameters["distance_m"] == pytest.approx(1000.0)


def test_coverage_network_needs_a_file_and_reports_a_bad_one():
    at = open_page("coverage")
    by_label(at.radio, "方法").set_value("network").run()
    assert by_label(at.button, "运行分析").disabled
    # no box where a web user could type a path on the server
    assert not [w for w in at.text_input if "路径" in w.label]
    at.file_uploader[0].upload("broken.osm", b"<osm><way id='1'><nd ref=", "application/xml")
    at.run()
    by_label(at.button, "运行分析").click().run()
    assert not at.exception
    assert at.error and "分析失败" in at.error[0].value
    assert at.session_state[state.COVERAGE_RESULT] is None


def uploaded(filename: str) -> str:
    """Store name of the layer last uploaded from ``filename`` (uploads are layers of the store)."""
    from layers.build import ensure_default_store
    from spatial.intake import imported_layers

    table = imported_layers(ensure_default_store())
    return str(table[table["file"] == filename]["name"].iloc[-1])


def import_file(at, name: str, data: bytes, mime: str, *, datum: str | None = "WGS84", replace: bool = False):
    """Choose a file on the upload page, confirm its datum (None: take the page's guess) and import it."""
    uploader = at.file_uploader[0]
    if replace:
        uploader.set_value((name, data, mime))
    else:
        uploader.upload(name, data, mime)
    at.run()
    if datum is not None:
        by_label(at.selectbox, "坐标系 (数据来源的坐标)").set_value(datum)
    for again in [c for c in at.checkbox if c.label == "仍然再导入一次"]:
        again.check()
    at.run()
    next(b for b in at.button if b.key == "w_up_import").click().run()
    return at


def store_names() -> set[str]:
    from layers.build import ensure_default_store
    from spatial.store import list_layers

    return set(list_layers(ensure_default_store())["name"])


def test_coverage_page_offers_only_the_networks_folder(data_dir, tmp_path):
    """Street networks on the server come from the data folder's networks/ folder, picked by name."""
    from app_pages.page_coverage import server_networks

    folder = data_dir / "networks"
    folder.mkdir(exist_ok=True)
    osm = Path(__file__).resolve().parent / "data" / "net_tiny.osm"
    (folder / "central.osm").write_bytes(osm.read_bytes())
    (folder / "notes.txt").write_text("not a network")
    (tmp_path / "outside.osm").write_bytes(osm.read_bytes())
    try:
        assert list(server_networks()) == ["central.osm"]
        at = open_page("coverage")
        by_label(at.radio, "方法").set_value("network").run()
        picker = by_label(at.selectbox, "或选择服务器上的街道网络")
        assert picker.options == ["（不选）", "central.osm"]
    finally:
        for p in folder.iterdir():
            p.unlink()


def test_coverage_on_a_street_network_from_a_local_osm_file():
    """Network service areas through the page: an uploaded facility on the test streets."""
    at = open_page("upload")
    fc = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"name": "泉城广场测试点"},
        "geometry": {"type": "Point", "coordinates": [117.0200, 36.6600]}}]}
    import_file(at, "site.geojson", json.dumps(fc).encode("utf-8"), "application/geo+json")
    assert not at.error, [e.value for e in at.error]
    at.switch_page("app_pages/page_coverage.py").run()
    by_label(at.selectbox, "设施图层").set_value(uploaded("site.geojson"))
    by_label(at.selectbox, "服务标准").set_value("gb50180-5min")
    by_label(at.radio, "方法").set_value("network")
    at.run()
    osm = Path(__file__).resolve().parent / "data" / "net_tiny.osm"
    at.file_uploader[0].upload("net_tiny.osm", osm.read_bytes(), "application/xml")
    at.run()
    by_label(at.button, "运行分析").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    result = at.session_state[state.COVERAGE_RESULT]
    assert result.parameters["method"] == "network"
    # a few hundred metres of streets, not a 300 m disc (0.28 km²)
    assert 0 < result.parameters["covered_km2"] < 0.28


def test_coverage_with_an_uploaded_population_geotiff():
    rasterio = pytest.importorskip("rasterio")
    import numpy as np
    from rasterio.io import MemoryFile
    from rasterio.transform import from_origin

    # 50 x 50 cells of 0.005 degrees over central Jinan, 100 residents each
    with warnings.catch_warnings():
        # rasterio's writer multiplies Affine objects with `*`, which affine deprecates
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        with MemoryFile() as mf:
            with mf.open(driver="GTiff", height=50, width=50, count=1, dtype="float32", crs="EPSG:4326",
                         transform=from_origin(116.9, 36.75, 0.005, 0.005)) as ds:
                ds.write(np.full((50, 50), 100.0, dtype="float32"), 1)
            tif = mf.read()
    assert rasterio.__version__
    at = open_page("coverage")
    by_label(at.radio, "人口数据").set_value("geotiff").run()
    assert by_label(at.button, "运行分析").disabled  # no raster yet
    at.file_uploader[-1].upload("pop.tif", tif, "image/tiff")
    at.run()
    by_label(at.button, "运行分析").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    params = at.session_state[state.COVERAGE_RESULT].parameters
    assert params["population"] == pytest.approx(250_000, rel=1e-6)  # the raster's residents, not the census
    assert "pop" in params["population_source"] or params["population_source"].endswith(".tif")


# --------------------------------------------------------------------------- 报告


def test_report_page_filters_and_highlights_the_item():
    at = open_page("report")
    for label in ("部分", "章节", "类别", "年份", "定位状态", "精度"):
        by_label(at.multiselect, label)
    total = next(c.value for c in at.caption if "条" in c.value and "/" in c.value)
    by_label(at.multiselect, "定位状态").set_value(["place"]).run()
    filtered = next(c.value for c in at.caption if "条" in c.value and "/" in c.value)
    assert int(filtered.split("/")[0]) < int(total.split("/")[0])
    source = [m.value for m in at.markdown if "pa-source" in m.value]
    assert source and "<mark" in source[0]
    item = by_label(at.selectbox, "选择条目").value
    assert at.session_state[state.REPORT_SELECTED] == item
    # geocoded: "show on map" centres the map page
    by_label(at.button, "在地图上显示").click().run()
    assert not at.exception
    assert at.session_state[state.MAP_CENTER] is not None


def test_highlighted_source_escapes_the_report_text():
    src = "前文<script>alert(1)</script>。选中<img src=x onerror=alert(2)>句子。后文**粗体**"
    start = src.index("选中")
    end = src.index("句子。") + 3
    out = highlighted_source(src, start, end, context=100)
    assert "<script>" not in out and "<img" not in out
    assert "&lt;script&gt;" in out
    assert '<mark class="pa-selected">选中&lt;img src=x onerror=alert(2)&gt;句子。</mark>' in out
    assert "\n" not in out  # one HTML block: Markdown never re-reads it


def test_filter_items_keeps_rows_matching_every_choice():
    import pandas as pd

    items = pd.DataFrame({"category": ["a", "b", "a"], "year": [2022, 2023, 2023]})
    assert filter_items(items, {"category": ["a"], "year": ["2023"]}).index.tolist() == [2]
    assert len(filter_items(items, {"category": []})) == 3


# --------------------------------------------------------------------------- 目标


def test_targets_page_table_chart_and_items():
    at = open_page("targets")
    assert at.dataframe, "targets table missing"
    units = by_label(at.selectbox, "单位")
    unit = next(u for u in units.options if u != "全部")
    units.set_value(unit).run()
    assert not at.exception
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart"), "chart missing"
    assert by_label(at.selectbox, "目标").options
    assert at.text, "the item's sentence behind the target is shown"


def test_targets_page_filters_to_mappable_targets():
    at = open_page("targets")
    total = len(at.dataframe[0].value)
    by_label(at.checkbox, "只看可定位的目标").check().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) < total and table["可定位"].all()
    if len(table):  # a located target offers "show on map"
        assert any(b.label == "在地图上显示" for b in at.button)


# --------------------------------------------------------------------------- 导出


@pytest.mark.parametrize("fmt, suffix", [("geojson", ".geojson"), ("gpkg", ".gpkg"), ("shp", ".zip"),
                                         ("kml", ".kml"), ("csv", ".csv")])
def test_export_page_offers_every_format(fmt, suffix):
    at = open_page("export")
    by_label(at.selectbox, "图层或结果").set_value("layer:parks")
    by_label(at.selectbox, "格式").set_value(fmt)
    at.run()
    assert not at.exception and not at.error
    labels = [d.label for d in at.download_button]
    assert any(f"parks{suffix}" in label for label in labels), labels


def test_export_page_offers_the_map_as_html_and_coverage_results():
    at = open_page("coverage")
    by_label(at.button, "运行分析").click().run()
    at.switch_page("app_pages/page_export.py").run()
    assert "服务圈分析 · 服务范围" in by_label(at.selectbox, "图层或结果").options
    by_label(at.button, "生成地图 HTML").click().run()
    assert not at.exception and not at.error
    assert any("planatlas_map.html" in d.label for d in at.download_button)


# --------------------------------------------------------------------------- 上传


def _geojson_bytes() -> bytes:
    fc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"name": "社区中心A"},
             "geometry": {"type": "Point", "coordinates": [117.02, 36.66]}},
            {"type": "Feature", "properties": {"name": "社区中心B"},
             "geometry": {"type": "Point", "coordinates": [117.06, 36.68]}},
        ],
    }
    return json.dumps(fc, ensure_ascii=False).encode("utf-8")


def test_upload_joins_map_analysis_and_export():
    at = open_page("upload")
    import_file(at, "community.geojson", _geojson_bytes(), "application/geo+json", datum="GCJ02")
    assert not at.exception and not at.error, [e.value for e in at.error]
    name = uploaded("community.geojson")
    from layers.build import ensure_default_store
    from spatial.store import read_layer, read_specs

    layer = read_layer(name, path=ensure_default_store())  # written into the project store
    assert read_specs(ensure_default_store())[name].title_zh == "上传·community"
    # GCJ-02 coordinates were converted to WGS-84 (moved west, about 500 m)
    assert layer.geometry.iloc[0].x < 117.02 and (layer["source_datum"] == "GCJ02").all()
    at.switch_page("app_pages/page_map.py").run()
    assert "上传·community" in by_label(at.multiselect, "图层").options
    at.switch_page("app_pages/page_coverage.py").run()
    assert "上传·community" in by_label(at.selectbox, "设施图层").options
    by_label(at.selectbox, "设施图层").set_value(name).run()
    by_label(at.button, "运行分析").click().run()
    assert not at.exception and not at.error
    assert at.session_state[state.COVERAGE_RESULT].parameters["n_facilities"] == 2


def test_uploads_survive_a_reload_and_can_be_renamed_and_removed():
    at = open_page("upload")
    import_file(at, "keep.geojson", _geojson_bytes(), "application/geo+json")
    name = uploaded("keep.geojson")
    fresh = open_page("upload")  # a new session: a reload, or the app restarted
    assert any(name in m.value for m in fresh.markdown)
    by_label_key = next(t for t in fresh.text_input if t.key == f"w_up_title_{name}")
    by_label_key.set_value("社区中心").run()
    next(b for b in fresh.button if b.key == f"w_up_mv_{name}").click().run()
    assert not fresh.exception and not fresh.error, [e.value for e in fresh.error]
    from layers.build import ensure_default_store
    from spatial.store import read_specs

    assert read_specs(ensure_default_store())[name].title_zh == "社区中心"
    next(b for b in fresh.button if b.key == f"w_up_rm_{name}").click().run()
    assert not fresh.exception and name not in store_names()
    # the default layers have no remove button: only imports can be removed
    assert not [b for b in fresh.button if b.key in ("w_up_rm_parks", "w_up_rm_districts")]


def test_a_poi_export_uploads_into_a_classified_facility_layer(tmp_path):
    from _intake_samples import write_amap_csv

    at = open_page("upload")
    by_label(at.radio, "文件类型").set_value("poi")
    import_file(at, "amap.csv", write_amap_csv(tmp_path / "amap.csv").read_bytes(), "text/csv", datum=None)
    assert "高德" in " ".join(c.value for c in at.caption)  # the datum guessed from the export, said
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("GCJ-02" in w.value for w in at.warning)  # the datum guess is said
    from layers.build import ensure_default_store
    from spatial.store import read_layer

    layer = read_layer(uploaded("amap.csv"), path=ensure_default_store())
    assert (layer["facility_type"] == "primary_school").sum() == 1


@pytest.mark.parametrize("name, data", [
    ("broken.geojson", b"{ this is not json"),
    ("empty.zip", b"PK\x05\x06" + b"\x00" * 18),
    ("nocoords.csv", "名称,地址\n公园,历下区\n".encode()),
])
def test_failed_upload_shows_an_error_and_leaves_the_store(name, data):
    at = open_page("upload")
    import_file(at, "ok.geojson", _geojson_bytes(), "application/geo+json")
    before = store_names()
    layers_before = list(at.session_state[state.MAP_LAYERS] or [])

    import_file(at, name, data, "application/octet-stream", replace=True)
    assert not at.exception
    assert at.error and name in at.error[0].value
    assert store_names() == before
    assert list(at.session_state[state.MAP_LAYERS] or []) == layers_before


def test_zipped_shapefile_upload():
    import geopandas as gpd
    import shapely

    gdf = gpd.GeoDataFrame({"name": ["x"]}, geometry=[shapely.Point(117.0, 36.65)], crs=4326)
    buf = io.BytesIO()
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        gdf.to_file(Path(tmp) / "sites.shp")
        with zipfile.ZipFile(buf, "w") as zf:
            for f in Path(tmp).iterdir():
                zf.write(f, f.name)
    at = open_page("upload")
    import_file(at, "sites.zip", buf.getvalue(), "application/zip")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert uploaded("sites.zip") in store_names()


# --------------------------------------------------------------------------- 规划师修正


def test_a_correction_made_in_the_app_survives_a_rebuild(tmp_path, monkeypatch):
    # a store of its own: the correction changes it
    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(tmp_path))
    from layers.build import build_store, ensure_default_store
    from spatial import store
    from spatial.corrections import read_user_places

    path = ensure_default_store()
    at = open_page("report")
    by_label(at.multiselect, "定位状态").set_value(["unresolved"]).run()
    item = by_label(at.selectbox, "选择条目").value
    by_label(at.number_input, "经度").set_value(117.0).run()
    by_label(at.number_input, "纬度").set_value(36.62).run()
    by_label(at.selectbox, "坐标系").set_value("WGS84").run()
    by_label(at.button, "保存修正").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "已保存修正" in texts(at)
    fixes = read_user_places(path)
    assert fixes is not None and list(fixes["item_id"]) == [item] and fixes.iloc[0]["source_datum"] == "WGS84"
    for _ in range(2):  # as saved, then after `planatlas build` rebuilt the store
        items = store.read_layer("report_items", path=path)
        row = items[items["item_id"] == item].iloc[0]
        assert row["geocode_status"] == "corrected" and abs(row.geometry.x - 117.0) < 1e-9
        build_store(None, path)


# --------------------------------------------------------------------------- imported data and the demo


def test_coverage_page_runs_on_imported_layers_after_a_reload():
    """Imported OSM layers (facilities by type, the store's street network) in a fresh session."""
    from layers.build import ensure_default_store
    from spatial import intake

    osm = Path(__file__).resolve().parent / "data" / "intake_jinan.osm"
    intake.import_osm(osm, store_path=ensure_default_store(), replace="osm_facilities" in store_names())
    at = open_page("coverage")  # a new session after the import: nothing kept in memory
    by_label(at.selectbox, "设施图层").set_value("osm_facilities").run()
    by_label(at.multiselect, "设施类型").set_value(["primary_school", "kindergarten"]).run()
    assert "3 个设施要素" in texts(at)
    by_label(at.selectbox, "服务标准").set_value("gb50180-5min")
    by_label(at.radio, "方法").set_value("network").run()
    assert by_label(at.radio, "街道网络").value == "store"
    by_label(at.button, "运行分析").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    p = at.session_state[state.COVERAGE_RESULT].parameters
    assert p["method"] == "network" and p["n_facilities"] == 3 and "network_walk" in p["network_source"]
    assert 0 < p["covered_km2"] < 3 * 0.3**2 * 3.15  # along streets: less than three 300 m discs
    assert any("network_walk" in c.value for c in at.caption)


def test_the_demo_project_is_labelled_and_runs():
    at = open_page("map")
    by_label(at.sidebar.radio, "项目").set_value("demo").run()
    assert not at.exception
    assert any("演示项目" in i.value for i in at.info)  # the banner at the top of every page
    assert any("演示项目" in c.value for c in at.caption)  # the map's title
    assert "osm_green" in by_label(at.multiselect, "图层").value
    at.switch_page("app_pages/page_coverage.py").run()
    assert any("演示项目" in i.value for i in at.info)
    by_label(at.selectbox, "设施图层").set_value("osm_green")
    by_label(at.selectbox, "服务标准").set_value("park-500m")
    at.run()
    by_label(at.button, "运行分析").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [m.label for m in at.metric][2:] == ["覆盖住宅建筑面积", "住宅建筑面积覆盖率"]  # m², not residents
    assert any("演示项目" in c.value and "不是人数" in c.value for c in at.caption)


def test_a_large_upload_is_drawn_summarised_with_a_note():
    import random

    from tests import inputs

    at = open_page("upload")
    import_file(at, "many.csv", inputs.long_csv(30_000, random.Random(7)), "text/csv")
    assert not at.error, [e.value for e in at.error]
    at.switch_page("app_pages/page_map.py").run()
    assert not at.exception
    assert any("30,000 个要素" in c.value and "网格汇总显示" in c.value for c in at.caption)
    args = folium_args(at)
    assert len(args["feature_group"]) < 10 << 20  # a few MB at most, not hundreds


def test_a_population_raster_of_another_city_is_a_clear_error_not_nan(tmp_path):
    from tests import inputs

    tif = inputs.small_geotiff(tmp_path / "beijing.tif", origin=inputs.RASTER_ORIGINS["beijing"]).read_bytes()
    at = open_page("coverage")
    by_label(at.radio, "人口数据").set_value("geotiff").run()
    at.file_uploader[-1].upload("beijing.tif", tif, "image/tiff")
    at.run()
    by_label(at.button, "运行分析").click().run()
    assert not at.exception
    assert at.error and "beijing.tif" in at.error[0].value and "不重叠" in at.error[0].value
    assert not any("nan" in m.value for m in at.metric)


def test_the_app_heals_a_store_damaged_while_it_runs(data_dir):
    from spatial import store

    at = open_page("map")
    path = data_dir / "planatlas.gpkg"
    path.write_bytes(path.read_bytes()[:40_000])  # cut short under the running app
    at.run()
    assert not at.exception
    assert any("已损坏，已从内置报告离线重建" in w.value for w in at.warning)
    assert "parks" in set(store.list_layers(path)["name"])
    at.run()  # and it stays well, without a restart
    assert not at.exception and not at.error


def test_an_uploaded_raster_left_broken_in_the_cache_is_written_again(data_dir):
    """The cache entry of an upload is reused only when its bytes are whole (a full disk, a killed server)."""
    from app_pages.page_coverage import _save_upload

    class Upload:
        name = "人口.tif"

        def getvalue(self) -> bytes:
            return b"II*\x00" + bytes(range(256)) * 40

    first = _save_upload(Upload(), suffix=".tif")
    assert first.read_bytes() == Upload().getvalue() and first.name == "人口.tif"
    first.write_bytes(first.read_bytes()[:100])  # cut short, as a non-atomic write on a full disk left it
    again = _save_upload(Upload(), suffix=".tif")
    assert again == first and again.read_bytes() == Upload().getvalue()
    assert not [p for p in first.parent.iterdir() if p != first]  # no temporary left beside it
