"""A writer killed in the middle of a large write leaves the previous store intact."""

import signal
import subprocess
import sys
import textwrap
import time

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import Point

from spatial import store

WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    import geopandas as gpd
    from spatial import store

    n = 400_000
    rng = np.random.default_rng(0)
    big = gpd.GeoDataFrame(
        {"name": [f"item {i}" for i in range(n)], "v": rng.random(n)},
        geometry=gpd.points_from_xy(rng.uniform(116, 118, n), rng.uniform(36, 37.5, n)),
        crs="EPSG:4326",
    )
    print("writing", flush=True)
    store.write_store({"parks": big, "report_items": big, "places": big}, sys.argv[1])
    print("done", flush=True)
    """
)


@pytest.mark.slow
def test_killed_writer_leaves_previous_store(tmp_path):
    path = tmp_path / "planatlas.gpkg"
    small = gpd.GeoDataFrame({"name": ["趵突泉"]}, geometry=[Point(117.0167, 36.6617)], crs="EPSG:4326")
    store.write_store({"parks": small, "places": small}, path)
    before = path.read_bytes()

    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    # wait until the temporary file has grown, i.e. the writer is really mid-write
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        temps = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp.gpkg")]
        if temps and temps[0].stat().st_size > 1_000_000:
            break
        time.sleep(0.05)
    else:
        proc.kill()
        proc.wait(timeout=30)
        proc.stdout.close()
        pytest.fail("the writer never started writing its temporary file")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL

    assert path.read_bytes() == before
    layers = {row[0] for row in pyogrio.list_layers(path)}
    assert {"parks", "places", store.META_TABLE} <= layers
    assert store.read_layer("parks", path=path)["name"].tolist() == ["趵突泉"]
