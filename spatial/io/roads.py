"""Road centrelines into a routable network: noded, with one-way, level, mode and speed fields honoured.

A planning institute's road layer is drawn for maps, not for routing: lines
stop a few centimetres short of the road they join, cross without a shared
vertex, and a flyover crosses the street beneath it without meeting it.
:func:`road_network` turns any line layer (read by :func:`spatial.io.read_upload`
in any CRS and datum) into edges a router can use:

1. lines are projected to metres (the layer's own CRS when it is metric,
   else EPSG:4548 around Jinan or the UTM zone) and split into single lines;
2. **ends within the tolerance** of each other are snapped to their mean
   position, and an end within the tolerance of another line's middle is
   snapped onto that line, which is cut there (a T-junction);
3. lines **crossing at the same level** are cut at the crossing; lines on
   different levels (a ``level``/``layer`` field, or ``bridge``/``tunnel``
   flags) cross without a junction, as a bridge does — but they still join
   where their ends meet;
4. each piece becomes an edge between numbered nodes, with its length in
   metres, ``oneway`` (drawn direction; "reverse" values turn the line round),
   its travel modes (walk / bike / drive flags) and ``speed_kmh``;
5. the connected parts of each mode's network are counted: the largest is
   kept, or all of them, as the user chooses.

Noding is done here rather than with ``shapely.node`` because GEOS nodes
every crossing, bridges included, and drops the attributes; the cut points
are computed once per crossing, so the two pieces of each line share exact
coordinates and node numbering needs no snapping grid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from .. import settings, vocab
from .._errors import EmptyLayerError, InputFileError, NetworkDataError, ParameterError
from ..isochrones import _substrings
from ..network import MODES
from ..projection import metric_crs_for, reproject

__all__ = ["RoadFields", "RoadNetwork", "detect_fields", "road_network"]

#: Snapping tolerance, metres: ends closer than this meet.
TOLERANCE_M: float = 1.0

# column names (lower-cased) each field is found under, in order of preference
_FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "name": ("name", "路名", "道路名称", "名称", "road_name", "roadname"),
    "oneway": ("oneway", "one_way", "单行", "单向", "dir", "direction", "方向"),
    "level": ("level", "layer", "z_level", "zlevel", "层", "高程层", "层级"),
    "bridge": ("bridge", "桥", "桥梁", "is_bridge"),
    "tunnel": ("tunnel", "隧道", "is_tunnel"),
    "walk": ("walk", "foot", "步行", "pedestrian", "ped"),
    "bike": ("bike", "bicycle", "cycle", "骑行", "非机动车"),
    "drive": ("drive", "car", "motor", "机动车", "车行"),
    "speed": ("speed", "maxspeed", "speed_kmh", "限速", "设计速度", "design_speed"),
}
_TRUE = {"1", "yes", "y", "true", "t", "是", "有", "√", "ft"}
_FALSE = {"0", "no", "n", "false", "f", "否", "无", "", "none", "nan", "b", "both", "双向", "双"}
_REVERSE = {"-1", "reverse", "tf", "反向", "逆向"}


@dataclass(frozen=True)
class RoadFields:
    """Which column of the layer holds each optional field (``None``: the layer has none)."""

    name: str | None = None
    oneway: str | None = None
    level: str | None = None
    bridge: str | None = None
    tunnel: str | None = None
    walk: str | None = None
    bike: str | None = None
    drive: str | None = None
    speed: str | None = None

    def describe(self) -> str:
        used = [f"{k}={v}" for k, v in self.__dict__.items() if v]
        return "、".join(used) if used else "无"


def detect_fields(columns: list[str], **given: str | None) -> RoadFields:
    """The columns holding the optional fields: those given, else found by their usual names.

    Raises
    ------
    InputFileError
        A given column is not in the layer.
    """
    lower = {str(c).strip().lower(): str(c) for c in columns}
    found: dict[str, str | None] = {}
    for key, names in _FIELD_NAMES.items():
        wanted = given.get(key)
        if wanted:
            if wanted not in columns and wanted.lower() not in lower:
                shown = "、".join(map(str, columns))
                msg = (f"道路图层中没有字段 {wanted}（现有：{shown}） (the road layer has no column {wanted!r})")
                raise InputFileError(msg)
            found[key] = wanted if wanted in columns else lower[wanted.lower()]
        else:
            found[key] = next((lower[n] for n in names if n in lower), None)
    return RoadFields(**found)


def _flag(values: pd.Series, *, default: bool) -> np.ndarray:
    text = values.fillna("").astype(str).str.strip().str.lower()
    out = np.full(len(text), default)
    out[text.isin(_TRUE).to_numpy()] = True
    out[text.isin(_FALSE - {""}).to_numpy()] = False
    return out


def _direction(values: pd.Series) -> np.ndarray:
    """1 one-way as drawn, -1 one-way against the drawing, 0 two-way."""
    text = values.fillna("").astype(str).str.strip().str.lower()
    out = np.zeros(len(text), dtype=np.int8)
    out[text.isin(_TRUE).to_numpy()] = 1
    out[text.isin(_REVERSE).to_numpy()] = -1
    return out


def _levels(frame: pd.DataFrame, fields: RoadFields) -> np.ndarray:
    level: np.ndarray = np.zeros(len(frame), dtype=np.int64)
    if fields.level:
        nums = pd.to_numeric(frame[fields.level].astype(str).str.extract(r"(-?\d+)")[0], errors="coerce")
        level = np.asarray(nums.fillna(0), dtype=np.int64)
    if fields.bridge:
        level = np.where((level == 0) & _flag(frame[fields.bridge], default=False), 1, level)
    if fields.tunnel:
        level = np.where((level == 0) & _flag(frame[fields.tunnel], default=False), -1, level)
    return level


def _speeds(values: pd.Series) -> np.ndarray:
    nums = pd.to_numeric(values.astype(str).str.extract(r"(\d+(?:\.\d+)?)")[0], errors="coerce").to_numpy(
        dtype=np.float64)
    return np.where((nums > 0) & (nums < 300), nums, np.nan)


@dataclass
class RoadNetwork:
    """Road centrelines as routable edges, one frame per travel mode.

    Attributes
    ----------
    networks : dict of str to GeoDataFrame
        Mode -> edges in EPSG:4326: ``u``, ``v`` (node numbers), ``length``
        (metres, in ``metric_crs``), ``oneway``, ``name``, ``speed_kmh``,
        ``level``, provenance columns.
    metric_crs : pyproj.CRS
        Where lengths were measured.
    fields : RoadFields
        The columns that were honoured.
    notes : list of str
    counts : dict
        Lines read, snapped ends, T-junctions, crossings cut, crossings left
        apart (different levels), and per mode edges / nodes / components.
    """

    networks: dict[str, gpd.GeoDataFrame]
    metric_crs: Any
    fields: RoadFields
    notes: list[str] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)


def road_network(
    lines: gpd.GeoDataFrame,
    *,
    tolerance_m: float = TOLERANCE_M,
    components: str = "largest",
    modes: tuple[str, ...] = MODES,
    fields: RoadFields | None = None,
    source: str = "",
    source_datum: str = "WGS84",
) -> RoadNetwork:
    """Node a line layer into a routable network.

    Parameters
    ----------
    lines : GeoDataFrame
        Lines in any CRS (planatlas's readers give EPSG:4326, WGS-84).
    tolerance_m : float, keyword-only
        Ends closer than this (metres) meet; an end this close to a line's
        middle joins it.
    components : {"largest", "all"}, keyword-only
        Keep the largest connected part of each mode's network, or all parts.
    modes : tuple of str, keyword-only
        Travel modes to build.
    fields : RoadFields, optional, keyword-only
        Columns to honour (default :func:`detect_fields` by name).
    source, source_datum : str, keyword-only
        Provenance written on every edge.

    Returns
    -------
    RoadNetwork

    Raises
    ------
    EmptyLayerError
        No lines.
    InputFileError
        The layer holds no lines (points or polygons only).
    NetworkDataError
        A mode has no line left (e.g. every line flagged not walkable).
    ParameterError
        Bad tolerance, ``components`` or mode.
    """
    tol = _check_options(tolerance_m, components, modes)
    if lines.crs is None:
        msg = "道路图层没有坐标参照系 (the road layer has no CRS)"
        raise InputFileError(msg)
    fields = fields or detect_fields(list(lines.columns))
    metric = metric_crs_for(lines)
    frame = _single_lines(reproject(lines, metric))
    counts: dict[str, Any] = {"lines": len(frame)}
    geoms = frame.geometry.to_numpy()
    level = _levels(frame, fields)
    geoms, counts["ends_snapped"] = _snap_ends(geoms, tol)
    splits, geoms, counts["t_junctions"] = _t_junctions(geoms, tol)
    cross, counts["crossings"], counts["crossings_apart"] = _crossings(geoms, level)
    splits += cross
    pieces, owner = _cut(geoms, splits)
    notes = [f"道路中心线 {counts['lines']:,} 条：端点吸附 {counts['ends_snapped']:,} 处、T 形接点吸附 "
             f"{counts['t_junctions']:,} 处、同层交叉打断 {counts['crossings']:,} 处、不同层交叉保持分离 "
             f"{counts['crossings_apart']:,} 处（容差 {tol:g} m；字段：{fields.describe()}） "
             f"({counts['lines']} lines: {counts['ends_snapped']} ends snapped, {counts['t_junctions']} T-junctions, "
             f"{counts['crossings']} crossings noded, {counts['crossings_apart']} kept apart by level)"]
    node_u, node_v = _node_ids(pieces)
    networks: dict[str, gpd.GeoDataFrame] = {}
    attrs = _attributes(frame, fields, level)
    for mode in modes:
        edges, info, note = _mode_edges(pieces, owner, node_u, node_v, attrs, mode=mode, metric=metric,
                                        components=components, source=source, source_datum=source_datum)
        networks[mode] = edges
        counts[f"network_{mode}"] = info
        if note:
            notes.append(note)
    return RoadNetwork(networks=networks, metric_crs=metric, fields=fields, notes=notes, counts=counts)


def _check_options(tolerance_m: float, components: str, modes: tuple[str, ...]) -> float:
    if (isinstance(tolerance_m, bool) or not isinstance(tolerance_m, (int, float))
            or not np.isfinite(tolerance_m) or tolerance_m < 0 or tolerance_m > 50):
        msg = f"容差须为 0-50 米，收到 {tolerance_m!r} (tolerance_m must be 0-50 metres)"
        raise ParameterError(msg)
    if components not in ("largest", "all"):
        msg = f"components 须为 largest 或 all，收到 {components!r} (components must be 'largest' or 'all')"
        raise ParameterError(msg)
    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        msg = f"未知的出行方式 {bad or modes}：请用 {'、'.join(MODES)} (unknown travel modes {bad})"
        raise ParameterError(msg)
    return float(tolerance_m)


def _single_lines(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    geoms = frame.geometry
    lines = frame[geoms.notna() & ~geoms.is_empty & geoms.geom_type.isin(["LineString", "MultiLineString"])]
    if len(lines) == 0:
        kinds = "、".join(sorted(set(geoms.geom_type.dropna()))) or "无几何"
        msg = f"道路图层中没有线（收到 {kinds}） (the road layer holds no lines: {kinds})"
        raise EmptyLayerError(msg)
    single = lines.explode(index_parts=False).reset_index(drop=True)
    single = single.set_geometry(shapely.force_2d(single.geometry.to_numpy()))
    keep = shapely.length(single.geometry.to_numpy()) > 0
    return single[keep].reset_index(drop=True)


def _ends(geoms: np.ndarray) -> np.ndarray:
    """(2n, 2) start and end coordinates: rows 0..n-1 starts, n..2n-1 ends."""
    start = shapely.get_coordinates(shapely.get_point(geoms, 0))
    end = shapely.get_coordinates(shapely.get_point(geoms, -1))
    return np.vstack([start, end])


def _with_ends(geoms: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Lines with their first and last vertex moved to ``ends`` (as :func:`_ends` orders them)."""
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    n = len(geoms)
    first = np.r_[0, np.flatnonzero(np.diff(owner)) + 1]
    last = np.r_[first[1:], len(coords)] - 1
    coords = coords.copy()
    coords[first] = ends[:n]
    coords[last] = ends[n:]
    return np.asarray(shapely.linestrings(coords, indices=owner))


def _snap_ends(geoms: np.ndarray, tol: float) -> tuple[np.ndarray, int]:
    """Move ends within ``tol`` of each other to their mean position."""
    ends = _ends(geoms)
    if tol <= 0 or len(ends) < 2:
        return geoms, 0
    pairs = cKDTree(ends).query_pairs(r=tol, output_type="ndarray")
    if len(pairs) == 0:
        return geoms, 0
    m = len(ends)
    graph = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(m, m))
    _, label = csgraph.connected_components(graph, directed=False)
    sizes = np.bincount(label)
    mean = np.column_stack([np.bincount(label, weights=ends[:, i]) / sizes for i in range(2)])
    moved = (sizes[label] > 1) & np.any(ends != mean[label], axis=1)
    ends = np.where((sizes[label] > 1)[:, None], mean[label], ends)
    return _with_ends(geoms, ends), int(moved.sum())


def _t_junctions(geoms: np.ndarray, tol: float) -> tuple[list[tuple[int, float, float, float]], np.ndarray, int]:
    """Ends on or up to ``tol`` short of another line's middle: the line is cut there and the end moved onto it.

    An end that already meets another line's end is left where it is (moving
    it would break the junction it makes). Returns the splits, the lines and
    the number of ends that did not touch the line they were snapped onto.
    """
    splits: list[tuple[int, float, float, float]] = []
    if tol <= 0 or len(geoms) < 2:
        return splits, geoms, 0
    n = len(geoms)
    ends = _ends(geoms)
    pts = np.asarray(shapely.points(ends), dtype=object)
    tree = shapely.STRtree(geoms)
    pi, li = tree.query(pts, predicate="dwithin", distance=tol)
    own = pi % n == li
    pi, li = pi[~own], li[~own]
    if len(pi) == 0:
        return splits, geoms, 0
    along = np.asarray(shapely.line_locate_point(geoms[li], pts[pi]))
    length = np.asarray(shapely.length(geoms[li]))
    dist = np.asarray(shapely.distance(pts[pi], geoms[li]))
    # exact touches too: a reprojected end that "touches" may lie a nanometre off the line
    interior = (along > tol) & (along < length - tol)
    order = np.lexsort((dist, pi))  # nearest line first for each end
    pi, li, along, interior, dist = pi[order], li[order], along[order], interior[order], dist[order]
    first = np.r_[True, pi[1:] != pi[:-1]]
    # an end that already meets some line's end (after snapping) is a junction, not a T
    meets_end = np.zeros(len(ends), dtype=bool)
    pairs = cKDTree(ends).query_pairs(r=1e-9, output_type="ndarray")
    meets_end[pairs.ravel()] = True
    take = first & interior & ~meets_end[pi]
    onto = shapely.line_interpolate_point(geoms[li[take]], along[take])
    xy = shapely.get_coordinates(onto)
    ends = ends.copy()
    ends[pi[take]] = xy
    for line, d, (x, y) in zip(li[take], along[take], xy, strict=True):
        splits.append((int(line), float(d), float(x), float(y)))
    near_miss = int((take & (dist > 1e-6)).sum())  # ends that did not touch: snapped onto the line
    return splits, _with_ends(geoms, ends), near_miss


def _crossings(geoms: np.ndarray, level: np.ndarray) -> tuple[list[tuple[int, float, float, float]], int, int]:
    """Cut points where lines of the same level cross (both lines get the same point)."""
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    apart = level[a] != level[b]
    inter = shapely.intersection(geoms[a], geoms[b])
    # crossings at a shared end are already junctions; count only those of different levels
    apart_count = int((apart & ~_only_shared_ends(geoms, a, b, inter)).sum())
    a, b, inter = a[~apart], b[~apart], inter[~apart]
    parts, owner = shapely.get_parts(inter, return_index=True)
    # a crossing is a point; an overlap (a line) cuts at its two ends
    pts_list = []
    own_list = []
    is_point = shapely.get_type_id(parts) == 0
    pts_list.append(parts[is_point])
    own_list.append(owner[is_point])
    lines = parts[~is_point & (shapely.get_type_id(parts) == 1)]
    line_owner = owner[~is_point & (shapely.get_type_id(parts) == 1)]
    if len(lines):
        pts_list += [shapely.get_point(lines, 0), shapely.get_point(lines, -1)]
        own_list += [line_owner, line_owner]
    pts = np.concatenate(pts_list) if pts_list else np.empty(0, dtype=object)
    own = np.concatenate(own_list) if own_list else np.empty(0, dtype=np.int64)
    splits: list[tuple[int, float, float, float]] = []
    if len(pts) == 0:
        return splits, 0, apart_count
    xy = shapely.get_coordinates(pts)
    n_cuts = 0
    for side in (a, b):
        lines_i = side[own]
        along = shapely.line_locate_point(geoms[lines_i], pts)
        length = shapely.length(geoms[lines_i])
        inner = (along > 1e-9) & (along < length - 1e-9)
        n_cuts += int(inner.sum())
        splits += [(int(i), float(d), float(x), float(y))
                   for i, d, (x, y) in zip(lines_i[inner], along[inner], xy[inner], strict=True)]
    crossings = len({(round(x, 6), round(y, 6)) for _, _, x, y in splits})
    return splits, crossings, apart_count


def _only_shared_ends(geoms: np.ndarray, a: np.ndarray, b: np.ndarray, inter: np.ndarray) -> np.ndarray:
    """Whether each pair's intersection is just ends they share (a junction, not a crossing)."""
    if len(a) == 0:
        return np.zeros(0, dtype=bool)
    ends_a = shapely.multipoints(np.stack([shapely.get_coordinates(shapely.get_point(geoms[a], 0)),
                                           shapely.get_coordinates(shapely.get_point(geoms[a], -1))], axis=1))
    ends_b = shapely.multipoints(np.stack([shapely.get_coordinates(shapely.get_point(geoms[b], 0)),
                                           shapely.get_coordinates(shapely.get_point(geoms[b], -1))], axis=1))
    return np.asarray(shapely.covered_by(inter, shapely.union(ends_a, ends_b)))


def _cut(geoms: np.ndarray, splits: list[tuple[int, float, float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """Every line cut at its split points; the pieces share the split points' exact coordinates."""
    n = len(geoms)
    length = shapely.length(geoms)
    if not splits:
        return geoms, np.arange(n)
    sp = pd.DataFrame(splits, columns=["line", "d", "x", "y"])
    sp = sp[(sp["d"] > 1e-9) & (sp["d"] < length[sp["line"].to_numpy()] - 1e-9)]
    sp = sp.sort_values(["line", "d"]).drop_duplicates(["line", "x", "y"])
    ends = _ends(geoms)
    rows = [pd.DataFrame({"line": np.arange(n), "d": 0.0, "x": ends[:n, 0], "y": ends[:n, 1]}), sp,
            pd.DataFrame({"line": np.arange(n), "d": length, "x": ends[n:, 0], "y": ends[n:, 1]})]
    cuts = pd.concat(rows, ignore_index=True).sort_values(["line", "d"], kind="stable").reset_index(drop=True)
    _merge_close(cuts)
    line = cuts["line"].to_numpy()
    same = line[1:] == line[:-1]
    owner = line[:-1][same]
    d0, d1 = cuts["d"].to_numpy()[:-1][same], cuts["d"].to_numpy()[1:][same]
    good = d1 - d0 > 1e-9
    owner, d0, d1 = owner[good], d0[good], d1[good]
    x, y = cuts["x"].to_numpy(), cuts["y"].to_numpy()
    start_idx = np.flatnonzero(same)[good]
    pieces = _substrings(geoms[owner], length[owner], d0, d1)
    piece_ends = np.vstack([np.column_stack([x[start_idx], y[start_idx]]),
                            np.column_stack([x[start_idx + 1], y[start_idx + 1]])])
    return _with_ends(pieces, piece_ends), owner


#: Cut points closer than this are one node, metres (three streets crossing at one point give
#: intersection coordinates that differ in their last digits).
_SAME_POINT_M = 1e-3


def _merge_close(cuts: pd.DataFrame) -> None:
    """Give cut points and ends closer than :data:`_SAME_POINT_M` one coordinate (in place)."""
    xy = cuts[["x", "y"]].to_numpy()
    pairs = cKDTree(xy).query_pairs(r=_SAME_POINT_M, output_type="ndarray")
    if len(pairs) == 0:
        return
    m = len(xy)
    graph = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(m, m))
    _, label = csgraph.connected_components(graph, directed=False)
    first = np.full(label.max() + 1, -1)
    first[label[::-1]] = np.arange(m)[::-1]  # the first point of each cluster
    cuts["x"] = xy[first[label], 0]
    cuts["y"] = xy[first[label], 1]


def _node_ids(pieces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Node numbers (1..k) of each piece's ends, by exact coordinates."""
    ends = _ends(pieces)
    _, inverse = np.unique(ends, axis=0, return_inverse=True)
    ids = inverse.ravel().astype(np.int64) + 1
    n = len(pieces)
    return ids[:n], ids[n:]


def _attributes(frame: pd.DataFrame, fields: RoadFields, level: np.ndarray) -> dict[str, np.ndarray]:
    n = len(frame)
    out: dict[str, np.ndarray] = {"level": level}
    out["direction"] = _direction(frame[fields.oneway]) if fields.oneway else np.zeros(n, dtype=np.int8)
    out["name"] = (frame[fields.name].astype(object).where(frame[fields.name].notna(), None).to_numpy()
                   if fields.name else np.full(n, None, dtype=object))
    out["speed_kmh"] = _speeds(frame[fields.speed]) if fields.speed else np.full(n, np.nan)
    for mode in MODES:
        column = getattr(fields, mode)
        out[mode] = _flag(frame[column], default=True) if column else np.ones(n, dtype=bool)
    return out


def _mode_edges(pieces: np.ndarray, owner: np.ndarray, node_u: np.ndarray, node_v: np.ndarray,
                attrs: dict[str, np.ndarray], *, mode: str, metric: Any, components: str, source: str,
                source_datum: str) -> tuple[gpd.GeoDataFrame, dict[str, int], str]:
    use = attrs[mode][owner]
    if not use.any():
        msg = (f"没有可供{vocab.label('mode', mode)}的道路（字段把所有道路都标为不可{vocab.label('mode', mode)}） "
               f"(no road is open to {mode}: the mode field excludes every line)")
        raise NetworkDataError(msg)
    geoms, own = pieces[use], owner[use]
    u, v = node_u[use].copy(), node_v[use].copy()
    direction = attrs["direction"][own] if mode != "walk" else np.zeros(len(own), dtype=np.int8)
    back = direction < 0
    if back.any():
        u[back], v[back] = node_v[use][back], node_u[use][back]
        geoms = geoms.copy()
        geoms[back] = shapely.reverse(geoms[back])
    ids, inv = np.unique(np.r_[u, v], return_inverse=True)
    k = len(ids)
    graph = sparse.coo_matrix((np.ones(len(u)), (inv[: len(u)], inv[len(u):])), shape=(k, k))
    n_comp, label = csgraph.connected_components(graph, directed=False)
    edge_label = label[inv[: len(u)]]
    sizes = np.bincount(edge_label, minlength=n_comp)
    keep = np.ones(len(u), dtype=bool)
    note = ""
    if n_comp > 1:
        biggest = int(np.argmax(sizes))
        shown = "、".join(f"{s:,}" for s in sorted(sizes, reverse=True)[:5])
        if components == "largest":
            keep = edge_label == biggest
            note = (f"{vocab.label('mode', mode)}网络由 {n_comp:,} 个互不连通的部分组成（边数：{shown}…），"
                    "保留最大的部分"
                    f"（{int(keep.sum()):,} 条边）；要全部保留请用 --components all "
                    f"({mode}: {n_comp} components; the largest kept)")
        else:
            note = (f"{vocab.label('mode', mode)}网络由 {n_comp:,} 个互不连通的部分组成（边数：{shown}…），全部保留 "
                    f"({mode}: {n_comp} components, all kept)")
    length = shapely.length(geoms[keep])
    frame = reproject(gpd.GeoDataFrame({
        "u": u[keep], "v": v[keep], "length": length, "oneway": (direction != 0)[keep],
        "name": attrs["name"][own][keep], "speed_kmh": attrs["speed_kmh"][own][keep],
        "level": attrs["level"][own][keep], "component": edge_label[keep].astype(np.int32),
        "source": source or "道路中心线", "source_datum": source_datum, "precision": "exact",
    }, geometry=gpd.GeoSeries(geoms[keep], crs=metric), crs=metric), settings.STORAGE_CRS)
    info = {"edges": int(keep.sum()), "nodes": len(np.unique(np.r_[u[keep], v[keep]])),
            "components": int(n_comp)}
    return frame, info, note


def parse_modes(text: str) -> tuple[str, ...]:
    """``"walk,drive"`` -> ``("walk", "drive")``.

    Raises
    ------
    ParameterError
        An unknown mode.
    """
    modes = tuple(m for m in re.split(r"[,\s，]+", str(text).strip()) if m)
    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        msg = f"未知的出行方式 {text!r}：请用 {'、'.join(MODES)} 的组合 (unknown travel modes {text!r})"
        raise ParameterError(msg)
    return modes
