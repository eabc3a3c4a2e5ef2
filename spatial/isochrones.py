"""Network distances to the nearest facility, and service areas drawn from them.

The whole analysis is two vectorised steps on a :class:`~spatial.network.StreetNetwork`:

1. **Snap** every facility to the nearest street *segment* (not the nearest
   node) with a shapely STRtree. The segment is split virtually at the snapped
   point: the facility enters the graph at both end nodes of that segment, at
   the distance along the segment plus the straight-line snapping distance.
2. **Search** once: each facility becomes a virtual node with edges to its
   entry nodes, and one multi-source :func:`scipy.sparse.csgraph.dijkstra`
   (``min_only=True``, ``limit=cutoff``) gives, for every node, the distance to
   the nearest facility and which facility that is. There is no loop over
   facilities, so 1,000 facilities cost about as much as 10.

Service areas are then the street network itself: every segment reached
within the distance (whole segments, plus partial segments cut where the
remaining distance runs out, plus the piece of each facility's own segment
around it), buffered by ``edge_buffer_m`` as an array and merged. This is the
polygon a planner means by "the streets within 1,000 m walk", with holes for
the blocks the streets do not enter; not a convex hull, which would claim the
far side of a river or a railway.

Two ways to merge the strips (``service_areas(outline=...)``): the exact
union of the buffered pieces (``shapely.buffer`` on the array, then
``shapely.union_all`` in spatial tiles on a thread pool), used up to 20,000
reached pieces; and, beyond that, a grid outline: the distance from every
cell of a grid to the nearest reached street, contoured at the buffer width.
The exact union costs GEOS 50-100 microseconds per piece (about 40 s for the
270,000 pieces of 1,000 facilities on a 200,000-node network); the grid
outline is one distance field and one contour, within about one cell of the
exact outline (see :func:`service_areas`). Per-facility catchments follow the
same rule: merged exactly per facility for small results, else traced on the
same grid, each from its own window of the one field, sharing their
boundaries with their neighbours.

Facility geometry
-----------------
* Points enter where they are.
* Lines (greenways, riverside paths) enter at points every
  ``entry_spacing_m`` along them, so they can be reached from any street
  along their length.
* Polygons (parks, campuses) enter at points every ``entry_spacing_m`` along
  their boundary: a park is reached at its edge, from whichever side is
  nearest, not at its centre. Pass ``representative_point()`` geometries to
  model a single entrance instead.
* Lines and polygons also enter at their point closest to the network, so a
  park corner touching a street is never missed between two spaced points.
All entry points of one facility share its virtual node, so the facility is
reached through its nearest entry.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from . import settings
from ._errors import EmptyLayerError, NetworkDataError, ParameterError
from ._segments import snap_points
from .network import StreetNetwork
from .population import PopulationRaster
from .projection import reproject, require_crs, require_features, transformer
from .thresholds import check_positive

__all__ = [
    "NetworkDistances",
    "distance_raster",
    "distance_surface",
    "nearest_facility_distances",
    "service_areas",
]

_DIRECTIONS = ("from_facility", "to_facility")


def _check_direction(direction: str) -> str:
    if direction not in _DIRECTIONS:
        msg = f"方向须为 from_facility 或 to_facility，收到 {direction!r} (direction must be one of {_DIRECTIONS})"
        raise ParameterError(msg)
    return direction


@dataclass(eq=False)
class NetworkDistances:
    """Distances from every street node to its nearest facility.

    Attributes
    ----------
    net : StreetNetwork
        The network searched.
    distance : numpy.ndarray of float64, shape (n_nodes,)
        Network distance in metres, including the facility's snapping
        distance; ``inf`` beyond ``cutoff_m`` or where no facility can be reached.
    nearest : numpy.ndarray of int64, shape (n_nodes,)
        Position (0-based, in the facilities frame) of the nearest facility;
        -1 where ``distance`` is ``inf``.
    facility_index : pandas.Index
        Index labels of the facilities frame, so ``facility_index[nearest]``
        names the facility serving each node.
    entry_arrays : dict of str to numpy.ndarray
        The columns of ``entries`` as arrays (what the search uses).
    entries : pandas.DataFrame
        One row per entry point that reached a street: ``facility`` (position),
        ``edge`` (segment position in ``net``), ``offset_m`` (distance along
        the segment from ``edge_u``, metres), ``snap_m`` (straight-line
        distance from the entry point to the segment, metres).
    unreached : pandas.DataFrame
        Facilities with no entry point within ``max_snap_m`` of a street:
        ``facility`` (index label), ``position``, ``snap_m`` (distance to the
        nearest street, metres; NaN for an empty geometry). Never dropped
        silently: they are listed here and a warning is issued.
    cutoff_m : float or None
        Search limit used, metres.
    direction : str
        ``"from_facility"`` (trips out of the facility, e.g. a fire station's
        reach) or ``"to_facility"`` (trips of residents to it). Identical on
        walking and cycling networks; different on driving networks with
        one-way streets.
    """

    net: StreetNetwork
    distance: np.ndarray
    nearest: np.ndarray
    facility_index: pd.Index
    entry_arrays: dict[str, np.ndarray]
    unreached: pd.DataFrame
    cutoff_m: float | None = None
    direction: str = "from_facility"
    _entries: pd.DataFrame | None = field(default=None, init=False, repr=False)

    @property
    def entries(self) -> pd.DataFrame:
        """:attr:`entry_arrays` as a frame (made on first use: the search itself works on the arrays)."""
        if self._entries is None:
            self._entries = pd.DataFrame(self.entry_arrays)
        return self._entries

    @property
    def nearest_label(self) -> np.ndarray:
        """Index label of the nearest facility per node (None where unreached)."""
        labels = np.empty(len(self.nearest), dtype=object)
        ok = self.nearest >= 0
        labels[ok] = np.asarray(self.facility_index, dtype=object)[self.nearest[ok]]
        return labels

    @property
    def reached(self) -> np.ndarray:
        """Boolean mask of nodes within the cutoff of some facility."""
        return np.asarray(np.isfinite(self.distance))


# --------------------------------------------------------------------------- snapping


def _entry_points(geoms: np.ndarray, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Entry points of facilities: (points, facility position of each point).

    Points stay as they are; lines and polygon boundaries give points every
    ``spacing`` metres (closed rings without a duplicate at the seam).
    """
    parts, owner = shapely.get_parts(geoms, return_index=True)
    kind = shapely.get_type_id(parts)
    is_point = kind == 0
    is_line = np.isin(kind, (1, 2))
    is_poly = kind == 3
    pts = [parts[is_point]]
    own = [owner[is_point]]

    rings, ring_owner = shapely.get_parts(shapely.boundary(parts[is_poly]), return_index=True)
    lines = np.concatenate([parts[is_line], rings])
    line_owner = np.concatenate([owner[is_line], owner[is_poly][ring_owner]])
    if len(lines):
        length = shapely.length(lines)
        closed = shapely.is_closed(lines)
        n_seg = np.maximum(1, np.ceil(length / spacing)).astype(np.int64)
        n_pts = n_seg + np.where(closed, 0, 1)  # a ring's end is its start
        rep = np.repeat(np.arange(len(lines)), n_pts)
        start = np.repeat(np.cumsum(n_pts) - n_pts, n_pts)
        local = np.arange(len(rep)) - start
        frac = local / n_seg[rep]
        pts.append(shapely.line_interpolate_point(lines[rep], frac, normalized=True))
        own.append(line_owner[rep])
    points = np.concatenate(pts)
    owners = np.concatenate(own)
    ok = ~shapely.is_empty(points)
    return points[ok], owners[ok]


def _closest_points(net: StreetNetwork, geoms: np.ndarray, max_snap_m: float) -> tuple[np.ndarray, np.ndarray]:
    """For lines and polygons, the point of each nearest to the network.

    Evenly spaced entry points can miss the corner of a park that touches a
    street; adding the exact closest point makes the snapping distance of a
    facility its true distance to the network.
    """
    kind = shapely.get_type_id(geoms)
    pos = np.flatnonzero(np.isin(kind, (1, 2, 3, 5, 6, 7)) & ~shapely.is_empty(geoms))
    if not len(pos):
        return np.empty(0, dtype=object), np.empty(0, dtype=np.int64)
    fi, ei = net.edge_tree.query_nearest(geoms[pos], max_distance=max_snap_m, all_matches=False)
    link = shapely.shortest_line(geoms[pos][fi], net.edge_geometry[ei])
    return shapely.get_point(link, 0), pos[fi]


def _snap(net: StreetNetwork, points: np.ndarray, owners: np.ndarray, max_snap_m: float) -> dict[str, np.ndarray]:
    """Nearest segment within ``max_snap_m`` of each entry point (exact, vectorised: :mod:`spatial._segments`).

    Returns the columns of :attr:`NetworkDistances.entries` as arrays.
    """
    xy = shapely.get_coordinates(points)
    pi, edge, offset, snap = snap_points(net, xy[:, 0], xy[:, 1], max_distance_m=max_snap_m)
    return {"facility": owners[pi].astype(np.int64), "edge": edge.astype(np.int64), "offset_m": offset,
            "snap_m": snap}


# --------------------------------------------------------------------------- distances


def nearest_facility_distances(
    net: StreetNetwork,
    facilities: gpd.GeoDataFrame,
    *,
    cutoff_m: float | None = None,
    max_snap_m: float = 500.0,
    entry_spacing_m: float = 50.0,
    direction: str = "from_facility",
) -> NetworkDistances:
    """Network distance from every street node to its nearest facility.

    Parameters
    ----------
    net : StreetNetwork
        The street network (any mode).
    facilities : geopandas.GeoDataFrame
        Points, lines or polygons in any CRS (reprojected to ``net.crs``).
    cutoff_m : float, optional, keyword-only
        Stop the search at this distance, metres; farther nodes get ``inf``.
        Setting it makes the search much faster on a large network.
    max_snap_m : float, keyword-only
        Largest straight-line distance, metres, from a facility to a street for
        it to be connected. Facilities farther away are listed in
        ``unreached`` with their distance to the nearest street.
    entry_spacing_m : float, keyword-only
        Spacing, metres, of entry points along lines and polygon boundaries.
    direction : {"from_facility", "to_facility"}, keyword-only
        Travel out of the facilities or towards them (matters only for
        one-way streets of driving networks).

    Returns
    -------
    NetworkDistances

    Raises
    ------
    CRSError
        When ``facilities`` has no CRS.
    EmptyLayerError
        When ``facilities`` has no features.
    NetworkDataError
        When no facility lies within ``max_snap_m`` of the network (the
        network does not cover them).

    Notes
    -----
    Distances count the straight-line snapping distance, the distance along
    the snapped segment to its end node, then the network path. A facility
    snapped to a segment of length L at offset t enters its end nodes at
    ``snap + t`` and ``snap + L - t``; points on that same segment are reached
    directly along it (see :func:`service_areas`).
    """
    _check_direction(direction)
    if not isinstance(facilities, gpd.GeoDataFrame):
        msg = "设施须为带几何列的 GeoDataFrame (facilities must be a GeoDataFrame)"
        raise EmptyLayerError(msg)
    geoms = _checked_geoms(facilities, net.crs)
    if cutoff_m is not None:
        check_positive(cutoff_m, "搜索距离 cutoff_m", allow_zero=True)
    check_positive(max_snap_m, "最大接入距离 max_snap_m")
    check_positive(entry_spacing_m, "入口间距 entry_spacing_m")

    k = len(geoms)
    points, owners = _entry_points(geoms, entry_spacing_m)
    closest, closest_owner = _closest_points(net, geoms, max_snap_m)
    points = np.concatenate([points, closest])
    owners = np.concatenate([owners, closest_owner])
    entries = _snap(net, points, owners, max_snap_m)

    reached_fac = np.zeros(k, dtype=bool)
    reached_fac[entries["facility"]] = True
    unreached = _unreached_report(net, facilities.index, geoms, reached_fac, points, owners)
    if not reached_fac.any():
        raise NetworkDataError(_coverage_message(net, facilities, geoms, unreached, max_snap_m))
    if len(unreached):
        warnings.warn(
            f"{k} 个设施中有 {len(unreached)} 个距街道网络超过 {max_snap_m:g} m，未计入距离 "
            f"({len(unreached)} of {k} facilities lie farther than {max_snap_m:g} m from any street; see .unreached)",
            UserWarning,
            stacklevel=2,
        )

    dist, nearest = _search(net, entries, cutoff_m=cutoff_m, direction=direction)
    return NetworkDistances(
        net=net,
        distance=dist,
        nearest=nearest,
        facility_index=facilities.index,
        entry_arrays=entries,
        unreached=unreached,
        cutoff_m=cutoff_m,
        direction=direction,
    )


def _checked_geoms(facilities: gpd.GeoDataFrame, crs: Any) -> np.ndarray:
    """The facilities' geometries in ``crs``: the CRS and feature checks done on the arrays, once."""
    if facilities.crs is None:
        require_crs(facilities, name="设施 facilities")  # raises the one clear error
    geoms = _geoms_in(facilities, crs)
    if len(geoms) == 0 or (shapely.is_missing(geoms) | shapely.is_empty(geoms)).all():
        require_features(facilities, name="设施 facilities")
    return geoms


def _geoms_in(frame: gpd.GeoDataFrame, crs: Any) -> np.ndarray:
    """Geometries of a frame in ``crs`` as a shapely array (no copy of the frame when it is already there)."""
    if frame.crs is not None and frame.crs == crs:
        return np.asarray(frame.geometry.values, dtype=object)
    return np.asarray(reproject(frame.geometry, crs).values, dtype=object)


def _entry_arcs(net: StreetNetwork, entries: dict[str, np.ndarray],
                direction: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Virtual arcs facility -> segment end node, with their lengths in metres.

    On a one-way segment u -> v a facility can only leave towards v (or, when
    travelling to it, only be approached from u).
    """
    e = entries["edge"]
    fac = entries["facility"]
    t = entries["offset_m"]
    s = entries["snap_m"]
    length = net.edge_length[e]
    two_way = net.two_way()[e]
    to_u = two_way | (direction == "to_facility")
    to_v = two_way | (direction == "from_facility")
    rows = np.concatenate([fac[to_u], fac[to_v]])
    cols = np.concatenate([net.edge_u[e][to_u], net.edge_v[e][to_v]])
    cost = np.concatenate([(s + t)[to_u], (s + length - t)[to_v]])
    return rows, cols, cost


def _search(net: StreetNetwork, entries: dict[str, np.ndarray], *, cutoff_m: float | None,
            direction: str) -> tuple[np.ndarray, np.ndarray]:
    """One multi-source Dijkstra from virtual sources hung on the facilities' entry nodes.

    Only the cheapest entry of each street node matters (a path through a
    dearer facility entry at the same node is never shorter), so there is one
    virtual source per entry node, not per facility: 10,000 facilities on a
    2,500-node network make at most 2,500 sources. Each virtual node has a
    single arc, so its rows are appended to the prepared graph without sorting.
    """
    n = net.n_nodes
    base = net.graph if direction == "from_facility" else net.graph_reversed
    assert base is not None  # built in StreetNetwork.__post_init__
    fac, node, cost = _entry_arcs(net, entries, direction)
    order = np.lexsort((cost, node))
    node, cost, fac = node[order], cost[order], fac[order]
    first = np.ones(len(node), dtype=bool)
    first[1:] = node[1:] != node[:-1]
    node, cost, winner = node[first], cost[first], fac[first]
    m = len(node)
    # keep the prepared graph's index type: converting 4 million int32 indices per search costs more than the search
    itype = np.int64 if base.nnz + m >= np.iinfo(np.int32).max or n + m >= np.iinfo(np.int32).max \
        else base.indices.dtype
    indptr = np.concatenate([base.indptr.astype(itype, copy=False),
                             (base.nnz + np.arange(1, m + 1)).astype(itype)])
    indices = np.concatenate([base.indices.astype(itype, copy=False), node.astype(itype)])
    values = np.concatenate([base.data, cost])
    graph = sparse.csr_matrix((values, indices, indptr), shape=(n + m, n + m))
    limit = np.inf if cutoff_m is None else float(cutoff_m)
    dist, _pred, origin = dijkstra(
        graph, directed=True, indices=n + np.arange(m), min_only=True, limit=limit, return_predecessors=True
    )
    dist = dist[:n]
    src = origin[:n]
    nearest = np.full(n, -1, dtype=np.int64)
    ok = (src >= n) & np.isfinite(dist)
    nearest[ok] = winner[src[ok] - n]
    dist[~ok] = np.inf
    return dist, nearest


_NO_UNREACHED = pd.DataFrame({"facility": pd.Series([], dtype=object), "position": pd.Series([], dtype=np.int64),
                              "snap_m": pd.Series([], dtype=np.float64)})


def _unreached_report(net: StreetNetwork, index: pd.Index, geoms: np.ndarray, reached_fac: np.ndarray,
                      points: np.ndarray, owners: np.ndarray) -> pd.DataFrame:
    """Facilities with no entry near a street, with their distance to the nearest street."""
    miss = np.flatnonzero(~reached_fac)
    if not len(miss):
        return _NO_UNREACHED
    snap = np.full(len(miss), np.nan)
    if len(miss):
        sel = np.isin(owners, miss)
        if sel.any():
            (pi, _ei), d = net.edge_tree.query_nearest(points[sel], return_distance=True, all_matches=False)
            per = pd.Series(d).groupby(owners[sel][pi]).min()
            snap = per.reindex(miss).to_numpy()
    return pd.DataFrame({"facility": np.asarray(index)[miss], "position": miss, "snap_m": snap})


def _coverage_message(net: StreetNetwork, facilities: gpd.GeoDataFrame, geoms: np.ndarray,
                      unreached: pd.DataFrame, max_snap_m: float) -> str:
    fb = shapely.total_bounds(geoms)
    nb = (net.x.min(), net.y.min(), net.x.max(), net.y.max())
    nearest = np.nanmin(unreached["snap_m"].to_numpy()) if unreached["snap_m"].notna().any() else np.nan
    return (
        f"街道网络没有覆盖这些设施：{len(facilities)} 个设施都不在街道 {max_snap_m:g} m 以内 (最近的相距 "
        f"{nearest:,.0f} m)。网络范围 ({net.crs.to_string()})：x {nb[0]:,.0f}-{nb[2]:,.0f}，"
        f"y {nb[1]:,.0f}-{nb[3]:,.0f}；设施：x {fb[0]:,.0f}-{fb[2]:,.0f}，y {fb[1]:,.0f}-{fb[3]:,.0f}。"
        "请使用覆盖设施所在区域的网络，或加大 max_snap_m "
        "(the street network does not cover the facilities)"
    )


# --------------------------------------------------------------------------- service areas


def _reached_pieces(result: NetworkDistances, limit: float, *,
                    per_facility: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Parts of segments within ``limit`` metres of a facility.

    Returns arrays (edge, start_m, end_m, facility position). A segment u -> v
    of length L is reached from u up to ``limit - d[u]`` and from v back to
    ``L - (limit - d[v])``. When the two overlap the whole segment is reached;
    it is then split where the two facilities are equally far, so each part
    goes to the facility that serves it. The facility's own segment adds the
    stretch within ``limit - snap`` either side of the snapped point.
    """
    net = result.net
    d = result.distance
    near = result.nearest
    L = net.edge_length
    u, v = net.edge_u, net.edge_v
    du, dv = d[u], d[v]
    two_way = net.two_way()
    from_u = np.isfinite(du) & (du <= limit)
    from_v = np.isfinite(dv) & (dv <= limit)
    if result.direction == "from_facility":
        from_v &= two_way  # on a one-way u->v street travel leaves u only
    else:
        from_u &= two_way  # travellers to a facility on it can only go on to v
    with np.errstate(invalid="ignore"):
        a = np.where(from_u, np.minimum(limit - du, L), 0.0)  # reached [0, a] from u
        b = np.where(from_v, np.maximum(L - (limit - dv), 0.0), L)  # reached [b, L] from v
        both = from_u & from_v & (a >= b)
        split = np.clip((L + dv - du) / 2.0, 0.0, L)
    if per_facility:
        # Split only where the two ends are served by different facilities.
        whole = both & (near[u] == near[v])
        both &= ~whole
    else:
        whole = both
        both = np.zeros_like(both)
    a = np.where(both, split, a)
    b = np.where(both, split, b)
    a = np.where(whole, L, a)
    from_v &= ~whole  # the u-side piece [0, L] already covers it

    idx = np.arange(net.n_edges)
    pu = from_u & (a > 0)
    pv = from_v & (b < L)
    # Zero-length segments (e.g. at a snapped node) still mark their node.
    edges = [idx[pu], idx[pv]]
    starts = [np.zeros(pu.sum()), b[pv]]
    ends = [a[pu], L[pv]]
    facs = [near[u[pu]], near[v[pv]]]

    ent = result.entry_arrays
    if len(ent["edge"]):
        e = ent["edge"]
        t = ent["offset_m"]
        r = limit - ent["snap_m"]
        ok = r > 0
        tw = two_way[e]
        back = tw | (result.direction == "to_facility")
        fwd = tw | (result.direction == "from_facility")
        lo = np.where(back, np.maximum(t - r, 0.0), t)
        hi = np.where(fwd, np.minimum(t + r, L[e]), t)
        ok &= hi > lo
        edges.append(e[ok])
        starts.append(lo[ok])
        ends.append(hi[ok])
        facs.append(ent["facility"][ok])
    return (
        np.concatenate(edges),
        np.concatenate(starts),
        np.concatenate(ends),
        np.concatenate(facs).astype(np.int64),
    )


def _substrings(geoms: np.ndarray, length: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Vectorised sub-lines of ``geoms`` between ``start`` and ``end`` metres.

    ``length`` is the network length of each segment; positions are scaled to
    the drawn geometry's length, so a cut at 40 % of the network length falls
    at 40 % of the line. Whole segments are returned as they are.
    """
    out = np.array(geoms, dtype=object, copy=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        f0 = np.where(length > 0, start / length, 0.0)
        f1 = np.where(length > 0, end / length, 1.0)
    f0 = np.clip(f0, 0.0, 1.0)
    f1 = np.clip(f1, 0.0, 1.0)
    part = ~((f0 <= 0.0) & (f1 >= 1.0))
    if not part.any():
        return out
    g = geoms[part]
    p0, p1 = f0[part], f1[part]
    coords, owner = shapely.get_coordinates(g, return_index=True)
    step = np.hypot(*np.diff(coords, axis=0, prepend=coords[:1]).T)
    newline = np.ones(len(coords), dtype=bool)
    newline[1:] = owner[1:] != owner[:-1]
    step[newline] = 0.0
    cum = np.cumsum(step)
    cum -= np.repeat(cum[newline], np.bincount(owner, minlength=len(g)))
    total = shapely.length(g)
    with np.errstate(invalid="ignore", divide="ignore"):
        vfrac = np.where(total[owner] > 0, cum / total[owner], 0.0)
    inner = (vfrac > p0[owner]) & (vfrac < p1[owner])
    # Interpolate the cut points with numpy rather than GEOS: ``owner + vfrac``
    # rises monotonically through all pieces, so one searchsorted finds the
    # vertex before each cut.
    gpos = owner + vfrac
    first_v = np.flatnonzero(newline)
    last_v = np.append(first_v[1:], len(coords)) - 1
    ids = np.arange(len(g))

    def cut(frac: np.ndarray) -> np.ndarray:
        q = ids + frac
        j = np.searchsorted(gpos, q, side="right") - 1
        j = np.clip(j, first_v, np.maximum(last_v - 1, first_v))
        j1 = np.minimum(j + 1, last_v)
        span = gpos[j1] - gpos[j]
        with np.errstate(invalid="ignore", divide="ignore"):
            w = np.where(span > 0, (q - gpos[j]) / span, 0.0)
        w = np.clip(w, 0.0, 1.0)[:, None]
        return np.asarray(coords[j] * (1.0 - w) + coords[j1] * w)

    # Each piece: its start point, its inner vertices in their order, its end
    # point; where each goes follows from the counts, with no sort.
    n = len(g)
    inner_owner = owner[inner]
    n_inner = np.bincount(inner_owner, minlength=n)
    size = n_inner + 2
    at = np.cumsum(size) - size  # where each piece's start point goes
    all_xy = np.empty((int(size.sum()), 2))
    all_xy[at] = cut(p0)
    all_xy[at + 1 + n_inner] = cut(p1)
    rank = np.arange(len(inner_owner)) - (np.cumsum(n_inner) - n_inner)[inner_owner]
    all_xy[at[inner_owner] + 1 + rank] = coords[inner]
    out[np.flatnonzero(part)] = shapely.linestrings(all_xy, indices=np.repeat(np.arange(n), size))
    return out


def _union_groups(groups: list[np.ndarray], *, grid_size: float | None) -> list[shapely.Geometry]:
    """``shapely.union_all`` of each group, on a thread pool (GEOS releases the GIL)."""
    if not groups:
        return []
    workers = max(1, min(len(groups), os.cpu_count() or 1, 8))
    if workers == 1:
        return [shapely.union_all(g, grid_size=grid_size) for g in groups]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda g: shapely.union_all(g, grid_size=grid_size), groups))


# Inputs per tile of the parallel union; below this one call is as fast.
_TILE = 20_000


def _merge(polys: np.ndarray, *, grid_size: float | None) -> shapely.Geometry:
    """Union of many small overlapping polygons, in spatial tiles on threads.

    The street buffers are cut into tiles by their centres, each tile is
    merged on a thread of its own, then the few tile results are merged. The
    result is the same union; the gain is the cores (the union of a tile is
    the costly GEOS overlay, and it runs without the GIL).
    """
    if len(polys) == 0:
        return shapely.Polygon()
    if len(polys) < 2 * _TILE:
        return shapely.union_all(polys, grid_size=grid_size)
    c = shapely.get_coordinates(shapely.centroid(polys))
    side = int(np.ceil(np.sqrt(len(polys) / _TILE)))
    xb = np.linspace(c[:, 0].min(), c[:, 0].max(), side + 1)[1:-1]
    yb = np.linspace(c[:, 1].min(), c[:, 1].max(), side + 1)[1:-1]
    tile = np.searchsorted(xb, c[:, 0]) * side + np.searchsorted(yb, c[:, 1])
    order = np.argsort(tile, kind="stable")
    groups = np.split(polys[order], np.flatnonzero(np.diff(tile[order])) + 1)
    parts = _union_groups([g for g in groups if len(g)], grid_size=grid_size)
    return shapely.union_all(np.asarray(parts, dtype=object), grid_size=grid_size)


# Service areas with more reached pieces than this are drawn on a grid when
# ``outline="auto"``: the exact union costs GEOS about 50-100 microseconds per
# buffered piece, so 20,000 pieces already take one to two seconds.
AUTO_GRID_PIECES = 20_000

# Largest grid a grid outline may trace (cells): at most 0.8 GB of float32 and int32 fields, resident only
# where streets are, plus the float64 distances the combined outline is contoured from. A 25 m strip traced
# on 12.5 m cells reaches it at about 15,000 km² (a Jinan-sized city is 10,000 km²).
_MAX_GRID_CELLS = 100_000_000

# Rows of cells whose samples are spread at a time in the distance field: bands of this height,
# processed in two phases (even bands, then odd ones) on threads, never write the same cell at once.
_BAND_ROWS = 256


def _exact_outline(lines: np.ndarray, *, buffer_m: float, quad_segs: int,
                   grid_size: float | None) -> shapely.Geometry:
    polys = shapely.buffer(lines, buffer_m, quad_segs=quad_segs)
    return _merge(polys, grid_size=grid_size)


# A metric geometry's area, m², and the geometry in the storage CRS.
_Stored = tuple[float, shapely.Geometry]
# One row of service_areas: facility label (None for the combined area), distance (m), outline
# ("exact" or "grid"), cell size (m; NaN when exact), checked area error (%), the stored area.
_AreaRow = tuple[object, float, str, float, float, _Stored]
_T = TypeVar("_T")


@dataclass(frozen=True)
class _Grid:
    """Cells a grid outline is traced on: origin and size in metres, shape, reach in cells."""

    x0: float
    y0: float
    cell: float
    width: int
    height: int
    reach: int

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """x of each column's and y of each row's cell centre, metres."""
        return (self.x0 + self.cell * (np.arange(self.width) + 0.5),
                self.y0 + self.cell * (np.arange(self.height) + 0.5))


def _grid_for(lines: np.ndarray, *, buffer_m: float, cell_m: float | None) -> _Grid:
    """The grid around ``lines``: cells aligned to multiples of the cell size, padded by the reach.

    Aligned cells put the same street in the same cell whatever else is
    reached; the padding keeps every cell a sample can reach inside the grid.
    """
    x0b, y0b, x1b, y1b = shapely.total_bounds(lines)
    # The cell stays tied to the strip width whatever the extent: a coarser cell
    # than half the strip loses area without a word (5 % at 22 m, 28 % at 50 m).
    cell = float(cell_m) if cell_m is not None else buffer_m / 2.0
    reach = int(np.ceil(buffer_m / cell)) + 2
    pad = (reach + 1) * cell
    gx0 = float(np.floor((x0b - pad) / cell) * cell)
    gy0 = float(np.floor((y0b - pad) / cell) * cell)
    width = int(np.ceil((x1b + pad - gx0) / cell))
    height = int(np.ceil((y1b + pad - gy0) / cell))
    if width * height > _MAX_GRID_CELLS:
        msg = (
            f"{cell:g} m 的网格在此范围需要 {width:,} × {height:,} 个格子，过大：请加大 edge_buffer_m 或 grid_m，"
            "或分片计算 (grid too large for this area at this strip width; use a larger edge_buffer_m or grid_m)"
        )
        raise ParameterError(msg)
    return _Grid(gx0, gy0, cell, width, height, reach)


# Lines sampled at a time: the temporaries of sampling stay a few MB whatever the city.
_SAMPLE_CHUNK = 20_000


def _cell_samples(lines: np.ndarray, grid: _Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One point of the lines per cell they cross.

    Points are taken every 0.7 cell along each line (in chunks of lines, so
    the temporaries stay small); where a cell holds several, a vertex (the
    end of a piece, a bend) wins, so a street's end sets the round cap of its
    strip. Returns the cells' flat indices (row * width + col, ascending), the
    point's x and y offset from its cell's centre (metres, float32) and the
    position in ``lines`` of the line it lies on.
    """
    keys, offs_x, offs_y, pieces = [], [], [], []
    origin = np.array([grid.x0, grid.y0])
    for s in range(0, len(lines), _SAMPLE_CHUNK):
        coords, own = shapely.get_coordinates(lines[s:s + _SAMPLE_CHUNK], return_index=True)
        g = (coords - origin) / grid.cell  # grid units
        same = own[1:] == own[:-1]
        a = g[:-1][same]
        d = g[1:][same] - a
        k = (np.hypot(d[:, 0], d[:, 1]) // 0.7).astype(np.int64) + 2  # both ends and every 0.7 cell between
        rep = np.repeat(np.arange(len(a)), k)
        i = np.arange(len(rep)) - np.repeat(np.cumsum(k) - k, k)
        w = i / (k[rep] - 1)
        x = a[rep, 0] + d[rep, 0] * w
        y = a[rep, 1] + d[rep, 1] * w
        vertex = (i == 0) | (i == k[rep] - 1)
        col = x.astype(np.int64)
        row = y.astype(np.int64)
        flat = row * grid.width + col
        # Most cells get one or two points in a row: keep the last of each run (and every vertex).
        keep = vertex.copy()
        keep[:-1] |= flat[1:] != flat[:-1]
        keep[-1:] = True
        keys.append(flat[keep] * 2 + vertex[keep])
        offs_x.append(((x[keep] - col[keep] - 0.5) * grid.cell).astype(np.float32))
        offs_y.append(((y[keep] - row[keep] - 0.5) * grid.cell).astype(np.float32))
        pieces.append(own[:-1][same][rep][keep] + s)
    # By cell, vertices last, else in line order (the position breaks ties).
    key = _sorted_with_position(np.concatenate(keys))
    cells = key >> (_POSITION_BITS + 1)
    last = np.ones(len(cells), dtype=bool)
    last[:-1] = cells[1:] != cells[:-1]
    pick = key[last] & _POSITION_MASK
    return cells[last], np.concatenate(offs_x)[pick], np.concatenate(offs_y)[pick], np.concatenate(pieces)[pick]


# Low bits of a sort key that hold an element's position; the bits above hold
# the value, at most a grid cell's index times 2 plus a flag (a facility's
# position is smaller). Derived from _MAX_GRID_CELLS, so a larger grid limit
# can never make values overflow into the sign bit: 35 bits (34 billion
# elements) at 100 million cells.
_POSITION_BITS = 63 - (2 * _MAX_GRID_CELLS).bit_length()
_POSITION_MASK = np.int64((1 << _POSITION_BITS) - 1)


def _sorted_with_position(values: np.ndarray) -> np.ndarray:
    """``values << _POSITION_BITS | position``, sorted: a stable sort done as a plain sort of int64.

    numpy's stable argsort of integers wider than 16 bits is a merge sort,
    while its plain sort of int64 values is vectorised (x86-simd-sort): on
    the 4 million cell samples of a 1,000,000-node city, 0.47 s against
    0.03 s. With each element's position in the low bits, equal values keep
    their order, as in a stable sort. ``values`` must be non-negative and
    below ``2 ** (63 - _POSITION_BITS)``; read the position back as ``key &
    _POSITION_MASK`` and the value as ``key >> _POSITION_BITS``.
    """
    key = np.asarray(values, dtype=np.int64) << _POSITION_BITS
    key |= np.arange(len(key), dtype=np.int64)
    key.sort()
    return key


@contextlib.contextmanager
def _page_advice(*, huge: bool) -> Iterator[None]:
    """Allocate the arrays made inside the block with (``huge=True``) or without numpy's hugepage advice.

    numpy asks the kernel for 2 MB pages on every large array. Where the
    kernel compacts memory to find them at the first touch (Linux with
    ``transparent_hugepage/defrag`` set to ``madvise``, common among
    distributions), that can stall, so the many city-sized temporaries of the
    grid tracing are made on 4 kB pages (:func:`_small_pages`). The two grids
    of the distance field are the exception (:func:`_distance_field`): on 4 kB
    pages their first touch costs one page fault per 4 kB (about 95,000 for
    the 1,000 catchments of a 1,000,000-node city, over a second of kernel
    time on this machine), on 2 MB pages a few hundred. Only the advice for
    arrays created inside the block changes; it is restored after.
    """
    core = getattr(np, "_core", None) or getattr(np, "core", None)
    setter = getattr(getattr(core, "multiarray", None), "_set_madvise_hugepage", None)
    if setter is None:
        yield
        return
    before = setter(huge)
    try:
        yield
    finally:
        setter(before)


def _small_pages() -> contextlib.AbstractContextManager[None]:
    """Allocate city-sized arrays without numpy's hugepage advice (around :func:`service_areas`' work).

    Seen with the advice on every array: the 1,000 catchments of a
    1,000,000-node city took 7.9 s with it and 6.4 s without
    (``benchmarks/bench_isochrones.py``, best of 3), seconds stalled in the
    kernel's compaction. See :func:`_page_advice`.
    """
    return _page_advice(huge=False)


@dataclass(eq=False)
class _Field:
    """Distance from every cell centre to the nearest street sample, and whose sample it is.

    Attributes
    ----------
    grid : _Grid
    near : numpy.ndarray of float32, shape (height, width)
        ``far2 - d²`` for the squared distance d² (m²) to the nearest sample,
        0 where none is nearer than ``far2`` (the cap: ``buffer_m`` + 4
        cells, squared). Zero meaning "nothing near" lets the grid start as
        untouched zero pages: a city-wide grid costs memory only where
        streets are. Read it through :meth:`distance`, which takes the root
        only where asked (a catchment's window, not the whole city).
    far2 : float
        The cap, m².
    label : numpy.ndarray of int16 (int32 for 32,766 labels or more), shape (height, width), or None
        1 + the label of the nearest sample's line (e.g. its facility); 0
        where no sample is near. None when no labels were given.
    cells : numpy.ndarray of int64
        Flat indices (row * width + col) of the cells that hold a sample, ascending.
    cell_label : numpy.ndarray of int32 or None
        Label of the sample each of ``cells`` holds.
    """

    grid: _Grid
    near: np.ndarray
    far2: float
    label: np.ndarray | None
    cells: np.ndarray
    cell_label: np.ndarray | None

    def distance(self, r0: int = 0, r1: int | None = None, c0: int = 0, c1: int | None = None) -> np.ndarray:
        """Distance, metres (float64), on rows r0..r1 and columns c0..c1; capped at ``buffer_m`` + 4 cells.

        Beyond the buffer and a cell the value only has to stay outside the
        contour, so the cap keeps far cells finite for contourpy.
        """
        d2 = np.subtract(np.float32(self.far2), self.near[r0:r1, c0:c1], dtype=np.float64)
        return np.asarray(np.sqrt(np.maximum(d2, 0.0, out=d2), out=d2))


def _distance_field(lines: np.ndarray, *, buffer_m: float, cell_m: float | None,
                    labels: np.ndarray | None = None) -> _Field:
    """The distance field a grid outline (and the grid catchments) are contoured from.

    The lines are sampled every 0.7 cell; each cell keeps one sample
    (:func:`_cell_samples`: its offset from the cell centre, so distances are
    measured to the street itself, not to the cell centre, which would widen
    every strip by a fraction of a cell). Each sample then spreads its squared distance to the
    cells within reach, one vectorised pass per neighbouring-cell offset:
    the work grows with the cells holding a street, not with the grid, so a
    city-wide grid that is mostly blocks and countryside costs little more
    than its streets. Within one pass every source cell has one target, so a
    plain gather-compare-scatter is exact; the passes run nearest offset
    first, so later ones rarely write. With ``labels`` (one per line) each
    cell also keeps the label of the sample that gave its distance, ties to
    the first pass (the nearer cell).
    """
    grid = _grid_for(lines, buffer_m=buffer_m, cell_m=cell_m)
    cell, width = grid.cell, grid.width
    n = width * grid.height
    cells, ox, oy, piece = _cell_samples(lines, grid)
    lab = None if labels is None else np.asarray(labels, dtype=np.int32)[piece]
    # Labels 1..n in the narrowest integer that holds them: half the memory (and page faults) of int32.
    small = lab is not None and len(lab) > 0 and int(lab.max()) < np.iinfo(np.int16).max - 1
    label_type = np.int16 if small else np.int32
    with _page_advice(huge=True):  # few page faults on the two city-sized grids (see _page_advice)
        label = None if lab is None else np.zeros(n, dtype=label_type)
        near = np.zeros(n, dtype=np.float32)  # zero pages until a street comes near
    lab1 = None if lab is None else (lab + 1).astype(label_type)
    # The contour interpolates between the last cell centre inside buffer_m
    # and the first outside, so distances are needed up to buffer_m + one
    # cell; offsets whose cell cannot hold a point that near are skipped.
    need = buffer_m / cell + 1.0
    r = grid.reach
    offsets = sorted(
        ((dy, dx) for dy in range(-r, r + 1) for dx in range(-r, r + 1)
         if np.hypot(max(abs(dx) - 0.5, 0.0), max(abs(dy) - 0.5, 0.0)) <= need),
        key=lambda o: o[0] ** 2 + o[1] ** 2,
    )
    far2 = np.float32((buffer_m + 4 * cell) ** 2)

    def spread(i0: int, i1: int) -> None:
        # Samples i0..i1 (a band of rows) into every cell within reach; numpy
        # releases the GIL, so bands far enough apart run on threads at once.
        c, sx, sy = cells[i0:i1], ox[i0:i1], oy[i0:i1]
        sl = None if lab1 is None else lab1[i0:i1]
        t = np.empty_like(c)
        d2 = np.empty_like(sx)
        ddy = np.empty_like(sy)
        cur = np.empty_like(sx)
        better = np.empty(len(c), dtype=bool)
        for dy, dx in offsets:
            np.subtract(c, dy * width + dx, out=t)  # the cell from which this sample lies (dx, dy) cells away
            np.add(sx, np.float32(dx * cell), out=d2)
            np.multiply(d2, d2, out=d2)
            np.add(sy, np.float32(dy * cell), out=ddy)
            np.multiply(ddy, ddy, out=ddy)
            np.add(d2, ddy, out=d2)
            np.subtract(far2, d2, out=d2)  # nearness: larger is nearer, negative beyond the cap
            np.take(near, t, out=cur)
            np.greater(d2, cur, out=better)
            # One scan of the mask, then gathers: three boolean selections
            # would scan it three times (35 % of the spreading's time).
            won = np.flatnonzero(better)
            tb = t.take(won)
            near[tb] = d2.take(won)
            if label is not None and sl is not None:
                label[tb] = sl.take(won)

    # Bands of _BAND_ROWS rows (at least 2 reach + 1, so two bands of the same
    # phase never reach the same cell): even bands on the pool, then odd ones.
    band_rows = max(_BAND_ROWS, 2 * r + 1)
    bounds = np.searchsorted(cells, np.arange(0, grid.height + band_rows, band_rows) * width)
    spans = [(int(a), int(b)) for a, b in itertools.pairwise(bounds) if b > a]
    workers = max(1, min(os.cpu_count() or 1, 8, len(spans)))
    if workers == 1:
        for s in spans:
            spread(*s)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for phase in (0, 1):
                list(pool.map(lambda s: spread(*s), spans[phase::2]))
    return _Field(grid=grid, near=near.reshape(grid.height, width), far2=float(far2),
                  label=None if label is None else label.reshape(grid.height, width), cells=cells, cell_label=lab)


def _contour_level(buffer_m: float) -> float:
    """The level the fields are contoured at: a hair above the buffer.

    Cell centres at exactly ``buffer_m`` (common: whole multiples of the cell)
    stay off the contour, so contours never pass through a grid point and
    rings never touch.
    """
    return float(buffer_m) * (1 + 1e-6) + 1e-6


def _filled(x: np.ndarray, y: np.ndarray, z: np.ndarray, level: float) -> shapely.Geometry:
    """The area where ``z`` is below ``level`` (contourpy, linear interpolation between cell centres)."""
    import contourpy

    # The generator class itself (contourpy's documented API): the contour_generator() wrapper's checks
    # and masked-array handling cost more than the tracing on the small windows of catchments.
    no_mask: Any = None  # as contour_generator() passes it when nothing is masked
    gen = contourpy.SerialContourGenerator(
        np.broadcast_to(x, z.shape), np.broadcast_to(y[:, None], z.shape), z, no_mask, corner_mask=True,
        line_type=contourpy.LineType.SeparateCode, fill_type=contourpy.FillType.ChunkCombinedOffsetOffset,
        quad_as_tri=False, z_interp=contourpy.ZInterp.Linear)
    filled: Any = gen.filled(-1.0, level)
    chunk_pts, chunk_rings, chunk_outers = filled
    if chunk_pts[0] is None or len(chunk_pts[0]) == 0:
        return shapely.Polygon()
    pts: np.ndarray = chunk_pts[0]
    ring_offsets: np.ndarray = chunk_rings[0]
    outer_offsets: np.ndarray = chunk_outers[0]
    ring_id = np.repeat(np.arange(len(ring_offsets) - 1), np.diff(ring_offsets))
    rings: Any = shapely.linearrings(pts, indices=ring_id)
    poly_id = np.repeat(np.arange(len(outer_offsets) - 1), np.diff(outer_offsets))
    # contourpy's filled polygons are disjoint, each shell listed with its own
    # holes, so they form a valid MultiPolygon as they come (a validity check
    # of a 100,000-hole outline would cost GEOS seconds).
    polys: Any = shapely.polygons(rings, indices=poly_id)
    outline: shapely.Geometry = shapely.multipolygons(polys)
    return outline


def _grid_outline(lines: np.ndarray, *, buffer_m: float, cell_m: float | None) -> tuple[shapely.Geometry, float]:
    """Outline of the area within ``buffer_m`` of ``lines``, traced on a grid.

    The filled contour at ``buffer_m`` of :func:`_distance_field`. The union
    of hundreds of thousands of buffers, which GEOS merges one overlay at a
    time, becomes a few array passes; the price is an outline within about
    one cell of the exact buffer. Returns the outline and the cell size used,
    metres.
    """
    import contourpy  # noqa: F401 - missing contourpy fails here, before any work

    if len(lines) == 0:
        return shapely.Polygon(), float(cell_m or 0.0)
    field = _distance_field(lines, buffer_m=buffer_m, cell_m=cell_m)
    x, y = field.grid.centres()
    return _filled(x, y, field.distance(), _contour_level(buffer_m)), field.grid.cell


def _grid_catchments(lines: np.ndarray, owner: np.ndarray, n_facilities: int, *, buffer_m: float,
                     cell_m: float | None, finish: Callable[[shapely.Geometry], _T]) -> tuple[list[_T], float]:
    """Catchment of each facility, traced on the grid of the combined outline, each handed to ``finish``.

    One :func:`_distance_field` with the facility of each piece as the label;
    then, per facility, only its window (the cells of its samples, plus the
    reach) is contoured, one window after another (contourpy holds the GIL
    while it traces: on threads the windows took longer, not less); then
    ``finish`` runs on each catchment on threads (e.g. projecting it for
    storage, which pyproj does without the GIL). The
    field contoured for facility f is the distance where the nearest sample
    is f's (or nothing is within the buffer) and its mirror ``2 L - dist``
    about the contour level L where another facility's sample is nearer: on
    the grid edge between an f cell and a g cell both catchments then cross L
    at the same point, so neighbouring catchments share one boundary (they
    touch, never overlap, and leave no sliver between them), and together they
    cover what the combined grid outline covers. Returns ``finish`` of the
    catchment of each facility position (of an empty polygon where it reached
    nothing) and the cell size.
    """
    import contourpy  # noqa: F401 - missing contourpy fails here, before any work

    nothing = finish(shapely.Polygon())
    out: list[_T] = [nothing] * n_facilities
    if len(lines) == 0:
        return out, float(cell_m or 0.0)
    field = _distance_field(lines, buffer_m=buffer_m, cell_m=cell_m, labels=owner)
    assert field.label is not None and field.cell_label is not None
    label, grid = field.label, field.grid
    level = _contour_level(buffer_m)
    by_label = _sorted_with_position(field.cell_label)
    order = by_label & _POSITION_MASK
    fac = by_label >> _POSITION_BITS
    rows, cols = np.divmod(field.cells[order], grid.width)
    first = np.flatnonzero(np.diff(fac, prepend=-1))
    m = grid.reach + 1  # every cell a sample labels lies within reach; one more keeps the window's rim outside
    r0 = np.maximum(np.minimum.reduceat(rows, first) - m, 0)
    r1 = np.minimum(np.maximum.reduceat(rows, first) + m + 1, grid.height)
    c0 = np.maximum(np.minimum.reduceat(cols, first) - m, 0)
    c1 = np.minimum(np.maximum.reduceat(cols, first) + m + 1, grid.width)
    xs, ys = grid.centres()

    def one(i: int) -> shapely.Geometry:
        f = fac[first[i]]
        d = field.distance(r0[i], r1[i], c0[i], c1[i])
        other = (label[r0[i]:r1[i], c0[i]:c1[i]] != f + 1) & (d < level)
        np.subtract(2.0 * level, d, out=d, where=other)
        return _filled(xs[c0[i]:c1[i]], ys[r0[i]:r1[i]], d, level)

    traced = [one(i) for i in range(len(first))]
    workers = max(1, min(os.cpu_count() or 1, 8, len(first)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(finish, traced))
    for i, value in enumerate(done):
        out[int(fac[first[i]])] = value
    return out, grid.cell


#: Side of the window, metres, on which a grid outline is checked against the exact union.
CHECK_WINDOW_M = 1500.0


def _grid_check(lines: np.ndarray, *, buffer_m: float, quad_segs: int, cell: float,
                owner: np.ndarray | None = None) -> float:
    """Area error (%) of a grid trace against the exact union, measured on a sample window.

    The pieces whose centre lies in a window of :data:`CHECK_WINDOW_M` around
    the median piece are traced both ways (same cells, same alignment); the
    relative difference of the two areas is what the grid costs on this
    network, reported with every grid result. With ``owner`` (the facility of
    each piece) the grid side is the sum of the grid catchments of those
    pieces (they do not overlap, so the sum is their union's area): the check
    then also counts what the catchments lose where a boundary between two of
    them meets the edge of a street strip.
    """
    b = shapely.bounds(lines)
    cx, cy = (b[:, 0] + b[:, 2]) / 2.0, (b[:, 1] + b[:, 3]) / 2.0
    mx, my = float(np.median(cx)), float(np.median(cy))
    half = CHECK_WINDOW_M / 2.0
    sel = (np.abs(cx - mx) <= half) & (np.abs(cy - my) <= half)
    if sel.sum() < 50:  # a sparse result: the pieces nearest the median instead
        sel = np.zeros(len(lines), dtype=bool)
        sel[np.argsort(np.hypot(cx - mx, cy - my))[:2000]] = True
    sample = lines[sel]
    exact = float(shapely.area(_exact_outline(sample, buffer_m=buffer_m, quad_segs=quad_segs, grid_size=None)))
    if owner is None:
        grid = float(shapely.area(_grid_outline(sample, buffer_m=buffer_m, cell_m=cell)[0]))
    else:
        fac, local = np.unique(owner[sel], return_inverse=True)
        areas = _grid_catchments(sample, local, len(fac), buffer_m=buffer_m, cell_m=cell, finish=shapely.area)[0]
        grid = float(np.sum(areas))
    return float(100.0 * (grid - exact) / exact) if exact > 0 else 0.0


def _use_grid(mode: str, n_pieces: int) -> bool:
    """Whether ``outline=mode`` traces ``n_pieces`` reached pieces on a grid."""
    return mode == "grid" or (mode == "auto" and n_pieces > AUTO_GRID_PIECES)


def _outline(lines: np.ndarray, *, mode: str, buffer_m: float, quad_segs: int, grid_size: float | None,
             cell_m: float | None) -> tuple[str, shapely.Geometry, float, float]:
    """Merged buffer of ``lines``: ("exact" or "grid", geometry, cell size or NaN, checked area error % or 0)."""
    if _use_grid(mode, len(lines)):
        try:
            geom, cell = _grid_outline(lines, buffer_m=buffer_m, cell_m=cell_m)
            check = _grid_check(lines, buffer_m=buffer_m, quad_segs=quad_segs, cell=cell) if len(lines) else 0.0
            return "grid", geom, cell, check
        except ImportError:
            if mode == "grid":
                raise
            # contourpy missing: fall back to the exact (slower) union.
    return "exact", _exact_outline(lines, buffer_m=buffer_m, quad_segs=quad_segs, grid_size=grid_size), np.nan, 0.0


def service_areas(
    net_or_distances: StreetNetwork | NetworkDistances,
    facilities: gpd.GeoDataFrame | None = None,
    *,
    max_distance_m: float | Sequence[float],
    per_facility: bool = False,
    edge_buffer_m: float = 25.0,
    outline: str = "auto",
    grid_m: float | None = None,
    quad_segs: int = 2,
    max_snap_m: float = 500.0,
    entry_spacing_m: float = 50.0,
    direction: str = "from_facility",
    grid_size: float | None = None,
) -> gpd.GeoDataFrame:
    """Areas within a network distance of facilities, drawn from the streets.

    Parameters
    ----------
    net_or_distances : StreetNetwork or NetworkDistances
        The network (then ``facilities`` is required) or a result of
        :func:`nearest_facility_distances` to reuse (its ``cutoff_m`` must be
        at least the largest ``max_distance_m``).
    facilities : geopandas.GeoDataFrame, optional
        Facilities (points, lines or polygons, any CRS).
    max_distance_m : float or sequence of float, keyword-only
        Network distance(s), metres, e.g. 1,200 for a 15-minute walk at
        ``settings.WALK_SPEED_M_PER_MIN`` (80 m/min). Several values give
        several rows (nested rings) from one search.
    per_facility : bool, keyword-only
        False: one polygon (per distance) for all facilities together.
        True: one polygon per facility, covering the streets it is the nearest
        facility for (its catchment). Exact catchments touch but overlap
        within ``edge_buffer_m`` of their shared edge (each is the buffer of
        its own streets); grid catchments partition the strips: they share
        one boundary and never overlap (see Notes).
    edge_buffer_m : float, keyword-only
        Half-width, metres, of the strip drawn around each reached street.
    outline : {"auto", "exact", "grid"}, keyword-only
        How the strips are merged. ``"exact"``: each reached piece is buffered
        (as an array) and the buffers merged with ``shapely.union_all``.
        ``"grid"``: the area within ``edge_buffer_m`` of the reached pieces is
        traced as a contour on a grid of ``grid_m`` cells (see Notes); many
        times faster on city-wide results, within about one cell of the exact
        outline. ``"auto"`` (default): exact up to ``AUTO_GRID_PIECES``
        reached pieces (20,000), grid beyond. The same choice holds for
        catchments (``per_facility=True``), which are then traced on the same
        grid.
    grid_m : float, optional, keyword-only
        Cell size, metres, of the grid outline; default half of
        ``edge_buffer_m`` whatever the extent (a coarser cell loses area
        without a word). A grid of more than ``_MAX_GRID_CELLS`` (100 million
        cells, about 15,000 km² at the default) is refused with a clear error.
    quad_segs : int, keyword-only
        Segments per quarter circle of the exact buffers' rounded ends; 2
        keeps the outline within 8 % of ``edge_buffer_m`` (2 m at 25 m) and is
        several times faster to merge than the GEOS default of 8.
    max_snap_m, entry_spacing_m, direction : keyword-only
        Passed to :func:`nearest_facility_distances`.
    grid_size : float, optional, keyword-only
        Precision grid, metres, of the exact union (shapely ``grid_size``);
        None keeps full precision.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, columns ``facility`` (index label; None for the combined
        area), ``max_distance_m``, ``method`` (``"network"``), ``mode``,
        ``outline`` (``"exact"`` or ``"grid"``), ``grid_m`` (cell size of a
        grid outline, metres; NaN when exact), ``area_check_pct`` (the grid
        outline's area error against the exact union, %, measured on a
        :data:`CHECK_WINDOW_M` window of the same result: the error bound
        reported with it; for grid catchments the summed area of the grid
        catchments of that window's pieces against the exact union of the
        same pieces, one figure for all rows of a distance; 0 when exact),
        ``area_m2`` (measured in the
        network's metric CRS), ``geometry`` ((Multi)Polygon; empty when
        nothing is reached).

    Raises
    ------
    CRSError, EmptyLayerError, NetworkDataError
        As :func:`nearest_facility_distances`.

    Notes
    -----
    Why a grid outline: the service area of 1,000 facilities on a 200,000-node
    city network is the union of about 270,000 street buffers, an outline of
    about 800,000 vertices around 100,000 block-shaped holes. GEOS merges
    buffers one overlay at a time, at 50-100 microseconds per buffer, so the
    exact union takes tens of seconds even split over two cores. The grid
    outline samples the same reached pieces (same partial cuts), computes the
    distance from each cell centre to the nearest reached street cell, and
    contours it at ``edge_buffer_m``. Its outline differs from the exact one
    by at most about one cell (the street's position is known to half a cell,
    the contour interpolates between cell centres); blocks narrower than about
    ``2 * edge_buffer_m + grid_m`` may close up.

    Grid catchments: the exact catchments of 1,000 facilities on a
    1,000,000-node network are 1,000 GEOS unions of about 390,000 buffers in
    all (10.4 s wall / 18.3 s of CPU in ``benchmarks/bench_isochrones.py``
    on 2 cores, against 2.2 s / 2.9 s on the grid). On the grid, each sample of a reached piece
    carries its facility, so one distance field also says which facility's
    street is nearest to each cell; each facility's catchment is then the
    contour of its own window (its cells plus the strip), with the field
    mirrored about the contour level where another facility's street is
    nearer. Two neighbouring catchments thus cross the level at the same
    point of every grid edge between them: they share one boundary (the
    line of points equally near to both facilities' streets), never overlap
    and leave nothing between them inside a strip. Where such a boundary
    meets the edge of a strip, the two catchments leave a notch of at most
    half a cell that the combined outline covers; ``area_check_pct`` counts it.
    """
    limits = _check_area_options(max_distance_m, outline=outline, edge_buffer_m=edge_buffer_m, grid_m=grid_m)
    result = _distances_for(net_or_distances, facilities, limit_m=float(limits.max()), max_snap_m=max_snap_m,
                            entry_spacing_m=entry_spacing_m, direction=direction)
    rows: list[_AreaRow] = []
    store = _ToStorage(result.net.crs)
    with _small_pages():  # city-sized arrays from here on: see _small_pages
        for limit in limits:
            if per_facility:
                rows += _catchment_rows(result, float(limit), outline=outline, edge_buffer_m=edge_buffer_m,
                                        quad_segs=quad_segs, grid_size=grid_size, grid_m=grid_m, store=store)
            else:
                rows.append(_combined_row(result, float(limit), outline=outline, edge_buffer_m=edge_buffer_m,
                                          quad_segs=quad_segs, grid_size=grid_size, grid_m=grid_m, store=store))
    return _areas_frame(rows, result.net)


def _check_area_options(max_distance_m: float | Sequence[float], *, outline: str, edge_buffer_m: float,
                        grid_m: float | None) -> np.ndarray:
    """The distances as an array, every option checked (once, at the public boundary)."""
    if outline not in ("auto", "exact", "grid"):
        msg = f"outline 须为 auto、exact 或 grid，收到 {outline!r} (outline must be 'auto', 'exact' or 'grid')"
        raise ParameterError(msg)
    try:
        limits = np.atleast_1d(np.asarray(max_distance_m, dtype=np.float64))
    except (TypeError, ValueError):
        msg = f"距离须为数字，收到 {max_distance_m!r} (max_distance_m must be numbers)"
        raise ParameterError(msg) from None
    if len(limits) == 0 or not np.all(np.isfinite(limits) & (limits > 0)):
        msg = "距离须为一个或多个正数 (max_distance_m must be one or more positive distances in metres)"
        raise ParameterError(msg)
    check_positive(edge_buffer_m, "街道缓冲宽度 edge_buffer_m")
    if grid_m is not None:
        check_positive(grid_m, "栅格大小 grid_m")
    return limits


def _distances_for(net_or_distances: StreetNetwork | NetworkDistances, facilities: gpd.GeoDataFrame | None, *,
                   limit_m: float, max_snap_m: float, entry_spacing_m: float, direction: str) -> NetworkDistances:
    """Reuse a search that reaches far enough, or run one."""
    if isinstance(net_or_distances, NetworkDistances):
        result = net_or_distances
        if result.cutoff_m is not None and result.cutoff_m < limit_m:
            msg = (
                f"已有的距离只搜索到 {result.cutoff_m:g} m，小于所需的 {limit_m:g} m "
                "(the distances were searched less far than max_distance_m)"
            )
            raise ParameterError(msg)
        return result
    if facilities is None:
        msg = "给出街道网络时还需给出设施 (service_areas needs facilities when given a network)"
        raise EmptyLayerError(msg)
    return nearest_facility_distances(net_or_distances, facilities, cutoff_m=limit_m, max_snap_m=max_snap_m,
                                      entry_spacing_m=entry_spacing_m, direction=direction)


class _ToStorage:
    """Measure a metric geometry's area and project it to the storage CRS (one network's CRS).

    The coordinates are those ``GeoDataFrame.to_crs`` gives (the same pyproj
    transformation, point by point). Done one geometry at a time, the
    catchments are projected on threads (:func:`_grid_catchments`; pyproj
    releases the GIL): the 3.7 million vertices of the 1,000 catchments of a
    1,000,000-node city took 0.55 s in ``to_crs``, about half that on two
    threads.
    """

    def __init__(self, crs: Any) -> None:
        self._transformer = transformer(crs, settings.STORAGE_CRS)

    def _xy(self, coords: np.ndarray) -> np.ndarray:
        x, y = self._transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    def __call__(self, geom: shapely.Geometry) -> _Stored:
        stored: shapely.Geometry = shapely.transform(geom, self._xy)
        return float(shapely.area(geom)), stored


def _combined_row(result: NetworkDistances, limit: float, *, outline: str, edge_buffer_m: float, quad_segs: int,
                  grid_size: float | None, grid_m: float | None, store: _ToStorage) -> _AreaRow:
    """One area for all facilities together within ``limit`` metres."""
    net = result.net
    edges, starts, ends, _fac = _reached_pieces(result, limit, per_facility=False)
    lines = _substrings(net.edge_geometry[edges], net.edge_length[edges], starts, ends)
    how, geom, cell, check = _outline(lines, mode=outline, buffer_m=edge_buffer_m, quad_segs=quad_segs,
                                      grid_size=grid_size, cell_m=grid_m)
    return (None, limit, how, cell, check, store(geom))


def _catchment_rows(result: NetworkDistances, limit: float, *, outline: str, edge_buffer_m: float, quad_segs: int,
                    grid_size: float | None, grid_m: float | None, store: _ToStorage) -> list[_AreaRow]:
    """One area per facility: the streets it is the nearest facility for.

    Traced on the grid of the combined outline (:func:`_grid_catchments`)
    where ``outline`` asks for a grid (``"grid"``, or ``"auto"`` above
    :data:`AUTO_GRID_PIECES` pieces), with their area checked as the sum of
    the grid catchments against the exact union (:func:`_grid_check`); else
    each facility's buffered pieces are merged exactly.
    """
    net = result.net
    labels = np.asarray(result.facility_index, dtype=object)
    edges, starts, ends, fac = _reached_pieces(result, limit, per_facility=True)
    lines = _substrings(net.edge_geometry[edges], net.edge_length[edges], starts, ends)
    if _use_grid(outline, len(lines)):
        try:
            stored, cell = _grid_catchments(lines, fac, len(labels), buffer_m=edge_buffer_m, cell_m=grid_m,
                                            finish=store)
            check = _grid_check(lines, buffer_m=edge_buffer_m, quad_segs=quad_segs, cell=cell,
                                owner=fac) if len(lines) else 0.0
            return [(labels[pos], limit, "grid", cell, check, stored[pos]) for pos in range(len(labels))]
        except ImportError:
            if outline == "grid":
                raise
            # contourpy missing: fall back to the exact (slower) unions.
    polys = shapely.buffer(lines, edge_buffer_m, quad_segs=quad_segs)
    order = np.argsort(fac, kind="stable")
    fac_sorted = fac[order]
    cuts = np.flatnonzero(np.diff(fac_sorted)) + 1
    groups = np.split(polys[order], cuts) if len(fac_sorted) else []
    owners = fac_sorted[np.concatenate([[0], cuts])] if len(fac_sorted) else []
    merged = dict(zip((int(o) for o in owners), _union_groups(groups, grid_size=grid_size), strict=True))
    return [(labels[pos], limit, "exact", np.nan, 0.0, store(merged.get(pos, shapely.Polygon())))
            for pos in range(len(labels))]


def _areas_frame(rows: list[_AreaRow], net: StreetNetwork) -> gpd.GeoDataFrame:
    """The rows as service_areas' frame, in the storage CRS."""
    geoms = np.asarray([r[5][1] for r in rows], dtype=object)
    return gpd.GeoDataFrame(
        {
            "facility": [r[0] for r in rows],
            "max_distance_m": [float(r[1]) for r in rows],
            "method": "network",
            "mode": net.mode,
            "outline": [r[2] for r in rows],
            "grid_m": [float(r[3]) for r in rows],
            "area_check_pct": [float(r[4]) for r in rows],
            "area_m2": np.array([r[5][0] for r in rows], dtype=np.float64),
        },
        geometry=geoms,
        crs=settings.STORAGE_CRS,
    )


def distance_surface(result: NetworkDistances, *, reached_only: bool = True) -> gpd.GeoDataFrame:
    """Node distances as points, ready to rasterise or interpolate.

    Parameters
    ----------
    result : NetworkDistances
    reached_only : bool, keyword-only
        Keep only nodes within the cutoff (default); False keeps all, with
        ``distance_m`` = inf where unreached.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 points with ``node_id``, ``distance_m``, ``minutes_walk``
        (at ``settings.WALK_SPEED_M_PER_MIN``) and ``facility`` (label of the
        nearest facility).
    """
    net = result.net
    keep = result.reached if reached_only else np.ones(net.n_nodes, dtype=bool)
    frame = gpd.GeoDataFrame(
        {
            "node_id": net.node_ids[keep],
            "distance_m": result.distance[keep],
            "minutes_walk": result.distance[keep] / settings.WALK_SPEED_M_PER_MIN,
            "facility": result.nearest_label[keep],
        },
        geometry=shapely.points(net.x[keep], net.y[keep]),
        crs=net.crs,
    )
    return reproject(frame, settings.STORAGE_CRS)


def distance_raster(
    result: NetworkDistances,
    *,
    cell_m: float = 50.0,
    max_access_m: float = 250.0,
) -> PopulationRaster:
    """Network distance to the nearest facility on a regular grid, for GeoTIFF export.

    Each cell takes the distance of its nearest street node plus the straight
    walk from the cell centre to that node, so a cell beside a reached street
    reads the street's distance and a courtyard a little more. Cells farther
    than ``max_access_m`` from any node, or whose node was not reached within
    the cutoff, are no-data: the map does not invent access where there is no
    street.

    Parameters
    ----------
    result : NetworkDistances
        From :func:`nearest_facility_distances`.
    cell_m : float, keyword-only
        Cell size in metres (in the network's metric CRS).
    max_access_m : float, keyword-only
        Longest walk from a cell to the street network, metres.

    Returns
    -------
    spatial.population.PopulationRaster
        Float grid in the network's CRS with ``units`` "metres to nearest
        facility along streets"; write it with ``.to_geotiff(path)``.
    """
    from affine import Affine
    from scipy.spatial import cKDTree

    check_positive(cell_m, "栅格大小 cell_m")
    check_positive(max_access_m, "最大步行接入距离 max_access_m", allow_zero=True)
    net = result.net
    pad = max_access_m
    x0, x1 = net.x.min() - pad, net.x.max() + pad
    y0, y1 = net.y.min() - pad, net.y.max() + pad
    width = int(np.ceil((x1 - x0) / cell_m))
    height = int(np.ceil((y1 - y0) / cell_m))
    if width * height > 50_000_000:
        msg = f"{width} × {height} 的栅格过大，请加大 cell_m (grid too large; use a larger cell_m)"
        raise ParameterError(msg)
    cx = x0 + (np.arange(width) + 0.5) * cell_m
    cy = y1 - (np.arange(height) + 0.5) * cell_m
    gx, gy = np.meshgrid(cx, cy)
    # one nearest-neighbour query for every cell at once
    found: Any = cKDTree(np.column_stack([net.x, net.y])).query(
        np.column_stack([gx.ravel(), gy.ravel()]), distance_upper_bound=max_access_m
    )
    access: np.ndarray = np.asarray(found[0])
    node: np.ndarray = np.asarray(found[1])
    values = np.full(access.shape, np.nan)
    near = np.isfinite(access)
    values[near] = result.distance[node[near]] + access[near]
    values[~np.isfinite(values)] = np.nan
    return PopulationRaster(
        array=values.reshape(height, width),
        transform=Affine(cell_m, 0.0, x0, 0.0, -cell_m, y1),  # north-up
        crs=net.crs,
        source="planatlas network distances",
        method=f"nearest street node + straight access (<= {max_access_m:g} m)",
        attrs={"cell_m": cell_m, "cutoff_m": result.cutoff_m},
        units="metres to nearest facility along streets",
    )
