"""OpenStreetMap extracts (``.osm.pbf``, ``.osm``) read in one streaming pass.

A planner's OSM data is a Geofabrik extract of a province (Shandong: about
25 million nodes) or a file exported for a district. Everything a project
needs comes out of one pass with pyosmium (libosmium): walking, cycling and
driving street networks, public green space with its area, residential land,
buildings with their levels, and facilities classified into the life-circle
types of :mod:`spatial.facilities`.

Why pyosmium, on evidence (figures in ``benchmarks/bench_import.py`` and
the team's reader study): it reads PBF and XML with the same code; it keeps
node locations in a sparse index of 16 bytes per node (``flex_mem``, or
``sparse_file_array,PATH`` on disk when memory is tight) and nothing else that
grows with the file, while pyrosm decodes every node into arrays (about
370 bytes per node for a full import: some 11 GB for a province) and
quackosm needs a pinned DuckDB and was 2-4 times slower; libosmium assembles
multipolygons (parks with ponds); its C++ filters keep all but the tagged
objects out of Python. Two traps are avoided: dense location indexes and the
two-pass ``IdFilter`` take memory proportional to the *largest node id*
(about 1.5 GB for real ids), whatever the file's size.

What reaches Python is kept compact (flat arrays for street ways, WKB for
polygons) and clipped chunk by chunk, so a province import with ``clip=`` a
district holds only the district's features. Street ways are cut into edges at
the nodes they share (intersections), as osmnx does before simplification;
edge lengths are geodesic (pyproj, WGS-84 ellipsoid).

Travel modes follow osmnx's ``network_type`` filters ("walk", "bike",
"drive"; osmnx 2.x ``_overpass._get_network_filter``), so a network imported
here matches one osmnx would download. One-way rules follow the OSM wiki
(Key:oneway): ``yes/true/1`` forward, ``-1/reverse`` backward, implied on
roundabouts and motorways; cyclists may ride against it where
``oneway:bicycle=no``; pedestrians always may.
"""

from __future__ import annotations

import datetime as _dt
import re
from array import array
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod
from scipy import sparse
from scipy.sparse import csgraph

from .. import facilities, settings, vocab
from .._errors import EmptyLayerError, InputFileError, ParameterError
from ..projection import metric_crs_for, reproject

__all__ = ["MODES", "OsmExtract", "read_osm"]

#: Travel modes a network is built for.
MODES: tuple[str, ...] = ("walk", "bike", "drive")

#: Rows kept in Python before a chunk is clipped and compacted.
CHUNK_ROWS: int = 100_000

#: Node-location index of libosmium: sparse, 16 bytes per node of the file.
DEFAULT_INDEX: str = "flex_mem"

# osmnx 2.x network filters (regular expressions searched in the tag value, as Overpass does)
_EXCLUDE = {
    "walk": re.compile("abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|proposed"
                       "|raceway|razed"),
    "bike": re.compile("abandoned|bus_guideway|construction|corridor|elevator|escalator|footway|motor|no"
                       "|planned|platform|proposed|raceway|razed|steps"),
    "drive": re.compile("abandoned|bridleway|bus_guideway|construction|corridor|cycleway|elevator|escalator"
                        "|footway|no|path|pedestrian|planned|platform|proposed|raceway|razed|service|steps"
                        "|track"),
}
_DRIVE_SERVICE = re.compile("alley|driveway|emergency_access|parking|parking_aisle|private")
_ONEWAY_FORWARD = {"yes", "true", "1"}
_ONEWAY_BACKWARD = {"-1", "reverse"}

#: ``building=*`` values that are homes (OSM wiki Key:building, "Accommodation").
RESIDENTIAL_BUILDINGS = frozenset({
    "apartments", "bungalow", "cabin", "detached", "dormitory", "farm", "house", "houseboat",
    "residential", "semidetached_house", "static_caravan", "terrace",
})

_GEOD = Geod(ellps="WGS84")


def _mode_bits(tags: Any) -> int:
    """Which travel modes may use a highway way (bit 0 walk, 1 bike, 2 drive)."""
    hw = tags.get("highway")
    if hw is None or tags.get("area") == "yes" or (tags.get("access") or "").startswith("private"):
        return 0
    bits = 0
    service = tags.get("service") or ""
    if not _EXCLUDE["walk"].search(hw) and tags.get("foot") != "no" and "private" not in service:
        bits |= 1
    if not _EXCLUDE["bike"].search(hw) and tags.get("bicycle") != "no" and "private" not in service:
        bits |= 2
    if (not _EXCLUDE["drive"].search(hw) and tags.get("motor_vehicle") != "no" and tags.get("motorcar") != "no"
            and not _DRIVE_SERVICE.search(service)):
        bits |= 4
    return bits


def _oneway(tags: Any) -> int:
    """Driving direction: 1 forward only, -1 backward only, 0 both ways."""
    value = (tags.get("oneway") or "").strip().lower()
    if value in _ONEWAY_FORWARD:
        return 1
    if value in _ONEWAY_BACKWARD:
        return -1
    if value == "no":
        return 0
    if tags.get("junction") in ("roundabout", "circular") or tags.get("highway") in ("motorway", "motorway_link"):
        return 1
    return 0


def _levels(value: object) -> float:
    """``building:levels`` as a number of storeys (the first number given), NaN when untagged or unreadable."""
    if not isinstance(value, str):
        return float("nan")
    m = re.search(r"\d+(?:\.\d+)?", value)
    if m is None:
        return float("nan")
    levels = float(m.group())
    return levels if 0 < levels < 200 else float("nan")


# --------------------------------------------------------------------------- clip


@dataclass(frozen=True)
class _Clip:
    """A prepared WGS-84 polygon, or nothing (keep all)."""

    geometry: shapely.Geometry | None

    def points(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        if self.geometry is None:
            return np.ones(len(lon), dtype=bool)
        return np.asarray(shapely.intersects_xy(self.geometry, lon, lat))

    def geoms(self, geoms: np.ndarray) -> np.ndarray:
        if self.geometry is None:
            return np.ones(len(geoms), dtype=bool)
        return np.asarray(shapely.intersects(self.geometry, geoms))


# --------------------------------------------------------------------------- collectors


class _Streets:
    """Highway ways as flat arrays: node refs, lon/lat and per-way attributes, clipped per chunk."""

    def __init__(self, clip: _Clip) -> None:
        self.clip = clip
        self.parts: list[dict[str, np.ndarray]] = []
        self.text: dict[str, list[object]] = {"highway": [], "name": [], "maxspeed": []}
        self._new()

    def _new(self) -> None:
        self.refs, self.lon, self.lat = array("q"), array("d"), array("d")
        self.lens, self.ids = array("q"), array("q")
        self.modes, self.drive, self.bike, self.layer = array("B"), array("b"), array("b"), array("b")
        self.c_text: dict[str, list[object]] = {k: [] for k in self.text}

    def add(self, way: Any, osmium: Any) -> None:
        tags = way.tags
        bits = _mode_bits(tags)
        if not bits:
            return
        try:
            pts = [(n.ref, n.lon, n.lat) for n in way.nodes]
        except osmium.InvalidLocationError:  # a way leaving the extract: keep its located part
            pts = [(n.ref, n.lon, n.lat) for n in way.nodes if n.location.valid()]
        if len(pts) < 2:
            return
        refs, lons, lats = zip(*pts, strict=True)
        self.refs.extend(refs)
        self.lon.extend(lons)
        self.lat.extend(lats)
        self.lens.append(len(refs))
        self.ids.append(way.id)
        self.modes.append(bits)
        drive = _oneway(tags)
        self.drive.append(drive)
        self.bike.append(0 if tags.get("oneway:bicycle") == "no" else drive)
        try:
            layer = int(float(tags.get("layer") or 0))
        except ValueError:
            layer = 0
        self.layer.append(max(-5, min(5, layer)))
        self.c_text["highway"].append(tags.get("highway"))
        self.c_text["name"].append(tags.get("name"))
        self.c_text["maxspeed"].append(tags.get("maxspeed"))
        if len(self.lens) >= CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        lens = np.frombuffer(self.lens, dtype=np.int64)
        if not len(lens):
            return
        lon = np.frombuffer(self.lon, dtype=np.float64)
        lat = np.frombuffer(self.lat, dtype=np.float64)
        starts = np.r_[0, np.cumsum(lens)[:-1]]
        keep = np.add.reduceat(self.clip.points(lon, lat), starts) > 0  # any node inside
        per_ref = np.repeat(keep, lens)
        self.parts.append({
            "refs": np.frombuffer(self.refs, dtype=np.int64)[per_ref].copy(),
            "lon": lon[per_ref].copy(), "lat": lat[per_ref].copy(), "lens": lens[keep].copy(),
            "ids": np.frombuffer(self.ids, dtype=np.int64)[keep].copy(),
            "modes": np.frombuffer(self.modes, dtype=np.uint8)[keep].copy(),
            "drive": np.frombuffer(self.drive, dtype=np.int8)[keep].copy(),
            "bike": np.frombuffer(self.bike, dtype=np.int8)[keep].copy(),
            "layer": np.frombuffer(self.layer, dtype=np.int8)[keep].copy(),
        })
        idx = np.flatnonzero(keep)
        for key, values in self.c_text.items():
            self.text[key].extend(values[i] for i in idx)
        self._new()

    def arrays(self) -> dict[str, np.ndarray]:
        self.flush()
        keys = ("refs", "lon", "lat", "lens", "ids", "modes", "drive", "bike", "layer")
        dtypes = (np.int64, np.float64, np.float64, np.int64, np.int64, np.uint8, np.int8, np.int8, np.int8)
        out = {k: (np.concatenate([p[k] for p in self.parts]) if self.parts else np.empty(0, dtype=d))
               for k, d in zip(keys, dtypes, strict=True)}
        out.update({k: np.asarray(v, dtype=object) for k, v in self.text.items()})
        return out


class _Features:
    """Rows of one feature layer (columns + WKB or lon/lat), clipped and compacted per chunk."""

    def __init__(self, clip: _Clip, columns: tuple[str, ...], *, points: bool) -> None:
        self.clip = clip
        self.columns = columns
        self.points = points
        self.rows: list[tuple[Any, ...]] = []
        self.kept: list[pd.DataFrame] = []
        self.geoms: list[np.ndarray] = []

    def add(self, row: tuple[Any, ...]) -> None:
        """``row`` = (osm_type, osm_id, *columns, geometry) with lon, lat for points, WKB otherwise."""
        self.rows.append(row)
        if len(self.rows) >= CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        n_cols = 2 + len(self.columns)
        frame = pd.DataFrame.from_records([r[:n_cols] for r in self.rows],
                                          columns=["osm_type", "osm_id", *self.columns])
        if self.points:
            xy = np.array([r[n_cols:] for r in self.rows], dtype=np.float64).reshape(-1, 2)
            keep = self.clip.points(xy[:, 0], xy[:, 1])
            geoms = shapely.points(xy[keep])
        else:
            allg = shapely.from_wkb([r[n_cols] for r in self.rows])
            keep = self.clip.geoms(allg)
            geoms = allg[keep]
        self.rows = []
        self.kept.append(frame[keep].reset_index(drop=True))
        self.geoms.append(np.asarray(geoms, dtype=object))

    def frame(self) -> gpd.GeoDataFrame:
        self.flush()
        return self._take()

    def _take(self) -> gpd.GeoDataFrame:
        """The rows kept so far as one frame (and forget them)."""
        if not self.kept:
            empty = pd.DataFrame({c: pd.Series(dtype=object) for c in ("osm_type", "osm_id", *self.columns)})
            return gpd.GeoDataFrame(empty, geometry=gpd.GeoSeries([], crs=settings.STORAGE_CRS),
                                    crs=settings.STORAGE_CRS)
        frame = pd.concat(self.kept, ignore_index=True)
        geoms = np.concatenate(self.geoms)
        self.kept, self.geoms = [], []
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=settings.STORAGE_CRS),
                                crs=settings.STORAGE_CRS)


# --------------------------------------------------------------------------- result


@dataclass
class OsmExtract:
    """What one OSM file gives a project.

    Attributes
    ----------
    networks : dict of str to GeoDataFrame
        Travel mode -> street edges (EPSG:4326): ``u``, ``v`` (OSM node ids),
        ``length`` (metres, geodesic), ``oneway`` (bool, for that mode),
        ``highway``, ``name``, ``maxspeed``, ``osm_id`` (the way), ``layer``.
    facilities : GeoDataFrame
        Points (polygons at their representative point, with ``area_m2``):
        ``facility_type``, ``name``, ``classified_by``, ``osm_type``, ``osm_id``.
    green : GeoDataFrame
        Public green-space polygons: ``kind`` (park, garden …), ``name``,
        ``area_m2``, ``facility_type`` = ``"park"``.
    residential : GeoDataFrame
        ``landuse=residential`` polygons with ``area_m2``.
    buildings : GeoDataFrame or spatial.store.LayerSource
        Building polygons (a LayerSource with ``spill_dir``): ``building``, ``levels`` (NaN when untagged),
        ``footprint_m2``, ``floor_area_m2`` (footprint x levels, one storey
        assumed where untagged: ``levels_assumed``), ``residential`` (a home
        by its tag, or an untyped building on residential land).
    timestamp : str
        When the data was current (ISO 8601, UTC).
    timestamp_basis : str
        ``"header"`` (the extract's replication timestamp) or ``"newest
        object"`` (no timestamp in the header: the newest edit among the
        objects read).
    bounds : tuple of float or None
        The extract's bounding box from its header (W, S, E, N), if it has one.
    notes : list of str
        What was left out or assumed, Chinese first.
    counts : dict
        Features per layer, edges and nodes per mode, components.
    """

    networks: dict[str, gpd.GeoDataFrame]
    facilities: gpd.GeoDataFrame
    green: gpd.GeoDataFrame
    residential: gpd.GeoDataFrame
    buildings: Any
    timestamp: str = ""
    timestamp_basis: str = ""
    bounds: tuple[float, float, float, float] | None = None
    notes: list[str] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)


def _osmium() -> Any:
    import osmium

    return osmium


def header_info(path: Path) -> tuple[tuple[float, float, float, float] | None, str]:
    """The extract's bounding box and replication timestamp from its header (without reading it all)."""
    osmium = _osmium()
    try:
        reader = osmium.io.Reader(str(path), osmium.osm.NOTHING)
        header = reader.header()
        reader.close()
    except RuntimeError:  # libosmium's text names its internals, not what a planner can fix
        msg = (f"无法读取 OSM 文件 {path.name}：文件已损坏或不是 OSM 格式 "
               f"(cannot read the OSM file {path.name}: damaged or not OSM)")
        raise InputFileError(msg) from None
    box = header.box()
    bounds = None
    if box.valid():
        bounds = (box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat)
    stamp = header.get("osmosis_replication_timestamp") or header.get("timestamp") or ""
    return bounds, stamp


def _check_path(path: str | Path) -> Path:
    try:
        p = Path(path)
    except TypeError:
        msg = f"OSM 文件须为路径，收到 {type(path).__name__} (the OSM file must be a path)"
        raise ParameterError(msg) from None
    from .. import settings
    from ._limits import check_user_file

    # a regular local file only (a FIFO would block, /dev/zero never end), of a size an extract can have
    check_user_file(p, what=("OSM", "OSM"), max_bytes=settings.MAX_OSM_BYTES)
    name = p.name.lower()
    if not name.endswith((".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz")):
        msg = (f"{p.name} 不是 OSM 文件：请给出 .osm.pbf 或 .osm "
               f"({p.name} is not an OSM file: give a .osm.pbf or .osm)")
        raise InputFileError(msg)
    return p


_FAC_COLUMNS = ("facility_type", "group", "name", "isced", "area_m2_wkb")


def read_osm(
    path: str | Path,
    *,
    clip: shapely.Geometry | None = None,
    modes: tuple[str, ...] = MODES,
    components: str = "largest",
    index: str = DEFAULT_INDEX,
    progress: Callable[[str], None] | None = None,
    spill_dir: str | Path | None = None,
) -> OsmExtract:
    """Read an OSM extract into a project's layers, in one pass.

    Parameters
    ----------
    path : str or path-like
        ``.osm.pbf`` or ``.osm`` (XML; ``.osm.bz2``/``.osm.gz`` too).
    clip : shapely Polygon or MultiPolygon, optional, keyword-only
        Keep only what lies in this WGS-84 area: street ways with a node
        inside (whole, so streets crossing the edge still route), polygons
        touching it, points inside.
    modes : tuple of str, keyword-only
        Travel modes to build networks for (of :data:`MODES`).
    components : {"largest", "all"}, keyword-only
        Keep only the largest connected part of each network (the osmnx
        default: facilities never snap to a stranded fragment), or all parts.
    index : str, keyword-only
        libosmium node-location index (``flex_mem``; ``sparse_file_array,PATH``
        keeps it in a file when memory is tight).
    progress : callable, optional, keyword-only
        Called with a short Chinese line after each stage.
    spill_dir : path-like, optional, keyword-only
        A scratch folder: buildings are written there as GeoParquet chunk
        files as they are read, and :attr:`OsmExtract.buildings` is a
        :class:`spatial.store.LayerSource` the store copies in chunks (memory
        then does not grow with the number of buildings). The folder must
        outlive the store write.

    Returns
    -------
    OsmExtract

    Raises
    ------
    InputFileError
        Missing, unreadable or malformed file.
    EmptyLayerError
        Nothing of the file lies in ``clip``.
    ParameterError
        Unknown mode or ``components`` value.
    """
    p = _check_path(path)
    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        msg = f"未知的出行方式 {bad or modes}：请用 {'、'.join(MODES)} (unknown travel modes {bad})"
        raise ParameterError(msg)
    if components not in ("largest", "all"):
        msg = f"components 须为 largest 或 all，收到 {components!r} (components must be 'largest' or 'all')"
        raise ParameterError(msg)
    say = progress or (lambda _line: None)
    bounds, stamp = header_info(p)
    if clip is not None:
        shapely.prepare(clip)
    spill = Path(spill_dir) if spill_dir is not None else None
    streets, collected, newest = _scan(p, _Clip(clip), index=index, spill=spill, track_time=not stamp)
    say(f"已读取 {p.name}：街道 {len(streets['lens']):,} 条")
    notes: list[str] = []
    if not stamp and newest is not None:
        stamp_basis = "newest object"
        stamp = newest.astimezone(_dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        notes.append(f"{p.name} 的文件头没有数据时间，取所读对象中最新的编辑时间 {stamp} "
                     f"(no timestamp in the header: the newest edit among the objects read)")
    else:
        stamp_basis = "header" if stamp else ""
    frames = {name: feats.frame() for name, feats in collected.items() if not isinstance(feats, _SpilledBuildings)}
    metric = _metric_crs(streets["lon"], streets["lat"], frames)
    networks: dict[str, gpd.GeoDataFrame] = {}
    counts: dict[str, Any] = {}
    for bit, mode in enumerate(MODES):
        if mode not in modes:
            continue
        edges, info = _network(streets, bit=bit, mode=mode, components=components)
        networks[mode] = edges
        counts[f"network_{mode}"] = info
        if info["components"] > 1:
            kept = "保留最大的连通部分" if components == "largest" else "全部保留"
            notes.append(f"{vocab.label('mode', mode)}网络有 {info['components']:,} 个互不连通的部分，{kept}"
                         f"（{info['edges']:,} 条边） ({mode} network: {info['components']} components, "
                         f"{'largest kept' if components == 'largest' else 'all kept'})")
    say("街道网络已切分为路段")
    fac, fac_notes = _facilities(frames["facilities"], metric)
    notes += fac_notes
    green = _with_area(frames["green"], metric)
    green["facility_type"] = "park"
    residential = _with_area(frames["residential"], metric)
    if isinstance(collected["buildings"], _SpilledBuildings):
        buildings: Any = collected["buildings"].source(residential)
    else:
        buildings = _buildings(frames["buildings"], residential, metric)
    nothing = len(fac) + len(green) + len(residential) + len(buildings) + sum(len(e) for e in networks.values())
    if nothing == 0:
        where = "裁剪范围内" if clip is not None else ""
        msg = (f"{p.name} {where}没有街道、设施、绿地或建筑 "
               f"({p.name} holds no streets, facilities, green space or buildings"
               f"{' in the clip area' if clip is not None else ''})")
        raise EmptyLayerError(msg)
    counts.update({"facilities": len(fac), "green": len(green), "residential": len(residential),
                   "buildings": len(buildings), "facility_types": facilities.type_counts(fac["facility_type"])})
    return OsmExtract(networks=networks, facilities=fac, green=green, residential=residential,
                      buildings=buildings, timestamp=stamp, timestamp_basis=stamp_basis, bounds=bounds,
                      notes=notes, counts=counts)


def _scan(path: Path, clip: _Clip, *, index: str, spill: Path | None,
          track_time: bool) -> tuple[dict[str, np.ndarray], dict[str, _Features], _dt.datetime | None]:
    """The one pass over the file: street ways into flat arrays, the rest into feature rows."""
    osmium = _osmium()
    from osmium import filter as ofilter

    fac_keys = facilities.osm_keys()
    green_keys = facilities.green_keys()
    area_keys = tuple(dict.fromkeys([*fac_keys, *green_keys, "landuse", "building"]))
    all_keys = tuple(dict.fromkeys(["highway", *area_keys]))
    wkb = osmium.geom.WKBFactory()
    streets = _Streets(clip)
    collected = {
        "facilities": _Features(clip, _FAC_COLUMNS, points=True),
        "green": _Features(clip, ("kind", "name"), points=False),
        "residential": _Features(clip, ("name",), points=False),
        "buildings": (_Features(clip, ("building", "name", "levels"), points=False) if spill is None
                      else _SpilledBuildings(clip, spill)),
    }
    newest: _dt.datetime | None = None
    try:
        fp = (osmium.FileProcessor(str(path))
              .with_locations(index)
              .with_areas(ofilter.KeyFilter(*area_keys))
              .with_filter(ofilter.EntityFilter(osmium.osm.NODE | osmium.osm.WAY | osmium.osm.AREA))
              .with_filter(ofilter.KeyFilter(*all_keys)))
        for obj in fp:
            if track_time:  # the header has no timestamp: the newest edit read stands in
                stamp = obj.timestamp
                if newest is None or (stamp is not None and stamp > newest):
                    newest = stamp
            if obj.is_way():
                if "highway" in obj.tags:
                    streets.add(obj, osmium)
                continue  # closed feature ways come back as areas too
            tags = obj.tags
            if obj.is_node():
                found = facilities.osm_type(tags)
                if found is not None:
                    loc = obj.location
                    collected["facilities"].add(("node", obj.id, found[0], found[1], tags.get("name"),
                                                 tags.get("isced:level"), None, loc.lon, loc.lat))
                continue
            _area(obj, tags, wkb, collected)
    except RuntimeError:  # libosmium's text names its internals, not what a planner can fix
        msg = (f"无法读取 OSM 文件 {path.name}：文件已损坏或不是 OSM 格式 "
               f"(cannot read the OSM file {path.name}: damaged or not OSM)")
        raise InputFileError(msg) from None
    return streets.arrays(), collected, newest


def _area(obj: Any, tags: Any, wkb: Any, collected: dict[str, _Features]) -> None:
    """One assembled area into the layers its tags name (a building may be a school too)."""
    kind = facilities.osm_green_kind(tags)
    found = facilities.osm_type(tags)
    residential = tags.get("landuse") == "residential"
    building = tags.get("building")
    is_building = building is not None and building != "no"
    if kind is None and found is None and not residential and not is_building:
        return
    try:
        geom = wkb.create_multipolygon(obj)
    except RuntimeError:  # a broken ring: libosmium could not assemble it
        return
    osm_type = "way" if obj.from_way() else "relation"
    osm_id = obj.orig_id()
    name = tags.get("name")
    if kind is not None:
        collected["green"].add((osm_type, osm_id, kind, name, geom))
    if residential:
        collected["residential"].add((osm_type, osm_id, name, geom))
    if is_building:
        collected["buildings"].add((osm_type, osm_id, building, name, tags.get("building:levels"), geom))
    if found is not None and found[0] != "park":  # park polygons are the green layer
        pt = shapely.point_on_surface(shapely.from_wkb(geom))
        collected["facilities"].add((osm_type, osm_id, found[0], found[1], name, tags.get("isced:level"), geom,
                                     pt.x, pt.y))


# --------------------------------------------------------------------------- networks


def _metric_crs(lon: np.ndarray, lat: np.ndarray, frames: Mapping[str, gpd.GeoDataFrame]) -> Any:
    """A metric CRS for areas (EPSG:4548 around Jinan, else UTM) from the data's extent."""
    boxes = [np.array([lon.min(), lat.min(), lon.max(), lat.max()])] if len(lon) else []
    boxes += [f.total_bounds for f in frames.values() if len(f)]
    if not boxes:
        return metric_crs_for(gpd.GeoDataFrame(geometry=shapely.points([[117.0, 36.65]]), crs=settings.STORAGE_CRS))
    b = np.vstack(boxes)
    corners = shapely.points([[b[:, 0].min(), b[:, 1].min()], [b[:, 2].max(), b[:, 3].max()]])
    return metric_crs_for(gpd.GeoDataFrame(geometry=corners, crs=settings.STORAGE_CRS))


def split_ways(lens: np.ndarray, refs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut ways into edges at their ends and at every node they share (with themselves or others).

    Parameters
    ----------
    lens : numpy.ndarray of int
        Number of node refs of each way.
    refs : numpy.ndarray of int64
        The ways' node refs, concatenated.

    Returns
    -------
    (start, stop, way) : numpy.ndarray of int64
        Positions in ``refs`` of each edge's first and last node (inclusive),
        and the way each edge comes from.

    Examples
    --------
    Two ways crossing at node 5: each is cut there.

    >>> s, e, w = split_ways(np.array([3, 3]), np.array([1, 5, 2, 3, 5, 4]))
    >>> list(zip(s.tolist(), e.tolist(), w.tolist()))
    [(0, 1, 0), (1, 2, 0), (3, 4, 1), (4, 5, 1)]
    """
    n = len(refs)
    if n == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    way_of = np.repeat(np.arange(len(lens), dtype=np.int64), lens)
    _, inverse, counts = np.unique(refs, return_inverse=True, return_counts=True)
    cut = counts[inverse] > 1
    ends = np.cumsum(lens) - 1
    cut[ends] = True
    cut[ends - lens + 1] = True
    pos = np.flatnonzero(cut)
    same = way_of[pos[:-1]] == way_of[pos[1:]]
    return pos[:-1][same], pos[1:][same], way_of[pos[:-1][same]]


def _network(streets: Mapping[str, np.ndarray], *, bit: int, mode: str,
             components: str) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """The edges of one travel mode, with lengths, one-way flags and components."""
    wsel = (streets["modes"] & (1 << bit)) > 0
    lens = streets["lens"][wsel]
    rsel = np.repeat(wsel, streets["lens"])
    refs = streets["refs"][rsel]
    lon, lat = streets["lon"][rsel], streets["lat"][rsel]
    start, stop, way = split_ways(lens, refs)
    # geodesic length of every ref-to-next-ref step, summed along each edge
    step = np.zeros(len(refs))
    if len(refs) > 1:
        _, _, dist = _GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
        step[1:] = dist
    cum = np.cumsum(step)
    length = cum[stop] - cum[start]
    way_rows = np.flatnonzero(wsel)[way]
    if mode == "walk":
        direction = np.zeros(len(way), dtype=np.int8)
    else:
        direction = streets["drive" if mode == "drive" else "bike"][way_rows]
    counts = stop - start + 1
    idx = np.repeat(start, counts) + (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts))
    coords = np.column_stack([lon[idx], lat[idx]])
    geoms = np.asarray(shapely.linestrings(coords, indices=np.repeat(np.arange(len(start)), counts)), dtype=object)
    u, v = refs[start].copy(), refs[stop].copy()
    back = direction < 0  # drawn against the allowed direction: turn it round
    if back.any():
        u[back], v[back] = refs[stop][back], refs[start][back]
        geoms[back] = shapely.reverse(geoms[back])
    n_comp, label = _components(u, v)
    keep = np.ones(len(u), dtype=bool)
    if components == "largest" and n_comp > 1:
        keep = label == np.bincount(label).argmax()
    frame = gpd.GeoDataFrame({
        "u": u[keep], "v": v[keep], "length": length[keep], "oneway": (direction != 0)[keep],
        "highway": streets["highway"][way_rows][keep], "name": streets["name"][way_rows][keep],
        "maxspeed": streets["maxspeed"][way_rows][keep], "osm_id": streets["ids"][way_rows][keep],
        "layer": streets["layer"][way_rows][keep].astype(np.int16),
        "source": "OpenStreetMap", "source_datum": "WGS84", "precision": "exact",
    }, geometry=gpd.GeoSeries(geoms[keep], crs=settings.STORAGE_CRS), crs=settings.STORAGE_CRS)
    info = {"edges": int(keep.sum()), "nodes": len(np.unique(np.r_[u[keep], v[keep]])),
            "components": int(n_comp), "edges_all": len(u)}
    return frame, info


def _components(u: np.ndarray, v: np.ndarray) -> tuple[int, np.ndarray]:
    """Weakly connected parts of the edge list; the part of each edge."""
    if len(u) == 0:
        return 0, np.empty(0, dtype=np.int64)
    ids, inv = np.unique(np.r_[u, v], return_inverse=True)
    a, b = inv[: len(u)], inv[len(u):]
    graph = sparse.coo_matrix((np.ones(len(a)), (a, b)), shape=(len(ids), len(ids)))
    n, labels = csgraph.connected_components(graph, directed=False)
    return int(n), labels[a]


# --------------------------------------------------------------------------- features


def _areas_m2(geoms: np.ndarray, metric: Any) -> np.ndarray:
    if len(geoms) == 0:
        return np.empty(0)
    return np.asarray(reproject(gpd.GeoSeries(geoms, crs=settings.STORAGE_CRS), metric).area.to_numpy())


def _with_area(frame: gpd.GeoDataFrame, metric: Any) -> gpd.GeoDataFrame:
    frame["area_m2"] = _areas_m2(frame.geometry.to_numpy(), metric)
    return _provenance(frame)


def _provenance(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    frame["source"] = "OpenStreetMap"
    frame["source_datum"] = "WGS84"
    frame["precision"] = "exact"
    return frame


def _facilities(frame: gpd.GeoDataFrame, metric: Any) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Types from the tag table, ``isced:level`` and name rules; candidates left without a type are dropped."""
    table_type = frame["facility_type"].fillna("").astype(str).to_numpy(dtype=object)
    by_isced = np.zeros(len(frame), dtype=bool)
    if len(frame):
        school = (frame["group"] == "education").to_numpy() & (table_type == "")
        levels = np.array([facilities.isced_type(v) for v in frame["isced"]], dtype=object)
        by_isced = school & (levels != "")
        table_type[by_isced] = levels[by_isced]
    types, by_rule = facilities.classify_names(frame["name"], groups=frame["group"], types=table_type)
    # a school whose level neither isced:level nor its name says
    types[(frame["group"] == "education").to_numpy() & (types == "")] = "school"
    frame["facility_type"] = types
    frame["classified_by"] = np.where(by_rule, "name_rule", np.where(by_isced, "isced_level", "osm_tag"))
    polygons = frame["area_m2_wkb"].notna().to_numpy()
    area = np.full(len(frame), np.nan)
    if polygons.any():
        area[polygons] = _areas_m2(shapely.from_wkb(frame.loc[polygons, "area_m2_wkb"].to_numpy()), metric)
    frame["area_m2"] = area
    typed = types != ""
    notes = []
    if (~typed).any():
        notes.append(f"{int((~typed).sum()):,} 个设施候选（政府机构、社会福利设施等）"
                     "按名称未能归入生活圈设施类型，未导入 "
                     f"({int((~typed).sum())} candidates could not be given a facility type by name and were left out)")
    out = frame.loc[typed, ["facility_type", "name", "classified_by", "osm_type", "osm_id", "area_m2", "geometry"]]
    return _provenance(gpd.GeoDataFrame(out.reset_index(drop=True), geometry="geometry",
                                        crs=settings.STORAGE_CRS)), notes


def _building_columns(frame: gpd.GeoDataFrame, metric: Any) -> gpd.GeoDataFrame:
    """Levels, footprint, floor area, and ``residential`` by the building's own tag."""
    levels = np.array([_levels(v) for v in frame["levels"]], dtype=np.float64)
    footprint = _areas_m2(frame.geometry.to_numpy(), metric)
    assumed = ~np.isfinite(levels)
    frame["levels"] = levels
    frame["footprint_m2"] = footprint
    frame["floor_area_m2"] = footprint * np.where(assumed, 1.0, levels)
    frame["levels_assumed"] = assumed
    frame["residential"] = frame["building"].fillna("").astype(str).isin(RESIDENTIAL_BUILDINGS).to_numpy()
    return _provenance(frame)


def _on_residential_land(frame: gpd.GeoDataFrame, land: np.ndarray) -> gpd.GeoDataFrame:
    """Untyped buildings (``building=yes``) standing on residential land are homes too."""
    untyped = frame["building"].fillna("").astype(str).isin(["yes", ""]).to_numpy()
    if not untyped.any() or len(land) == 0:
        return frame
    tree = shapely.STRtree(land)
    pts = shapely.point_on_surface(frame.geometry.to_numpy()[untyped])
    hits = tree.query(pts, predicate="within")
    on_land = np.zeros(int(untyped.sum()), dtype=bool)
    on_land[np.unique(hits[0])] = True
    home = frame["residential"].to_numpy(dtype=bool).copy()
    home[np.flatnonzero(untyped)] |= on_land
    frame["residential"] = home
    return frame


def _buildings(frame: gpd.GeoDataFrame, residential: gpd.GeoDataFrame, metric: Any) -> gpd.GeoDataFrame:
    """Levels, footprint and floor area; ``residential`` from the tag or from the land it stands on."""
    return _on_residential_land(_building_columns(frame, metric), residential.geometry.to_numpy())


class _SpilledBuildings(_Features):
    """Buildings written to GeoParquet chunk files as they are read: a province's millions never sit in memory."""

    def __init__(self, clip: _Clip, folder: Path) -> None:
        super().__init__(clip, ("building", "name", "levels"), points=False)
        self.folder = folder
        self.metric: Any = None
        self.files: list[Path] = []
        self.sizes: list[int] = []

    def flush(self) -> None:
        super().flush()
        if not self.kept:
            return
        chunk = self._take()  # the clipped rows kept so far: one chunk
        if len(chunk) == 0:
            return
        if self.metric is None:
            self.metric = metric_crs_for(chunk)
        chunk = _building_columns(chunk, self.metric)
        file = self.folder / f"buildings-{len(self.files):05d}.parquet"
        chunk.to_parquet(file)
        self.files.append(file)
        self.sizes.append(len(chunk))

    def source(self, residential: gpd.GeoDataFrame) -> Any:
        """The spilled layer for the store (a :class:`spatial.store.LayerSource`), or an empty frame."""
        self.flush()
        if not self.files:
            return _building_columns(self._take(), metric_crs_for(residential) if len(residential)
                                     else settings.METRIC_CRS)
        from ..store import LayerSource

        land = residential.geometry.to_numpy()
        return LayerSource(tuple(self.files), tuple(self.sizes), "MultiPolygon",
                           transform=lambda chunk: _on_residential_land(chunk, land))
