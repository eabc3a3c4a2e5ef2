"""Road centrelines into a routable network: distances equal networkx's on the same lines."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from spatial import intake, network, store
from spatial._errors import EmptyLayerError, NetworkDataError, ParameterError, StoreError
from spatial.cli import main
from spatial.io.roads import detect_fields, road_network

# a corner of Jinan in CGCS2000 / 3-degree Gauss-Kruger CM 117E (EPSG:4548), metres
X0, Y0 = 503_000.0, 4_058_000.0


def _grid_lines() -> list[tuple[shapely.LineString, dict]]:
    """A 5 x 5 street grid, 200 m apart, drawn as long lines crossing without shared vertices, and more."""
    rows: list[tuple[shapely.LineString, dict]] = []
    for k in range(5):
        y = Y0 + 200 * k
        rows.append((shapely.LineString([(X0, y), (X0 + 800, y)]), {"oneway": "1" if k == 2 else "0", "level": 0}))
        x = X0 + 200 * k
        rows.append((shapely.LineString([(x, Y0), (x, Y0 + 800)]), {"oneway": "0", "level": 0}))
    # a diagonal through the grid's crossings
    rows.append((shapely.LineString([(X0, Y0), (X0 + 800, Y0 + 800)]), {"oneway": "0", "level": 0}))
    # a bridge over every east-west street, joined only at its ramps' ends
    rows.append((shapely.LineString([(X0 + 100, Y0 - 100), (X0 + 100, Y0 + 900)]), {"oneway": "0", "level": 1}))
    rows.append((shapely.LineString([(X0 + 100, Y0 - 100), (X0, Y0 - 100), (X0, Y0)]), {"oneway": "0", "level": 0}))
    rows.append((shapely.LineString([(X0 + 100, Y0 + 900), (X0 + 200, Y0 + 900), (X0 + 200, Y0 + 800)]),
                 {"oneway": "0", "level": 0}))
    # drawn 0.4 m short of the street it joins (a T), and two ends 0.36 m apart
    rows.append((shapely.LineString([(X0 + 700, Y0 + 100), (X0 + 799.6, Y0 + 100)]), {"oneway": "0", "level": 0}))
    rows.append((shapely.LineString([(X0 + 800, Y0 + 800), (X0 + 1000, Y0 + 800)]), {"oneway": "0", "level": 0}))
    rows.append((shapely.LineString([(X0 + 1000.3, Y0 + 800.2), (X0 + 1200, Y0 + 800)]), {"oneway": "0", "level": 0}))
    # an island far away
    rows.append((shapely.LineString([(X0 + 3000, Y0), (X0 + 3100, Y0)]), {"oneway": "0", "level": 0}))
    return rows


def _write(tmp_path: Path) -> Path:
    rows = _grid_lines()
    gdf = gpd.GeoDataFrame([r[1] for r in rows], geometry=[r[0] for r in rows], crs="EPSG:4548")
    path = tmp_path / "roads.shp"
    gdf.to_file(path)
    return path


def _oracle(directed: bool) -> tuple[nx.Graph, np.ndarray, list]:
    """networkx on the same lines, noded by GEOS per level, the near-misses closed by hand."""
    rows = _grid_lines()[:-1]  # without the island
    fixed = []
    for line, attrs in rows:
        coords = np.asarray(line.coords)
        coords[np.all(np.isclose(coords, [X0 + 799.6, Y0 + 100]), axis=1)] = [X0 + 800, Y0 + 100]
        # the two ends 0.36 m apart meet half way
        mid = [X0 + 1000.15, Y0 + 800.1]
        coords[np.all(np.isclose(coords, [X0 + 1000, Y0 + 800]), axis=1)] = mid
        coords[np.all(np.isclose(coords, [X0 + 1000.3, Y0 + 800.2]), axis=1)] = mid
        fixed.append((shapely.LineString(coords), attrs))
    graph: nx.Graph = nx.DiGraph() if directed else nx.Graph()
    ground = [g for g, a in fixed if a["level"] == 0]
    ground_oneway = {g.wkt: a["oneway"] == "1" for g, a in fixed if a["level"] == 0}
    noded = shapely.get_parts(shapely.node(shapely.multilinestrings(ground)))
    for part in noded:
        a, b = part.coords[0], part.coords[-1]
        source = next(g for g in ground if g.distance(part.interpolate(0.5, normalized=True)) < 1e-6)
        graph.add_edge(a, b, weight=part.length)
        if directed and not ground_oneway[source.wkt]:
            graph.add_edge(b, a, weight=part.length)
    for g, a in fixed:
        if a["level"] == 1:
            graph.add_edge(g.coords[0], g.coords[-1], weight=g.length)
            if directed:
                graph.add_edge(g.coords[-1], g.coords[0], weight=g.length)
    nodes = list(graph.nodes)
    return graph, np.array(nodes), nodes


@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_distances_equal_networkx_on_the_same_lines(mode: str, tmp_path: Path) -> None:
    path = tmp_path / "p.gpkg"
    result = intake.import_roads(_write(tmp_path), store_path=path, modes=(mode,), fields={"oneway": "oneway",
                                 "level": "level"})
    net = network.from_store(path, mode=mode)
    graph, xy, keys = _oracle(directed=mode == "drive")
    assert net.n_nodes == graph.number_of_nodes()  # the island was dropped: largest part kept
    assert any("互不连通" in n for n in result.notes)
    # our node for each oracle node, by position
    dist, ours = cKDTree(np.column_stack([net.x, net.y])).query(xy)
    assert dist.max() < 1e-3
    ours_d = csgraph.dijkstra(net.graph, directed=True, indices=ours)
    worst = 0.0
    for i, key in enumerate(keys):
        theirs = nx.single_source_dijkstra_path_length(graph, key, weight="weight")
        for j, other in enumerate(keys):
            expected = theirs.get(other, np.inf)
            got = ours_d[i, ours[j]]
            assert np.isinf(expected) == np.isinf(got)
            if np.isfinite(expected):
                worst = max(worst, abs(got - expected))
    assert worst < 1e-3, worst
    assert len(keys) ** 2 > 900  # many pairs compared


def test_what_the_noding_did_is_counted(tmp_path: Path) -> None:
    lines = gpd.read_file(_write(tmp_path)).to_crs(4326)
    roads = road_network(lines, fields=detect_fields(list(lines.columns)))
    c = roads.counts
    assert c["ends_snapped"] == 2 and c["t_junctions"] == 1
    assert c["crossings_apart"] == 6  # the bridge over the five east-west streets and the diagonal
    assert roads.metric_crs.to_epsg() == 4548
    walk = roads.networks["walk"]
    assert walk.crs.to_epsg() == 4326 and {"u", "v", "length", "oneway"} <= set(walk.columns)
    allparts = road_network(lines, components="all", fields=detect_fields(list(lines.columns)))
    assert allparts.counts["network_walk"]["components"] == 2
    assert allparts.networks["walk"]["component"].nunique() == 2


def test_mode_flags_reverse_oneway_and_speed(tmp_path: Path) -> None:
    lines = gpd.GeoDataFrame({
        "步行": ["1", "1", "0"], "机动车": ["1", "0", "1"], "单行": ["-1", "0", "0"], "限速": ["50", "", "30"],
    }, geometry=[shapely.LineString([(X0, Y0), (X0 + 100, Y0)]), shapely.LineString([(X0 + 100, Y0), (X0 + 200, Y0)]),
                 shapely.LineString([(X0 + 100, Y0), (X0 + 100, Y0 + 100)])], crs="EPSG:4548")
    roads = road_network(lines)
    assert roads.fields.walk == "步行" and roads.fields.drive == "机动车" and roads.fields.oneway == "单行"
    walk, drive = roads.networks["walk"], roads.networks["drive"]
    assert len(walk) == 2 and len(drive) == 2
    rev = drive[drive["oneway"]].iloc[0]  # -1: drawn against the allowed direction, turned round
    start = shapely.get_coordinates(gpd.GeoSeries([rev.geometry], crs=4326).to_crs(4548).iloc[0])[0]
    assert start == pytest.approx([X0 + 100, Y0], abs=1e-6)
    assert sorted(drive["speed_kmh"].dropna()) == [30.0, 50.0]


def test_bad_road_layers(tmp_path: Path) -> None:
    points = gpd.GeoDataFrame(geometry=[shapely.Point(X0, Y0)], crs="EPSG:4548")
    with pytest.raises(EmptyLayerError, match="没有线"):
        road_network(points)
    lines = gpd.GeoDataFrame({"walk": ["0"]}, geometry=[shapely.LineString([(X0, Y0), (X0 + 1, Y0)])],
                             crs="EPSG:4548")
    with pytest.raises(NetworkDataError, match="没有可供步行的道路"):
        road_network(lines, modes=("walk",))
    with pytest.raises(ParameterError):
        road_network(lines, tolerance_m=-1)


def test_import_roads_command_and_replace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shp = _write(tmp_path)
    path = tmp_path / "p.gpkg"
    assert main(["import-roads", str(shp), "--store", str(path), "--modes", "walk,drive",
                 "--oneway-field", "oneway", "--level-field", "level"]) == 0
    out, err = capsys.readouterr()
    assert "network_walk" in out and "network_drive" in out and "T 形接点吸附 1" in err
    assert set(store.list_layers(path)["name"]) == {"network_walk", "network_drive"}
    with pytest.raises(StoreError, match="--replace"):
        intake.import_roads(shp, store_path=path, modes=("walk",))
    assert main(["import-roads", str(shp), "--store", str(tmp_path / "q.gpkg"), "--oneway-field", "nope"]) == 1
    assert "没有字段 nope" in capsys.readouterr().err
