"""Layer specs travel through the store unchanged, style and all."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point

from layers import LAYERS
from spatial import store
from spatial._errors import StoreError
from spatial.layerspec import LayerSpec, LayerStyle, default_spec, spec_from_record


def test_record_round_trip_keeps_every_field() -> None:
    spec = LAYERS["river_crossings"]
    assert spec_from_record(spec.as_record()) == spec
    styled = LayerSpec("x", "某层", style=LayerStyle(color="#123456", figures=("a", "b"), colors={"k": "#fff"}))
    assert spec_from_record(styled.as_record()) == styled


def test_specs_survive_the_store(tmp_path) -> None:
    frame = gpd.GeoDataFrame({"status": ["open"]}, geometry=[Point(117.0, 36.7)], crs="EPSG:4326")
    path = store.write_store({"river_crossings": frame, "mine": frame}, tmp_path / "s.gpkg",
                             specs={"river_crossings": LAYERS["river_crossings"]})
    specs = store.read_specs(path)
    assert specs["river_crossings"] == LAYERS["river_crossings"]
    assert specs["river_crossings"].style.colors["under_construction"] == "#f46d43"
    # a layer nobody declared gets a spec of its own, stable between runs
    assert specs["mine"].role == "upload" and specs["mine"] == default_spec("mine", geometry_type="Point")


def test_every_default_layer_is_declared_once_with_a_known_role() -> None:
    from spatial.layerspec import POPUPS, ROLES

    orders = [s.order for s in LAYERS.values()]
    assert len(set(orders)) == len(orders)
    for spec in LAYERS.values():
        assert spec.role in ROLES and spec.style.popup in POPUPS
        assert spec.title_zh and spec.title_en and spec.source


def test_a_damaged_style_is_a_store_error() -> None:
    record = LAYERS["parks"].as_record() | {"style": "{not json"}
    with pytest.raises(StoreError, match="样式"):
        spec_from_record(record)
