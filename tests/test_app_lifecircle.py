"""The 生活圈体检 page on the hand-built city: the same numbers as ``planatlas evaluate``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from _lifecircle_city import write_store
from streamlit.testing.v1 import AppTest

from app_pages import state

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


@pytest.fixture(scope="module")
def city_data(tmp_path_factory):
    """A data folder whose project store is the hand-built city."""
    folder = tmp_path_factory.mktemp("city-data")
    store = write_store(tmp_path_factory.mktemp("city") / "city.gpkg")
    shutil.copyfile(store, folder / "planatlas.gpkg")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PLANATLAS_DATA_DIR", str(folder))
        yield folder


def by_label(widgets, label):
    found = [w for w in widgets if w.label == label]
    assert found, f"no widget {label!r}: {[w.label for w in widgets]}"
    return found[0]


def test_page_shows_the_cli_figures(city_data, tmp_path, capsys):
    from spatial.cli import main

    assert main(["evaluate", "--standard", "gb50180", "--store", str(city_data / "planatlas.gpkg"), "--out",
                 str(tmp_path / "eval"), "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)

    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page("app_pages/page_lifecircle.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.header[0].value == "生活圈体检"
    assert by_label(at.radio, "距离").value == "network"  # the store has a walking network
    by_label(at.button, "运行评估").click().run()
    assert not at.exception, [e.value for e in at.exception]
    ev = at.session_state[state.LIFECIRCLE_RESULT]
    metrics = {m.label: m.value for m in at.metric}
    for tier in ("5min", "10min", "15min"):
        shown = next(v for k, v in metrics.items() if k.startswith(("五分钟", "十分钟", "十五分钟")[
            ("5min", "10min", "15min").index(tier)]))
        assert shown == f"{cli['city'][tier]['all_in_reach_pct']:.1f} %"
    units = next(df.value for df in at.dataframe if "单元" in df.value.columns and "居民 (人)" in df.value.columns)
    for _, row in units.iterrows():
        ref = next(u for u in cli["units"] if u["unit"] == row["单元"])
        assert row["五分钟生活圈全部可达 (%)"] == pytest.approx(round(ref["all_5min_pct"], 1))
        assert row["十分钟生活圈完整度 (%)"] == pytest.approx(round(ref["complete_10min_pct"], 1))
        assert row["居民 (人)"] == pytest.approx(round(ref["weight"]))
    ledger = next(df.value for df in at.dataframe if "排序" in df.value.columns)
    assert ledger["受影响居民 (人)"].tolist() == pytest.approx([r["affected"] for r in cli["ledger"]])
    labels = [b.label for b in at.get("download_button")]
    assert {"报告 (HTML)", "问题台账 (XLSX)", "网格与单元 (GeoPackage)"} <= set(labels)
    assert ev.parameters["method"] == cli["method"]
