"""Export layers and analysis results to the formats planners' GIS tools open.

========  ==================================================================
format    what is written
========  ==================================================================
geojson   RFC 7946: WGS-84 longitude/latitude, counter-clockwise exteriors
gpkg      GeoPackage (one layer)
shp       zipped Shapefile (.shp .shx .dbf .prj .cpg; UTF-8 attributes; one
          file per geometry family when points, lines and polygons mix;
          field names cut to 10 bytes, made unique, with a ``_fields.csv``
          mapping them back; text longer than the .dbf's 254 bytes cut on a
          character boundary, with the whole text in a ``_long_text.csv``)
kml       KML 2.2 for Google Earth / 奥维 (Ovi) maps, ``name`` as label;
          column names holding ``& < > " '`` or control characters get
          ``_`` in their place (XML attributes cannot hold them as GDAL writes them)
csv       UTF-8 with BOM (opens in Excel), ``lon``/``lat`` of a
          representative point and the geometry as ``wkt``; text (header
          cells too) that a spreadsheet would run as a formula is prefixed with ``'``
========  ==================================================================

Whatever a format cannot hold as it is, and was changed on the way (names cut
or replaced, long text cut), is said in a
:class:`~spatial._errors.PlanatlasWarning`, and nothing is lost: the mapping
or the whole text travels in the file.

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
import re
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import shapely

from .. import settings
from .._atomic import atomic_path, describe_failure, temp_dir_prefix
from .._errors import InputFileError, PlanatlasWarning, StoreError
from ..store import gpkg_geometry_type, writable_frame

__all__ = ["FORMATS", "export_bytes", "export_layer", "feature_json", "format_for", "output_path"]

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

#: Longest text a .dbf field holds, bytes.
DBF_TEXT_BYTES = 254

# what cannot stand in an XML attribute value as GDAL's KML writer puts it
_XML_UNSAFE = re.compile(r"[&<>\"'\x00-\x1f\x7f]")

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


def _cut_utf8(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` bytes of UTF-8, never inside a character."""
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")


def _cut_long_text(frame: gpd.GeoDataFrame, layer: str) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Text cells longer than a .dbf holds, cut; and the whole texts, to travel beside them."""
    out = frame.copy()
    rows: list[dict[str, object]] = []
    for col in out.columns:
        if col == out.geometry.name or not (out[col].dtype == object or pd.api.types.is_string_dtype(out[col])):
            continue
        values = out[col]
        long = values.map(lambda v: isinstance(v, str) and len(v.encode("utf-8")) > DBF_TEXT_BYTES)
        for i in np.flatnonzero(long.to_numpy(dtype=bool)):
            rows.append({"row": int(i), "field": str(col), "text": values.iloc[i]})
        if long.any():
            out[col] = values.where(~long, values[long].map(lambda v: _cut_utf8(v, DBF_TEXT_BYTES)))
    return out, pd.DataFrame(rows, columns=["row", "field", "text"])


def _write_shapefile_zip(gdf: gpd.GeoDataFrame, dest: Path, layer: str) -> None:
    """A zip of one shapefile per geometry family, plus the field-name mapping when names were cut.

    Text longer than :data:`DBF_TEXT_BYTES` is cut on a character boundary
    (GDAL would cut inside a character, with an English warning per value)
    and kept whole in ``<layer>_long_text.csv`` (row, field, text), with a
    :class:`~spatial._errors.PlanatlasWarning`.
    """
    attrs = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    mapping = _short_names(attrs)
    frame, long_text = _cut_long_text(gdf.rename(columns=mapping), layer)
    if len(long_text):
        fields = "、".join(sorted(set(long_text["field"])))
        warnings.warn(PlanatlasWarning(
            f"Shapefile 的属性表每格最多 {DBF_TEXT_BYTES} 字节：{len(long_text)} 个文字值 (列 {fields}) 已截断，"
            f"完整文字见压缩包中的 {layer}_long_text.csv ({len(long_text)} text values longer than "
            f"{DBF_TEXT_BYTES} bytes were cut in the .dbf; the whole text is in {layer}_long_text.csv)"),
            stacklevel=3)
    families = frame.geometry.geom_type.map(_family)
    with tempfile.TemporaryDirectory(prefix=temp_dir_prefix("export")) as tmp:
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
            if len(long_text):
                zf.writestr(f"{layer}_long_text.csv", long_text.to_csv(index=False).encode("utf-8-sig"))


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
    """Attributes, ``lon``/``lat`` of a point on each feature (7 decimals, about 1 cm) and ``wkt``.

    Header cells are defused like values: a column named ``=cmd|...`` would
    run as a formula in the spreadsheet's first row.
    """
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    frame.columns = pd.Index([_defuse(str(c)) for c in frame.columns])
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
        frame = _xml_safe_columns(gdf)
        name_field = "name" if "name" in frame.columns else ("item_id" if "item_id" in frame.columns else None)
        options = {"NameField": name_field} if name_field else {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # GDAL's notes on names it adjusts for XML
            pyogrio.write_dataframe(frame[~frame.geometry.isna()], dest, driver="KML", dataset_options=options,
                                    layer=_XML_UNSAFE.sub("_", layer))
    elif fmt == "csv":
        _write_csv(gdf, dest)


def _xml_safe_columns(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Columns renamed so GDAL's KML writer makes well-formed XML (``&`` ``<`` ``"`` … become ``_``), with a note."""
    attrs = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    mapping: dict[str, str] = {}
    used = {c for c in attrs if not _XML_UNSAFE.search(c)}
    for col in attrs:
        if not _XML_UNSAFE.search(col):
            continue
        base = _XML_UNSAFE.sub("_", col)
        name, k = base, 2
        while name in used:
            name, k = f"{base}_{k}", k + 1
        used.add(name)
        mapping[col] = name
    if not mapping:
        return gdf
    shown = ", ".join(f"{old!r} -> {new!r}" for old, new in list(mapping.items())[:5])
    warnings.warn(PlanatlasWarning(
        f"KML 的字段名不能含 & < > \" ' 或控制字符，已改名：{shown} "
        f"(KML field names cannot hold & < > \" ' or control characters; renamed: {shown})"), stacklevel=4)
    return gdf.rename(columns=mapping)


def _check_layer_name(layer: str) -> None:
    """Refuse a layer name that cannot be a file name (it could write outside the folder meant for it)."""
    if not layer or layer in {".", ".."} or any(ch in layer for ch in "/\\\x00"):
        msg = (
            f"图层名 {layer!r} 不能用作文件名 (为空、为 '..'，或含 / 或 \\) "
            f"(layer name {layer!r} cannot be a file name: empty, '..', or holds / or \\)"
        )
        raise InputFileError(msg)


def output_path(path: str | os.PathLike[str], fmt: str | None = None) -> Path:
    """The file :func:`export_layer` writes for ``path``: the same, or with ``.zip`` for a shapefile.

    >>> output_path("parks.shp").name
    'parks.zip'
    """
    dest = settings.user_path(path)
    if format_for(path, fmt) == "shp" and dest.suffix.lower() != ".zip":
        dest = dest.with_suffix(".zip")
    return dest


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
    dest = output_path(path, fmt)
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
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError,
            pyogrio.errors.FeatureError, pyogrio.errors.GeometryError, ValueError, TypeError) as exc:
        zh, en = describe_failure(exc) or (f"GDAL 无法写出 {fmt} 格式", f"GDAL could not write {fmt}")
        msg = f"无法写入 {dest}：{zh} (cannot write {dest}: {en})"
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
    with tempfile.TemporaryDirectory(prefix=temp_dir_prefix("export")) as tmp:
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
