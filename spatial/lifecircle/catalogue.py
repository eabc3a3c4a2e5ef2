"""The standards as data: which facility type belongs to which tier, at what distance, on what authority.

Every row of ``spatial/data/lifecircle_catalogue.csv`` is one statement of a
standard with its clause, its source and how far it was verified:

``standard_text``
    the document's own clause wording was read (in a full-text reproduction);
``secondary``
    a paper, glossary, encyclopedia or explainer reports it;
``unverified``
    from memory or team notes; no source was read.

No row reached an official copy of a standard: the planner sees the level of
every row next to the figures it produces, and can replace the file.

Rows with a ``requirement`` are what an evaluation judges: a facility type
(``facility_types``, ``|`` for "any of") within a distance of each residential
cell. Rows sharing a requirement id are alternatives (the 城市体检 park
indicator: parks of 5,000 m² or more within 500 m, *or* parks of 2,000-5,000 m²
within 300 m). Rows without one (tier definitions, thresholds, rules) are the
catalogue's context.

Tiers do not nest (GB 50180-2018, 第5章条文说明: 各层级居住区配套设施的设置为非包含关系):
a requirement is met only by its own facility types at its own tier's
distance, so a 15-minute 社区卫生服务中心 never stands in for a 5-minute
社区卫生服务站. Park size bands have a lower bound only where the standard
gives one, so a larger park does count for a smaller park's row.

>>> [r.id for r in requirements("mofcom")][:3]
['convenience', 'breakfast', 'pharmacy']
>>> requirements("mofcom")[0].alternatives[0].distance_m
400.0
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from .. import settings, vocab
from .._errors import UnknownPresetError

_DATA = Path(__file__).resolve().parent.parent / "data" / "lifecircle_catalogue.csv"

#: Standards an evaluation can follow: CLI name -> catalogue ``standard`` code.
STANDARDS: dict[str, str] = {"gb50180": "gb50180", "mofcom": "mofcom", "chengshi-tijian": "chengshi-tijian"}

#: Tiers an evaluation reports, in order, for each standard.
TIERS: dict[str, tuple[str, ...]] = {
    "gb50180": ("5min", "10min", "15min"),
    "mofcom": ("5min", "10min", "15min"),
    "chengshi-tijian": ("indicator",),
}

#: Verification levels, strongest first.
VERIFICATION: tuple[str, ...] = ("standard_text", "secondary", "unverified")


@dataclass(frozen=True)
class Alternative:
    """One way to meet a requirement: a facility of these types within this distance.

    Attributes
    ----------
    facility_types : tuple of str
        Codes of vocab domain ``facility_type``; any one of them counts.
    distance_m : float
        Walking distance, metres (the clause's own, the tier's, or minutes x 80 m/min).
    distance_basis : str
        ``clause`` (the row's radius), ``tier`` (the tier's walking distance) or
        ``minutes`` (minutes at :data:`spatial.settings.WALK_SPEED_M_PER_MIN`).
    min_area_m2, max_area_m2 : float or None
        Size band of the facilities (parks); lower bound inclusive, upper exclusive.
    label : str
        The standard's own name of the facility (Chinese).
    clause, verification, source, note : str
        Where the row stands.
    """

    facility_types: tuple[str, ...]
    distance_m: float
    distance_basis: str
    min_area_m2: float | None
    max_area_m2: float | None
    label: str
    clause: str
    verification: str
    source: str
    note: str


@dataclass(frozen=True)
class Requirement:
    """A facility requirement of one tier of a standard.

    Attributes
    ----------
    id : str
        Stable id within the standard (``kindergarten``, ``park_10min``).
    standard : str
        Catalogue code of the standard.
    edition : str
        Document and edition (``GB 50180-2018``).
    tier : str
        Code of vocab domain ``tier``.
    alternatives : tuple of Alternative
        Met when any one is met.
    """

    id: str
    standard: str
    edition: str
    tier: str
    alternatives: tuple[Alternative, ...]

    @property
    def label(self) -> str:
        """The requirement's name as the standard words it (alternatives joined)."""
        return " / ".join(dict.fromkeys(a.label for a in self.alternatives))

    @property
    def facility_types(self) -> tuple[str, ...]:
        """Every facility type any alternative accepts."""
        return tuple(dict.fromkeys(t for a in self.alternatives for t in a.facility_types))

    @property
    def distance_m(self) -> float:
        """The largest distance of the alternatives, metres (the search must reach it)."""
        return max(a.distance_m for a in self.alternatives)

    @property
    def verification(self) -> str:
        """The weakest verification level of the alternatives."""
        return max((a.verification for a in self.alternatives), key=VERIFICATION.index)

    def describe(self) -> str:
        """``"幼儿园 ≤ 300 m"``, with the size bands of parks."""
        parts = []
        for a in self.alternatives:
            band = ""
            if a.min_area_m2 is not None or a.max_area_m2 is not None:
                lo = f"{a.min_area_m2:,.0f}" if a.min_area_m2 is not None else "0"
                hi = f"-{a.max_area_m2:,.0f}" if a.max_area_m2 is not None else "+"
                band = f" ({lo}{hi} m²)"
            types = "、".join(vocab.label("facility_type", t) for t in a.facility_types)
            parts.append(f"{types}{band} ≤ {a.distance_m:,.0f} m")
        return "；或 ".join(parts)


def _float(value: object) -> float | None:
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return None if pd.isna(number) else float(number)


@cache
def catalogue() -> pd.DataFrame:
    """Every row of the catalogue (a copy is not made: do not modify it)."""
    frame = pd.read_csv(_DATA, dtype=str, keep_default_na=False, encoding="utf-8")
    frame.attrs["source"] = str(_DATA.name)
    return frame


def check_standard(standard: str) -> str:
    """The catalogue code of an evaluation standard name, or :class:`UnknownPresetError`."""
    key = str(standard).strip().lower()
    if key not in STANDARDS:
        msg = (f"没有评估标准 {standard!r}；可用：{'、'.join(STANDARDS)} "
               f"(unknown evaluation standard; use one of {', '.join(STANDARDS)})")
        raise UnknownPresetError(msg)
    return STANDARDS[key]


def tier_distance(standard: str, tier: str) -> float | None:
    """The walking distance of a tier as the catalogue states it, metres (None when it gives none)."""
    rows = catalogue()
    row = rows[(rows["standard"] == standard) & (rows["tier"] == tier) & (rows["requirement"] == "")
               & (rows["facility_types"] == "")]
    if row.empty:
        return None
    dist = _float(row["distance_m"].iloc[0])
    if dist is not None:
        return dist
    minutes = _float(row["minutes"].iloc[0])
    return None if minutes is None else minutes * settings.WALK_SPEED_M_PER_MIN


def _alternative(row: pd.Series) -> Alternative:
    basis = row["distance_basis"] or "clause"
    distance = _float(row["distance_m"])
    if basis == "minutes" or distance is None:
        minutes = _float(row["minutes"])
        if minutes is None:
            msg = f"catalogue row {row['requirement']!r} has neither a distance nor minutes"
            raise ValueError(msg)
        distance = minutes * settings.WALK_SPEED_M_PER_MIN
        basis = "minutes"
    return Alternative(
        facility_types=tuple(t.strip() for t in row["facility_types"].split("|") if t.strip()),
        distance_m=float(distance),
        distance_basis=basis,
        min_area_m2=_float(row["min_area_m2"]),
        max_area_m2=_float(row["max_area_m2"]),
        label=row["facility_zh"],
        clause=row["clause"],
        verification=row["verification"],
        source=row["source"],
        note=row["note"],
    )


def requirements(standard: str) -> list[Requirement]:
    """The requirements an evaluation by ``standard`` judges, in the catalogue's order.

    Parameters
    ----------
    standard : {"gb50180", "mofcom", "chengshi-tijian"}

    Raises
    ------
    UnknownPresetError
        Another name.
    """
    code = check_standard(standard)
    rows = catalogue()
    rows = rows[(rows["standard"] == code) & (rows["requirement"] != "") & rows["tier"].isin(TIERS[code])]
    out: list[Requirement] = []
    for req_id, group in rows.groupby("requirement", sort=False):
        out.append(Requirement(
            id=str(req_id), standard=code, edition=str(group["edition"].iloc[0]), tier=str(group["tier"].iloc[0]),
            alternatives=tuple(_alternative(r) for _, r in group.iterrows()),
        ))
    return out


def thresholds(requirement_id: str) -> pd.DataFrame:
    """Threshold rows of other codes for a requirement (e.g. GB 55014-2021's >80 % for ``park_service``)."""
    rows = catalogue()
    return rows[(rows["tier"] == "threshold") & (rows["requirement"] == requirement_id)].reset_index(drop=True)


def standard_rows(standard: str) -> pd.DataFrame:
    """Every catalogue row an evaluation by ``standard`` stands on, for its report (rules and tiers included)."""
    code = check_standard(standard)
    rows = catalogue()
    ids = {r.id for r in requirements(standard)}
    keep = (rows["standard"] == code) | ((rows["tier"] == "threshold") & rows["requirement"].isin(ids))
    return rows[keep].reset_index(drop=True)


def thin_threshold(standard: str, tier: str) -> float | None:
    """Residents one facility set serves at most, by the standard's tier size (GB 50180 表3.0.4), or None.

    Used to say when a facility set is thin: far fewer facilities than the
    city's residents would need at one per tier-sized neighbourhood.
    """
    sizes = {"5min": 12_000.0, "10min": 25_000.0, "15min": 100_000.0}
    return sizes.get(tier) if standard in ("gb50180", "mofcom") else None
