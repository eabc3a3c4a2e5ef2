"""AppTest of the 选址 page on the store built offline from the report: sites on the map, the curve, CLI's numbers."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

from app_pages import state

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")
TIMEOUT = 240


@pytest.fixture(scope="module", autouse=True)
def data_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("planatlas-data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PLANATLAS_DATA_DIR", str(folder))
        from layers.build import ensure_default_store

        yield ensure_default_store()


def by_label(widgets, label):
    found = [w for w in widgets if w.label == label]
    assert found, f"no widget labelled {label!r}; have {[w.label for w in widgets]}"
    return found[0]


def open_siting() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("app_pages/page_siting.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_page_offers_the_reports_target_with_its_sentence():
    at = open_siting()
    assert at.header[0].value == "选址"
    assert by_label(at.selectbox, "设施类型").value == "park"
    assert by_label(at.radio, "数量").value == "target"
    info = "\n".join(i.value for i in at.info)
    assert "新建各类公园 100 处" in info and "2023 年目标" in info


def test_a_run_shows_the_sites_on_the_map_the_curve_and_the_same_numbers_as_the_cli(data_dir):
    at = open_siting()
    by_label(at.radio, "数量").set_value("count").run()
    by_label(at.number_input, "新增设施数量").set_value(4)
    by_label(at.selectbox, "现有设施").set_value("parks")
    by_label(at.number_input, "候选网格大小 (m)").set_value(3000.0)
    by_label(at.number_input, "需求网格大小 (m)").set_value(500.0)
    at.run()
    by_label(at.button, "运行选址").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    result = at.session_state[state.SITING_RESULT]
    assert len(result.sites) == 4
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["新增设施"] == "4 处"
    # the map carries the sites, the existing parks and the units
    comps = [c for c in at.get("component_instance") if c.proto.component_name == "streamlit_folium.st_folium"]
    assert comps
    drawn = json.loads(comps[0].proto.json_args)["script"]
    for title in ("选址结果", "现有设施"):  # the layer control's titles, as the map's JavaScript spells them
        assert json.dumps(title)[1:-1] in drawn
    assert len(at.get("vega_lite_chart")) == 1  # the marginal-gain curve
    assert sorted(at.session_state[state.SITING_FILES]) == ["sites.geojson", "sites.gpkg", "siting.xlsx"]
    # planatlas site with the same choices prints the same figures
    from spatial.cli import main

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["site", "--type", "park", "--count", "4", "--facilities", "parks", "--distance", "500",
                     "--candidate-cell", "3000", "--cell", "500", "--store", str(data_dir), "--json"]) == 0
    cli = json.loads(buf.getvalue())
    assert metrics["新增覆盖人口"] == f"{cli['parameters']['residents_new']:,.0f} 人"
    assert [s["candidate_id"] for s in cli["sites"]] == list(result.sites["candidate_id"])
    text = "\n".join(t.value for t in at.text)
    assert f"新增覆盖 {cli['parameters']['residents_new']:,.0f} 人" in text
