"""Planner corrections: places and items put on the map by hand, kept in the store.

The gazetteer cannot know every site a report names, and some of its points
are estimates. A planner who knows better places an unresolved item, or moves
a wrong one, by clicking the map or typing coordinates with their datum. Each
correction is a row of the store's ``user_places`` layer (:data:`USER_PLACES`):

* with an ``item_id``: that item is drawn there (``geocode_status="corrected"``);
* without one: a place called ``name`` (a name the report uses, or a gazetteer
  place it ``replaces``), consulted by the geocoder before the authored
  gazetteer, so every item naming it follows.

A correction records its provenance like every feature (``source`` =
"规划师修正 planner correction", ``source_datum`` = the datum the coordinates
were given in, converted to WGS-84 on entry, ``precision``, ``corrected_at`` =
the date) and survives rebuilds: ``planatlas build`` reads the layer before it
rebuilds and writes it back. The corrections travel as CSV too:
:func:`unresolved_table` lists what is left to place (``planatlas unresolved
--out``), :func:`read_corrections_csv` brings the filled-in answers back
(``planatlas import-places FILE.csv --datum ...``), :func:`corrections_csv`
exports what a store holds.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from . import settings
from ._atomic import atomic_path
from ._errors import EmptyLayerError, InputFileError, ParameterError, StoreError
from .datum import convert, normalise_datum
from .gazetteer import DEFAULT_ERROR_M, PRECISIONS
from .geocode import CORRECTION_SOURCE, USER_PLACE_COLUMNS
from .layerspec import LayerSpec, LayerStyle
from .projection import reproject

#: Name of the store layer that holds the corrections.
USER_PLACES = "user_places"

#: Its declaration (a layer of role ``places``, drawn above the gazetteer's places).
USER_PLACES_SPEC = LayerSpec(
    USER_PLACES, "规划师修正地名", "Planner corrections",
    "Places and items a planner placed or moved by hand (map click or coordinates with their datum); "
    "the geocoder consults them before the gazetteer, and rebuilds keep them.",
    CORRECTION_SOURCE, "the planner's own", "per row (converted to WGS-84)", "per row", "Point",
    role="places", order=85, visible=True,
    style=LayerStyle(color="#e7298a", weight=2, fill_opacity=0.9, radius=6),
)

#: Precision classes a planner may give a correction.
CORRECTION_PRECISIONS: tuple[str, ...] = tuple(p for p in PRECISIONS if p not in ("district_fallback", "unresolved"))

#: Columns of the CSV that ``planatlas unresolved`` writes and ``import-places`` reads.
CSV_COLUMNS: tuple[str, ...] = (
    "item_id", "name", "n_items", "item_ids", "example_text", "lon", "lat", "precision", "error_m", "note",
)


def _today() -> str:
    return _dt.date.today().isoformat()


def _precision(value: object) -> str:
    text = str(value or "approximate").strip()
    if text not in CORRECTION_PRECISIONS:
        msg = (f"修正的精度须为 {', '.join(CORRECTION_PRECISIONS)} 之一，收到 {text!r} "
               f"(a correction's precision must be one of {', '.join(CORRECTION_PRECISIONS)})")
        raise ParameterError(msg)
    return text


def _error(value: object, precision: str) -> float:
    if value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == "":
        return DEFAULT_ERROR_M.get(precision, 1_500.0)
    try:
        error = float(str(value))
    except ValueError:
        msg = f"预计误差 error_m 须为米数，收到 {value!r} (error_m must be a number of metres)"
        raise ParameterError(msg) from None
    if not math.isfinite(error) or error <= 0:
        msg = f"预计误差 error_m 须为正数，收到 {value!r} (error_m must be positive)"
        raise ParameterError(msg)
    return error


def _point(lon: object, lat: object, datum: str) -> tuple[shapely.Point, str]:
    """The WGS-84 point of coordinates given in ``datum``, checked."""
    name = normalise_datum(datum)
    try:
        x, y = float(str(lon)), float(str(lat))
    except ValueError:
        msg = f"经纬度须为数字，收到 ({lon!r}, {lat!r}) (longitude and latitude must be numbers)"
        raise ParameterError(msg) from None
    if not (math.isfinite(x) and math.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90):
        msg = (f"经纬度 ({lon}, {lat}) 超出范围：经度 -180~180，纬度 -90~90（是否写反？） "
               f"(({lon}, {lat}) is not a longitude/latitude; swapped?)")
        raise ParameterError(msg)
    if not (73 <= x <= 136 and 3 <= y <= 54):
        msg = (f"经纬度 ({lon}, {lat}) 不在中国境内：是否写反了经度和纬度？ "
               f"(({lon}, {lat}) is outside China: are longitude and latitude swapped?)")
        raise ParameterError(msg)
    wx, wy = convert(x, y, source=name, target="WGS84")
    return shapely.Point(float(wx), float(wy)), name


def make_correction(*, lon: float, lat: float, datum: str = "WGS84", name: str | None = None,
                    item_id: str | None = None, replaces: str | None = None, precision: str = "approximate",
                    error_m: float | None = None, note: str = "", kind: str = "other", district: str = "",
                    corrected_at: str | None = None) -> gpd.GeoDataFrame:
    """One correction as a one-row frame of the ``user_places`` layer.

    Parameters
    ----------
    lon, lat : float, keyword-only
        Degrees in ``datum``.
    datum : str, keyword-only
        ``WGS84`` (GPS, OSM, Tianditu), ``GCJ02`` (AMap/Gaode, Tencent) or
        ``BD09`` (Baidu); converted to WGS-84, recorded in ``source_datum``.
    name : str, optional, keyword-only
        The place: a name the report uses (its items follow the correction).
    item_id : str, optional, keyword-only
        The item placed (only that item moves). ``name`` or ``item_id`` is needed.
    replaces : str, optional, keyword-only
        Id of the gazetteer place this moves (found by ``name`` when not given).
    precision : str, keyword-only
        How sure the planner is (:data:`CORRECTION_PRECISIONS`; default ``approximate``).
    error_m : float, optional, keyword-only
        Expected error in metres (default: the precision class's).
    corrected_at : str, optional, keyword-only
        ISO date (default today).

    Raises
    ------
    ParameterError
        Neither name nor item, coordinates that are not degrees or lie outside
        China, an unknown precision, a bad error.
    DatumError
        Unknown datum.
    """
    label = (name or "").strip()
    item = (item_id or "").strip()
    if not label and not item:
        msg = "修正须给出地名或条目编号 (a correction needs a place name or an item id)"
        raise ParameterError(msg)
    point, source_datum = _point(lon, lat, datum)
    prec = _precision(precision)
    row = {
        "id": "", "name": label or item, "item_id": item, "replaces": (replaces or "").strip(), "kind": kind or "other",
        "district": district or "", "source": CORRECTION_SOURCE, "source_datum": source_datum, "precision": prec,
        "coord_basis": "corrected", "error_m": _error(error_m, prec), "corrected_at": corrected_at or _today(),
        "note": note or "",
    }
    return gpd.GeoDataFrame([row], geometry=[point], crs=settings.STORAGE_CRS)


def _key(row: pd.Series | dict[str, Any]) -> tuple[str, str]:
    return (str(row.get("item_id") or "").strip(), "" if str(row.get("item_id") or "").strip()
            else str(row.get("name") or "").strip())


def merge_corrections(existing: gpd.GeoDataFrame | None, new: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The corrections with ``new`` added; a new one replaces an old one of the same item (or name).

    Ids ``U001``, ``U002`` … are given in order, so a store's layer reads the
    same after every merge.
    """
    frames = [f for f in (existing, new) if f is not None and len(f)]
    if not frames:
        return empty_corrections()
    both = gpd.GeoDataFrame(pd.concat([_columns(f) for f in frames], ignore_index=True), geometry="geometry",
                            crs=settings.STORAGE_CRS)
    keys = [_key(r) for _, r in both.iterrows()]
    last = {k: i for i, k in enumerate(keys)}
    kept = both.iloc[sorted(last.values())].reset_index(drop=True)
    kept["id"] = [f"U{i + 1:03d}" for i in range(len(kept))]
    return gpd.GeoDataFrame(kept, geometry="geometry", crs=settings.STORAGE_CRS)


def _columns(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = reproject(frame, settings.STORAGE_CRS) if frame.crs is not None and not frame.crs.equals("EPSG:4326") \
        else frame.copy()
    for col in USER_PLACE_COLUMNS:
        if col not in out.columns:
            out[col] = ""
    out = out[[*USER_PLACE_COLUMNS, out.geometry.name]].rename_geometry("geometry") \
        if out.geometry.name != "geometry" else out[[*USER_PLACE_COLUMNS, "geometry"]]
    for col in USER_PLACE_COLUMNS:
        if col != "error_m":
            out[col] = out[col].map(lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))
    out["error_m"] = pd.to_numeric(out["error_m"], errors="coerce")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=settings.STORAGE_CRS)


def empty_corrections() -> gpd.GeoDataFrame:
    """A ``user_places`` frame with no rows (the columns and the CRS only)."""
    frame = pd.DataFrame({c: pd.Series(dtype="float64" if c == "error_m" else "object") for c in USER_PLACE_COLUMNS})
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=settings.STORAGE_CRS), crs=settings.STORAGE_CRS)


def read_user_places(path: str | os.PathLike[str]) -> gpd.GeoDataFrame | None:
    """The corrections a store holds, or ``None`` (no store at ``path``, or no ``user_places`` layer)."""
    from . import store

    target = Path(path).expanduser()
    if not target.is_file():
        return None
    try:
        meta = store.list_layers(target)
    except StoreError:
        return None
    if USER_PLACES not in set(meta["name"]):
        return None
    frame = store.read_layer(USER_PLACES, path=target)
    return _columns(frame) if len(frame) else None


# -- what is left to place, as CSV --------------------------------------------------------


def unresolved_table(items: pd.DataFrame) -> pd.DataFrame:
    """One row per name the items use that is not located, with the items that use it.

    Names of another city and phrases that are no place are left out (they are
    not to be placed in this city). Columns: :data:`CSV_COLUMNS`, ``lon``/``lat``
    blank for the planner to fill.

    Raises
    ------
    ParameterError
        When ``items`` lacks ``item_id``, ``text`` or ``mentions``.
    """
    if not isinstance(items, pd.DataFrame) or not {"item_id", "text", "mentions"} <= set(items.columns):
        msg = "须为含 item_id、text、mentions 列的报告条目 (items need item_id, text and mentions columns)"
        raise ParameterError(msg)
    located_items = set(items.loc[items.geometry.notna(), "item_id"]) if isinstance(items, gpd.GeoDataFrame) \
        else set()
    names: dict[str, list[str]] = {}
    texts: dict[str, str] = {}
    for item_id, text, mentions in zip(items["item_id"], items["text"], items["mentions"], strict=True):
        for mt in json.loads(mentions or "[]"):
            if mt.get("status", "unresolved" if not mt.get("place_id") else "place") != "unresolved":
                continue
            name = str(mt["text"]).strip()
            ids = names.setdefault(name, [])
            if item_id not in ids:
                ids.append(str(item_id))
            texts.setdefault(name, str(text))
    rows = []
    for name in sorted(names, key=lambda n: (-len(names[n]), n)):
        ids = names[name]
        waiting = [i for i in ids if i not in located_items]
        rows.append({"item_id": "", "name": name, "n_items": len(ids), "item_ids": "|".join(ids),
                     "example_text": texts[name], "lon": "", "lat": "", "precision": "approximate", "error_m": "",
                     "note": f"{len(waiting)} 条目仍未定位" if waiting else "条目已按其他地点绘制"})
    return pd.DataFrame(rows, columns=list(CSV_COLUMNS))


def write_csv(table: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a table as UTF-8 CSV with a BOM (Excel opens it as Chinese text), atomically.

    Cells that a spreadsheet would run as a formula (=, +, -, @ first) get a
    leading apostrophe.
    """
    target = Path(path).expanduser()
    if target.suffix.lower() != ".csv":
        msg = f"输出文件须为 .csv，收到 {target.name} (the output must be a .csv file)"
        raise ParameterError(msg)
    if target.exists() and not target.is_file():
        msg = f"无法写入 {target}：不是普通文件 (not a regular file)"
        raise InputFileError(msg)
    safe = table.astype(object).where(table.notna(), "").map(
        lambda v: "'" + v if isinstance(v, str) and v and v[0] in "=+-@" and not _numeric(v) else v)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        safe.to_csv(tmp, index=False, encoding="utf-8-sig")
    return target


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def corrections_csv(user_places: gpd.GeoDataFrame) -> pd.DataFrame:
    """The corrections as the CSV :func:`read_corrections_csv` reads back (lon/lat in WGS-84)."""
    frame = _columns(user_places)
    return pd.DataFrame({
        "item_id": frame["item_id"], "name": frame["name"], "n_items": "", "item_ids": "", "example_text": "",
        "lon": frame.geometry.x.round(7), "lat": frame.geometry.y.round(7), "precision": frame["precision"],
        "error_m": frame["error_m"], "note": frame["note"],
    }, columns=list(CSV_COLUMNS))


def read_corrections_csv(path: str | os.PathLike[str] | bytes, *, datum: str, filename: str | None = None,
                         corrected_at: str | None = None) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Corrections from a CSV (the one ``planatlas unresolved`` wrote, with lon/lat filled in).

    Rows whose ``lon``/``lat`` are blank are skipped (the planner had no answer
    for them). The file is read by :func:`spatial.io.read_upload` (size limit,
    encoding, coordinate checks) and converted from ``datum`` to WGS-84.

    Returns
    -------
    (GeoDataFrame, list of str)
        The corrections (``user_places`` columns) and the reader's notes.

    Raises
    ------
    InputFileError
        Not a readable CSV, no ``name``/``item_id`` column, or coordinates
        outside China.
    EmptyLayerError
        No row has coordinates.
    DatumError
        Unknown datum.
    """
    from .io import read_upload

    source_datum = normalise_datum(datum)
    try:
        result = read_upload(path, filename=filename, datum=source_datum)
    except EmptyLayerError:
        msg = "CSV 中没有填写经纬度的行：请先在 lon、lat 列填入坐标 (no row of the CSV has lon/lat filled in)"
        raise EmptyLayerError(msg) from None
    frame = result.frame
    if "name" not in frame.columns and "item_id" not in frame.columns:
        msg = "CSV 须有 name 或 item_id 列 (the CSV needs a name or an item_id column)"
        raise InputFileError(msg)
    rows = []
    geoms = []
    when = corrected_at or _today()
    for _, r in frame.iterrows():
        name = "" if pd.isna(r.get("name")) else str(r.get("name")).strip()
        item = "" if pd.isna(r.get("item_id")) else str(r.get("item_id")).strip()
        if not name and not item:
            continue
        prec = _precision(None if pd.isna(r.get("precision")) else r.get("precision"))
        rows.append({"id": "", "name": name or item, "item_id": item, "replaces": "", "kind": "other",
                     "district": "", "source": CORRECTION_SOURCE + f" (CSV {result.source_name})",
                     "source_datum": source_datum, "precision": prec, "coord_basis": "corrected",
                     "error_m": _error(r.get("error_m"), prec), "corrected_at": when,
                     "note": "" if pd.isna(r.get("note")) else str(r.get("note"))})
        geoms.append(r.geometry)
    if not rows:
        msg = "CSV 中没有带地名或条目编号的行 (no row of the CSV names a place or an item)"
        raise EmptyLayerError(msg)
    out = gpd.GeoDataFrame(rows, geometry=geoms, crs=settings.STORAGE_CRS)
    return _columns(out), list(result.warnings)


__all__ = [
    "CORRECTION_PRECISIONS",
    "CSV_COLUMNS",
    "USER_PLACES",
    "USER_PLACES_SPEC",
    "corrections_csv",
    "empty_corrections",
    "make_correction",
    "merge_corrections",
    "read_corrections_csv",
    "read_user_places",
    "unresolved_table",
    "write_csv",
]

