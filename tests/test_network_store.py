"""network.from_store: the routable network a store holds, cached by the layer's content."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from scipy.sparse import csgraph

from spatial import intake, network, store
from spatial._errors import NetworkDataError

SMALL = Path(__file__).resolve().parent / "data" / "intake_jinan.osm"


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return intake.import_osm(SMALL, store_path=tmp_path_factory.mktemp("net") / "s.gpkg").store


def test_drive_honours_one_way_and_walk_does_not(small_store: Path) -> None:
    walk = network.from_store(small_store, mode="walk")
    drive = network.from_store(small_store, mode="drive")
    assert walk.crs.to_epsg() == 4548 and drive.edge_oneway.sum() == 2
    # 文化东路 runs west to east one way: driving back east -> west takes a detour
    ids = {int(i): k for k, i in enumerate(drive.node_ids)}
    west, east = ids[1_000_000_004], ids[1_000_000_006]
    d_drive = csgraph.dijkstra(drive.graph, indices=[east])[0, west]
    d_walk = csgraph.dijkstra(walk.graph, indices=[{int(i): k for k, i in enumerate(walk.node_ids)}[1_000_000_006]])
    assert d_walk[0, {int(i): k for k, i in enumerate(walk.node_ids)}[1_000_000_004]] == pytest.approx(894.0, abs=0.1)
    assert d_drive > 894.0 + 800


def test_second_read_comes_from_the_cache(small_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = network.from_store(small_store, mode="bike")

    def no_rebuild(*args, **kwargs):
        raise AssertionError("rebuilt although the layer did not change")

    monkeypatch.setattr(network, "_from_edges", no_rebuild)
    again = network.from_store(small_store, mode="bike")
    assert np.array_equal(again.node_ids, first.node_ids)
    assert again.source.startswith("network_bike（s.gpkg：OpenStreetMap")  # the layer, the store, the provenance


def test_missing_layer_or_columns_are_clear(tmp_path: Path, small_store: Path) -> None:
    path = tmp_path / "x.gpkg"
    store.write_store({"roads": gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.LineString([(117, 36.6),
                                                                                          (117.01, 36.6)])], crs=4326)},
                      path)
    with pytest.raises(NetworkDataError, match="没有街道网络图层 network_walk"):
        network.from_store(path)
    with pytest.raises(NetworkDataError, match="缺少"):
        network.from_store(path, layer="roads")
    with pytest.raises(NetworkDataError, match="无法打开"):
        network.from_store(tmp_path / "none.gpkg")
