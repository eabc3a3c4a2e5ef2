"""Service-radius presets from Chinese planning standards, as data.

Each preset is a :class:`ServicePreset`: a distance (metres) and/or a walking
time (minutes) with the facilities it applies to and the document it comes
from. Analyses take a preset id (``"gb50180-15min"``) so a planner can say which
rule a map follows.

Sources and what was checked (November 2026, from public pages; the standards'
own PDFs were not available offline):

* **GB 50180-2018** 《城市居住区规划设计标准》 (MOHURD, in force 2018-12-01),
  table 3.0.4 居住区分级控制规模: 十五分钟生活圈居住区 walking distance
  800-1,000 m (50,000-100,000 residents), 十分钟 500 m (15,000-25,000),
  五分钟 300 m (5,000-12,000). The 10-minute / 500 m / 15,000-25,000 row was
  read in the 中国大百科全书 entry 十分钟生活圈居住区; the 5- and 15-minute rows
  match secondary sources (e.g. 吴夏安, 徐磊青, 仲亮, 《规划师》 2020(8)) but the
  table itself was not read.
* **MOFCOM 2021**: 《城市一刻钟便民生活圈建设指南》 (商务部办公厅等 11 部门,
  2021-07-20) defines the circle as a community commercial area with a service
  radius of about 15 minutes' walk. Its 5/8/15-minute tiers (convenience store
  and small supermarket within 5 minutes; snack bars, pharmacies, laundries,
  hairdressers, farmers' markets within 8 minutes; large and medium
  supermarkets and community service centres within 15 minutes) are quoted
  from MOFCOM's own explanation republished in September 2021; the guide text
  itself was read only in its definitions part. The guide gives no metres:
  distances follow from minutes x walking speed.
* **城市体检** (MOHURD 2021 urban health-check indicator system, indicators
  公园绿地服务半径覆盖率 and 城市绿道服务半径覆盖率): parks of 5,000 m² and more
  are counted with a 500 m service radius, parks of 2,000-5,000 m² with 300 m;
  greenways with 1 km (步行 15 分钟或骑行 5 分钟). The same park thresholds are in
  GB/T 50563-2010 《城市园林绿化评价标准》 (not read).

``applies_to`` lists are the planatlas team's short summary of which facility
kinds each tier serves (GB 50180-2018 appendix B, MOFCOM's tier wording),
written from general knowledge of the documents and not checked line by line.
They label presets; no analysis filters on them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from . import settings
from ._errors import UnknownPresetError


@dataclass(frozen=True)
class ServicePreset:
    """A service radius from a planning standard.

    Attributes
    ----------
    id : str
        Stable identifier, e.g. ``"gb50180-15min"``.
    title_zh, title_en : str
        Names for legends and tables.
    distance_m : float or None
        Radius in metres when the source gives one; ``None`` when the source
        gives a time only (then the distance is ``minutes * speed``).
    minutes : float or None
        Travel time in minutes when the source gives one.
    speed_m_per_min : float or None
        Speed implied by the source (``distance_m / minutes``) or, for
        time-only sources, the default speed used to turn minutes into metres.
    mode : str
        ``"walk"`` or ``"bike"``.
    applies_to : tuple of str
        Facility kinds the rule is written for.
    min_area_m2, max_area_m2 : float or None
        Size band of the facilities the radius applies to (park tiers); the
        lower bound is inclusive, the upper exclusive.
    source : str
        Citation of the document.
    note : str
        Ranges, choices made and what could not be verified.
    """

    id: str
    title_zh: str
    title_en: str
    distance_m: float | None
    minutes: float | None
    speed_m_per_min: float | None
    mode: str
    applies_to: tuple[str, ...]
    source: str
    min_area_m2: float | None = None
    max_area_m2: float | None = None
    note: str = ""

    @property
    def reach_m(self) -> float:
        """The preset's own reach in metres: its distance, else its minutes at its speed."""
        if self.distance_m is not None:
            return float(self.distance_m)
        return float((self.minutes or 0.0) * (self.speed_m_per_min or settings.WALK_SPEED_M_PER_MIN))


_GB50180 = ("GB 50180-2018《城市居住区规划设计标准》，住房和城乡建设部，表 3.0.4 居住区分级控制规模 "
            "(MOHURD, table 3.0.4)")
_MOFCOM = (
    "《城市一刻钟便民生活圈建设指南》, 商务部办公厅等11部门, 2021-07-20 "
    "(with 商流通函〔2021〕176号); tiers as explained on the MOFCOM website, 2021-09"
)
_TIJIAN = "住房和城乡建设部 2021年城市体检指标体系 (公园绿地服务半径覆盖率; 城市绿道服务半径覆盖率)"

_PRESETS: tuple[ServicePreset, ...] = (
    ServicePreset(
        id="gb50180-5min",
        title_zh="五分钟生活圈居住区",
        title_en="5-minute life circle",
        distance_m=300.0, minutes=5.0, speed_m_per_min=60.0, mode="walk",
        applies_to=("community_service_station", "kindergarten", "elderly_day_care",
                    "community_health_station", "small_sports_ground"),
        source=_GB50180,
        note="300 m walking distance; 5,000-12,000 residents (row checked in secondary sources only).",
    ),
    ServicePreset(
        id="gb50180-10min",
        title_zh="十分钟生活圈居住区",
        title_en="10-minute life circle",
        distance_m=500.0, minutes=10.0, speed_m_per_min=50.0, mode="walk",
        applies_to=("primary_school", "market", "medium_sports_ground", "residential_park"),
        source=_GB50180,
        note="About 500 m walking distance; 15,000-25,000 residents.",
    ),
    ServicePreset(
        id="gb50180-15min",
        title_zh="十五分钟生活圈居住区",
        title_en="15-minute life circle",
        distance_m=1000.0, minutes=15.0, speed_m_per_min=1000.0 / 15.0, mode="walk",
        applies_to=("middle_school", "community_health_centre", "elderly_care_home",
                    "cultural_centre", "large_sports_ground", "street_office"),
        source=_GB50180,
        note=(
            "The standard gives 800-1,000 m walking distance (50,000-100,000 residents); "
            "planatlas uses the upper bound, 1,000 m; pass distance_m=800 for the lower one."
        ),
    ),
    ServicePreset(
        id="mofcom-5min",
        title_zh="一刻钟便民生活圈·5分钟",
        title_en="15-minute convenience circle: 5-minute tier",
        distance_m=None, minutes=5.0, speed_m_per_min=settings.WALK_SPEED_M_PER_MIN, mode="walk",
        applies_to=("convenience_store", "small_supermarket"),
        source=_MOFCOM,
        note="Time only in the source; 400 m at the default 80 m/min.",
    ),
    ServicePreset(
        id="mofcom-10min",
        title_zh="一刻钟便民生活圈·10分钟",
        title_en="15-minute convenience circle: 10-minute tier",
        distance_m=None, minutes=10.0, speed_m_per_min=settings.WALK_SPEED_M_PER_MIN, mode="walk",
        applies_to=("breakfast", "pharmacy", "laundry", "hairdresser", "farmers_market", "repair"),
        source=_MOFCOM,
        note=(
            "MOFCOM's explanation names 8 minutes for daily services; planatlas uses the upper "
            "end of 8-10 minutes (800 m at 80 m/min); pass minutes=8 for the stricter reading."
        ),
    ),
    ServicePreset(
        id="mofcom-15min",
        title_zh="一刻钟便民生活圈·15分钟",
        title_en="15-minute convenience circle: 15-minute tier",
        distance_m=None, minutes=15.0, speed_m_per_min=settings.WALK_SPEED_M_PER_MIN, mode="walk",
        applies_to=("supermarket", "community_service_centre", "fitness"),
        source=_MOFCOM,
        note="Time only in the source; 1,200 m at 80 m/min (GB 50180's 15 minutes is 800-1,000 m).",
    ),
    ServicePreset(
        id="park-500m",
        title_zh="公园绿地服务半径(≥5000㎡)",
        title_en="Park service radius, parks of 5,000 m² or more",
        distance_m=500.0, minutes=None, speed_m_per_min=None, mode="walk",
        applies_to=("park",),
        source=_TIJIAN,
        min_area_m2=5000.0,
        note="Also GB/T 50563-2010 (not read). The indicator counts covered residential land.",
    ),
    ServicePreset(
        id="park-300m",
        title_zh="公园绿地服务半径(2000-5000㎡)",
        title_en="Park service radius, parks of 2,000-5,000 m²",
        distance_m=300.0, minutes=None, speed_m_per_min=None, mode="walk",
        applies_to=("park", "pocket_park"),
        source=_TIJIAN,
        min_area_m2=2000.0, max_area_m2=5000.0,
        note="Also GB/T 50563-2010 (not read).",
    ),
    ServicePreset(
        id="greenway-1km",
        title_zh="城市绿道服务半径",
        title_en="Greenway service radius",
        distance_m=1000.0, minutes=15.0, speed_m_per_min=1000.0 / 15.0, mode="walk",
        applies_to=("greenway",),
        source=_TIJIAN,
        note="1 km radius, 'walking 15 minutes or cycling 5 minutes' in the indicator's definition.",
    ),
)

PRESETS: dict[str, ServicePreset] = {p.id: p for p in _PRESETS}


def get_preset(preset: str | ServicePreset) -> ServicePreset:
    """Return the preset with this id (a :class:`ServicePreset` is returned as is).

    Raises
    ------
    UnknownPresetError
        (a ``ValueError``) for an unknown id; the message lists the known ones.
    """
    if isinstance(preset, ServicePreset):
        return preset
    key = str(preset).strip().lower()
    try:
        return PRESETS[key]
    except KeyError:
        msg = f"没有标准 {preset!r}；可用的标准：{', '.join(PRESETS)} (unknown service preset)"
        raise UnknownPresetError(msg) from None


def list_presets() -> pd.DataFrame:
    """All presets as a table (one row per preset, indexed by ``id``).

    The ``distance_m_default`` column is the radius each preset yields with its
    own speed (:attr:`ServicePreset.reach_m`).
    """
    rows = []
    for p in _PRESETS:
        row = asdict(p)
        row["applies_to"] = ", ".join(p.applies_to)
        row["distance_m_default"] = p.reach_m
        rows.append(row)
    return pd.DataFrame(rows).set_index("id")
