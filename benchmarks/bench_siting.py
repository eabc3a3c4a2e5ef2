"""Benchmark of the siting models (a script, not a test): planatlas beside spopt and the greedy alone.

The generated city: 100 m demand cells with residents (several centres whose
density falls off exponentially, times log-normal noise), a regular grid of
candidate cells over the same area, existing facilities placed where people
live (drawn with probability proportional to residents), a 500 m reach (the
park standard) and 100 new sites. The full size is the issue's: 100,000
demand cells, 10,000 candidates.

Three ways to answer, on the same inputs:

* **planatlas** — :func:`spatial.siting.relation.straight_line_relation`
  (the coverage pairs, KD-tree) and :func:`spatial.siting.models.solve_mclp`
  (greedy start, Lagrangian bound, HiGHS MIP on a core, global proof), with a
  60 s limit and a 1 % gap tolerance (the goal), then the default tolerance;
* **greedy alone** — :func:`spatial.siting.greedy.greedy_cover`, its gap
  against its own (online) bound and against planatlas's proven bound;
* **spopt** — ``MCLP.from_cost_matrix(cost_matrix, weights, service_radius,
  p_facilities, predefined_facilities_arr)`` solved with
  ``pulp.PULP_CBC_CMD(msg=False, timeLimit=…)``, as spopt's documentation
  uses it (existing facilities as predefined sites). spopt needs the dense
  demand × site cost matrix and builds a dense 0/1 copy of it (``aij``),
  then one PuLP row per demand cell summing over *every* site in Python. At
  full size that is two 100,000 × 10,150 float64 arrays (16 GB, over this
  machine's budget) and a billion Python terms, so spopt runs on scaled-down
  cities of the same density (the table says which), each with planatlas and
  the greedy beside it. Its gap is measured against planatlas's proven bound
  on the same instance (CBC's own bound is not exposed through PuLP).

Usage::

    python benchmarks/bench_siting.py             # full run (about 3 minutes of solving)
    python benchmarks/bench_siting.py --quick     # small cities only
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spatial.siting.greedy import greedy_cover
from spatial.siting.models import solve_mclp
from spatial.siting.relation import straight_line_relation

CRS = "EPSG:32650"  # any metric CRS will do for a generated city
REACH = 500.0


@dataclass
class City:
    demand: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    existing: gpd.GeoDataFrame
    p: int


def generated_city(n_demand: int, n_candidates: int, *, n_existing: int, p: int, seed: int = 0) -> City:
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_demand)))
    xs, ys = np.meshgrid(np.arange(side) * 100.0 + 50, np.arange(side) * 100.0 + 50)
    x, y = xs.ravel()[:n_demand], ys.ravel()[:n_demand]
    extent = side * 100.0
    n_centres = max(2, round(8 * (extent / 31_600) ** 2))
    centres = rng.uniform(0, extent, (n_centres, 2))
    scale = rng.uniform(2000, 6000, n_centres)
    peak = rng.uniform(50, 400, n_centres)
    pop = sum(pk * np.exp(-np.hypot(x - cx, y - cy) / s) for (cx, cy), s, pk in zip(centres, scale, peak,
                                                                                    strict=True))
    pop = pop * rng.lognormal(0, 0.5, n_demand)
    cs = round(float(np.sqrt(n_candidates)))
    step = extent / cs
    cx, cy = np.meshgrid(np.arange(cs) * step + step / 2, np.arange(cs) * step + step / 2)
    pick = rng.choice(n_demand, n_existing, replace=False, p=pop / pop.sum())
    return City(
        gpd.GeoDataFrame({"population": pop}, geometry=shapely.points(x, y), crs=CRS),
        gpd.GeoDataFrame({"candidate_id": np.arange(cs * cs)}, geometry=shapely.points(cx.ravel(), cy.ravel()),
                         crs=CRS),
        gpd.GeoDataFrame(geometry=shapely.points(x[pick] + 30, y[pick] + 30), crs=CRS),
        p,
    )


def run_planatlas(city: City, *, rel_gap: float, time_limit_s: float) -> dict:
    t0 = time.perf_counter()
    rel = straight_line_relation(city.demand, city.candidates, city.existing, limit_m=REACH)
    t_rel = time.perf_counter() - t0
    w = city.demand["population"].to_numpy()
    sol = solve_mclp(rel.cover(REACH), w, city.p, covered_before=rel.covered_before(REACH),
                     time_limit_s=time_limit_s, rel_gap=rel_gap)
    return {"relation_s": t_rel, "solve_s": sol.time_s, "total_s": time.perf_counter() - t0, "objective": sol.objective,
            "bound": sol.bound, "gap": sol.gap, "status": sol.status, "solver": sol.solver, "details": sol.details,
            "cover": rel.cover(REACH), "before": rel.covered_before(REACH), "w": w}


def run_greedy(planatlas: dict, p: int) -> dict:
    keep = ~planatlas["before"]
    t0 = time.perf_counter()
    path = greedy_cover(planatlas["cover"][keep], planatlas["w"][keep], p)
    elapsed = time.perf_counter() - t0
    value, own = float(path.value[-1]), float(path.bound[-1])
    return {"total_s": elapsed, "objective": value, "own_gap": (own - value) / value,
            "gap": (planatlas["bound"] - value) / value}


def run_spopt(city: City, planatlas: dict, time_limit_s: float) -> dict:
    import pulp
    from spopt.locate import MCLP

    t0 = time.perf_counter()
    sites = np.r_[shapely.get_coordinates(city.candidates.geometry.to_numpy()),
                  shapely.get_coordinates(city.existing.geometry.to_numpy())]
    dem = shapely.get_coordinates(city.demand.geometry.to_numpy())
    cost = np.hypot(dem[:, None, 0] - sites[None, :, 0], dem[:, None, 1] - sites[None, :, 1])
    predefined = np.r_[np.zeros(len(city.candidates)), np.ones(len(city.existing))].astype(int)
    model = MCLP.from_cost_matrix(cost, city.demand["population"].to_numpy(), service_radius=REACH,
                                  p_facilities=city.p + len(city.existing), predefined_facilities_arr=predefined)
    t_build = time.perf_counter() - t0
    model = model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s), results=False)
    elapsed = time.perf_counter() - t0
    chosen = [j for j, v in enumerate(model.fac_vars[: len(city.candidates)]) if (v.value() or 0) > 0.5]
    cover, before, w = planatlas["cover"], planatlas["before"], planatlas["w"]
    hit = np.asarray(cover[:, chosen].sum(axis=1)).ravel() > 0
    new = float(w[hit & ~before].sum())  # residents newly covered, recomputed on planatlas's relation
    return {"build_s": t_build, "total_s": elapsed, "objective": new, "status": pulp.LpStatus[model.problem.status],
            "gap": (planatlas["bound"] - new) / new if new else float("inf"), "sites": len(chosen)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small cities only")
    parser.add_argument("--time-limit", type=float, default=60.0)
    args = parser.parse_args()
    sizes = [(2_500, 256, 4, 10), (10_000, 1_024, 15, 40)]
    if not args.quick:
        sizes.append((100_000, 10_000, 150, 100))
    rows = []
    for n_dem, n_cand, n_ex, p in sizes:
        city = generated_city(n_dem, n_cand, n_existing=n_ex, p=p)
        full = n_dem >= 100_000
        print(f"\n== city: {n_dem:,} demand cells, {len(city.candidates):,} candidates, {n_ex} existing, "
              f"p = {p}, reach {REACH:g} m")
        pa = run_planatlas(city, rel_gap=0.01, time_limit_s=args.time_limit)
        print(f"planatlas (gap tolerance 1 %): relation {pa['relation_s']:.2f} s + solve {pa['solve_s']:.2f} s = "
              f"{pa['total_s']:.2f} s; {pa['objective']:,.0f} residents, bound {pa['bound']:,.0f}, "
              f"gap {100 * pa['gap']:.3f} %, {pa['status']}; {pa['solver']}")
        print(f"  details: { {k: (round(v, 2) if isinstance(v, float) else v) for k, v in pa['details'].items()} }")
        rows.append(("planatlas (1 % tol.)", n_dem, len(city.candidates), pa["total_s"], pa["gap"], pa["status"]))
        if full:
            pd_ = run_planatlas(city, rel_gap=1e-3, time_limit_s=args.time_limit)
            print(f"planatlas (0.1 % tol.): {pd_['total_s']:.2f} s; {pd_['objective']:,.0f} residents, "
                  f"bound {pd_['bound']:,.0f}, gap {100 * pd_['gap']:.3f} %, {pd_['status']}")
            rows.append(("planatlas (0.1 % tol.)", n_dem, len(city.candidates), pd_["total_s"], pd_["gap"],
                         pd_["status"]))
        gr = run_greedy(pa, p)
        print(f"greedy alone: {gr['total_s']:.3f} s (+ the same relation); {gr['objective']:,.0f} residents; "
              f"gap {100 * gr['gap']:.2f} % against planatlas's bound, {100 * gr['own_gap']:.2f} % against its own")
        rows.append(("greedy alone", n_dem, len(city.candidates), gr["total_s"], gr["gap"], "own bound "
                     f"{100 * gr['own_gap']:.1f} %"))
        if not full:
            sp = run_spopt(city, pa, args.time_limit)
            print(f"spopt MCLP + CBC: build {sp['build_s']:.2f} s, total {sp['total_s']:.2f} s; {sp['objective']:,.0f} "
                  f"residents ({sp['sites']} sites), gap {100 * sp['gap']:.3f} % against planatlas's bound; "
                  f"PuLP status {sp['status']}")
            rows.append(("spopt MCLP (CBC)", n_dem, len(city.candidates), sp["total_s"], sp["gap"], sp["status"]))
        else:
            gb = n_dem * (len(city.candidates) + n_ex) * 8 * 2 / 1e9
            print(f"spopt MCLP: not run at this size: its dense cost matrix and aij copy need {gb:.1f} GB "
                  f"and its model builder loops over {n_dem * (len(city.candidates) + n_ex):,} pairs in Python")
            rows.append(("spopt MCLP (CBC)", n_dem, len(city.candidates), float("nan"), float("nan"),
                         f"not run ({gb:.0f} GB dense)"))
    print("\n| method | demand cells | candidates | time (s) | gap | status |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for name, nd, nc, t, gap, status in rows:
        gap_txt = "—" if gap != gap else f"{100 * gap:.3f} %"
        time_txt = "—" if t != t else f"{t:.2f}"
        print(f"| {name} | {nd:,} | {nc:,} | {time_txt} | {gap_txt} | {status} |")
    print(f"\npeak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
