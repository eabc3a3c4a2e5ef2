"""How far is "within reach": a distance, or minutes × speed, validated once.

Every analysis takes a reach in one of three forms: a distance in metres, a
travel time with a speed, or a standards preset (which carries one or both).
:func:`resolve_threshold` turns whatever the user gave into a
:class:`Threshold` at the public boundary (the CLI, the app, ``run_coverage``),
refusing impossible values with one clear :class:`~spatial._errors.ParameterError`;
everything further in takes the validated value and checks nothing again.

>>> resolve_threshold(minutes=15).distance_m
1200.0
>>> resolve_threshold(preset="park-500m").describe()
'500 m (公园绿地服务半径(≥5000㎡))'
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import settings
from ._errors import ParameterError
from .standards import ServicePreset, get_preset


def check_positive(value: object, what: str, *, allow_zero: bool = False) -> float:
    """``value`` as a float when it is a positive (or, ``allow_zero``, non-negative) finite number.

    Raises
    ------
    ParameterError
        Otherwise, naming ``what`` and the value.
    """
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        msg = f"{what} 须为数字，收到 {value!r} ({what} must be a number)"
        raise ParameterError(msg) from None
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        zh, en = ("非负", "non-negative") if allow_zero else ("正", "positive")
        msg = f"{what} 须为{zh}数，收到 {value!r} ({what} must be a {en} number)"
        raise ParameterError(msg)
    return number


def check_speed(speed_m_per_min: object) -> float:
    """A travel speed in metres per minute, or :class:`ParameterError`."""
    return check_positive(speed_m_per_min, "速度 speed_m_per_min")


def travel_distances(
    n: int,
    *,
    distance_m: float | np.ndarray | None,
    minutes: float | np.ndarray | None,
    speed_m_per_min: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature distances (m) and minutes from exactly one of the two (one value or one per feature).

    Raises
    ------
    ParameterError
        Both or neither given, a non-finite or negative value, a bad speed.
    """
    if (distance_m is None) == (minutes is None):
        msg = "请给出距离或时间之一 (give exactly one of distance_m or minutes)"
        raise ParameterError(msg)
    speed = check_speed(speed_m_per_min)
    what = "距离 distance_m" if minutes is None else "时间 minutes"
    try:
        given = np.broadcast_to(np.asarray(distance_m if minutes is None else minutes, dtype="float64"), (n,)).copy()
    except (TypeError, ValueError):
        msg = f"{what} 须为数字或每个要素一个数字 ({what} must be one number or one per feature)"
        raise ParameterError(msg) from None
    if not np.all(np.isfinite(given)) or np.any(given < 0):
        msg = f"{what} 须为非负有限数 ({what} must be finite and not negative)"
        raise ParameterError(msg)
    if minutes is None:
        return given, given / speed
    return given * speed, given


@dataclass(frozen=True)
class Threshold:
    """A validated reach.

    Attributes
    ----------
    distance_m : float
        Distance in metres (> 0).
    minutes : float
        Travel time in minutes at ``speed_m_per_min``.
    speed_m_per_min : float
        Speed turning minutes into metres.
    preset : ServicePreset or None
        The standard it came from, if any.
    """

    distance_m: float
    minutes: float
    speed_m_per_min: float
    preset: ServicePreset | None = None

    def describe(self) -> str:
        """Short Chinese description: ``"1000 m (十五分钟生活圈居住区)"``."""
        text = f"{self.distance_m:,.0f} m"
        return f"{text} ({self.preset.title_zh})" if self.preset is not None else text


def resolve_threshold(
    *,
    preset: str | ServicePreset | None = None,
    distance_m: float | None = None,
    minutes: float | None = None,
    speed_m_per_min: float | None = None,
) -> Threshold:
    """The reach a user asked for, validated.

    Parameters
    ----------
    preset : str or ServicePreset, optional, keyword-only
        A standards preset (``"gb50180-15min"``); ``distance_m`` or ``minutes``
        override its reach, a speed applies to its minutes.
    distance_m : float, optional, keyword-only
        Metres (> 0).
    minutes : float, optional, keyword-only
        Minutes (> 0), turned into metres at ``speed_m_per_min``.
    speed_m_per_min : float, optional, keyword-only
        Metres per minute (> 0); default the preset's speed, else
        :data:`spatial.settings.WALK_SPEED_M_PER_MIN`.

    Raises
    ------
    ParameterError
        Nothing given, both a distance and minutes, non-positive values, or a
        speed for a preset that is a distance only.
    UnknownPresetError
        An unknown preset id.
    """
    p = get_preset(preset) if preset is not None else None
    if distance_m is not None and minutes is not None:
        msg = "距离与时间只能给一个 (give distance_m or minutes, not both)"
        raise ParameterError(msg)
    speed = check_speed(speed_m_per_min) if speed_m_per_min is not None else None
    default_speed = (p.speed_m_per_min if p is not None and p.speed_m_per_min else
                     settings.WALK_SPEED_M_PER_MIN)
    if distance_m is not None:
        dist = check_positive(distance_m, "距离 distance_m")
        use = speed or default_speed
        return Threshold(dist, dist / use, use, p)
    if minutes is not None:
        mins = check_positive(minutes, "时间 minutes")
        use = speed or default_speed
        return Threshold(mins * use, mins, use, p)
    if p is None:
        msg = "请给出标准、距离或时间 (give a preset, distance_m or minutes)"
        raise ParameterError(msg)
    if speed is not None:
        if p.minutes is None:
            msg = (
                f"标准 {p.id} 只规定距离 ({p.distance_m:g} m)，不能指定速度 "
                f"(preset {p.id!r} is a distance with no time: a speed does not apply)"
            )
            raise ParameterError(msg)
        return Threshold(p.minutes * speed, p.minutes, speed, p)
    use = p.speed_m_per_min or settings.WALK_SPEED_M_PER_MIN
    mins = p.minutes if p.minutes is not None else p.reach_m / use
    return Threshold(p.reach_m, float(mins), float(use), p)
