"""Tests of spatial.uploads: every case is built in tmp_path from real libraries.

Each refused file must raise the right planatlas error with a one-line
message, and no call may leave anything in the temporary folder (tempfile is
pointed at a folder of the test's own, which must be empty afterwards).
"""

from __future__ import annotations

import io
import json
import os
import stat
import tempfile
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon

from spatial import datum, uploads
from spatial._errors import CRSError, DatumError, EmptyLayerError, InputFileError, PlanatlasError
from spatial.uploads import SUPPORTED_UPLOADS, UploadResult, describe_limits, list_layers, read_upload

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


def refused(exc_info, cls):
    """The error is of the class asked for and its message is one line."""
    assert isinstance(exc_info.value, cls)
    assert isinstance(exc_info.value, PlanatlasError)
    msg = str(exc_info.value)
    assert msg and "\n" not in msg
    assert "planatlas-upload-" not in msg  # never the temporary path
    return msg


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
    assert any("2 layers" in w and "layer=" in w for w in first.warnings)
    parks = read_upload(data, filename="plan.gpkg", layer="parks")
    assert parks.layer == "parks" and parks.frame.geom_type.tolist() == ["Polygon"]
    with pytest.raises(InputFileError) as exc:
        read_upload(data, filename="plan.gpkg", layer="roads")
    assert "places, parks" in refused(exc, InputFileError)


def test_geopackage_in_projected_crs_is_reprojected(work):
    metric = places_frame().to_crs("EPSG:4548")
    metric.to_file(work / "m.gpkg", engine="pyogrio")
    result = read_upload(work / "m.gpkg")
    assert result.frame.crs.to_epsg() == 4326
    xy = shapely.get_coordinates(result.frame.geometry.values)
    assert np.allclose(xy, np.array(list(JINAN.values())), atol=1e-7)
    assert any("EPSG:4548" in w for w in result.warnings)


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
    refused(exc, InputFileError)


def test_csv_gbk_from_excel_is_decoded_and_reported():
    rows = [{"名称": n, "经度": xy[0], "纬度": xy[1]} for n, xy in JINAN.items()]
    result = read_upload(csv_bytes(rows, encoding="gbk"), filename="excel.csv")
    assert list(result.frame["名称"]) == list(JINAN)
    assert any("GBK" in w for w in result.warnings)


# --------------------------------------------------------------------------- datums


def test_gcj02_csv_converted_to_wgs84():
    wgs = np.array(list(JINAN.values()))
    g_lon, g_lat = datum.wgs84_to_gcj02(wgs[:, 0], wgs[:, 1])
    rows = [{"name": n, "lon": a, "lat": b} for n, a, b in zip(JINAN, g_lon, g_lat)]
    result = read_upload(csv_bytes(rows), filename="amap.csv", datum="GCJ-02")
    assert result.source_datum == "GCJ02"
    xy = shapely.get_coordinates(result.frame.geometry.values)
    expected = np.column_stack(datum.convert(g_lon, g_lat, source="GCJ02", target="WGS84"))
    assert np.allclose(xy, expected, atol=1e-9)
    # and the conversion moved the points by the Jinan offset (hundreds of metres)
    moved = datum.shift_metres(g_lon, g_lat, source="GCJ02", target="WGS84")
    assert (moved > 100).all()
    assert np.allclose(xy, wgs, atol=1e-6)


def test_bd09_csv_converted_to_wgs84():
    wgs = np.array(list(JINAN.values()))
    b_lon, b_lat = datum.convert(wgs[:, 0], wgs[:, 1], source="WGS84", target="BD09")
    rows = [{"name": n, "lng": a, "lat": b} for n, a, b in zip(JINAN, b_lon, b_lat)]
    result = read_upload(csv_bytes(rows), filename="baidu.csv", datum="baidu")
    assert result.source_datum == "BD09"
    xy = shapely.get_coordinates(result.frame.geometry.values)
    assert np.allclose(xy, np.column_stack(datum.convert(b_lon, b_lat, source="BD09", target="WGS84")))
    assert np.allclose(xy, wgs, atol=1e-6)


def test_amap_location_column():
    wgs = np.array(list(JINAN.values()))
    g_lon, g_lat = datum.wgs84_to_gcj02(wgs[:, 0], wgs[:, 1])
    rows = [{"name": n, "location": f"{a:.6f},{b:.6f}", "type": "风景名胜"}
            for n, a, b in zip(JINAN, g_lon, g_lat)]
    rows.append({"name": "无坐标", "location": "", "type": "x"})
    result = read_upload(csv_bytes(rows), filename="amap_poi.csv", datum="amap")
    assert result.n_features == 3
    assert "location" not in result.frame.columns
    assert np.allclose(shapely.get_coordinates(result.frame.geometry.values), wgs, atol=1e-5)
    expected = "no 'lon,lat' pair in 'location' on 1 row(s) (spreadsheet rows 5)"
    assert any(expected in w for w in result.warnings)
    assert any("dropped 1" in w for w in result.warnings)


def test_unknown_datum_refused_before_reading():
    with pytest.raises(DatumError) as exc:
        read_upload(b"whatever", filename="pts.csv", datum="Xian80")
    assert "Xian80" in refused(exc, DatumError)


# --------------------------------------------------------------------------- implausible coordinates


def test_swapped_csv_columns_suggest_the_swap():
    rows = [{"name": n, "lon": xy[1], "lat": xy[0]} for n, xy in JINAN.items()]
    with pytest.raises(InputFileError) as exc:
        read_upload(csv_bytes(rows), filename="swapped.csv")
    msg = refused(exc, InputFileError)
    assert "swap" in msg and "3 of 3" in msg and "lon_col" in msg


def test_swapped_geojson_axes(work):
    feats = [{"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [y, x]}}
             for x, y in JINAN.values()]
    data = json.dumps({"type": "FeatureCollection", "features": feats}).encode()
    with pytest.raises(InputFileError) as exc:
        read_upload(data, filename="yx.geojson")
    assert "swap" in refused(exc, InputFileError)


def test_outside_china_refused_unless_allowed():
    helsinki = [{"name": "Rautatientori", "lon": 24.9440, "lat": 60.1710}]
    with pytest.raises(InputFileError) as exc:
        read_upload(csv_bytes(helsinki), filename="hki.csv")
    msg = refused(exc, InputFileError)
    assert "outside China" in msg and "72" in msg and "137.8" in msg and "allow_outside_china" in msg
    ok = read_upload(csv_bytes(helsinki), filename="hki.csv", allow_outside_china=True)
    assert ok.n_features == 1


def test_metres_labelled_as_degrees_is_a_crs_error():
    metric = places_frame().to_crs("EPSG:4548")
    rows = [{"x": p.x, "y": p.y} for p in metric.geometry]
    with pytest.raises(CRSError) as exc:
        read_upload(csv_bytes(rows), filename="xy.csv")
    assert "degrees" in refused(exc, CRSError)
    ok = read_upload(csv_bytes(rows), filename="xy.csv", assume_crs="EPSG:4548")
    assert np.allclose(shapely.get_coordinates(ok.frame.geometry.values), list(JINAN.values()), atol=1e-7)


# --------------------------------------------------------------------------- size and zip safety


def test_size_limit_checked_first(work):
    data = b"x" * 2_000_000
    with pytest.raises(InputFileError) as exc:
        read_upload(data, filename="big.geojson", max_bytes=1024 * 1024)
    msg = refused(exc, InputFileError)
    assert "big.geojson" in msg and "1 MB" in msg and "1.9 MB" in msg
    path = work / "big.csv"
    path.write_bytes(data)
    with pytest.raises(InputFileError):
        read_upload(path, max_bytes=1024 * 1024)
    assert "50 MB" in describe_limits()
    assert set(SUPPORTED_UPLOADS) >= {".geojson", ".json", ".gpkg", ".zip", ".csv"}


def _zip_with(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, blob in members.items():
            zf.writestr(name, blob)
    return buf.getvalue()


@pytest.mark.parametrize("member", ["../evil.shp", "shp/../../evil.shp", "/abs.shp", "C:/evil.shp",
                                    "..\\evil.shp"])
def test_zip_slip_refused(member, temp_watch):
    with pytest.raises(InputFileError) as exc:
        read_upload(_zip_with({member: b"x", "ok.txt": b"y"}), filename="evil.zip")
    assert "unsafe" in refused(exc, InputFileError)
    assert not (temp_watch.parent / "evil.shp").exists()


def test_zip_symlink_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("link.shp")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(InputFileError) as exc:
        read_upload(buf.getvalue(), filename="link.zip")
    assert "symbolic link" in refused(exc, InputFileError)


def test_zip_bomb_ratio_refused():
    data = _zip_with({"bomb.dbf": b"\x00" * (20 * 1024 * 1024)})
    assert len(data) < 100_000  # small upload, huge content
    with pytest.raises(InputFileError) as exc:
        read_upload(data, filename="bomb.zip")
    assert "zip bomb" in refused(exc, InputFileError)


def test_zip_member_count_and_total_caps(monkeypatch):
    many = _zip_with({f"f{i}.txt": b"x" for i in range(uploads.ZIP_MAX_MEMBERS + 1)})
    with pytest.raises(InputFileError) as exc:
        read_upload(many, filename="many.zip")
    assert str(uploads.ZIP_MAX_MEMBERS) in refused(exc, InputFileError)
    monkeypatch.setattr(uploads, "ZIP_MAX_TOTAL_BYTES", 1000)
    with pytest.raises(InputFileError) as exc:
        read_upload(_zip_with({"a.csv": os.urandom(800), "b.csv": os.urandom(800)}), filename="two.zip")
    assert "unpack" in refused(exc, InputFileError)


def test_zip_with_nothing_readable():
    with pytest.raises(InputFileError) as exc:
        read_upload(_zip_with({"readme.txt": b"hello"}), filename="docs.zip")
    assert "no shapefile" in refused(exc, InputFileError)


# --------------------------------------------------------------------------- shapefile parts and text


def test_missing_prj_needs_assume_crs(work):
    data = shapefile_zip(work, places_frame(), drop={".prj"})
    with pytest.raises(CRSError) as exc:
        read_upload(data, filename="noprj.zip")
    msg = refused(exc, CRSError)
    assert ".prj" in msg and "assume_crs" in msg
    ok = read_upload(data, filename="noprj.zip", assume_crs="EPSG:4326")
    assert ok.n_features == 3 and ok.frame.crs.to_epsg() == 4326


@pytest.mark.parametrize(
    ("part", "word"), [(".dbf", "attribute table"), (".shx", "index"), (".shp", "geometry")]
)
def test_missing_shapefile_part_named(work, part, word):
    data = shapefile_zip(work, places_frame(), drop={part})
    with pytest.raises(InputFileError) as exc:
        read_upload(data, filename="parts.zip")
    msg = refused(exc, InputFileError)
    assert part in msg and word in msg


def test_gbk_dbf_with_cpg(work):
    gdf = places_frame().rename(columns={"name": "名称"})
    data = shapefile_zip(work, gdf, encoding="gbk", cpg="936")
    result = read_upload(data, filename="gbk.zip")
    assert list(result.frame["名称"]) == list(JINAN)
    assert not any("encoding" in w for w in result.warnings)


def test_gbk_dbf_without_cpg_guessed_and_reported(work):
    gdf = places_frame().rename(columns={"name": "名称"})
    data = shapefile_zip(work, gdf, encoding="gbk", cpg=None)
    result = read_upload(data, filename="gbk.zip")
    assert list(result.frame["名称"]) == list(JINAN)
    assert any("GBK" in w for w in result.warnings)


def test_wrong_cpg_falls_back(work):
    gdf = places_frame()
    data = shapefile_zip(work, gdf, encoding="gbk", cpg="UTF-8")
    result = read_upload(data, filename="mislabelled.zip")
    assert list(result.frame["name"]) == list(JINAN)
    assert any(".cpg says utf-8" in w for w in result.warnings)


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
    assert any("repaired 1 invalid geometry" in w for w in result.warnings)


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
    mixed = [w for w in result.warnings if "mixed geometry types" in w]
    assert len(mixed) == 1 and "1 point" in mixed[0] and "1 line" in mixed[0] and "1 polygon" in mixed[0]
    assert any("dropped 1 feature" in w for w in result.warnings)


def test_empty_layers(work):
    empty = json.dumps({"type": "FeatureCollection", "features": []}).encode()
    with pytest.raises(EmptyLayerError) as exc:
        read_upload(empty, filename="empty.geojson")
    assert "empty.geojson" in refused(exc, EmptyLayerError)
    places_frame().iloc[:0].to_file(work / "e.gpkg", engine="pyogrio")
    with pytest.raises(EmptyLayerError) as exc:
        read_upload(work / "e.gpkg")
    refused(exc, EmptyLayerError)
    nulls = json.dumps({"type": "FeatureCollection",
                        "features": [{"type": "Feature", "properties": {"a": 1}, "geometry": None}]}).encode()
    with pytest.raises(EmptyLayerError):
        read_upload(nulls, filename="nulls.geojson")


def test_geopackage_without_crs(work):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pyogrio warns that no CRS is written
        places_frame().set_crs(None, allow_override=True).to_file(work / "nocrs.gpkg", engine="pyogrio")
    with pytest.raises(CRSError) as exc:
        read_upload(work / "nocrs.gpkg")
    assert "assume_crs" in refused(exc, CRSError)
    ok = read_upload(work / "nocrs.gpkg", assume_crs=4326)
    assert ok.n_features == 3
    with pytest.raises(CRSError):
        read_upload(work / "nocrs.gpkg", assume_crs="not a crs")


# --------------------------------------------------------------------------- columns


def test_duplicate_and_control_character_columns():
    text = "name,Name,name,lon,lat,\x1b[31mred\x1b[0m\u202e\n" + "\n".join(
        f"a,b,c,{x},{y},r" for x, y in JINAN.values())
    result = read_upload(text.encode(), filename="dupes.csv")
    assert list(result.frame.columns) == ["name", "Name_2", "name_3", "red", "geometry"]
    assert result.frame["name_3"].tolist() == ["c"] * 3
    assert any("renamed duplicate columns" in w and "'Name' -> 'Name_2'" in w for w in result.warnings)
    assert any("control characters" in w for w in result.warnings)


def test_attribute_named_geometry_is_renamed():
    rows = [{"geometry": "point", "lon": x, "lat": y} for x, y in JINAN.values()]
    result = read_upload(csv_bytes(rows), filename="g.csv")
    assert list(result.frame.columns) == ["geometry_2", "geometry"]


def test_wkt_column_read():
    rows = [{"id": 1, "wkt": park_polygon().wkt}, {"id": 2, "wkt": "POLYGON ((broken"}]
    result = read_upload(csv_bytes(rows), filename="wkt.csv")
    assert result.n_features == 1
    assert result.frame.geometry.iloc[0].equals(park_polygon())
    assert any("unreadable WKT" in w for w in result.warnings)


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
    assert refused(exc, InputFileError).startswith("cannot read cut.geojson")


def test_csv_without_coordinates():
    with pytest.raises(InputFileError) as exc:
        read_upload(csv_bytes([{"name": "a", "addr": "经十路"}]), filename="addr.csv")
    msg = refused(exc, InputFileError)
    assert "name, addr" in msg and "lon_col" in msg


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
    assert first.layer == "parks" and any("2 layers" in w for w in first.warnings)
    chosen = read_upload(data, filename="both.zip", layer="places")
    assert chosen.n_features == 3
    with pytest.raises(InputFileError) as exc:
        read_upload(data, filename="both.zip", layer="roads")
    assert "parks, places" in refused(exc, InputFileError)


def test_bare_shp_bytes_refused_with_advice():
    with pytest.raises(InputFileError) as exc:
        read_upload(b"\x00\x00\x27\x0a" + b"\x00" * 96, filename="roads.shp")
    assert ".shx" in refused(exc, InputFileError)


def test_geojson_with_projected_crs_member_and_heights(work):
    gdf = places_frame().to_crs("EPSG:4548")
    gdf["geometry"] = shapely.force_3d(gdf.geometry.values, z=42.0)
    gdf.to_file(work / "m.geojson", driver="GeoJSON", engine="pyogrio")  # old-style "crs" member
    assert "4548" in (work / "m.geojson").read_text()
    result = read_upload(work / "m.geojson")
    assert not result.frame.has_z.any()
    assert np.allclose(shapely.get_coordinates(result.frame.geometry.values), list(JINAN.values()), atol=1e-7)
    assert any("Z values" in w for w in result.warnings)


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
    assert any("more values than the header" in w and "rows 2" in w for w in result.warnings)
    with pytest.raises(InputFileError):
        read_upload(text.encode("utf-8"), filename="tw.csv", encoding="no-such-codec")


def test_damaged_geopackage_is_one_line_and_warning_free():
    blob = b"SQLite format 3\x00" + b"\x01" * 4000
    with pytest.raises(InputFileError) as exc:
        read_upload(blob, filename="broken.gpkg")
    assert "GeoPackage" in refused(exc, InputFileError)


def test_uploaded_file_object_too_large_is_not_read():
    class Uploaded:  # what Streamlit's UploadedFile offers
        size = 80 * 1024 * 1024

        def getvalue(self):
            raise AssertionError("read before the size was checked")

    with pytest.raises(InputFileError) as exc:
        read_upload(Uploaded(), filename="huge.zip")
    assert "50 MB" in refused(exc, InputFileError)


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
    assert any("'AAAA' -> 'AAAA_2'" in w for w in result.warnings)


def test_geojson_inside_a_zip_and_case_duplicate_keys():
    feature = {"type": "Feature", "properties": {"name": "a", "NAME": "b"},
               "geometry": {"type": "Point", "coordinates": list(JINAN["泉城广场"])}}
    inner = json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()
    result = read_upload(_zip_with({"data/square.geojson": inner}), filename="square.zip")
    assert result.format == "geojson" and result.layer == "data/square"
    assert result.frame[["name", "NAME_2"]].iloc[0].tolist() == ["a", "b"]


def test_describe_limits_in_both_languages():
    from spatial.uploads import describe_limits

    en = describe_limits(max_bytes=5 * 2**20)
    zh = describe_limits(max_bytes=5 * 2**20, lang="zh")
    assert "5 MB" in en and "GCJ-02" in en
    assert "5 MB" in zh and "高德" in zh and "坐标系" in zh
