"""The checks and repairs every layer passes after it is read, whatever its format.

A file that reads is not yet a layer planatlas can use. Planners' files come
with the usual faults, each of which would put features in the wrong place
without any error, so each is found here and either repaired with a note or
refused with the reason:

* column names with control characters or duplicates (GeoPackage column
  names are case-insensitive, so ``Name`` and ``name`` would clash in the store);
* no CRS: the file's own, else the one the user assumes, else refused;
* features without geometry (dropped), heights (dropped: maps are 2D);
* coordinates that cannot be degrees (a projected file labelled WGS-84),
  longitude and latitude swapped (a common CSV mistake: Jinan at x=36.7,
  y=117.0), or outside China (almost always one of the two);
* more features than :data:`spatial.settings.MAX_UPLOAD_FEATURES` (refused);
* geometry collections nested inside each other (accepted by GEOS, but no
  export format and no map can draw them: flattened, every part kept);
* invalid geometries (self-intersecting polygons), repaired with
  :func:`shapely.make_valid`;
* GCJ-02 (AMap/Gaode, Tencent) or BD-09 (Baidu) coordinates, converted to
  WGS-84 with :mod:`spatial.datum`.

Each check is a *step*: a function ``(frame, context) -> frame`` that may add a
Chinese-first note to ``context.notes`` or raise a planatlas error.
:mod:`spatial.io.uploads` runs them in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError as _ProjCRSError

from .. import settings
from .._errors import CRSError, EmptyLayerError, InputFileError
from ..datum import Datum, convert_frame
from ..projection import reproject
from ._limits import one_line, strip_controls

#: Coarse box of mainland China (and its seas), lon/lat degrees: (west, south,
#: east, north); the box inside which GCJ-02 differs from WGS-84 (see
#: :func:`spatial.datum.in_china`).
CHINA_BOUNDS: tuple[float, float, float, float] = (72.004, 0.8293, 137.8347, 55.8271)

# shapely type id -> geometry family: 0 Point, 1 LineString, 2 LinearRing,
# 3 Polygon, 4-6 Multi*, 7 GeometryCollection
_FAMILIES = np.array(["point", "line", "line", "polygon", "point", "line", "polygon", "collection"])
_FAMILY_ZH = {"point": "点", "line": "线", "polygon": "面", "collection": "几何集合"}


@dataclass
class CheckContext:
    """What the steps know about the layer they check.

    Attributes
    ----------
    name : str
        The file's display name, for messages.
    datum : {"WGS84", "GCJ02", "BD09"}
        Datum the coordinates are in.
    assumed : pyproj.CRS or None
        CRS to use when the file declares none.
    allow_outside_china : bool
        Accept features outside :data:`CHINA_BOUNDS`.
    notes : list of str
        Where notes go.
    """

    name: str
    datum: Datum = "WGS84"
    assumed: CRS | None = None
    allow_outside_china: bool = False
    notes: list[str] = field(default_factory=list)


#: A check: (frame, context) -> frame.
Step = Callable[[gpd.GeoDataFrame, CheckContext], gpd.GeoDataFrame]


# --------------------------------------------------------------------------- arguments


def parse_assume_crs(value: str | int | CRS | None) -> CRS | None:
    """The CRS a user assumes for files that declare none.

    Raises
    ------
    CRSError
        A value pyproj cannot read as a CRS.
    """
    if value is None:
        return None
    try:
        return CRS.from_user_input(value)
    except (_ProjCRSError, TypeError, ValueError):
        msg = (
            f"assume_crs={value!r} 不是可识别的坐标系 (如 'EPSG:4326') "
            f"(assume_crs={value!r} is not a CRS pyproj knows, try e.g. 'EPSG:4326')"
        )
        raise CRSError(msg) from None


def crs_label(crs: object) -> str:
    """``EPSG:4548 (CGCS2000 / 3-degree Gauss-Kruger CM 117E)``, or the CRS name when it has no code."""
    parsed = CRS.from_user_input(crs)
    epsg = parsed.to_epsg()
    return f"EPSG:{epsg} ({parsed.name})" if epsg else str(parsed.name)


# --------------------------------------------------------------------------- columns


def clean_names(names: list[str], name: str, notes: list[str], *, reserved: tuple[str, ...] = ()) -> list[str]:
    """Column names without control characters, unique case-insensitively, none of ``reserved``.

    Parameters
    ----------
    names : list of str
        Names as the file holds them.
    name : str
        The file's display name, for notes.
    notes : list of str
        Where the renamings are noted.
    reserved : tuple of str, keyword-only
        Names taken already (``"geometry"``).

    Returns
    -------
    list of str
        As many names as given, in the same order; a blank one becomes
        ``column_<n>``, a repeated one ``<name>_2``, ``<name>_3`` …
    """
    cleaned: list[str] = []
    changed: list[str] = []
    for i, raw in enumerate(names):
        new = strip_controls(str(raw)) or f"column_{i + 1}"
        if new != str(raw).strip():
            changed.append(new)
        cleaned.append(new)
    if changed:
        listed = ", ".join(changed)
        notes.append(
            f"{name}：已删除列名中的控制字符 ({listed}) "
            f"({name}: removed control characters from column names ({listed}))"
        )
    # GeoPackage/SQLite column names are case-insensitive, so 'Name' and 'name'
    # would clash when the layer is stored
    seen: set[str] = {r.lower() for r in reserved}
    out: list[str] = []
    renamed: list[str] = []
    for col in cleaned:
        new, k = col, 2
        while new.lower() in seen:
            new = f"{col}_{k}"
            k += 1
        if new != col:
            renamed.append(f"'{col}' -> '{new}'")
        seen.add(new.lower())
        out.append(new)
    if renamed:
        listed = ", ".join(renamed)
        notes.append(f"{name}：重名的列已改名：{listed} ({name}: renamed duplicate columns: {listed})")
    return out


def tidy_columns(gdf: gpd.GeoDataFrame, ctx: CheckContext) -> gpd.GeoDataFrame:
    """Step: clean attribute names (see :func:`clean_names`); the geometry column is named ``geometry``."""
    geom_name = gdf.geometry.name
    # columns are addressed by position, so duplicate names cannot be mixed up
    positions = [i for i, c in enumerate(gdf.columns) if c != geom_name]
    original = [str(gdf.columns[i]) for i in positions]
    clean = clean_names(original, ctx.name, ctx.notes, reserved=("geometry",))
    if clean != original:
        attrs = pd.DataFrame({new: gdf.iloc[:, i] for new, i in zip(clean, positions, strict=True)},
                             index=gdf.index)
        return gpd.GeoDataFrame(attrs, geometry=gdf.geometry.values, crs=gdf.crs)
    return gdf.rename_geometry("geometry") if geom_name != "geometry" else gdf


# --------------------------------------------------------------------------- features and CRS


def require_features(gdf: gpd.GeoDataFrame, ctx: CheckContext) -> gpd.GeoDataFrame:
    """Step: refuse a layer without features (raises :class:`EmptyLayerError`)."""
    if len(gdf) == 0:
        msg = f"{ctx.name} 没有要素 ({ctx.name} has no features)"
        raise EmptyLayerError(msg)
    return gdf


def check_feature_count(name: str, n: int) -> None:
    """Refuse a layer of more than :data:`spatial.settings.MAX_UPLOAD_FEATURES` features.

    Called with the count GDAL reports before a layer is read, and by
    :func:`limit_features` after.

    Raises
    ------
    InputFileError
    """
    limit = settings.MAX_UPLOAD_FEATURES
    if n > limit:
        msg = (f"{name} 有 {n:,} 个要素，超过上限 {limit:,} 个；请先裁剪到规划范围或拆分 "
               f"({name} has {n:,} features; uploads are limited to {limit:,}: clip or split it)")
        raise InputFileError(msg)


def limit_features(gdf: gpd.GeoDataFrame, ctx: CheckContext) -> gpd.GeoDataFrame:
    """Step: refuse a layer of more than :data:`spatial.settings.MAX_UPLOAD_FEATURES` features."""
    check_feature_count(ctx.name, len(gdf))
    return gdf


def _leaves(geom: shapely.Geometry) -> list[shapely.Geometry]:
    """The non-collection parts of a geometry, however deep its collections nest (no recursion)."""
    out: list[shapely.Geometry] = []
    stack = [geom]
    while stack:
        g = stack.pop()
        if shapely.get_type_id(g) == 7:  # GeometryCollection
            stack.extend(reversed(list(shapely.get_parts(g))))
        else:
            out.append(g)
    return out


def _flat(geom: shapely.Geometry) -> shapely.Geometry:
    """One collection of the leaves: Multi* when they are of one kind, else a flat GeometryCollection."""
    parts = [p for leaf in _leaves(geom) for p in shapely.get_parts(leaf) if not shapely.is_empty(p)]
    kinds = {int(shapely.get_type_id(p)) for p in parts}
    if kinds == {0}:
        flat: shapely.Geometry = shapely.multipoints(parts)
    elif kinds <= {1, 2}:
        flat = shapely.multilinestrings(parts)
    elif kinds == {3}:
        flat = shapely.multipolygons(parts)
    else:
        flat = shapely.geometrycollections(parts)
    return flat


def flatten_collections(gdf: gpd.GeoDataFrame, ctx: CheckContext) -> gpd.GeoDataFrame:
    """Step: geometry collections holding collections become one flat collection, every part kept."""
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    is_gc = shapely.get_type_id(geoms) == 7
    if not is_gc.any():
        return gdf
    nested = np.zeros(len(geoms), dtype=bool)
    for i in np.flatnonzero(is_gc):
        nested[i] = bool((shapely.get_type_id(shapely.get_parts(geoms[i])) == 7).any())
    if not nested.any():
        return gdf
    out = geoms.copy()
    for i in np.flatnonzero(nested):
        out[i] = _flat(geoms[i])
    n = int(nested.sum())
    ctx.notes.append(
        f"{ctx.name}：{n} 个要素的几何集合层层嵌套，已展开为一层 (所有部分保留) "
        f"({ctx.name}: nested geometry collections of {n} feature(s) were flattened, every part kept)"
    )
    return gdf.set_geometry(gpd.GeoSeries(out, index=gdf.index, crs=gdf.crs))


def resolve_crs(gdf: gpd.GeoDataFrame, ctx: CheckContext) -> gpd.GeoDataFrame:
    """Step: the file's own CRS, else the one the user assumes, else refuse (raises :class:`CRSError`)."""
    if gdf.crs is None:
        if ctx.assumed is None:
            msg = (
                f"{ctx.name} 没有声明坐标系，无法定位；请用 assume_crs= 说明 (经纬度为 'EPSG:4326') "
                f"({ctx.name} declares no CRS, so its coordinates cannot be placed; give assume_crs=)"
            )
            raise CRSError(msg)
        return gdf.set_crs(ctx.assumed)
    if ctx.assumed is not None and not CRS.from_user_input(gdf.crs).equals(ctx.assumed):
        own, assumed = crs_label(gdf.crs), crs_label(ctx.assumed)
        ctx.notes.append(
            f"{ctx.name} 已声明 {own}，未采用 assume_crs={assumed} "
            f"({ctx.name} declares {own}; assume_crs={assumed} was ignored)"
        )
    return gdf


def drop_empty(gdf: gpd.GeoDataFrame, ctx: CheckContext) -> gpd.GeoDataFrame:
    """Step: drop features without geometry; refuse a layer of none (raises :class:`EmptyLayerError`)."""
    geom = gdf.geometry.values
    empty = shapely.is_missing(geom) | shapely.is_empty(geom)
    if empty.all():
        msg = (
            f"{ctx.name} 的 {len(gdf)} 个要素都没有几何 "
            f"(none of the {len(gdf)} features of {ctx.name} has a geometry)"
        )
        raise EmptyLayerError(msg)
    if empty.any():
        n = int(empty.sum())
        ctx.notes.append(
            f"{ctx.name}：删除了 {n} 个没有几何的要素 ({ctx.name}: dropped {n} feature(s) with no geometry)"
        )
        gdf = gdf.loc[~empty]
    return gdf


def drop_z(gdf: gpd.GeoDataFrame, ctx: CheckContext) -> gpd.GeoDataFrame:
    """Step: drop heights (Z values); planatlas maps and measures in 2D."""
    if shapely.has_z(gdf.geometry.values).any():
        ctx.notes.append(
            f"{ctx.name}：已去掉高程 (Z 值)，planatlas 按二维制图 "
            f"({ctx.name}: heights (Z values) were dropped; planatlas maps in 2D)"
        )
        gdf = gdf.set_geometry(shapely.force_2d(gdf.geometry.values))
    return gdf


def to_storage_crs(gdf: gpd.GeoDataFrame, ctx: CheckContext) -> gpd.GeoDataFrame:
    """Step: reproject to EPSG:4326 (WGS-84 longitude/latitude, degrees).

    Raises
    ------
    CRSError
        pyproj cannot transform from the layer's CRS.
    """
    crs = CRS.from_user_input(gdf.crs)
    if crs.equals(CRS.from_epsg(4326)):
        return gdf
    try:
        out = reproject(gdf, settings.STORAGE_CRS)
    except (_ProjCRSError, ValueError, RuntimeError) as exc:
        label, detail = crs_label(crs), one_line(exc)
        msg = f"{ctx.name}：无法从 {label} 转换坐标 ({ctx.name}: cannot reproject from {label}: {detail})"
        raise CRSError(msg) from None
    if crs.is_projected:
        label = crs_label(crs)
        ctx.notes.append(
            f"{ctx.name}：已从 {label} 转换为 WGS-84 经纬度 "
            f"({ctx.name}: reprojected from {label} to WGS-84 longitude/latitude)"
        )
    return out


# --------------------------------------------------------------------------- coordinates


def check_coordinates(gdf: gpd.GeoDataFrame, ctx: CheckContext) -> gpd.GeoDataFrame:
    """Step: refuse coordinates that are not finite, are swapped, cannot be degrees, or lie outside China.

    Raises
    ------
    InputFileError
        NaN or infinite coordinates; longitude and latitude swapped (every
        feature outside China would be inside with x and y exchanged);
        features outside :data:`CHINA_BOUNDS` unless ``allow_outside_china``.
    CRSError
        Coordinates beyond ±180/±90: metres labelled as degrees.
    """
    name = ctx.name
    b = shapely.bounds(gdf.geometry.values)  # minx, miny, maxx, maxy per feature
    if not np.isfinite(b).all():
        msg = f"{name}：部分坐标不是有限数 (NaN 或无穷大) ({name}: some coordinates are not finite numbers)"
        raise InputFileError(msg)
    x0, y0, x1, y1 = CHINA_BOUNDS
    inside = (b[:, 0] > x0) & (b[:, 2] < x1) & (b[:, 1] > y0) & (b[:, 3] < y1)
    if inside.all():
        return gdf
    outside = ~inside
    n_out, n = int(outside.sum()), len(b)
    i = int(np.flatnonzero(outside)[0])
    x, y = f"{b[i, 0]:.6g}", f"{b[i, 1]:.6g}"
    # latitude, longitude order puts Jinan at x=36.7, y=117.0: outside China,
    # and not even a valid latitude
    swapped_inside = (b[:, 1] > x0) & (b[:, 3] < x1) & (b[:, 0] > y0) & (b[:, 2] < y1)
    # (with allow_outside_china a y up to 90 may be a real Arctic latitude)
    implausible_y = bool((np.abs(b[:, [1, 3]]) > 90).any())
    if swapped_inside[outside].all() and (implausible_y or not ctx.allow_outside_china):
        msg = (
            f"{name}：{n} 个要素中有 {n_out} 个经纬度颠倒 (如 x={x}, y={y} 像是中国境内的纬度、经度)；"
            f"请交换 (CSV 可把 lon_col= 与 lat_col= 对调) ({name}: {n_out} of {n} features have longitude and "
            f"latitude swapped (e.g. x={x}, y={y}); swap them, for a CSV give lon_col= and lat_col= "
            "the other way round)"
        )
        raise InputFileError(msg)
    not_degrees = (np.abs(b[:, [0, 2]]) > 180).any(axis=1) | (np.abs(b[:, [1, 3]]) > 90).any(axis=1)
    if not_degrees.any():
        j = int(np.flatnonzero(not_degrees)[0])
        xy = f"({b[j, 0]:.6g}, {b[j, 1]:.6g})"
        msg = (
            f"{name}：坐标 {xy} 不是经纬度 (度)，像是投影坐标 (米)，所声明或假定的坐标系有误 "
            f"({name}: coordinates such as {xy} are not longitude/latitude degrees; they look projected "
            "(metres), so the declared or assumed CRS is wrong)"
        )
        raise CRSError(msg)
    if ctx.allow_outside_china:
        return gdf
    msg = (
        f"{name}：{n} 个要素中有 {n_out} 个在中国境外 (经度 {x0:g} 至 {x1:g}，纬度 {y0:g} 至 {y1:g})，如 x={x}, y={y}；"
        f"如确属境外，请传 allow_outside_china=True ({name}: {n_out} of {n} features lie outside China "
        f"(longitude {x0:g} to {x1:g}, latitude {y0:g} to {y1:g}); pass allow_outside_china=True if that is intended)"
    )
    raise InputFileError(msg)


# --------------------------------------------------------------------------- geometry


def _make_valid(geoms: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """Repair geometries, keeping a polygon polygonal (a bow-tie becomes two triangles)."""
    try:
        out: npt.NDArray[np.object_] = shapely.make_valid(geoms, method="structure", keep_collapsed=False)
    except (TypeError, ValueError, shapely.errors.GEOSException):  # GEOS < 3.10
        out = shapely.make_valid(geoms)
    return out


def repair(gdf: gpd.GeoDataFrame, ctx: CheckContext) -> gpd.GeoDataFrame:
    """Step: make invalid geometries valid, drop those that collapse to nothing, and say how many.

    Raises
    ------
    EmptyLayerError
        No feature is left after the repair.
    """
    valid = shapely.is_valid(gdf.geometry.values)
    n_bad = int((~valid).sum())
    if n_bad == 0:
        return gdf
    geoms = gdf.geometry.values.copy()
    geoms[~valid] = _make_valid(np.asarray(geoms[~valid], dtype=object))
    gdf = gdf.set_geometry(geoms)
    word = "geometry" if n_bad == 1 else "geometries"
    ctx.notes.append(
        f"{ctx.name}：已用 shapely.make_valid 修复 {n_bad} 个无效几何 (如自相交的多边形) "
        f"({ctx.name}: repaired {n_bad} invalid {word}, e.g. self-intersecting polygons, with shapely.make_valid)"
    )
    lost = shapely.is_empty(gdf.geometry.values)
    if lost.any():
        n_lost = int(lost.sum())
        ctx.notes.append(
            f"{ctx.name}：删除了 {n_lost} 个修复后为空的要素 "
            f"({ctx.name}: dropped {n_lost} feature(s) that collapsed to nothing when repaired)"
        )
        gdf = gdf.loc[~lost]
        if len(gdf) == 0:
            msg = f"{ctx.name} 修复几何后没有剩下要素 ({ctx.name}: no feature is left after repairing its geometries)"
            raise EmptyLayerError(msg)
    return gdf


def geometry_families(geoms: npt.NDArray[np.object_]) -> dict[str, int]:
    """Counts of points / lines / polygons / collections (Multi* counted with their kind)."""
    kinds, counts = np.unique(_FAMILIES[shapely.get_type_id(geoms)], return_counts=True)
    return {str(k): int(n) for k, n in zip(kinds, counts, strict=True)}


def note_mixed_types(gdf: gpd.GeoDataFrame, ctx: CheckContext) -> gpd.GeoDataFrame:
    """Step: note a layer mixing points, lines and polygons (GeoPackage layers and some tools want one)."""
    families = geometry_families(np.asarray(gdf.geometry.values, dtype=object))
    if len(families) > 1:
        zh = "、".join(f"{_FAMILY_ZH[fam]} {n} 个" for fam, n in families.items())
        en = ", ".join(f"{n} {fam}" for fam, n in families.items())
        ctx.notes.append(
            f"{ctx.name}：几何类型混合 ({zh})；部分软件和 GeoPackage 图层要求每层一种类型 "
            f"({ctx.name}: mixed geometry types ({en}); some tools and GeoPackage layers need one type per layer)"
        )
    return gdf


def to_wgs84_datum(gdf: gpd.GeoDataFrame, ctx: CheckContext) -> gpd.GeoDataFrame:
    """Step: convert GCJ-02 or BD-09 coordinates to WGS-84; the frame leaves in EPSG:4326, index 0..n-1."""
    if ctx.datum != "WGS84":
        gdf = convert_frame(gdf, source=ctx.datum, target="WGS84")
    return gdf.set_crs(settings.STORAGE_CRS, allow_override=True).reset_index(drop=True)
