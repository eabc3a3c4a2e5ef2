import geopandas as gpd
import pytest
from shapely.geometry import Point

from spatial import projection
from spatial._errors import CRSError, EmptyLayerError


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
    with pytest.raises(CRSError, match="no CRS"):
        projection.to_metric(gdf)
    a = gpd.GeoDataFrame(geometry=[Point(117.0, 36.65)], crs="EPSG:4326")
    b = a.to_crs("EPSG:4548")
    with pytest.raises(CRSError, match="reproject"):
        projection.check_same_crs(a, b, names=("parks", "districts"))
    assert projection.check_same_crs(a, a.copy()).to_epsg() == 4326


def test_empty_and_degree_warning():
    with pytest.raises(EmptyLayerError):
        projection.require_features(gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"), name="parks")
    gdf = gpd.GeoDataFrame(geometry=[Point(117.0, 36.65)], crs="EPSG:4326")
    with pytest.warns(UserWarning, match="degrees"):
        projection.warn_if_geographic(gdf)
