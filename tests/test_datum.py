"""GCJ-02 / BD-09 / WGS-84 conversion against published pairs and round trips."""

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Geod
from shapely.geometry import LineString, Point, Polygon

from spatial import datum
from spatial._errors import CRSError, DatumError

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
    with pytest.raises(DatumError, match="unknown datum"):
        datum.normalise_datum("mercator")


def test_shape_mismatch():
    with pytest.raises(DatumError):
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
    for g0, g1, g2 in zip(gdf.geometry, out.geometry, back.geometry):
        assert g0.hausdorff_distance(g1) > 0.003  # ~ 500 m in degrees
        assert g0.hausdorff_distance(g2) < 1e-8
    assert gdf.geometry.iloc[0].x == 117.0  # input untouched


def test_convert_frame_refuses_projected():
    gdf = gpd.GeoDataFrame(geometry=[Point(500000, 4000000)], crs="EPSG:4548")
    with pytest.raises(CRSError, match="longitude/latitude"):
        datum.convert_frame(gdf, source="GCJ02", target="WGS84")
