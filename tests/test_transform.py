"""``reproject``: the same coordinates as ``to_crs``, with PROJ's operation search done once per process.

The oracle is geopandas' own ``to_crs``; the point of the function (no new
search in a new thread, as each Streamlit rerun is) is checked on the cache's
counters, not on a clock.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from spatial import _transform
from spatial.projection import reproject, transformer

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def jinan_frame() -> gpd.GeoDataFrame:
    """Points, a line and a polygon around Jinan, one missing and one empty geometry, in WGS-84."""
    geoms = [shapely.Point(117.0, 36.65), shapely.LineString([(116.9, 36.6), (117.2, 36.7)]),
             shapely.Polygon([(116.8, 36.5), (117.1, 36.5), (117.1, 36.8), (116.8, 36.5)]), None,
             shapely.Point()]
    frame = gpd.GeoDataFrame({"name": list("abcde"), "n": range(5)}, geometry=geoms, crs="EPSG:4326",
                             index=[10, 11, 12, 13, 14])
    frame.attrs["planatlas_label"] = "测试"
    return frame


@pytest.mark.parametrize("target", ["EPSG:4548", "EPSG:3857", "EPSG:32650", "EPSG:4490"])
def test_reproject_gives_exactly_what_to_crs_gives(jinan_frame, target):
    ours, theirs = reproject(jinan_frame, target), jinan_frame.to_crs(target)
    assert ours.crs == theirs.crs and ours.geometry.crs == theirs.geometry.crs
    assert list(ours.columns) == list(theirs.columns) and list(ours.index) == list(theirs.index)
    assert ours.attrs == {"planatlas_label": "测试"}
    for a, b in zip(ours.geometry, theirs.geometry, strict=True):
        assert (a is None and b is None) or shapely.equals_exact(a, b, tolerance=0)
    back = reproject(ours, "EPSG:4326")
    assert np.allclose(shapely.get_coordinates(back.geometry.to_numpy()),
                       shapely.get_coordinates(jinan_frame.geometry.to_numpy()), atol=1e-9)


def test_reproject_keeps_a_series_and_the_z_coordinate():
    series = gpd.GeoSeries([shapely.Point(117.0, 36.65, 30.0), shapely.Point(117.1, 36.7)], crs=4326,
                           index=["x", "y"], name="where")
    ours, theirs = reproject(series, 4548), series.to_crs(4548)
    assert isinstance(ours, gpd.GeoSeries) and ours.name == "where" and list(ours.index) == ["x", "y"]
    assert ours.crs.to_epsg() == 4548
    assert ours.iloc[0].has_z and ours.iloc[0].z == 30.0 and not ours.iloc[1].has_z
    assert all(shapely.equals_exact(a, b, tolerance=0) for a, b in zip(ours, theirs, strict=True))


def test_reproject_leaves_the_input_alone_and_copies_on_the_same_crs(jinan_frame):
    before = jinan_frame.geometry.to_wkt().tolist()
    reproject(jinan_frame, 4548)
    assert jinan_frame.geometry.to_wkt().tolist() == before and jinan_frame.crs.to_epsg() == 4326
    same = reproject(jinan_frame, "EPSG:4326")
    assert same is not jinan_frame and same.geometry.to_wkt().tolist() == before


def test_an_operation_chosen_point_by_point_falls_back_to_to_crs():
    # Beijing 1954 -> WGS-84 has several candidate operations; PROJ picks one per coordinate
    assert _transform.pipeline(_transform.CRS.from_epsg(4214), _transform.CRS.from_epsg(4326)) is None
    series = gpd.GeoSeries([shapely.Point(117.0, 36.65)], crs=4214)
    assert reproject(series, 4326).iloc[0].equals_exact(series.to_crs(4326).iloc[0], tolerance=0)


def test_a_frame_without_crs_is_refused_as_geopandas_refuses_it():
    with pytest.raises(ValueError, match="naive"):
        reproject(gpd.GeoSeries([shapely.Point(0, 0)]), 4548)


def test_a_new_thread_reuses_the_search_of_another(jinan_frame):
    reproject(jinan_frame, 4548)  # searched here (or earlier in the session)
    misses = _transform._pipeline.cache_info().misses
    out: list[gpd.GeoDataFrame] = []
    worker = threading.Thread(target=lambda: out.append(reproject(jinan_frame, 4548)))
    worker.start()
    worker.join()
    assert _transform._pipeline.cache_info().misses == misses  # no second search
    assert out[0].geometry.iloc[0].equals_exact(jinan_frame.to_crs(4548).geometry.iloc[0], tolerance=0)
    x, y = transformer(4326, 4548).transform(117.0, 36.65)
    assert (x, y) == pytest.approx((500000.0, 4057669.0), abs=1.0)  # lon 117 is the zone's central meridian


def test_the_code_changes_crs_only_through_reproject():
    """A ``to_crs`` or ``Transformer.from_crs`` elsewhere would search again on every rerun of the app."""
    files = [*ROOT.glob("spatial/**/*.py"), *ROOT.glob("layers/**/*.py"), *ROOT.glob("app_pages/*.py"),
             ROOT / "streamlit_app.py"]
    found = [f"{f.relative_to(ROOT)}:{i}" for f in files if f.name != "_transform.py"
             for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1)
             if re.search(r"\.to_crs\(|Transformer\.from_crs\(", line)]
    assert len(files) > 50 and found == []
