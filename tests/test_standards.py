"""Service-radius presets: distances, size bands and sources."""

import pytest

from spatial import settings
from spatial.standards import (
    PRESETS,
    ServicePreset,
    UnknownPresetError,
    get_preset,
    list_presets,
)

EXPECTED_M = {
    "gb50180-5min": 300,
    "gb50180-10min": 500,
    "gb50180-15min": 1000,
    "mofcom-5min": 5 * settings.WALK_SPEED_M_PER_MIN,
    "mofcom-10min": 10 * settings.WALK_SPEED_M_PER_MIN,
    "mofcom-15min": 15 * settings.WALK_SPEED_M_PER_MIN,
    "park-500m": 500,
    "park-300m": 300,
    "greenway-1km": 1000,
}


@pytest.mark.parametrize(("preset_id", "metres"), sorted(EXPECTED_M.items()))
def test_distances(preset_id, metres):
    assert get_preset(preset_id).reach_m == pytest.approx(metres)
    assert list_presets().loc[preset_id, "distance_m_default"] == pytest.approx(metres)


def test_every_preset_cites_a_source_and_has_titles():
    assert set(EXPECTED_M) <= set(PRESETS)
    for p in PRESETS.values():
        assert p.source.strip()
        assert p.title_zh and p.title_en
        assert p.mode in {"walk", "bike"}
        assert p.applies_to
        assert p.distance_m is not None or (p.minutes and p.speed_m_per_min)
    assert "GB 50180-2018" in get_preset("gb50180-10min").source
    assert "商务部" in get_preset("mofcom-5min").source
    assert "城市体检" in get_preset("park-500m").source


def test_fifteen_minute_range_is_noted():
    note = get_preset("gb50180-15min").note
    assert "800" in note and "1,000" in note


def test_park_size_bands():
    big, small = get_preset("park-500m"), get_preset("park-300m")
    assert big.min_area_m2 == 5000 and big.max_area_m2 is None
    assert (small.min_area_m2, small.max_area_m2) == (2000, 5000)


def test_unknown_preset_lists_known_ones():
    with pytest.raises(UnknownPresetError) as info:
        get_preset("gb50180-20min")
    assert isinstance(info.value, ValueError)
    assert "gb50180-15min" in str(info.value) and "park-300m" in str(info.value)


def test_get_preset_accepts_objects_and_any_case():
    p = get_preset("GB50180-5min")
    assert isinstance(p, ServicePreset) and p.id == "gb50180-5min"
    assert get_preset(p) is p


def test_list_presets_frame():
    table = list_presets()
    assert list(table.index) == list(PRESETS)
    assert table.loc["gb50180-5min", "distance_m_default"] == 300
    assert {"title_zh", "title_en", "minutes", "source", "min_area_m2", "max_area_m2"} <= set(table.columns)
