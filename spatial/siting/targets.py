"""The report's own targets for new facilities: which target row a facility type answers.

A work report sets counts without places — "新建各类公园 100 处", "建成长者食堂
200 处", "开工新建改扩建幼儿园 35 所". :data:`TARGET_RULES` says, as data,
which subjects of the target table (:func:`spatial.quantities.targets_table`,
kept in the store as ``targets``) count new facilities of which type, in
which counting units, and what the count includes. :func:`target_for` finds
the row in a report's table and returns it with the report's own sentence,
so a siting result can say which target it answers.

The subjects are the pairing keys :func:`spatial.quantities.subject_key`
gives (the facility noun with the verb stripped). A report that words a
target differently needs one more subject in the rule, nothing else.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pandas as pd

from .. import vocab
from .._errors import ParameterError

__all__ = ["TARGET_RULES", "Target", "TargetRule", "target_for"]


@dataclass(frozen=True)
class TargetRule:
    """Which target rows count new facilities of a type.

    Attributes
    ----------
    facility_type : str
        A code of the vocab domain ``facility_type``.
    subjects : tuple of str
        Target-table subjects that count them (first match wins).
    units : tuple of str
        Counting units accepted (处, 所, 个, 家).
    note : str
        What the report's count includes, said next to the result.
    """

    facility_type: str
    subjects: tuple[str, ...]
    units: tuple[str, ...]
    note: str = ""


_REBUILD = "含改扩建：报告的数目包括在原址改建、扩建的，新址数可少于此数 (includes rebuilt and enlarged ones)"
_SCHOOLS = "小学与初中合计的数目 (primary and middle schools together); " + _REBUILD

#: Facility type -> target subjects, as data (source: the wording of the Jinan report of 2022-12-26).
TARGET_RULES: tuple[TargetRule, ...] = (
    TargetRule("park", ("公园",), ("处", "个"),
               "“新建各类公园”：各类公园（含口袋公园、体育公园）的处数 (parks of every kind)"),
    TargetRule("kindergarten", ("幼儿园",), ("所", "个", "处"), _REBUILD),
    TargetRule("primary_school", ("中小学校", "小学"), ("所", "个"), _SCHOOLS),
    TargetRule("middle_school", ("中小学校", "初中", "中学"), ("所", "个"), _SCHOOLS),
    TargetRule("elderly_canteen", ("长者食堂", "社区食堂", "老年食堂"), ("处", "个", "家")),
    TargetRule("elderly_day_care", ("日间照料中心", "养老服务站"), ("处", "个", "家")),
    TargetRule("library", ("泉城书房", "城市书房", "图书馆"), ("个", "处", "家"),
               "泉城书房是济南的城市书房品牌 (Jinan's city reading rooms)"),
    TargetRule("community_health_centre", ("社区医院", "社区卫生服务中心"), ("家", "个", "处")),
    TargetRule("community_health_station", ("社区卫生服务站",), ("家", "个", "处")),
    TargetRule("nursery", ("托育机构", "托育点", "托儿所"), ("家", "个", "处")),
    TargetRule("cultural_station", ("文化驿站", "文化活动站"), ("家", "个", "处")),
)


@dataclass(frozen=True)
class Target:
    """A target row of the report, as a siting answers it.

    Attributes
    ----------
    facility_type : str
    subject : str
        The table's subject (``公园``) and ``phrase`` the report's own words (``新建各类公园``).
    phrase : str
    count : int
        The plan year's figure (100).
    unit : str
    year : int
        The plan year.
    item_id : str
        The report item it comes from.
    sentence : str
        The report's sentence, verbatim.
    previous : float
        The review year's figure for the same subject (NaN when none).
    note : str
        What the count includes.
    """

    facility_type: str
    subject: str
    phrase: str
    count: int
    unit: str
    year: int
    item_id: str
    sentence: str
    previous: float
    note: str

    def describe(self) -> str:
        """``"2023 年目标：新建各类公园 100 处 (条目 p3-s7-011-8ee3d1)"``."""
        return f"{self.year} 年目标：{self.phrase} {self.count} {self.unit} (条目 {self.item_id})"


def _years(table: pd.DataFrame) -> list[int]:
    return sorted(int(m.group(1)) for c in table.columns if (m := re.fullmatch(r"value_(\d{4})", str(c))))


def rule_for(facility_type: str) -> TargetRule | None:
    """The rule of a facility type, or None."""
    return next((r for r in TARGET_RULES if r.facility_type == facility_type), None)


def target_for(facility_type: str, table: pd.DataFrame | None) -> Target:
    """The plan year's target for new facilities of ``facility_type`` in a report's target table.

    Raises
    ------
    ParameterError
        When the type has no rule, the store has no target table, or the
        report sets no count for the type (the message lists the types it
        does set counts for, and suggests ``--count``).
    """
    label = vocab.label("facility_type", facility_type)
    rule = rule_for(facility_type)
    if rule is None:
        known = "、".join(vocab.label("facility_type", r.facility_type) for r in TARGET_RULES)
        msg = (f"{label} ({facility_type}) 没有对应的报告目标规则；有规则的类型：{known}。请用 --count 给出数量 "
               f"(no target rule for {facility_type!r}: give --count)")
        raise ParameterError(msg)
    years = _years(table) if table is not None else []
    if table is None or table.empty or not years:
        msg = "数据库中没有报告目标表：请用 --count 给出数量 (the store has no target table: give --count)"
        raise ParameterError(msg)
    plan, review = years[-1], years[0]
    for subject in rule.subjects:
        rows = table[(table["subject"].astype(str) == subject) & table["unit"].astype(str).isin(rule.units)]
        rows = rows[pd.to_numeric(rows[f"value_{plan}"], errors="coerce").notna()]
        if rows.empty:
            continue
        row = rows.iloc[0]
        value = float(row[f"value_{plan}"])
        if value < 1 or not math.isfinite(value):
            continue
        previous = pd.to_numeric(pd.Series([row.get(f"value_{review}")]), errors="coerce").iloc[0]
        return Target(
            facility_type=facility_type, subject=subject,
            phrase=str(row.get(f"subject_{plan}") or subject), count=round(value), unit=str(row["unit"]),
            year=plan, item_id=str(row.get(f"item_id_{plan}") or ""), sentence=str(row.get(f"text_{plan}") or ""),
            previous=float(previous) if review != plan else math.nan, note=rule.note,
        )
    have = [vocab.label("facility_type", r.facility_type) for r in TARGET_RULES
            if any(((table["subject"].astype(str) == s) & table["unit"].astype(str).isin(r.units)).any()
                   for s in r.subjects)]
    listed = "、".join(have) if have else "无"
    msg = (f"报告没有给出{label}的 {plan} 年新建数量；报告给出数量的设施类型：{listed}。请用 --count 给出数量 "
           f"(the report sets no {plan} count for {facility_type!r}: give --count)")
    raise ParameterError(msg)
