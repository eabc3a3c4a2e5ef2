"""The gazetteer: every place the report names, with where its position came from.

The gazetteer is authored data, not a geocoding service: each row was placed by
a person, and says how (``source``), in which datum the source was
(``source_datum``) and how sure the position is (``precision``). Places that
could not be placed with confidence stay in the list as ``unresolved`` rows with
no coordinates, so a planner sees what is missing instead of a guessed dot.

All files ``layers/data/gazetteer*.csv`` are read and unioned; they share the
core columns (:data:`CORE_COLUMNS`) and may add their own (the crossings file
adds ``mode``, ``carries``, ``status``...). Loading validates every row and
stops at the first malformed one with :class:`~spatial._errors.InputFileError`
naming the file and the line, because a silently dropped place would make the
map wrong without anyone noticing.

Each row also says *how* its position is known (:data:`POSITION_COLUMNS`):
``coord_basis`` is ``sourced`` (the coordinates or outline come from a public
source cited in ``source``, converted to WGS-84 from ``source_datum``),
``proxy`` (a cited landmark inside or beside the place stands for it, as the
note says), ``estimated`` (the team placed it; the source says so) or
``unresolved``; ``error_m`` is the expected error of the point in metres; and
``city_adcode`` the city whose reports the row serves (the gazetteer is scoped
to the city a report is about, see :mod:`spatial.cityscope`). A row without
these columns counts as estimated, with the default error of its precision
class: an estimate is never presented as sourced.

Examples
--------
>>> gaz = Gazetteer.default()
>>> gaz.lookup("白云湖")["name"]
'白云湖湿地公园'
>>> feature(gaz.by_id("P001"))["properties"]["precision"]
'area_centroid'
"""

from __future__ import annotations

import csv
import difflib
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from os import PathLike
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from . import settings
from ._errors import DatumError, InputFileError, ParameterError, UnknownPlaceError
from .datum import normalise_datum

#: Columns every gazetteer file must have, in this order in planatlas's own files.
CORE_COLUMNS: tuple[str, ...] = (
    "id", "name", "aliases", "kind", "category", "geometry_type", "lon", "lat", "wkt",
    "district", "source", "source_datum", "precision", "note",
)

#: Columns that say how a position is known; optional in a file (defaults: estimated,
#: the error of the precision class, the default city), always present after loading.
POSITION_COLUMNS: tuple[str, ...] = ("coord_basis", "error_m", "city_adcode")

#: How a row's position is known, most to least trustworthy.
COORD_BASES: tuple[str, ...] = ("sourced", "proxy", "estimated", "unresolved")

#: Expected error (metres) of a point whose row gives none, by precision class.
DEFAULT_ERROR_M: dict[str, float] = {
    "exact": 50.0, "approximate": 1_500.0, "schematic": 3_000.0, "area_centroid": 3_000.0,
    "district_fallback": 20_000.0,
}

#: adcode of the city a row serves when its file does not say (济南市: the embedded report's city).
DEFAULT_CITY_ADCODE = "370100"

#: Words in a ``source`` that mark the team's own estimate; such a row cannot be sourced.
_ESTIMATE_WORDS = ("team estimate", "team sketch", "estimate from public map knowledge")

#: Precision classes, most to least trustworthy (see docs/architecture.md). ``schematic`` marks lines drawn
#: as straight segments between the towns they link: right in topology, off by
#: kilometres in between.
PRECISIONS: tuple[str, ...] = (
    "exact", "approximate", "schematic", "area_centroid", "district_fallback", "unresolved",
)

#: Kinds of point/area places (the linear files add their own, e.g. ``crossing``).
PLACE_KINDS: tuple[str, ...] = (
    "park", "wetland", "lake", "spring", "reservoir", "mountain", "hospital", "campus", "school",
    "zone", "business_district", "historic_quarter", "industrial_site", "venue", "station", "airport",
    "town", "village", "district", "city", "province", "project_site", "other",
)

#: Report-item categories a place can belong to.
CATEGORIES: tuple[str, ...] = (
    "parks", "greenways", "river_crossings", "transport", "water", "ecology", "education", "health",
    "culture", "industry", "housing", "commerce", "tourism", "government", "other",
)

#: Geometry types a row may declare.
GEOMETRY_TYPES: tuple[str, ...] = (
    "Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon",
)

#: File-name pattern of gazetteer files in :data:`spatial.settings.LAYER_DATA_DIR`.
FILE_GLOB = "gazetteer*.csv"

#: Largest gazetteer file read, bytes (authored CSVs are a few hundred kB at most).
MAX_FILE_BYTES = 20 * 1024 * 1024

_ALIAS_SEP = "|"
_SPACE_RE = re.compile(r"\s+")


def normalise_name(text: str | None) -> str:
    """Key a name is compared by: NFKC (full-width to half-width) with all whitespace removed.

    PDF conversions scatter spaces and full-width brackets through Chinese
    names, so ``"市博物馆（新馆）"`` and ``"市博物馆 (新馆)"`` must meet.
    ``None`` gives ``""``.

    >>> normalise_name(" 济西 湿地 ")
    '济西湿地'
    >>> normalise_name("市博物馆（新馆）") == normalise_name("市博物馆(新馆)")
    True

    Raises
    ------
    ParameterError
        When ``text`` is neither a str nor None.
    """
    given: object = text  # checked at run time: callers pass what they have
    if given is None:
        return ""
    if not isinstance(given, str):
        msg = f"地名须为文本，收到 {type(given).__name__} {given!r} (a place name must be a str)"
        raise ParameterError(msg)
    return _SPACE_RE.sub("", unicodedata.normalize("NFKC", given))


def split_aliases(aliases: object) -> list[str]:
    """The ``|``-separated aliases of a cell as a list of non-blank, stripped names."""
    if not isinstance(aliases, str):
        return []
    return [a.strip() for a in aliases.split(_ALIAS_SEP) if a.strip()]


def gazetteer_paths(folder: str | PathLike[str] | None = None) -> list[Path]:
    """Gazetteer files present in ``folder`` (default: the shipped data folder), sorted by name.

    Files of other engineers that do not exist yet are simply not listed.
    """
    base = Path(folder) if folder is not None else settings.LAYER_DATA_DIR
    return sorted(p for p in base.glob(FILE_GLOB) if p.is_file())


# -- reading and validating -----------------------------------------------------------


def _fail(path: Path, line: int | None, zh: str, en: str) -> InputFileError:
    """The error for a malformed gazetteer file: file and line in both languages, then the full path."""
    where_zh = f"{path.name} 第 {line} 行" if line is not None else path.name
    where_en = f"{path.name}, line {line}" if line is not None else path.name
    return InputFileError(f"地名库 {where_zh}：{zh} (gazetteer {where_en}: {en}; {path})")


def _read_rows(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and (line number, row) pairs of one CSV file, as text."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise _fail(path, None, f"无法读取：{exc.strerror or exc}", f"cannot be read: {exc.strerror or exc}") from None
    if size > MAX_FILE_BYTES:
        raise _fail(path, None, f"文件有 {size:,} 字节，超过上限 {MAX_FILE_BYTES:,} 字节",
                    f"is {size:,} bytes, more than the {MAX_FILE_BYTES:,} allowed")
    try:
        # utf-8-sig: a file saved by Excel starts with a BOM that would glue itself to "id"
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in (reader.fieldnames or [])]
            reader.fieldnames = header
            rows = []
            for row in reader:
                if None in row:  # more cells than header columns
                    cells = len(header) + len(row[None])  # DictReader puts surplus cells under None
                    raise _fail(path, reader.line_num, f"该行有 {cells} 个单元格，表头只有 {len(header)} 列",
                                f"has {cells} cells, the header has {len(header)}")
                if not any((v or "").strip() for v in row.values()):
                    continue  # blank line
                rows.append((reader.line_num, {k: (v or "").strip() for k, v in row.items()}))
    except UnicodeDecodeError as exc:
        raise _fail(path, None, f"不是 UTF-8 文本（第 {exc.start} 字节：{exc.reason}），请另存为 UTF-8",
                    f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise _fail(path, None, f"不是有效的 CSV：{exc}", f"is not valid CSV: {exc}") from None
    if not header:
        raise _fail(path, None, "文件为空，没有表头行", "is empty: no header line")
    missing = [c for c in CORE_COLUMNS if c not in header]
    if missing:
        raise _fail(path, 1, f"缺少列 {', '.join(missing)}", f"lacks the column(s) {', '.join(missing)}")
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise _fail(path, 1, f"列 {', '.join(dupes)} 重复", f"repeats the column(s) {', '.join(dupes)}")
    return header, rows


def _parse_float(path: Path, line: int, column: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _fail(path, line, f"{column} 的值 {text!r} 不是数字", f"{column} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise _fail(path, line, f"{column} 的值 {text!r} 不是有限数", f"{column} {text!r} is not a finite number")
    return value


def _check_row(path: Path, line: int, row: dict[str, str]) -> dict[str, Any]:
    """Validate one row; return it with ``lon``/``lat`` as floats and the datum canonical."""
    ident = row["id"]
    if not ident or _SPACE_RE.search(ident):
        raise _fail(path, line, f"编号 id {ident!r} 为空或含空格", f"id {ident!r} is blank or contains spaces")
    zh, en = f"编号 {ident}", f"id {ident}"
    if not row["name"]:
        raise _fail(path, line, f"{zh} 没有名称 name", f"{en} has no name")
    precision = row["precision"]
    if precision not in PRECISIONS:
        raise _fail(path, line, f"{zh}：精度 precision {precision!r} 不是 {', '.join(PRECISIONS)} 之一",
                    f"{en}: precision {precision!r} is not one of {', '.join(PRECISIONS)}")
    if not row["source"]:
        raise _fail(path, line, f"{zh} 没有来源 source，请写明位置的出处",
                    f"{en} has no source: say where the position came from")
    if not row["source_datum"]:
        raise _fail(path, line, f"{zh} 没有来源坐标系 source_datum（WGS84、GCJ02 或 BD09）",
                    f"{en} has no source_datum (WGS84, GCJ02 or BD09)")
    try:
        row["source_datum"] = normalise_datum(row["source_datum"])
    except DatumError:
        datum = row["source_datum"]
        raise _fail(path, line, f"{zh}：来源坐标系 {datum!r} 未知，请用 WGS84、GCJ02 或 BD09",
                    f"{en}: unknown datum {datum!r}") from None
    gtype = row["geometry_type"]
    if gtype and gtype not in GEOMETRY_TYPES:
        raise _fail(path, line, f"{zh}：几何类型 geometry_type {gtype!r} 不是 {', '.join(GEOMETRY_TYPES)} 之一",
                    f"{en}: geometry_type {gtype!r} is not one of {', '.join(GEOMETRY_TYPES)}")
    lon, lat = _check_position(path, line, row, zh=zh, en=en)
    out: dict[str, Any] = dict(row)
    out["lon"], out["lat"] = lon, lat
    out.update(_check_basis(path, line, row, zh=zh, en=en))
    return out


def _check_basis(path: Path, line: int, row: dict[str, str], *, zh: str, en: str) -> dict[str, Any]:
    """``coord_basis``, ``error_m`` (float, NaN when unresolved) and ``city_adcode`` of a row, checked."""
    precision = row["precision"]
    basis = row.get("coord_basis", "") or ("unresolved" if precision == "unresolved" else "estimated")
    if basis not in COORD_BASES:
        raise _fail(path, line, f"{zh}：coord_basis {basis!r} 不是 {', '.join(COORD_BASES)} 之一",
                    f"{en}: coord_basis {basis!r} is not one of {', '.join(COORD_BASES)}")
    if (basis == "unresolved") != (precision == "unresolved"):
        raise _fail(path, line, f"{zh}：coord_basis {basis} 与精度 {precision} 不符（未定位的行两者都须为 unresolved）",
                    f"{en}: coord_basis {basis} contradicts precision {precision}")
    if basis in ("sourced", "proxy") and any(w in row["source"].lower() for w in _ESTIMATE_WORDS):
        raise _fail(path, line, f"{zh}：来源写的是团队估计，coord_basis 却是 {basis}（估计不能标为有来源）",
                    f"{en}: the source is a team estimate but coord_basis says {basis}")
    text = row.get("error_m", "")
    if basis == "unresolved":
        if text:
            raise _fail(path, line, f"{zh} 未定位，却有预计误差 error_m", f"{en} is unresolved but has error_m")
        error = math.nan
    elif text:
        error = _parse_float(path, line, "error_m", text)
        if error <= 0:
            raise _fail(path, line, f"{zh}：预计误差 error_m {text} 须为正数（米）",
                        f"{en}: error_m {text} must be a positive number of metres")
    elif basis in ("sourced", "proxy"):
        raise _fail(path, line, f"{zh} 有来源，却没有预计误差 error_m（米）",
                    f"{en} is {basis} but has no error_m (metres)")
    else:
        error = DEFAULT_ERROR_M.get(precision, DEFAULT_ERROR_M["area_centroid"])
    city = row.get("city_adcode", "") or DEFAULT_CITY_ADCODE
    if not re.fullmatch(r"\d{6}", city):
        raise _fail(path, line, f"{zh}：city_adcode {city!r} 不是六位行政区划代码",
                    f"{en}: city_adcode {city!r} is not a six-digit adcode")
    return {"coord_basis": basis, "error_m": error, "city_adcode": city}


def _check_position(path: Path, line: int, row: dict[str, str], *, zh: str, en: str) -> tuple[float, float]:
    """Longitude and latitude of a row (NaN when blank), after checking lon/lat, wkt and precision agree."""
    precision, gtype = row["precision"], row["geometry_type"]
    lon_text, lat_text, wkt = row["lon"], row["lat"], row["wkt"]
    if bool(lon_text) != bool(lat_text):
        raise _fail(path, line, f"{zh} 只有经度 lon 或纬度 lat 之一", f"{en} has only one of lon and lat")
    lon = lat = math.nan
    if lon_text:
        lon = _parse_float(path, line, "lon", lon_text)
        lat = _parse_float(path, line, "lat", lat_text)
        if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
            raise _fail(path, line, f"{zh}：({lon}, {lat}) 超出 WGS-84 经纬度范围（经纬度是否写反，或是投影坐标？）",
                        f"{en}: ({lon}, {lat}) is outside WGS-84 longitude/latitude "
                        "(are lon and lat swapped, or is this a projected coordinate?)")
    has_position = bool(lon_text) or bool(wkt)
    if precision == "unresolved" and has_position:
        # an unresolved place must not reach the map through a stray coordinate
        raise _fail(path, line, f"{zh} 精度为 unresolved（未定位），却有坐标或 wkt",
                    f"{en} is unresolved but has coordinates or wkt")
    if precision != "unresolved" and not has_position:
        raise _fail(path, line, f"{zh} 精度为 {precision!r}，却既没有经纬度也没有 wkt",
                    f"{en} has precision {precision!r} but neither lon/lat nor wkt")
    if wkt:
        _check_wkt(path, line, wkt, gtype, zh=zh, en=en)
    elif gtype and gtype != "Point" and precision != "unresolved":
        raise _fail(path, line, f"{zh}：几何类型 {gtype} 需要 wkt", f"{en}: geometry_type {gtype} needs a wkt")
    return lon, lat


def _check_wkt(path: Path, line: int, wkt: str, gtype: str, *, zh: str, en: str) -> None:
    """Refuse a wkt that does not parse, is empty, lies outside longitude/latitude or contradicts ``gtype``."""
    try:
        geom = shapely.from_wkt(wkt)
    except shapely.errors.GEOSException as exc:
        raise _fail(path, line, f"{zh}：wkt 无法解析（{exc}）", f"{en}: wkt does not parse ({exc})") from None
    if geom is None or geom.is_empty:
        raise _fail(path, line, f"{zh}：wkt 是空几何", f"{en}: wkt is empty")
    minx, miny, maxx, maxy = geom.bounds
    if not (-180.0 <= minx <= maxx <= 180.0 and -90.0 <= miny <= maxy <= 90.0):
        raise _fail(path, line, f"{zh}：wkt 超出 WGS-84 经纬度范围",
                    f"{en}: wkt lies outside WGS-84 longitude/latitude")
    if gtype and geom.geom_type != gtype:
        raise _fail(path, line, f"{zh}：几何类型写的是 {gtype}，wkt 却是 {geom.geom_type}",
                    f"{en}: geometry_type says {gtype} but wkt is {geom.geom_type}")


def _read_file(path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    header, rows = _read_rows(path)
    checked = []
    for line, row in rows:
        item = _check_row(path, line, row)
        item["_line"] = line
        checked.append(item)
    return header, checked


def _frame_from_rows(rows: list[dict[str, Any]], columns: list[str]) -> gpd.GeoDataFrame:
    """Build the GeoDataFrame, geometry vectorised: wkt where given, else a lon/lat point."""
    frame = pd.DataFrame(rows, columns=columns)
    lon = frame["lon"].to_numpy(dtype=float)
    lat = frame["lat"].to_numpy(dtype=float)
    wkt = frame["wkt"].to_numpy(dtype=object)
    has_wkt = wkt != ""
    has_point = ~np.isnan(lon) & ~has_wkt
    geometry = np.full(len(frame), None, dtype=object)
    if has_point.any():
        geometry[has_point] = shapely.points(lon[has_point], lat[has_point])
    if has_wkt.any():
        geometry[has_wkt] = shapely.from_wkt(wkt[has_wkt].astype(str))
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=settings.STORAGE_CRS)


@lru_cache(maxsize=8)
def _load_cached(keys: tuple[tuple[str, int, int], ...]) -> gpd.GeoDataFrame:
    # keyed on (path, mtime, size) so editing a CSV in a running app is picked up
    all_rows: list[dict[str, Any]] = []
    columns: list[str] = [*CORE_COLUMNS, *POSITION_COLUMNS]
    owners: dict[str, tuple[str, int, str]] = {}  # name key -> (file, line, id)
    ids: dict[str, tuple[str, int]] = {}
    for path_text, _, _ in keys:
        path = Path(path_text)
        header, rows = _read_file(path)
        columns += [c for c in header if c not in columns]
        for row in rows:
            line = row.pop("_line")
            ident = row["id"]
            if ident in ids:
                first = ids[ident]
                raise _fail(path, line, f"编号 {ident} 重复（首次出现在 {first[0]} 第 {first[1]} 行）",
                            f"id {ident} is used again (first in {first[0]}, line {first[1]})")
            ids[ident] = (path.name, line)
            # a name or alias must lead to one place only, across every file
            names = {normalise_name(n) for n in [row["name"], *split_aliases(row["aliases"])]}
            for key in sorted(names):
                if not key:
                    continue
                if key in owners:
                    f, ln, other = owners[key]
                    raise _fail(path, line, f"编号 {ident}：名称或别名 {key!r} 已属于 {other}（{f} 第 {ln} 行）",
                                f"id {ident}: name or alias {key!r} already belongs to {other} ({f}, line {ln})")
                owners[key] = (path.name, line, ident)
            row["gazetteer_file"] = path.name
            all_rows.append(row)
    columns.append("gazetteer_file")
    for row in all_rows:  # extra columns of one file are blank in the others
        for col in columns:
            row.setdefault(col, "")
    return _frame_from_rows(all_rows, columns)


def load_gazetteer(
    paths: str | PathLike[str] | Sequence[str | PathLike[str]] | None = None,
) -> gpd.GeoDataFrame:
    """Read, validate and union the gazetteer files.

    Parameters
    ----------
    paths : path or sequence of paths, optional
        CSV files to read. Default: every ``layers/data/gazetteer*.csv`` that
        exists (the transport and crossings files are picked up once written).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per place, EPSG:4326. Columns: the :data:`CORE_COLUMNS`
        (``lon``/``lat`` as float degrees, NaN where unresolved;
        ``source_datum`` canonical ``WGS84``/``GCJ02``/``BD09``), the
        :data:`POSITION_COLUMNS` (``error_m`` a float, NaN where unresolved), any extra
        columns of the files (blank where a file lacks them),
        ``gazetteer_file`` and ``geometry`` (the ``wkt`` if given, else the
        lon/lat point, None for unresolved rows). Results are cached per file
        modification time; a fresh copy is returned on every call.

    Raises
    ------
    InputFileError
        When a file is missing, not UTF-8 CSV, lacks a core column, or a row is
        malformed (the message names the file and the line): duplicate id,
        name or alias used by two places, unknown precision, blank source or
        datum, coordinates outside WGS-84, an unresolved row with coordinates,
        a resolved row without them, or bad wkt.
    ParameterError
        When ``paths`` is neither a path nor a sequence of paths.
    """
    if paths is None:
        files = gazetteer_paths()
        if not files:
            msg = (f"{settings.LAYER_DATA_DIR} 中没有地名库文件 {FILE_GLOB} "
                   f"(no gazetteer files {FILE_GLOB} in {settings.LAYER_DATA_DIR})")
            raise InputFileError(msg)
    elif isinstance(paths, (str, PathLike)):
        files = [Path(paths)]
    else:
        try:
            files = [Path(p) for p in paths]
        except TypeError:
            msg = (f"地名库路径须为路径或路径列表，收到 {paths!r} "
                   "(paths must be a path or a sequence of paths)")
            raise ParameterError(msg) from None
    keys = []
    for path in files:
        try:
            st = path.stat()
        except OSError:
            msg = f"找不到地名库文件：{path} (gazetteer file not found: {path})"
            raise InputFileError(msg) from None
        keys.append((str(path.resolve()), st.st_mtime_ns, st.st_size))
    return _load_cached(tuple(keys)).copy()


# -- lookups ------------------------------------------------------------------------


class Gazetteer:
    """Name and id lookups over a loaded gazetteer.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        As returned by :func:`load_gazetteer`.

    Examples
    --------
    >>> gaz = Gazetteer.default()
    >>> gaz.lookup("济西")["id"]
    'P013'
    """

    def __init__(self, frame: gpd.GeoDataFrame) -> None:
        self._frame = frame.reset_index(drop=True)
        self._by_id = {ident: i for i, ident in enumerate(self._frame["id"])}
        index: dict[str, int] = {}
        spellings: dict[str, None] = {}  # insertion-ordered set of the spellings as written
        for i, (name, aliases) in enumerate(zip(self._frame["name"], self._frame["aliases"], strict=True)):
            for spelling in [name, *split_aliases(aliases)]:
                key = normalise_name(spelling)
                if key:
                    index.setdefault(key, i)
                    spellings[spelling] = None
        self._index = index
        self._spellings = list(spellings)

    @classmethod
    def default(cls) -> Gazetteer:
        """The gazetteer shipped in ``layers/data/`` (all ``gazetteer*.csv`` files)."""
        return cls(load_gazetteer())

    @property
    def frame(self) -> gpd.GeoDataFrame:
        """The places as a GeoDataFrame in EPSG:4326 (one row per place)."""
        return self._frame

    def __len__(self) -> int:
        return len(self._frame)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and normalise_name(name) in self._index

    def names(self) -> list[str]:
        """Every name and alias, longest first (ties in code-point order).

        Longest first is the order a text matcher needs, so that
        ``济南黄河大桥复线桥`` is tried before ``济南黄河大桥``.
        """
        return sorted(self._spellings, key=lambda s: (-len(s), s))

    def lookup(self, name: str) -> pd.Series:
        """The row of the place called ``name`` (its name or any alias).

        The match is exact after :func:`normalise_name`, so whitespace and
        full-width characters do not matter; a name inside a longer phrase is
        *not* found here (that is :mod:`spatial.geocode`'s job).

        Raises
        ------
        UnknownPlaceError
            With up to five close spellings when there are some.
        """
        key = normalise_name(name)
        if key in self._index:
            row: pd.Series = self._frame.iloc[self._index[key]]
            return row
        close = difflib.get_close_matches(key, list(self._index), n=5, cutoff=0.5)
        hint_zh = f"；是否要找：{'、'.join(close)}？" if close else ""
        hint = f"; did you mean {'、'.join(close)}?" if close else ""
        msg = (f"地名库中没有地名 {name!r}{hint_zh} "
               f"(unknown place {name!r}: not in the gazetteer{hint})")
        raise UnknownPlaceError(msg)

    def by_id(self, place_id: str) -> pd.Series:
        """The row with id ``place_id``; :class:`UnknownPlaceError` when there is none."""
        try:
            row: pd.Series = self._frame.iloc[self._by_id[place_id]]
        except (KeyError, TypeError):  # TypeError: an unhashable id
            msg = f"地名库中没有编号 {place_id!r} (unknown place id {place_id!r}: not in the gazetteer)"
            raise UnknownPlaceError(msg) from None
        return row

    def resolved(self) -> gpd.GeoDataFrame:
        """The rows that have a geometry (precision other than ``unresolved``)."""
        return self._frame[self._frame.geometry.notna()]

    def of_kind(self, kinds: str | Iterable[str]) -> gpd.GeoDataFrame:
        """Rows of one kind or several (e.g. ``"park"`` or ``["park", "wetland"]``)."""
        wanted = {kinds} if isinstance(kinds, str) else set(kinds)
        return self._frame[self._frame["kind"].isin(wanted)]


# -- GeoJSON --------------------------------------------------------------------------

#: Properties a GeoJSON feature of a place carries.
FEATURE_PROPERTIES: tuple[str, ...] = (
    "id", "name", "kind", "category", "district", "source", "source_datum", "precision", "coord_basis",
    "error_m", "note",
)


def _plain(value: object) -> object:
    """JSON-safe scalar: NaN/NA and blank text become None, NumPy scalars Python ones."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA:
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, str) and not value:
        return None
    return value


def feature(row: pd.Series | Mapping[str, Any]) -> dict[str, Any]:
    """A place as a GeoJSON Feature (WGS-84) with its provenance as properties.

    Parameters
    ----------
    row : pandas.Series or dict
        A gazetteer row, e.g. from :meth:`Gazetteer.lookup`.

    Returns
    -------
    dict
        ``{"type": "Feature", "id", "geometry", "properties"}``; ``geometry``
        is None for an unresolved place (valid GeoJSON), and the properties
        are :data:`FEATURE_PROPERTIES` (blank values as None).
    """
    get = row.get
    geom = get("geometry")
    if not isinstance(geom, BaseGeometry) or geom.is_empty:
        geom = None
    props = {key: _plain(get(key)) for key in FEATURE_PROPERTIES}
    return {
        "type": "Feature",
        "id": props["id"],
        "geometry": mapping(geom) if geom is not None else None,
        "properties": props,
    }
