"""Build every planning layer from a report, offline, and write the default store.

This module sits above both ``spatial`` (the library) and the layer data: it
parses and geocodes a report with the library, assembles the layers from the
authored data of ``layers/``, and hands everything to
:func:`spatial.store.write_store` with its specs. The CLI and the app call
:func:`ensure_default_store`; analyses then read what they need from the store.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from spatial import __version__, settings, store
from spatial._errors import ReportError
from spatial.geocode import Geocoder, GeocodeSummary
from spatial.layerspec import LayerSpec
from spatial.quantities import extract_quantities, targets_table
from spatial.report import Report, read_report

from . import LAYERS, planning
from .districts import districts

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


def report_table(report: Report, *, name: str) -> pd.DataFrame:
    """The report itself, one row: kept in the store so the app shows the text it was built from."""
    return pd.DataFrame([{
        "name": name,
        "title": report.title,
        "date": report.date.isoformat() if report.date else "",
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


def build_all(report_path: str | os.PathLike[str] | None = None) -> BuildResult:
    """Parse, geocode and assemble all layers.

    Parameters
    ----------
    report_path : path-like, optional
        A work report (UTF-8 or GBK markdown/text); the embedded Jinan report by default.
    """
    path = Path(report_path) if report_path is not None else settings.DEFAULT_REPORT
    report = read_report(path)
    geocoder = Geocoder.default()
    items, summary = report_items(report, geocoder)
    if summary.mentions_resolved == 0:
        msg = (
            f"{path.name}：报告中没有地名库中的地名，无可绘制的内容 "
            "(no place the gazetteer knows is named in this report; nothing to map)"
        )
        raise ReportError(msg)
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
    tables = {
        "report": report_table(report, name=path.name),
        "targets": targets_table(report),
        "build": build_table(path.name, summary),
    }
    return BuildResult(layers=layers, specs=dict(LAYERS), tables=tables, summary=summary, report=report,
                       report_name=path.name)


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


def ensure_default_store(path: str | os.PathLike[str] | None = None) -> Path:
    """The store, built from the embedded report first if it does not exist yet.

    Building runs entirely offline on the data shipped with planatlas.
    """
    target = Path(path).expanduser() if path is not None else settings.default_store_path()
    if target.exists():
        return target
    return write_build(build_all(), target)
