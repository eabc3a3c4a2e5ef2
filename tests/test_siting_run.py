"""Tests of spatial.siting.site_facilities on a small town whose optimum is known by enumeration.

The town is one main street (y = 0, x from 0 to 2,000 m) with a side street
going north at x = 1,000 m. Residents and sites stand on the streets, so the
walking distance between a resident at (x, y) and a site at (x', y') is
``|x - x'| + y + y'`` when one of them is on the side street and the other
is not, ``|x - x'|`` on the main street and ``|y - y'|`` on the side street:
simple enough to enumerate every choice of sites by hand in the test.
"""

from __future__ import annotations

import itertools
import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from spatial._errors import EmptyLayerError, NetworkDataError, ParameterError
from spatial.network import from_graph
from spatial.siting import layer_candidates, site_facilities, write_outputs
from spatial.thresholds import resolve_threshold

X0, Y0 = 500_000.0, 4_060_000.0
CRS = "EPSG:4548"

#: residents: (x, y, residents); y > 0 only on the side street x = 1000
RESIDENTS = [(50, 0, 120), (180, 0, 300), (420, 0, 80), (610, 0, 260), (700, 0, 150), (950, 0, 90),
             (1000, 150, 400), (1000, 420, 220), (1200, 0, 310), (1330, 0, 70), (1600, 0, 180), (1780, 0, 240),
             (1990, 0, 500)]
#: candidates: (x, y)
SITES = [(100, 0), (400, 0), (650, 0), (900, 0), (1250, 0), (1500, 0), (1800, 0), (1000, 300)]
EXISTING = [(1950, 0)]
REACH = 300.0


def walk(a, b):
    (xa, ya), (xb, yb) = a, b
    if xa == xb == 1000:
        return abs(ya - yb)
    return abs(xa - xb) + ya + yb


def street_network():
    G = nx.MultiDiGraph(crs=CRS)
    xs = [0, 250, 500, 750, 1000, 1250, 1500, 1750, 2000]
    nodes = [(x, 0) for x in xs] + [(1000, 300), (1000, 600)]
    ids = {p: i + 1 for i, p in enumerate(nodes)}
    for p, i in ids.items():
        G.add_node(i, x=X0 + p[0], y=Y0 + p[1])
    edges = [((a, 0), (b, 0)) for a, b in itertools.pairwise(xs)] + [((1000, 0), (1000, 300)),
                                                                      ((1000, 300), (1000, 600))]
    for a, b in edges:
        geom = shapely.LineString([(X0 + a[0], Y0 + a[1]), (X0 + b[0], Y0 + b[1])])
        for u, v, g in ((a, b, geom), (b, a, geom.reverse())):
            G.add_edge(ids[u], ids[v], length=g.length, geometry=g)
    return from_graph(G, mode="walk")


def frame(points, **cols):
    return gpd.GeoDataFrame(cols, geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in points], crs=CRS)


@pytest.fixture
def town():
    demand = frame([(x, y) for x, y, _ in RESIDENTS], population=[float(p) for *_, p in RESIDENTS])
    demand.attrs.update({"population_source": "测试小镇 (test town)", "population_method": "手工 (by hand)"})
    candidates = layer_candidates(frame(SITES, name=[f"s{i}" for i in range(len(SITES))]))
    existing = frame(EXISTING, name=["现有幼儿园"])
    units = gpd.GeoDataFrame({"name": ["西区", "东区"]}, geometry=[
        shapely.box(X0 - 10, Y0 - 10, X0 + 999, Y0 + 700), shapely.box(X0 + 999, Y0 - 10, X0 + 2010, Y0 + 700)],
        crs=CRS)
    return demand, candidates, existing, units


def enumerate_best(p, dist=walk, reach=REACH):
    res = [(x, y) for x, y, _ in RESIDENTS]
    w = np.array([r[2] for r in RESIDENTS], dtype=float)
    before = np.array([min(dist(r, e) for e in EXISTING) <= reach for r in res])
    best, best_sets = -1.0, []
    for chosen in itertools.combinations(range(len(SITES)), p):
        cov = np.array([any(dist(r, SITES[j]) <= reach for j in chosen) for r in res])
        value = float(w[cov & ~before].sum())
        if value > best + 1e-9:
            best, best_sets = value, [set(chosen)]
        elif abs(value - best) <= 1e-9:
            best_sets.append(set(chosen))
    return best, best_sets, before, w


@pytest.mark.parametrize("p", [1, 2, 3, 4])
def test_the_town_gives_the_enumerated_optimum_along_the_streets(town, p):
    demand, candidates, existing, units = town
    best, best_sets, before, w = enumerate_best(p)
    result = site_facilities(demand, candidates, facility_type="kindergarten", existing=existing, count=p,
                             threshold=resolve_threshold(distance_m=REACH), method="network",
                             network=street_network(), units=units, rel_gap=0.0)
    chosen = {int(c[1:]) for c in result.sites["candidate_id"]}
    assert chosen in best_sets
    assert result.solution.objective == pytest.approx(best) and result.solution.proven_optimal
    assert result.sites["residents_new"].sum() == pytest.approx(best)  # the sites' shares add up
    assert result.parameters["covered_before"] == pytest.approx(w[before].sum()) == 740.0  # x=1780 and 1990
    assert result.parameters["covered_after"] == pytest.approx(w[before].sum() + best)


def test_straight_lines_are_a_different_answer_said_as_such(town):
    demand, candidates, existing, units = town
    best, best_sets, *_ = enumerate_best(3, dist=lambda a, b: math.dist(a, b))
    result = site_facilities(demand, candidates, facility_type="kindergarten", existing=existing, count=3,
                             threshold=resolve_threshold(distance_m=REACH), method="buffer", units=units,
                             rel_gap=0.0)
    assert {int(c[1:]) for c in result.sites["candidate_id"]} in best_sets
    assert result.solution.objective == pytest.approx(best)
    assert result.parameters["distance_source"].startswith("圆形缓冲")


def test_each_site_carries_the_residents_it_newly_covers(town):
    demand, candidates, existing, units = town
    r = site_facilities(demand, candidates, facility_type="kindergarten", existing=existing, count=3,
                        threshold=resolve_threshold(distance_m=REACH), method="network",
                        network=street_network(), units=units)
    sites = r.sites.set_index("candidate_id")
    # by hand: s7 (1000,300) reaches the side-street residents 400 + 220 and (950,0) at 350 m? no: 300+50 > 300
    assert sites.loc["s7", "residents_reach"] == 620
    assert list(r.sites["rank"]) == [1, 2, 3]
    assert (r.sites["residents_new"] <= r.sites["residents_reach"]).all()
    assert (r.sites["residents_only"] <= r.sites["residents_new"] + 1e-9).all()
    assert set(r.sites["unit_name"]) <= {"西区", "东区"}
    table = r.by_unit.set_index("name")
    assert table["population"].sum() == sum(p for *_, p in RESIDENTS)
    assert table.loc["东区", "covered_before"] == 740
    assert table["covered_after"].sum() == pytest.approx(r.parameters["covered_after"])
    assert table["new_sites"].sum() == 3


def test_the_curve_runs_to_twice_the_count_and_its_gains_shrink(town):
    demand, candidates, existing, _units = town
    r = site_facilities(demand, candidates, facility_type="kindergarten", existing=existing, count=3,
                        threshold=resolve_threshold(distance_m=REACH), method="network",
                        network=street_network())
    curve = r.curve
    assert list(curve["sites_added"]) == [1, 2, 3, 4, 5, 6]
    assert (np.diff(curve["marginal"]) <= 1e-9).all()  # each added site adds no more than the one before
    assert curve["residents_new"].iloc[0] == enumerate_best(1)[0]  # the first greedy site is the best single one
    assert curve["residents_new"].iloc[2] <= r.solution.objective + 1e-9  # greedy never beats the optimum
    assert (curve["covered_pct"] <= 100).all()
    assert r.by_unit["name"].tolist() == ["研究范围 (study area)"]


def test_lscp_and_pmedian_run_on_the_town(town):
    demand, candidates, existing, _units = town
    net = street_network()
    total = sum(p for *_, p in RESIDENTS)
    lscp = site_facilities(demand, candidates, facility_type="kindergarten", existing=existing, model="lscp",
                           share=0.7, threshold=resolve_threshold(distance_m=REACH), method="network", network=net,
                           rel_gap=0.0)
    fewest = next(k for k in range(1, 9) if 740 + enumerate_best(k)[0] >= 0.7 * total)
    assert len(lscp.sites) == fewest and lscp.parameters["pct_after"] >= 70
    med = site_facilities(demand, candidates, facility_type="kindergarten", existing=existing, model="pmedian",
                          count=2, threshold=resolve_threshold(distance_m=REACH), method="network", network=net,
                          search_m=1200, rel_gap=0.0)
    res = [(x, y) for x, y, _ in RESIDENTS]
    w = np.array([r[2] for r in RESIDENTS], dtype=float)
    cur = np.minimum([min(walk(r, e) for e in EXISTING) for r in res], 1200)
    best = min(float(w @ np.minimum(cur, [min(min(walk(r, SITES[j]) for j in s), 1200) for r in res]))
               for s in itertools.combinations(range(len(SITES)), 2))
    assert med.solution.objective == pytest.approx(best)
    assert med.parameters["mean_distance_after_m"] == pytest.approx(best / total)
    assert "residents_nearest" in med.sites.columns


def test_sites_that_would_add_nobody_are_not_listed_and_that_is_said(town):
    demand, candidates, existing, _units = town
    r = site_facilities(demand, candidates, facility_type="kindergarten", existing=existing, count=7,
                        threshold=resolve_threshold(distance_m=REACH))
    coverable = len(r.sites)
    assert coverable < 7 and r.solution.status == "all_covered"
    assert f"只有 {coverable} 处能新增覆盖" in "\n".join(r.summary_lines())


def test_more_sites_than_candidates_is_one_clear_message(town):
    demand, candidates, existing, _units = town
    with pytest.raises(ParameterError, match=f"只有 {len(SITES)} 个候选点"):
        site_facilities(demand, candidates, facility_type="kindergarten", existing=existing, count=20,
                        threshold=resolve_threshold(distance_m=REACH))


def test_no_demand_is_one_clear_message(town):
    demand, candidates, _existing, _units = town
    with pytest.raises(EmptyLayerError, match="没有需求"):
        site_facilities(demand.assign(population=0.0), candidates, facility_type="kindergarten", count=1,
                        threshold=resolve_threshold(distance_m=REACH))


def test_a_share_already_reached_needs_no_new_site(town):
    demand, candidates, existing, _units = town
    with pytest.raises(EmptyLayerError, match="无需新增设施"):
        site_facilities(demand, candidates, facility_type="kindergarten", existing=existing, model="lscp",
                        share=0.1, threshold=resolve_threshold(distance_m=REACH))


@pytest.mark.parametrize("kwargs,match", [
    ({"model": "lscp", "count": 2}, "lscp"),
    ({"model": "mclp", "share": 0.8, "count": 2}, "share"),
    ({"model": "mclp"}, "数量"),
    ({"model": "lscp", "share": 1.5}, "0 与 1"),
    ({"model": "nope", "count": 1}, "模型"),
    ({"method": "network", "count": 1}, "街道网络"),
])
def test_bad_options_are_refused_before_any_work(town, kwargs, match):
    demand, candidates, existing, _units = town
    with pytest.raises((ParameterError, NetworkDataError), match=match):
        site_facilities(demand, candidates, facility_type="kindergarten", existing=existing,
                        threshold=resolve_threshold(distance_m=REACH), **kwargs)


def test_a_type_with_no_standard_reach_needs_a_distance(town):
    demand, candidates, _existing, _units = town
    with pytest.raises(ParameterError, match="--distance"):
        site_facilities(demand, candidates, facility_type="elderly_canteen", count=1)


def test_outputs_are_readable_and_text_stays_text(town, tmp_path):
    demand, candidates, existing, units = town
    candidates.loc[0, "candidate_id"] = "=HYPERLINK(\"x\")"
    r = site_facilities(demand, candidates, facility_type="kindergarten", existing=existing, count=3,
                        threshold=resolve_threshold(distance_m=REACH), units=units)
    (tmp_path / "out" / "keep.txt").parent.mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    files = write_outputs(r, tmp_path / "out")
    assert [f.name for f in files] == ["sites.gpkg", "sites.geojson", "siting.xlsx"]
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"  # nothing else touched
    layers = {row[0] for row in pyogrio.list_layers(files[0])}
    assert {"sites", "existing", "units", "planatlas_siting_curve", "planatlas_siting_summary"} <= layers
    back = gpd.read_file(files[1])
    assert len(back) == 3 and back.crs.to_epsg() == 4326
    from openpyxl import load_workbook

    book = load_workbook(files[2])
    assert book.sheetnames == ["选址结果", "边际曲线", "分单元覆盖", "说明"]
    sheet = book["选址结果"]
    heads = [c.value for c in sheet[1]]
    assert "新增覆盖人口" in heads and "候选点" in heads
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row if isinstance(c.value, str)
             and c.value.startswith("=")]
    assert all(c.data_type == "s" for c in cells)  # a formula-looking id is stored as text
    summary = pd.read_excel(files[2], sheet_name="说明")
    assert summary["项目"].str.contains("求解").any()


def test_the_summary_says_what_the_figures_stand_on(town):
    demand, candidates, existing, units = town
    r = site_facilities(demand, candidates, facility_type="kindergarten", existing=existing, count=2,
                        threshold=resolve_threshold(distance_m=REACH), units=units)
    text = "\n".join(r.summary_lines())
    assert "测试小镇" in text and "现有设施：1 处" in text and "已证明最优" in text and "差距" in text
