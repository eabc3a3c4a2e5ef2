"""`planatlas coverage` on the report's parks, by circles and along a local OSM street file."""

import pandas as pd
import pyogrio
import pytest

from spatial.cli import main


def write_grid_osm(path, *, lon0=116.95, lat0=36.62, lon1=117.10, lat1=36.70, step=0.002):
    """A street grid (about 180 m blocks) over central Jinan as OSM XML: a local file, no network."""
    nx = round((lon1 - lon0) / step) + 1
    ny = round((lat1 - lat0) / step) + 1
    nid = lambda i, j: 1 + i * ny + j  # noqa: E731
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="planatlas test">']
    for i in range(nx):
        for j in range(ny):
            lat, lon = lat0 + j * step, lon0 + i * step
            lines.append(f'<node id="{nid(i, j)}" lat="{lat:.6f}" lon="{lon:.6f}" version="1"/>')
    way = 1
    for i in range(nx):
        refs = "".join(f'<nd ref="{nid(i, j)}"/>' for j in range(ny))
        lines.append(f'<way id="{way}" version="1">{refs}<tag k="highway" v="residential"/></way>')
        way += 1
    for j in range(ny):
        refs = "".join(f'<nd ref="{nid(i, j)}"/>' for i in range(nx))
        lines.append(f'<way id="{way}" version="1">{refs}<tag k="highway" v="residential"/></way>')
        way += 1
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def store(seed_store):
    return seed_store


def test_buffer_coverage_of_parks(store, tmp_path, capsys):
    out = tmp_path / "parks15.gpkg"
    assert main(["coverage", "--layer", "parks", "--preset", "gb50180-15min", "--store", str(store),
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "圆形缓冲 (直线距离)，1,000 m" in text and "历下区" in text
    layers = {row[0] for row in pyogrio.list_layers(out)}
    assert {"service_area", "gaps", "grid"} <= layers
    table = pd.read_csv(out.with_suffix(".csv"), encoding="utf-8-sig")
    assert len(table) == 12
    assert (table["population_covered"] <= table["population"] + 1e-6).all()
    assert table["population_covered"].sum() > 0
    # the dissolved circles are no larger than n parks x pi r^2
    n_parks = len(pyogrio.read_dataframe(store, layer="parks"))
    assert table["covered_km2"].sum() <= n_parks * 3.1416 * 1.0 + 1e-6


def test_network_coverage_on_a_local_osm_file(store, tmp_path, capsys):
    osm = write_grid_osm(tmp_path / "central_jinan.osm")
    out = tmp_path / "parks_net.gpkg"
    tif = tmp_path / "walk_distance.tif"
    assert main(["coverage", "--layer", "parks", "--preset", "park-500m", "--method", "network",
                 "--network", str(osm), "--store", str(store), "--out", str(out),
                 "--distance-tif", str(tif)]) == 0
    captured = capsys.readouterr()
    assert "街道网络距离，500 m" in captured.out and "central_jinan.osm" in captured.out
    # parks outside the street file are reported, not silently dropped
    assert "planatlas: 注意：" in captured.err and "超过 500 m" in captured.err
    area = pyogrio.read_dataframe(out, layer="service_area")
    assert area.crs.to_epsg() == 4326 and area.geometry.notna().all()
    net_km2 = float(area.to_crs("EPSG:4548").area.sum()) / 1e6
    import rasterio

    with rasterio.open(tif) as src:
        dist = src.read(1, masked=True)
        assert src.crs.to_epsg() == 4548 and src.tags()["units"].startswith("metres")
    assert 0 <= float(dist.min()) < 500 < float(dist.max())  # reached near the park, far beyond
    # along streets a 500 m walk reaches less than a 500 m circle
    assert 0 < net_km2 < 3.1416 * 0.25 * len(pyogrio.read_dataframe(store, layer="parks"))


def test_network_method_needs_a_file(store, capsys):
    assert main(["coverage", "--layer", "parks", "--preset", "park-500m", "--method", "network",
                 "--store", str(store)]) == 1
    assert "需要 --network" in capsys.readouterr().err


def test_unknown_preset_and_missing_network_file(store, tmp_path, capsys):
    assert main(["coverage", "--layer", "parks", "--preset", "gb-99min", "--store", str(store)]) == 1
    err = capsys.readouterr().err
    assert "gb50180-15min" in err  # the message lists the known presets
    assert main(["coverage", "--layer", "parks", "--preset", "park-500m", "--method", "network",
                 "--network", str(tmp_path / "none.osm.pbf"), "--store", str(store)]) == 1
    assert "none.osm.pbf" in capsys.readouterr().err
