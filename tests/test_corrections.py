"""Planner corrections: entered with their datum, kept in the store, followed by the geocoder, kept by rebuilds.

The round trip a planner makes: ``planatlas unresolved --out`` lists what is
left to place, the CSV comes back with coordinates (``import-places --datum``),
the store is geocoded again with the answers, and a later ``planatlas build``
on the same store keeps them.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from spatial import store
from spatial._errors import DatumError, EmptyLayerError, ParameterError, PlanatlasError
from spatial.cli import main
from spatial.corrections import (
    USER_PLACES,
    corrections_csv,
    make_correction,
    merge_corrections,
    read_corrections_csv,
    read_user_places,
    unresolved_table,
    write_csv,
)
from spatial.datum import convert

#: A point in 市中区 (WGS-84) where the tests put the places they correct.
LON, LAT = 117.0, 36.62


def _item(items, fragment):
    rows = items[items["text"].str.contains(fragment, regex=False)]
    assert len(rows), fragment
    return rows


def test_a_correction_is_converted_to_wgs84_and_says_so():
    glon, glat = (float(v) for v in convert(LON, LAT, source="WGS84", target="GCJ02"))
    row = make_correction(lon=glon, lat=glat, datum="gcj-02", item_id="p9-s9-001-abcdef", precision="exact",
                          corrected_at="2026-12-01").iloc[0]
    # the GCJ-02 input is about 500 m east; stored, it is back on the WGS-84 point
    assert abs(row.geometry.x - LON) < 1e-6 and abs(row.geometry.y - LAT) < 1e-6
    assert (row["source_datum"], row["coord_basis"], row["precision"]) == ("GCJ02", "corrected", "exact")
    assert row["source"] == "规划师修正 planner correction" and row["corrected_at"] == "2026-12-01"
    assert row["error_m"] == 50.0  # the default of its precision class


@pytest.mark.parametrize("kwargs, error, message", [
    ({"lon": 117.0, "lat": 36.6}, ParameterError, "须给出地名或条目编号"),
    ({"lon": 36.6, "lat": 117.0, "name": "甲"}, ParameterError, "超出范围"),
    ({"lon": 2.35, "lat": 48.85, "name": "甲"}, ParameterError, "不在中国境内"),
    ({"lon": "东经", "lat": 36.6, "name": "甲"}, ParameterError, "须为数字"),
    ({"lon": 117.0, "lat": 36.6, "name": "甲", "datum": "NAD27"}, DatumError, "NAD27"),
    ({"lon": 117.0, "lat": 36.6, "name": "甲", "precision": "district_fallback"}, ParameterError, "精度须为"),
    ({"lon": 117.0, "lat": 36.6, "name": "甲", "error_m": -3}, ParameterError, "须为正数"),
])
def test_bad_corrections_are_refused_clearly(kwargs, error, message):
    with pytest.raises(error, match=message) as info:
        make_correction(**kwargs)
    assert isinstance(info.value, PlanatlasError) and str(info.value).endswith(")")


def test_a_newer_correction_replaces_the_older_one_of_the_same_item():
    first = make_correction(lon=117.0, lat=36.6, item_id="a")
    other = make_correction(lon=117.1, lat=36.6, name="甲公园")
    newer = make_correction(lon=117.2, lat=36.7, item_id="a")
    merged = merge_corrections(merge_corrections(first, other), newer)
    assert list(merged["id"]) == ["U001", "U002"]
    assert merged.set_index("item_id").loc["a"].geometry.x == pytest.approx(117.2)


def test_item_correction_survives_a_rebuild(seed_store_copy):
    from layers.build import build_store, rebuild_with_corrections

    items = store.read_layer("report_items", path=seed_store_copy)
    target = _item(items, "积极推进泉水博物馆规划建设").iloc[0]
    assert target["geocode_status"] == "unresolved" and target.geometry is None
    fix = make_correction(lon=LON, lat=LAT, item_id=target["item_id"], name="泉水博物馆")
    rebuild_with_corrections(seed_store_copy, fix)
    assert len(read_user_places(seed_store_copy)) == 1
    for _ in range(2):  # corrected, then rebuilt from scratch by `planatlas build` on the same store
        after = store.read_layer("report_items", path=seed_store_copy)
        row = after[after["item_id"] == target["item_id"]]
        assert len(row) == 1 and row.iloc[0]["geocode_status"] == "corrected"
        assert row.iloc[0].geometry.x == pytest.approx(LON) and row.iloc[0]["coord_basis"] == "corrected"
        assert row.iloc[0]["source"].startswith("规划师修正 planner correction")
        result, _, kept = build_store(None, seed_store_copy)
        assert kept == 1 and USER_PLACES in result.layers
    assert USER_PLACES in set(store.list_layers(seed_store_copy)["name"])


def test_a_named_place_moves_every_item_that_names_it(seed_store_copy):
    from layers.build import rebuild_with_corrections

    fix = make_correction(lon=LON, lat=LAT, name="大明湖", precision="exact", note="湖心")
    result, _ = rebuild_with_corrections(seed_store_copy, fix)
    items = result.layers["report_items"]
    lake = _item(items, "大明湖排水分区")
    assert (lake["geocode_status"] == "corrected").all() and lake.iloc[0].geometry.x == pytest.approx(LON)
    places = result.layers["places"].set_index("name")
    assert places.loc["大明湖", "coord_basis"] == "corrected"
    assert result.summary.places_by_basis.get("corrected") == 1


def test_unresolved_csv_round_trip_through_the_cli(seed_store_copy, tmp_path, capsys):
    out = tmp_path / "todo.csv"
    assert main(["unresolved", "--out", str(out), "--store", str(seed_store_copy)]) == 0
    with out.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    names = [r["name"] for r in rows]
    assert "泉水博物馆" in names and "黄河" not in names  # only what is left to place
    assert all(r["lon"] == "" for r in rows)
    # the planner answers two rows, in GCJ-02 (read off an AMap map)
    glon, glat = (float(v) for v in convert(LON, LAT, source="WGS84", target="GCJ02"))
    for r in rows:
        if r["name"] in ("泉水博物馆", "人才公园"):
            r["lon"], r["lat"] = f"{glon:.7f}", f"{glat:.7f}"
    with out.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    capsys.readouterr()
    assert main(["import-places", str(out), "--datum", "GCJ02", "--store", str(seed_store_copy)]) == 0
    printed = capsys.readouterr().out
    assert "已导入 2 条规划师修正" in printed and "规划师修正 1" not in printed
    items = store.read_layer("report_items", path=seed_store_copy)
    museum = _item(items, "积极推进泉水博物馆规划建设")
    assert "corrected" in set(museum["geocode_status"])
    point = museum[museum["geocode_status"] == "corrected"].iloc[0].geometry
    assert abs(point.x - LON) < 1e-6 and abs(point.y - LAT) < 1e-6  # GCJ-02 converted on the way in
    placed = read_user_places(seed_store_copy)
    assert set(placed["name"]) == {"泉水博物馆", "人才公园"} and set(placed["source_datum"]) == {"GCJ02"}
    # exported and read back, the corrections are the same places
    back, _ = read_corrections_csv(write_csv(corrections_csv(placed), tmp_path / "mine.csv"), datum="WGS84")
    assert list(back["name"]) == list(placed["name"])
    assert back.geometry.x.round(6).tolist() == placed.geometry.x.round(6).tolist()


def test_unresolved_table_and_csv_edges(seed_build, tmp_path):
    table = unresolved_table(seed_build.layers["report_items"])
    assert table["name"].is_unique and (table["n_items"] >= 1).all()
    museum = table.set_index("name").loc["泉水博物馆"]
    assert json.dumps(museum["item_ids"]) and museum["note"] == "1 条目仍未定位"
    with pytest.raises(ParameterError, match=r"须为 \.csv"):
        write_csv(table, tmp_path / "todo.xlsx")
    empty = tmp_path / "empty.csv"
    write_csv(table, empty)
    with pytest.raises(EmptyLayerError, match="没有填写经纬度的行"):
        read_corrections_csv(empty, datum="WGS84")
    formula = table.head(1).assign(note="=HYPERLINK(1)")
    text = Path(write_csv(formula, tmp_path / "f.csv")).read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK(1)" in text  # a spreadsheet will not run it
