"""Exports (spatial.io.export) open again and follow their specs (RFC 7946 for GeoJSON)."""

import json
import zipfile

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon

from spatial._errors import InputFileError, StoreError
from spatial.io import export


@pytest.fixture
def layer():
    cw = Polygon([(117.0, 36.6), (117.0, 36.7), (117.1, 36.7), (117.1, 36.6)])  # clockwise exterior
    assert not cw.exterior.is_ccw
    return gpd.GeoDataFrame(
        {"name": ["起步区", "黄河", "趵突泉"], "precision_class": ["approximate", "approximate", "exact"],
         "precision_note": ["a", "b", "c"], "item_ids": [["x"], [], ["y", "z"]]},
        geometry=[cw, LineString([(116.9, 36.7), (117.1, 36.8)]), Point(117.0167, 36.6617)],
        crs="EPSG:4326",
    ).to_crs("EPSG:4548")


def test_geojson_is_rfc7946(tmp_path, layer):
    path = export.export_layer(layer, tmp_path / "l.geojson")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert "crs" not in doc  # RFC 7946 drops the crs member: always WGS-84
    poly = next(f for f in doc["features"] if f["geometry"]["type"] == "Polygon")
    ring = poly["geometry"]["coordinates"][0]
    assert shapely.is_ccw(shapely.LinearRing(ring))
    assert 116 < ring[0][0] < 118  # degrees, not metres
    assert doc["features"][0]["properties"]["name"] == "起步区"


def test_gpkg_kml_csv_roundtrip(tmp_path, layer):
    gpkg = export.export_layer(layer, tmp_path / "l.gpkg", layer="plan")
    assert pyogrio.read_dataframe(gpkg, layer="plan").crs.to_epsg() == 4326
    kml = export.export_layer(layer, tmp_path / "l.kml")
    text = kml.read_text(encoding="utf-8")
    assert "<kml" in text and "<name>趵突泉</name>" in text
    csv = export.export_layer(layer, tmp_path / "l.csv")
    frame = pd.read_csv(csv, encoding="utf-8-sig")
    assert {"lon", "lat", "wkt", "name"} <= set(frame.columns)
    assert frame.loc[frame.name == "趵突泉", "lon"].iloc[0] == pytest.approx(117.0167, abs=1e-6)


def test_shapefile_zip_splits_geometry_families(tmp_path, layer):
    path = export.export_layer(layer, tmp_path / "l.shp", layer="plan")
    assert path.suffix == ".zip"
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
    for fam in ("points", "lines", "polygons"):
        for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            assert f"plan_{fam}{ext}" in names
    assert "plan_fields.csv" in names  # long names were shortened; the mapping travels along
    pts = gpd.read_file(f"zip://{path}!plan_points.shp")
    assert pts["name"].iloc[0] == "趵突泉"
    assert all(len(c.encode()) <= 10 for c in pts.columns)


def test_export_bytes_and_bad_input(tmp_path, layer):
    data, suffix, _ = export.export_bytes(layer, "geojson")
    assert suffix == ".geojson" and json.loads(data)["type"] == "FeatureCollection"
    with pytest.raises(InputFileError, match=r"^未知的导出格式 'dwg'.*geojson, gpkg, shp, kml, csv"):
        export.export_layer(layer, tmp_path / "x.dat", fmt="dwg")
    with pytest.raises(InputFileError, match=r"^无法从文件名 'x\.dat' 判断导出格式"):
        export.export_layer(layer, tmp_path / "x.dat")
    with pytest.raises(StoreError, match=r"^无法写入 .*x\.geojson：文件夹 .*missing 不存在"):
        export.export_layer(layer, tmp_path / "missing" / "x.geojson")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize(("fmt", "expected"), [("JSON", "geojson"), (".shapefile", "shp"), ("GeoPackage", "gpkg")])
def test_format_aliases(fmt, expected):
    assert export.format_for("anything.dat", fmt) == expected
    data, suffix, _ = export.export_bytes(
        gpd.GeoDataFrame({"name": ["趵突泉"]}, geometry=[Point(117.0167, 36.6617)], crs="EPSG:4326"), fmt)
    assert suffix == export.FORMATS[expected][0] and data


def test_csv_cells_cannot_run_as_spreadsheet_formulas(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"name": ['=HYPERLINK("http://x","y")', "@SUM(A1)", "-3.5", "济西湿地"]},
        geometry=[Point(117.0, 36.6)] * 4, crs="EPSG:4326",
    )
    frame = pd.read_csv(export.export_layer(gdf, tmp_path / "x.csv"), encoding="utf-8-sig", dtype=str)
    assert frame["name"].tolist() == ["'=HYPERLINK(\"http://x\",\"y\")", "'@SUM(A1)", "-3.5", "济西湿地"]


def test_csv_header_cells_cannot_run_as_formulas_either(tmp_path):
    # regression: a column named "=cmd|..." reached the spreadsheet's first row as a formula
    gdf = gpd.GeoDataFrame({'=HYPERLINK("http://x")': ["a"], "+A1": ["b"], "名称": ["c"]},
                           geometry=[Point(117.0, 36.6)], crs="EPSG:4326")
    header = export.export_layer(gdf, tmp_path / "h.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.startswith("\"'=HYPERLINK(\"\"http://x\"\")\",'+A1,名称,")


@pytest.mark.parametrize("column", ["a&b", 'say "hi"', "<tag>", "it's", "tab\there"])
def test_kml_with_xml_characters_in_column_names_is_well_formed(column):
    import xml.etree.ElementTree as ET

    from spatial._errors import PlanatlasWarning

    gdf = gpd.GeoDataFrame({"name": ["趵突泉 & 大明湖"], column: ["值 <1>"]}, geometry=[Point(117.0, 36.6)],
                           crs="EPSG:4326")
    with pytest.warns(PlanatlasWarning, match="KML 的字段名不能含"):
        data, _, _ = export.export_bytes(gdf, "kml", layer="a&b <c>")
    root = ET.fromstring(data)  # regression: "not well-formed" with & " < in a column name
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    assert [e.text for e in root.iterfind(".//k:Placemark/k:name", ns)] == ["趵突泉 & 大明湖"]
    assert [e.text for e in root.iterfind(".//k:SimpleData", ns)] == ["值 <1>"]
    assert b"planatlas-" not in data  # the layer is named by the layer, not by a temporary file


def test_shapefile_long_text_is_cut_on_a_character_and_kept_whole_beside_it(tmp_path):
    import io

    from spatial._errors import PlanatlasWarning

    long = "济南黄河生态风貌带" * 40  # 360 characters, 1,080 bytes of UTF-8
    gdf = gpd.GeoDataFrame({"name": ["短", long]}, geometry=[Point(117.0, 36.6)] * 2, crs="EPSG:4326")
    said = r"1 个文字值 \(列 name\) 已截断，完整文字见压缩包中的 places_long_text.csv"
    with pytest.warns(PlanatlasWarning, match=said):
        data, _, _ = export.export_bytes(gdf, "shp", layer="places")
    zf = zipfile.ZipFile(io.BytesIO(data))
    (tmp_path / "z").mkdir()
    zf.extractall(tmp_path / "z")
    back = gpd.read_file(tmp_path / "z" / "places.shp", encoding="utf-8")
    cut = back["name"].iloc[1]
    assert long.startswith(cut) and len(cut.encode("utf-8")) <= 254 and len(cut) == 84  # whole characters
    whole = pd.read_csv(io.BytesIO(zf.read("places_long_text.csv")), encoding="utf-8-sig")
    assert whole.to_dict("records") == [{"row": 1, "field": "name", "text": long}]
