"""Reach in metres from a distance, minutes × speed or a preset, validated once."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spatial._errors import ParameterError, PlanatlasError, UnknownPresetError
from spatial.thresholds import resolve_threshold, travel_distances


@pytest.mark.parametrize(("kwargs", "metres", "minutes"), [
    ({"distance_m": 500}, 500.0, 500 / 80),
    ({"minutes": 15}, 1200.0, 15.0),
    ({"minutes": 10, "speed_m_per_min": 60}, 600.0, 10.0),
    ({"preset": "gb50180-15min"}, 1000.0, 15.0),
    ({"preset": "gb50180-15min", "distance_m": 800}, 800.0, 800 / (1000 / 15)),
    ({"preset": "mofcom-15min", "speed_m_per_min": 60}, 900.0, 15.0),
    ({"preset": "park-500m"}, 500.0, 500 / 80),
    ({"preset": "mofcom-5min"}, 400.0, 5.0),
])
def test_reach(kwargs: dict, metres: float, minutes: float) -> None:
    reach = resolve_threshold(**kwargs)
    assert reach.distance_m == pytest.approx(metres)
    assert reach.minutes == pytest.approx(minutes)


@pytest.mark.parametrize("kwargs", [
    {},
    {"distance_m": 100, "minutes": 5},
    {"distance_m": -3},
    {"distance_m": 0},
    {"distance_m": math.inf},
    {"distance_m": "far"},
    {"minutes": 5, "speed_m_per_min": -3},
    {"minutes": 5, "speed_m_per_min": 0},
    {"preset": "park-500m", "speed_m_per_min": 60},
])
def test_impossible_reach_is_one_clear_error(kwargs: dict) -> None:
    with pytest.raises(ParameterError) as info:
        resolve_threshold(**kwargs)
    message = str(info.value)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message) and "(" in message


def test_unknown_preset_lists_the_known_ones() -> None:
    with pytest.raises(UnknownPresetError, match="gb50180-15min") as info:
        resolve_threshold(preset="gb-9999")
    assert isinstance(info.value, PlanatlasError)


def test_per_feature_distances() -> None:
    dist, mins = travel_distances(3, distance_m=None, minutes=np.array([5, 10, 15]), speed_m_per_min=80)
    np.testing.assert_allclose(dist, [400, 800, 1200])
    np.testing.assert_allclose(mins, [5, 10, 15])
    with pytest.raises(ParameterError):
        travel_distances(2, distance_m=[1.0, -1.0], minutes=None, speed_m_per_min=80)
    with pytest.raises(ParameterError):
        travel_distances(2, distance_m=None, minutes=None, speed_m_per_min=80)
