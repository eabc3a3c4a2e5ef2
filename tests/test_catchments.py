"""Tests of per-facility catchments (``service_areas(per_facility=True)``) traced on the grid.

The grid catchments are checked against hand-computed oracles on small
hand-built street networks: where the boundary between two facilities falls,
that neighbouring catchments share it (no overlap), that together they cover
what the combined grid outline covers, that each street piece lies in its
nearest facility's catchment, and that they agree with the exact catchments
within the error the result reports.
"""

from __future__ import annotations

import math
import sys

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from spatial import isochrones
from spatial.isochrones import _reached_pieces, _substrings, nearest_facility_distances, service_areas
from spatial.network import from_graph

X0, Y0 = 500_000.0, 4_060_000.0  # EPSG:4548 metres near Jinan (117E)
CRS = "EPSG:4548"
BUFFER = 10.0
CELL = 2.5


def grid_graph(n: int = 5, spacing: float = 100.0) -> nx.MultiDiGraph:
    """Streets on an n x n grid of junctions ``spacing`` metres apart, both ways."""
    G = nx.MultiDiGraph(crs=CRS)
    for i in range(n):
        for j in range(n):
            G.add_node(i * n + j, x=X0 + i * spacing, y=Y0 + j * spacing)
    for i in range(n):
        for j in range(n):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < n and j + dj < n:
                    a, b = i * n + j, (i + di) * n + j + dj
                    pa = (X0 + i * spacing, Y0 + j * spacing)
                    pb = (X0 + (i + di) * spacing, Y0 + (j + dj) * spacing)
                    geom = shapely.LineString([pa, pb])
                    G.add_edge(a, b, length=spacing, geometry=geom)
                    G.add_edge(b, a, length=spacing, geometry=geom.reverse())
    return G


@pytest.fixture(scope="module")
def net():
    return from_graph(grid_graph(), mode="walk")


def points(*xy, **cols) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in xy], crs=CRS)


@pytest.fixture(scope="module")
def three(net):
    """Three facilities on the streets of the grid: at (30, 0), (400, 0) and (200, 400)."""
    fac = points((30, 0), (400, 0), (200, 400), name=["school", "clinic", "market"]).set_index("name")
    res = nearest_facility_distances(net, fac, cutoff_m=300.0)
    kw = {"max_distance_m": 300.0, "edge_buffer_m": BUFFER, "grid_m": CELL}
    grid = service_areas(res, per_facility=True, outline="grid", **kw).to_crs(CRS)
    exact = service_areas(res, per_facility=True, outline="exact", **kw).to_crs(CRS)  # quad_segs as the check
    combined = service_areas(res, outline="grid", **kw).to_crs(CRS)
    return res, grid, exact, combined


def test_rows_keep_the_labels_and_say_how_they_were_traced(three):
    _, grid, _, _ = three
    assert list(grid["facility"]) == ["school", "clinic", "market"]
    assert (grid["outline"] == "grid").all() and (grid["grid_m"] == CELL).all()
    assert grid.geometry.is_valid.all() and not grid.geometry.is_empty.any()
    assert grid["area_check_pct"].nunique() == 1 and abs(grid["area_check_pct"].iloc[0]) < 2.0


def test_boundary_falls_where_the_two_facilities_are_equally_far(three):
    # On the bottom street school (30, 0) and clinic (400, 0) are equally far (185 m) at x = 215.
    _, grid, _, _ = three
    g = grid.set_index("facility").geometry
    assert g["school"].contains(shapely.Point(X0 + 215 - 2 * CELL, Y0))
    assert g["clinic"].contains(shapely.Point(X0 + 215 + 2 * CELL, Y0))
    assert not g["school"].contains(shapely.Point(X0 + 215 + 2 * CELL, Y0))
    assert not g["clinic"].contains(shapely.Point(X0 + 215 - 2 * CELL, Y0))
    # Up the street x = 200 the school is 170 + y away and the market (200, 400) 400 - y: equal at y = 115.
    assert g["school"].contains(shapely.Point(X0 + 200, Y0 + 115 - 2 * CELL))
    assert g["market"].contains(shapely.Point(X0 + 200, Y0 + 115 + 2 * CELL))
    assert not g["market"].contains(shapely.Point(X0 + 200, Y0 + 115 - 2 * CELL))


def test_neighbouring_catchments_touch_but_never_overlap(three):
    _, grid, _, _ = three
    geoms = grid.geometry.to_numpy()
    for i in range(len(geoms)):
        for j in range(i + 1, len(geoms)):
            assert shapely.area(shapely.intersection(geoms[i], geoms[j])) < 1e-3
    # school and clinic share the boundary across the bottom street at x = 215: they touch there
    g = grid.set_index("facility").geometry
    assert g["school"].distance(g["clinic"]) < 1e-6


def test_together_they_cover_the_combined_outline(three):
    res, grid, _, combined = three
    union = shapely.union_all(grid.geometry.to_numpy())
    outline = combined.geometry.iloc[0]
    # The combined outline is traced from whole streets, the catchments from the same streets cut
    # where two facilities are equally far: they differ only around those cuts. What the catchments
    # lose there is a notch of at most half a cell where the boundary between two of them meets
    # the edge of a strip (two per cut); the cut's end point, sampled as a vertex, moves the strip
    # edge nearby by a fraction of a cell. A cell square per notch is allowed, no more.
    edges, _, _, fac = _reached_pieces(res, 300.0, per_facility=True)
    owners: dict[int, set[int]] = {}
    for e, f in zip(edges.tolist(), fac.tolist(), strict=True):
        owners.setdefault(e, set()).add(f)
    cuts = sum(len(o) > 1 for o in owners.values())
    assert cuts >= 3  # bottom street, x = 200 and x = 100 streets at least
    assert union.difference(outline).area <= cuts * CELL * CELL
    assert outline.difference(union).area <= 2 * cuts * CELL * CELL
    assert abs(union.area - outline.area) / outline.area < 0.005


def test_each_street_piece_lies_in_its_nearest_facilitys_catchment(net, three):
    res, grid, _, _ = three
    edges, starts, ends, fac = _reached_pieces(res, 300.0, per_facility=True)
    lines = _substrings(net.edge_geometry[edges], net.edge_length[edges], starts, ends)
    geoms = grid.geometry.to_numpy()
    long = shapely.length(lines) > 4 * CELL
    mid = shapely.line_interpolate_point(lines[long], 0.5, normalized=True)
    inside = shapely.contains(geoms[fac[long]], mid)
    assert long.sum() > 20 and inside.all()
    for other in range(len(geoms)):
        mine = fac[long] == other
        assert not shapely.contains(geoms[other], mid[~mine]).any()


def test_grid_catchments_match_the_exact_ones_within_the_checked_error(three):
    _, grid, exact, _ = three
    # All pieces lie in one check window here: the reported error is that of the whole result.
    exact_union = shapely.union_all(exact.geometry.to_numpy()).area
    total = grid.geometry.area.sum()
    assert grid["area_check_pct"].iloc[0] == pytest.approx(100 * (total - exact_union) / exact_union, abs=1e-6)
    for g, e in zip(grid.geometry, exact.geometry, strict=True):
        # each grid catchment lies within a cell of its exact catchment ...
        assert g.difference(e.buffer(CELL * math.sqrt(2))).area < 1e-3
        # ... and the exact one exceeds it only where it overlaps a neighbour (the exact
        # catchments overlap within the strip width of their shared boundary)
        others = shapely.union_all([o for o in exact.geometry if not o.equals(e)])
        assert e.difference(g).difference(others).area <= 0.02 * e.area


def test_isolated_catchment_is_within_a_cell_of_the_exact_one(net):
    fac = points((0, 0), (400, 400), name=["a", "b"]).set_index("name")
    kw = {"max_distance_m": 150.0, "edge_buffer_m": BUFFER, "grid_m": CELL, "per_facility": True}
    grid = service_areas(net, fac, outline="grid", **kw).to_crs(CRS)
    exact = service_areas(net, fac, outline="exact", quad_segs=16, **kw).to_crs(CRS)
    for g, e in zip(grid.geometry, exact.geometry, strict=True):
        assert shapely.hausdorff_distance(g.boundary, e.boundary) <= CELL * math.sqrt(2) + 0.5
        assert abs(g.area - e.area) / e.area < 0.02


def test_facility_reaching_nothing_has_an_empty_catchment(net):
    fac = points((0, 0), (3000, 3000), name=["near", "far"]).set_index("name")
    with pytest.warns(UserWarning, match="1 of 2 facilities"):
        sa = service_areas(net, fac, max_distance_m=150.0, per_facility=True, outline="grid", grid_m=CELL,
                           edge_buffer_m=BUFFER)
    assert list(sa["facility"]) == ["near", "far"]
    assert not sa.geometry.iloc[0].is_empty and sa.geometry.iloc[1].is_empty
    assert sa["area_m2"].iloc[1] == 0.0


def test_auto_traces_catchments_on_the_grid_for_many_pieces_and_falls_back(net, monkeypatch):
    fac = points((0, 0), (400, 0))
    assert (service_areas(net, fac, max_distance_m=150.0, per_facility=True)["outline"] == "exact").all()
    monkeypatch.setattr(isochrones, "AUTO_GRID_PIECES", 1)
    sa = service_areas(net, fac, max_distance_m=150.0, per_facility=True)
    assert (sa["outline"] == "grid").all() and (sa["grid_m"] == 12.5).all()
    assert (service_areas(net, fac, max_distance_m=150.0, per_facility=True, outline="exact")["outline"]
            == "exact").all()
    # Without contourpy the auto mode still answers, with the exact unions; "grid" says why it cannot.
    monkeypatch.setitem(sys.modules, "contourpy", None)
    assert (service_areas(net, fac, max_distance_m=150.0, per_facility=True)["outline"] == "exact").all()
    with pytest.raises(ImportError):
        service_areas(net, fac, max_distance_m=150.0, per_facility=True, outline="grid")


def test_several_distances_give_nested_catchments(net):
    fac = points((0, 0), (400, 400), name=["a", "b"]).set_index("name")
    sa = service_areas(net, fac, max_distance_m=[100.0, 200.0], per_facility=True, outline="grid", grid_m=CELL,
                       edge_buffer_m=BUFFER).to_crs(CRS)
    assert list(sa["max_distance_m"]) == [100.0, 100.0, 200.0, 200.0]
    for k in range(2):
        small, big = sa.geometry.iloc[k], sa.geometry.iloc[k + 2]
        assert small.difference(big).area < 1e-3 and big.area > small.area
    assert np.all(sa["area_m2"] > 0)
