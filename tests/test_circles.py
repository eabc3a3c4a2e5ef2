"""Euclidean service circles around points, lines and polygons."""

import math

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point, box

from spatial._errors import CRSError, EmptyLayerError, ParameterError
from spatial.circles import service_circles

METRIC = "EPSG:4548"


def _metric_area(gdf):
    return gdf.to_crs(METRIC).area.to_numpy()


@pytest.fixture
def two_points():
    # two facilities in central Jinan, about 890 m apart (0.01 degrees of longitude at 36.65 N)
    return gpd.GeoDataFrame(
        {"name": ["a", "b"]},
        geometry=[Point(117.0, 36.65), Point(117.01, 36.65)],
        crs="EPSG:4326",
        index=[10, 20],
    )


@pytest.mark.parametrize("radius", [300, 500, 1000, 2500])
def test_disc_area_is_pi_r_squared(two_points, radius):
    circles = service_circles(two_points, distance_m=radius)
    assert circles.crs.to_epsg() == 4326
    np.testing.assert_allclose(_metric_area(circles), math.pi * radius**2, rtol=0.005)


def test_attributes_and_parameters_are_kept(two_points):
    circles = service_circles(two_points, distance_m=500)
    assert list(circles["facility_index"]) == [10, 20]
    assert list(circles["name"]) == ["a", "b"]
    assert (circles["method"] == "buffer").all()
    assert (circles["distance_m"] == 500).all()
    assert circles["minutes"].tolist() == pytest.approx([500 / 80] * 2)


def test_minutes_times_speed(two_points):
    circles = service_circles(two_points, minutes=10, speed_m_per_min=60)
    assert (circles["distance_m"] == 600).all()
    assert (circles["minutes"] == 10).all()
    assert (circles["speed_m_per_min"] == 60).all()
    np.testing.assert_allclose(_metric_area(circles), math.pi * 600**2, rtol=0.005)


def test_per_facility_distances(two_points):
    circles = service_circles(two_points, distance_m=[300, 1000])
    np.testing.assert_allclose(_metric_area(circles), math.pi * np.array([300, 1000]) ** 2, rtol=0.005)


def test_line_buffer_is_a_corridor():
    # a 2 km east-west greenway, buffered 1 km: rectangle 2 km x 2 km plus two half discs
    line = gpd.GeoSeries([LineString([(500_000, 4_060_000), (502_000, 4_060_000)])], crs=METRIC)
    frame = gpd.GeoDataFrame(geometry=line.to_crs("EPSG:4326"))
    band = service_circles(frame, distance_m=1000)
    expected = 2 * 1000 * 2000 + math.pi * 1000**2
    assert _metric_area(band)[0] == pytest.approx(expected, rel=0.005)


def test_polygon_buffer_grows_from_the_edge():
    # a 200 m x 200 m park buffered 500 m: a^2 + 4ar + pi r^2
    park = gpd.GeoDataFrame(geometry=[box(500_000, 4_060_000, 500_200, 4_060_200)], crs=METRIC)
    area = service_circles(park, distance_m=500)
    expected = 200**2 + 4 * 200 * 500 + math.pi * 500**2
    assert _metric_area(area)[0] == pytest.approx(expected, rel=0.005)


def test_dissolve_merges_overlaps(two_points):
    single = service_circles(two_points, distance_m=1000, dissolve=True)
    assert len(single) == 1
    assert single["n_facilities"].item() == 2
    area = _metric_area(single)[0]
    assert area < 2 * math.pi * 1000**2 * 0.9  # the discs overlap
    assert single["area_km2"].item() == pytest.approx(area / 1e6, rel=1e-3)
    # far apart, the union is the sum
    far = service_circles(two_points, distance_m=300, dissolve=True)
    assert _metric_area(far)[0] == pytest.approx(2 * math.pi * 300**2, rel=0.005)


def test_projected_input_and_utm_fallback():
    helsinki = gpd.GeoDataFrame(geometry=[Point(24.94, 60.17)], crs="EPSG:4326")
    circles = service_circles(helsinki, distance_m=800)
    utm = circles.to_crs(helsinki.estimate_utm_crs())
    assert utm.area.iloc[0] == pytest.approx(math.pi * 800**2, rel=0.005)
    metric = gpd.GeoDataFrame(geometry=[Point(500_000, 4_060_000)], crs=METRIC)
    assert _metric_area(service_circles(metric, distance_m=800))[0] == pytest.approx(math.pi * 800**2, rel=0.005)


def test_errors(two_points):
    with pytest.raises(EmptyLayerError):
        service_circles(two_points.iloc[:0], distance_m=100)
    with pytest.raises(CRSError):
        service_circles(gpd.GeoDataFrame(geometry=[Point(117, 36.6)]), distance_m=100)
    with pytest.raises(ParameterError, match="非负"):
        service_circles(two_points, distance_m=-5)
    with pytest.raises(ParameterError, match="非负"):
        service_circles(two_points, minutes=[5, -1])
    with pytest.raises(ParameterError, match="exactly one"):
        service_circles(two_points, distance_m=100, minutes=5)
    with pytest.raises(ParameterError, match="exactly one"):
        service_circles(two_points)
    with pytest.raises(ParameterError, match="speed"):
        service_circles(two_points, minutes=5, speed_m_per_min=0)
