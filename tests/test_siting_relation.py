"""Tests of spatial.siting.relation: distances checked against networkx and brute force."""

from __future__ import annotations

import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from spatial._errors import EmptyLayerError, NetworkDataError, ParameterError
from spatial.network import from_graph
from spatial.siting.relation import network_relation, straight_line_relation

X0, Y0 = 500_000.0, 4_060_000.0  # EPSG:4548 metres near Jinan
CRS = "EPSG:4548"


def grid_graph(n=5, step=100.0, *, oneway=()):
    """An n × n street grid; ``oneway`` lists (u, v) node pairs that only go u -> v."""
    G = nx.MultiDiGraph(crs=CRS)
    ids = {}
    for i in range(n):
        for j in range(n):
            ids[i, j] = len(ids) + 1
            G.add_node(ids[i, j], x=X0 + i * step, y=Y0 + j * step)
    edges = [((i, j), (i + 1, j)) for i in range(n - 1) for j in range(n)]
    edges += [((i, j), (i, j + 1)) for i in range(n) for j in range(n - 1)]
    for a, b in edges:
        pa, pb = (X0 + a[0] * step, Y0 + a[1] * step), (X0 + b[0] * step, Y0 + b[1] * step)
        geom = shapely.LineString([pa, pb])
        G.add_edge(ids[a], ids[b], length=step, geometry=geom)
        if (a, b) not in oneway:
            G.add_edge(ids[b], ids[a], length=step, geometry=geom.reverse())
    return G


def pts(xy, **cols):
    return gpd.GeoDataFrame(cols, geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in xy], crs=CRS)


def oracle(G, demand_xy, cand_xy, *, directed):
    """Resident -> candidate distances on G with every point inserted on its nearest segment (networkx)."""
    H = nx.DiGraph()
    segs = {}
    for u, v, data in G.edges(data=True):
        key = tuple(sorted((u, v)))
        segs.setdefault(key, {"geom": data["geometry"] if u == key[0] else data["geometry"].reverse(),
                              "dirs": set()})["dirs"].add((u, v))
    keys = list(segs)
    lines = [segs[k]["geom"] for k in keys]
    on_seg = {k: [] for k in keys}
    points = {}
    for kind, xy in (("d", demand_xy), ("c", cand_xy)):
        for i, (x, y) in enumerate(xy):
            p = shapely.Point(X0 + x, Y0 + y)
            dists = [line.distance(p) for line in lines]
            k = keys[int(np.argmin(dists))]
            t = segs[k]["geom"].project(p)
            on_seg[k].append((t, (kind, i)))
            points[kind, i] = min(dists)
    for k in keys:
        a, b = k
        length = segs[k]["geom"].length
        chain = [(0.0, a), *sorted(on_seg[k]), (length, b)]
        names = [c[1] for c in chain]
        offs = [c[0] for c in chain]
        for (t1, n1), (t2, n2) in zip(zip(offs, names, strict=True), zip(offs[1:], names[1:], strict=True),
                                      strict=False):
            if (a, b) in segs[k]["dirs"] or not directed:
                H.add_edge(("n", n1) if not isinstance(n1, tuple) else ("p", n1),
                           ("n", n2) if not isinstance(n2, tuple) else ("p", n2), weight=t2 - t1)
            if (b, a) in segs[k]["dirs"] or not directed:
                H.add_edge(("n", n2) if not isinstance(n2, tuple) else ("p", n2),
                           ("n", n1) if not isinstance(n1, tuple) else ("p", n1), weight=t2 - t1)
    out = {}
    for i in range(len(demand_xy)):
        src = ("p", ("d", i))
        if src not in H:
            continue
        lengths = nx.single_source_dijkstra_path_length(H, src, weight="weight")
        for j in range(len(cand_xy)):
            tgt = ("p", ("c", j))
            if tgt in lengths:
                out[i, j] = lengths[tgt] + points["d", i] + points["c", j]
    return out


DEMAND = [(10, 30), (150, 12), (260, 95), (330, 240), (55, 390), (205, 212), (140, 14), (400, 110), (15, 215)]
CANDS = [(156, 30), (100, 300), (310, 0), (245, 262), (400, 400)]


@pytest.mark.parametrize("mode,oneway", [("walk", ()), ("drive", (((0, 0), (1, 0)), ((1, 0), (2, 0)),
                                                                ((2, 2), (2, 3)), ((3, 0), (4, 0))))])
def test_network_distances_equal_networkx_on_split_segments(mode, oneway):
    G = grid_graph(oneway=oneway)
    net = from_graph(G, mode=mode)
    limit = 350.0
    rel = network_relation(net, pts(DEMAND), pts(CANDS), None, limit_m=limit)
    truth = {k: v for k, v in oracle(G, DEMAND, CANDS, directed=mode == "drive").items() if v <= limit + 1e-9}
    coo = rel.distance.tocoo()
    got = {(int(i), int(j)): float(d) for i, j, d in zip(coo.row, coo.col, coo.data, strict=True)}
    assert set(got) == set(truth)
    for key, value in truth.items():
        assert got[key] == pytest.approx(value, abs=1e-6), key
    assert not np.isfinite(rel.existing_m).any() and rel.method == "network"


def test_a_candidate_on_the_same_segment_is_reached_along_it():
    # both on the street from (100,0) to (200,0): 40 m apart along it, plus their snaps (12 + 30)
    net = from_graph(grid_graph(), mode="walk")
    rel = network_relation(net, pts([(140, 12)]), pts([(180, -30)]), None, limit_m=500)
    assert rel.distance[0, 0] == pytest.approx(12 + 40 + 30)


def test_existing_facilities_are_one_search_and_agree_with_the_candidate_distances():
    G = grid_graph()
    net = from_graph(G, mode="walk")
    rel = network_relation(net, pts(DEMAND), pts(CANDS), pts(CANDS[:2]), limit_m=350)
    dense = rel.distance.toarray()
    dense[dense == 0] = np.inf
    coo = rel.distance.tocoo()
    for i, j, d in zip(coo.row, coo.col, coo.data, strict=True):
        dense[i, j] = d
    expected = dense[:, :2].min(axis=1)
    np.testing.assert_allclose(rel.existing_m, expected)
    assert rel.covered_before(200).tolist() == (expected <= 200).tolist()


def test_polygon_candidates_enter_at_their_edge_nearest_a_street():
    net = from_graph(grid_graph(), mode="walk")
    tip = shapely.Polygon([(X0 + 150, Y0 + 15), (X0 + 180, Y0 + 60), (X0 + 120, Y0 + 60)])
    parcel = gpd.GeoDataFrame(geometry=[tip], crs=CRS)
    rel = network_relation(net, pts([(150, -10)]), parcel, None, limit_m=500)
    # the parcel's tip (150, 15) is 15 m from the street y=0; the resident 10 m from it, both at x=150
    assert rel.distance[0, 0] == pytest.approx(10 + 15)


def test_straight_line_distances_are_exact_for_points_and_polygons():
    demand = pts([(0, 0), (300, 400), (1000, 0)])
    cands = pts([(0, 0), (300, 0)])
    rel = straight_line_relation(demand, cands, pts([(1000, 100)]), limit_m=600)
    assert rel.distance[0, 0] == 0 and (0, 0) in set(zip(*rel.distance.nonzero(), strict=True)) | {(0, 0)}
    coo = rel.distance.tocoo()
    got = {(int(i), int(j)): float(d) for i, j, d in zip(coo.row, coo.col, coo.data, strict=True)}
    assert got == pytest.approx({(0, 0): 0.0, (0, 1): 300.0, (1, 0): 500.0, (1, 1): 400.0})
    np.testing.assert_allclose(rel.existing_m, [math.inf, math.inf, 100.0])
    poly = gpd.GeoDataFrame(geometry=[shapely.box(X0 + 100, Y0 - 50, X0 + 200, Y0 + 50)], crs=CRS)
    prel = straight_line_relation(demand, poly, None, limit_m=600)
    assert prel.distance[0, 0] == pytest.approx(100.0)  # to the polygon's edge
    assert rel.cover(300).toarray().tolist() == [[1.0, 1.0], [0.0, 0.0], [0.0, 0.0]]


def test_a_distance_beyond_the_search_limit_is_refused():
    rel = straight_line_relation(pts([(0, 0)]), pts([(10, 0)]), None, limit_m=100)
    with pytest.raises(ParameterError, match="搜索范围"):
        rel.cover(500)


def test_a_network_that_reaches_no_candidate_is_a_clear_error():
    net = from_graph(grid_graph(), mode="walk")
    with pytest.raises(NetworkDataError, match="候选点"):
        network_relation(net, pts(DEMAND), pts([(9000, 9000)]), None, limit_m=300, max_snap_m=100)


def test_no_demand_or_no_candidates_is_a_clear_error():
    with pytest.raises(EmptyLayerError, match="需求"):
        straight_line_relation(pts([]), pts([(0, 0)]), None, limit_m=100)
    with pytest.raises(EmptyLayerError, match="候选点"):
        straight_line_relation(pts([(0, 0)]), pts([]), None, limit_m=100)
