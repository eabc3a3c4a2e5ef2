"""``planatlas evaluate`` on the hand-built city: the figures, the files, the errors."""

from __future__ import annotations

import json

import pytest
from _lifecircle_city import write_store

from spatial.cli import main


@pytest.fixture(scope="module")
def city_store(tmp_path_factory):
    return write_store(tmp_path_factory.mktemp("city") / "city.gpkg")


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_json_gives_city_types_and_units(city_store, tmp_path, capsys):
    code, out, err = run(["evaluate", "--standard", "gb50180", "--store", str(city_store), "--out",
                          str(tmp_path / "eval"), "--json"], capsys)
    assert code == 0, err
    data = json.loads(out)  # standard output holds the JSON only
    assert data["standard"] == "gb50180" and data["method"] == "network" and data["weight_kind"] == "residents"
    assert data["city"]["5min"]["all_in_reach_pct"] == pytest.approx(15.0)
    assert data["city"]["10min"]["all_in_reach"] == pytest.approx(3000.0)
    assert data["city"]["15min"]["completeness_pct"] == pytest.approx(100.0)
    units = {u["unit"]: u for u in data["units"]}
    assert units["West"]["all_5min_pct"] == pytest.approx(60.0) and units["East"]["all_10min_pct"] == 100.0
    types = {t["requirement"]: t for t in data["types"]}
    assert types["kindergarten"]["missing"] == pytest.approx(3400.0)
    assert types["nursery"]["data_status"] == "no_data" and types["nursery"]["in_reach_pct"] is None
    assert [row["affected"] for row in data["ledger"]] == pytest.approx([3000.0, 1000.0, 400.0])
    assert data["parameters"]["network_source"].startswith("network_walk")
    assert "hand-built test city" in data["parameters"]["population_source"]
    for key in ("report", "gpkg", "xlsx", "csv"):
        assert (tmp_path / "eval").joinpath(data["outputs"][key].split("/")[-1]).is_file()


def test_plain_output_and_straight_line_fallback(tmp_path, capsys):
    store = write_store(tmp_path / "nonet.gpkg", with_network=False)
    code, out, err = run(["evaluate", "--standard", "mofcom", "--store", str(store), "--out", str(tmp_path / "o")],
                         capsys)
    assert code == 0
    assert "直线距离" in err  # said, not silent
    assert "一刻钟便民生活圈" in out and "已写入报告" in out and "无法判断" in out


@pytest.mark.parametrize("argv, words", [
    (["--method", "network"], "network_walk"),
    (["--units", "no_such_layer"], "no_such_layer"),
    (["--population", "people.xlsx"], "GeoTIFF"),
])
def test_errors_are_one_clear_line(tmp_path, capsys, argv, words):
    store = write_store(tmp_path / "nonet.gpkg", with_network=False)
    code, _out, err = run(["evaluate", "--standard", "gb50180", "--store", str(store), "--out", str(tmp_path / "o"),
                           *argv], capsys)
    assert code == 1 and "Traceback" not in err
    assert err.count("错误") == 1 and words in err


def test_out_must_be_a_folder(city_store, tmp_path, capsys):
    code, _out, err = run(["evaluate", "--standard", "gb50180", "--store", str(city_store), "--out",
                           str(tmp_path / "report.html")], capsys)
    assert code == 1 and "文件夹" in err
