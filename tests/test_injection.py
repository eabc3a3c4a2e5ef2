"""Injection: hostile text in any attribute reaches pages and files only as inert data.

Payloads go into every text cell of report items, places, districts, the other
store layers and an uploaded layer (through :func:`spatial.io.read_upload`,
column names and layer name included). Then:

* the Folium map page (``make_map(...).get_root().render()``) and the
  self-contained page (``standalone_html``) hold no payload unescaped, not even
  after the browser decodes JSON ``\\uXXXX`` escapes, and every popup and
  tooltip parses as plain HTML with only the tags planatlas writes, no event
  handler attributes and no ``javascript:`` link;
* the report page's highlighted source text escapes the payload;
* KML and GeoJSON exports keep the payload as data: XML-escaped text that
  reads back as exactly the payload, and JSON strings equal to it.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import folium
import geopandas as gpd
import pytest

from layers import LAYERS
from spatial import webmap
from spatial.io import export, read_upload
from spatial.webmap.assets import walk
from spatial.webmap.legends import LegendControl
from tests import inputs

PAYLOADS = inputs.PAYLOADS

#: Tags planatlas itself writes into popups, tooltips and layer names.
ALLOWED_TAGS = {"div", "b", "blockquote", "table", "tr", "th", "td", "span", "br", "mark"}

hostile_layers = inputs.hostile_layers


def uploaded_layer(p: str) -> gpd.GeoDataFrame:
    """A GeoJSON upload with the payload as values and as a column name, read by planatlas."""
    return read_upload(inputs.hostile_upload(p), filename=p + ".geojson").frame


def unescape_json(page: str) -> str:
    """What a browser's JS engine sees inside JSON strings (``\\u003c`` -> ``<``)."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), page)


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_data(self, data):
        self.text.append(data)


def assert_inert_html(fragment: str, payload: str) -> None:
    """``fragment`` has only planatlas's own tags and attributes; the payload is text."""
    parser = _Collector()
    parser.feed(fragment)
    parser.close()
    for tag, attrs in parser.tags:
        assert tag in ALLOWED_TAGS, (tag, fragment)
        for name, value in attrs:
            assert name in {"class", "style"}, (name, fragment)
            assert "javascript:" not in (value or "").lower()
            assert "expression(" not in (value or "").lower()
    assert payload in "".join(parser.text) or payload not in fragment


def assert_page_inert(page: str, payload: str) -> None:
    decoded = unescape_json(page)
    if any(ch in payload for ch in "<>\"'`$"):  # "javascript:alert(1)" alone is plain text
        assert payload not in page
        assert payload not in decoded
    assert not re.search(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", decoded, re.IGNORECASE)
    # the handlers from the payloads never appear as live attributes
    assert not re.search(r"<(?:img|svg)[^>]*\son(?:error|load)\s*=", decoded, re.IGNORECASE)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_map_page_holds_payloads_only_escaped(payload):
    layers = hostile_layers(payload)
    layers[payload] = uploaded_layer(payload)  # an upload named by the user
    # drawn with the default layers' specs, so every popup template and legend is exercised
    m = webmap.make_map(layers, specs=LAYERS, color_by="density", cluster_items=False, hidden=[])
    page = m.get_root().render()
    assert_page_inert(page, payload)
    # the reader still sees the payload, as text
    assert webmap.escape(payload) in unescape_json(page)
    # every popup and tooltip is plain HTML whose only text is data
    features = [f for e in walk(m) if isinstance(e, folium.GeoJson)
                for f in e.data["features"]]
    assert len(features) == len(layers)
    for f in features:
        for key in ("_popup", "_tooltip"):
            assert_inert_html(f["properties"].get(key) or "", payload)
    for e in walk(m):  # layer-control names (Leaflet inserts them as HTML)
        if isinstance(e, folium.FeatureGroup):
            assert_inert_html(e.layer_name, payload)
    legends = [e.html for e in walk(m) if isinstance(e, LegendControl)]
    assert len(legends) == 4  # the choropleth, the crossings' status, the rings and the items' categories
    for legend in legends:  # inserted into the map as HTML by the legend control
        assert_inert_html(legend, payload)


@pytest.mark.parametrize("payload", PAYLOADS[:3] + PAYLOADS[4:5])
def test_standalone_page_holds_payloads_only_escaped(payload):
    layers = hostile_layers(payload)
    layers["upload"] = uploaded_layer(payload)
    page = webmap.standalone_html(webmap.make_map(layers, specs=LAYERS, color_by="density", cluster_items=True))
    assert_page_inert(page, payload)
    # inlined Leaflet code never closes its own <script> element early
    assert page.count("<script") >= 1
    assert webmap.escape(payload) in unescape_json(page)


def test_popup_html_escapes_every_argument():
    for p in PAYLOADS:
        html = webmap.popup_html(p, [(p, p), ("x", p)], quote=p, provenance=dict.fromkeys(inputs.PROVENANCE, p))
        assert_inert_html(html, p)
        assert p not in html or p == webmap.escape(p)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_report_page_highlight_escapes_source_text(payload):
    page_report = pytest.importorskip("app_pages.page_report")
    source = "新建公园" + payload + "。\n绿道" + payload
    start = source.index(payload)
    html = page_report.highlighted_source(source, start, start + len(payload))
    assert_inert_html(html, payload)
    if "<" in payload or '"' in payload:
        assert payload not in html
    # the selected span is exactly the payload, as text inside <mark>
    marked = re.search(r'<mark class="pa-selected">(.*?)</mark>', html).group(1)
    assert "<" not in marked and ">" not in marked
    import html as _html
    assert _html.unescape(marked) == payload


@pytest.mark.parametrize("payload", PAYLOADS)
def test_kml_export_keeps_the_payload_as_escaped_xml(payload):
    layer = hostile_layers(payload)["places"]
    data, suffix, _ = export.export_bytes(layer, "kml", layer="places")
    assert suffix == ".kml"
    text = data.decode("utf-8")
    if "<" in payload:
        assert payload not in text  # written as &lt;…&gt; (or CDATA-free escaped text)
    root = ET.fromstring(data)  # well-formed: the payload did not break the XML
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    names = [n.text for n in root.iterfind(".//k:Placemark/k:name", ns)]
    assert names == ["趵突泉" + payload]
    values = [d.text for d in root.iterfind(".//k:SimpleData", ns)]
    assert "P1" + payload in values and payload in values


@pytest.mark.parametrize("payload", PAYLOADS)
def test_geojson_export_keeps_the_payload_as_data(payload):
    layer = hostile_layers(payload)["report_items"]
    data, _, _ = export.export_bytes(layer, "geojson", layer="report_items")
    props = json.loads(data)["features"][0]["properties"]
    assert props["text"] == "新建公园" + payload + "。"
    assert props["place_name"] == "趵突泉" + payload
    # GDAL writes a string holding JSON as a JSON value (AUTODETECT_JSON_STRINGS)
    quantities = props["quantities"]
    quantities = json.loads(quantities) if isinstance(quantities, str) else quantities
    assert quantities[0]["raw"] == "10处" + payload


def test_uploaded_column_names_survive_as_data():
    frame = uploaded_layer(PAYLOADS[1])
    assert PAYLOADS[1] in frame.columns and frame["name"].iloc[0] == PAYLOADS[1]


@pytest.mark.parametrize("layer", inputs.ESCAPING_NAMES)
@pytest.mark.parametrize("fmt", ["geojson", "shp", "kml"])
def test_export_layer_name_cannot_leave_the_temporary_folder(tmp_path, monkeypatch, layer, fmt):
    # regression: export_bytes(layer="../../x") wrote x.geojson (and for shp the
    # .shp/.dbf/... parts) two folders above its temporary folder and left them there
    from spatial._errors import InputFileError

    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.setattr("tempfile.tempdir", str(work))
    layer_frame = hostile_layers("x")["places"]
    with pytest.raises(InputFileError, match="不能用作文件名"):
        export.export_bytes(layer_frame, fmt, layer=layer)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == []
    with pytest.raises(InputFileError):
        export.export_layer(layer_frame, tmp_path / "out.geojson", layer=layer)
