"""GCJ-02 / BD-09 / WGS-84 conversion against published pairs and round trips."""

import re

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Geod
from shapely.geometry import LineString, Point, Polygon

from spatial import datum
from spatial._errors import CRSError, DatumError, ParameterError, PlanatlasError

GEOD = Geod(ellps="WGS84")

# Pairs widely published with the GCJ-02 algorithm (Beijing test point).
KNOWN = [
    # (source, target, lon, lat, expected lon, expected lat)
    ("WGS84", "GCJ02", 116.404, 39.915, 116.41024449916938, 39.91640428150164),
    ("GCJ02", "BD09", 116.404, 39.915, 116.41036949371029, 39.92133699351021),
]


def metres(lon1, lat1, lon2, lat2):
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


@pytest.mark.parametrize("src,dst,lon,lat,elon,elat", KNOWN)
def test_known_pairs(src, dst, lon, lat, elon, elat):
    lon2, lat2 = datum.convert(lon, lat, source=src, target=dst)
    assert metres(lon2, lat2, elon, elat) < 0.01


def test_jinan_offset_is_hundreds_of_metres():
    # Quancheng Square area: the GCJ-02 shift in Jinan is about 500 m, eastwards
    lon, lat = 117.0205, 36.6612
    glon, glat = datum.wgs84_to_gcj02(lon, lat)
    shift = metres(lon, lat, glon, glat)
    assert 300 < shift < 700
    assert glon > lon


@pytest.mark.parametrize("pair", [("WGS84", "GCJ02"), ("WGS84", "BD09"), ("GCJ02", "BD09")])
def test_round_trip_under_a_metre_across_china(pair):
    rng = np.random.default_rng(7)
    lon = rng.uniform(74, 134, 20_000)
    lat = rng.uniform(18, 53, 20_000)
    a, b = pair
    lon2, lat2 = datum.convert(lon, lat, source=a, target=b)
    lon3, lat3 = datum.convert(lon2, lat2, source=b, target=a)
    err = metres(lon, lat, lon3, lat3)
    assert err.max() < 1.0
    # and the conversion really moved the points (not an identity)
    assert np.median(metres(lon, lat, lon2, lat2)) > 50


def test_outside_china_unchanged():
    lon, lat = datum.wgs84_to_gcj02(np.array([2.35, -74.0]), np.array([48.85, 40.7]))
    np.testing.assert_allclose(lon, [2.35, -74.0])
    np.testing.assert_allclose(lat, [48.85, 40.7])


def test_aliases_and_unknown():
    assert datum.normalise_datum("GCJ-02") == "GCJ02"
    assert datum.normalise_datum("Gaode") == "GCJ02"
    assert datum.normalise_datum("bd-09") == "BD09"
    with pytest.raises(DatumError, match="未知坐标系 'mercator'：请用 WGS84、GCJ02（高德）或 BD09（百度）"):
        datum.normalise_datum("mercator")


def test_shape_mismatch():
    with pytest.raises(DatumError, match=r"经度与纬度的形状不同：\(2,\) 与 \(1,\)"):
        datum.convert([1.0, 2.0], [1.0], source="WGS84", target="GCJ02")


def test_convert_frame_moves_every_vertex():
    gdf = gpd.GeoDataFrame(
        {"name": ["p", "l", "a"]},
        geometry=[Point(117.0, 36.65), LineString([(117.0, 36.6), (117.1, 36.7)]),
                  Polygon([(117, 36.6), (117.1, 36.6), (117.1, 36.7), (117, 36.6)])],
        crs="EPSG:4326",
    )
    out = datum.convert_frame(gdf, source="WGS84", target="GCJ02")
    back = datum.convert_frame(out, source="GCJ02", target="WGS84")
    for g0, g1, g2 in zip(gdf.geometry, out.geometry, back.geometry, strict=True):
        assert g0.hausdorff_distance(g1) > 0.003  # ~ 500 m in degrees
        assert g0.hausdorff_distance(g2) < 1e-8
    assert gdf.geometry.iloc[0].x == 117.0  # input untouched


def test_convert_frame_refuses_projected():
    gdf = gpd.GeoDataFrame(geometry=[Point(500000, 4000000)], crs="EPSG:4548")
    with pytest.raises(CRSError, match="坐标系转换需要经纬度，收到投影坐标系 EPSG:4548"):
        datum.convert_frame(gdf, source="GCJ02", target="WGS84")


@pytest.mark.parametrize("make, error", [
    pytest.param(lambda: datum.normalise_datum("NAD27"), DatumError, id="unknown datum"),
    pytest.param(lambda: datum.normalise_datum(None), DatumError, id="datum None"),
    pytest.param(lambda: datum.convert(117.0, 36.6, source="WGS84", target="web mercator"), DatumError,
                 id="unknown target"),
    pytest.param(lambda: datum.convert(["east"], [36.6], source="WGS84", target="GCJ02"), DatumError,
                 id="lon not a number"),
    pytest.param(lambda: datum.wgs84_to_gcj02(117.0, {"lat": 36.6}), DatumError, id="lat a dict"),
    pytest.param(lambda: datum.shift_metres([1.0, 2.0], [1.0], source="WGS84", target="BD09"), DatumError,
                 id="shapes differ"),
    pytest.param(lambda: datum.in_china("x", 36.0), DatumError, id="in_china text"),
    pytest.param(lambda: datum.convert_geometry("POINT (117 36)", source="WGS84", target="GCJ02"),
                 ParameterError, id="geometry as text"),
    pytest.param(lambda: datum.convert_frame([Point(117, 36)], source="WGS84", target="GCJ02"),
                 ParameterError, id="frame a list"),
    pytest.param(lambda: datum.convert_frame(gpd.GeoDataFrame(geometry=[Point(5e5, 4e6)], crs="EPSG:4548"),
                                             source="WGS84", target="GCJ02"), CRSError, id="projected frame"),
])
def test_user_errors_are_planatlas_errors(make, error):
    with pytest.raises(PlanatlasError) as info:
        make()
    assert isinstance(info.value, error)
    text = str(info.value)
    assert re.match(r"[\u4e00-\u9fff]", text) and text.endswith(")")  # Chinese first, English in brackets
