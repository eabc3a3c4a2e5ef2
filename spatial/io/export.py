"""Export layers and analysis results to the formats planners' GIS tools open.

========  ==================================================================
format    what is written
========  ==================================================================
geojson   RFC 7946: WGS-84 longitude/latitude, counter-clockwise exteriors
gpkg      GeoPackage (one layer)
shp       zipped Shapefile (.shp .shx .dbf .prj .cpg; UTF-8 attributes; one
          file per geometry family when points, lines and polygons mix;
          field names cut to 10 bytes, made unique, with a ``_fields.csv``
          mapping them back)
kml       KML 2.2 for Google Earth / 奥维 (Ovi) maps, ``name`` as label
csv       UTF-8 with BOM (opens in Excel), ``lon``/``lat`` of a
          representative point and the geometry as ``wkt``; text that a
          spreadsheet would run as a formula is prefixed with ``'``
========  ==================================================================

Every layer passes :func:`spatial.store.writable_frame` first, the same as the
store, so a layer reads the same whichever file it went to. Every file is
written to a temporary name in the target folder and moved into place when
complete (:func:`spatial._atomic.atomic_path`), so an interrupted export never
leaves a truncated file. The layer name becomes file names (shapefile parts,
the temporary file of :func:`export_bytes`), so one that could leave its folder
is refused.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pyogrio.errors
import shapely

from .._atomic import atomic_path
from .._errors import InputFileError, StoreError
from ..store import gpkg_geometry_type, writable_frame

__all__ = ["FORMATS", "export_bytes", "export_layer", "feature_json", "format_for"]

#: format -> (file suffix, MIME type)
FORMATS: dict[str, tuple[str, str]] = {
    "geojson": (".geojson", "application/geo+json"),
    "gpkg": (".gpkg", "application/geopackage+sqlite3"),
    "shp": (".zip", "application/zip"),
    "kml": (".kml", "application/vnd.google-earth.kml+xml"),
    "csv": (".csv", "text/csv"),
}

_SUFFIX_TO_FORMAT = {".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg", ".zip": "shp",
                     ".shp": "shp", ".kml": "kml", ".csv": "csv"}
_FORMAT_ALIASES = {"json": "geojson", "shapefile": "shp", "geopackage": "gpkg"}

#: First characters that make Excel/WPS treat a cell as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_FAMILY = {"Point": "points", "MultiPoint": "points", "LineString": "lines", "MultiLineString": "lines",
           "Polygon": "polygons", "MultiPolygon": "polygons"}


def format_for(path: str | os.PathLike[str], fmt: str | None = None) -> str:
    """The export format: ``fmt`` if given, else the one the file suffix names.

    Parameters
    ----------
    path : path-like
        Output file.
    fmt : str, optional
        A key of :data:`FORMATS` or an alias (``json``, ``shapefile``, ``geopackage``).

    Returns
    -------
    str
        A key of :data:`FORMATS`.

    Raises
    ------
    InputFileError
        Unknown ``fmt``, or a suffix that names no format.
    """
    choices = ", ".join(FORMATS)
    if fmt is not None:
        key = fmt.lower().lstrip(".")
        key = _FORMAT_ALIASES.get(key, key)
        if key not in FORMATS:
            msg = f"未知的导出格式 {fmt!r}；可选：{choices} (unknown format {fmt!r}; choose one of {choices})"
            raise InputFileError(msg)
        return key
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIX_TO_FORMAT:
        shown = Path(path).name
        msg = (
            f"无法从文件名 {shown!r} 判断导出格式；请指定格式 ({choices}) "
            f"(cannot tell the format of {shown!r}; pass a format: {choices})"
        )
        raise InputFileError(msg)
    return _SUFFIX_TO_FORMAT[suffix]


def _rfc7946_orient(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Counter-clockwise exterior rings, clockwise holes (RFC 7946 section 3.1.6)."""
    out = gdf.copy()
    geoms = out.geometry.values
    ids = shapely.get_type_id(geoms)
    polygonal = (ids == 3) | (ids == 6)
    out.loc[polygonal, out.geometry.name] = shapely.orient_polygons(geoms[polygonal], exterior_cw=False)
    return out


def _short_names(columns: list[str]) -> dict[str, str]:
    """Shapefile field names: at most 10 bytes of UTF-8, unique case-insensitively."""
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for col in columns:
        base = col
        while len(base.encode("utf-8")) > 10:
            base = base[:-1]
        name, k = base, 1
        while name.lower() in used:
            tail = str(k)
            name = base
            while len((name + tail).encode("utf-8")) > 10:
                name = name[:-1]
            name += tail
            k += 1
        used.add(name.lower())
        mapping[col] = name
    return mapping


def _family(geom_type: str | None) -> str:
    """Shapefile family of a geometry type: points, lines, polygons, other, or none (no geometry)."""
    if geom_type is None:
        return "none"
    return _FAMILY.get(geom_type, "other")


def _write_shapefile_zip(gdf: gpd.GeoDataFrame, dest: Path, layer: str) -> None:
    """A zip of one shapefile per geometry family, plus the field-name mapping when names were cut."""
    attrs = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    mapping = _short_names(attrs)
    frame = gdf.rename(columns=mapping)
    families = frame.geometry.geom_type.map(_family)
    with tempfile.TemporaryDirectory() as tmp:
        written: list[Path] = []
        groups = [(fam, frame[families == fam]) for fam in ("points", "lines", "polygons", "other")]
        groups = [(fam, part) for fam, part in groups if len(part)]
        single = len(groups) <= 1
        if not groups:  # nothing with geometry: still a valid (empty) point shapefile
            groups = [("points", frame.iloc[0:0])]
        for fam, part in groups:
            stem = layer if single else f"{layer}_{fam}"
            shp = Path(tmp) / f"{stem}.shp"
            pyogrio.write_dataframe(
                part, shp, driver="ESRI Shapefile", encoding="UTF-8",
                geometry_type=None if len(part) else "Point",
            )
            written.extend(sorted(Path(tmp).glob(f"{stem}.*")))
        with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for file in written:
                zf.write(file, arcname=file.name)
            if any(mapping[c] != c for c in attrs):
                table = pd.DataFrame({"field": list(mapping.values()), "column": list(mapping.keys())})
                zf.writestr(f"{layer}_fields.csv", table.to_csv(index=False))


def _defuse(value: Any) -> Any:
    """Prefix text that a spreadsheet would run as a formula with an apostrophe.

    Numbers written as text ("-3.5") are left alone; ``=HYPERLINK(...)`` from an
    uploaded attribute becomes ``'=HYPERLINK(...)``, shown as text.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


def _write_csv(gdf: gpd.GeoDataFrame, dest: Path) -> None:
    """Attributes, ``lon``/``lat`` of a point on each feature (7 decimals, about 1 cm) and ``wkt``."""
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    for col in frame.columns:
        if frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col]):
            frame[col] = frame[col].map(_defuse)
    geoms = gdf.geometry.values
    has = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    pts = shapely.point_on_surface(geoms[has])
    frame["lon"] = pd.NA
    frame["lat"] = pd.NA
    frame.loc[has, "lon"] = shapely.get_x(pts).round(7)
    frame.loc[has, "lat"] = shapely.get_y(pts).round(7)
    frame["wkt"] = [shapely.to_wkt(g, rounding_precision=7) if g is not None else "" for g in geoms]
    frame.to_csv(dest, index=False, encoding="utf-8-sig")


def _write(gdf: gpd.GeoDataFrame, dest: Path, fmt: str, layer: str) -> None:
    """Write ``gdf`` (already :func:`~spatial.store.writable_frame`) to ``dest`` as ``fmt``."""
    if fmt == "geojson":
        pyogrio.write_dataframe(_rfc7946_orient(gdf), dest, driver="GeoJSON",
                                layer_options={"RFC7946": "YES", "WRITE_NAME": "NO"})
    elif fmt == "gpkg":
        pyogrio.write_dataframe(gdf, dest, driver="GPKG", layer=layer, geometry_type=gpkg_geometry_type(gdf))
    elif fmt == "shp":
        _write_shapefile_zip(gdf, dest, layer)
    elif fmt == "kml":
        name_field = "name" if "name" in gdf.columns else ("item_id" if "item_id" in gdf.columns else None)
        options = {"NameField": name_field} if name_field else {}
        pyogrio.write_dataframe(gdf[~gdf.geometry.isna()], dest, driver="KML", dataset_options=options)
    elif fmt == "csv":
        _write_csv(gdf, dest)


def _check_layer_name(layer: str) -> None:
    """Refuse a layer name that cannot be a file name (it could write outside the folder meant for it)."""
    if not layer or layer in {".", ".."} or any(ch in layer for ch in "/\\\x00"):
        msg = (
            f"图层名 {layer!r} 不能用作文件名 (为空、为 '..'，或含 / 或 \\) "
            f"(layer name {layer!r} cannot be a file name: empty, '..', or holds / or \\)"
        )
        raise InputFileError(msg)


def export_layer(
    gdf: gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    *,
    fmt: str | None = None,
    layer: str = "layer",
) -> Path:
    """Write a layer to a file, atomically.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Any CRS; written in WGS-84 (EPSG:4326).
    path : path-like
        Output file. For ``shp`` a ``.zip`` archive is written (the suffix
        is changed to ``.zip``).
    fmt : {"geojson", "gpkg", "shp", "kml", "csv"}, optional, keyword-only
        Guessed from the suffix when omitted.
    layer : str, keyword-only
        Layer name inside a GeoPackage, file stem inside a Shapefile zip.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    InputFileError
        Unknown format, or a layer name that cannot be a file name.
    CRSError
        ``gdf`` has no CRS.
    StoreError
        The folder does not exist or cannot be written, or GDAL fails to write the format.
    """
    fmt = format_for(path, fmt)
    _check_layer_name(layer)
    dest = Path(path).expanduser()
    if fmt == "shp" and dest.suffix.lower() != ".zip":
        dest = dest.with_suffix(".zip")
    folder = dest.parent if str(dest.parent) else Path(".")
    if not folder.is_dir():
        msg = f"无法写入 {dest}：文件夹 {folder} 不存在 (cannot write {dest}: folder {folder} does not exist)"
        raise StoreError(msg)
    frame = writable_frame(gdf)
    try:
        with atomic_path(dest) as tmp:
            _write(frame, tmp, fmt, layer)
    except StoreError:
        raise
    except OSError as exc:
        reason = exc.strerror or str(exc)
        msg = f"无法写入 {dest}：{reason} (cannot write {dest}: {reason})"
        raise StoreError(msg) from None
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        reason = " ".join(str(exc).split())[:200]
        msg = f"无法写入 {dest}：GDAL 写入 {fmt} 失败 (cannot write {dest}: GDAL failed to write {fmt}: {reason})"
        raise StoreError(msg) from None
    return dest


def export_bytes(gdf: gpd.GeoDataFrame, fmt: str, *, layer: str = "layer") -> tuple[bytes, str, str]:
    """A layer as file contents for a download button.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Any CRS; written in WGS-84.
    fmt : str
        A key of :data:`FORMATS` (or an alias, see :func:`format_for`).
    layer : str, keyword-only
        Layer name / file stem inside the file.

    Returns
    -------
    (bytes, str, str)
        The file's bytes, its suffix (``".zip"`` for ``shp``) and MIME type.

    Raises
    ------
    InputFileError
        As :func:`export_layer`.
    """
    fmt = format_for("x", fmt)
    _check_layer_name(layer)
    suffix, mime = FORMATS[fmt]
    with tempfile.TemporaryDirectory() as tmp:
        dest = export_layer(gdf, Path(tmp) / f"{layer}{suffix}", fmt=fmt, layer=layer)
        data = dest.read_bytes()
    return data, suffix, mime


def feature_json(gdf: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """Features of a frame as RFC 7946 GeoJSON dicts (WGS-84), for the CLI and the app.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Any CRS.

    Returns
    -------
    list of dict
        One ``{"type": "Feature", "properties": …, "geometry": …}`` per row.
    """
    frame = _rfc7946_orient(writable_frame(gdf))
    buf = io.StringIO(frame.to_json(na="null", drop_id=True, ensure_ascii=False))
    features: list[dict[str, Any]] = json.load(buf)["features"]
    return features
