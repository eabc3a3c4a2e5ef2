"""Mentions, longest-first matching, district fallback and the summary, on a tiny gazetteer."""

import json

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from spatial._errors import UnknownPlaceError
from spatial.geocode import Geocoder


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
    frame = gpd.GeoDataFrame(
        [dict(id=i, name=n, aliases=a, kind=k, district=d, precision=p, source="test", source_datum="WGS84")
         for i, n, a, k, d, p, _ in rows],
        geometry=[g for *_, g in rows], crs="EPSG:4326",
    )
    return Geocoder(frame)


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
    assert "4 found, 3 resolved" in summary.as_text()
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
    with pytest.raises(UnknownPlaceError, match="did you mean"):
        geocoder.lookup("济东湿地")
    with pytest.raises(UnknownPlaceError, match="not in the gazetteer"):
        geocoder.lookup("不存在的地方")
    unresolved = geocoder.feature("某某未定公园")
    assert unresolved["geometry"] is None and unresolved["properties"]["precision"] == "unresolved"
