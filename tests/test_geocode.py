"""Mentions, longest-first matching, district fallback and the summary, on a tiny gazetteer."""

import json
import re

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from spatial._errors import EmptyLayerError, InputFileError, ParameterError, PlanatlasError, UnknownPlaceError
from spatial.geocode import SUMMARY_NAMES_SHOWN, Geocoder, GeocodeSummary


def _frame(rows):
    return gpd.GeoDataFrame(
        [{"id": i, "name": n, "aliases": a, "kind": k, "district": d, "precision": p, "source": "test",
          "source_datum": "WGS84"} for i, n, a, k, d, p, _ in rows],
        geometry=[g for *_, g in rows], crs="EPSG:4326",
    )


@pytest.fixture
def geocoder():
    rows = [
        ("P001", "济西国家湿地公园", "济西湿地|济西", "wetland", "历城区", "approximate", Point(116.78, 36.66)),
        ("P002", "白云湖国家湿地公园", "白云湖", "wetland", "章丘区", "approximate", Point(117.37, 36.85)),
        ("X001", "济南黄河大桥", "", "crossing", "天桥区", "approximate",
         LineString([(116.99, 36.72), (116.99, 36.74)])),
        ("X002", "济南黄河大桥复线桥", "", "crossing", "天桥区", "approximate",
         LineString([(116.995, 36.72), (116.995, 36.74)])),
        ("D001", "章丘区", "章丘", "district", "章丘区", "area_centroid", Point(117.51, 36.75)),
        ("P099", "某某未定公园", "", "park", "", "unresolved", None),
    ]
    return Geocoder(_frame(rows))


def test_longest_match_wins(geocoder):
    mentions = geocoder.find_mentions("加快济南黄河大桥复线桥建设")
    assert [m.place_id for m in mentions] == ["X002"]
    assert mentions[0].text == "济南黄河大桥复线桥"


def test_aliases_positions_and_spaces(geocoder):
    text = "实施济西、白云湖等湿地公园保护修复"
    mentions = [m for m in geocoder.find_mentions(text) if m.place_id]
    assert [m.place_id for m in mentions] == ["P001", "P002"]
    for m in mentions:
        assert text[m.start:m.end] == m.text
    # spaces inside a name (PDF conversions) still match, and the span covers them
    spaced = "建设白云 湖 湿地"
    m = geocoder.find_mentions(spaced)[0]
    assert m.place_id == "P002" and spaced[m.start:m.end] == "白云 湖"


def test_pattern_candidates_are_listed_unresolved(geocoder):
    mentions = geocoder.find_mentions("新建华山湖体育公园和济西湿地")
    unresolved = [m for m in mentions if m.place_id is None]
    assert [m.text for m in unresolved] == ["华山湖体育公园"]
    assert unresolved[0].precision == "unresolved"


def test_items_best_place_district_fallback_and_summary(geocoder):
    items = pd.DataFrame({
        "item_id": ["a", "b", "c", "d"],
        "text": ["章丘区建设济南黄河大桥", "章丘区推进老旧小区改造", "新建华山湖体育公园", "优化营商环境"],
    })
    out, summary = geocoder.geocode_items(items)
    by = out.set_index("item_id")
    assert by.loc["a", "place_id"] == "X001" and by.loc["a", "geocode_status"] == "place"
    assert by.loc["a", "geometry"].geom_type == "Point"  # lines are mapped by a point on them
    assert by.loc["b", "geocode_status"] == "district" and by.loc["b", "precision"] == "district_fallback"
    assert by.loc["c", "geocode_status"] == "unresolved" and by.loc["c", "geometry"] is None
    assert by.loc["d", "geocode_status"] == "none"
    assert json.loads(by.loc["a", "mentions"])[0]["place_name"] == "章丘区"
    assert summary.mentions == 4 and summary.mentions_resolved == 3 and summary.mentions_unresolved == 1
    assert summary.unresolved_names == ["华山湖体育公园"]
    city, *text = summary.as_text().splitlines()
    assert city == "报告所属城市：济南市（山东省；报告中未写明城市，采用地名库的默认城市）"
    assert text[0] == "条目：4 (其中 3 条提到地点)"
    assert text[1] == "地名提及：4 处，已定位 3，未定位 1"
    # precision and status counts under their Chinese labels (spatial.vocab), no codes
    assert text[2] == "地名提及按精度：约1公里内 1、区域中心 2、未定位 1"
    assert text[3].startswith("条目按定位状态：") and "仅区县 1" in text[3] and "地名未找到 1" in text[3]
    assert "仅到区县 1" in text[4] and "district_fallback" not in text[4]
    assert text[5] == "报告提到的地名 3 个，位置：来源可查 0、团队估计 2、规划师修正 0、未定位 1"
    assert text[6] == "未定位的地名：华山湖体育公园"
    # as_dict keeps the codes
    codes = summary.as_dict()
    assert codes["places_by_basis"] == {"estimated": 2, "unresolved": 1}
    assert codes["items_by_status"] == {"place": 1, "district": 1, "unresolved": 1, "none": 1}
    assert codes["mentions_by_precision"] == {"approximate": 1, "area_centroid": 2, "unresolved": 1}
    places = geocoder.places_named(out)
    assert set(places["id"]) == {"X001", "D001"}
    assert json.loads(places.set_index("id").loc["D001", "item_ids"]) == ["a", "b"]


def test_lookup_and_feature(geocoder):
    assert geocoder.lookup("济西湿地")["id"] == "P001"
    assert geocoder.lookup(" 济西 湿地 ")["id"] == "P001"  # whitespace normalised
    feature = geocoder.feature("白云湖")
    assert feature["geometry"]["type"] == "Point"
    assert feature["properties"]["precision"] == "approximate"
    assert feature["properties"]["source_datum"] == "WGS84"
    with pytest.raises(UnknownPlaceError, match=r"地名库中没有地名 '济东湿地'；是否要找：.*济西湿地"):
        geocoder.lookup("济东湿地")
    with pytest.raises(UnknownPlaceError, match="地名库中没有地名 '不存在的地方'"):
        geocoder.lookup("不存在的地方")
    unresolved = geocoder.feature("某某未定公园")
    assert unresolved["geometry"] is None and unresolved["properties"]["precision"] == "unresolved"


def test_summary_text_lists_the_first_names_and_counts_the_rest():
    names = [f"地名{i:02d}公园" for i in range(SUMMARY_NAMES_SHOWN + 5)]
    text = GeocodeSummary(unresolved_names=names).as_text()
    last = text.splitlines()[-1]
    assert last.startswith("未定位的地名：地名00公园、地名01公园")
    assert names[SUMMARY_NAMES_SHOWN - 1] in last and names[SUMMARY_NAMES_SHOWN] not in last
    assert last.endswith("(另有 5 个)")
    assert "地名提及按精度：无" in text  # an empty count says so instead of printing nothing


_ROW = ("P001", "济西国家湿地公园", "济西湿地", "wetland", "历城区", "approximate", Point(116.78, 36.66))


@pytest.mark.parametrize("make, error", [
    pytest.param(lambda gc: Geocoder(_frame([_ROW]).iloc[0:0]), EmptyLayerError, id="no rows"),
    pytest.param(lambda gc: Geocoder(_frame([_ROW]).drop(columns="aliases")), InputFileError, id="no aliases column"),
    pytest.param(lambda gc: Geocoder(pd.DataFrame({"id": ["x"]})), ParameterError, id="not a GeoDataFrame"),
    pytest.param(lambda gc: Geocoder(None), ParameterError, id="None"),
    pytest.param(lambda gc: gc.find_mentions(None), ParameterError, id="text None"),
    pytest.param(lambda gc: gc.find_mentions(b"\xe6\xb5\x8e"), ParameterError, id="text bytes"),
    pytest.param(lambda gc: gc.geocode_items(pd.DataFrame({"item_id": ["a"]})), ParameterError, id="no text column"),
    pytest.param(lambda gc: gc.geocode_items(["章丘区"]), ParameterError, id="items a list"),
    pytest.param(lambda gc: gc.geocode_items(pd.DataFrame({"item_id": ["a"], "text": [None]})), ParameterError,
                 id="text cell None"),
    pytest.param(lambda gc: gc.lookup("完全不存在"), UnknownPlaceError, id="unknown name"),
    pytest.param(lambda gc: gc.lookup(7), ParameterError, id="name an int"),
    pytest.param(lambda gc: gc.feature("完全不存在"), UnknownPlaceError, id="feature of unknown name"),
])
def test_user_errors_are_planatlas_errors(geocoder, make, error):
    with pytest.raises(PlanatlasError) as info:
        make(geocoder)
    assert isinstance(info.value, error)
    text = str(info.value)
    assert re.match(r"[\u4e00-\u9fff]", text) and text.endswith(")")  # Chinese, then English in brackets
