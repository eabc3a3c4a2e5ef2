"""Property tests: datum conversion round trips anywhere in China's extent."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from spatial import datum
from spatial._errors import DatumError

GEOD = Geod(ellps="WGS84")
lons = st.floats(min_value=73.5, max_value=135.0, allow_nan=False)
lats = st.floats(min_value=18.0, max_value=53.5, allow_nan=False)
datums = st.sampled_from(["WGS84", "GCJ02", "BD09"])


@settings(max_examples=300, deadline=None)
@given(lon=lons, lat=lats, a=datums, b=datums)
def test_round_trip_within_a_metre(lon, lat, a, b):
    lon2, lat2 = datum.convert(lon, lat, source=a, target=b)
    lon3, lat3 = datum.convert(lon2, lat2, source=b, target=a)
    err = GEOD.inv(lon, lat, float(lon3), float(lat3))[2]
    assert err < 1.0


@settings(max_examples=200, deadline=None)
@given(lon=lons, lat=lats)
def test_offset_is_bounded(lon, lat):
    # GCJ-02 never moves a point by more than about a kilometre
    glon, glat = datum.wgs84_to_gcj02(lon, lat)
    shift = GEOD.inv(lon, lat, float(glon), float(glat))[2]
    assert shift < 1_500


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(lons, lats), min_size=1, max_size=50))
def test_vectorised_equals_scalar(points):
    arr = np.array(points)
    vlon, vlat = datum.gcj02_to_wgs84(arr[:, 0], arr[:, 1])
    for i, (lon, lat) in enumerate(points):
        slon, slat = datum.gcj02_to_wgs84(lon, lat)
        assert vlon[i] == slon and vlat[i] == slat


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.text(max_size=12))
def test_any_datum_name_is_known_or_refused_by_name(name):
    try:
        canonical = datum.normalise_datum(name)
    except DatumError as exc:
        assert str(exc).startswith(f"未知坐标系 {name!r}") and str(exc).endswith(")")
        return
    assert canonical in {"WGS84", "GCJ02", "BD09"}


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(st.one_of(st.text(min_size=1, max_size=5), st.dictionaries(st.text(max_size=2), st.integers(), min_size=1),
                 st.lists(st.text(min_size=1, max_size=3), min_size=1, max_size=3)), lats)
def test_coordinates_that_are_no_numbers_are_refused(junk, lat):
    """Text, dicts and lists of text as longitudes: converted when NumPy reads them as numbers, else refused."""
    try:
        lon2, _ = datum.convert(junk, lat, source="WGS84", target="GCJ02")
    except DatumError as exc:
        assert "(" in str(exc) and str(exc).endswith(")")
        return
    # a numeric string such as "12" is a number to NumPy: it converts like one (NaN stays NaN)
    assert np.array_equal(np.isnan(lon2), np.isnan(np.asarray(junk, dtype=float)))
