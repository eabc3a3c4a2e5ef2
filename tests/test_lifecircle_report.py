"""The report, the GeoPackage and the ledger files of an evaluation."""

from __future__ import annotations

import re

import pandas as pd
import pyogrio
import pytest
from _lifecircle_city import facilities, network, residential, units

from spatial import store
from spatial.lifecircle.cells import build_cells
from spatial.lifecircle.evaluate import evaluate
from spatial.lifecircle.ledger import HEADINGS, write_ledger
from spatial.lifecircle.report import write_outputs


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    hostile = units().assign(name=["<script>alert(1)</script>", "East & Co"])
    cells = build_cells(hostile, residential=residential())
    ev = evaluate(cells, facilities(), standard="gb50180", method="network", network=network())
    return ev, write_outputs(ev, tmp_path_factory.mktemp("eval"))


def test_report_is_self_contained_and_escaped(outputs):
    _ev, paths = outputs
    text = paths["report"].read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "East &amp; Co" in text
    assert not re.search(r"""(src|href)=["']https?://""", text)  # nothing fetched from the internet
    assert text.count("data:image/png;base64,") >= 3 + 3  # completeness maps, blind spots, unit charts
    for words in ("方法与数据", "hand-built test city", "街道网络距离", "问题台账", "标准条目", "未核实",
                  "GB 50180-2018"):
        assert words in text, words


def test_geopackage_holds_cells_units_and_the_ledger(outputs):
    ev, paths = outputs
    layers = {row[0] for row in pyogrio.list_layers(paths["gpkg"])}
    assert {"lifecircle_cells", "lifecircle_units"} <= layers
    cells = store.read_layer("lifecircle_cells", path=paths["gpkg"])
    assert len(cells) == 10 and cells.crs.to_epsg() == 4326
    assert cells["ok_kindergarten"].sum() == 3
    ledger = store.read_table("lifecircle_ledger", path=paths["gpkg"])
    assert len(ledger) == len(ev.ledger) == 3


def test_ledger_files_have_chinese_headings(outputs):
    _ev, paths = outputs
    xl = pd.read_excel(paths["xlsx"], sheet_name=None)
    assert set(xl) == {"问题台账", "说明"}
    sheet = xl["问题台账"]
    assert "受影响居民 (人)" in sheet.columns and HEADINGS["gap_area_ha"] in sheet.columns
    assert sheet["受影响居民 (人)"].tolist() == [3000, 1000, 400]
    csv = pd.read_csv(paths["csv"], encoding="utf-8-sig")
    assert csv.columns[0] == "排序" and len(csv) == 3
    assert csv["层级"].iloc[0] == "五分钟生活圈"


def test_ledger_refuses_other_formats(outputs, tmp_path):
    ev, _paths = outputs
    with pytest.raises(ValueError, match="xlsx"):
        write_ledger(ev.ledger, tmp_path / "ledger.docx")
