import re

import geopandas as gpd
import pytest
from shapely.geometry import Point

from spatial import projection
from spatial._errors import CRSError, EmptyLayerError, ParameterError, PlanatlasError


def test_jinan_measures_in_epsg4548():
    gdf = gpd.GeoDataFrame(geometry=[Point(117.0, 36.65), Point(117.2, 36.7)], crs="EPSG:4326")
    assert projection.metric_crs_for(gdf).to_epsg() == 4548
    metric = projection.to_metric(gdf)
    # 0.2 degrees of longitude at 36.7N is about 17.9 km
    d = metric.geometry.iloc[0].distance(metric.geometry.iloc[1])
    assert 18_000 < d < 20_000


def test_elsewhere_falls_back_to_utm():
    gdf = gpd.GeoDataFrame(geometry=[Point(24.94, 60.17)], crs="EPSG:4326")  # Helsinki
    crs = projection.metric_crs_for(gdf)
    assert crs.is_projected and "UTM" in crs.name


def test_missing_crs_and_mismatch():
    gdf = gpd.GeoDataFrame(geometry=[Point(117.0, 36.65)])
    with pytest.raises(CRSError, match=r"^parks 没有坐标参照系，请先设置"):
        projection.to_metric(gdf, name="parks")
    a = gpd.GeoDataFrame(geometry=[Point(117.0, 36.65)], crs="EPSG:4326")
    b = a.to_crs("EPSG:4548")
    with pytest.raises(CRSError, match=r"^districts 的坐标参照系是 EPSG:4548，parks 却是 EPSG:4326：请先重投影"):
        projection.check_same_crs(a, b, names=("parks", "districts"))
    assert projection.check_same_crs(a, a.copy()).to_epsg() == 4326


def test_empty_and_degree_warning():
    with pytest.raises(EmptyLayerError, match=r"^parks 没有要素"):
        projection.require_features(gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"), name="parks")
    gdf = gpd.GeoDataFrame(geometry=[Point(117.0, 36.65)], crs="EPSG:4326")
    with pytest.warns(UserWarning, match="^distances 所用图层为经纬度（EPSG:4326）"):
        projection.warn_if_geographic(gdf)


_POINT = gpd.GeoDataFrame(geometry=[Point(117.0, 36.65)], crs="EPSG:4326")


@pytest.mark.parametrize("make, error", [
    pytest.param(lambda: projection.require_crs(None), ParameterError, id="None"),
    pytest.param(lambda: projection.require_crs([Point(0, 0)]), ParameterError, id="a list"),
    pytest.param(lambda: projection.require_crs(gpd.GeoDataFrame(geometry=[Point(0, 0)])), CRSError, id="no CRS"),
    pytest.param(lambda: projection.to_metric(_POINT, crs="EPSG:999999"), CRSError, id="unknown CRS"),
    pytest.param(lambda: projection.to_storage(gpd.GeoDataFrame(geometry=[Point(0, 0)])), CRSError,
                 id="store without CRS"),
    pytest.param(lambda: projection.metric_crs_for(gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")),
                 EmptyLayerError, id="empty layer"),
    pytest.param(lambda: projection.metric_crs_for(gpd.GeoDataFrame(geometry=[None], crs="EPSG:4326")),
                 EmptyLayerError, id="missing geometry"),
    pytest.param(lambda: projection.require_features(gpd.GeoDataFrame(geometry=[None], crs="EPSG:4326")),
                 EmptyLayerError, id="no features"),
    pytest.param(lambda: projection.check_same_crs(), ParameterError, id="no layer"),
    pytest.param(lambda: projection.parse_crs("not a crs", name="crs"), CRSError, id="parse junk"),
])
def test_user_errors_are_planatlas_errors(make, error):
    with pytest.raises(PlanatlasError) as info:
        make()
    assert isinstance(info.value, error)
    text = str(info.value)
    assert re.search(r"[\u4e00-\u9fff]", text.split(" (")[0]) and text.endswith(")")


def test_unknown_crs_is_named():
    with pytest.raises(CRSError, match="'EPSG:999999'"):
        projection.to_metric(_POINT, crs="EPSG:999999")
