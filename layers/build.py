"""Build every planning layer from a report, offline, on the data shipped with planatlas."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from spatial import settings
from spatial._errors import ReportError

#: Gazetteer kinds that make up the parks layer.
PARK_KINDS = ("park", "wetland")


@dataclass
class BuildResult:
    """Layers by name, and the geocoding summary a planner reads first."""

    layers: dict[str, gpd.GeoDataFrame]
    summary: "object"
    report_name: str


def _quantities_json(text: str) -> str:
    from spatial.quantities import extract_quantities

    out = []
    for q in extract_quantities(text):
        out.append({"subject": q.subject, "value": q.value, "unit": q.unit, "raw": q.raw, "kind": q.kind})
    return json.dumps(out, ensure_ascii=False)


def report_items(report, geocoder) -> tuple[gpd.GeoDataFrame, object]:
    """The report's items, geocoded, with their quantities."""
    items = report.items_frame()
    if len(items) == 0:
        raise ReportError("the report has no items to map")
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
            out.at[i, "source"] = outlines.at[name, "source"]
            out.at[i, "source_datum"] = outlines.at[name, "source_datum"]
            out.at[i, "precision"] = outlines.at[name, "precision"]
    zone = out["name"] == "济南新旧动能转换起步区"
    if zone.any() and len(starting_zone):
        row = starting_zone.iloc[0]
        for i in out.index[zone]:
            out.at[i, "geometry"] = row["geometry"]
            for col in ("source", "source_datum", "precision"):
                out.at[i, col] = row[col]
    return gpd.GeoDataFrame(out, geometry="geometry", crs=settings.STORAGE_CRS)


def build_all(report_path: str | os.PathLike | None = None) -> BuildResult:
    """Parse, geocode and assemble all layers.

    Parameters
    ----------
    report_path : path-like, optional
        A work report (UTF-8 or GBK markdown/text); the embedded Jinan report by default.
    """
    from spatial.geocode import Geocoder
    from spatial.report import read_report

    from . import planning
    from .districts import districts

    path = Path(report_path) if report_path is not None else settings.DEFAULT_REPORT
    report = read_report(path)
    geocoder = Geocoder.default()
    items, summary = report_items(report, geocoder)
    if summary.mentions_resolved == 0:
        raise ReportError(
            f"{path.name}: no place the gazetteer knows is named in this report; nothing to map"
        )
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
    return BuildResult(layers=layers, summary=summary, report_name=path.name)


def build_layers(report_path: str | os.PathLike | None = None) -> dict[str, gpd.GeoDataFrame]:
    """All layers by name (see :data:`layers.LAYERS`)."""
    return build_all(report_path).layers


def layer_table(result: BuildResult) -> pd.DataFrame:
    """Feature counts per layer, for the CLI's summary."""
    from layers import LAYERS

    rows = []
    for name, gdf in result.layers.items():
        spec = LAYERS.get(name)
        located = int((~gdf.geometry.isna()).sum())
        rows.append({"layer": name, "title": spec.title_zh if spec else "", "features": len(gdf),
                     "located": located})
    return pd.DataFrame(rows)
