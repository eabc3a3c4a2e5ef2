"""A city's own data into the project store, in one step each: check, convert, keep.

A planner's real data is an OpenStreetMap extract, POI exports of the map
platforms, the planning institute's road centrelines, a population grid or
table, and the units they report by (街道, 社区, 控规单元). None of it ships
with planatlas; each goes in with one call here (one command of
``planatlas import-*``, or one upload in the app), and comes out as named
layers of the project store with their specs and provenance:

================================  =====================================  ===========
import                            layers                                 role
================================  =====================================  ===========
:func:`import_osm`                ``network_walk|bike|drive``            network
                                  ``osm_facilities`` (by facility type)  facilities
                                  ``osm_green`` (polygons, ``area_m2``)  facilities
                                  ``osm_residential``, ``osm_buildings`` residential
:func:`import_poi`                ``poi_amap`` / ``poi_baidu`` / …       facilities
:func:`import_roads`              ``network_walk|bike|drive``            network
:func:`import_units`              ``units`` (or a name given)            units
:func:`import_population`         ``population_grid``                    population
:func:`build_population`          ``population_grid`` (dasymetric)       population
:func:`import_upload`             ``upload_<n>``                         upload
================================  =====================================  ===========

Every import is one atomic :func:`spatial.store.update_store` (or
:func:`~spatial.store.write_store` for a new project): it either lands whole
or leaves the store as it was. Each imported layer is recorded in the store's
``planatlas_imports`` table (kind, file, its SHA-256, time, counts); only
layers recorded there may be replaced, renamed or removed by an import, so the
default layers built from the report are never overwritten.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from shapely.geometry import box

from . import facilities, population, settings, store, vocab
from ._atomic import temp_dir_prefix
from ._errors import (
    EmptyLayerError,
    InputFileError,
    ParameterError,
    UnknownLayerError,
)
from ._project import (
    IMPORTS_TABLE,
    PROJECT_TABLE,
    facility_counts,
    imported_layers,
    project_extent,
    project_info,
    remove_layer,
    rename_layer,
    set_project_info,
)
from ._project import check_free as _check_free
from ._project import commit as _commit
from ._project import file_digest as _file_digest
from ._project import imported_only as _imported_only
from ._project import store_file as _target
from .io.osm import MODES, OsmExtract, read_osm
from .io.poi import read_poi
from .io.roads import RoadFields, detect_fields, road_network
from .io.uploads import read_upload
from .layerspec import LayerSpec, LayerStyle
from .projection import metric_crs_for, reproject

__all__ = [
    "IMPORTS_TABLE",
    "PROJECT_TABLE",
    "ClipArea",
    "ImportResult",
    "add_units",
    "build_population",
    "clip_area",
    "facility_counts",
    "import_osm",
    "import_poi",
    "import_population",
    "import_roads",
    "import_units",
    "import_upload",
    "imported_layers",
    "project_extent",
    "project_info",
    "remove_layer",
    "rename_layer",
    "set_project_info",
]

#: Licence of OpenStreetMap data.
OSM_LICENCE = "ODbL 1.0 (© OpenStreetMap contributors)"

#: Largest OSM file read, bytes: the one limit of :mod:`spatial.settings`.
MAX_OSM_BYTES = settings.MAX_OSM_BYTES


@dataclass
class ImportResult:
    """What an import wrote.

    Attributes
    ----------
    store : pathlib.Path
        The store written.
    layers : dict of str to int
        Layer name -> features written.
    notes : list of str
        What was guessed, converted, dropped, merged or assumed, Chinese first.
    counts : dict
        Counts of the import (per facility type, per mode …).
    created : bool
        True when the import created a new project store.
    """

    store: Path
    layers: dict[str, int]
    notes: list[str] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)
    created: bool = False


@dataclass(frozen=True)
class ClipArea:
    """An area to keep, in WGS-84, with the words that name it."""

    geometry: shapely.Geometry
    label: str


# --------------------------------------------------------------------------- the store


# --------------------------------------------------------------------------- specs


def _spec(name: str, title_zh: str, title_en: str, *, role: str, geometry_type: str, source: str,
          description: str, licence: str = "", source_datum: str = "WGS84", precision: str = "exact",
          order: int = 200, visible: bool = False, style: LayerStyle | None = None) -> LayerSpec:
    return LayerSpec(name=name, title_zh=title_zh, title_en=title_en, description=description, source=source,
                     licence=licence, source_datum=source_datum, precision=precision, geometry_type=geometry_type,
                     role=role, order=order, visible=visible, style=style or LayerStyle())


_MODE_COLOURS = {"walk": "#7f7f7f", "bike": "#1f77b4", "drive": "#d62728"}


def _network_spec(mode: str, *, source: str, description: str, licence: str = "",
                  source_datum: str = "WGS84", prefix: str = "") -> LayerSpec:
    zh = vocab.label("mode", mode)
    return _spec(f"network_{mode}", f"{prefix}{zh}街道网络", f"{mode} street network", role="network",
                 geometry_type="LineString", source=source, description=description, licence=licence,
                 source_datum=source_datum, order=150 + MODES.index(mode),
                 style=LayerStyle(color=_MODE_COLOURS[mode], weight=1.5, opacity=0.7, tolerance_deg=2e-5))


# --------------------------------------------------------------------------- clip areas


def clip_area(*, store_path: str | os.PathLike[str] | None = None, district: str | None = None,
              bbox: tuple[float, float, float, float] | None = None,
              clip_file: str | os.PathLike[str] | None = None) -> ClipArea | None:
    """The area an import keeps: a district or unit of the store by name, a W,S,E,N box, or a polygon file.

    Raises
    ------
    ParameterError
        More than one of the three, or a bad box.
    UnknownLayerError
        No district or unit of that name (the message lists those there are).
    InputFileError, EmptyLayerError
        A clip file that cannot be read or holds no polygon.
    """
    given = [x is not None for x in (district, bbox, clip_file)]
    if sum(given) > 1:
        msg = "--clip、--bbox 与 --clip-file 只能给出一个 (give one of --clip, --bbox and --clip-file)"
        raise ParameterError(msg)
    if bbox is not None:
        w, s, e, n = (float(v) for v in bbox)
        if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
            msg = f"范围 {bbox} 不是有效的经纬度范围 (bbox must be W < E, S < N in degrees)"
            raise ParameterError(msg)
        return ClipArea(box(w, s, e, n), f"范围 {w:g},{s:g},{e:g},{n:g}")
    if clip_file is not None:
        result = read_upload(clip_file, allow_outside_china=True)
        polys = result.frame[result.frame.geom_type.isin(["Polygon", "MultiPolygon"])]
        if polys.empty:
            msg = f"{result.source_name} 中没有面要素，无法作为裁剪范围 ({result.source_name} holds no polygons)"
            raise EmptyLayerError(msg)
        return ClipArea(shapely.union_all(polys.geometry.to_numpy()), f"文件 {result.source_name}")
    if district is not None:
        return ClipArea(_named_unit(store_path, district), str(district))
    return None


def _named_unit(path: str | os.PathLike[str] | None, wanted: str) -> shapely.Geometry:
    if path is None or not Path(path).exists():
        msg = f"--clip {wanted} 需要一个含区县或单元图层的项目数据库 (--clip needs a store with districts or units)"
        raise UnknownLayerError(msg)
    specs = store.read_specs(path)
    names: list[str] = []
    for name, spec in specs.items():
        if spec.role not in ("districts", "units"):
            continue
        layer = store.read_layer(name, path=path)
        if "name" not in layer.columns:
            continue
        labels = layer["name"].astype(str)
        names += labels.tolist()
        hit = layer[(labels == wanted) | (labels.str.replace(r"[区县市]$", "", regex=True) == wanted)]
        if len(hit):
            return shapely.union_all(hit.geometry.to_numpy())
    shown = "、".join(names[:30]) or "无"
    msg = f"项目中没有名为 {wanted} 的区县或单元；现有：{shown} (no district or unit named {wanted!r})"
    raise UnknownLayerError(msg)


def _check_cover(bounds: tuple[float, float, float, float] | None, clip: ClipArea | None, name: str,
                 notes: list[str]) -> None:
    """Refuse an extract that does not reach the clip area; say when it covers only part of it."""
    if bounds is None or clip is None:
        return
    extent = box(*bounds)
    area = float(shapely.area(clip.geometry))
    if not extent.intersects(clip.geometry):
        msg = (f"{name} 的范围 ({bounds[0]:.3f},{bounds[1]:.3f},{bounds[2]:.3f},{bounds[3]:.3f}) 不覆盖裁剪范围 "
               f"{clip.label}：请换一个覆盖该地区的提取文件 ({name} does not cover the clip area {clip.label})")
        raise InputFileError(msg)
    share = float(shapely.area(shapely.intersection(extent, clip.geometry))) / area if area > 0 else 1.0
    if share < 0.99:
        notes.append(f"注意：{name} 只覆盖裁剪范围 {clip.label} 的 {share:.0%} "
                     f"({name} covers only {share:.0%} of the clip area)")


# --------------------------------------------------------------------------- OpenStreetMap


def import_osm(
    path: str | os.PathLike[str],
    *,
    store_path: str | os.PathLike[str],
    clip: ClipArea | None = None,
    modes: tuple[str, ...] = MODES,
    components: str = "largest",
    replace: bool = False,
    index: str | None = None,
    progress: Callable[[str], None] | None = None,
    label: str = "",
) -> ImportResult:
    """An OSM extract into the store: networks, facilities by type, green space, residential land, buildings.

    Parameters
    ----------
    path : path-like
        ``.osm.pbf`` or ``.osm``.
    store_path : path-like, keyword-only
        The project store (created when it does not exist).
    clip : ClipArea, optional, keyword-only
        Keep only this area (:func:`clip_area`).
    modes : tuple of str, keyword-only
        Networks to build.
    components : {"largest", "all"}, keyword-only
        Per network: keep its largest connected part, or all parts.
    replace : bool, keyword-only
        Replace layers of an earlier import (default layers are never replaced).
    index : str, optional, keyword-only
        libosmium node-location index (see :func:`spatial.io.osm.read_osm`).
    progress : callable, optional, keyword-only
        Called with a line after each stage.
    label : str, keyword-only
        Words put before every layer's title and description (the demo
        project says it is one).

    Returns
    -------
    ImportResult

    Raises
    ------
    InputFileError
        Missing or unreadable file, or one that does not cover ``clip``.
    EmptyLayerError
        Nothing in the clip area.
    StoreError
        A layer exists already (see ``replace``), or the store cannot be written.
    """
    target = _target(store_path)
    src = Path(path)
    if os.path.isfile(src) and src.stat().st_size > settings.MAX_OSM_BYTES:
        msg = (f"{src.name} 超过 {settings.MAX_OSM_BYTES // 1024**3} GB：请先裁剪（osmium extract）或用 --clip "
               f"({src.name} is larger than {settings.MAX_OSM_BYTES // 1024**3} GB)")
        raise InputFileError(msg)
    names = [f"network_{m}" for m in modes] + ["osm_facilities", "osm_green", "osm_residential", "osm_buildings"]
    _check_free(target, names, replace=replace)
    notes: list[str] = []
    from .io.osm import DEFAULT_INDEX, header_info

    if os.path.isfile(src):
        bounds, _ = header_info(src)
        _check_cover(bounds, clip, src.name, notes)
    # buildings go to a temporary GeoPackage as they are read and into the store in chunks
    # named so that the next write beside the store sweeps it when this process is killed (kill -9)
    with tempfile.TemporaryDirectory(prefix=temp_dir_prefix("osm"), dir=target.parent if target.parent.is_dir()
                                     else None) as spill:
        extract = read_osm(src, clip=None if clip is None else clip.geometry, modes=modes, components=components,
                           index=index or DEFAULT_INDEX, progress=progress, spill_dir=spill)
        notes += extract.notes
        layers, specs = _osm_layers(extract, src.name, clip, label=label)
        for empty in [n for n, f in layers.items() if len(f) == 0]:
            notes.append(f"{src.name} 中没有 {specs[empty].title_zh}，未写入该图层 (no {empty} in the file)")
            layers.pop(empty)
            specs.pop(empty)
        details = {"timestamp": extract.timestamp, "timestamp_basis": extract.timestamp_basis,
                   "clip": clip.label if clip else "", **_jsonable(extract.counts)}
        sizes = {n: len(f) for n, f in layers.items()}
        written, created = _commit(target, layers, specs, kind="osm", file=src.name, digest=_file_digest(src),
                                   details=details, replace=replace)
    return ImportResult(written, sizes, notes, extract.counts, created)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (np.integer,)):
        return int(value)
    return value


def _osm_layers(extract: OsmExtract, file: str, clip: ClipArea | None, *,
                label: str) -> tuple[dict[str, gpd.GeoDataFrame | store.LayerSource], dict[str, LayerSpec]]:
    when = extract.timestamp or "未知"
    basis = {"header": "文件头", "newest object": "最新编辑"}.get(extract.timestamp_basis, "")
    source = f"OpenStreetMap ({file}，数据时间 {when}{f'，{basis}' if basis else ''})"
    where = f"，裁剪：{clip.label}" if clip else ""
    pre = f"{label}：" if label else ""
    layers: dict[str, gpd.GeoDataFrame | store.LayerSource] = {}
    specs: dict[str, LayerSpec] = {}
    for mode, edges in extract.networks.items():
        name = f"network_{mode}"
        layers[name] = edges
        specs[name] = _network_spec(mode, source=source, licence=OSM_LICENCE, prefix=pre, description=(
            f"{pre}由 {file} 的道路按 osmnx 的{vocab.label('mode', mode)}规则切分为路段{where}；"
            "length 为大地线长度 (m)，oneway 为该出行方式的单行。"))
    counts = facilities.describe_counts(facilities.type_counts(extract.facilities["facility_type"]))
    layers["osm_facilities"] = extract.facilities
    specs["osm_facilities"] = _spec(
        "osm_facilities", f"{pre}设施 (OSM)", "Facilities (OpenStreetMap)", role="facilities",
        geometry_type="Point", source=source, licence=OSM_LICENCE, order=320, visible=True,
        description=(f"{pre}{file} 中按 spatial/data/osm_facility_tags.csv 与名称规则归入生活圈设施类型的对象"
                     f"（面状对象取代表点，area_m2 为其面积）{where}：{counts}。"),
        style=LayerStyle(color="#555555", radius=4, weight=1, fill_opacity=0.85, color_by="facility_type",
                         group_by="facility_type", cluster=True))
    layers["osm_green"] = extract.green
    specs["osm_green"] = _spec(
        "osm_green", f"{pre}公园绿地 (OSM)", "Parks and green space (OpenStreetMap)", role="facilities",
        geometry_type="MultiPolygon", source=source, licence=OSM_LICENCE, order=45, visible=True,
        description=(f"{pre}{file} 中对公众开放的公园、游园、游乐场、游憩绿地与湿地多边形"
                     f"（spatial/data/osm_green_tags.csv），area_m2 为面积{where}。"),
        style=LayerStyle(color="#238b45", weight=1, fill_opacity=0.4, tolerance_deg=2e-5))
    layers["osm_residential"] = extract.residential
    specs["osm_residential"] = _spec(
        "osm_residential", f"{pre}居住用地 (OSM)", "Residential land (OpenStreetMap)", role="residential",
        geometry_type="MultiPolygon", source=source, licence=OSM_LICENCE, order=25,
        description=f"{pre}{file} 中 landuse=residential 的多边形{where}。",
        style=LayerStyle(color="#fdae6b", weight=0.5, fill_opacity=0.25, tolerance_deg=2e-5))
    layers["osm_buildings"] = extract.buildings
    specs["osm_buildings"] = _spec(
        "osm_buildings", f"{pre}建筑 (OSM)", "Buildings (OpenStreetMap)", role="residential",
        geometry_type="MultiPolygon", source=source, licence=OSM_LICENCE, order=30,
        description=(f"{pre}{file} 中的建筑{where}：levels 取自 building:levels（未标注为空），floor_area_m2 = "
                     "占地面积 × 层数（未标注层数按 1 层，levels_assumed 为真）；residential 为住宅建筑。"),
        style=LayerStyle(color="#969696", weight=0.5, fill_opacity=0.3, tolerance_deg=1e-5))
    return layers, specs


# --------------------------------------------------------------------------- POI exports


def import_poi(
    path: str | os.PathLike[str],
    *,
    store_path: str | os.PathLike[str],
    source: str = "auto",
    datum: str | None = None,
    merge_m: float = 10.0,
    name: str | None = None,
    replace: bool = False,
    filename: str | None = None,
    data: bytes | None = None,
) -> ImportResult:
    """A POI export (AMap, Baidu, Tencent) into the store as a facility layer (``poi_<vendor>``).

    Parameters
    ----------
    path : path-like
        The export (``.csv``, ``.xlsx``, ``.json``); its name when ``data`` is given.
    store_path : path-like, keyword-only
    source : {"auto", "amap", "baidu", "tencent"}, keyword-only
    datum : str, optional, keyword-only
        Datum of the coordinates (default: the vendor's, said in the notes).
    merge_m : float, keyword-only
        Same-name POIs closer than this are merged, metres.
    name : str, optional, keyword-only
        Layer name (default ``poi_<vendor>``).
    replace : bool, keyword-only
    filename : str, optional, keyword-only
        The user's name of the file (uploads).
    data : bytes, optional, keyword-only
        The file's bytes (uploads) instead of reading ``path``.

    Raises
    ------
    InputFileError
        Unreadable file, unknown columns, no coordinates.
    StoreError
        The layer exists (see ``replace``), or the store cannot be written.
    """
    target = _target(store_path)
    result = read_poi(data if data is not None else path, filename=filename or Path(path).name, source=source,
                      datum=datum, merge_m=merge_m)
    layer = _layer_name(name or f"poi_{result.vendor}")
    shown = filename or Path(path).name
    counts = facilities.describe_counts(result.counts["facility_types"])
    vendor = vocab.label("vendor", result.vendor)
    spec = _spec(layer, f"{vendor} POI ({shown})", f"{vocab.label('vendor', result.vendor, en=True)} POIs",
                 role="facilities", geometry_type="Point", source=f"{vendor} POI 导出 {shown}",
                 source_datum=result.datum, order=330, visible=True,
                 description=(f"{shown}：读取 {result.counts['rows']:,} 条，"
                              f"导入 {result.counts['kept']:,} 条（{counts}）；"
                              f"坐标由 {vocab.label('datum', result.datum)} 转换为 WGS-84；分类依据 "
                              f"spatial/data 中的{vendor}分类表与名称规则。"),
                 style=LayerStyle(color="#8c564b", radius=4, weight=1, fill_opacity=0.85, color_by="facility_type",
                                  group_by="facility_type", cluster=True))
    digest = hashlib.sha256(data).hexdigest() if data is not None else _file_digest(Path(path))
    written, created = _commit(target, {layer: result.frame}, {layer: spec}, kind="poi", file=shown, digest=digest,
                               details={"vendor": result.vendor, "datum": result.datum, **_jsonable(result.counts)},
                               replace=replace)
    return ImportResult(written, {layer: len(result.frame)}, result.notes, result.counts, created)


def _layer_name(name: str) -> str:
    clean = re.sub(r"[^0-9A-Za-z_]+", "_", str(name).strip()).strip("_").lower()
    if not clean or clean[0].isdigit() or clean.startswith(("planatlas_", "gpkg", "sqlite", "rtree")):
        msg = (f"图层名 {name!r} 无效：请用字母、数字和下划线，以字母开头 "
               f"(layer name {name!r}: use letters, digits and _, starting with a letter)")
        raise ParameterError(msg)
    return clean


# --------------------------------------------------------------------------- road centrelines


def import_roads(
    path: str | os.PathLike[str],
    *,
    store_path: str | os.PathLike[str],
    modes: tuple[str, ...] = MODES,
    tolerance_m: float = 1.0,
    components: str = "largest",
    datum: str = "WGS84",
    assume_crs: str | int | None = None,
    fields: Mapping[str, str | None] | None = None,
    replace: bool = False,
) -> ImportResult:
    """Road centrelines (Shapefile, GeoPackage, GeoJSON, in any CRS or datum) into routable ``network_<mode>`` layers.

    Parameters
    ----------
    path : path-like
        The line layer.
    store_path : path-like, keyword-only
    modes : tuple of str, keyword-only
        Networks to write.
    tolerance_m : float, keyword-only
        Ends closer than this meet, metres.
    components : {"largest", "all"}, keyword-only
    datum : str, keyword-only
        Datum of longitude/latitude coordinates (GCJ-02 centrelines are converted).
    assume_crs : str or int, optional, keyword-only
        CRS of a file that declares none (a shapefile without ``.prj``).
    fields : mapping, optional, keyword-only
        Columns for ``oneway``, ``level``, ``bridge``, ``tunnel``, ``walk``,
        ``bike``, ``drive``, ``speed``, ``name`` (default: found by name).
    replace : bool, keyword-only

    Raises
    ------
    InputFileError, CRSError, EmptyLayerError
        As :func:`spatial.io.read_upload`; a layer without lines.
    NetworkDataError
        A mode without any road.
    StoreError
        A network layer exists (see ``replace``).
    """
    target = _target(store_path)
    _check_free(target, [f"network_{m}" for m in modes], replace=replace)
    upload = read_upload(path, datum=datum, assume_crs=assume_crs, allow_outside_china=False)
    chosen: RoadFields = detect_fields(list(upload.frame.columns), **dict(fields or {}))
    name = upload.source_name
    roads = road_network(upload.frame, tolerance_m=tolerance_m, components=components, modes=modes, fields=chosen,
                         source=f"道路中心线 {name}", source_datum=upload.source_datum)
    notes = list(upload.warnings) + roads.notes
    layers: dict[str, gpd.GeoDataFrame] = {}
    specs: dict[str, LayerSpec] = {}
    for mode, edges in roads.networks.items():
        layers[f"network_{mode}"] = edges
        specs[f"network_{mode}"] = _network_spec(
            mode, source=f"道路中心线 {name}", source_datum=upload.source_datum, description=(
                f"由 {name} 的道路中心线打断、连接而成（容差 {tolerance_m:g} m，字段 {chosen.describe()}；"
                f"长度在 {roads.metric_crs.to_string()} 中量算）。"))
    written, created = _commit(target, layers, specs, kind="roads", file=name, digest=_file_digest(Path(path)),
                               details=_jsonable(roads.counts), replace=replace)
    return ImportResult(written, {n: len(f) for n, f in layers.items()}, notes, roads.counts, created)


# --------------------------------------------------------------------------- units


_UNIT_NAME_FIELDS = ("name", "名称", "单元名称", "街道", "社区", "jdname", "sqname", "unit", "unit_name", "dymc",
                     "mc", "name_zh")


def import_units(
    path: str | os.PathLike[str],
    *,
    store_path: str | os.PathLike[str],
    name: str = "units",
    title: str | None = None,
    name_field: str | None = None,
    population_field: str | None = None,
    population_source: str | None = None,
    datum: str = "WGS84",
    assume_crs: str | int | None = None,
    replace: bool = False,
) -> ImportResult:
    """Any polygon layer as units of aggregation (街道, 社区, 控规单元), role ``units``.

    Parameters
    ----------
    path : path-like
        The polygons.
    store_path : path-like, keyword-only
    name : str, keyword-only
        Layer name (default ``units``).
    title : str, optional, keyword-only
        Chinese title (default: the file's name).
    name_field : str, optional, keyword-only
        Column naming each unit (default: found by name; else numbered).
    population_field : str, optional, keyword-only
        Column of residents per unit, kept as ``population``.
    population_source : str, optional, keyword-only
        Where those figures come from (kept as ``population_source``; default
        the file and column).
    datum, assume_crs : keyword-only
        As :func:`spatial.io.read_upload`.
    replace : bool, keyword-only

    Raises
    ------
    InputFileError
        Not polygons, unknown fields, non-numeric population, or units that
        do not overlap the project.
    """
    target = _target(store_path)
    layer = _layer_name(name)
    _check_free(target, [layer], replace=replace)
    upload = read_upload(path, datum=datum, assume_crs=assume_crs)
    src = upload.source_name
    frame = upload.frame
    names = _unit_names(frame, name_field, src)
    pops = None
    if population_field:
        if population_field not in frame.columns:
            msg = f"{src} 中没有人口字段 {population_field} (no column {population_field!r} in {src})"
            raise InputFileError(msg)
        pops = pd.to_numeric(frame[population_field], errors="coerce").to_numpy(dtype=np.float64)
        population_source = population_source or f"{src} 字段 {population_field}"
    return add_units(gpd.GeoDataFrame({"name": names, "population": pops if pops is not None else np.nan},
                                      geometry=frame.geometry.to_numpy(), crs=frame.crs),
                     store_path=target, name=layer, title=title or f"统计单元 ({src})", source=src,
                     source_datum=upload.source_datum, population_source=population_source,
                     notes=list(upload.warnings), digest=_file_digest(Path(path)), replace=replace,
                     with_population=pops is not None)


def add_units(
    frame: gpd.GeoDataFrame,
    *,
    store_path: str | os.PathLike[str],
    name: str,
    title: str,
    source: str,
    source_datum: str = "WGS84",
    population_source: str | None = None,
    with_population: bool = False,
    description: str = "",
    notes: list[str] | None = None,
    digest: str = "",
    replace: bool = False,
) -> ImportResult:
    """Polygons (``name``, optional ``population``) as a units layer of the store.

    Raises
    ------
    InputFileError
        No polygons, negative or missing population, or units outside the project's area.
    """
    target = _target(store_path)
    layer = _layer_name(name)
    notes = list(notes or [])
    polys = frame[frame.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polys.empty:
        msg = f"{source} 中没有面要素，不能作为统计单元 ({source} holds no polygons to use as units)"
        raise InputFileError(msg)
    if len(polys) < len(frame):
        notes.append(f"{len(frame) - len(polys):,} 个非面要素未导入 ({len(frame) - len(polys)} non-polygons left out)")
    _check_overlap(target, polys, source)
    units = gpd.GeoDataFrame({"name": polys["name"].astype(str).to_numpy()}, geometry=polys.geometry.to_numpy(),
                             crs=polys.crs)
    units = reproject(units, settings.STORAGE_CRS)
    if with_population:
        values = pd.to_numeric(polys["population"], errors="coerce").to_numpy(dtype=np.float64)
        if not np.isfinite(values).all() or (values < 0).any():
            msg = f"{source} 的人口字段须全部为非负数字 (the population of {source} must be non-negative numbers)"
            raise InputFileError(msg)
        units["population"] = values
        units["population_source"] = population_source or source
    units["area_km2"] = reproject(units, metric_crs_for(units)).area.to_numpy() / 1e6
    units["source"] = source
    units["source_datum"] = source_datum
    units["precision"] = "exact"
    spec = _spec(layer, title, "Units", role="units", geometry_type="MultiPolygon", source=source,
                 source_datum=source_datum, order=12, visible=True,
                 description=description or (f"{source} 的 {len(units):,} 个统计单元"
                                             + ("，含人口" if with_population else "") + "。"),
                 style=LayerStyle(color="#6a51a3", fill_color="#bcbddc", weight=1, fill_opacity=0.12,
                                  popup="district", figures=("population",) if with_population else ()))
    written, created = _commit(target, {layer: units}, {layer: spec}, kind="units", file=source, digest=digest,
                               details={"units": len(units)}, replace=replace)
    return ImportResult(written, {layer: len(units)}, notes, {"units": len(units)}, created)


def _unit_names(frame: gpd.GeoDataFrame, name_field: str | None, src: str) -> list[str]:
    if name_field:
        if name_field not in frame.columns:
            msg = f"{src} 中没有名称字段 {name_field} (no column {name_field!r} in {src})"
            raise InputFileError(msg)
        column = name_field
    else:
        lower = {str(c).lower(): str(c) for c in frame.columns}
        column = next((lower[n] for n in _UNIT_NAME_FIELDS if n in lower), "")
    if not column:
        return [f"单元 {i + 1}" for i in range(len(frame))]
    return [str(v) if v is not None and str(v).strip() else f"单元 {i + 1}"
            for i, v in enumerate(frame[column].tolist())]


def _check_overlap(target: Path, frame: gpd.GeoDataFrame, src: str) -> None:
    extent = project_extent(target)
    if extent is None:
        return
    if not shapely.intersects(shapely.union_all(frame.geometry.to_numpy()), extent):
        w, s, e, n = frame.total_bounds
        msg = (f"{src} 的范围 ({w:.3f},{s:.3f},{e:.3f},{n:.3f}) 与项目范围不重叠：单元不在本城市内 "
               f"({src} does not overlap the project's area)")
        raise InputFileError(msg)


# --------------------------------------------------------------------------- population


def import_population(
    path: str | os.PathLike[str],
    *,
    store_path: str | os.PathLike[str],
    cell_m: float = 100.0,
    replace: bool = False,
) -> ImportResult:
    """A population GeoTIFF (residents per cell, any CRS) as the project's population surface.

    The raster is read over the project's area only, regridded in metres with
    its head count kept (:func:`spatial.population.load_population`), and
    written as the ``population_grid`` layer.

    Raises
    ------
    InputFileError
        Not a raster, outside the project's area, or too large.
    """
    target = _target(store_path)
    _check_free(target, [population.STORE_LAYER], replace=replace)
    src = Path(path)
    extent = project_extent(target)
    within = tuple(float(v) for v in shapely.bounds(shapely.buffer(extent, 0.01))) if extent is not None else None
    metric = _metric_for(extent)
    raster = population.load_population(src, target_crs=metric, cell_m=cell_m,
                                        within=within)  # type: ignore[arg-type]
    if raster.total() <= 0:
        msg = f"{src.name} 在项目范围内没有人口 ({src.name} has no residents in the project's area)"
        raise InputFileError(msg)
    raster.method = (f"GeoTIFF 重采样到 {cell_m:g} m 网格，保持总人数 (density warped with average resampling, "
                     "total kept)")
    return _write_surface(target, raster, kind="population", file=src.name, digest=_file_digest(src),
                          replace=replace, notes=[f"{src.name}：项目范围内 {raster.total():,.0f} 人 "
                                                  f"({raster.total():,.0f} residents in the project's area)"])


def _metric_for(extent: shapely.Geometry | None) -> str:
    if extent is None:
        return settings.METRIC_CRS
    frame = gpd.GeoDataFrame(geometry=[extent], crs=settings.STORAGE_CRS)
    return str(metric_crs_for(frame).to_wkt())


def _write_surface(target: Path, raster: population.PopulationRaster, *, kind: str, file: str, digest: str,
                   replace: bool, notes: list[str], label: str = "") -> ImportResult:
    cells, table = population.to_store(raster)
    residents = population.counts_residents(raster)
    what = "人口" if residents else "住宅建筑面积"
    pre = f"{label}：" if label else ""
    spec = _spec(population.STORE_LAYER, f"{pre}{what}网格", "Population grid" if residents else "Floor-area grid",
                 role="population", geometry_type="Point", source=raster.source, precision="approximate",
                 order=15, description=f"{pre}{raster.source}；方法：{raster.method}；合计 {raster.total():,.0f}"
                 f"{'人' if residents else ' m²'}。", style=LayerStyle(color="#e6550d", radius=2, fill_opacity=0.6))
    written, created = _commit(target, {population.STORE_LAYER: cells}, {population.STORE_LAYER: spec}, kind=kind,
                               file=file, digest=digest, details={"total": raster.total(), "method": raster.method},
                               replace=replace, tables={population.STORE_TABLE: table})
    return ImportResult(written, {population.STORE_LAYER: len(cells)}, notes,
                        {"total": raster.total(), "method": raster.method}, created)


def join_population(
    path: str | os.PathLike[str],
    *,
    store_path: str | os.PathLike[str],
    units: str,
    key: str,
    population_field: str,
    unit_key: str = "name",
    population_source: str | None = None,
) -> ImportResult:
    """A table of unit populations (CSV/XLSX) joined to an imported units layer by name.

    Raises
    ------
    InputFileError
        The table lacks the columns, or no row matches a unit.
    StoreError
        ``units`` is a default layer.
    """
    target = _target(store_path)
    _imported_only(target, units, "重命名")
    table = _read_table(Path(path))
    for col in (key, population_field):
        if col not in table.columns:
            msg = f"{Path(path).name} 中没有列 {col}；现有：{'、'.join(map(str, table.columns))} (no column {col!r})"
            raise InputFileError(msg)
    layer = store.read_layer(units, path=target)
    if unit_key not in layer.columns:
        msg = f"单元图层 {units} 中没有字段 {unit_key} (units layer {units!r} has no column {unit_key!r})"
        raise InputFileError(msg)
    values = pd.to_numeric(table[population_field], errors="coerce")
    lookup = dict(zip(table[key].astype(str).str.strip(), values, strict=True))
    names = layer[unit_key].astype(str).str.strip()
    matched = names.map(lookup)
    if matched.notna().sum() == 0:
        msg = (f"{Path(path).name} 的 {key} 与单元图层 {units} 的 {unit_key} 没有一个相同 "
               f"(no row of the table matches a unit by name)")
        raise InputFileError(msg)
    if (matched.dropna() < 0).any():
        msg = f"{population_field} 中有负数 (negative populations in {population_field!r})"
        raise InputFileError(msg)
    notes = []
    missing = names[matched.isna()].tolist()
    if missing:
        notes.append(f"{len(missing):,} 个单元在表中没有人口：{'、'.join(missing[:10])} "
                     f"({len(missing)} units have no population in the table)")
    layer["population"] = matched.to_numpy(dtype=np.float64)
    layer["population_source"] = population_source or f"{Path(path).name} 字段 {population_field}"
    spec = store.read_specs(target)[units]
    written, _ = _commit(target, {units: layer}, {units: spec}, kind="units", file=Path(path).name,
                         digest=_file_digest(Path(path)), details={"joined": int(matched.notna().sum())},
                         replace=True)
    return ImportResult(written, {units: len(layer)}, notes, {"joined": int(matched.notna().sum())})


def _read_table(path: Path) -> pd.DataFrame:
    from .io.poi import read_table

    frame, _, _ = read_table(path)
    return frame


def build_population(
    *,
    store_path: str | os.PathLike[str],
    units: str = "districts",
    weight: str = "buildings",
    cell_m: float = 100.0,
    replace: bool = False,
    label: str = "",
) -> ImportResult:
    """A dasymetric population surface: each unit's total spread over residential floor area or land.

    Parameters
    ----------
    store_path : path-like, keyword-only
    units : str, keyword-only
        A layer with ``population`` (or the districts' ``population_2020``).
    weight : {"buildings", "land", "floor_area_only"}, keyword-only
        Spread over the floor area of residential buildings, or over
        residential land; ``floor_area_only`` writes the floor area itself as
        the surface, for a project without any population figure (every
        coverage figure then says it counts m², not residents).
    cell_m : float, keyword-only
    replace : bool, keyword-only
    label : str, keyword-only
        Words before the layer's title (the demo project).

    Raises
    ------
    EmptyLayerError
        No residential layer to weigh by, or units without population.
    """
    target = _target(store_path)
    _check_free(target, [population.STORE_LAYER], replace=replace)
    if weight not in ("buildings", "land", "floor_area_only"):
        msg = f"weight 须为 buildings、land 或 floor_area_only，收到 {weight!r} (unknown weight {weight!r})"
        raise ParameterError(msg)
    specs = store.read_specs(target)
    residential = [n for n, s in specs.items() if s.role == "residential"]
    buildings = next((n for n in residential if "floor_area_m2" in _fields(target, n)), None)
    land = next((n for n in residential if n != buildings), None)
    unit_frame = store.read_layer(units, path=target)
    metric = metric_crs_for(unit_frame)
    if weight == "floor_area_only":
        if buildings is None:
            msg = "项目中没有带建筑面积的建筑图层 (no buildings layer with floor_area_m2 in the project)"
            raise EmptyLayerError(msg)
        b = store.read_layer(buildings, path=target)
        raster = population.floor_area_surface(b, like=unit_frame, cell_m=cell_m,
                                               source=f"{specs[buildings].title_zh}：{specs[buildings].source}")
        return _write_surface(target, raster, kind="population", file=buildings, digest="", replace=replace,
                              label=label, notes=[f"没有人口数据：以住宅建筑面积 {raster.total():,.0f} m² "
                                                  "作为统计依据，"
                                                  "每个覆盖数字都注明是建筑面积 (no population: residential floor "
                                                  "area is counted instead, and every figure says so)"])
    column = "population" if "population" in unit_frame.columns else "population_2020"
    if column not in unit_frame.columns:
        msg = f"单元图层 {units} 没有人口字段 (units layer {units!r} has no population column)"
        raise EmptyLayerError(msg)
    if weight == "buildings":
        if buildings is None:
            msg = "项目中没有带建筑面积的建筑图层：请先导入 OSM 或改用 --weight land (no buildings with floor area)"
            raise EmptyLayerError(msg)
        weights = population.floor_area_weights(store.read_layer(buildings, path=target), like=unit_frame,
                                                cell_m=cell_m, crs=metric)
        weights.source = specs[buildings].title_zh
    else:
        if land is None:
            msg = "项目中没有居住用地图层：请先导入 OSM (no residential land layer in the project)"
            raise EmptyLayerError(msg)
        weights = population.land_weights(store.read_layer(land, path=target), like=unit_frame, cell_m=cell_m,
                                          crs=metric)
        weights.source = specs[land].title_zh
    surface = population.dasymetric_surface(unit_frame.dropna(subset=[column]), weights, population_column=column,
                                            cell_m=cell_m)
    return _write_surface(target, surface, kind="population", file=units, digest="", replace=replace, label=label,
                          notes=[f"{surface.method}：{surface.total():,.0f} 人 ({surface.total():,.0f} residents)"])


def _fields(path: Path, layer: str) -> list[str]:
    return [str(f) for f in pyogrio.read_info(path, layer=layer)["fields"]]


# --------------------------------------------------------------------------- uploads (the app)


def import_upload(
    data: bytes,
    *,
    filename: str,
    store_path: str | os.PathLike[str],
    datum: str = "WGS84",
    title: str | None = None,
    allow_outside_china: bool = False,
) -> ImportResult:
    """A planner's uploaded layer into the store (``upload_<n>``), so it survives reloads and restarts.

    Raises
    ------
    InputFileError, CRSError, EmptyLayerError, DatumError
        As :func:`spatial.io.read_upload`.
    StoreError
        The store cannot be written.
    """
    target = _target(store_path)
    result = read_upload(data, filename=filename, datum=datum, allow_outside_china=allow_outside_china)
    present = set(store.list_layers(target)["name"]) if target.exists() else set()
    n = 1
    while f"upload_{n}" in present:
        n += 1
    layer = f"upload_{n}"
    stem = re.sub(r"\.(geojson|json|gpkg|zip|csv|shp)$", "", result.source_name, flags=re.IGNORECASE)
    frame = result.frame.copy()
    for col, value in (("source", f"上传文件 {result.source_name}"), ("source_datum", result.source_datum),
                       ("precision", "exact")):
        if col not in frame.columns:
            frame[col] = value
    from .io import _checks  # geometry families, for the spec

    families = _checks.geometry_families(frame.geometry.to_numpy())
    gtype = {"point": "Point", "line": "LineString", "polygon": "MultiPolygon"}.get(
        next(iter(families)) if len(families) == 1 else "", "Geometry")
    spec = _spec(layer, title or f"上传·{stem}", stem, role="upload", geometry_type=gtype,
                 source=f"上传文件 {result.source_name}", source_datum=result.source_datum, order=500, visible=True,
                 description=f"{result.source_name}：{result.n_features:,} 个要素，原坐标系 {result.source_datum}。",
                 style=LayerStyle(color="#ff7f0e", radius=5, weight=2, fill_opacity=0.35))
    digest = hashlib.sha256(data).hexdigest()
    written, created = _commit(target, {layer: frame}, {layer: spec}, kind="upload", file=result.source_name,
                               digest=digest, details={"features": result.n_features}, replace=False)
    return ImportResult(written, {layer: len(frame)}, list(result.warnings), {"features": result.n_features}, created)
