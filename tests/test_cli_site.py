"""``planatlas site`` on the seed store: the report's target, the sites, the files, JSON for other tools."""

from __future__ import annotations

import json

import pytest

from spatial.cli import main

BASE = ["site", "--type", "park", "--facilities", "parks", "--candidate-cell", "3000", "--cell", "500"]


@pytest.fixture(scope="module")
def json_run(seed_store, tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "result"
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main([*BASE, "--from-target", "--store", str(seed_store), "--out", str(out), "--json"])
    assert code == 0
    return json.loads(buf.getvalue()), out


def test_from_target_takes_the_reports_count_and_sentence(json_run, seed_store):
    from spatial import store

    data, _ = json_run
    p = data["parameters"]
    assert p["target_count"] == 100 and p["target_unit"] == "处" and p["count"] == 100
    assert "新建各类公园 100 处" in p["target_sentence"]
    assert len(data["sites"]) == 100
    assert sum(s["residents_new"] for s in data["sites"]) == pytest.approx(p["residents_new"])
    assert p["solver"] and p["status"] in ("optimal", "time_limit") and p["gap"] >= 0
    assert p["existing_count"] == len(store.read_layer("parks", path=seed_store)) and "公园" in p["existing_source"]
    assert len(data["curve"]) == 200 and data["curve"][0]["sites_added"] == 1
    assert {u["name"] for u in data["by_unit"]} >= {"历下区", "章丘区"}
    assert "均匀分布" in p["population_note"]  # census by district: said next to the figures


def test_the_files_are_written(json_run):
    data, out = json_run
    assert sorted(p.name for p in out.iterdir()) == ["sites.geojson", "sites.gpkg", "siting.xlsx"]
    assert len(data["files"]) == 3


def test_the_text_output_names_the_target_the_solver_and_the_population(seed_store, capsys):
    assert main([*BASE, "--count", "3", "--store", str(seed_store)]) == 0
    out = capsys.readouterr().out
    assert "公园：最大覆盖，新增 3 处（指定数量）" in out
    assert "求解：" in out and "差距" in out and "Census" in out
    assert "建设次序" in out and "边际曲线" in out


def test_lscp_finds_the_count_for_a_share(seed_store, capsys):
    assert main(["site", "--type", "park", "--model", "lscp", "--share", "0.02", "--facilities", "parks",
                 "--candidate-cell", "3000", "--cell", "500", "--store", str(seed_store)]) == 0
    out = capsys.readouterr().out
    assert "最少设施覆盖" in out and "达到 2% 覆盖率所需的最少数量" in out


@pytest.mark.parametrize("argv,message", [
    (["--count", "5000"], "只有"),
    (["--count", "2", "--out", "x.gpkg"], "文件夹"),
    (["--count", "2", "--distance", "100", "--minutes", "5"], "不能与"),
])
def test_bad_requests_are_one_line(seed_store, capsys, argv, message):
    try:
        code = main([*BASE, *argv, "--store", str(seed_store)])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "错误" in line]
    assert code != 0 and len(errors) == 1 and message in errors[0] and "Traceback" not in err
