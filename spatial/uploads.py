"""Safe reading of user files: uploads in the app and files given to the CLI.

A planner's file arrives as bytes (a Streamlit upload) or a path (the CLI). It
may be a GeoJSON, a GeoPackage, a zipped Shapefile or a CSV of points, in
WGS-84, GCJ-02 (AMap/Gaode, Tencent) or BD-09 (Baidu), written by Excel in GBK
or by QGIS in UTF-8. :func:`read_upload` turns any of them into one
GeoDataFrame in EPSG:4326 (WGS-84), or refuses with one clear line.

What is checked, in order:

1. size, before anything is parsed (:data:`settings.MAX_UPLOAD_BYTES`);
2. zip archives: no member may leave the unpacking folder (``..``, absolute
   paths, drive letters, symlinks) and the archive may not unpack to far more
   than it weighs (member count, total size, compression ratio);
3. shapefiles: the ``.shp``, ``.shx`` and ``.dbf`` parts are all there, the
   ``.prj`` too (or ``assume_crs=`` is given), text is decoded with the
   ``.cpg`` code page or, failing that, UTF-8, GBK or GB18030;
4. the layer has features and a CRS; it is reprojected to EPSG:4326;
5. coordinates are degrees, in latitude/longitude order, inside China
   (unless ``allow_outside_china=True``);
6. invalid geometries are repaired with :func:`shapely.make_valid`;
7. GCJ-02 and BD-09 coordinates are converted to WGS-84.

Everything that was changed on the way is listed in
:attr:`UploadResult.warnings` in plain language, so the app can show it.
Every file is unpacked into a :class:`tempfile.TemporaryDirectory` that is
removed whatever happens. Text inside the file is data: it is not escaped here
(the map layer escapes it), only control characters are removed from column
names.
"""

from __future__ import annotations

import codecs
import csv
import io
import lzma
import os
import re
import shutil
import stat
import tempfile
import unicodedata
import warnings as _warnings
import zipfile
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import pyogrio.raw
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError as _ProjCRSError

from . import settings
from ._errors import CRSError, EmptyLayerError, InputFileError
from .datum import convert_frame, normalise_datum

__all__ = [
    "SUPPORTED_UPLOADS",
    "UploadResult",
    "describe_limits",
    "list_layers",
    "read_upload",
]

#: File extensions the app's upload widget accepts. The CLI also reads a
#: ``.shp`` path directly (its sidecar files are picked up next to it).
SUPPORTED_UPLOADS: tuple[str, ...] = (".geojson", ".json", ".gpkg", ".zip", ".csv")

#: Most members a zip archive may hold (a shapefile has 4-8 parts; a folder of
#: a few dozen layers is still far below this).
ZIP_MAX_MEMBERS: int = 200

#: Most bytes a zip archive may unpack to, all members together.
ZIP_MAX_TOTAL_BYTES: int = 500 * 1024 * 1024

#: Highest compression ratio (unpacked / packed) of a member larger than
#: :data:`ZIP_RATIO_MIN_BYTES`. Real .dbf files with blank padding reach
#: 20-50; zip bombs reach 1000 and more.
ZIP_MAX_RATIO: float = 100.0

#: Members smaller than this are not ratio-checked: a tiny .prj or .cpg can
#: compress oddly and can do no harm.
ZIP_RATIO_MIN_BYTES: int = 1024 * 1024

#: Coarse box of mainland China (and its seas), lon/lat degrees; the same box
#: inside which GCJ-02 differs from WGS-84 (see :func:`spatial.datum.in_china`).
CHINA_BOUNDS: tuple[float, float, float, float] = (72.004, 0.8293, 137.8347, 55.8271)

# Column names (lower-cased, spaces removed) read as longitude / latitude, in
# order of preference: an explicit "lon" wins over a generic "x".
_LON_NAMES = (
    "lon", "lng", "long", "longitude", "经度", "wgs84_lon", "gcj02_lon", "x", "point_x", "x坐标",
)
_LAT_NAMES = ("lat", "latitude", "纬度", "wgs84_lat", "gcj02_lat", "y", "point_y", "y坐标")
# Columns holding "lon,lat" in one string, as AMap (Gaode) exports do.
_LOCATION_NAMES = ("location", "lnglat", "lonlat", "经纬度", "坐标")
# Columns holding WKT geometries (as planatlas's own gazetteer does).
_WKT_NAMES = ("wkt", "geometry", "geom", "the_geom")

_SHAPEFILE_REQUIRED = (".shp", ".shx", ".dbf")
_SQLITE_MAGIC = b"SQLite format 3\x00"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_CHUNK = 1024 * 1024
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")

PathLike = str | os.PathLike


@dataclass
class UploadResult:
    """A user's file, read and checked.

    Attributes
    ----------
    frame : geopandas.GeoDataFrame
        Features in EPSG:4326 (WGS-84 longitude/latitude, degrees), geometry
        column ``geometry``, index 0..n-1.
    warnings : list of str
        Plain-language notes on everything changed or guessed while reading
        (repaired geometries, dropped rows, renamed columns, encodings...).
    source_name : str
        The file's name as the user gave it (control characters removed).
    source_datum : str
        Datum the coordinates were in before conversion: ``WGS84``, ``GCJ02``
        or ``BD09``.
    n_features : int
        Number of features in :attr:`frame`.
    layer : str or None
        Layer read (GeoPackage layer or shapefile name inside a zip).
    format : str
        ``geojson``, ``gpkg``, ``shapefile`` or ``csv``.
    """

    frame: gpd.GeoDataFrame
    warnings: list[str]
    source_name: str
    source_datum: str
    n_features: int
    layer: str | None = None
    format: str = ""


@dataclass
class _Source:
    """Where the bytes are and what the user called them."""

    name: str  # display name, safe to print
    suffix: str  # lower-case extension of the user's name
    head: bytes  # first bytes, for format sniffing
    path: Path | None = None  # a file on disk (CLI)
    data: bytes | None = None  # bytes in memory (upload)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Options:
    """What the user told :func:`read_upload` about the file."""

    layer: str | None = None
    assumed: CRS | None = None
    lon_col: str | None = None
    lat_col: str | None = None
    encoding: str | None = None


# --------------------------------------------------------------------------- public


def describe_limits(*, max_bytes: int | None = None, lang: str = "en") -> str:
    """Short text telling a user what files are accepted (for the app and ``--help``).

    Parameters
    ----------
    max_bytes : int, optional
        Size limit to quote, bytes (default :data:`settings.MAX_UPLOAD_BYTES`).
    lang : {"en", "zh"}
        Language of the text (the app speaks Chinese).
    """
    limit = settings.MAX_UPLOAD_BYTES if max_bytes is None else max_bytes
    if lang == "zh":
        return (
            "可上传：GeoJSON (.geojson, .json)、GeoPackage (.gpkg)、压缩的 Shapefile "
            "(.zip，含 .shp、.shx、.dbf、.prj)、带经纬度列的 CSV (lon/lng/经度 与 lat/纬度，或高德的 "
            f"location 列)。单个文件不超过 {_mb(limit)}；压缩包最多 {ZIP_MAX_MEMBERS} 个文件、解压后不超过 "
            f"{_mb(ZIP_MAX_TOTAL_BYTES)}。坐标须在中国境内；请说明坐标系：WGS-84 (GPS、OpenStreetMap、"
            "天地图)、GCJ-02 (高德、腾讯) 或 BD-09 (百度)。"
        )
    return (
        "Accepted files: GeoJSON (.geojson, .json), GeoPackage (.gpkg), zipped Shapefile "
        "(.zip with .shp, .shx, .dbf and .prj) and CSV with longitude/latitude columns "
        "(lon/lng/经度 and lat/纬度, or an AMap 'location' column). "
        f"Up to {_mb(limit)} per file; a zip may hold up to {ZIP_MAX_MEMBERS} files and unpack "
        f"to {_mb(ZIP_MAX_TOTAL_BYTES)}. Coordinates must lie in China; say whether they are "
        "WGS-84 (GPS, OpenStreetMap, Tianditu), GCJ-02 (AMap/Gaode, Tencent) or BD-09 (Baidu)."
    )


def list_layers(
    data: bytes | PathLike | BinaryIO,
    *,
    filename: str | None = None,
    max_bytes: int | None = None,
) -> list[str]:
    """Names of the layers a file holds, for a layer picker.

    GeoPackage: its tables with geometry. Zip: the shapefiles (by name without
    extension, with their folder inside the zip) and other readable files.
    GeoJSON and CSV: one layer, the file's stem.

    Parameters
    ----------
    data : bytes, path or binary file object
        The file.
    filename : str, optional
        The user's file name (needed for bytes; defaults to the path's name).
    max_bytes : int, optional
        Size limit, bytes (default :data:`settings.MAX_UPLOAD_BYTES`).
    """
    src = _open_source(data, filename=filename, max_bytes=max_bytes)
    fmt = _detect_format(src)
    with tempfile.TemporaryDirectory(prefix="planatlas-upload-") as tmp:
        folder = Path(tmp)
        if fmt == "zip":
            return list(_zip_layers(_unzip(src, folder)))
        if fmt == "shapefile":
            return [Path(src.name).stem]
        path = _materialise(src, folder, fmt)
        if fmt == "gpkg":
            return _gpkg_layers(path, src.name)
        return [Path(src.name).stem]


def read_upload(
    data: bytes | PathLike | BinaryIO,
    *,
    filename: str | None = None,
    datum: str = "WGS84",
    max_bytes: int | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
    layer: str | None = None,
    assume_crs: str | int | CRS | None = None,
    allow_outside_china: bool = False,
    encoding: str | None = None,
) -> UploadResult:
    """Read a user's GeoJSON, GeoPackage, zipped Shapefile or CSV safely.

    Parameters
    ----------
    data : bytes, path or binary file object
        The file: bytes from an upload widget (or an object with
        ``getvalue()``/``read()``), or a path given to the CLI. A ``.shp`` path
        is read together with the sidecar files next to it.
    filename : str, optional
        Name the user gave the file; it decides the format together with the
        first bytes, and names the file in messages. Required for bytes;
        defaults to the path's name.
    datum : str, default ``"WGS84"``
        Datum the coordinates are in: ``WGS84``, ``GCJ02`` (AMap/Gaode,
        Tencent) or ``BD09`` (Baidu); aliases such as ``"amap"`` work.
        GCJ-02 and BD-09 are converted to WGS-84.
    max_bytes : int, optional
        Largest file accepted, bytes (default :data:`settings.MAX_UPLOAD_BYTES`).
        Checked before the file is read.
    lon_col, lat_col : str, optional
        CSV columns holding longitude and latitude (degrees, or the units of
        ``assume_crs``). By default found by name (lon/lng/longitude/经度/x and
        lat/latitude/纬度/y), else an AMap ``location`` column ("lon,lat"),
        else a WKT column.
    layer : str, optional
        GeoPackage layer, or shapefile name inside a zip (default: the first).
    assume_crs : str, int or pyproj.CRS, optional
        CRS to use when the file declares none (a shapefile without ``.prj``,
        a GeoPackage layer without SRS, CSV x/y in metres). Ignored, with a
        warning, when the file declares its own.
    allow_outside_china : bool, default False
        Accept features outside China (e.g. test data elsewhere); otherwise
        they are refused, since they are almost always swapped or wrongly
        projected coordinates.
    encoding : str, optional
        Text encoding of a CSV or a shapefile's .dbf, when the guess (the
        ``.cpg``, else UTF-8, GBK, GB18030) is wrong, e.g. ``"big5"``.

    Returns
    -------
    UploadResult

    Raises
    ------
    InputFileError
        Too large, unsafe or malformed file, unknown format, implausible
        coordinates (swapped, outside China).
    CRSError
        No CRS and no ``assume_crs``, or coordinates that cannot be degrees.
    EmptyLayerError
        No features with geometry.
    DatumError
        Unknown ``datum`` name.
    """
    src_datum = normalise_datum(datum)  # fail on a bad name before reading anything
    assumed = _parse_assume_crs(assume_crs)
    if (lon_col is None) != (lat_col is None):
        raise InputFileError("give both lon_col and lat_col, or neither to detect them by name")
    if encoding is not None:
        try:
            encoding = codecs.lookup(encoding).name
        except LookupError:
            raise InputFileError(f"unknown text encoding {encoding!r} (try 'utf-8' or 'gbk')") from None
    opts = _Options(layer=layer, assumed=assumed, lon_col=lon_col, lat_col=lat_col, encoding=encoding)
    src = _open_source(data, filename=filename, max_bytes=max_bytes)
    fmt = _detect_format(src)
    notes = src.notes
    with tempfile.TemporaryDirectory(prefix="planatlas-upload-") as tmp:
        folder = Path(tmp)
        if fmt == "zip":
            gdf, fmt, layer_name = _read_zip(src, folder, opts, notes)
        elif fmt == "shapefile":
            shp = _copy_shapefile(src, folder)
            gdf = _read_shapefile(shp, src.name, opts, notes)
            layer_name = Path(src.name).stem
        else:
            path = _materialise(src, folder, fmt)
            gdf, layer_name = _read_file(path, fmt, src.name, opts, notes)
    frame = _finish(gdf, src.name, datum=src_datum, assumed=assumed,
                    allow_outside_china=allow_outside_china, notes=notes)
    return UploadResult(
        frame=frame,
        warnings=notes,
        source_name=src.name,
        source_datum=src_datum,
        n_features=len(frame),
        layer=layer_name,
        format=fmt,
    )


# --------------------------------------------------------------------------- input


def _open_source(data, *, filename: str | None, max_bytes: int | None) -> _Source:
    """Check the size, then hold the bytes (upload) or the path (CLI)."""
    limit = settings.MAX_UPLOAD_BYTES if max_bytes is None else int(max_bytes)
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        name = _display_name(filename or path.name)
        if not path.is_file():
            raise InputFileError(f"{name}: no such file")
        size = path.stat().st_size
        if path.suffix.lower() == ".shp":
            size = sum(p.stat().st_size for p in _shapefile_parts(path).values())
        _check_size(name, size, limit)
        with path.open("rb") as fh:
            head = fh.read(64)
        return _Source(name=name, suffix=_suffix(filename or path.name), head=head, path=path)
    if filename is None:
        raise InputFileError("filename= is needed to read uploaded bytes")
    name = _display_name(filename)
    if isinstance(data, (bytes, bytearray, memoryview)):
        blob = bytes(data)
    elif hasattr(data, "getvalue"):  # Streamlit UploadedFile, BytesIO
        size = getattr(data, "size", None)
        if size is not None:
            _check_size(name, int(size), limit)
        blob = bytes(data.getvalue())
    elif hasattr(data, "read"):
        # read one byte more than allowed: enough to know it is too large
        blob = data.read(limit + 1)
    else:
        raise InputFileError(f"{name}: expected bytes, a path or a file object, got {type(data).__name__}")
    _check_size(name, len(blob), limit)
    return _Source(name=name, suffix=_suffix(filename), head=blob[:64], data=blob)


def _check_size(name: str, size: int, limit: int) -> None:
    if size > limit:
        raise InputFileError(f"{name} is {_mb(size)}; files are limited to {_mb(limit)}")


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")


def _display_name(name: str) -> str:
    """Base name of a user-given file name, without control characters."""
    base = re.split(r"[\\/]", str(name))[-1]
    return _strip_controls(base) or "upload"


def _suffix(name: str) -> str:
    base = re.split(r"[\\/]", str(name))[-1]
    return PurePosixPath(base).suffix.lower()


def _strip_controls(text: str) -> str:
    # terminal escape sequences go whole (a CLI prints column names), then
    # Cc: C0/C1 controls (newlines, escapes); Cf: invisible format characters
    # (BOM, zero-width spaces, bidi overrides that make names display reversed).
    text = _ANSI_ESCAPE.sub("", text)
    return "".join(ch for ch in text if unicodedata.category(ch) not in {"Cc", "Cf"}).strip()


def _detect_format(src: _Source) -> str:
    """Format from the first bytes where they are unambiguous, else from the extension."""
    head = src.head
    if head.startswith(_ZIP_MAGICS):
        return "zip"
    if head.startswith(_SQLITE_MAGIC):
        return "gpkg"
    if src.suffix == ".shp" and src.path is not None:
        return "shapefile"
    if src.suffix == ".shp":
        raise InputFileError(
            f"{src.name}: a .shp alone has no attributes or CRS; zip it with its .shx, .dbf and .prj"
        )
    if src.suffix == ".zip":
        raise InputFileError(f"{src.name} is not a zip archive (it does not start with a zip header)")
    if src.suffix == ".gpkg":
        raise InputFileError(f"{src.name} is not a GeoPackage (it does not start with an SQLite header)")
    if src.suffix in {".geojson", ".json"}:
        return "geojson"
    if src.suffix in {".csv", ".txt"}:
        return "csv"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] in {b"{", b"["}:
        return "geojson"
    raise InputFileError(
        f"{src.name}: unsupported file type {src.suffix or '(no extension)'}; "
        f"use one of {', '.join(SUPPORTED_UPLOADS)}"
    )


def _materialise(src: _Source, folder: Path, fmt: str) -> Path:
    """Write (or copy) the file into the temporary folder under a neutral name.

    The user's name is never used as a path: it could hold ``../`` or worse.
    Paths are copied too, so GDAL never writes side files (``-wal``, ``-shm``)
    next to the user's own data. The extension follows the detected format,
    since GDAL's drivers recognise a GeoPackage partly by its extension.
    """
    target = folder / f"upload.{fmt}"
    if src.data is not None:
        target.write_bytes(src.data)
    else:
        shutil.copyfile(src.path, target)
    return target


# --------------------------------------------------------------------------- zip


def _zip_name(info: zipfile.ZipInfo) -> str:
    """Member name, re-decoded when a Chinese Windows zip tool wrote it in GBK.

    Zip names without the UTF-8 flag are cp437 by the standard; Windows tools
    in China write GBK instead, which Python shows as mojibake.
    """
    name = info.filename
    if info.flag_bits & 0x800 or name.isascii():
        return name
    try:
        raw = name.encode("cp437")
    except UnicodeEncodeError:
        return name
    for enc in ("utf-8", "gbk", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return name


def _safe_member_path(name: str, zip_name: str) -> PurePosixPath | None:
    """Relative path of a member inside the unpacking folder, or refuse it.

    Returns None for members to skip silently (folders, macOS resource forks).
    """
    norm = name.replace("\\", "/")
    shown = _strip_controls(name)
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        raise InputFileError(f"{zip_name} is unsafe: member '{shown}' has an absolute path")
    parts = [p for p in norm.split("/") if p not in {"", "."}]
    if ".." in parts:
        raise InputFileError(f"{zip_name} is unsafe: member '{shown}' points outside the archive ('..')")
    if any(_strip_controls(p) != p.strip() or ":" in p for p in parts):
        raise InputFileError(
            f"{zip_name} is unsafe: member '{shown}' has control characters or ':' in its name"
        )
    if not parts or norm.endswith("/"):
        return None
    if parts[0] == "__MACOSX" or parts[-1].startswith("._") or parts[-1] in {".DS_Store", "Thumbs.db"}:
        return None
    return PurePosixPath(*parts)


def _unzip(src: _Source, folder: Path) -> Path:
    """Unpack a zip into ``folder/unzipped`` after checking every member is safe and sane."""
    name = src.name
    try:
        zf = zipfile.ZipFile(io.BytesIO(src.data) if src.data is not None else src.path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputFileError(f"cannot read {name}: not a valid zip archive ({_one_line(exc)})") from None
    dest = folder / "unzipped"
    dest.mkdir()
    with zf:
        infos = zf.infolist()
        if len(infos) > ZIP_MAX_MEMBERS:
            raise InputFileError(
                f"{name} holds {len(infos)} files; zip uploads are limited to {ZIP_MAX_MEMBERS}"
            )
        declared = sum(i.file_size for i in infos)
        if declared > ZIP_MAX_TOTAL_BYTES:
            raise InputFileError(
                f"{name} would unpack to {_mb(declared)}; zip uploads are limited to "
                f"{_mb(ZIP_MAX_TOTAL_BYTES)} unpacked"
            )
        plan: list[tuple[zipfile.ZipInfo, PurePosixPath]] = []
        for info in infos:
            member = _zip_name(info)
            rel = _safe_member_path(member, name)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                shown = _strip_controls(member)
                raise InputFileError(f"{name} is unsafe: member '{shown}' is a symbolic link")
            if rel is None or info.is_dir():
                continue
            if info.flag_bits & 0x1:
                raise InputFileError(f"{name} is password-protected; upload an unencrypted zip")
            if info.file_size >= ZIP_RATIO_MIN_BYTES:
                ratio = info.file_size / max(info.compress_size, 1)
                if ratio > ZIP_MAX_RATIO:
                    raise InputFileError(
                        f"{name} looks like a zip bomb: '{rel}' is compressed {ratio:,.0f} to 1 "
                        f"(at most {ZIP_MAX_RATIO:,.0f} to 1 is accepted)"
                    )
            # lower-case the extension: GDAL looks for sidecars as .shx/.SHX, not .Shx
            rel = rel.with_name(rel.stem + rel.suffix.lower()) if rel.suffix else rel
            plan.append((info, rel))
        written = 0
        for info, rel in plan:
            target = dest.joinpath(*rel.parts)
            # belt and braces: the checks above already exclude escaping paths
            if not target.resolve().is_relative_to(dest.resolve()):
                raise InputFileError(f"{name} is unsafe: member '{rel}' points outside the archive")
            target.parent.mkdir(parents=True, exist_ok=True)
            # the sizes in the zip header can lie: count the bytes actually unpacked
            member_bytes = 0
            try:
                with zf.open(info) as fin, target.open("wb") as fout:
                    while chunk := fin.read(_CHUNK):
                        member_bytes += len(chunk)
                        written += len(chunk)
                        if member_bytes > info.file_size or written > ZIP_MAX_TOTAL_BYTES:
                            raise InputFileError(
                                f"{name} unpacks to more than it declares; refused as a possible zip bomb"
                            )
                        fout.write(chunk)
            # zlib.error / LZMAError: a damaged deflate or LZMA stream fails in
            # the decompressor itself, before zipfile's CRC check could turn it
            # into BadZipFile
            except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, OSError, EOFError,
                    ValueError, NotImplementedError) as exc:
                if isinstance(exc, InputFileError):
                    raise
                raise InputFileError(
                    f"cannot read {name}: member '{rel}' is damaged ({_one_line(exc)})"
                ) from None
    return dest


def _zip_layers(root: Path) -> dict[str, tuple[str, Path]]:
    """Readable things inside an unpacked zip: name -> (format, path)."""
    found: dict[str, tuple[str, Path]] = {}
    kinds = {".shp": "shapefile", ".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg", ".csv": "csv"}
    # shapefile groups are keyed by any of their parts, so a zip missing its
    # .shp still shows up (and is refused with the missing part named)
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        ext = path.suffix.lower()
        rel = path.relative_to(root).with_suffix("").as_posix()
        if ext in {".shp", ".shx", ".dbf"}:
            found.setdefault(rel, ("shapefile", path.with_suffix(".shp")))
        elif ext in kinds:
            found.setdefault(rel if rel not in found else rel + ext, (kinds[ext], path))
    return found


def _read_zip(src: _Source, folder: Path, opts: _Options, notes: list[str]):
    root = _unzip(src, folder)
    layers = _zip_layers(root)
    if not layers:
        raise InputFileError(f"{src.name} holds no shapefile, GeoJSON, GeoPackage or CSV")
    layer = opts.layer
    if layer is None:
        key = next(iter(layers))
        if len(layers) > 1:
            notes.append(
                f"{src.name} holds {len(layers)} layers ({', '.join(layers)}); read '{key}'. "
                "Choose another with layer=."
            )
    else:
        key = next((k for k in layers if k == layer or Path(k).name == layer), None)
        if key is None:
            raise InputFileError(f"no layer '{layer}' in {src.name}; it holds: {', '.join(layers)}")
    kind, path = layers[key]
    shown = f"{src.name}:{key}"
    if kind == "shapefile":
        return _read_shapefile(path, shown, opts, notes), "shapefile", key
    gdf, _ = _read_file(path, kind, shown, replace(opts, layer=None), notes)
    return gdf, kind, key


# --------------------------------------------------------------------------- shapefile


def _shapefile_parts(shp: Path) -> dict[str, Path]:
    """Sidecar files of a shapefile found next to it, any case: ext -> path."""
    parts: dict[str, Path] = {}
    if not shp.parent.is_dir():
        return parts
    stem = shp.stem.lower()
    for p in shp.parent.iterdir():
        if p.is_file() and p.stem.lower() == stem and p.suffix:
            parts.setdefault(p.suffix.lower(), p)
    return parts


def _copy_shapefile(src: _Source, folder: Path) -> Path:
    """Copy a ``.shp`` path and its sidecars into the temporary folder."""
    for ext, part in _shapefile_parts(src.path).items():
        shutil.copyfile(part, folder / f"upload{ext}")
    return folder / "upload.shp"


def _read_shapefile(shp: Path, name: str, opts: _Options, notes: list[str]) -> gpd.GeoDataFrame:
    parts = _shapefile_parts(shp)
    missing = [ext for ext in _SHAPEFILE_REQUIRED if ext not in parts]
    if missing:
        what = {".shp": "geometry", ".shx": "index", ".dbf": "attribute table"}
        listed = ", ".join(f"{ext} ({what[ext]})" for ext in missing)
        raise InputFileError(
            f"shapefile {name} is incomplete: missing {listed}; zip all its parts together"
        )
    if ".prj" not in parts and opts.assumed is None:
        raise CRSError(
            f"shapefile {name} has no .prj, so its CRS is unknown; add the .prj or say which CRS "
            "it is in with assume_crs= (e.g. 'EPSG:4326' for longitude/latitude)"
        )
    encoding = opts.encoding or _dbf_encoding(parts[".dbf"], parts.get(".cpg"), name, notes)
    fields = list(_gdal_call(pyogrio.read_info, shp, name, notes, encoding=encoding)["fields"])
    if len(set(fields)) == len(fields):
        return _pyogrio_read(shp, name, encoding=encoding, notes=notes)
    # A .dbf can repeat a field name (10-character names truncated by some
    # tools); read_dataframe then keeps one column's values under both names,
    # so the raw arrays are taken by position instead.
    meta, _, wkb, values = _gdal_call(pyogrio.raw.read, shp, name, notes, encoding=encoding)
    attrs = pd.DataFrame(dict(enumerate(values)))
    attrs.columns = [str(f) for f in meta["fields"]]
    geoms = shapely.from_wkb(wkb, on_invalid="ignore")
    return gpd.GeoDataFrame(attrs, geometry=geoms, crs=meta["crs"])


def _dbf_encoding(dbf: Path, cpg: Path | None, name: str, notes: list[str]) -> str:
    """Text encoding of a .dbf: its .cpg if the text decodes with it, else UTF-8, GBK, GB18030.

    GDAL falls back to ISO-8859-1 when there is no .cpg, which turns Chinese
    names into mojibake without any error; so the bytes are checked here.
    """
    sample = _dbf_text_sample(dbf)
    declared = _cpg_codec(cpg) if cpg is not None else None
    if cpg is not None and declared is None:
        notes.append(f"{name}: the .cpg names an unknown code page; guessed the text encoding instead")
    candidates = ([declared] if declared else []) + ["utf-8", "gbk", "gb18030"]
    for enc in dict.fromkeys(candidates):
        try:
            sample.decode(enc)
        except UnicodeDecodeError:
            continue
        if declared and enc != declared:
            notes.append(f"{name}: the .cpg says {declared} but the text is not; read it as {enc.upper()}")
        elif not declared and enc != "utf-8":
            notes.append(f"{name}: no .cpg file; text encoding guessed as {enc.upper()}")
        return enc
    notes.append(f"{name}: text encoding could not be recognised; some names may be garbled")
    return "latin-1"


def _dbf_text_sample(dbf: Path, *, limit: int = 4 * 1024 * 1024) -> bytes:
    """Field names and the first records of a .dbf, cut on a record boundary."""
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


# --------------------------------------------------------------------------- other formats


def _read_file(path: Path, fmt: str, name: str, opts: _Options, notes: list[str]):
    """Read a GeoJSON, GeoPackage or CSV at ``path``; returns (frame, layer name)."""
    if fmt == "csv":
        return _read_csv(path.read_bytes(), name, opts, notes), Path(name).stem
    layer = opts.layer
    if fmt == "gpkg":
        names = _gpkg_layers(path, name, notes)
        if not names:
            raise EmptyLayerError(f"{name} has no layer with geometry")
        if layer is None:
            layer = names[0]
            if len(names) > 1:
                notes.append(
                    f"{name} has {len(names)} layers ({', '.join(names)}); read '{layer}'. "
                    "Choose another with layer=."
                )
        elif layer not in names:
            raise InputFileError(f"no layer '{layer}' in {name}; its layers are: {', '.join(names)}")
        return _pyogrio_read(path, name, layer=layer, notes=notes), layer
    # GeoJSON: RFC 7946 makes it WGS-84 unless an old-style "crs" member says otherwise
    return _pyogrio_read(path, name, notes=notes), Path(name).stem


_GDAL_FAILURES = (
    pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError,
    pyogrio.errors.GeometryError, pyogrio.errors.FeatureError, pyogrio.errors.CRSError,
    OSError, ValueError, RuntimeError,
)


def _gdal_call(func, path: Path, name: str, notes: list[str], **kwargs):
    """Call a pyogrio function with its failures turned into one-line InputFileErrors.

    Warnings GDAL raises on the way (an unreadable geometry, an odd header)
    are collected into ``notes`` instead of escaping to the caller, where a
    test run with warnings as errors, or a GDAL error handler, would trip on them.
    """
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        try:
            result = func(path, **kwargs)
        except UnicodeDecodeError as exc:
            raise InputFileError(f"cannot read {name}: its text is not {exc.encoding}") from None
        except _GDAL_FAILURES as exc:
            raise InputFileError(f"cannot read {name}: {_one_line(exc, path, name)}") from None
    for w in caught:
        notes.append(f"{name}: {_one_line(w.message, path, name)}")
    return result


def _gpkg_layers(path: Path, name: str, notes: list[str] | None = None) -> list[str]:
    info = _gdal_call(pyogrio.list_layers, path, name, [] if notes is None else notes)
    return [str(n) for n, geom in info if geom is not None]


def _pyogrio_read(
    path: Path, name: str, *, notes: list[str], layer: str | None = None, encoding: str | None = None
) -> gpd.GeoDataFrame:
    """Read a layer with pyogrio; see :func:`_gdal_call`."""
    gdf = _gdal_call(
        pyogrio.read_dataframe, path, name, notes, layer=layer, encoding=encoding, on_invalid="warn"
    )
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputFileError(f"cannot read {name}: it has no geometry column")
    return gdf


def _decode_text(blob: bytes, name: str, notes: list[str], *, encoding: str | None = None) -> str:
    """Text of a CSV: UTF-8 (with or without BOM), UTF-16 with BOM, else GBK/GB18030 (Excel in China)."""
    if encoding is not None:
        try:
            return blob.decode(encoding)
        except UnicodeDecodeError:
            raise InputFileError(f"cannot read {name}: the text is not {encoding}") from None
    if blob.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return blob.decode("utf-16")
        except UnicodeDecodeError:
            raise InputFileError(f"cannot read {name}: damaged UTF-16 text") from None
    for enc in ("utf-8-sig", "gbk", "gb18030"):
        try:
            text = blob.decode(enc)
        except UnicodeDecodeError:
            continue
        if enc != "utf-8-sig":
            notes.append(f"{name}: not UTF-8; text encoding guessed as {enc.upper()}")
        return text
    raise InputFileError(f"cannot read {name}: the text is neither UTF-8 nor GBK/GB18030")


def _read_csv(blob: bytes, name: str, opts: _Options, notes: list[str]) -> gpd.GeoDataFrame:
    """Points (or WKT geometries) from a CSV table."""
    if b"\x00" in blob[:4096] and not blob.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputFileError(f"cannot read {name}: binary data, not a text CSV")
    text = _decode_text(blob, name, notes, encoding=opts.encoding)
    first = text.lstrip("\r\n").split("\n", 1)[0]
    # headers rarely contain delimiters, so the most frequent one in the header wins
    sep = max([",", "\t", ";", "|"], key=first.count)
    # the csv module rather than pandas: pandas renames duplicate headers
    # silently and only warns about ragged rows; here both are reported
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
        # blank lines come out as []; a lone empty field is a blank line too
        rows = [r for r in reader if len(r) > 1 or (r and r[0].strip())]
    except csv.Error as exc:
        raise InputFileError(f"cannot read {name}: {_one_line(exc)}") from None
    if not rows:
        raise EmptyLayerError(f"{name} is empty")
    columns = _clean_names(rows[0], name, notes)
    body = rows[1:]
    if not body:
        raise EmptyLayerError(f"{name} has a header but no rows")
    width = len(columns)
    long_rows = [i + 2 for i, r in enumerate(body) if len(r) > width]
    if long_rows:
        shown = ", ".join(map(str, long_rows[:10])) + (", ..." if len(long_rows) > 10 else "")
        notes.append(f"{name}: {len(long_rows)} row(s) had more values than the header; the extra "
                     f"values were ignored (rows {shown})")
    if any(len(r) != width for r in body):
        body = [(r + [""] * (width - len(r)))[:width] for r in body]
    df = pd.DataFrame(body, columns=columns, dtype=object).apply(lambda c: c.str.strip())
    geoms, used = _csv_geometry(df, name, lon_col=opts.lon_col, lat_col=opts.lat_col, notes=notes)
    attrs = df.drop(columns=list(used)).replace("", None)
    attrs = attrs.apply(_maybe_numeric)
    # an attribute called "geometry" would be overwritten by the points
    attrs.columns = _clean_names(list(attrs.columns), name, notes, reserved=("geometry",))
    crs = opts.assumed if opts.assumed is not None else CRS.from_epsg(4326)
    return gpd.GeoDataFrame(attrs, geometry=geoms, crs=crs)


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
    keyed = {c.lower().replace(" ", "").replace("_", "") : c for c in reversed(columns)}
    for w in wanted:
        hit = keyed.get(w.replace("_", ""))
        if hit is not None:
            return hit
    return None


def _csv_geometry(df, name, *, lon_col, lat_col, notes):
    """Geometry of each row and the columns it came from."""
    cols = list(df.columns)
    if lon_col is not None:
        for c in (lon_col, lat_col):
            if c not in cols:
                raise InputFileError(f"{name} has no column '{c}'; its columns are: {', '.join(cols)}")
    else:
        lon_col, lat_col = _find_column(cols, _LON_NAMES), _find_column(cols, _LAT_NAMES)
        if lon_col is None or lat_col is None:
            lon_col = lat_col = None
    if lon_col is not None:
        lon = _numbers(df[lon_col])
        lat = _numbers(df[lat_col])
        used = (lon_col, lat_col)
        ok = np.isfinite(lon) & np.isfinite(lat)
        geoms = np.where(ok, shapely.points(np.where(ok, lon, 0.0), np.where(ok, lat, 0.0)), None)
        _report_bad_rows(~ok, name, f"no usable numbers in '{lon_col}'/'{lat_col}'", notes)
        return gpd.GeoSeries(geoms, index=df.index), used
    loc = _find_column(cols, _LOCATION_NAMES)
    if loc is not None:
        # AMap: "117.000123,36.650456" (lon first); some tools use ";" or a space
        parts = df[loc].astype(str).str.strip().str.split(r"\s*[,;，\s]\s*", n=1, expand=True, regex=True)
        if parts.shape[1] < 2:
            parts[1] = None
        lon, lat = _numbers(parts[0]), _numbers(parts[1])
        ok = np.isfinite(lon) & np.isfinite(lat)
        geoms = np.where(ok, shapely.points(np.where(ok, lon, 0.0), np.where(ok, lat, 0.0)), None)
        _report_bad_rows(~ok, name, f"no 'lon,lat' pair in '{loc}'", notes)
        return gpd.GeoSeries(geoms, index=df.index), (loc,)
    wkt = _find_column(cols, _WKT_NAMES)
    if wkt is not None:
        texts = df[wkt].where(df[wkt].str.strip() != "", None)
        geoms = shapely.from_wkt(texts.to_numpy(dtype=object), on_invalid="ignore")
        bad = pd.isna(geoms) & texts.notna().to_numpy()
        _report_bad_rows(bad, name, f"unreadable WKT in '{wkt}'", notes)
        return gpd.GeoSeries(geoms, index=df.index), (wkt,)
    raise InputFileError(
        f"{name}: no coordinate columns found among {', '.join(cols)}; name them lon/lat "
        "(or lng, longitude, 经度 / latitude, 纬度), or give lon_col= and lat_col="
    )


def _numbers(col: pd.Series) -> np.ndarray:
    """Floats of a text column; NaN where there is no number."""
    text = col.astype("string").str.strip()
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    # full-width digits and signs (typed with a Chinese IME) read as ASCII; only
    # the few cells that failed are normalised, since this runs per cell
    retry = np.isnan(values) & text.fillna("").str.len().gt(0).to_numpy()
    if retry.any():
        fixed = text[retry].map(lambda v: unicodedata.normalize("NFKC", v))
        values[retry] = pd.to_numeric(fixed, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return values


def _report_bad_rows(bad, name, why, notes) -> None:
    bad = np.asarray(bad, dtype=bool)
    if bad.any():
        rows = np.flatnonzero(bad) + 2  # 1-based, after the header row: as a spreadsheet shows them
        shown = ", ".join(map(str, rows[:10])) + (", ..." if len(rows) > 10 else "")
        notes.append(f"{name}: {why} on {bad.sum()} row(s) (spreadsheet rows {shown})")


# --------------------------------------------------------------------------- checks


def _clean_names(
    names: list[str], name: str, notes: list[str], *, reserved: tuple[str, ...] = ()
) -> list[str]:
    """Column names without control characters, unique (case-insensitively), none of ``reserved``."""
    cleaned = []
    changed = []
    for i, raw in enumerate(names):
        new = _strip_controls(str(raw))
        if new != str(raw).strip():
            changed.append(new or f"column_{i + 1}")
        cleaned.append(new or f"column_{i + 1}")
    if changed:
        notes.append(f"{name}: removed control characters from column names ({', '.join(changed)})")
    # GeoPackage/SQLite column names are case-insensitive, so 'Name' and 'name'
    # would clash when the layer is stored
    seen: set[str] = {r.lower() for r in reserved}
    out = []
    renamed = []
    for col in cleaned:
        new = col
        k = 2
        while new.lower() in seen:
            new = f"{col}_{k}"
            k += 1
        if new != col:
            renamed.append(f"'{col}' -> '{new}'")
        seen.add(new.lower())
        out.append(new)
    if renamed:
        notes.append(f"{name}: renamed duplicate columns: {', '.join(renamed)}")
    return out


def _finish(gdf, name, *, datum, assumed, allow_outside_china, notes) -> gpd.GeoDataFrame:
    """Checks and repairs shared by every format; returns the frame in EPSG:4326, WGS-84."""
    gdf = _tidy_columns(gdf, name, notes)
    if len(gdf) == 0:
        raise EmptyLayerError(f"{name} has no features")
    gdf = _resolve_crs(gdf, name, assumed, notes)
    gdf = _drop_empty(gdf, name, notes)
    if shapely.has_z(gdf.geometry.values).any():
        notes.append(f"{name}: heights (Z values) were dropped; planatlas maps in 2D")
        gdf = gdf.set_geometry(shapely.force_2d(gdf.geometry.values))

    crs = CRS.from_user_input(gdf.crs)
    if not crs.equals(CRS.from_epsg(4326)):
        try:
            gdf = gdf.to_crs(settings.STORAGE_CRS)
        except (_ProjCRSError, ValueError, RuntimeError) as exc:
            raise CRSError(f"{name}: cannot reproject from {_crs_label(crs)}: {_one_line(exc)}") from None
        if crs.is_projected:
            notes.append(f"{name}: reprojected from {_crs_label(crs)} to WGS-84 longitude/latitude")
    _check_coordinates(gdf, name, allow_outside_china=allow_outside_china)
    gdf = _repair(gdf, name, notes)

    families = _geometry_families(gdf.geometry.values)
    if len(families) > 1:
        listed = ", ".join(f"{n} {fam}" for fam, n in families.items())
        notes.append(
            f"{name}: mixed geometry types ({listed}); some tools and GeoPackage layers "
            "need one type per layer"
        )

    if datum != "WGS84":
        gdf = convert_frame(gdf, source=datum, target="WGS84")
    gdf = gdf.set_crs(settings.STORAGE_CRS, allow_override=True)
    return gdf.reset_index(drop=True)


def _tidy_columns(gdf: gpd.GeoDataFrame, name: str, notes: list[str]) -> gpd.GeoDataFrame:
    """Clean attribute names (see :func:`_clean_names`); geometry column named ``geometry``."""
    geom_name = gdf.geometry.name
    # columns are addressed by position, so duplicate names cannot be mixed up
    positions = [i for i, c in enumerate(gdf.columns) if c != geom_name]
    original = [str(gdf.columns[i]) for i in positions]
    clean = _clean_names(original, name, notes, reserved=("geometry",))
    if clean != original:
        attrs = pd.DataFrame({new: gdf.iloc[:, i] for new, i in zip(clean, positions)}, index=gdf.index)
        return gpd.GeoDataFrame(attrs, geometry=gdf.geometry.values, crs=gdf.crs)
    return gdf.rename_geometry("geometry") if geom_name != "geometry" else gdf


def _resolve_crs(
    gdf: gpd.GeoDataFrame, name: str, assumed: CRS | None, notes: list[str]
) -> gpd.GeoDataFrame:
    """The file's own CRS, else the one the user assumes, else refuse."""
    if gdf.crs is None:
        if assumed is None:
            raise CRSError(
                f"{name} declares no CRS, so its coordinates cannot be placed; "
                "say which CRS it is in with assume_crs= (e.g. 'EPSG:4326' for longitude/latitude)"
            )
        return gdf.set_crs(assumed)
    if assumed is not None and not CRS.from_user_input(gdf.crs).equals(assumed):
        notes.append(f"{name} declares {_crs_label(gdf.crs)}; assume_crs={_crs_label(assumed)} was ignored")
    return gdf


def _drop_empty(gdf: gpd.GeoDataFrame, name: str, notes: list[str]) -> gpd.GeoDataFrame:
    geom = gdf.geometry.values
    empty = shapely.is_missing(geom) | shapely.is_empty(geom)
    if empty.all():
        raise EmptyLayerError(f"{name}: none of its {len(gdf)} features has a geometry")
    if empty.any():
        notes.append(f"{name}: dropped {int(empty.sum())} feature(s) with no geometry")
        gdf = gdf.loc[~empty]
    return gdf


def _repair(gdf: gpd.GeoDataFrame, name: str, notes: list[str]) -> gpd.GeoDataFrame:
    """Make invalid geometries valid and say how many were touched."""
    valid = shapely.is_valid(gdf.geometry.values)
    n_bad = int((~valid).sum())
    if n_bad == 0:
        return gdf
    geoms = gdf.geometry.values.copy()
    geoms[~valid] = _make_valid(geoms[~valid])
    gdf = gdf.set_geometry(geoms)
    notes.append(
        f"{name}: repaired {n_bad} invalid geometr{'y' if n_bad == 1 else 'ies'} "
        "(e.g. self-intersecting polygons) with shapely.make_valid"
    )
    lost = shapely.is_empty(gdf.geometry.values)
    if lost.any():
        notes.append(
            f"{name}: dropped {int(lost.sum())} feature(s) that collapsed to nothing when repaired"
        )
        gdf = gdf.loc[~lost]
        if len(gdf) == 0:
            raise EmptyLayerError(f"{name}: no feature is left after repairing its geometries")
    return gdf


def _make_valid(geoms: np.ndarray) -> np.ndarray:
    """Repair geometries, keeping a polygon polygonal (a bow-tie becomes two triangles)."""
    try:
        return shapely.make_valid(geoms, method="structure", keep_collapsed=False)
    except (TypeError, ValueError, shapely.errors.GEOSException):  # GEOS < 3.10
        return shapely.make_valid(geoms)


def _geometry_families(geoms: np.ndarray) -> dict[str, int]:
    """Counts of points / lines / polygons / collections (Multi* counted with their kind)."""
    # shapely type ids: 0 Point, 1 LineString, 2 LinearRing, 3 Polygon, 4-6 Multi*, 7 collection
    family = np.array(["point", "line", "line", "polygon", "point", "line", "polygon", "collection"])
    kinds, counts = np.unique(family[shapely.get_type_id(geoms)], return_counts=True)
    return {str(k): int(n) for k, n in zip(kinds, counts)}


def _check_coordinates(gdf, name, *, allow_outside_china: bool) -> None:
    """Refuse coordinates that cannot be degrees, are swapped, or lie outside China."""
    b = shapely.bounds(gdf.geometry.values)  # minx, miny, maxx, maxy per feature
    if not np.isfinite(b).all():
        raise InputFileError(f"{name}: some coordinates are not finite numbers (NaN or infinity)")
    x0, y0, x1, y1 = CHINA_BOUNDS
    inside = (b[:, 0] > x0) & (b[:, 2] < x1) & (b[:, 1] > y0) & (b[:, 3] < y1)
    if inside.all():
        return
    outside = ~inside
    # latitude, longitude order (a common CSV and old-GeoJSON mistake) puts
    # Jinan at x=36.7, y=117.0: outside China, and not even a valid latitude
    swapped_inside = (b[:, 1] > x0) & (b[:, 3] < x1) & (b[:, 0] > y0) & (b[:, 2] < y1)
    # (with allow_outside_china a y up to 90 may be a real Arctic latitude)
    implausible_y = (np.abs(b[:, [1, 3]]) > 90).any()
    if swapped_inside[outside].all() and (implausible_y or not allow_outside_china):
        i = int(np.flatnonzero(outside)[0])
        raise InputFileError(
            f"{name}: {int(outside.sum())} of {len(b)} features have longitude and latitude swapped "
            f"(e.g. x={b[i, 0]:.6g}, y={b[i, 1]:.6g} looks like a latitude, longitude pair in China); "
            "swap them (for a CSV, give lon_col= and lat_col= the other way round)"
        )
    not_degrees = (np.abs(b[:, [0, 2]]) > 180).any(axis=1) | (np.abs(b[:, [1, 3]]) > 90).any(axis=1)
    if not_degrees.any():
        i = int(np.flatnonzero(not_degrees)[0])
        raise CRSError(
            f"{name}: coordinates such as ({b[i, 0]:.6g}, {b[i, 1]:.6g}) are not "
            "longitude/latitude degrees; "
            "they look projected (metres), so the declared or assumed CRS is wrong"
        )
    box = f"longitude {x0:g} to {x1:g}, latitude {y0:g} to {y1:g}"
    if allow_outside_china:
        return
    i = int(np.flatnonzero(outside)[0])
    raise InputFileError(
        f"{name}: {int(outside.sum())} of {len(b)} features lie outside China ({box}), "
        f"e.g. x={b[i, 0]:.6g}, y={b[i, 1]:.6g}; pass allow_outside_china=True if that is intended"
    )


# --------------------------------------------------------------------------- helpers


def _parse_assume_crs(value) -> CRS | None:
    if value is None:
        return None
    try:
        return CRS.from_user_input(value)
    except (_ProjCRSError, TypeError, ValueError):
        raise CRSError(f"assume_crs={value!r} is not a CRS pyproj knows (try e.g. 'EPSG:4326')") from None


def _crs_label(crs) -> str:
    crs = CRS.from_user_input(crs)
    epsg = crs.to_epsg()
    return f"EPSG:{epsg} ({crs.name})" if epsg else crs.name


def _one_line(exc, path: Path | None = None, name: str | None = None, *, limit: int = 200) -> str:
    """An exception's text on one short line, with the temporary path replaced by the user's file name."""
    text = str(exc)
    if path is not None:
        # GDAL quotes the path it opened; the user knows the file by its own name
        text = text.replace(str(path), name or path.name).replace(str(path.parent), name or path.name)
    text = re.sub(r"/\S*planatlas-upload-[^\s'\"]*", name or "file", text)
    if "not recognized as being in a supported file format" in text:
        # GDAL's advice on driver prefixes means nothing to a planner
        text = "not a file GDAL can read as that format (damaged, or not what its extension says)"
    elif "file is not a database" in text or "database disk image is malformed" in text:
        text = "damaged, or not a GeoPackage (SQLite) file"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
