"""One reader per file format, each with the one GDAL driver its extension names.

GDAL, left to itself, picks the driver for a file from its content: a file
named ``parks.geojson`` that holds an ``<OGRVRTDataSource>`` is opened by the
VRT driver, which then reads whatever file or URL the VRT names
(``/etc/passwd``, ``/vsicurl/http://…``); a ``{"type": "gdal_streamed_alg"}``
JSON is a GDALG pipeline that does the same. So a user's file is never handed
to GDAL to guess:

* the extension names the format (``.geojson``/``.json`` GeoJSON, ``.gpkg``
  GeoPackage, ``.shp`` Shapefile, ``.csv``/``.txt`` CSV; a file without an
  extension is recognised by its first bytes, for the same four);
* the first bytes must be that format's (:func:`check_content`): a GeoJSON
  starts with ``{``, a GeoPackage with the SQLite header, a ``.shp`` and its
  ``.shx`` with the shapefile file code; anything else is refused with what
  it looks like (a VRT, KML, GPX, GML, a zip …);
* GDAL opens it with that driver only: the ``GeoJSON:`` and ``GPKG:``
  connection prefixes make GDAL try no other driver (pyogrio has no
  ``driver=`` for reading: a ``driver=`` keyword would only become an unknown
  open option that GDAL ignores), and the driver GDAL reports is checked;
* what would make that driver read other files is refused: a GeoJSON whose
  ``crs`` is a ``link`` to a file or URL, a GeoPackage holding virtual tables
  other than its R-tree index;
* a CSV is never given to GDAL (its driver honours ``CSVT`` sidecars, open
  options and prefixes); Python's :mod:`csv` module reads it.

Each reader returns the layer as the file holds it; the checks every format
shares (CRS, coordinates, repairs, datum) are :mod:`spatial.io._checks`.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import sqlite3
import unicodedata
import warnings as _warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyogrio
import pyogrio.errors
import pyogrio.raw
import shapely
from pyproj import CRS

from .. import _encoding, settings
from .._errors import CRSError, EmptyLayerError, InputFileError
from ._checks import check_feature_count, clean_names
from ._limits import HEAD_BYTES, mb, one_line, sibling_files

#: Extension of a user's file -> the format it is read as.
SUFFIX_FORMATS: dict[str, str] = {
    ".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg", ".zip": "zip",
    ".shp": "shapefile", ".csv": "csv", ".txt": "csv",
}

#: Format -> the one GDAL driver that may read it. CSV has none: Python reads it.
GDAL_DRIVERS: dict[str, str] = {"geojson": "GeoJSON", "gpkg": "GPKG", "shapefile": "ESRI Shapefile"}

#: Format names in messages: (Chinese, English).
FORMAT_LABELS: dict[str, tuple[str, str]] = {
    "geojson": ("GeoJSON", "GeoJSON"), "gpkg": ("GeoPackage", "a GeoPackage"),
    "zip": ("zip 压缩包", "a zip archive"), "shapefile": ("Shapefile", "a shapefile"),
    "csv": ("CSV 表格", "a CSV table"),
}

#: The ``type`` a GeoJSON object may have (RFC 7946 section 1.4).
GEOJSON_TYPES = frozenset({
    "FeatureCollection", "Feature", "Point", "MultiPoint", "LineString", "MultiLineString",
    "Polygon", "MultiPolygon", "GeometryCollection",
})

# What first bytes look like, for messages: kind -> (Chinese, English).
_KINDS: dict[str, tuple[str, str]] = {
    "zip": ("zip 压缩包", "a zip archive"),
    "sqlite": ("SQLite 数据库 (GeoPackage)", "an SQLite database (GeoPackage)"),
    "shapefile": ("Shapefile 几何文件 (.shp)", "a shapefile geometry file (.shp)"),
    "json": ("JSON 文本", "JSON text"),
    "gdalg": ("GDALG 处理流程 (会读取其他文件)", "a GDALG pipeline, which reads other files"),
    "topojson": ("TopoJSON", "TopoJSON"),
    "vrt": ("OGR VRT 虚拟数据源 (会读取其他文件)", "an OGR VRT data source, which reads other files"),
    "kml": ("KML", "KML"),
    "gpx": ("GPX", "GPX"),
    "gml": ("GML", "GML"),
    "xml": ("XML 文本", "XML text"),
    "utf16": ("UTF-16 文本 (请另存为 UTF-8)", "UTF-16 text (save it as UTF-8)"),
}

_SQLITE_MAGIC = b"SQLite format 3\x00"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_SHP_MAGIC = b"\x00\x00\x27\x0a"  # file code 9994, big-endian, of .shp and .shx
_BOM_WS = b"\xef\xbb\xbf \t\r\n"
_XML_PROLOGUE = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)", re.DOTALL)
_XML_ROOT = re.compile(r"\s*<([A-Za-z_][\w.:-]*)")
_JSON_FIRST_TYPE = re.compile(rb'^\{\s*"type"\s*:\s*"([^"\\]{0,64})"')
# a "crs" member of type "link" names a file or URL holding the CRS
_CRS_LINK = re.compile(rb'"crs"\s*:\s*\{(?:[^{}]|\{[^{}]*\})*?"type"\s*:\s*"link"', re.IGNORECASE)
# virtual tables a GeoPackage may hold: its spatial index
_GPKG_VIRTUAL_OK = frozenset({"rtree", "rtree_i32"})
_CREATE_VIRTUAL = re.compile(r"\s*CREATE\s+VIRTUAL\s+TABLE\s.*?\bUSING\s+([A-Za-z_]\w*)", re.IGNORECASE | re.DOTALL)

_SHAPEFILE_REQUIRED: dict[str, tuple[str, str]] = {
    ".shp": ("几何", "geometry"), ".shx": ("索引", "index"), ".dbf": ("属性表", "attribute table"),
}

# Column names (lower-cased, spaces and "_" removed) read as longitude /
# latitude, in order of preference: an explicit "lon" wins over a generic "x".
_LON_NAMES = ("lon", "lng", "long", "longitude", "经度", "wgs84_lon", "gcj02_lon", "x", "point_x", "x坐标")
_LAT_NAMES = ("lat", "latitude", "纬度", "wgs84_lat", "gcj02_lat", "y", "point_y", "y坐标")
# columns holding "lon,lat" in one string, as AMap (Gaode) exports do
_LOCATION_NAMES = ("location", "lnglat", "lonlat", "经纬度", "坐标")
# columns holding WKT geometries (as planatlas's own gazetteer does)
_WKT_NAMES = ("wkt", "geometry", "geom", "the_geom")
# deepest bracket nesting of a WKT text handed to GEOS (a collection of
# multipolygons needs 4; GEOS reads recursively: 100,000 levels crash it)
_WKT_MAX_DEPTH = 1000

_GDAL_FAILURES = (
    pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError,
    pyogrio.errors.GeometryError, pyogrio.errors.FeatureError, pyogrio.errors.CRSError,
    OSError, ValueError, RuntimeError,
)


@dataclass(frozen=True)
class ReadOptions:
    """What the user told :func:`spatial.io.read_upload` about the file.

    Attributes
    ----------
    layer : str or None
        GeoPackage layer, or layer name inside a zip.
    assumed : pyproj.CRS or None
        CRS for a file that declares none.
    lon_col, lat_col : str or None
        CSV coordinate columns.
    encoding : str or None
        Text encoding of a CSV or a .dbf (a Python codec name).
    """

    layer: str | None = None
    assumed: CRS | None = None
    lon_col: str | None = None
    lat_col: str | None = None
    encoding: str | None = None


#: A reader: (file, display name, options, notes) -> (layer as the file holds it, layer name read or None).
Reader = Callable[[Path, str, ReadOptions, list[str]], tuple[gpd.GeoDataFrame, str | None]]


# --------------------------------------------------------------------------- content


def sniff(head: bytes) -> str | None:
    """What the first bytes of a file are: a key of ``_KINDS``, or None when not recognised."""
    if head.startswith(_ZIP_MAGICS):
        return "zip"
    if head.startswith(_SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(_SHP_MAGIC):
        return "shapefile"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf16"
    body = head.lstrip(_BOM_WS)
    if body[:1] in {b"{", b"["}:
        if b'"gdal_streamed_alg"' in body:  # wherever its "type" member is
            return "gdalg"
        first = _JSON_FIRST_TYPE.match(body)
        kind = first.group(1).decode("utf-8", "replace") if first else ""
        return "topojson" if kind == "Topology" else "json"
    if body[:1] == b"<":
        text = body.decode("utf-8", "ignore")
        prologue = _XML_PROLOGUE.match(text)
        while prologue and prologue.end() > 0:
            text = text[prologue.end():]
            prologue = _XML_PROLOGUE.match(text)
        root = _XML_ROOT.match(text)
        local = root.group(1).split(":")[-1].lower() if root else ""
        if local == "ogrvrtdatasource":
            return "vrt"
        if local in {"kml", "gpx"}:
            return local
        if "gml" in text[:HEAD_BYTES].lower():
            return "gml"
        return "xml"
    return None


def _looks_like(head: bytes) -> tuple[str, str]:
    """What the content is, as a clause for messages: (Chinese, English)."""
    kind = sniff(head)
    if kind is None:
        return "内容无法识别", "planatlas does not recognise its content"
    if kind == "json" and head.lstrip(_BOM_WS)[:1] != b"{":
        return "内容是 JSON 数组，而 GeoJSON 须以 { 开头", "its content is a JSON array; a GeoJSON starts with '{'"
    zh, en = _KINDS[kind]
    return f"内容看起来是 {zh}", f"its content looks like {en}"


def _mismatch(name: str, fmt: str, head: bytes) -> InputFileError:
    label_zh, label_en = FORMAT_LABELS[fmt]
    zh, en = _looks_like(head)
    return InputFileError(
        f"{name} 不是 {label_zh}：{zh}；planatlas 只按扩展名所示的格式读取文件 "
        f"({name} is not {label_en}: {en}; planatlas reads a file only as the format its extension names)"
    )


def check_content(fmt: str, head: bytes, name: str) -> None:
    """Refuse a file whose first bytes are not those of ``fmt``.

    Parameters
    ----------
    fmt : {"geojson", "gpkg", "zip", "shapefile", "csv"}
        The format the extension names.
    head : bytes
        The file's first bytes (:data:`spatial.io._limits.HEAD_BYTES` of them).
    name : str
        The file's display name.

    Raises
    ------
    InputFileError
        The content is another format's (a VRT, KML, GPX or GML named
        ``.geojson``, a zip named ``.gpkg`` …), or a GeoJSON object whose
        ``type`` is not GeoJSON's.
    """
    kind = sniff(head)
    if fmt == "geojson":
        ok = kind == "json" and head.lstrip(_BOM_WS)[:1] == b"{"
        first = _JSON_FIRST_TYPE.match(head.lstrip(_BOM_WS))
        if ok and first is not None and first.group(1).decode("utf-8", "replace") not in GEOJSON_TYPES:
            shown = first.group(1).decode("utf-8", "replace")
            msg = (
                f"{name} 不是 GeoJSON：顶层 type 为 {shown!r}，不是 GeoJSON 的类型 "
                f"({name} is not GeoJSON: its top-level type is {shown!r})"
            )
            raise InputFileError(msg)
    elif fmt == "gpkg":
        ok = kind == "sqlite"
    elif fmt == "zip":
        ok = kind == "zip"
    elif fmt == "shapefile":
        ok = kind == "shapefile"
    else:  # csv: any text, but not another format's file
        ok = kind in {None, "utf16"}
    if not ok:
        raise _mismatch(name, fmt, head)


def detect_format(name: str, suffix: str, head: bytes, *, is_path: bool) -> str:
    """The format of a user's file: named by its extension, confirmed by its first bytes.

    Parameters
    ----------
    name : str
        Display name, for messages.
    suffix : str
        Lower-case extension (``""`` for none: then the first bytes decide,
        among zip, GeoPackage and GeoJSON).
    head : bytes
        The file's first bytes.
    is_path : bool, keyword-only
        The file is on disk: a ``.shp`` is read with the sidecar files next to it.

    Returns
    -------
    str
        ``geojson``, ``gpkg``, ``zip``, ``shapefile`` or ``csv``.

    Raises
    ------
    InputFileError
        Unsupported extension, content of another format, or ``.shp`` bytes
        without their sidecars.
    """
    if suffix == "":
        fmt = {"zip": "zip", "sqlite": "gpkg", "json": "geojson"}.get(sniff(head) or "")
        if fmt is None:
            zh, en = _looks_like(head)
            supported = ", ".join(SUFFIX_FORMATS)
            msg = (
                f"{name} 没有扩展名，{zh}；请使用 {supported} 之一 "
                f"({name} has no extension and {en}; use one of {supported})"
            )
            raise InputFileError(msg)
    elif suffix in SUFFIX_FORMATS:
        fmt = SUFFIX_FORMATS[suffix]
    else:
        supported = ", ".join(SUFFIX_FORMATS)
        msg = (
            f"{name}：不支持的文件类型 {suffix}；请使用 {supported} 之一 "
            f"({name}: unsupported file type {suffix}; use one of {supported})"
        )
        raise InputFileError(msg)
    if fmt == "shapefile" and not is_path:
        msg = (
            f"{name}：单独的 .shp 没有属性表和坐标系；请把它与 .shx、.dbf、.prj 一起压缩为 zip "
            f"({name}: a .shp alone has no attributes or CRS; zip it with its .shx, .dbf and .prj)"
        )
        raise InputFileError(msg)
    check_content(fmt, head, name)
    return fmt


def _head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(HEAD_BYTES)


# --------------------------------------------------------------------------- GDAL


def _gdal_detail(exc: BaseException, path: Path, name: str) -> tuple[str, str]:
    """(Chinese, English) reason of a GDAL failure, without temporary paths."""
    text = one_line(exc, path=path, name=name)
    if "not recognized as being in a supported file format" in text or "Failed to read GeoJSON" in text:
        return "文件已损坏，或与扩展名所示的格式不符", "damaged, or not the format its extension names"
    if "file is not a database" in text or "database disk image is malformed" in text:
        return "已损坏，或不是 GeoPackage (SQLite) 文件", "damaged, or not a GeoPackage (SQLite) file"
    return "文件已损坏或格式有误", text


def gdal_call(func: Callable[..., Any], target: str, path: Path, name: str, notes: list[str],
              **kwargs: Any) -> Any:
    """Call a pyogrio function with its failures turned into one-line InputFileErrors.

    Warnings GDAL raises on the way (an unreadable geometry, an odd header)
    are collected into ``notes`` instead of escaping to the caller, where a
    test run with warnings as errors, or a GDAL error handler, would trip on them.

    Parameters
    ----------
    func : callable
        ``pyogrio.read_dataframe``, ``read_info``, ``list_layers`` or ``raw.read``.
    target : str
        What GDAL opens: the temporary path, with its driver's prefix.
    path : pathlib.Path
        The temporary file, to keep its name out of messages.
    name : str
        The user's name of the file.
    notes : list of str
        Where warnings go.
    **kwargs
        Passed to ``func``.
    """
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        try:
            result = func(target, **kwargs)
        except UnicodeDecodeError as exc:
            msg = f"无法读取 {name}：文字不是 {exc.encoding} 编码 (cannot read {name}: its text is not {exc.encoding})"
            raise InputFileError(msg) from None
        except _GDAL_FAILURES as exc:
            zh, en = _gdal_detail(exc, path, name)
            msg = f"无法读取 {name}：{zh} (cannot read {name}: {en})"
            raise InputFileError(msg) from None
    for w in caught:
        said = one_line(w.message, path=path, name=name)
        notes.append(f"{name}：GDAL 提示 {said} ({name}: GDAL warning: {said})")
    return result


def _check_shape(info: dict[str, Any], name: str) -> None:
    """Refuse a layer GDAL reports as too large before it is read: too many features or columns."""
    check_feature_count(name, int(info.get("features") or 0))
    fields: Any = info.get("fields")
    n_fields = 0 if fields is None else len(fields)
    if n_fields > settings.MAX_CSV_COLUMNS:
        limit = settings.MAX_CSV_COLUMNS
        msg = (f"{name} 有 {n_fields:,} 列，超过上限 {limit:,} 列 "
               f"({name} has {n_fields:,} columns; the limit is {limit:,})")
        raise InputFileError(msg)


def _read_frame(target: str, path: Path, name: str, notes: list[str], **kwargs: Any) -> gpd.GeoDataFrame:
    gdf = gdal_call(pyogrio.read_dataframe, target, path, name, notes, on_invalid="warn", **kwargs)
    if not isinstance(gdf, gpd.GeoDataFrame):
        msg = f"无法读取 {name}：没有几何列 (cannot read {name}: it has no geometry column)"
        raise InputFileError(msg)
    return gdf


def _check_driver(info: dict[str, Any], fmt: str, name: str) -> None:
    """Belt and braces: the driver GDAL used is the one the extension names."""
    used = str(info.get("driver"))
    if used != GDAL_DRIVERS[fmt]:
        msg = (
            f"{name} 被 GDAL 识别为 {used} 而不是 {GDAL_DRIVERS[fmt]}，已拒绝 "
            f"({name} was recognised by GDAL as {used}, not {GDAL_DRIVERS[fmt]}; refused)"
        )
        raise InputFileError(msg)


# --------------------------------------------------------------------------- GeoJSON


def read_geojson(path: Path, name: str, opts: ReadOptions, notes: list[str]) -> tuple[gpd.GeoDataFrame, str | None]:
    """A GeoJSON file with GDAL's GeoJSON driver (RFC 7946: WGS-84 unless an old ``crs`` member says otherwise).

    Raises
    ------
    InputFileError
        Not GeoJSON, a ``crs`` linking to a file or URL, or damaged.
    """
    check_content("geojson", _head(path), name)
    blob = path.read_bytes()
    _check_geojson_columns(blob, name)
    if _CRS_LINK.search(blob):
        msg = (
            f"{name} 的 crs 链接到外部文件或网址，planatlas 不读取链接；请删除 crs 或改用坐标系名称 "
            f"({name}: its crs links to a file or URL, which planatlas does not follow; "
            "remove it or name the CRS)"
        )
        raise InputFileError(msg)
    return _read_frame(f"GeoJSON:{path}", path, name, notes), None


def _check_geojson_columns(blob: bytes, name: str) -> None:
    """Refuse a GeoJSON whose features hold more than :data:`~spatial.settings.MAX_CSV_COLUMNS` property names.

    GDAL makes a column of every name it meets and slows down with each
    (20,000 names take it half a minute); counted here first, with Python's
    JSON reader, only when the file has more colons than the limit (each name
    needs one).

    Raises
    ------
    InputFileError
    """
    limit = settings.MAX_CSV_COLUMNS
    if blob.count(b":") <= limit:
        return
    try:
        doc = json.loads(blob)
    except (ValueError, RecursionError):
        return  # GDAL refuses it with its reason
    features = [doc] if isinstance(doc, dict) and doc.get("type") == "Feature" else (
        doc.get("features") if isinstance(doc, dict) else None)
    keys: set[str] = set()
    for feature in features if isinstance(features, list) else []:
        props = feature.get("properties") if isinstance(feature, dict) else None
        if isinstance(props, dict):
            keys.update(props)
            if len(keys) > limit:
                msg = (f"{name} 的要素属性有 {len(keys):,} 个以上不同的名称，超过上限 {limit:,} 列 "
                       f"({name}: its features have more than {limit:,} property names)")
                raise InputFileError(msg)


# --------------------------------------------------------------------------- GeoPackage


def _check_gpkg_schema(path: Path, name: str) -> None:
    """Refuse a GeoPackage holding virtual tables other than its spatial index (they can read other files)."""
    uri = path.resolve().as_uri() + "?mode=ro&immutable=1"
    try:
        con = sqlite3.connect(uri, uri=True)
        con.text_factory = bytes  # a damaged schema is not UTF-8: decoded below, never a UnicodeDecodeError
        try:
            raw = con.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL").fetchall()
        finally:
            con.close()
        rows = [(bytes(t).decode("utf-8"), bytes(q).decode("utf-8")) for t, q in raw]
    except (sqlite3.Error, UnicodeDecodeError, TypeError):
        msg = (
            f"无法读取 {name}：已损坏，或不是 GeoPackage (SQLite) 文件 "
            f"(cannot read {name}: damaged, or not a GeoPackage (SQLite) file)"
        )
        raise InputFileError(msg) from None
    for table, sql in rows:
        virtual = _CREATE_VIRTUAL.match(str(sql))
        if virtual and virtual.group(1).lower() not in _GPKG_VIRTUAL_OK:
            module = virtual.group(1)
            msg = (
                f"{name} 不安全：表 {table} 是 {module} 虚拟表，可能读取其他文件 "
                f"(unsafe GeoPackage: table {table} is a {module} virtual table, which may read other files)"
            )
            raise InputFileError(msg)


def gpkg_layers(path: Path, name: str, notes: list[str]) -> list[str]:
    """Names of the layers with geometry in a GeoPackage, in file order.

    Raises
    ------
    InputFileError
        Not a GeoPackage, damaged, or holding virtual tables that read other files.
    """
    check_content("gpkg", _head(path), name)
    _check_gpkg_schema(path, name)
    info = gdal_call(pyogrio.list_layers, f"GPKG:{path}", path, name, notes)
    return [str(n) for n, geom in info if geom is not None]


def read_gpkg(path: Path, name: str, opts: ReadOptions, notes: list[str]) -> tuple[gpd.GeoDataFrame, str | None]:
    """One layer of a GeoPackage (``opts.layer``, else the first, with a note naming the others).

    Raises
    ------
    EmptyLayerError
        No layer with geometry.
    InputFileError
        No layer ``opts.layer``, or see :func:`gpkg_layers`.
    """
    names = gpkg_layers(path, name, notes)
    if not names:
        msg = f"{name} 中没有带几何的图层 ({name} has no layer with geometry)"
        raise EmptyLayerError(msg)
    layer = opts.layer
    if layer is None:
        layer = names[0]
        if len(names) > 1:
            listed = ", ".join(names)
            notes.append(
                f"{name} 有 {len(names)} 个图层 ({listed})，已读取 {layer}；可用 layer= 选择其他图层 "
                f"({name} has {len(names)} layers ({listed}); read '{layer}'; choose another with layer=)"
            )
    elif layer not in names:
        listed = ", ".join(names)
        msg = f"{name} 中没有图层 {layer}；可选：{listed} (no layer '{layer}' in {name}; its layers are: {listed})"
        raise InputFileError(msg)
    info = gdal_call(pyogrio.read_info, f"GPKG:{path}", path, name, notes, layer=layer)
    _check_driver(info, "gpkg", name)
    _check_shape(info, name)
    return _read_frame(f"GPKG:{path}", path, name, notes, layer=layer), layer


# --------------------------------------------------------------------------- Shapefile


def read_shapefile(shp: Path, name: str, opts: ReadOptions, notes: list[str]) -> tuple[gpd.GeoDataFrame, str | None]:
    """A shapefile from its parts next to ``shp``, with the .dbf text decoded as it was written.

    Raises
    ------
    InputFileError
        A part missing, a .shp or .shx that is not a shapefile's, or damaged.
    CRSError
        No ``.prj`` and no ``opts.assumed``.
    """
    parts = sibling_files(shp)
    missing = [ext for ext in _SHAPEFILE_REQUIRED if ext not in parts]
    if missing:
        zh = "、".join(f"{ext} ({_SHAPEFILE_REQUIRED[ext][0]})" for ext in missing)
        en = ", ".join(f"{ext} ({_SHAPEFILE_REQUIRED[ext][1]})" for ext in missing)
        msg = (
            f"Shapefile {name} 不完整：缺少 {zh}；请把各部分一起压缩 "
            f"(shapefile {name} is incomplete: missing {en}; zip all its parts together)"
        )
        raise InputFileError(msg)
    for ext in (".shp", ".shx"):
        check_content("shapefile", _head(parts[ext]), f"{name} ({ext})")
    if ".prj" not in parts and opts.assumed is None:
        msg = (
            f"Shapefile {name} 缺少 .prj，坐标系未知；请补上 .prj，或用 assume_crs= 说明坐标系 (经纬度为 'EPSG:4326') "
            f"(shapefile {name} has no .prj, so its CRS is unknown; add the .prj or give assume_crs=)"
        )
        raise CRSError(msg)
    target = str(parts[".shp"])
    encoding = opts.encoding or dbf_encoding(parts[".dbf"], parts.get(".cpg"), name, notes)
    info = gdal_call(pyogrio.read_info, target, shp, name, notes, encoding=encoding)
    _check_driver(info, "shapefile", name)
    _check_shape(info, name)
    fields = [str(f) for f in info["fields"]]
    if len(set(fields)) == len(fields):
        return _read_frame(target, shp, name, notes, encoding=encoding), None
    # A .dbf can repeat a field name (10-character names truncated by some
    # tools); read_dataframe then keeps one column's values under both names,
    # so the raw arrays are taken by position instead.
    meta, _, wkb, values = gdal_call(pyogrio.raw.read, target, shp, name, notes, encoding=encoding)
    attrs = pd.DataFrame(dict(enumerate(values)))
    attrs.columns = pd.Index([str(f) for f in meta["fields"]])
    geoms = shapely.from_wkb(wkb, on_invalid="ignore")
    return gpd.GeoDataFrame(attrs, geometry=geoms, crs=meta["crs"]), None


def dbf_encoding(dbf: Path, cpg: Path | None, name: str, notes: list[str]) -> str:
    """Text encoding of a .dbf: its .cpg if the text decodes with it, else UTF-8, GBK, GB18030.

    GDAL falls back to ISO-8859-1 when there is no .cpg, which turns Chinese
    names into mojibake without any error; so the bytes are tried here.

    Returns
    -------
    str
        A Python codec name (``"latin-1"`` when nothing fits, with a note).
    """
    sample = _dbf_text_sample(dbf)
    declared = _cpg_codec(cpg) if cpg is not None else None
    if cpg is not None and declared is None:
        notes.append(
            f"{name}：.cpg 写的代码页无法识别，已改为推测文字编码 "
            f"({name}: the .cpg names an unknown code page; guessed the text encoding instead)"
        )
    candidates = ([declared] if declared else []) + ["utf-8", "gbk", "gb18030"]
    for enc in dict.fromkeys(candidates):
        try:
            sample.decode(enc)
        except UnicodeDecodeError:
            continue
        if declared and enc != declared:
            notes.append(
                f"{name}：.cpg 写明 {declared}，但文字不是该编码；已按 {enc.upper()} 读取 "
                f"({name}: the .cpg says {declared} but the text is not; read it as {enc.upper()})"
            )
        elif not declared and enc != "utf-8":
            notes.append(
                f"{name}：没有 .cpg 文件，文字编码推测为 {enc.upper()} "
                f"({name}: no .cpg file; text encoding guessed as {enc.upper()})"
            )
        return enc
    notes.append(
        f"{name}：无法识别文字编码，部分名称可能是乱码 "
        f"({name}: the text encoding could not be recognised; some names may be garbled)"
    )
    return "latin-1"


def _dbf_text_sample(dbf: Path, *, limit: int = 4 * 1024 * 1024) -> bytes:
    """Field names and the first records of a .dbf, cut on a record boundary (``limit`` bytes of records)."""
    with dbf.open("rb") as fh:
        raw = fh.read(limit + 65536)
    if len(raw) < 32:
        return b""
    header_len = int.from_bytes(raw[8:10], "little")
    record_len = max(int.from_bytes(raw[10:12], "little"), 1)
    names = b" ".join(raw[o:o + 11].split(b"\x00")[0] for o in range(32, max(header_len - 1, 32), 32))
    n_records = max(0, min(len(raw), header_len + limit) - header_len) // record_len
    records = raw[header_len:header_len + n_records * record_len]
    return names + b" " + records


def _cpg_codec(cpg: Path) -> str | None:
    """Python codec named by a .cpg file (``936`` -> ``gbk``), or None for an unknown one."""
    text = cpg.read_bytes()[:100].decode("ascii", "ignore").strip().lower()
    digits = re.sub(r"^(ansi|cp|windows-?)\s*", "", text)
    if digits.isdigit():
        text = {"65001": "utf-8", "936": "gbk", "54936": "gb18030"}.get(digits, f"cp{digits}")
    if text in {"gb2312", "euc-cn"}:
        text = "gbk"  # files labelled GB2312 routinely hold GBK-only characters
    try:
        return codecs.lookup(text).name
    except LookupError:
        return None


# --------------------------------------------------------------------------- CSV


def _decode_text(blob: bytes, name: str, notes: list[str], *, encoding: str | None) -> str:
    """Text of a CSV: UTF-8 (with or without BOM), UTF-16/UTF-32 with BOM, else GBK/GB18030 (Excel in China)."""
    try:
        decoded = _encoding.decode(blob, encoding=encoding, prose=False)
    except _encoding.EncodingProblem as exc:
        msg = f"无法读取 {name}：{exc.zh} (cannot read {name}: {exc.en})"
        raise InputFileError(msg) from None
    if decoded.guessed:
        enc = decoded.label
        notes.append(f"{name}：不是 UTF-8，文字编码推测为 {enc} ({name}: not UTF-8; text encoding guessed as {enc})")
    return decoded.text


def _spreadsheet_rows(rows: npt.NDArray[np.int64]) -> str:
    """Row numbers as a spreadsheet shows them (1-based, after the header row), at most ten."""
    shown = ", ".join(str(int(r)) for r in rows[:10] + 2)
    return shown + (", ..." if len(rows) > 10 else "")


def _report_bad_rows(bad: npt.NDArray[np.bool_], name: str, why: tuple[str, str], notes: list[str]) -> None:
    """Note the rows whose coordinates could not be read; ``why`` is (Chinese, English)."""
    if bad.any():
        rows = _spreadsheet_rows(np.flatnonzero(bad))
        n = int(bad.sum())
        notes.append(
            f"{name}：{n} 行{why[0]} (表格第 {rows} 行) ({name}: {why[1]} on {n} row(s) (spreadsheet rows {rows}))"
        )


def read_csv(path: Path, name: str, opts: ReadOptions, notes: list[str]) -> tuple[gpd.GeoDataFrame, str | None]:
    """Points (or WKT geometries) from a CSV table, read by Python's csv module.

    Coordinates come from ``opts.lon_col``/``opts.lat_col``, else columns
    found by name (lon/lng/longitude/经度/x and lat/latitude/纬度/y), else an
    AMap ``location`` column (``"lon,lat"``), else a WKT column. The CRS is
    ``opts.assumed``, else EPSG:4326.

    Raises
    ------
    InputFileError
        Binary data, undecodable text, no coordinate columns, or another
        format's content.
    EmptyLayerError
        No rows.
    """
    blob = path.read_bytes()
    check_content("csv", blob[:HEAD_BYTES], name)
    if b"\x00" in blob[:4096] and not blob.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE,
                                                         codecs.BOM_UTF32_BE)):
        msg = f"无法读取 {name}：是二进制数据，不是 CSV 文本 (cannot read {name}: binary data, not a text CSV)"
        raise InputFileError(msg)
    text = _decode_text(blob, name, notes, encoding=opts.encoding)
    first = text.lstrip("\r\n").split("\n", 1)[0]
    # headers rarely contain delimiters, so the most frequent one in the header wins
    sep = max([",", "\t", ";", "|"], key=first.count)
    _check_table_shape(text, first, sep, name)
    # the csv module rather than pandas: pandas renames duplicate headers
    # silently and only warns about ragged rows; here both are reported
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
        # blank lines come out as []; a lone empty field is a blank line too
        rows = [r for r in reader if len(r) > 1 or (r and r[0].strip())]
    except csv.Error as exc:
        detail = one_line(exc)
        if "field larger than field limit" in detail:
            limit = mb(csv.field_size_limit()) if csv.field_size_limit() >= 1 << 20 else \
                f"{csv.field_size_limit() // 1024} KB"
            msg = f"无法读取 {name}：有一格超过 {limit} (cannot read {name}: a cell is larger than {limit})"
        else:
            msg = f"无法读取 {name}：CSV 格式有误 (cannot read {name}: {detail})"
        raise InputFileError(msg) from None
    if not rows:
        msg = f"{name} 是空的 ({name} is empty)"
        raise EmptyLayerError(msg)
    columns = clean_names(rows[0], name, notes)
    body = rows[1:]
    if not body:
        msg = f"{name} 只有表头，没有数据行 ({name} has a header but no rows)"
        raise EmptyLayerError(msg)
    width = len(columns)
    long_rows = np.array([i for i, r in enumerate(body) if len(r) > width], dtype=np.int64)
    if len(long_rows):
        shown = _spreadsheet_rows(long_rows)
        notes.append(
            f"{name}：{len(long_rows)} 行的值多于表头，多出的值已忽略 (表格第 {shown} 行) "
            f"({name}: {len(long_rows)} row(s) had more values than the header; the extra values were ignored "
            f"(rows {shown}))"
        )
    if any(len(r) != width for r in body):
        body = [(r + [""] * (width - len(r)))[:width] for r in body]
    df = pd.DataFrame(body, columns=columns, dtype=object).apply(lambda c: c.str.strip())
    geoms, used = _csv_geometry(df, name, opts, notes)
    attrs = df.drop(columns=list(used)).replace("", None)
    attrs = attrs.apply(_maybe_numeric)
    # an attribute called "geometry" would be overwritten by the points
    attrs.columns = pd.Index(clean_names([str(c) for c in attrs.columns], name, notes, reserved=("geometry",)))
    crs = opts.assumed if opts.assumed is not None else CRS.from_epsg(4326)
    return gpd.GeoDataFrame(attrs, geometry=geoms, crs=crs), None


def _check_table_shape(text: str, header: str, sep: str, name: str) -> None:
    """Refuse a table too wide or too long before it is parsed (a million columns would take hours).

    Counted on the raw text: delimiters of the header line (quoted ones
    included, so a table is never let through by undercounting) and line breaks.

    Raises
    ------
    InputFileError
    """
    columns = header.count(sep) + 1
    if columns > settings.MAX_CSV_COLUMNS:
        limit = settings.MAX_CSV_COLUMNS
        msg = (f"{name} 的表头有 {columns:,} 列，超过上限 {limit:,} 列 "
               f"({name} has {columns:,} columns in its header; tables are limited to {limit:,})")
        raise InputFileError(msg)
    check_feature_count(name, text.count("\n"))


def _wkt_too_deep(text: object) -> bool:
    """Whether a WKT text nests its brackets deeper than GEOS's recursive reader can safely take."""
    if not isinstance(text, str) or text.count("(") <= _WKT_MAX_DEPTH:
        return False
    depth = deepest = 0
    for ch in text:
        if ch == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif ch == ")":
            depth -= 1
    return deepest > _WKT_MAX_DEPTH


def _maybe_numeric(col: pd.Series) -> pd.Series:
    """Numbers as numbers, unless that would lose text such as leading zeros ("0531")."""
    values = col.dropna()
    if values.empty:
        return col
    num = pd.to_numeric(values, errors="coerce")
    if num.isna().any() or values.str.match(r"^[+-]?0\d").any():
        return col
    return pd.to_numeric(col)


def _find_column(columns: list[str], wanted: tuple[str, ...]) -> str | None:
    """The first column whose name, lower-cased without spaces and ``_``, is in ``wanted``."""
    keyed = {c.lower().replace(" ", "").replace("_", ""): c for c in reversed(columns)}
    for w in wanted:
        hit = keyed.get(w.replace("_", ""))
        if hit is not None:
            return hit
    return None


def _numbers(col: pd.Series) -> npt.NDArray[np.float64]:
    """Floats of a text column; NaN where there is no number."""
    text = col.astype("string").str.strip()
    values: npt.NDArray[np.float64] = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    # full-width digits and signs (typed with a Chinese IME) read as ASCII; only
    # the few cells that failed are normalised, since this runs per cell
    retry = np.isnan(values) & text.fillna("").str.len().gt(0).to_numpy()
    if retry.any():
        fixed = text[retry].map(lambda v: unicodedata.normalize("NFKC", v))
        values[retry] = pd.to_numeric(fixed, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return values


def _points(lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64], index: pd.Index) -> gpd.GeoSeries:
    """Points of finite (lon, lat) pairs; None where either is missing."""
    ok = np.isfinite(lon) & np.isfinite(lat)
    geoms = np.asarray(shapely.points(np.where(ok, lon, 0.0), np.where(ok, lat, 0.0)), dtype=object)
    geoms[~ok] = None
    return gpd.GeoSeries(geoms, index=index)


def _csv_geometry(df: pd.DataFrame, name: str, opts: ReadOptions,
                  notes: list[str]) -> tuple[gpd.GeoSeries, tuple[str, ...]]:
    """Geometry of each row and the columns it came from."""
    cols = [str(c) for c in df.columns]
    lon_col, lat_col = opts.lon_col, opts.lat_col
    if lon_col is not None and lat_col is not None:
        for c in (lon_col, lat_col):
            if c not in cols:
                listed = ", ".join(cols)
                msg = f"{name} 中没有列 {c}；现有列：{listed} ({name} has no column '{c}'; its columns are: {listed})"
                raise InputFileError(msg)
    else:
        lon_col, lat_col = _find_column(cols, _LON_NAMES), _find_column(cols, _LAT_NAMES)
    if lon_col is not None and lat_col is not None:
        lon, lat = _numbers(df[lon_col]), _numbers(df[lat_col])
        bad = ~(np.isfinite(lon) & np.isfinite(lat))
        _report_bad_rows(bad, name, (f"的 {lon_col}/{lat_col} 列没有可用数字", f"no usable numbers in "
                                     f"'{lon_col}'/'{lat_col}'"), notes)
        return _points(lon, lat, df.index), (lon_col, lat_col)
    loc = _find_column(cols, _LOCATION_NAMES)
    if loc is not None:
        # AMap: "117.000123,36.650456" (lon first); some tools use ";" or a space
        parts = df[loc].astype(str).str.strip().str.split(r"\s*[,;，\s]\s*", n=1, expand=True, regex=True)
        if parts.shape[1] < 2:
            parts[1] = None
        lon, lat = _numbers(parts[0]), _numbers(parts[1])
        bad = ~(np.isfinite(lon) & np.isfinite(lat))
        _report_bad_rows(bad, name, (f"的 {loc} 列没有“经度,纬度”数对", f"no 'lon,lat' pair in '{loc}'"), notes)
        return _points(lon, lat, df.index), (loc,)
    wkt = _find_column(cols, _WKT_NAMES)
    if wkt is not None:
        texts = df[wkt].where(df[wkt].str.strip() != "", None)
        deep = texts.map(_wkt_too_deep).to_numpy(dtype=bool)
        if deep.any() and deep.sum() == texts.notna().sum():
            msg = (f"{name} 的 {wkt} 列几何嵌套超过 {_WKT_MAX_DEPTH} 层，无法读取 "
                   f"({name}: the WKT in '{wkt}' nests deeper than {_WKT_MAX_DEPTH} levels)")
            raise InputFileError(msg)
        if deep.any():
            _report_bad_rows(deep, name, (f"的 {wkt} 列几何嵌套超过 {_WKT_MAX_DEPTH} 层，已忽略",
                                          f"WKT in '{wkt}' nested deeper than {_WKT_MAX_DEPTH} levels, ignored"), notes)
            texts = texts.where(~deep, None)
        geoms = shapely.from_wkt(texts.to_numpy(dtype=object), on_invalid="ignore")
        bad = np.asarray(pd.isna(geoms) & texts.notna().to_numpy(), dtype=bool)
        _report_bad_rows(bad, name, (f"的 {wkt} 列无法解析为 WKT", f"unreadable WKT in '{wkt}'"), notes)
        return gpd.GeoSeries(geoms, index=df.index), (wkt,)
    listed = ", ".join(cols)
    msg = (
        f"{name}：在列 {listed} 中找不到坐标列；请命名为 lon/lat (或 lng、longitude、经度 / latitude、纬度)，"
        f"或传 lon_col= 与 lat_col= ({name}: no coordinate columns found among {listed}; name them lon/lat, "
        "or give lon_col= and lat_col=)"
    )
    raise InputFileError(msg)


#: Format -> its reader (a zip is unpacked first; its members have one of these).
READERS: dict[str, Reader] = {
    "geojson": read_geojson, "gpkg": read_gpkg, "shapefile": read_shapefile, "csv": read_csv,
}
