"""The evaluation on the hand-built city: completeness and residents missing, checked against hand figures."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from _lifecircle_city import CRS, EAST, WEST, X0, Y0, facilities, network, residential, units

from spatial._errors import NetworkDataError, UnknownPresetError
from spatial.lifecircle.cells import build_cells
from spatial.lifecircle.evaluate import evaluate, weighted_quantile


@pytest.fixture(scope="module")
def city_cells():
    return build_cells(units(), residential=residential())


@pytest.fixture(scope="module")
def ev(city_cells):
    return evaluate(city_cells, facilities(), standard="gb50180", method="network", network=network())


def test_distances_are_the_walk_along_the_street(ev):
    x = 50.0 + 100.0 * np.arange(10)
    for code, (xf, s), limit in (("kindergarten", (100, 10), 600.0), ("primary_school", (900, 20), 1000.0),
                                  ("middle_school", (500, 30), 2000.0)):
        expected = 50.0 + np.abs(x - xf) + s
        expected[expected > limit] = np.inf  # each search looks twice the requirement's distance
        np.testing.assert_allclose(ev.distance[code].to_numpy(), expected, err_msg=code)
    assert ev.search_limits()["kindergarten"] == 600.0


def test_completeness_and_residents_missing_by_hand(ev):
    units_ = ev.by_unit.set_index("unit")
    # 5-minute tier: only the kindergarten has data; cells 0-2 (West, 200 each) reach it
    assert units_.loc["West", "all_5min"] == pytest.approx(600.0)
    assert units_.loc["West", "all_5min_pct"] == pytest.approx(60.0)
    assert units_.loc["East", "all_5min"] == pytest.approx(0.0)
    assert units_.loc["West", "complete_5min_pct"] == pytest.approx(60.0)
    # 10-minute tier: the primary school reaches cells 5-9 (all of East)
    assert units_.loc["East", "all_10min_pct"] == pytest.approx(100.0)
    assert units_.loc["West", "all_10min_pct"] == pytest.approx(0.0)
    # 15-minute tier: everyone
    assert units_.loc["West", "all_15min"] + units_.loc["East", "all_15min"] == pytest.approx(WEST + EAST)
    city = ev.city.iloc[0]
    assert city["weight"] == pytest.approx(4000.0)
    assert city["all_5min"] == pytest.approx(600.0) and city["all_5min_pct"] == pytest.approx(15.0)
    assert city["all_10min_pct"] == pytest.approx(75.0)
    assert city["judged_5min"] == 1 and city["judged_10min"] == 1 and city["judged_15min"] == 1
    ut = ev.unit_types.set_index(["unit", "requirement"])
    assert ut.loc[("West", "kindergarten"), "missing"] == pytest.approx(400.0)
    assert ut.loc[("East", "kindergarten"), "missing"] == pytest.approx(3000.0)
    assert ut.loc[("West", "primary_school"), "missing"] == pytest.approx(1000.0)
    assert ut.loc[("East", "primary_school"), "missing"] == pytest.approx(0.0)


def test_ledger_ranked_by_residents_affected(ev):
    led = ev.ledger
    assert list(zip(led["unit"], led["requirement"], strict=True)) == [
        ("East", "kindergarten"), ("West", "primary_school"), ("West", "kindergarten")]
    assert list(led["affected"]) == pytest.approx([3000.0, 1000.0, 400.0])
    assert list(led["rank"]) == [1, 2, 3]
    # East's kindergarten gap: cells 5-9 at 510 m and beyond the 600 m search: the median is "> 600 m"
    assert np.isinf(led["missing_median_m"].iloc[0])
    # West's: cells 3 and 4 at 310 and 410 m (200 each): the weighted median is the first reaching half, 310 m
    assert led["missing_median_m"].iloc[2] == pytest.approx(310.0)
    from spatial.lifecircle.ledger import ledger_for_people

    shown = ledger_for_people(led, limit_m=ev.search_limits())
    assert shown["受影响者到最近设施距离中位数 (m)"].iloc[0] == "> 600"
    assert led["gap_area_ha"].iloc[0] == pytest.approx(5.0)
    assert led["affected_pct"].iloc[2] == pytest.approx(40.0)


def test_types_without_data_are_said_and_not_judged(ev):
    s = ev.status
    assert s.loc["nursery", "data_status"] == "no_data" and "无设施数据" in s.loc["nursery", "data_note"]
    assert s.loc["kindergarten", "data_status"] == "ok"
    by_type = ev.by_type.set_index("requirement")
    assert np.isnan(by_type.loc["nursery", "in_reach_pct"])  # no figure, not a 0 %
    assert "nursery" not in set(ev.ledger["requirement"])
    assert by_type.loc["kindergarten", "in_reach_pct"] == pytest.approx(15.0)
    # 110 x 2, 210, 310, 410 (West, 200 each), 510 then beyond the search (East, 600 each): half of 4,000 is
    # reached only beyond the search
    assert np.isinf(by_type.loc["kindergarten", "median_m"])
    assert by_type.loc["primary_school", "median_m"] == pytest.approx(320.0)


def test_tiers_do_not_nest(city_cells):
    # a 15-minute 社区卫生服务中心 next to every cell never meets the 5-minute 社区卫生服务站 row
    fac = facilities(**{"community_health_centre#1": (250.0, 1.0), "community_health_centre#2": (750.0, 1.0)})
    ev = evaluate(city_cells, fac, standard="gb50180", method="network", network=network())
    assert ev.met["community_health_centre"].all()
    assert ev.status.loc["community_health_station", "data_status"] == "no_data"
    assert not ev.met["community_health_station"].any()
    # nor does any 15-minute type raise the 5-minute completeness
    assert ev.by_unit.set_index("unit").loc["West", "complete_5min_pct"] == pytest.approx(60.0)


def test_thin_facility_sets_are_said(city_cells):
    many = units().assign(population=[100_000.0, 300_000.0])
    cells = build_cells(many, residential=residential())
    ev = evaluate(cells, facilities(), standard="gb50180", method="network", network=network())
    # 400,000 residents would need about 33 kindergartens at one per 12,000; one is thin
    assert ev.status.loc["kindergarten", "data_status"] == "thin"
    assert "数据稀疏" in ev.status.loc["kindergarten", "data_note"]


def test_straight_line_method_by_hand(city_cells):
    ev = evaluate(city_cells, facilities(), standard="gb50180", method="buffer")
    x = 50.0 + 100.0 * np.arange(10)
    expected = np.hypot(x - 100.0, 50.0 + 10.0)
    expected[expected > 600.0] = np.inf
    np.testing.assert_allclose(ev.distance["kindergarten"].to_numpy(), expected)
    # within 300 m: |x - 100| <= sqrt(300² - 60²) = 293.9 -> cells 0-3
    assert ev.by_unit.set_index("unit").loc["West", "all_5min"] == pytest.approx(800.0)
    assert ev.parameters["method"] == "buffer" and ev.parameters["network_source"] is None


def test_mofcom_distances_are_minutes_at_80_m_per_min(city_cells):
    fac = facilities(**{"convenience_store#1": (50.0, 0.0)})
    ev = evaluate(city_cells, fac, standard="mofcom", method="network", network=network())
    assert ev.status.loc["convenience", "distance_m"] == pytest.approx(400.0)
    # 50 + |x - 50| <= 400 -> x <= 400: cells 0-3
    assert ev.met["convenience"].sum() == 4
    assert ev.status.loc["pharmacy", "data_status"] == "no_data"


def _park(x0: float, x1: float, y0: float, y1: float) -> shapely.Polygon:
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def test_chengshi_tijian_park_indicator_on_residential_land(city_cells):
    # a 100 x 60 m park (6,000 m²: 500 m band) south of the street at x 0-100, and a 50 x 50 m park
    # (2,500 m²: 300 m band) at x 900-950; a 30 x 30 m one (900 m²) is too small to count
    parks = gpd.GeoDataFrame(
        {"facility_type": ["park", "park", "park"], "name": ["big", "mid", "tiny"]},
        geometry=[_park(0, 100, -160, -100), _park(900, 950, -150, -100), _park(450, 480, -50, -20)], crs=CRS)
    ev = evaluate(city_cells, parks, standard="chengshi-tijian", method="buffer")
    ind = ev.indicators.set_index("indicator")
    # exact straight-line cover of the strip y 0-100: 500 m from the big park's edge, 300 m from the mid one's
    big = shapely.buffer(_park(0, 100, -160, -100), 500, quad_segs=16)
    mid = shapely.buffer(_park(900, 950, -150, -100), 300, quad_segs=16)
    strip = shapely.box(X0, Y0, X0 + 1000, Y0 + 100)
    expected = 100 * shapely.area(shapely.intersection(shapely.union(big, mid), strip)) / shapely.area(strip)
    assert ind.loc["park_service", "value_pct"] == pytest.approx(expected, rel=1e-6)
    assert ind.loc["park_service", "denominator_ha"] == pytest.approx(10.0)
    assert ind.loc["park_service", "result"] == ("pass" if expected > 80 else "fail")
    assert "GB 55014-2021" in ind.loc["park_service", "threshold"]
    assert ind.loc["greenway_service", "result"] == "no_data"
    assert ev.status.loc["park_service", "n_facilities"] == 2  # the tiny park is not counted


def test_park_points_without_area_are_left_out_and_said(city_cells):
    parks = gpd.GeoDataFrame({"facility_type": ["park"]}, geometry=[shapely.Point(X0 + 500, Y0 - 10)], crs=CRS)
    ev = evaluate(city_cells, parks, standard="chengshi-tijian", method="buffer")
    assert ev.status.loc["park_service", "data_status"] == "no_data"
    assert "没有面积" in ev.status.loc["park_service", "data_note"]
    with_area = parks.assign(area_m2=[8000.0])
    ev2 = evaluate(city_cells, with_area, standard="chengshi-tijian", method="buffer")
    assert ev2.status.loc["park_service", "n_facilities"] == 1


def test_bad_inputs_give_clear_errors(city_cells):
    with pytest.raises(UnknownPresetError, match="gb50180"):
        evaluate(city_cells, facilities(), standard="gb-9999", method="buffer")
    with pytest.raises(NetworkDataError, match="street network"):
        evaluate(city_cells, facilities(), standard="gb50180", method="network", network=None)
    with pytest.raises(ValueError, match="facility_type"):
        evaluate(city_cells, facilities().drop(columns=["facility_type"]), standard="gb50180", method="buffer")


def test_cells_frame_for_export(ev):
    out = ev.cells_frame()
    assert out.crs.to_epsg() == 4326 and len(out) == 10
    assert {"d_kindergarten", "ok_kindergarten", "complete_5min", "all_10min"} <= set(out.columns)
    assert out["d_nursery"].isna().all()  # no data: no distance, not inf
    assert out["complete_5min"].tolist() == [1.0, 1.0, 1.0] + [0.0] * 7


def test_weighted_quantile():
    assert weighted_quantile(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 1.0]), 0.5) == 2.0
    assert weighted_quantile(np.array([1.0, 2.0, 3.0]), np.array([0.0, 0.0, 1.0]), 0.5) == 3.0
    assert math.isinf(weighted_quantile(np.array([1.0, np.inf]), np.array([1.0, 3.0]), 0.5))
    assert math.isnan(weighted_quantile(np.array([1.0]), np.array([0.0]), 0.5))
