"""The facility-type tables: every row a known type with a source, and classification as the rows say."""

from __future__ import annotations

import pytest

from spatial import facilities, vocab
from spatial._errors import ParameterError

TYPES = set(vocab.codes("facility_type"))
GROUPS = {"education", "medical", "welfare", "retail", "market", "life_service", "sports", "culture", "community",
          "government", "transport", "finance", "public", "post", "park"}


@pytest.mark.parametrize("table", [facilities.osm_table(), facilities.vendor_table("amap"),
                                   facilities.vendor_table("baidu"), facilities.vendor_table("tencent"),
                                   facilities.name_rules()], ids=["osm", "amap", "baidu", "tencent", "names"])
def test_every_row_has_a_known_type_a_group_and_a_source(table) -> None:
    assert set(table["facility_type"]) - {""} <= TYPES
    assert (table["source"].str.len() > 0).all()
    groups = set(table["groups"].str.split("|").sum()) if "groups" in table else set(table["group"])
    assert groups <= GROUPS


def test_amap_codes_are_six_digits_and_unique() -> None:
    codes = facilities.vendor_table("amap")["typecode"]
    assert codes.str.fullmatch(r"\d{6}").all() and codes.is_unique


@pytest.mark.parametrize(("vendor", "code", "category", "name", "expected", "by"), [
    ("amap", "141203", "", "东关小学", "primary_school", "table"),
    ("amap", " 141203|141205 ", "", "东关小学", "primary_school", "table"),  # AMap's spaces and several codes
    ("amap", "141203.0", "", "东关小学", "primary_school", "table"),  # a spreadsheet read the code as a number
    ("amap", "", "科教文化服务;学校;幼儿园", "某幼儿园", "kindergarten", "table"),  # no code: the type text
    ("amap", "141202", "", "山东省实验中学高中部", "high_school", "name_rule"),
    ("amap", "090100", "", "姚家街道社区卫生服务中心", "community_health_centre", "name_rule"),
    ("amap", "130105", "", "姚家街道办事处", "street_office", "name_rule"),
    ("amap", "130105", "", "港沟镇人民政府", "", "unclassified"),  # the class alone says nothing
    ("amap", "060400", "", "东关小学门口超市", "supermarket", "table"),  # a shop named after a school stays a shop
    ("amap", "999999", "", "未知", "", "unclassified"),
    ("baidu", "", "教育培训;中学", "济南市高级中学", "high_school", "name_rule"),
    ("baidu", "", "政府机构;福利机构", "历下区福寿养老院", "elderly_care_home", "name_rule"),
    ("baidu", "", "政府机构;福利机构", "济南市儿童福利院", "", "unclassified"),
    ("baidu", "", "购物;超市;生鲜", "银座超市", "supermarket", "table"),  # a third level
    ("tencent", "", "教育学校:小学", "东关小学", "primary_school", "table"),
    ("tencent", "", "生活服务:美容美发:美甲", "美甲店", "hairdresser", "table"),  # prefix of a newer level
    ("tencent", "", "生活服务:福利院养老院", "燕山老年公寓", "elderly_care_home", "name_rule"),
])
def test_vendor_rows_classify_as_the_tables_say(vendor, code, category, name, expected, by) -> None:
    out = facilities.classify_vendor(vendor, codes=[code], categories=[category], names=[name])
    assert out["facility_type"].iloc[0] == expected
    assert out["classified_by"].iloc[0] == by


@pytest.mark.parametrize(("tags", "expected"), [
    ({"amenity": "kindergarten"}, ("kindergarten", "education")),
    ({"amenity": "school"}, ("", "education")),
    ({"social_facility": "nursing_home", "amenity": "social_facility"}, ("elderly_care_home", "welfare")),
    ({"social_facility": "nursing_home", "social_facility:for": "senior"}, ("elderly_care_home", "welfare")),
    ({"social_facility": "day_care", "social_facility:for": "child", "amenity": "social_facility"}, ("", "welfare")),
    ({"railway": "station", "station": "subway"}, ("metro_station", "transport")),
    ({"railway": "station"}, None),  # a main-line station is not a metro station
    ({"shop": "clothes"}, None),
])
def test_osm_tags(tags, expected) -> None:
    assert facilities.osm_type(tags) == expected


def test_green_space_is_public_only() -> None:
    assert facilities.osm_green_kind({"leisure": "park"}) == "park"
    assert facilities.osm_green_kind({"leisure": "garden", "access": "private"}) is None
    assert facilities.osm_green_kind({"natural": "wetland"}) == "wetland"
    assert not vocab.unlabelled(facilities.green_table()["value"], "kind")


def test_counts_in_vocabulary_order_and_unknown_vendor_refused() -> None:
    counts = facilities.type_counts(["bus_stop", "kindergarten", "", "bus_stop", None])
    assert list(counts) == ["kindergarten", "bus_stop", ""] and counts[""] == 2
    assert facilities.describe_counts(counts) == "幼儿园 1、公交车站 2、未归类 2"
    with pytest.raises(ParameterError, match="未知的 POI 来源"):
        facilities.vendor_table("google")
