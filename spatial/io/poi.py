"""POI exports from AMap/Gaode, Baidu and Tencent: read, located in WGS-84, classified, de-duplicated.

The facilities planners actually have are exports of the Chinese map
platforms, as CSV or Excel from a crawler or as the JSON the platforms' place
APIs return. Each vendor has its own columns, its own datum and its own
categories (column layouts documented by each vendor's place API):

========  ==========================================================  ======  ==========================
vendor    columns                                                     datum   category
========  ==========================================================  ======  ==========================
AMap      ``name, type, typecode, address, location ("lng,lat")``,    GCJ-02  ``typecode`` 141203,
          or ``lng``/``lat``; ``pname, cityname, adname``                     ``type`` 科教文化服务;学校;小学
Baidu     ``uid, name, lat, lng`` or ``location.lat/lng``,            BD-09   ``tag`` 教育培训;小学
          ``detail_info.tag``
Tencent   ``id, title, category, location.lat/lng, ad_info``          GCJ-02  ``category`` 教育学校:小学
========  ==========================================================  ======  ==========================

:func:`read_poi` guesses the vendor from the columns and the datum from the
vendor (or from column names such as ``wgs84_lng``), **says what it guessed
and why** in its notes, converts to WGS-84 with :mod:`spatial.datum`, and
classifies every POI with :func:`spatial.facilities.classify_vendor`. POIs no
table row or name rule classifies are kept (``facility_type`` empty,
``classified_by = "unclassified"``) and counted. POIs with the same name
within a few metres of each other (one shop exported twice by overlapping
searches) are merged and counted.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from .. import facilities, settings, vocab
from .._errors import InputFileError, ParameterError
from ..datum import Datum, convert, in_china, normalise_datum
from ..projection import transformer
from ._limits import UploadData, open_source

__all__ = ["POI_SUFFIXES", "PoiResult", "read_poi"]

#: File types a POI export may come as.
POI_SUFFIXES: tuple[str, ...] = (".csv", ".txt", ".xlsx", ".json")

#: The datum each vendor's coordinates are in unless the file says otherwise.
VENDOR_DATUM: dict[str, Datum] = {"amap": "GCJ02", "baidu": "BD09", "tencent": "GCJ02"}

#: POIs of the same name closer than this are one POI exported twice, metres.
MERGE_M: float = 10.0

_NAME_COLUMNS = ("name", "title", "名称", "poi名称", "poi_name")
_ADDRESS_COLUMNS = ("address", "地址", "addr")
_ID_COLUMNS = ("id", "uid", "poi_id", "poiid")
# vendor -> columns holding its category, in order of preference
_CATEGORY_COLUMNS = {
    "amap": ("type", "类型", "poi类型"),
    "baidu": ("detail_info.tag", "tag", "标签", "type"),
    "tencent": ("category", "分类", "类别"),
}
_LON_COLUMNS = ("lng", "lon", "longitude", "经度", "location.lng", "location.lon", "x", "wgs84_lng", "wgs84_lon",
                "gcj02_lng", "gcj_lng", "bd09_lng", "bd_lng", "lng_wgs84", "lng_gcj02", "lng_bd09")
_LAT_COLUMNS = ("lat", "latitude", "纬度", "location.lat", "y", "wgs84_lat", "gcj02_lat", "gcj_lat", "bd09_lat",
                "bd_lat", "lat_wgs84", "lat_gcj02", "lat_bd09")
_PAIR_COLUMNS = ("location", "lnglat", "经纬度", "坐标", "point")
_DATUM_HINTS = (("wgs", "WGS84"), ("gcj", "GCJ02"), ("bd09", "BD09"), ("bd_", "BD09"))


@dataclass
class PoiResult:
    """A vendor export, read.

    Attributes
    ----------
    frame : GeoDataFrame
        One point per POI in EPSG:4326 (WGS-84): ``name``, ``facility_type``
        (``""`` when unclassified), ``classified_by``, ``vendor``,
        ``vendor_type`` (the vendor's category text), ``vendor_code``,
        ``vendor_id``, ``address``, ``duplicates_merged``, ``source``,
        ``source_datum``, ``precision``.
    vendor : str
        ``amap``, ``baidu`` or ``tencent``.
    datum : str
        The datum the coordinates were read in.
    notes : list of str
        What was guessed, converted, dropped and merged, Chinese first.
    counts : dict
        ``rows``, ``no_coordinates``, ``outside_china``, ``merged``,
        ``unclassified``, ``kept`` and ``facility_types``.
    """

    frame: gpd.GeoDataFrame
    vendor: str
    datum: str
    notes: list[str] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- reading the table


def _decode(blob: bytes, name: str, notes: list[str]) -> str:
    for codec in ("utf-8-sig", "gb18030"):
        try:
            text = blob.decode(codec)
        except UnicodeDecodeError:
            continue
        if codec != "utf-8-sig":
            notes.append(f"{name} 不是 UTF-8 编码，按 GBK/GB18030 读取 ({name} is not UTF-8: read as GB18030)")
        return text
    msg = f"{name} 的文字编码无法识别（请另存为 UTF-8） ({name}: unknown text encoding; save it as UTF-8)"
    raise InputFileError(msg)


def _records(data: Any, name: str) -> list[dict[str, Any]]:
    """The POI records of a vendor API answer (``pois``, ``results``, ``data``) or a plain list."""
    if isinstance(data, list):
        records = data
    elif isinstance(data, dict):
        for key in ("pois", "results", "data", "result", "features"):
            if isinstance(data.get(key), list):
                records = data[key]
                break
        else:
            msg = (f"{name} 不是 POI 列表：JSON 中没有 pois、results 或 data 数组 "
                   f"({name}: no pois, results or data array in the JSON)")
            raise InputFileError(msg)
    else:
        msg = f"{name} 不是 POI 列表 ({name} is not a list of POIs)"
        raise InputFileError(msg)
    out = [r for r in records if isinstance(r, dict)]
    if out and "properties" in out[0] and "geometry" in out[0]:  # GeoJSON features
        out = [{**(r.get("properties") or {}), "location": _geojson_xy(r.get("geometry"))} for r in out]
    return out


def _geojson_xy(geometry: Any) -> str | None:
    if isinstance(geometry, dict) and geometry.get("type") == "Point":
        coords = geometry.get("coordinates") or []
        if len(coords) >= 2:
            return f"{coords[0]},{coords[1]}"
    return None


def read_table(data: UploadData, *, filename: str | None = None,
               max_bytes: int | None = None) -> tuple[pd.DataFrame, str, list[str]]:
    """A POI export as a table of text: CSV (UTF-8 or GBK), Excel ``.xlsx``, or the JSON of a place API.

    Returns
    -------
    (DataFrame, str, list of str)
        The rows (nested JSON flattened to ``location.lat`` …, column names
        lower-cased), the file's display name, notes.

    Raises
    ------
    InputFileError
        Too large, unknown type, unreadable, or no rows.
    """
    src = open_source(data, filename=filename, max_bytes=max_bytes)
    notes: list[str] = list(src.notes)
    if src.suffix not in POI_SUFFIXES:
        msg = (f"{src.name} 不是 POI 导出文件：请给出 {'、'.join(POI_SUFFIXES)} "
               f"({src.name}: POI exports are {', '.join(POI_SUFFIXES)})")
        raise InputFileError(msg)
    blob = src.data if src.data is not None else src.path.read_bytes() if src.path is not None else b""
    try:
        if src.suffix in (".csv", ".txt"):
            frame = pd.read_csv(io.StringIO(_decode(blob, src.name, notes)), dtype=str, keep_default_na=False)
        elif src.suffix == ".xlsx":
            if not blob.startswith(b"PK"):
                msg = f"{src.name} 不是 Excel .xlsx 文件 ({src.name} is not an .xlsx workbook)"
                raise InputFileError(msg)
            frame = pd.read_excel(io.BytesIO(blob), dtype=str, engine="openpyxl").fillna("")
        else:
            records = _records(json.loads(_decode(blob, src.name, notes)), src.name)
            frame = pd.json_normalize(records, sep=".") if records else pd.DataFrame()
    except InputFileError:
        raise
    except (ValueError, KeyError, OSError, pd.errors.ParserError) as exc:
        text = " ".join(str(exc).split())[:160]
        msg = f"无法读取 {src.name}：{text} (cannot read {src.name})"
        raise InputFileError(msg) from None
    except Exception as exc:  # openpyxl raises its own types for a damaged workbook
        if type(exc).__module__.startswith(("openpyxl", "zipfile")):
            msg = f"无法读取 Excel 文件 {src.name}：{exc} (cannot read the workbook {src.name})"
            raise InputFileError(msg) from None
        raise
    if frame.empty:
        msg = f"{src.name} 中没有 POI 记录 ({src.name} holds no POI rows)"
        raise InputFileError(msg)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    frame = frame.loc[:, ~pd.Index(frame.columns).duplicated()]
    return frame.astype(object).where(frame.notna(), None), src.name, notes


# --------------------------------------------------------------------------- guessing


def guess_vendor(columns: list[str], frame: pd.DataFrame) -> tuple[str | None, str]:
    """``(vendor, evidence)`` from the columns an export has (``None`` when no vendor fits)."""
    cols = set(columns)

    def sample(col: str, pattern: str) -> bool:
        values = frame[col].dropna().astype(str).head(50) if col in cols else pd.Series([], dtype=str)
        return bool(len(values)) and values.str.contains(pattern).mean() > 0.5

    if "typecode" in cols:
        return "amap", "有 typecode 列 (a typecode column)"
    if {"pname", "cityname", "adname"} & cols and "type" in cols:
        return "amap", "有 type 与 pname/cityname/adname 列 (type and pname/cityname/adname columns)"
    if "uid" in cols or "detail_info.tag" in cols or "detail_info.type" in cols:
        return "baidu", "有 uid 或 detail_info 列 (a uid or detail_info column)"
    if "category" in cols and sample("category", ":"):
        return "tencent", "category 列为“一级:二级”格式 (category values like 一级:二级)"
    if "ad_info.adcode" in cols or ("title" in cols and "location.lat" in cols):
        return "tencent", "有 title 与 location.lat 或 ad_info 列 (title with location.lat or ad_info)"
    if "tag" in cols and sample("tag", ";"):
        return "baidu", "tag 列为“一级;二级”格式 (tag values like 一级;二级)"
    if "type" in cols and sample("type", ";") and "location" in cols:
        return "amap", "type 列为“大类;中类;小类”且有 location 列 (type like 大类;中类;小类 with location)"
    return None, ""


def _first_column(cols: list[str], wanted: tuple[str, ...]) -> str | None:
    return next((c for c in wanted if c in cols), None)


def _numbers(values: pd.Series) -> np.ndarray:
    text = values.astype(str).str.strip()
    numbers = pd.to_numeric(text.where(~text.isin(["", "[]"])), errors="coerce")
    out: np.ndarray = np.asarray(numbers, dtype=np.float64)
    return out


def coordinates(frame: pd.DataFrame, name: str) -> tuple[np.ndarray, np.ndarray, list[str], str]:
    """Longitudes and latitudes of the rows (NaN where missing), the columns they came from, a datum hint.

    A ``"lng,lat"`` pair (AMap) or ``"lat,lng"`` (some Baidu exports) is told
    apart by the values: in China a longitude (73-136) is always larger than
    a latitude (3-54).

    Raises
    ------
    InputFileError
        No coordinate columns, or Baidu Mercator metres instead of degrees.
    """
    cols = list(frame.columns)
    lon_col, lat_col = _first_column(cols, _LON_COLUMNS), _first_column(cols, _LAT_COLUMNS)
    if lon_col and lat_col:
        lon, lat, used = _numbers(frame[lon_col]), _numbers(frame[lat_col]), [lon_col, lat_col]
    else:
        pair = _first_column(cols, _PAIR_COLUMNS)
        if pair is None:
            shown = "、".join(cols[:20])
            msg = (f"{name} 中没有坐标列：须有 location (\"经度,纬度\") 或 lng/lat 列；现有列：{shown} "
                   f"({name} has no coordinate columns: give location \"lng,lat\" or lng and lat)")
            raise InputFileError(msg)
        parts = frame[pair].astype(str).str.split(r"[,，\s]+", n=1, expand=True, regex=True)
        if parts.shape[1] < 2:
            parts[1] = None
        a, b = _numbers(parts[0]), _numbers(parts[1])
        swap = np.isfinite(a) & np.isfinite(b) & (b > a)  # "lat,lng": the longitude is the larger
        lon, lat, used = np.where(swap, b, a), np.where(swap, a, b), [pair]
    finite = np.isfinite(lon) & np.isfinite(lat)
    if finite.any() and (np.abs(lon[finite]) > 360).mean() > 0.5:
        msg = (f"{name} 的坐标是米（百度墨卡托 BD-09MC 或投影坐标），不是经纬度：请先导出经纬度 "
               f"({name}: coordinates are metres (Baidu Mercator BD-09MC or projected), not degrees)")
        raise InputFileError(msg)
    hint = ""
    for col in used:
        for token, datum in _DATUM_HINTS:
            if token in col:
                hint = datum
    return lon, lat, used, hint


# --------------------------------------------------------------------------- the pipeline


def read_poi(
    data: UploadData,
    *,
    filename: str | None = None,
    source: str = "auto",
    datum: str | None = None,
    merge_m: float = MERGE_M,
    max_bytes: int | None = None,
) -> PoiResult:
    """Read a POI export of AMap, Baidu or Tencent into classified WGS-84 points.

    Parameters
    ----------
    data : bytes, path or file object
        The export: ``.csv`` (UTF-8 or GBK), ``.xlsx`` or ``.json`` (a place
        API answer or a list of POIs).
    filename : str, optional, keyword-only
        The file's name (needed for bytes).
    source : {"auto", "amap", "baidu", "tencent"}, keyword-only
        The vendor; ``auto`` guesses it from the columns and says so.
    datum : str, optional, keyword-only
        Datum of the coordinates (``WGS84``, ``GCJ02``, ``BD09``); by default
        the vendor's own (AMap and Tencent GCJ-02, Baidu BD-09) unless a column
        name says otherwise. A datum other than the vendor's is used as given,
        with a note.
    merge_m : float, keyword-only
        POIs of the same name closer than this are merged (metres; 0 to keep all).
    max_bytes : int, optional, keyword-only
        Size limit (default :data:`spatial.settings.MAX_UPLOAD_BYTES`).

    Returns
    -------
    PoiResult

    Raises
    ------
    InputFileError
        Unreadable file, unknown columns, no coordinates, or most points outside China.
    ParameterError
        Unknown ``source`` or a negative ``merge_m``.
    DatumError
        Unknown ``datum``.
    """
    if source not in ("auto", *facilities.VENDORS):
        msg = (f"未知的 POI 来源 {source!r}：请用 auto、{'、'.join(facilities.VENDORS)} "
               f"(unknown POI source {source!r})")
        raise ParameterError(msg)
    if not isinstance(merge_m, (int, float)) or not np.isfinite(merge_m) or merge_m < 0:
        msg = f"合并距离须为非负的米数，收到 {merge_m!r} (merge_m must be metres >= 0)"
        raise ParameterError(msg)
    given_datum = normalise_datum(datum) if datum is not None else None
    frame, name, notes = read_table(data, filename=filename, max_bytes=max_bytes)
    cols = list(frame.columns)
    vendor, evidence = guess_vendor(cols, frame)
    if source == "auto":
        if vendor is None:
            shown = "、".join(cols[:20])
            msg = (f"无法判断 {name} 来自高德、百度还是腾讯：未知的列 {shown}；请用 --source 指明 "
                   f"(cannot tell whether {name} is an AMap, Baidu or Tencent export from its columns; "
                   "give --source)")
            raise InputFileError(msg)
        notes.append(f"按{vocab.label('vendor', vendor)}导出格式读取（依据：{evidence}） "
                     f"(read as an {vocab.LABELS['vendor'][vendor][1]} export)")
    else:
        if vendor is not None and vendor != source:
            notes.append(f"注意：{name} 的列像{vocab.label('vendor', vendor)}导出（{evidence}），但按指定的"
                         f"{vocab.label('vendor', source)}读取 (the columns look like {vendor}, read as {source})")
        vendor = source
    lon, lat, used, hint = coordinates(frame, name)
    src_datum, datum_note = _choose_datum(vendor, given_datum, hint, used)
    notes.append(datum_note)
    counts: dict[str, Any] = {"rows": len(frame)}
    located = np.isfinite(lon) & np.isfinite(lat)
    counts["no_coordinates"] = int((~located).sum())
    if counts["no_coordinates"]:
        notes.append(f"{counts['no_coordinates']:,} 条记录没有坐标，未导入 ({counts['no_coordinates']} rows without "
                     "coordinates left out)")
    inside = located & in_china(np.where(located, lon, 0.0), np.where(located, lat, 0.0))
    counts["outside_china"] = int((located & ~inside).sum())
    if located.any() and counts["outside_china"] > 0.5 * located.sum():
        msg = (f"{name} 中大多数坐标不在中国境内（{counts['outside_china']:,} / {int(located.sum()):,}）："
               "经纬度是否颠倒？"
               f"({name}: most coordinates are outside China; are longitude and latitude swapped?)")
        raise InputFileError(msg)
    if counts["outside_china"]:
        notes.append(f"{counts['outside_china']:,} 条记录的坐标不在中国境内，未导入 "
                     f"({counts['outside_china']} rows outside China left out)")
    if not inside.any():
        msg = f"{name} 中没有可用的坐标 ({name} has no usable coordinates)"
        raise InputFileError(msg)
    kept = frame[inside].reset_index(drop=True)
    wlon, wlat = convert(lon[inside], lat[inside], source=src_datum, target="WGS84")
    points = _classified(kept, vendor, wlon, wlat, name=name, datum=src_datum)
    points, merged = _merge(points, merge_m)
    counts["merged"] = merged
    if merged:
        notes.append(f"{merged:,} 条重复记录（同名且相距不到 {merge_m:g} m）已合并 "
                     f"({merged} duplicates within {merge_m:g} m with the same name merged)")
    counts["unclassified"] = int((points["facility_type"] == "").sum())
    counts["kept"] = len(points)
    counts["facility_types"] = facilities.type_counts(points["facility_type"])
    if counts["unclassified"]:
        notes.append(f"{counts['unclassified']:,} 个 POI 不属于生活圈设施类型，保留为“未归类” "
                     f"({counts['unclassified']} POIs unclassified, kept)")
    return PoiResult(frame=points, vendor=vendor, datum=src_datum, notes=notes, counts=counts)


def _choose_datum(vendor: str, given: Datum | None, hint: str, used: list[str]) -> tuple[Datum, str]:
    default = VENDOR_DATUM[vendor]
    label = vocab.label("vendor", vendor)
    if given is not None:
        if given != default:
            return given, (f"注意：{label}导出通常为 {vocab.label('datum', default)}，按指定的 "
                           f"{vocab.label('datum', given)} 转换为 WGS-84；若坐标偏移数百米，请检查坐标系 "
                           f"({vendor} exports are usually {default}; converted from the {given} given)")
        return given, f"坐标按指定的 {vocab.label('datum', given)} 转换为 WGS-84 (converted from {given} as given)"
    if hint and hint != default:
        hint_datum = normalise_datum(hint)
        return hint_datum, (f"坐标列 {'、'.join(used)} 表明坐标系为 {vocab.label('datum', hint_datum)}（而不是{label}"
                            f"默认的 {vocab.label('datum', default)}），据此转换为 WGS-84 "
                            f"(the column names say {hint_datum}, not {vendor}'s default {default})")
    return default, (f"坐标按{label}默认的 {vocab.label('datum', default)} 转换为 WGS-84"
                     "（猜测；如不符请用 --datum 指明） "
                     f"(guessed {default}, {vendor}'s default; give --datum if not)")


def _text(frame: pd.DataFrame, wanted: tuple[str, ...]) -> pd.Series:
    col = _first_column(list(frame.columns), wanted)
    if col is None:
        return pd.Series([""] * len(frame), index=frame.index, dtype=object)
    return frame[col].map(lambda v: "" if v is None or (isinstance(v, float) and v != v) or v == "[]"
                          else str(v).strip())


def _classified(frame: pd.DataFrame, vendor: str, lon: np.ndarray, lat: np.ndarray, *, name: str,
                datum: str) -> gpd.GeoDataFrame:
    names = _text(frame, _NAME_COLUMNS)
    categories = _text(frame, _CATEGORY_COLUMNS[vendor])
    codes = _text(frame, ("typecode",)) if vendor == "amap" else pd.Series([""] * len(frame), dtype=object)
    classes = facilities.classify_vendor(vendor, codes=codes.tolist(), categories=categories.tolist(),
                                         names=names.tolist())
    return gpd.GeoDataFrame({
        "name": names.to_numpy(), "facility_type": classes["facility_type"].to_numpy(),
        "classified_by": classes["classified_by"].to_numpy(), "vendor": vendor,
        "vendor_type": categories.to_numpy(), "vendor_code": codes.to_numpy(),
        "vendor_id": _text(frame, _ID_COLUMNS).to_numpy(), "address": _text(frame, _ADDRESS_COLUMNS).to_numpy(),
        "duplicates_merged": 0, "source": f"{vocab.label('vendor', vendor)} POI 导出 {name}",
        "source_datum": datum, "precision": "exact",
    }, geometry=gpd.GeoSeries(shapely.points(lon, lat), crs=settings.STORAGE_CRS), crs=settings.STORAGE_CRS)


def _normalised_names(names: pd.Series) -> np.ndarray:
    return names.fillna("").astype(str).map(lambda s: re.sub(r"[\s()（）\[\]【】·.\-_]", "", s).lower()).to_numpy()


def _merge(points: gpd.GeoDataFrame, merge_m: float) -> tuple[gpd.GeoDataFrame, int]:
    """Merge POIs of the same (normalised, non-blank) name within ``merge_m`` metres; keep the first."""
    if merge_m <= 0 or len(points) < 2:
        return points, 0
    lon = shapely.get_x(points.geometry.to_numpy())
    lat = shapely.get_y(points.geometry.to_numpy())
    zone = int((np.nanmean(lon) + 180) // 6) + 1
    tr = transformer(settings.STORAGE_CRS, f"+proj=utm +zone={zone} +datum=WGS84")
    x, y = tr.transform(lon, lat)
    pairs = cKDTree(np.column_stack([x, y])).query_pairs(r=merge_m, output_type="ndarray")
    if len(pairs) == 0:
        return points, 0
    names = _normalised_names(points["name"])
    same = (names[pairs[:, 0]] == names[pairs[:, 1]]) & (names[pairs[:, 0]] != "")
    pairs = pairs[same]
    if len(pairs) == 0:
        return points, 0
    n = len(points)
    graph = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, label = csgraph.connected_components(graph, directed=False)
    first = np.unique(label, return_index=True)[1]
    sizes = np.bincount(label)
    out = points.iloc[np.sort(first)].copy()
    out["duplicates_merged"] = sizes[label[np.sort(first)]] - 1
    return out.reset_index(drop=True), n - len(out)
