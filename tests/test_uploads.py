"""Tests of spatial.io's reading of user files: every case is built in tmp_path from real libraries.

Each refused file must raise the right planatlas error with a one-line
message, Chinese first with English in brackets, naming the file; and no call
may leave anything in the temporary folder (tempfile is pointed at a folder of
the test's own, which must be empty afterwards).

The last part proves that GDAL never picks a reader from the content: a VRT
or a GDALG pipeline that would read /etc/passwd, and KML, GPX or GML files
renamed .geojson, are refused, bare or inside a zip, and nothing of the file
they point at comes back.
"""

from __future__ import annotations

import io
import json
import os
import re
import sqlite3
import stat
import tempfile
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon

from spatial import datum
from spatial._errors import CRSError, DatumError, EmptyLayerError, InputFileError, PlanatlasError
from spatial.io import SUPPORTED_UPLOADS, UploadResult, _limits, describe_limits, list_layers, read_upload
from tests import inputs

# A few places in Jinan, WGS-84 (planatlas team estimate from public map knowledge;
# only their being in Jinan matters to these tests).
JINAN = {
    "泉城广场": (117.0195, 36.6616),
    "济南站": (116.9886, 36.6703),
    "大明湖": (117.0236, 36.6747),
}


@pytest.fixture(autouse=True)
def temp_watch(tmp_path, monkeypatch):
    """Point tempfile at an empty folder and check it is empty again after the test."""
    sys_tmp = tmp_path / "sys_tmp"
    sys_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(sys_tmp))
    yield sys_tmp
    left = sorted(os.listdir(sys_tmp))
    assert left == [], f"temporary files left behind: {left}"


@pytest.fixture
def work(tmp_path):
    """Folder where the test builds its input files."""
    folder = tmp_path / "in"
    folder.mkdir()
    return folder


def places_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": list(JINAN), "rank": [1, 2, 3]},
        geometry=[Point(xy) for xy in JINAN.values()],
        crs="EPSG:4326",
    )


def park_polygon(dx: float = 0.0) -> Polygon:
    x, y = JINAN["大明湖"]
    return Polygon([(x + dx, y), (x + dx + 0.01, y), (x + dx + 0.01, y + 0.008), (x + dx, y + 0.008)])


_CJK = re.compile(r"[\u4e00-\u9fff]")


def chinese_first(text: str) -> bool:
    """Chinese text, then the English in brackets at the end."""
    cjk = _CJK.search(text)
    return bool(cjk) and text.endswith(")") and cjk.start() < text.rfind(" (")


def refused(exc_info, cls):
    """The error is of the class asked for, its message one line, Chinese first."""
    assert isinstance(exc_info.value, cls)
    assert isinstance(exc_info.value, PlanatlasError)
    msg = str(exc_info.value)
    assert msg and "\n" not in msg
    assert "planatlas-upload-" not in msg  # never the temporary path
    assert chinese_first(msg), msg
    return msg


def noted(result, *words) -> list[str]:
    """The warnings holding every one of ``words``; all warnings must be Chinese first."""
    assert all(chinese_first(w) for w in result.warnings), result.warnings
    return [w for w in result.warnings if all(word in w for word in words)]


def shapefile_zip(work: Path, gdf: gpd.GeoDataFrame, *, stem="parks", drop=(), encoding=None,
                  cpg: str | None = None, folder: str = "") -> bytes:
    """Zip a shapefile written by pyogrio, optionally without some of its parts."""
    shp_dir = work / f"shp_{stem}"
    shp_dir.mkdir(exist_ok=True)
    gdf.to_file(shp_dir / f"{stem}.shp", encoding=encoding, engine="pyogrio")
    if cpg is None:
        (shp_dir / f"{stem}.cpg").unlink(missing_ok=True)
    else:
        (shp_dir / f"{stem}.cpg").write_text(cpg)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for part in sorted(shp_dir.iterdir()):
            if part.suffix.lower() not in drop:
                zf.write(part, arcname=folder + part.name)
    return buf.getvalue()


def csv_bytes(rows: list[dict], *, encoding="utf-8") -> bytes:
    return pd.DataFrame(rows).to_csv(index=False).encode(encoding)


# --------------------------------------------------------------------------- round trips


def test_geojson_round_trip_keeps_geometry_and_chinese_text(work):
    gdf = gpd.GeoDataFrame({"名称": ["大明湖公园", "泉城公园"], "area_ha": [103.4, 20.0]},
                           geometry=[park_polygon(), park_polygon(0.05)], crs="EPSG:4326")
    gdf.to_file(work / "parks.geojson", driver="GeoJSON", engine="pyogrio")
    result = read_upload((work / "parks.geojson").read_bytes(), filename="parks.geojson")
    assert isinstance(result, UploadResult)
    assert result.format == "geojson" and result.source_name == "parks.geojson"
    assert result.source_datum == "WGS84" and result.n_features == 2
    assert result.frame.crs.to_epsg() == 4326
    assert list(result.frame["名称"]) == ["大明湖公园", "泉城公园"]
    assert shapely.equals_exact(result.frame.geometry.values, gdf.geometry.values, tolerance=1e-9).all()
    assert result.warnings == []


def test_path_input_is_read_and_left_untouched(work):
    path = work / "places.geojson"
    places_frame().to_file(path, driver="GeoJSON", engine="pyogrio")
    before = sorted(os.listdir(work))
    result = read_upload(path)
    assert result.source_name == "places.geojson" and result.n_features == 3
    assert sorted(os.listdir(work)) == before


def test_file_object_input(work):
    places_frame().to_file(work / "p.geojson", driver="GeoJSON", engine="pyogrio")
    result = read_upload(io.BytesIO((work / "p.geojson").read_bytes()), filename="p.geojson")
    assert result.n_features == 3


def test_geopackage_layers_listed_and_chosen(work):
    path = work / "plan.gpkg"
    places_frame().to_file(path, layer="places", engine="pyogrio")
    gpd.GeoDataFrame({"n": [1]}, geometry=[park_polygon()], crs="EPSG:4326").to_file(
        path, layer="parks", engine="pyogrio")
    data = path.read_bytes()
    assert list_layers(data, filename="plan.gpkg") == ["places", "parks"]
    first = read_upload(data, filename="plan.gpkg")
    assert first.layer == "places" and first.n_features == 3
    assert noted(first, "plan.gpkg", "2 个图层", "layer=")
    parks = read_upload(data, filename="plan.gpkg", layer="parks")
    assert parks.layer == "parks" and parks.frame.geom_type.tolist() == ["Polygon"]
    with pytest.raises(InputFileError) as exc:
        read_upload(data, filename="plan.gpkg", layer="roads")
    msg = refused(exc, InputFileError)
    assert "没有图层 roads" in msg and "places, parks" in msg


def test_geopackage_in_projected_crs_is_reprojected(work):
    metric = places_frame().to_crs("EPSG:4548")
    metric.to_file(work / "m.gpkg", engine="pyogrio")
    result = read_upload(work / "m.gpkg")
    assert result.frame.crs.to_epsg() == 4326
    xy = shapely.get_coordinates(result.frame.geometry.values)
    assert np.allclose(xy, np.array(list(JINAN.values())), atol=1e-7)
    assert noted(result, "m.gpkg", "EPSG:4548", "WGS-84 经纬度")


def test_zipped_shapefile_round_trip_in_a_subfolder(work):
    gdf = places_frame()
    data = shapefile_zip(work, gdf, cpg="UTF-8", folder="export/")
    assert list_layers(data, filename="places.zip") == ["export/parks"]
    result = read_upload(data, filename="places.zip")
    assert result.format == "shapefile" and result.layer == "export/parks"
    assert list(result.frame["name"]) == list(JINAN)
    assert shapely.equals_exact(result.frame.geometry.values, gdf.geometry.values, tolerance=1e-9).all()


def test_shp_path_reads_its_sidecars(work):
    places_frame().to_file(work / "places.shp", engine="pyogrio")
    result = read_upload(work / "places.shp")
    assert result.format == "shapefile" and result.n_features == 3


@pytest.mark.parametrize(
    ("lon", "lat"),
    [("lon", "lat"), ("Longitude", "LATITUDE"), ("经度", "纬度"), ("lng", "lat"), ("X", "y")],
)
def test_csv_coordinate_columns_detected(lon, lat):
    rows = [{"name": n, lon: xy[0], lat: xy[1]} for n, xy in JINAN.items()]
    result = read_upload(csv_bytes(rows), filename="pts.csv")
    assert result.format == "csv"
    assert list(result.frame.columns) == ["name", "geometry"]
    assert np.allclose(shapely.get_coordinates(result.frame.geometry.values), list(JINAN.values()))


def test_csv_explicit_columns_and_text_kept_as_text():
    rows = [{"code": "0531", "E": xy[0], "N": xy[1]} for xy in JINAN.values()]
    result = read_upload(csv_bytes(rows), filename="pts.csv", lon_col="E", lat_col="N")
    assert result.frame["code"].tolist() == ["0531"] * 3  # leading zero of the area code survives
    with pytest.raises(InputFileError) as exc:
        read_upload(csv_bytes(rows), filename="pts.csv", lon_col="E")
    assert "lon_col" in refused(exc, InputFileError)


def test_csv_gbk_from_excel_is_decoded_and_reported():
    rows = [{"名称": n, "经度": xy[0], "纬度": xy[1]} for n, xy in JINAN.items()]
    result = read_upload(csv_bytes(rows, encoding="gbk"), filename="excel.csv")
    assert list(result.frame["名称"]) == list(JINAN)
    assert noted(result, "excel.csv", "GBK", "编码")


# --------------------------------------------------------------------------- datums


@pytest.mark.parametrize(("given", "canonical", "lon_name"), [("GCJ-02", "GCJ02", "lon"), ("baidu", "BD09", "lng")])
def test_chinese_datum_csv_converted_to_wgs84(given, canonical, lon_name):
    wgs = np.array(list(JINAN.values()))
    s_lon, s_lat = datum.convert(wgs[:, 0], wgs[:, 1], source="WGS84", target=canonical)
    rows = [{"name": n, lon_name: a, "lat": b} for n, a, b in zip(JINAN, s_lon, s_lat, strict=True)]
    result = read_upload(csv_bytes(rows), filename="web.csv", datum=given)
    assert result.source_datum == canonical
    xy = shapely.get_coordinates(result.frame.geometry.values)
    expected = np.column_stack(datum.convert(s_lon, s_lat, source=canonical, target="WGS84"))
    assert np.allclose(xy, expected, atol=1e-9)
    # and the conversion moved the points by the Jinan offset (hundreds of metres)
    assert (datum.shift_metres(s_lon, s_lat, source=canonical, target="WGS84") > 100).all()
    assert np.allclose(xy, wgs, atol=1e-6)


def test_amap_location_column():
    wgs = np.array(list(JINAN.values()))
    g_lon, g_lat = datum.wgs84_to_gcj02(wgs[:, 0], wgs[:, 1])
    rows = [{"name": n, "location": f"{a:.6f},{b:.6f}", "type": "风景名胜"}
            for n, a, b in zip(JINAN, g_lon, g_lat, strict=True)]
    rows.append({"name": "无坐标", "location": "", "type": "x"})
    result = read_upload(csv_bytes(rows), filename="amap_poi.csv", datum="amap")
    assert result.n_features == 3
    assert "location" not in result.frame.columns
    assert np.allclose(shapely.get_coordinates(result.frame.geometry.values), wgs, atol=1e-5)
    assert noted(result, "amap_poi.csv", "1 行", "location", "表格第 5 行")
    assert noted(result, "amap_poi.csv", "删除了 1 个")


def test_unknown_datum_refused_before_reading():
    with pytest.raises(DatumError) as exc:
        read_upload(b"whatever", filename="pts.csv", datum="Xian80")
    msg = refused(exc, DatumError)
    assert "Xian80" in msg and "坐标系" in msg


# --------------------------------------------------------------------------- implausible coordinates


def test_swapped_csv_columns_suggest_the_swap():
    rows = [{"name": n, "lon": xy[1], "lat": xy[0]} for n, xy in JINAN.items()]
    with pytest.raises(InputFileError) as exc:
        read_upload(csv_bytes(rows), filename="swapped.csv")
    msg = refused(exc, InputFileError)
    assert "swapped.csv" in msg and "颠倒" in msg and "3 个要素中有 3 个" in msg and "lon_col" in msg


def test_swapped_geojson_axes(work):
    feats = [{"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [y, x]}}
             for x, y in JINAN.values()]
    data = json.dumps({"type": "FeatureCollection", "features": feats}).encode()
    with pytest.raises(InputFileError) as exc:
        read_upload(data, filename="yx.geojson")
    msg = refused(exc, InputFileError)
    assert "yx.geojson" in msg and "颠倒" in msg


def test_outside_china_refused_unless_allowed():
    helsinki = [{"name": "Rautatientori", "lon": 24.9440, "lat": 60.1710}]
    with pytest.raises(InputFileError) as exc:
        read_upload(csv_bytes(helsinki), filename="hki.csv")
    msg = refused(exc, InputFileError)
    assert "hki.csv" in msg and "中国境外" in msg and "1 个要素中有 1 个" in msg
    assert "72" in msg and "137.8" in msg and "allow_outside_china" in msg
    ok = read_upload(csv_bytes(helsinki), filename="hki.csv", allow_outside_china=True)
    assert ok.n_features == 1


def test_metres_labelled_as_degrees_is_a_crs_error():
    metric = places_frame().to_crs("EPSG:4548")
    rows = [{"x": p.x, "y": p.y} for p in metric.geometry]
    with pytest.raises(CRSError) as exc:
        read_upload(csv_bytes(rows), filename="xy.csv")
    msg = refused(exc, CRSError)
    assert "xy.csv" in msg and "不是经纬度" in msg
    ok = read_upload(csv_bytes(rows), filename="xy.csv", assume_crs="EPSG:4548")
    assert np.allclose(shapely.get_coordinates(ok.frame.geometry.values), list(JINAN.values()), atol=1e-7)


# --------------------------------------------------------------------------- size and zip safety


def test_size_limit_checked_first(work):
    data = b"x" * 2_000_000
    with pytest.raises(InputFileError) as exc:
        read_upload(data, filename="big.geojson", max_bytes=1024 * 1024)
    msg = refused(exc, InputFileError)
    assert "big.geojson" in msg and "上限 1 MB" in msg and "1.9 MB" in msg
    path = work / "big.csv"
    path.write_bytes(data)
    with pytest.raises(InputFileError):
        read_upload(path, max_bytes=1024 * 1024)
    assert "50 MB" in describe_limits()
    assert set(SUPPORTED_UPLOADS) >= {".geojson", ".json", ".gpkg", ".zip", ".csv"}


_zip_with = inputs.zip_of


@pytest.mark.parametrize("member", ["../evil.shp", "shp/../../evil.shp", "/abs.shp", "C:/evil.shp",
                                    "..\\evil.shp"])
def test_zip_slip_refused(member, temp_watch):
    with pytest.raises(InputFileError) as exc:
        read_upload(_zip_with({member: b"x", "ok.txt": b"y"}), filename="evil.zip")
    msg = refused(exc, InputFileError)
    assert "evil.zip 不安全" in msg and member.replace("\\", "/").rsplit("/", 1)[-1] in msg
    assert not (temp_watch.parent / "evil.shp").exists()


def test_zip_symlink_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("link.shp")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(InputFileError) as exc:
        read_upload(buf.getvalue(), filename="link.zip")
    msg = refused(exc, InputFileError)
    assert "link.zip 不安全" in msg and "link.shp" in msg and "符号链接" in msg


def test_zip_bomb_ratio_refused():
    data = _zip_with({"bomb.dbf": b"\x00" * (20 * 1024 * 1024)})
    assert len(data) < 100_000  # small upload, huge content
    with pytest.raises(InputFileError) as exc:
        read_upload(data, filename="bomb.zip")
    msg = refused(exc, InputFileError)
    assert "bomb.zip" in msg and "zip 炸弹" in msg and "bomb.dbf" in msg and "100:1" in msg


def test_zip_member_count_and_total_caps(monkeypatch):
    n = _limits.ZIP_MAX_MEMBERS + 1
    many = _zip_with({f"f{i}.txt": b"x" for i in range(n)})
    with pytest.raises(InputFileError) as exc:
        read_upload(many, filename="many.zip")
    msg = refused(exc, InputFileError)
    assert f"many.zip 含 {n} 个文件" in msg and f"最多 {_limits.ZIP_MAX_MEMBERS} 个" in msg
    monkeypatch.setattr(_limits, "ZIP_MAX_TOTAL_BYTES", 1000)
    with pytest.raises(InputFileError) as exc:
        read_upload(_zip_with({"a.csv": os.urandom(800), "b.csv": os.urandom(800)}), filename="two.zip")
    assert "two.zip 解压后" in refused(exc, InputFileError)


def test_zip_with_nothing_readable():
    with pytest.raises(InputFileError) as exc:
        read_upload(_zip_with({"readme.txt": b"hello"}), filename="docs.zip")
    msg = refused(exc, InputFileError)
    assert "docs.zip" in msg and "没有 Shapefile" in msg


# --------------------------------------------------------------------------- shapefile parts and text


def test_missing_prj_needs_assume_crs(work):
    data = shapefile_zip(work, places_frame(), drop={".prj"})
    with pytest.raises(CRSError) as exc:
        read_upload(data, filename="noprj.zip")
    msg = refused(exc, CRSError)
    assert "noprj.zip" in msg and "缺少 .prj" in msg and "assume_crs" in msg
    ok = read_upload(data, filename="noprj.zip", assume_crs="EPSG:4326")
    assert ok.n_features == 3 and ok.frame.crs.to_epsg() == 4326


@pytest.mark.parametrize(("part", "word"), [(".dbf", "属性表"), (".shx", "索引"), (".shp", "几何")])
def test_missing_shapefile_part_named(work, part, word):
    data = shapefile_zip(work, places_frame(), drop={part})
    with pytest.raises(InputFileError) as exc:
        read_upload(data, filename="parts.zip")
    msg = refused(exc, InputFileError)
    assert "parts.zip" in msg and "不完整" in msg and f"缺少 {part} ({word})" in msg


@pytest.mark.parametrize(
    ("cpg", "words"),
    [
        ("936", None),  # the .cpg is right: nothing to say
        (None, ("没有 .cpg", "GBK")),  # no .cpg: guessed, and said so
        ("UTF-8", (".cpg 写明 utf-8", "GBK")),  # a wrong .cpg: the text decides, and that is said
    ],
)
def test_gbk_dbf_decoded_whatever_the_cpg_says(work, cpg, words):
    gdf = places_frame().rename(columns={"name": "名称"})
    result = read_upload(shapefile_zip(work, gdf, encoding="gbk", cpg=cpg), filename="gbk.zip")
    assert list(result.frame["名称"]) == list(JINAN)
    if words is None:
        assert not noted(result, "编码")
    else:
        assert noted(result, "gbk.zip", *words)


# --------------------------------------------------------------------------- geometry checks


def test_bow_tie_repaired_and_reported(work):
    x, y = JINAN["泉城广场"]
    bow = Polygon([(x, y), (x + 0.01, y + 0.01), (x + 0.01, y), (x, y + 0.01)])
    assert not bow.is_valid
    gdf = gpd.GeoDataFrame({"name": ["bow", "ok"]}, geometry=[bow, park_polygon()], crs="EPSG:4326")
    gdf.to_file(work / "bow.gpkg", engine="pyogrio")
    result = read_upload(work / "bow.gpkg")
    assert result.frame.is_valid.all()
    assert result.frame.geom_type.tolist() == ["MultiPolygon", "Polygon"]
    assert result.frame.geometry.iloc[0].area == pytest.approx(0.01 * 0.01 / 2)  # two triangles
    assert noted(result, "bow.gpkg", "修复 1 个无效几何")


def test_mixed_geometry_types_reported():
    feats = [
        {"type": "Feature", "properties": {"k": 1},
         "geometry": shapely.geometry.mapping(Point(JINAN["济南站"]))},
        {"type": "Feature", "properties": {"k": 2},
         "geometry": shapely.geometry.mapping(LineString(list(JINAN.values())))},
        {"type": "Feature", "properties": {"k": 3}, "geometry": shapely.geometry.mapping(park_polygon())},
        {"type": "Feature", "properties": {"k": 4}, "geometry": None},
    ]
    data = json.dumps({"type": "FeatureCollection", "features": feats}).encode()
    result = read_upload(data, filename="mixed.geojson")
    assert result.n_features == 3
    mixed = noted(result, "mixed.geojson", "几何类型混合")
    assert len(mixed) == 1 and "点 1 个" in mixed[0] and "线 1 个" in mixed[0] and "面 1 个" in mixed[0]
    assert noted(result, "mixed.geojson", "删除了 1 个没有几何的要素")


def test_empty_layers(work):
    empty = json.dumps({"type": "FeatureCollection", "features": []}).encode()
    with pytest.raises(EmptyLayerError) as exc:
        read_upload(empty, filename="empty.geojson")
    msg = refused(exc, EmptyLayerError)
    assert "empty.geojson" in msg and "没有要素" in msg
    places_frame().iloc[:0].to_file(work / "e.gpkg", engine="pyogrio")
    with pytest.raises(EmptyLayerError) as exc:
        read_upload(work / "e.gpkg")
    refused(exc, EmptyLayerError)
    nulls = json.dumps({"type": "FeatureCollection",
                        "features": [{"type": "Feature", "properties": {"a": 1}, "geometry": None}]}).encode()
    with pytest.raises(EmptyLayerError) as exc:
        read_upload(nulls, filename="nulls.geojson")
    assert "nulls.geojson 的 1 个要素都没有几何" in refused(exc, EmptyLayerError)


def test_geopackage_without_crs(work):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pyogrio warns that no CRS is written
        places_frame().set_crs(None, allow_override=True).to_file(work / "nocrs.gpkg", engine="pyogrio")
    with pytest.raises(CRSError) as exc:
        read_upload(work / "nocrs.gpkg")
    msg = refused(exc, CRSError)
    assert "nocrs.gpkg" in msg and "没有声明坐标系" in msg and "assume_crs" in msg
    ok = read_upload(work / "nocrs.gpkg", assume_crs=4326)
    assert ok.n_features == 3
    with pytest.raises(CRSError) as exc:
        read_upload(work / "nocrs.gpkg", assume_crs="not a crs")
    assert "not a crs" in refused(exc, CRSError)


# --------------------------------------------------------------------------- columns


def test_duplicate_and_control_character_columns():
    text = "name,Name,name,lon,lat,\x1b[31mred\x1b[0m\u202e\n" + "\n".join(
        f"a,b,c,{x},{y},r" for x, y in JINAN.values())
    result = read_upload(text.encode(), filename="dupes.csv")
    assert list(result.frame.columns) == ["name", "Name_2", "name_3", "red", "geometry"]
    assert result.frame["name_3"].tolist() == ["c"] * 3
    assert noted(result, "dupes.csv", "重名的列已改名", "'Name' -> 'Name_2'")
    assert noted(result, "dupes.csv", "控制字符", "red")


def test_attribute_named_geometry_is_renamed():
    rows = [{"geometry": "point", "lon": x, "lat": y} for x, y in JINAN.values()]
    result = read_upload(csv_bytes(rows), filename="g.csv")
    assert list(result.frame.columns) == ["geometry_2", "geometry"]


def test_wkt_column_read():
    rows = [{"id": 1, "wkt": park_polygon().wkt}, {"id": 2, "wkt": "POLYGON ((broken"}]
    result = read_upload(csv_bytes(rows), filename="wkt.csv")
    assert result.n_features == 1
    assert result.frame.geometry.iloc[0].equals(park_polygon())
    assert noted(result, "wkt.csv", "1 行", "无法解析为 WKT", "表格第 3 行")


# --------------------------------------------------------------------------- broken files


@pytest.mark.parametrize(
    "filename",
    ["garbage.geojson", "garbage.json", "garbage.gpkg", "garbage.zip", "garbage.csv", "garbage.kml"],
)
def test_garbage_bytes(filename):
    blob = bytes(range(256)) * 8
    with pytest.raises(InputFileError) as exc:
        read_upload(blob, filename=filename)
    assert filename in refused(exc, InputFileError)


def test_truncated_geojson_names_the_file():
    data = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [117.0, 36.6]}}
    ]}).encode()[:-20]
    with pytest.raises(InputFileError) as exc:
        read_upload(data, filename="cut.geojson")
    msg = refused(exc, InputFileError)
    assert msg.startswith("无法读取 cut.geojson") and "cannot read cut.geojson" in msg


def test_csv_without_coordinates():
    with pytest.raises(InputFileError) as exc:
        read_upload(csv_bytes([{"name": "a", "addr": "经十路"}]), filename="addr.csv")
    msg = refused(exc, InputFileError)
    assert "addr.csv" in msg and "找不到坐标列" in msg and "name, addr" in msg and "lon_col" in msg


def test_user_filename_is_never_a_path(temp_watch):
    places = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [117.0, 36.6]}}
    ]}).encode()
    result = read_upload(places, filename="../../etc/evil\x07.geojson")
    assert result.source_name == "evil.geojson"
    assert not (temp_watch.parent.parent / "etc").exists()


# --------------------------------------------------------------------------- more real-world shapes


class _GbkNamedInfo(zipfile.ZipInfo):
    """Member whose name is stored in GBK without the UTF-8 flag, as Chinese Windows zip tools do."""

    def _encodeFilenameFlags(self):  # zipfile's hook for the stored name bytes
        return self.filename.encode("gbk"), self.flag_bits


def test_zip_member_names_in_gbk(work):
    shp_dir = work / "gbk_names"
    shp_dir.mkdir()
    places_frame().to_file(shp_dir / "车站.shp", engine="pyogrio")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for part in sorted(shp_dir.iterdir()):
            zf.writestr(_GbkNamedInfo(part.name), part.read_bytes())
    data = buf.getvalue()
    assert all(not i.filename.startswith("车站") for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
    assert list_layers(data, filename="stations.zip") == ["车站"]
    assert read_upload(data, filename="stations.zip").layer == "车站"


def test_zip_with_two_shapefiles_and_layer_choice(work):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for stem, gdf in {"parks": gpd.GeoDataFrame({"n": [1]}, geometry=[park_polygon()], crs="EPSG:4326"),
                          "places": places_frame()}.items():
            d = work / stem
            d.mkdir()
            gdf.to_file(d / f"{stem}.shp", engine="pyogrio")
            for part in d.iterdir():
                # upper-case extensions, as some desktop GIS write them
                zf.write(part, arcname=f"{stem}{part.suffix.upper()}")
    data = buf.getvalue()
    first = read_upload(data, filename="both.zip")
    assert first.layer == "parks" and noted(first, "both.zip", "2 个图层", "已读取 parks")
    chosen = read_upload(data, filename="both.zip", layer="places")
    assert chosen.n_features == 3
    with pytest.raises(InputFileError) as exc:
        read_upload(data, filename="both.zip", layer="roads")
    msg = refused(exc, InputFileError)
    assert "both.zip 中没有图层 roads" in msg and "parks, places" in msg


def test_bare_shp_bytes_refused_with_advice():
    with pytest.raises(InputFileError) as exc:
        read_upload(b"\x00\x00\x27\x0a" + b"\x00" * 96, filename="roads.shp")
    msg = refused(exc, InputFileError)
    assert "roads.shp" in msg and "单独的 .shp" in msg and ".shx" in msg


def test_geojson_with_projected_crs_member_and_heights(work):
    gdf = places_frame().to_crs("EPSG:4548")
    gdf["geometry"] = shapely.force_3d(gdf.geometry.values, z=42.0)
    gdf.to_file(work / "m.geojson", driver="GeoJSON", engine="pyogrio")  # old-style "crs" member
    assert "4548" in (work / "m.geojson").read_text()
    result = read_upload(work / "m.geojson")
    assert not result.frame.has_z.any()
    assert np.allclose(shapely.get_coordinates(result.frame.geometry.values), list(JINAN.values()), atol=1e-7)
    assert noted(result, "m.geojson", "Z 值")


def test_gcj02_polygons_converted_vertex_by_vertex(work):
    gcj = datum.convert_geometry(park_polygon(), source="WGS84", target="GCJ02")
    gpd.GeoDataFrame({"n": [1]}, geometry=[gcj], crs="EPSG:4326").to_file(
        work / "amap.geojson", driver="GeoJSON", engine="pyogrio")
    result = read_upload(work / "amap.geojson", datum="GCJ02")
    back = result.frame.geometry.iloc[0]
    assert back.equals_exact(datum.convert_geometry(gcj, source="GCJ02", target="WGS84"), tolerance=1e-12)
    assert back.equals_exact(park_polygon(), tolerance=1e-7)
    assert not gcj.equals_exact(park_polygon(), tolerance=1e-4)  # the offset was real


def test_csv_ragged_rows_and_encoding_override():
    text = "名稱,lon,lat\n甲,117.0,36.6,extra\n乙,117.1,36.7\n"
    result = read_upload(text.encode("big5"), filename="tw.csv", encoding="big5")
    assert result.frame["名稱"].tolist() == ["甲", "乙"]
    assert noted(result, "tw.csv", "1 行的值多于表头", "表格第 2 行")
    with pytest.raises(InputFileError) as exc:
        read_upload(text.encode("utf-8"), filename="tw.csv", encoding="no-such-codec")
    assert "no-such-codec" in refused(exc, InputFileError)


def test_damaged_geopackage_is_one_line_and_warning_free():
    blob = b"SQLite format 3\x00" + b"\x01" * 4000
    with pytest.raises(InputFileError) as exc:
        read_upload(blob, filename="broken.gpkg")
    msg = refused(exc, InputFileError)
    assert "broken.gpkg" in msg and "不是 GeoPackage" in msg


def test_uploaded_file_object_too_large_is_not_read():
    class Uploaded:  # what Streamlit's UploadedFile offers
        size = 80 * 1024 * 1024

        def getvalue(self):
            raise AssertionError("read before the size was checked")

    with pytest.raises(InputFileError) as exc:
        read_upload(Uploaded(), filename="huge.zip")
    msg = refused(exc, InputFileError)
    assert "huge.zip" in msg and "80 MB" in msg and "上限 50 MB" in msg


def test_dbf_with_repeated_field_name_keeps_both_columns(work):
    gdf = gpd.GeoDataFrame({"AAAA": ["first"], "BBBB": ["second"]},
                           geometry=[Point(JINAN["济南站"])], crs="EPSG:4326")
    gdf.to_file(work / "dup.shp", engine="pyogrio")
    dbf = bytearray((work / "dup.dbf").read_bytes())
    at = dbf.index(b"BBBB")
    dbf[at:at + 4] = b"AAAA"  # two fields named AAAA, as truncating tools produce
    (work / "dup.dbf").write_bytes(bytes(dbf))
    result = read_upload(work / "dup.shp")
    assert result.frame[["AAAA", "AAAA_2"]].iloc[0].tolist() == ["first", "second"]
    assert noted(result, "dup.shp", "重名的列已改名", "'AAAA' -> 'AAAA_2'")


def test_geojson_inside_a_zip_and_case_duplicate_keys():
    feature = {"type": "Feature", "properties": {"name": "a", "NAME": "b"},
               "geometry": {"type": "Point", "coordinates": list(JINAN["泉城广场"])}}
    inner = json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()
    result = read_upload(_zip_with({"data/square.geojson": inner}), filename="square.zip")
    assert result.format == "geojson" and result.layer == "data/square"
    assert result.frame[["name", "NAME_2"]].iloc[0].tolist() == ["a", "b"]


def test_describe_limits_in_both_languages():
    en = describe_limits(max_bytes=5 * 2**20)
    zh = describe_limits(max_bytes=5 * 2**20, lang="zh")
    assert "5 MB" in en and "GCJ-02" in en
    assert "5 MB" in zh and "高德" in zh and "坐标系" in zh


# --------------------------------------------------------------------------- one driver per extension

PASSWD = inputs.PASSWD
needs_passwd = pytest.mark.skipif(not PASSWD.is_file(), reason="needs /etc/passwd to point at")

PASSWD_VRT = inputs.PASSWD_VRT
PASSWD_GDALG = inputs.PASSWD_GDALG
FOREIGN_XML = inputs.FOREIGN_XML
passwd_secrets = inputs.passwd_secrets


def assert_nothing_of_passwd(text: str) -> None:
    for line in passwd_secrets():
        assert line not in text
    assert "root:x:" not in text and "/bin/bash" not in text and "nologin" not in text


@needs_passwd
def test_the_vrt_and_gdalg_files_really_read_passwd_when_gdal_chooses(work):
    # the control for the tests below: left to pick its own driver, GDAL
    # serves the server's /etc/passwd from a file named .geojson
    for blob in (PASSWD_VRT, PASSWD_GDALG):
        path = work / "innocent.geojson"
        path.write_bytes(blob)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            leaked = pyogrio.read_dataframe(path, read_geometry=False)
        assert any("root:" in str(c) for c in leaked.columns) or "root:" in leaked.to_string()


@needs_passwd
@pytest.mark.parametrize("filename", ["stations.geojson", "stations.json", "stations"])
def test_vrt_named_geojson_is_refused(filename):
    with pytest.raises(InputFileError) as exc:
        read_upload(PASSWD_VRT, filename=filename)
    msg = refused(exc, InputFileError)
    assert filename in msg and "OGR VRT" in msg
    assert_nothing_of_passwd(msg)


@needs_passwd
def test_vrt_named_geojson_is_refused_as_a_path_and_by_list_layers(work):
    path = work / "stations.geojson"
    path.write_bytes(PASSWD_VRT)
    for call in (read_upload, list_layers):
        with pytest.raises(InputFileError) as exc:
            call(path)
        msg = refused(exc, InputFileError)
        assert "stations.geojson 不是 GeoJSON" in msg and "VRT" in msg
        assert_nothing_of_passwd(msg)


@needs_passwd
@pytest.mark.parametrize(
    ("members", "shown"),
    [
        ({"data/stations.geojson": PASSWD_VRT}, "stations.zip:data/stations"),
        ({"stations.json": PASSWD_GDALG}, "stations.zip:stations"),
        # a "shapefile" whose parts are a VRT: GDAL's shapefile driver declines
        # a .shp without its file code, and the VRT driver would take it
        ({"stations.shp": PASSWD_VRT, "stations.shx": PASSWD_VRT, "stations.dbf": PASSWD_VRT},
         "stations.zip:stations (.shp)"),
        ({"stations.gpkg": PASSWD_VRT}, "stations.zip:stations"),
        ({"stations.csv": PASSWD_VRT}, "stations.zip:stations"),
    ],
)
def test_vrt_inside_a_zip_is_refused(members, shown):
    data = _zip_with(members)
    with pytest.raises(InputFileError) as exc:
        read_upload(data, filename="stations.zip")
    msg = refused(exc, InputFileError)
    assert shown in msg and ("VRT" in msg or "GDALG" in msg)
    assert_nothing_of_passwd(msg)
    assert list_layers(data, filename="stations.zip")  # listing opens nothing


@needs_passwd
@pytest.mark.parametrize("first", [True, False], ids=["type-first", "type-last"])
def test_gdalg_pipeline_named_geojson_is_refused(first):
    with pytest.raises(InputFileError) as exc:
        read_upload(inputs.gdalg_reading("/etc/passwd", type_first=first), filename="pipeline.geojson")
    msg = refused(exc, InputFileError)
    assert "pipeline.geojson" in msg and "GDALG" in msg
    assert_nothing_of_passwd(msg)


@pytest.mark.parametrize("kind", sorted(FOREIGN_XML))
@pytest.mark.parametrize("filename", ["track.geojson", "track.json"])
def test_kml_gpx_gml_renamed_geojson_are_refused(kind, filename):
    with pytest.raises(InputFileError) as exc:
        read_upload(FOREIGN_XML[kind], filename=filename)
    msg = refused(exc, InputFileError)
    assert f"{filename} 不是 GeoJSON" in msg and f"内容看起来是 {kind}" in msg
    with pytest.raises(InputFileError):
        read_upload(_zip_with({filename: FOREIGN_XML[kind]}), filename="track.zip")


def _gpkg_bytes(work: Path) -> bytes:
    places_frame().to_file(work / "p.gpkg", engine="pyogrio")
    return (work / "p.gpkg").read_bytes()


@pytest.mark.parametrize(
    ("make", "filename", "looks_like"),
    [
        (lambda work: _zip_with({"a.csv": b"lon,lat\n117,36.6\n"}), "parks.geojson", "zip 压缩包"),
        (_gpkg_bytes, "parks.zip", "SQLite 数据库"),
        (lambda work: b'{"type": "FeatureCollection", "features": []}', "parks.gpkg", "JSON 文本"),
        (_gpkg_bytes, "parks.csv", "SQLite 数据库"),
        (lambda work: b'[{"type": "Feature"}]', "parks.geojson", "须以 { 开头"),
    ],
)
def test_content_that_is_not_what_the_extension_says_is_refused(work, make, filename, looks_like):
    with pytest.raises(InputFileError) as exc:
        read_upload(make(work), filename=filename)
    msg = refused(exc, InputFileError)
    assert filename in msg and looks_like in msg


@pytest.mark.parametrize(
    "path",
    ["/vsicurl/https://example.com/parks.geojson", "/vsizip//tmp/parks.zip/parks.shp", "/VSIMEM/x.geojson",
     "https://example.com/parks.geojson", "CSV:/etc/passwd", "GeoJSON:/etc/passwd", "ESRI Shapefile:/tmp/x.shp"],
)
def test_virtual_paths_and_urls_are_refused(path):
    with pytest.raises(InputFileError) as exc:
        read_upload(path)
    msg = refused(exc, InputFileError)
    assert "不是本地文件路径" in msg and path[:10] in msg


def test_geojson_crs_linking_to_a_file_is_refused(work):
    (work / "metric.prj").write_text(pyproj.CRS.from_epsg(4548).to_wkt())
    doc = {"type": "FeatureCollection",
           "crs": {"properties": {"href": str(work / "metric.prj"), "type": "ogcwkt"}, "type": "link"},
           "features": [{"type": "Feature", "properties": {},
                         "geometry": {"type": "Point", "coordinates": list(JINAN["济南站"])}}]}
    with pytest.raises(InputFileError) as exc:
        read_upload(json.dumps(doc).encode(), filename="linked.geojson")
    msg = refused(exc, InputFileError)
    assert "linked.geojson 的 crs 链接到外部文件或网址" in msg



def test_geopackage_with_a_foreign_virtual_table_is_refused(work):
    path = work / "virtual.gpkg"
    places_frame().to_file(path, layer="places", engine="pyogrio")
    # a virtual table of GDAL's VirtualOGR module would read /etc/passwd
    # through the file's SQL; no tool writes one into a GeoPackage, so it is
    # planted in the schema directly
    con = sqlite3.connect(path)
    con.execute("PRAGMA writable_schema=ON")
    con.execute("INSERT INTO sqlite_master(type, name, tbl_name, rootpage, sql) VALUES "
                "('table', 'passwd', 'passwd', 0, 'CREATE VIRTUAL TABLE passwd USING VirtualOGR(''/etc/passwd'')')")
    con.commit()
    con.close()
    for call in (read_upload, list_layers):
        with pytest.raises(InputFileError) as exc:
            call(path)
        msg = refused(exc, InputFileError)
        assert "virtual.gpkg 不安全" in msg and "passwd" in msg and "VirtualOGR" in msg


def test_each_format_is_opened_with_its_one_driver(work, monkeypatch):
    """GDAL is told the driver (a connection prefix), or checked to have used it (shapefiles); CSV never reaches it."""
    opened: list[str] = []
    drivers: list[str] = []
    real_read, real_info = pyogrio.read_dataframe, pyogrio.read_info

    def read(target, *args, **kwargs):
        opened.append(str(target))
        return real_read(target, *args, **kwargs)

    def info(target, *args, **kwargs):
        out = real_info(target, *args, **kwargs)
        drivers.append(out["driver"])
        return out

    monkeypatch.setattr(pyogrio, "read_dataframe", read)
    monkeypatch.setattr(pyogrio, "read_info", info)
    places_frame().to_file(work / "p.geojson", driver="GeoJSON", engine="pyogrio")
    places_frame().to_file(work / "p.gpkg", engine="pyogrio")
    read_upload(work / "p.geojson")
    read_upload(work / "p.gpkg")
    read_upload(shapefile_zip(work, places_frame(), cpg="UTF-8"), filename="p.zip")
    rows = [{"lon": x, "lat": y} for x, y in JINAN.values()]
    read_upload(csv_bytes(rows), filename="p.csv")
    assert [t.split(":", 1)[0] if not t.endswith(".shp") else "shp" for t in opened] == ["GeoJSON", "GPKG", "shp"]
    assert drivers == ["GPKG", "ESRI Shapefile"]  # read_info counts features and columns before reading


# --------------------------------------------------------------------------- accepted must be usable


# GDAL's JSON reader refuses GeoJSON nested much deeper itself (a clear InputFileError)
@pytest.mark.parametrize(("fmt", "depth"), [("csv", 3), ("csv", 30), ("csv", 500), ("geojson", 3), ("geojson", 30)])
def test_nested_geometry_collections_are_flattened_and_usable_everywhere(depth, fmt):
    from spatial import webmap
    from spatial.io import export_bytes

    data = (("id,wkt\n1,\"" + inputs.nested_collection_wkt(depth) + "\"\n").encode() if fmt == "csv"
            else inputs.nested_collection_geojson(depth))
    result = read_upload(data, filename=f"nested.{fmt}")
    geom = result.frame.geometry.iloc[0]
    assert geom.geom_type == "MultiPoint" and shapely.get_coordinates(geom).tolist() == [[117.02, 36.66]]
    assert noted(result, f"nested.{fmt}", "几何集合层层嵌套，已展开为一层")
    for out in ("geojson", "gpkg", "shp", "kml", "csv"):  # regression: nested collections broke exports
        assert export_bytes(result.frame, out, layer="nested")[0]
    assert webmap.make_map({"nested": result.frame}).get_root().render()


def test_wkt_nested_too_deep_for_geos_is_refused_not_crashed():
    data = ("id,wkt\n1,\"" + inputs.nested_collection_wkt(6000) + "\"\n").encode()
    with pytest.raises(InputFileError) as exc:
        read_upload(data, filename="deep.csv")
    assert "嵌套超过 1000 层" in refused(exc, InputFileError)
    huge = ("id,wkt\n1,\"" + inputs.nested_collection_wkt(20_000) + "\"\n").encode()
    with pytest.raises(InputFileError) as exc:
        read_upload(huge, filename="huge.csv")
    assert "一格超过" in refused(exc, InputFileError)


def test_mixed_collections_keep_every_part():
    from spatial.io._checks import _flat

    inner = shapely.GeometryCollection([shapely.Point(117.0, 36.6), shapely.LineString([(117, 36.6), (117.1, 36.7)])])
    flat = _flat(shapely.GeometryCollection([inner, shapely.GeometryCollection([park_polygon()])]))
    assert flat.geom_type == "GeometryCollection" and [g.geom_type for g in flat.geoms] == [
        "Point", "LineString", "Polygon"]


def test_upload_folders_left_by_a_killed_process_are_swept(temp_watch):
    import signal

    data = inputs.long_csv(300_000, __import__("random").Random(2))
    pid = os.fork()
    if pid == 0:  # a process killed in the middle of reading an upload
        try:
            read_upload(data, filename="points.csv")
        finally:
            os._exit(0)
    import time

    deadline = time.monotonic() + 30
    while not os.listdir(temp_watch) and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert [n for n in os.listdir(temp_watch) if n.startswith("planatlas-upload-")]  # kill -9 left it
    read_upload(inputs.long_csv(2, __import__("random").Random(3)), filename="next.csv")
    assert os.listdir(temp_watch) == []  # the next upload swept it (its process is gone)


def test_a_geopackage_whose_schema_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.gpkg"
    gpd.GeoDataFrame({"name": ["x"]}, geometry=[Point(117.0, 36.6)], crs=4326).to_file(path)
    data = bytearray(path.read_bytes())
    i = data.find(b"CREATE TABLE")
    data[i + 20:i + 22] = b"\xc5A"  # a broken UTF-8 sequence inside the schema text
    path.write_bytes(bytes(data))
    with pytest.raises(InputFileError, match="已损坏"):
        read_upload(path)
