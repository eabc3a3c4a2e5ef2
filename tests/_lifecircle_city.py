"""A small hand-built city with known answers, shared by the life-circle tests.

One straight street, y = 0, from x = 0 to 1,000 m (nodes A(0), B(500), C(1000);
EPSG:4548 metres near Jinan). Residential land is the strip 0-1,000 x 0-100 m,
so the 100 m grid gives ten whole cells with centres (50 + 100 i, 50), each
50 m from the street. Two units: West (x < 500, 1,000 residents) and East
(x > 500, 3,000 residents), spread by land area: 200 per West cell, 600 per
East cell.

Three facility types at known places (x, distance from the street):

* kindergarten (5-minute tier, 300 m) at (100, -10);
* primary school (10-minute tier, 500 m) at (900, -20);
* middle school (15-minute tier, 1,000 m) at (500, -30).

Along the street the distance from cell i (x_i = 50 + 100 i) to a facility at
(x_f, -s) is 50 + |x_i - x_f| + s, so:

* kindergarten: 110, 110, 210, 310, ... -> cells 0-2 within 300 m (all West):
  600 of West's 1,000 residents, none of East's 3,000;
* primary school: 50 + |x_i - 900| + 20 -> within 500 m for x_i >= 470: cells
  5-9 (all East): 3,000 residents, none in West;
* middle school: at most 50 + 450 + 30 = 530 m: everyone.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import networkx as nx
import shapely

from spatial import store
from spatial.layerspec import LayerSpec
from spatial.network import StreetNetwork, from_graph

X0, Y0 = 500_000.0, 4_060_000.0
CRS = "EPSG:4548"

#: facility type -> (x, metres below the street)
FACILITIES = {"kindergarten": (100.0, 10.0), "primary_school": (900.0, 20.0), "middle_school": (500.0, 30.0)}

#: West cells 0-4 (200 residents each), East cells 5-9 (600 each)
WEST, EAST = 1000.0, 3000.0


def network() -> StreetNetwork:
    G = nx.MultiDiGraph(crs=CRS)
    for n, x in {1: 0.0, 2: 500.0, 3: 1000.0}.items():
        G.add_node(n, x=X0 + x, y=Y0)
    for u, v in ((1, 2), (2, 3)):
        length = math.hypot(G.nodes[u]["x"] - G.nodes[v]["x"], 0.0)
        G.add_edge(u, v, length=length)
        G.add_edge(v, u, length=length)
    return from_graph(G)


def units() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["West", "East"], "population": [WEST, EAST], "population_source": "hand-built test city"},
        geometry=[shapely.box(X0, Y0 - 100, X0 + 500, Y0 + 200), shapely.box(X0 + 500, Y0 - 100, X0 + 1000, Y0 + 200)],
        crs=CRS,
    )


def residential() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": ["strip"]}, geometry=[shapely.box(X0, Y0, X0 + 1000, Y0 + 100)], crs=CRS)


def facilities(**extra: tuple[float, float]) -> gpd.GeoDataFrame:
    places = {**FACILITIES, **extra}
    return gpd.GeoDataFrame(
        {"facility_type": [k.split("#")[0] for k in places], "name": list(places)},
        geometry=[shapely.Point(X0 + x, Y0 - s) for x, s in places.values()],
        crs=CRS,
    )


def write_store(path: Path, *, with_network: bool = True) -> Path:
    """The city as a project store with the layer roles the evaluation reads."""
    layers = {"units": units(), "residential": residential(), "facilities": facilities()}
    specs = {
        "units": LayerSpec("units", "单元", role="units"),
        "residential": LayerSpec("residential", "居住用地", role="residential"),
        "facilities": LayerSpec("facilities", "设施", role="facilities"),
    }
    if with_network:
        layers["network_walk"] = network().edges_frame()
        specs["network_walk"] = LayerSpec("network_walk", "步行网络", role="network", source="hand-built streets")
    return store.write_store(layers, path, specs=specs)
