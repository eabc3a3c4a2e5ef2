"""The main map's overlays as ready script (app_pages.map_overlays) and the server's preparation (app_pages.startup).

Oracles: streamlit-folium's own rendering of the same groups (the script a
plain feature group gives), and counts of how often a layer is drawn.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from app_pages import common, map_overlays, startup
from layers import LAYERS
from spatial import webmap

sf = pytest.importorskip("streamlit_folium")

_IDS = re.compile(r"_[0-9a-f]{32}")  # folium's random element ids


def _layers() -> dict[str, gpd.GeoDataFrame]:
    from tests.test_webmap import sample_layers

    return sample_layers()


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def test_a_script_group_sends_what_the_plain_group_sends():
    plain = webmap.make_live_map(_layers(), specs=LAYERS, color_by="density", cluster_items=True)
    again = webmap.make_live_map(_layers(), specs=LAYERS, color_by="density", cluster_items=True)
    assert len(plain.groups) == len(again.groups) >= 3
    for i, (group, twin) in enumerate(zip(plain.groups, again.groups, strict=True)):
        expected = sf._get_feature_group_string(group, map=plain.base, idx=i)
        ready = map_overlays.to_script(twin, key=f"pa{i:04d}", basemap="osm")
        sent = sf._get_feature_group_string(map_overlays.ScriptGroup(ready), map=again.base, idx=i)
        # the only differences: the group's own variable name, and the line binding st_folium's name to it
        binding = f"var feature_group_feature_group_{i} = feature_group_pa{i:04d};"
        assert binding in _lines(sent)
        renamed = [line.replace(f"pa{i:04d}", f"feature_group_{i}") for line in _lines(sent) if line != binding]
        assert renamed == _lines(expected)
        assert ready.layer_name == group.layer_name and ready.show == group.show


def test_st_folium_gets_the_same_links_and_layer_control(monkeypatch):
    sent: list[dict] = []
    monkeypatch.setattr(sf, "_component_func", lambda **kwargs: sent.append(kwargs) or {})
    for prerender in (False, True):
        live = webmap.make_live_map(_layers(), specs=LAYERS, color_by="density", cluster_items=True)
        groups = live.groups
        if prerender:
            groups = [map_overlays.ScriptGroup(map_overlays.to_script(g, key=f"pa{i}", basemap="osm"))
                      for i, g in enumerate(live.groups)]
        sf.st_folium(live.base, key="m", feature_group_to_add=groups, layer_control=live.control, height=400)
    plain, ready = sent
    assert plain["js_links"] == ready["js_links"] and plain["css_links"] == ready["css_links"]
    assert any(link.endswith("leaflet.markercluster.js") for link in ready["js_links"])
    assert _IDS.sub("", plain["layer_control"]) == _IDS.sub("", ready["layer_control"])
    assert _IDS.sub("", plain["script"]) == _IDS.sub("", ready["script"])
    assert len(ready["feature_group"]) > 0.9 * len(plain["feature_group"])


def test_template_braces_from_data_reach_the_map_as_text():
    """A ``{%`` or ``{{`` in an upload once stopped the live map (folium compiles each script as Jinja)."""
    payload = "{% if x %}bad{{ y }}{# z"
    frame = gpd.GeoDataFrame({"name": [payload], "source": ["测试"], "source_datum": ["WGS84"],
                              "precision": ["exact"]}, geometry=[shapely.Point(117.0, 36.65)], crs="EPSG:4326")
    in_json = webmap.escape(payload).replace("&", "\\u0026")  # as folium writes it into the script's JSON
    for prerender in (False, True):
        live = webmap.make_live_map({"upload": frame})
        group = live.groups[0]
        if prerender:
            group = map_overlays.ScriptGroup(map_overlays.to_script(group, key="pa1", basemap="osm"))
        text = sf._get_feature_group_string(group, map=live.base, idx=0)
        assert in_json in text and "{%" not in text and "{{" not in text
    page = webmap.make_map({"upload": frame}).get_root().render()
    assert in_json in page


@pytest.fixture
def counted(monkeypatch):
    """How many times a layer is drawn and rendered (the cache of drawn layers emptied first)."""
    calls: list[tuple[str, str | None, bool]] = []
    real = map_overlays.layer_scripts

    def counting(name, frame, **kwargs):
        calls.append((name, kwargs["color_by"], kwargs["cluster"]))
        return real(name, frame, **kwargs)

    map_overlays._stored_layer_scripts.clear()
    monkeypatch.setattr(map_overlays, "layer_scripts", counting)
    yield calls
    map_overlays._stored_layer_scripts.clear()


def _shown(store: Path) -> tuple[list[str], dict]:
    mtime = common._mtime(store)
    specs = common._specs_cached(str(store), mtime)
    names = [str(n) for n in common._list_layers_cached(str(store), mtime)["name"]]
    return [n for n in names if n in specs and specs[n].visible], specs


def test_a_colour_change_draws_the_districts_again_and_nothing_else(seed_store, counted):
    names, specs = _shown(seed_store)
    mtime = common._mtime(seed_store)
    kwargs = {"path": str(seed_store), "mtime": mtime, "specs": specs, "basemap": "osm"}
    first = map_overlays.stored_overlays(names, color_by="density", cluster=True, **kwargs)
    assert sorted(c[0] for c in counted) == sorted(names)
    districts = [n for n in names if specs[n].role == "districts"]
    clustering = [n for n in names if specs[n].style.cluster]
    assert districts and clustering

    del counted[:]
    map_overlays.stored_overlays(names, color_by="area_km2", cluster=True, **kwargs)
    assert [c[0] for c in counted] == districts

    del counted[:]
    again = map_overlays.stored_overlays(names, color_by="density", cluster=True, **kwargs)
    assert counted == [] and again == first  # both looks are kept

    del counted[:]
    map_overlays.stored_overlays(names, color_by="density", cluster=False, **kwargs)
    assert sorted(c[0] for c in counted) == sorted(clustering)

    # the same groups, in the same order, with the same legends as the whole map drawn at once
    frames = {n: common._read_layer_cached(n, str(seed_store), mtime) for n in names}
    whole = webmap.make_live_map(frames, specs=specs, color_by="density", cluster_items=True, hidden=())
    assert [g.layer_name for g in first.groups] == [g.layer_name for g in whole.groups]
    assert [g.show for g in first.groups] == [bool(g.show) for g in whole.groups]
    assert list(first.legends) == whole.legends and list(first.notes) == whole.notes
    assert len({g.var for g in first.groups}) == len(first.groups)  # one variable per group


def test_prepare_opens_the_store_and_draws_the_first_map(seed_store, tmp_path, monkeypatch, counted, capsys):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copyfile(seed_store, data / "planatlas.gpkg")
    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(data))
    elapsed = startup.prepare()
    err = capsys.readouterr().err
    assert "planatlas：数据已就绪" in err and "Traceback" not in err and elapsed > 0
    drawn = sorted({c[0] for c in counted})
    store = data / "planatlas.gpkg"
    names, _ = _shown(store)
    assert drawn == sorted(names)
    # what the map page asks for first is now a cache hit: nothing is drawn again
    del counted[:]
    map_overlays.prepare_default(str(store), common._mtime(store), names)
    assert counted == []
    # and the coverage page's first run finds its population surface built
    from spatial import population

    built = []
    monkeypatch.setattr(population, "from_store", lambda *a, **k: built.append(a))
    surface = common.store_population_cached(str(store), common._mtime(store), "districts")
    assert built == [] and surface is not None and surface.total() > 0
    # with the districts' label grid drawn: a first run rasterises only its cover
    import rasterio.features

    from spatial.coverage import run_coverage

    dtypes = []
    real = rasterio.features.rasterize
    monkeypatch.setattr(rasterio.features, "rasterize", lambda *a, **k: dtypes.append(k.get("dtype")) or real(*a, **k))
    districts = common._read_layer_cached("districts", str(store), common._mtime(store))
    parks = common._read_layer_cached("parks", str(store), common._mtime(store))
    result = run_coverage(parks, districts=districts, distance_m=1000, population=surface)
    assert "int32" not in dtypes and dtypes, dtypes
    assert result.parameters["population"] == pytest.approx(surface.total(), rel=1e-6)


def test_prepare_says_in_one_line_when_it_cannot(tmp_path, monkeypatch, capsys):
    target = tmp_path / "a-file"
    target.write_text("not a folder")
    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(target))
    startup.prepare()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("planatlas：启动时未能预先准备数据")


def test_streamlit_run_serves_the_app_with_its_preparation():
    from streamlit.web.server.app_discovery import discover_asgi_app

    found = discover_asgi_app(Path(__file__).resolve().parent.parent / "streamlit_app.py")
    assert found.is_asgi_app and found.import_string == "streamlit_app:app"
