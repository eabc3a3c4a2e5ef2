"""Distance from every residential cell to the nearest facility of a type: one search per type.

Two methods, named on every figure:

``network``
    along the streets. The cells are snapped to their nearest street segment
    once (:func:`snap_cells`); for each facility type one multi-source
    Dijkstra runs from all its facilities at once
    (:func:`spatial.isochrones.nearest_facility_distances`, direction
    "to the facility"), and a cell's distance is its walk to the street, plus
    the shorter way along its segment to either end node and that node's
    distance, or straight along the segment to a facility on the same segment.
    No loop over facilities, and no loop over cells.
``buffer``
    straight-line distance (what a 服务半径 means in most standards' own
    wording): a KD-tree of the facilities' points, or of points every
    :data:`STRAIGHT_SPACING_M` along lines and polygon outlines (a cell inside
    a park polygon is at 0 m), so within half that spacing of the exact
    distance.

Both return, per cell, the distance in metres (``inf`` beyond the search
limit or where no street reaches the cell) and the position of the nearest
facility. The functions take plain arrays and frames, so siting
(:mod:`spatial.siting`, issue 11) can call them on its own demand points.

>>> import geopandas as gpd, numpy as np, shapely
>>> fac = gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)], crs="EPSG:32635")
>>> straight_distances(np.array([[3.0, 4.0], [30.0, 40.0]]), fac, crs="EPSG:32635").distance
array([ 5., 50.])
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from .._errors import EmptyLayerError, ParameterError
from .._segments import snap_points
from ..isochrones import _entry_points, _geoms_in, nearest_facility_distances
from ..network import StreetNetwork
from ..thresholds import check_positive

__all__ = ["CellAccess", "Reach", "network_distances", "snap_cells", "straight_distances"]

#: Spacing of the points a line or polygon outline is measured from by the straight-line method, metres.
STRAIGHT_SPACING_M = 10.0

#: Ways to measure, as the CLI names them.
METHODS: tuple[str, ...] = ("network", "buffer")


@dataclass(eq=False)
class CellAccess:
    """Demand points snapped to a street network once, for any number of facility searches.

    Attributes
    ----------
    net : StreetNetwork
    n : int
        Number of points given.
    point : numpy.ndarray of int64
        Positions (in the points given) of the points within ``max_access_m`` of a street.
    edge, offset_m, snap_m : numpy.ndarray
        Their segment, position along it from ``edge_u`` (metres of network
        length) and straight walk to it (metres).
    max_access_m : float
        Longest walk from a point to a street, metres.
    """

    net: StreetNetwork
    n: int
    point: np.ndarray
    edge: np.ndarray
    offset_m: np.ndarray
    snap_m: np.ndarray
    max_access_m: float

    @property
    def off_network(self) -> np.ndarray:
        """Boolean mask of the points farther than ``max_access_m`` from every street."""
        mask = np.ones(self.n, dtype=bool)
        mask[self.point] = False
        return mask


@dataclass(eq=False)
class Reach:
    """Distance from each demand point to its nearest facility of one type.

    Attributes
    ----------
    distance : numpy.ndarray of float64, shape (n,)
        Metres; ``inf`` beyond ``limit_m`` or where the point has no street.
    nearest : numpy.ndarray of int64, shape (n,)
        Position of the nearest facility in the frame searched; -1 where none.
    method : str
        ``network`` or ``buffer``.
    limit_m : float or None
        How far the search looked, metres.
    n_facilities : int
        Facilities searched.
    unreached : pandas.DataFrame
        Facilities no street reaches (network method), with their distance to the nearest street.
    """

    distance: np.ndarray
    nearest: np.ndarray
    method: str
    limit_m: float | None
    n_facilities: int
    unreached: pd.DataFrame = field(default_factory=pd.DataFrame)


def snap_cells(net: StreetNetwork, xy: np.ndarray, *, max_access_m: float = 500.0) -> CellAccess:
    """Snap demand points (metres, in ``net.crs``) to their nearest street segment, once.

    Parameters
    ----------
    net : StreetNetwork
    xy : numpy.ndarray, shape (n, 2)
        Points in the network's CRS (e.g. :attr:`Cells.xy` when the cells share it).
    max_access_m : float, keyword-only
        Points farther than this from every street are off the network
        (their distance is ``inf``; counted and said by the evaluation).
    """
    check_positive(max_access_m, "最大步行接入距离 max_access_m")
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    point, edge, offset, snap = snap_points(net, xy[:, 0], xy[:, 1], max_distance_m=max_access_m)
    return CellAccess(net=net, n=len(xy), point=point, edge=edge, offset_m=offset, snap_m=snap,
                      max_access_m=max_access_m)


def network_distances(access: CellAccess, facilities: gpd.GeoDataFrame, *, limit_m: float,
                      max_snap_m: float = 500.0, entry_spacing_m: float = 50.0) -> Reach:
    """Network distance from every snapped point to its nearest facility: one multi-source search.

    Parameters
    ----------
    access : CellAccess
        From :func:`snap_cells`.
    facilities : GeoDataFrame
        The facilities of one type (points, lines or polygons; any CRS).
    limit_m : float, keyword-only
        Search limit, metres: farther points get ``inf``.
    max_snap_m, entry_spacing_m : float, keyword-only
        As :func:`spatial.isochrones.nearest_facility_distances`.

    Returns
    -------
    Reach
        Facilities no street reaches are listed in ``unreached`` (not warned about).
    """
    check_positive(limit_m, "搜索距离 limit_m")
    net = access.net
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the unreached facilities are returned instead
        res = nearest_facility_distances(net, facilities, cutoff_m=limit_m, max_snap_m=max_snap_m,
                                         entry_spacing_m=entry_spacing_m, direction="to_facility")
    d = res.distance
    e = access.edge
    u, v = net.edge_u[e], net.edge_v[e]
    length = net.edge_length[e]
    t = access.offset_m
    two_way = net.two_way()[e]
    # from the point to an end node of its segment, then on: a one-way segment only runs to v
    via_u = np.where(two_way, t + d[u], np.inf)
    via_v = (length - t) + d[v]
    best = np.minimum(via_u, via_v)
    who = np.where(via_u <= via_v, res.nearest[u], res.nearest[v])
    direct, direct_fac = _same_segment(access, res.entry_arrays, two_way)
    closer = direct < best
    best = np.where(closer, direct, best)
    who = np.where(closer, direct_fac, who)
    total = access.snap_m + best
    far = ~(total <= limit_m)
    total[far] = np.inf
    who[far] = -1
    distance = np.full(access.n, np.inf)
    nearest = np.full(access.n, -1, dtype=np.int64)
    distance[access.point] = total
    nearest[access.point] = who
    return Reach(distance=distance, nearest=nearest, method="network", limit_m=float(limit_m),
                 n_facilities=len(facilities), unreached=res.unreached)


def _same_segment(access: CellAccess, entries: dict[str, np.ndarray],
                  two_way: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance along the segment to a facility entered on the same segment (inf where none), and which."""
    n = len(access.edge)
    direct = np.full(n, np.inf)
    who = np.full(n, -1, dtype=np.int64)
    if not len(entries["edge"]):
        return direct, who
    fe = entries["edge"]
    order = np.argsort(fe, kind="stable")
    fe = fe[order]
    ft = entries["offset_m"][order]
    fs = entries["snap_m"][order]
    ff = entries["facility"][order]
    lo = np.searchsorted(fe, access.edge, side="left")
    hi = np.searchsorted(fe, access.edge, side="right")
    count = hi - lo
    has = np.flatnonzero(count > 0)
    if not len(has):
        return direct, who
    c = count[has]
    owner = np.repeat(has, c)
    j = np.repeat(lo[has] - np.cumsum(c) + c, c) + np.arange(c.sum())
    gap = ft[j] - access.offset_m[owner]
    along = np.where(two_way[owner], np.abs(gap), np.where(gap >= 0, gap, np.inf))
    cost = along + fs[j]
    order2 = np.lexsort((cost, owner))
    first = np.ones(len(order2), dtype=bool)
    first[1:] = owner[order2][1:] != owner[order2][:-1]
    pick = order2[first]
    direct[owner[pick]] = cost[pick]
    who[owner[pick]] = ff[j[pick]]
    return direct, who


def straight_distances(xy: np.ndarray, facilities: gpd.GeoDataFrame, *, crs: Any,
                       limit_m: float | None = None) -> Reach:
    """Straight-line distance from every point to its nearest facility.

    Parameters
    ----------
    xy : numpy.ndarray, shape (n, 2)
        Points, metres in ``crs``.
    facilities : GeoDataFrame
        Points, lines or polygons in any CRS.
    crs : keyword-only
        The metric CRS of ``xy``.
    limit_m : float, optional, keyword-only
        Farther points get ``inf``.

    Notes
    -----
    Lines and polygon outlines are measured from points every
    :data:`STRAIGHT_SPACING_M` metres along them (and their vertices), so a
    distance is within half that spacing of the exact one; points inside a
    polygon are at 0 m.
    """
    if not isinstance(facilities, gpd.GeoDataFrame) or len(facilities) == 0:
        msg = "设施为空 (no facilities to measure from)"
        raise EmptyLayerError(msg)
    if limit_m is not None:
        check_positive(limit_m, "搜索距离 limit_m")
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    geoms = _geoms_in(facilities, crs)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not ok.any():
        msg = "设施没有几何 (the facilities have no geometry)"
        raise EmptyLayerError(msg)
    pos = np.flatnonzero(ok)
    pts, owner = _entry_points(geoms[pos], STRAIGHT_SPACING_M)
    verts, vowner = shapely.get_coordinates(geoms[pos], return_index=True)
    sample = np.concatenate([shapely.get_coordinates(pts), verts])
    sample_owner = pos[np.concatenate([owner, vowner])]
    tree = cKDTree(sample)
    found: Any = tree.query(xy, k=1, distance_upper_bound=np.inf if limit_m is None else float(limit_m))
    dist = np.asarray(found[0], dtype=np.float64)
    idx = np.asarray(found[1])
    nearest = np.where(np.isfinite(dist), sample_owner[np.minimum(idx, len(sample_owner) - 1)], -1).astype(np.int64)
    polys = np.flatnonzero(ok & np.isin(shapely.get_type_id(geoms), (3, 6)))
    if len(polys):
        pi, gi = shapely.STRtree(geoms[polys]).query(shapely.points(xy), predicate="within")
        dist[pi] = 0.0
        nearest[pi] = polys[gi]
    return Reach(distance=dist, nearest=nearest, method="buffer", limit_m=limit_m, n_facilities=len(facilities))


def check_method(method: str) -> str:
    """``method`` when it is ``network`` or ``buffer``, else :class:`ParameterError`."""
    if method not in METHODS:
        msg = f"方法须为 network 或 buffer，收到 {method!r} (method must be 'network' or 'buffer')"
        raise ParameterError(msg)
    return method
