"""The GeoPackage store: layers round-trip, metadata travels, writes are atomic."""

import os
import sqlite3

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import LineString, Point, Polygon

from layers import LAYERS
from spatial import store
from spatial._errors import CRSError, StoreError, UnknownLayerError


@pytest.fixture
def sample_layers():
    parks = gpd.GeoDataFrame(
        {"name": ["济西湿地", "华山湖"], "source": ["s", "s"], "source_datum": ["WGS84"] * 2,
         "precision": ["approximate", "exact"], "item_ids": [["a", "b"], ["c"]]},
        geometry=[Point(116.80, 36.64), Point(117.04, 36.72)], crs="EPSG:4326",
    )
    river = gpd.GeoDataFrame({"name": ["黄河"]}, geometry=[LineString([(116.7, 36.6), (117.2, 36.8)])],
                             crs="EPSG:4326")
    zone = gpd.GeoDataFrame({"name": ["起步区"]}, geometry=[Polygon([(117, 36.8), (117.2, 36.8), (117.2, 36.9)])],
                            crs="EPSG:4326").to_crs("EPSG:4548")  # stored back in 4326
    mixed = gpd.GeoDataFrame({"name": ["a", "b", "c"]},
                             geometry=[Point(117, 36.7), LineString([(117, 36.7), (117.1, 36.7)]), None],
                             crs="EPSG:4326")
    return {"parks": parks, "yellow_river": river, "starting_zone": zone, "places": mixed}


def test_round_trip_and_metadata(tmp_path, sample_layers):
    path = store.write_store(sample_layers, tmp_path / "s.gpkg", specs=LAYERS)
    meta = store.list_layers(path)
    assert list(meta["name"]) == list(sample_layers)
    assert meta.set_index("name").loc["parks", "title_zh"] == "公园"
    assert meta.set_index("name").loc["parks", "n_features"] == 2
    parks = store.read_layer("parks", path=path)
    assert parks.crs.to_epsg() == 4326
    assert parks["item_ids"].iloc[0] == '["a", "b"]'  # lists stored as JSON text
    zone = store.read_layer("starting_zone", path=path)
    assert zone.crs.to_epsg() == 4326
    assert abs(zone.geometry.iloc[0].bounds[0] - 117.0) < 1e-6
    places = store.read_layer("places", path=path)
    assert places.geometry.isna().sum() == 1
    # QGIS reads titles from gpkg_contents
    with sqlite3.connect(path) as con:
        ident = dict(con.execute("select table_name, identifier from gpkg_contents").fetchall())
    assert ident["parks"].startswith("公园")


def test_unknown_layer_and_missing_store(tmp_path, sample_layers):
    path = store.write_store(sample_layers, tmp_path / "s.gpkg")
    with pytest.raises(UnknownLayerError, match=r"没有图层 lakes.*parks"):
        store.read_layer("lakes", path=path)
    with pytest.raises(StoreError, match="planatlas build"):
        store.read_layer("parks", path=tmp_path / "none.gpkg")


def test_failed_write_keeps_previous_store(tmp_path, sample_layers):
    path = store.write_store(sample_layers, tmp_path / "s.gpkg")
    before = path.read_bytes()
    bad = dict(sample_layers)
    bad["broken"] = gpd.GeoDataFrame({"x": [1]}, geometry=[Point(0, 0)])  # no CRS
    with pytest.raises(Exception, match="没有坐标参照系"):
        store.write_store(bad, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["s.gpkg"]  # no temp file left
    assert {r[0] for r in pyogrio.list_layers(path)} >= set(sample_layers)


def test_unwritable_target(tmp_path, sample_layers):
    folder = tmp_path / "ro"
    folder.mkdir()
    os.chmod(folder, 0o500)
    try:
        if os.access(folder, os.W_OK):  # root ignores permissions: use a path under a file
            target = tmp_path / "afile" / "s.gpkg"
            (tmp_path / "afile").write_text("x")
        else:
            target = folder / "s.gpkg"
        with pytest.raises(StoreError, match="无法"):
            store.write_store(sample_layers, target)
    finally:
        os.chmod(folder, 0o700)


def test_target_is_a_folder(tmp_path, sample_layers):
    with pytest.raises(StoreError, match="不是普通文件"):
        store.write_store(sample_layers, tmp_path)


def test_update_adds_removes_and_retitles_atomically(tmp_path, sample_layers):
    path = store.write_store(sample_layers, tmp_path / "s.gpkg", specs=LAYERS,
                             tables={"report": pd.DataFrame([{"name": "r.md", "text": "一、\n正文"}])})
    extra = gpd.GeoDataFrame({"name": ["a"]}, geometry=[Point(117.0, 36.7)], crs="EPSG:4326")
    store.update_store(path, add={"上传_学校": extra}, remove=["places"], retitle={"parks": "城市公园"})
    meta = store.list_layers(path).set_index("name")
    assert "上传_学校" in meta.index and "places" not in meta.index
    assert meta.loc["parks", "title_zh"] == "城市公园"
    assert len(store.read_layer("parks", path=path)) == 2
    assert "places" not in {r[0] for r in pyogrio.list_layers(path)}
    # the attribute tables survive an update
    assert store.read_table("report", path=path)["text"].iloc[0] == "一、\n正文"
    assert store.read_table("nothing", path=path) is None
    assert [p.name for p in tmp_path.iterdir()] == ["s.gpkg"]


def test_update_never_overwrites_silently(tmp_path, sample_layers):
    path = store.write_store(sample_layers, tmp_path / "s.gpkg", specs=LAYERS)
    before = path.read_bytes()
    one = gpd.GeoDataFrame({"name": ["x"]}, geometry=[Point(117.0, 36.7)], crs="EPSG:4326")
    with pytest.raises(StoreError, match="已有图层 parks"):
        store.update_store(path, add={"parks": one})
    with pytest.raises(UnknownLayerError):
        store.update_store(path, remove=["lakes"])
    with pytest.raises(CRSError):  # a frame without CRS: nothing changes
        store.update_store(path, add={"bad": gpd.GeoDataFrame({"x": [1]}, geometry=[Point(0, 0)])})
    assert path.read_bytes() == before
    store.update_store(path, add={"parks": one}, replace=True)
    assert list(store.read_layer("parks", path=path)["name"]) == ["x"]
    assert store.read_specs(path)["parks"].title_zh == "公园"  # a replaced layer keeps its spec
