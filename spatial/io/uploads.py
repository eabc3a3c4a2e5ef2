"""Safe reading of user files: uploads in the app and files given to the CLI.

A planner's file arrives as bytes (a Streamlit upload) or a path (the CLI). It
may be a GeoJSON, a GeoPackage, a zipped Shapefile or a CSV of points, in
WGS-84, GCJ-02 (AMap/Gaode, Tencent) or BD-09 (Baidu), written by Excel in GBK
or by QGIS in UTF-8. :func:`read_upload` turns any of them into one
GeoDataFrame in EPSG:4326 (WGS-84), or refuses with one clear line, Chinese
first and English in brackets, naming the file.

It is a pipeline; each stage is one of the package's modules:

1. **size**, before anything is parsed (:data:`spatial.settings.MAX_UPLOAD_BYTES`),
   and no ``/vsi*`` path or URL (:mod:`~spatial.io._limits`);
2. **format**: named by the extension, confirmed by the first bytes, so a VRT,
   KML, GPX or GML renamed ``.geojson`` is refused (:mod:`~spatial.io._formats`);
3. **zip archives**: no member may leave the unpacking folder (``..``,
   absolute paths, drive letters, symbolic links) and the archive may not
   unpack to far more than it weighs (member count, total size, compression
   ratio) (:mod:`~spatial.io._zip`);
4. **reading**, by GDAL with the one driver the extension names, or by
   Python's csv module; shapefiles need their ``.shp``, ``.shx`` and ``.dbf``
   and a ``.prj`` (or ``assume_crs=``), and their text is decoded with the
   ``.cpg`` code page or, failing that, UTF-8, GBK or GB18030;
5. **checks** (:data:`CHECKS`, :mod:`~spatial.io._checks`): the layer has
   features and a CRS and is reprojected to EPSG:4326; coordinates are
   degrees, in longitude/latitude order, inside China (unless
   ``allow_outside_china=True``); invalid geometries are repaired with
   :func:`shapely.make_valid`; GCJ-02 and BD-09 coordinates are converted to WGS-84.

Everything changed on the way is listed in :attr:`UploadResult.warnings`, in
Chinese first, so the app can show it. Every file is unpacked into a
:class:`tempfile.TemporaryDirectory` that is removed whatever happens, and GDAL
only ever sees planatlas's own copies there, under neutral names. The folder
is named with the host and process id, so a process killed in the middle
(``kill -9``, or a server stopped with SIGTERM) leaves nothing for long: the
next upload sweeps folders whose process is gone
(:func:`spatial._atomic.sweep_stale`). Text inside
the file is data: it is not escaped here (the map layer escapes it); only
control characters are removed from column names.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
from pyproj import CRS

from .. import settings
from .._atomic import sweep_stale, temp_dir_prefix
from .._encoding import EncodingProblem, codec_name
from .._errors import InputFileError
from ..datum import normalise_datum
from . import _checks, _limits, _zip
from ._checks import CheckContext, Step
from ._formats import READERS, ReadOptions, detect_format, gpkg_layers
from ._limits import Source, UploadData, mb, open_source

__all__ = [
    "CHECKS",
    "SUPPORTED_UPLOADS",
    "UploadResult",
    "describe_limits",
    "list_layers",
    "read_upload",
]

#: File extensions the app's upload widget accepts. The CLI also reads a
#: ``.shp`` path directly (its sidecar files are picked up next to it), and a
#: ``.txt`` as CSV.
SUPPORTED_UPLOADS: tuple[str, ...] = (".geojson", ".json", ".gpkg", ".zip", ".csv")

#: The checks every layer passes once read, in order: (what it does, step).
CHECKS: tuple[tuple[str, Step], ...] = (
    ("clean column names", _checks.tidy_columns),
    ("require features", _checks.require_features),
    ("limit the number of features", _checks.limit_features),
    ("resolve the CRS", _checks.resolve_crs),
    ("drop features without geometry", _checks.drop_empty),
    ("flatten nested collections", _checks.flatten_collections),
    ("drop heights", _checks.drop_z),
    ("reproject to EPSG:4326", _checks.to_storage_crs),
    ("check coordinates are lon/lat in China", _checks.check_coordinates),
    ("repair invalid geometries", _checks.repair),
    ("note mixed geometry types", _checks.note_mixed_types),
    ("convert the datum to WGS-84", _checks.to_wgs84_datum),
)

_TEMP_PREFIX = "planatlas-upload-"


def _temp_folder() -> tempfile.TemporaryDirectory[str]:
    """A private temporary folder for one file, after sweeping the ones killed processes left."""
    sweep_stale(tempfile.gettempdir())
    return tempfile.TemporaryDirectory(prefix=temp_dir_prefix("upload"))


@dataclass
class UploadResult:
    """A user's file, read and checked.

    Attributes
    ----------
    frame : geopandas.GeoDataFrame
        Features in EPSG:4326 (WGS-84 longitude/latitude, degrees), geometry
        column ``geometry``, index 0..n-1.
    warnings : list of str
        Chinese-first notes (English in brackets) on everything changed or
        guessed while reading: repaired geometries, dropped rows, renamed
        columns, encodings …
    source_name : str
        The file's name as the user gave it (base name, control characters removed).
    source_datum : str
        Datum the coordinates were in before conversion: ``WGS84``, ``GCJ02``
        or ``BD09``.
    n_features : int
        Number of features in :attr:`frame`.
    layer : str or None
        Layer read (GeoPackage layer, or the file's path inside a zip without
        extension, e.g. ``"export/parks"``; the file's stem otherwise).
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


# --------------------------------------------------------------------------- public


def describe_limits(*, max_bytes: int | None = None, lang: str = "en") -> str:
    """Short text telling a user what files are accepted (for the app and ``--help``).

    Parameters
    ----------
    max_bytes : int, optional, keyword-only
        Size limit to quote, bytes (default :data:`spatial.settings.MAX_UPLOAD_BYTES`).
    lang : {"en", "zh"}, keyword-only
        Language of the text (the app speaks Chinese).

    Returns
    -------
    str
    """
    limit = settings.MAX_UPLOAD_BYTES if max_bytes is None else max_bytes
    members, unpacked = _limits.ZIP_MAX_MEMBERS, mb(_limits.ZIP_MAX_TOTAL_BYTES)
    if lang == "zh":
        return (
            "可上传：GeoJSON (.geojson, .json)、GeoPackage (.gpkg)、压缩的 Shapefile "
            "(.zip，含 .shp、.shx、.dbf、.prj)、带经纬度列的 CSV (lon/lng/经度 与 lat/纬度，或高德的 "
            f"location 列)。单个文件不超过 {mb(limit)}；压缩包最多 {members} 个文件、解压后不超过 "
            f"{unpacked}。坐标须在中国境内；请说明坐标系：WGS-84 (GPS、OpenStreetMap、"
            "天地图)、GCJ-02 (高德、腾讯) 或 BD-09 (百度)。"
        )
    return (
        "Accepted files: GeoJSON (.geojson, .json), GeoPackage (.gpkg), zipped Shapefile "
        "(.zip with .shp, .shx, .dbf and .prj) and CSV with longitude/latitude columns "
        "(lon/lng/经度 and lat/纬度, or an AMap 'location' column). "
        f"Up to {mb(limit)} per file; a zip may hold up to {members} files and unpack "
        f"to {unpacked}. Coordinates must lie in China; say whether they are "
        "WGS-84 (GPS, OpenStreetMap, Tianditu), GCJ-02 (AMap/Gaode, Tencent) or BD-09 (Baidu)."
    )


def list_layers(data: UploadData, *, filename: str | None = None, max_bytes: int | None = None) -> list[str]:
    """Names of the layers a file holds, for a layer picker.

    GeoPackage: its tables with geometry. Zip: the shapefiles (by name without
    extension, with their folder inside the zip) and the other readable files.
    GeoJSON, CSV and a ``.shp`` path: one layer, the file's stem.

    Parameters
    ----------
    data : bytes, path or binary file object
        The file.
    filename : str, optional, keyword-only
        The user's file name (needed for bytes; defaults to the path's name).
    max_bytes : int, optional, keyword-only
        Size limit, bytes (default :data:`spatial.settings.MAX_UPLOAD_BYTES`).

    Returns
    -------
    list of str

    Raises
    ------
    InputFileError
        As :func:`read_upload`, for the size, format and zip checks.
    """
    src = open_source(data, filename=filename, max_bytes=max_bytes)
    fmt = detect_format(src.name, src.suffix, src.head, is_path=src.path is not None)
    with _temp_folder() as tmp:
        folder = Path(tmp)
        if fmt == "zip":
            return list(_zip.zip_layers(_zip.unzip(src, folder)))
        if fmt == "gpkg":
            return gpkg_layers(_copy_in(src, folder, fmt), src.name, [])
        return [Path(src.name).stem]


def read_upload(
    data: UploadData,
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
    filename : str, optional, keyword-only
        Name the user gave the file; its extension names the format (the
        first bytes must agree) and it names the file in messages. Required
        for bytes; defaults to the path's name.
    datum : str, default ``"WGS84"``, keyword-only
        Datum the coordinates are in: ``WGS84``, ``GCJ02`` (AMap/Gaode,
        Tencent) or ``BD09`` (Baidu); aliases such as ``"amap"`` work.
        GCJ-02 and BD-09 are converted to WGS-84.
    max_bytes : int, optional, keyword-only
        Largest file accepted, bytes (default :data:`spatial.settings.MAX_UPLOAD_BYTES`).
        Checked before the file is read.
    lon_col, lat_col : str, optional, keyword-only
        CSV columns holding longitude and latitude (degrees, or the units of
        ``assume_crs``). By default found by name (lon/lng/longitude/经度/x and
        lat/latitude/纬度/y), else an AMap ``location`` column ("lon,lat"),
        else a WKT column.
    layer : str, optional, keyword-only
        GeoPackage layer, or layer name inside a zip (default: the first).
    assume_crs : str, int or pyproj.CRS, optional, keyword-only
        CRS to use when the file declares none (a shapefile without ``.prj``,
        a GeoPackage layer without SRS, CSV x/y in metres). Ignored, with a
        warning, when the file declares its own.
    allow_outside_china : bool, default False, keyword-only
        Accept features outside China (e.g. test data elsewhere); otherwise
        they are refused, since they are almost always swapped or wrongly
        projected coordinates.
    encoding : str, optional, keyword-only
        Text encoding of a CSV or a shapefile's .dbf, when the guess (the
        ``.cpg``, else UTF-8, GBK, GB18030) is wrong, e.g. ``"big5"``.

    Returns
    -------
    UploadResult

    Raises
    ------
    InputFileError
        Too large, unsafe or malformed file, unknown format, content that is
        not what the extension says, implausible coordinates (swapped,
        outside China), or inconsistent options.
    CRSError
        No CRS and no ``assume_crs``, or coordinates that cannot be degrees.
    EmptyLayerError
        No features with geometry.
    DatumError
        Unknown ``datum`` name.
    """
    # 0. the options, before a byte of the file is read
    src_datum = normalise_datum(datum)
    assumed = _checks.parse_assume_crs(assume_crs)
    _check_columns(lon_col, lat_col)
    opts = ReadOptions(layer=layer, assumed=assumed, lon_col=lon_col, lat_col=lat_col, encoding=_codec(encoding))
    # 1. size (and no /vsi path), 2. format from the extension, confirmed by the first bytes
    src = open_source(data, filename=filename, max_bytes=max_bytes)
    fmt = detect_format(src.name, src.suffix, src.head, is_path=src.path is not None)
    ctx = CheckContext(name=src.name, datum=src_datum, assumed=assumed, allow_outside_china=allow_outside_china,
                       notes=src.notes)
    with _temp_folder() as tmp:
        # 3. unpack or copy in, 4. read with the format's one reader
        gdf, fmt, layer_name = _read(src, fmt, Path(tmp), opts)
        # 5. the checks every layer passes
        for _what, step in CHECKS:
            gdf = step(gdf, ctx)
    return UploadResult(frame=gdf, warnings=ctx.notes, source_name=src.name, source_datum=src_datum,
                        n_features=len(gdf), layer=layer_name, format=fmt)


# --------------------------------------------------------------------------- stages


def _codec(encoding: str | None) -> str | None:
    """Python's name of a text encoding the user gave (``"GBK"`` -> ``"gbk"``)."""
    if encoding is None:
        return None
    try:
        return codec_name(encoding)
    except EncodingProblem as exc:
        msg = f"{exc.zh} ({exc.en})"
        raise InputFileError(msg) from None


def _check_columns(lon_col: str | None, lat_col: str | None) -> None:
    if (lon_col is None) != (lat_col is None):
        msg = (
            "lon_col 与 lat_col 须同时给出，或都不给以按列名识别 "
            "(give both lon_col and lat_col, or neither to detect them by name)"
        )
        raise InputFileError(msg)


def _copy_in(src: Source, folder: Path, fmt: str) -> Path:
    """Write (or copy) the file into the temporary folder under a neutral name; its path.

    The user's name is never used as a path: it could hold ``../`` or worse.
    Paths are copied too, so GDAL never writes side files (``-wal``, ``-shm``)
    next to the user's own data. A ``.shp`` path comes with its sidecars.
    """
    if fmt == "shapefile":
        assert src.path is not None
        for ext, part in _limits.sibling_files(src.path).items():
            shutil.copyfile(part, folder / f"upload{ext}")
        return folder / "upload.shp"
    target = folder / f"upload.{fmt}"
    if src.data is not None:
        target.write_bytes(src.data)
    else:
        assert src.path is not None
        shutil.copyfile(src.path, target)
    return target


def _pick_zip_layer(layers: dict[str, tuple[str, Path]], src: Source, wanted: str | None) -> str:
    """The zip member to read: ``wanted`` (by path or file stem), else the first, with a note."""
    listed = ", ".join(layers)
    if not layers:
        msg = (
            f"{src.name} 中没有 Shapefile、GeoJSON、GeoPackage 或 CSV "
            f"({src.name} holds no shapefile, GeoJSON, GeoPackage or CSV)"
        )
        raise InputFileError(msg)
    if wanted is None:
        key = next(iter(layers))
        if len(layers) > 1:
            src.notes.append(
                f"{src.name} 有 {len(layers)} 个图层 ({listed})，已读取 {key}；可用 layer= 选择其他图层 "
                f"({src.name} holds {len(layers)} layers ({listed}); read '{key}'; choose another with layer=)"
            )
        return key
    key_or_none = next((k for k in layers if k == wanted or Path(k).name == wanted), None)
    if key_or_none is None:
        msg = f"{src.name} 中没有图层 {wanted}；可选：{listed} (no layer '{wanted}' in {src.name}; it holds: {listed})"
        raise InputFileError(msg)
    return key_or_none


def _read(src: Source, fmt: str, folder: Path, opts: ReadOptions) -> tuple[gpd.GeoDataFrame, str, str]:
    """Unpack (zip) or copy the file in, then read it with its format's reader.

    Returns
    -------
    (frame, format, layer name)
        The layer as the file holds it, the format of what was read (a zip's
        member's), and the layer's name.
    """
    if fmt != "zip":
        gdf, layer = READERS[fmt](_copy_in(src, folder, fmt), src.name, opts, src.notes)
        return gdf, fmt, layer or Path(src.name).stem
    layers = _zip.zip_layers(_zip.unzip(src, folder))
    key = _pick_zip_layer(layers, src, opts.layer)
    # a member's own extension names its format, and its reader checks its bytes
    kind, path = layers[key]
    if kind in {"geojson", "csv"}:
        # parsed whole in memory: the same limit as the file itself, not the zip's unpacked total
        _limits.check_size(f"{src.name}:{key}", path.stat().st_size, settings.MAX_UPLOAD_BYTES)
    gdf, _ = READERS[kind](path, f"{src.name}:{key}", replace(opts, layer=None), src.notes)
    return gdf, kind, key
