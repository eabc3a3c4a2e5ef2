"""Who can reach what: distances from every candidate site and the existing facilities to the demand cells.

The siting models need one relation: for each candidate j and demand cell i,
the distance from i to j when it is within a search limit (stored sparse:
a 500 m reach touches a few dozen cells of a city's 100,000), and for each
demand cell the distance to the nearest existing facility. Two ways to get
it, named on every result:

* **along the streets** (:func:`network_relation`): every candidate enters the
  network at the nearest street segment, as a virtual node joined to both
  ends of that segment (like the facilities of :mod:`spatial.isochrones`);
  :func:`scipy.sparse.csgraph.dijkstra` searches from all candidates of a
  chunk at once with ``limit=`` the search limit, so it only walks the few
  hundred nodes around each. Demand cells are snapped to their segment too
  and reached from its two ends, or directly along it when a candidate
  shares the segment (snapping: :func:`spatial._segments.snap_points`).
  Existing facilities are one multi-source search, the evaluation's
  (:func:`spatial.lifecircle.reach.network_distances`). Distances are
  those of a resident walking *to* the facility (one-way streets count on a
  driving network).
* **straight line** (:func:`straight_line_relation`, explicitly): a KD-tree of
  the demand points against the candidate points (an R-tree with exact
  distances when candidates are polygons, e.g. parcels: the distance to the
  parcel's edge).

Chunks keep memory bounded: the dense rows of one search chunk never exceed
``chunk_mb``; nothing is ever dense over all candidates × all nodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy import sparse
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from .. import vocab
from .._errors import EmptyLayerError, NetworkDataError, ParameterError
from .._segments import snap_points
from ..lifecircle.reach import network_distances, snap_cells
from ..network import StreetNetwork, csr_min
from ..projection import metric_crs_for, reproject, require_crs
from ..thresholds import check_positive

__all__ = ["TOLERANCE_M", "Relation", "network_relation", "straight_line_relation"]

#: Distances within this many metres of a reach count as within it: the snapped offsets of
#: points on streets carry floating-point error, and a resident exactly 300 m away is within 300 m.
TOLERANCE_M = 1e-3


@dataclass(frozen=True, eq=False)
class Relation:
    """Distances between candidates, existing facilities and demand cells.

    Attributes
    ----------
    distance : scipy.sparse.csr_matrix, shape (n_demand, n_candidates)
        Metres from demand cell i to candidate j, stored only where within
        ``limit_m`` (a stored 0 is a distance of 0 m).
    existing_m : numpy.ndarray, shape (n_demand,)
        Metres to the nearest existing facility; ``inf`` beyond ``limit_m``
        or when there is none.
    limit_m : float
        Search limit, metres.
    method : str
        ``"network"`` or ``"buffer"`` (straight line).
    source : str
        What the distances were measured on, said next to every figure.
    unreached_candidates : numpy.ndarray of int64
        Candidates with no street within reach of the snap (network method);
        they cover nobody and are listed, not dropped silently.
    """

    distance: sparse.csr_matrix
    existing_m: np.ndarray
    limit_m: float
    method: str
    source: str
    unreached_candidates: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_demand, n_candidates)``."""
        rows, cols = self.distance.shape
        return int(rows), int(cols)

    def cover(self, distance_m: float) -> sparse.csr_matrix:
        """Coverage within ``distance_m``: 1.0 where a candidate reaches a demand cell."""
        self._check_within(distance_m)
        D = self.distance
        rows = np.repeat(np.arange(D.shape[0]), np.diff(D.indptr))
        ok = D.data <= distance_m + TOLERANCE_M
        return sparse.csr_matrix((np.ones(int(ok.sum())), (rows[ok], D.indices[ok])), shape=D.shape)

    def covered_before(self, distance_m: float) -> np.ndarray:
        """Demand cells an existing facility already reaches within ``distance_m``."""
        self._check_within(distance_m)
        covered: np.ndarray = np.asarray(self.existing_m <= distance_m + TOLERANCE_M)
        return covered

    def current_m(self) -> np.ndarray:
        """Distance to the nearest existing facility, capped at the search limit (for the p-median)."""
        capped: np.ndarray = np.minimum(self.existing_m, self.limit_m)
        return capped

    def _check_within(self, distance_m: float) -> None:
        if distance_m > self.limit_m + TOLERANCE_M:
            msg = (f"距离 {distance_m:g} m 超过了计算时的搜索范围 {self.limit_m:g} m "
                   f"(distance beyond the search limit the relation was built with)")
            raise ParameterError(msg)


def _points(gdf: gpd.GeoDataFrame, crs: CRS) -> np.ndarray:
    """Point of each feature in ``crs`` (points as they are, others their representative point)."""
    geoms = np.asarray(reproject(gdf, crs).geometry.values, dtype=object)
    is_point = shapely.get_type_id(geoms) == 0
    out = geoms.copy()
    out[~is_point] = shapely.point_on_surface(geoms[~is_point])
    return out


def _check_frames(demand: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame, limit_m: float) -> float:
    require_crs(demand, name="需求 demand")
    require_crs(candidates, name="候选点 candidates")
    if len(demand) == 0:
        msg = "没有需求单元：人口数据在研究范围内没有居民 (no demand cells: no residents in the area)"
        raise EmptyLayerError(msg)
    if len(candidates) == 0:
        msg = "没有候选点 (no candidate sites)"
        raise EmptyLayerError(msg)
    return check_positive(limit_m, "搜索距离 limit_m")


# --------------------------------------------------------------------------- straight line


def straight_line_relation(
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    existing: gpd.GeoDataFrame | None,
    *,
    limit_m: float,
) -> Relation:
    """Straight-line distances (metres, in the demand's metric CRS) within ``limit_m``.

    Parameters
    ----------
    demand : GeoDataFrame
        Demand cells (points, or polygons measured from their representative point).
    candidates : GeoDataFrame
        Candidate sites: points (KD-tree) or polygons (distance to the polygon).
    existing : GeoDataFrame or None
        Existing facilities of the type (distance to their geometry).
    limit_m : float, keyword-only
        Search limit, metres.
    """
    limit = _check_frames(demand, candidates, limit_m)
    crs = metric_crs_for(demand, name="需求 demand")
    dpts = _points(demand, crs)
    cgeoms = np.asarray(reproject(candidates, crs).geometry.values, dtype=object)
    dxy = shapely.get_coordinates(dpts)
    if np.all(shapely.get_type_id(cgeoms) == 0):
        pairs = cKDTree(dxy).sparse_distance_matrix(cKDTree(shapely.get_coordinates(cgeoms)), limit + TOLERANCE_M,
                                                    output_type="ndarray")
        rows, cols, dist = pairs["i"], pairs["j"], pairs["v"]  # the KD-tree is exact to the metre's rounding
    else:
        rows, cols = shapely.STRtree(cgeoms).query(dpts, predicate="dwithin", distance=limit + TOLERANCE_M)
        dist = shapely.distance(dpts[rows], cgeoms[cols])
    matrix = sparse.csr_matrix((np.asarray(dist, dtype=np.float64), (rows, cols)), shape=(len(dpts), len(cgeoms)))
    existing_m = np.full(len(dpts), np.inf)
    if existing is not None and len(existing):
        require_crs(existing, name="现有设施 existing")
        egeoms = np.asarray(reproject(existing, crs).geometry.values, dtype=object)
        egeoms = egeoms[~(shapely.is_empty(egeoms) | shapely.is_missing(egeoms))]
        if len(egeoms):
            (di, _ei), d = shapely.STRtree(egeoms).query_nearest(dpts, max_distance=limit + TOLERANCE_M,
                                                                  return_distance=True,
                                                                  all_matches=False)
            existing_m[di] = d
    return Relation(matrix, existing_m, limit, "buffer", vocab.label("method", "buffer"))


# --------------------------------------------------------------------------- network


@dataclass(frozen=True)
class _Snap:
    """Points on street segments: segment, offset along it from its start (m), straight-line snap (m)."""

    edge: np.ndarray
    offset: np.ndarray
    snap: np.ndarray
    ok: np.ndarray  # points within max_snap_m of a street


def _snap(net: StreetNetwork, points: np.ndarray, max_snap_m: float) -> _Snap:
    """Every point on its nearest segment (:func:`spatial._segments.snap_points`, exact), as full-length arrays."""
    n = len(points)
    xy = shapely.get_coordinates(points)
    pos, edge, offset, snap = snap_points(net, xy[:, 0], xy[:, 1], max_distance_m=max_snap_m)
    out = _Snap(np.zeros(n, dtype=np.int64), np.zeros(n), np.full(n, np.inf), np.zeros(n, dtype=bool))
    out.edge[pos], out.offset[pos], out.snap[pos], out.ok[pos] = edge, offset, snap, True
    return out


def _entry_points(net: StreetNetwork, geoms: np.ndarray, max_snap_m: float) -> np.ndarray:
    """Where each candidate is entered: points as they are, others at their point nearest a street."""
    out = geoms.copy()
    other = np.flatnonzero(shapely.get_type_id(geoms) != 0)
    if len(other):
        out[other] = shapely.point_on_surface(geoms[other])
        (gi, ei) = net.edge_tree.query_nearest(geoms[other], max_distance=max_snap_m, all_matches=False)
        out[other[gi]] = shapely.get_point(shapely.shortest_line(geoms[other][gi], net.edge_geometry[ei]), 0)
    return out


def _arms(net: StreetNetwork, s: _Snap) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """From a snapped demand point to its segment's ends: (start node, cost, end node, cost; inf if barred).

    A resident walks *to* the facility: towards the segment's end always, towards
    its start only where the segment is two-way in this mode.
    """
    e = s.edge
    length = net.edge_length[e]
    two_way = net.two_way()[e]
    cost_u = np.where(two_way, s.snap + s.offset, np.inf)
    cost_v = s.snap + length - s.offset
    cost_u[~s.ok] = np.inf
    cost_v[~s.ok] = np.inf
    return net.edge_u[e], cost_u, net.edge_v[e], cost_v


def _same_segment(net: StreetNetwork, dem: _Snap, cand: _Snap, limit: float) -> tuple[np.ndarray, ...]:
    """Demand-candidate pairs on the same segment, reached directly along it."""
    d = pd.DataFrame({"edge": dem.edge[dem.ok], "i": np.flatnonzero(dem.ok)})
    c = pd.DataFrame({"edge": cand.edge[cand.ok], "j": np.flatnonzero(cand.ok)})
    pairs = d.merge(c, on="edge")
    i, j = pairs["i"].to_numpy(), pairs["j"].to_numpy()
    along = cand.offset[j] - dem.offset[i]
    two_way = net.two_way()[pairs["edge"].to_numpy()]
    length = np.where(two_way, np.abs(along), np.where(along >= 0, along, np.inf))
    dist = dem.snap[i] + cand.snap[j] + length
    ok = dist <= limit + TOLERANCE_M
    return i[ok], j[ok], dist[ok]


def _min_pairs(rows: np.ndarray, cols: np.ndarray, dist: np.ndarray, shape: tuple[int, int]) -> sparse.csr_matrix:
    """CSR matrix from triplets keeping the smallest distance of repeated pairs (zeros kept)."""
    order = np.lexsort((dist, cols, rows))
    r, c, d = rows[order], cols[order], dist[order]
    first = np.ones(len(r), dtype=bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    r, c, d = r[first], c[first], d[first]
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(r, minlength=shape[0]), out=indptr[1:])
    return sparse.csr_matrix((d, c, indptr), shape=shape)


def network_relation(
    net: StreetNetwork,
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    existing: gpd.GeoDataFrame | None,
    *,
    limit_m: float,
    max_snap_m: float = 500.0,
    chunk_mb: float = 256.0,
) -> Relation:
    """Street distances (metres) from demand cells to candidates and to the existing facilities.

    Parameters
    ----------
    net : StreetNetwork
        The street network (its ``mode`` decides one-way handling).
    demand : GeoDataFrame
        Demand cells (points, or polygons from their representative point).
    candidates : GeoDataFrame
        Candidate sites (points; polygons enter at their point nearest a street).
    existing : GeoDataFrame or None
        Existing facilities of the type.
    limit_m : float, keyword-only
        Search limit, metres: pairs farther apart are not stored.
    max_snap_m : float, keyword-only
        Largest straight-line distance from a point to a street to be connected.
    chunk_mb : float, keyword-only
        Memory of the dense rows of one search chunk, megabytes.

    Raises
    ------
    NetworkDataError
        When no candidate or no demand cell lies within ``max_snap_m`` of a street.
    """
    limit = _check_frames(demand, candidates, limit_m)
    check_positive(max_snap_m, "最大接入距离 max_snap_m")
    dpts = _points(demand, net.crs)
    cgeoms = np.asarray(reproject(candidates, net.crs).geometry.values, dtype=object)
    dem = _snap(net, dpts, max_snap_m)
    cand = _snap(net, _entry_points(net, cgeoms, max_snap_m), max_snap_m)
    if not dem.ok.any() or not cand.ok.any():
        what = "需求单元" if not dem.ok.any() else "候选点"
        msg = (f"街道网络没有覆盖这些{what}：都不在街道 {max_snap_m:g} m 以内 "
               f"(the street network does not reach the {'demand cells' if what == '需求单元' else 'candidates'})")
        raise NetworkDataError(msg)
    n, k, m = net.n_nodes, len(cgeoms), len(dpts)
    # virtual candidate nodes n..n+k-1 on the reversed graph: a search from them gives node -> candidate
    js = np.flatnonzero(cand.ok)
    e = cand.edge[js]
    two_way = net.two_way()[e]
    rows = np.concatenate([js, js[two_way]]) + n
    cols = np.concatenate([net.edge_u[e], net.edge_v[e][two_way]])
    to_v = cand.snap + net.edge_length[cand.edge] - cand.offset
    cost = np.concatenate([(cand.snap + cand.offset)[js], to_v[js][two_way]])
    graph = csr_min(rows, cols, cost, n + k, base=net.graph_reversed)
    u, cost_u, v, cost_v = _arms(net, dem)
    chunk = int(max(1, min(len(js), chunk_mb * 2**20 // (8 * (n + k + 3 * m)))))
    parts_r, parts_c, parts_d = [], [], []
    for start in range(0, len(js), chunk):
        block = js[start:start + chunk]
        dist = dijkstra(graph, directed=True, indices=block + n, limit=limit + TOLERANCE_M)[:, :n]
        reach = np.minimum(dist[:, u] + cost_u, dist[:, v] + cost_v)
        bi, di = np.nonzero(reach <= limit + TOLERANCE_M)
        parts_r.append(di)
        parts_c.append(block[bi])
        parts_d.append(reach[bi, di])
    si, sj, sd = _same_segment(net, dem, cand, limit)
    matrix = _min_pairs(np.concatenate([*parts_r, si]).astype(np.int64),
                        np.concatenate([*parts_c, sj]).astype(np.int64), np.concatenate([*parts_d, sd]), (m, k))
    existing_m = _existing_distances(net, existing, dpts, limit, max_snap_m)
    source = f"{vocab.label('method', 'network')}：{net.source or '街道网络'} ({vocab.label('mode', net.mode)})"
    return Relation(matrix, existing_m, limit, "network", source, np.flatnonzero(~cand.ok).astype(np.int64))


def _existing_distances(net: StreetNetwork, existing: gpd.GeoDataFrame | None, dpts: np.ndarray, limit: float,
                        max_snap_m: float) -> np.ndarray:
    """Metres from every demand cell to the nearest existing facility along the streets: one search,
    the evaluation's (:func:`spatial.lifecircle.reach.network_distances`)."""
    out = np.full(len(dpts), np.inf)
    if existing is None or len(existing) == 0:
        return out
    access = snap_cells(net, shapely.get_coordinates(dpts), max_access_m=max_snap_m)
    try:
        reach = network_distances(access, existing, limit_m=limit + TOLERANCE_M, max_snap_m=max_snap_m)
    except (NetworkDataError, EmptyLayerError):
        return out  # no existing facility is on the network: none reaches anybody
    result: np.ndarray = reach.distance
    return result
