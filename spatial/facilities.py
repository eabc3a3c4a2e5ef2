"""Life-circle facility types: how OpenStreetMap tags and map vendors' POI categories become one code.

The standards count facilities by type (幼儿园, 小学, 社区卫生服务站 …); the
data names them in five vocabularies: OpenStreetMap tags, AMap/Gaode's
six-digit type codes, Baidu's ``一级;二级`` industry tags, Tencent's
``一级:二级:三级`` category names, and the names people give places. Every
imported facility gets one code of the :mod:`spatial.vocab` domain
``facility_type`` through documented tables, kept as data files in
``spatial/data/`` (one row per tag or category, each row with its source):

``osm_facility_tags.csv``
    OSM ``key=value`` (with an optional condition on a second tag) -> type,
    from the OpenStreetMap wiki's tag pages.
``osm_green_tags.csv``
    OSM tags of public green space (parks, gardens, playgrounds …).
``amap_typecodes.csv``
    AMap's POI type code table (``amap_poicode.xlsx``, edition 2017-08-10),
    every code checked against two published copies of the workbook.
``baidu_tags.csv``
    Baidu's POI industry tags (lbsyun "POI分类", updated 2020-05-11).
``tencent_categories.csv``
    Tencent's POI category names (lbs.qq.com 分类关键词表; the names are
    confirmed from several copies, the numeric codes are not, so rows are
    matched by the full name).
``facility_name_rules.csv``
    Name rules: no vendor has a class for 托育, 日间照料, 长者食堂 or
    街道办事处, and one class often mixes several types (a 中学 may be a 高中,
    a 综合医院 a 社区卫生服务中心). A rule applies only to rows whose
    vendor class belongs to one of the rule's *groups* (education, medical,
    welfare, government …), so a shop named after the 小学 next door stays a
    shop.

How a facility is classified is kept in its ``classified_by`` column
(``table``, ``name_rule``, ``osm_tag``, ``isced_level``), so a planner can
check any figure back to the row that produced it.

>>> classify_names(["历下区社区卫生服务中心"], groups=["medical"], types=["hospital"])[0].tolist()
['community_health_centre']
>>> osm_type({"amenity": "kindergarten"})
('kindergarten', 'education')
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from . import vocab
from ._errors import ParameterError

#: Folder of the classification tables (package data of :mod:`spatial`).
DATA_DIR = Path(__file__).resolve().parent / "data"

#: POI vendors with a classification table.
VENDORS: tuple[str, ...] = ("amap", "baidu", "tencent")

#: School levels of OSM's ``isced:level`` (UNESCO ISCED 2011) -> facility type.
ISCED_LEVELS: dict[str, str] = {"0": "kindergarten", "1": "primary_school", "2": "middle_school",
                                "3": "high_school"}

_VENDOR_FILES = {"amap": "amap_typecodes.csv", "baidu": "baidu_tags.csv", "tencent": "tencent_categories.csv"}


def _read(name: str) -> pd.DataFrame:
    table = pd.read_csv(DATA_DIR / name, dtype=str, keep_default_na=False)
    return table


def _rows(table: pd.DataFrame) -> list[dict[str, str]]:
    """The rows of a table of text, as dicts of str."""
    return [{str(k): str(v) for k, v in row.items()} for row in table.to_dict("records")]


@cache
def osm_table() -> pd.DataFrame:
    """The OSM tag -> facility type table (``key, value, if_key, if_values, facility_type, group, note, source``)."""
    return _read("osm_facility_tags.csv")


@cache
def green_table() -> pd.DataFrame:
    """OSM tags of public green space (``key, value, kind_zh, note, source``)."""
    return _read("osm_green_tags.csv")


@cache
def vendor_table(vendor: str) -> pd.DataFrame:
    """A vendor's category table (AMap type codes, Baidu tags or Tencent categories).

    Raises
    ------
    ParameterError
        When ``vendor`` is not one of :data:`VENDORS`.
    """
    if vendor not in _VENDOR_FILES:
        msg = (f"未知的 POI 来源 {vendor!r}：请用 {'、'.join(VENDORS)} 之一 "
               f"(unknown POI vendor {vendor!r}; use one of {', '.join(VENDORS)})")
        raise ParameterError(msg)
    return _read(_VENDOR_FILES[vendor])


@cache
def name_rules() -> pd.DataFrame:
    """The name rules (``pattern, facility_type, groups, note, source``), in the order they are tried."""
    return _read("facility_name_rules.csv")


# --------------------------------------------------------------------------- OpenStreetMap


@cache
def _osm_index() -> dict[tuple[str, str], list[tuple[str, frozenset[str] | None, str, str]]]:
    index: dict[tuple[str, str], list[tuple[str, frozenset[str] | None, str, str]]] = {}
    for row in _rows(osm_table()):
        cond = frozenset(row["if_values"].split("|")) if row["if_key"] else None
        index.setdefault((row["key"], row["value"]), []).append((row["if_key"], cond, row["facility_type"],
                                                                 row["group"]))
    return index


@cache
def osm_keys() -> tuple[str, ...]:
    """OSM keys that can make an object a facility (the reader's tag filter)."""
    return tuple(dict.fromkeys(osm_table()["key"]))


def osm_type(tags: Mapping[str, str]) -> tuple[str, str] | None:
    """``(facility_type, group)`` of an OSM object by the tag table, or ``None`` when no row applies.

    ``facility_type`` is ``""`` when the row leaves the type to the name rules
    or to ``isced:level`` (``amenity=school``, ``office=government``). The
    first row (in table order of the object's keys) that gives a type wins;
    a row without one applies only when no row gives a type
    (``amenity=social_facility`` + ``social_facility=nursing_home`` is a care home).

    Parameters
    ----------
    tags : mapping
        The object's tags (a dict or pyosmium's TagList).
    """
    index = _osm_index()
    untyped: tuple[str, str] | None = None
    for key in osm_keys():
        value = tags.get(key)
        if value is None:
            continue
        for if_key, cond, ftype, group in index.get((key, value), ()):
            if cond is not None and (tags.get(if_key) or "") not in cond:
                continue
            if ftype:
                return ftype, group
            untyped = untyped or (ftype, group)
    return untyped


@cache
def _green_index() -> dict[tuple[str, str], str]:
    return {(r["key"], r["value"]): r["value"] for r in _rows(green_table())}


@cache
def green_keys() -> tuple[str, ...]:
    """OSM keys of green-space tags."""
    return tuple(dict.fromkeys(green_table()["key"]))


def osm_green_kind(tags: Mapping[str, str]) -> str | None:
    """Kind of public green space (``park``, ``garden`` … a :mod:`spatial.vocab` ``kind``), or ``None``.

    Private or closed green (``access=private`` or ``no``) is not public green space.
    """
    if tags.get("access") in ("private", "no"):
        return None
    index = _green_index()
    for key in green_keys():
        value = tags.get(key)
        if value is not None and (key, value) in index:
            return index[(key, value)]
    return None


def isced_type(level: object) -> str:
    """Facility type of an ``isced:level`` value (the first level listed), or ``""``.

    >>> isced_type("1;2")
    'primary_school'
    """
    if not isinstance(level, str):
        return ""
    first = re.split(r"[;,\s-]+", level.strip())[0] if level.strip() else ""
    return ISCED_LEVELS.get(first, "")


# --------------------------------------------------------------------------- names


@cache
def _compiled_rules() -> list[tuple[re.Pattern[str], str, frozenset[str]]]:
    return [(re.compile(r["pattern"]), r["facility_type"], frozenset(r["groups"].split("|")))
            for r in _rows(name_rules())]


def classify_names(names: Iterable[object], *, groups: Iterable[object],
                   types: Iterable[object]) -> tuple[np.ndarray, np.ndarray]:
    """Refine facility types by name rules, vectorised over a column.

    Parameters
    ----------
    names : iterable
        Facility names (blank or missing names match no rule).
    groups : iterable, keyword-only
        The group of each row's vendor class or OSM tag (``education``, ``medical`` …).
    types : iterable, keyword-only
        The type the table gave each row (``""`` or missing for none).

    Returns
    -------
    (numpy.ndarray of object, numpy.ndarray of bool)
        The types (``""`` where still unknown) and whether a name rule set
        each (True only where the rule changed or supplied the type).
    """
    name_s = pd.Series(list(names), dtype=object).fillna("").astype(str)
    group_s = pd.Series(list(groups), dtype=object).fillna("").astype(str)
    out = pd.Series(list(types), dtype=object).fillna("").astype(str).to_numpy(dtype=object)
    if not (len(name_s) == len(group_s) == len(out)):
        msg = "名称、类别组与类型的行数须相同 (names, groups and types must have the same length)"
        raise ParameterError(msg)
    by_rule = np.zeros(len(out), dtype=bool)
    todo = np.ones(len(out), dtype=bool) & (name_s.str.len().to_numpy() > 0)
    for pattern, ftype, rule_groups in _compiled_rules():
        if not todo.any():
            break
        eligible = todo & group_s.isin(rule_groups).to_numpy()
        if not eligible.any():
            continue
        hit = np.zeros(len(out), dtype=bool)
        hit[eligible] = name_s[eligible].str.contains(pattern).to_numpy(dtype=bool)
        by_rule |= hit & (out != ftype)
        out[hit] = ftype
        todo &= ~hit
    return out, by_rule


# --------------------------------------------------------------------------- vendors


@cache
def _amap_maps() -> tuple[dict[str, tuple[str, str]], dict[tuple[str, str, str], tuple[str, str]]]:
    rows = _rows(vendor_table("amap"))
    by_code = {r["typecode"]: (r["facility_type"], r["group"]) for r in rows}
    by_name = {(r["big_category"], r["mid_category"], r["sub_category"]): (r["facility_type"], r["group"])
               for r in rows}
    return by_code, by_name


@cache
def _baidu_map() -> dict[tuple[str, str], tuple[str, str]]:
    return {(r["first_tag"], r["second_tag"]): (r["facility_type"], r["group"]) for r in _rows(vendor_table("baidu"))}


@cache
def _tencent_map() -> dict[str, tuple[str, str]]:
    return {r["category"]: (r["facility_type"], r["group"]) for r in _rows(vendor_table("tencent"))}


def _first(value: object, sep: str = "|") -> str:
    """First of several ``|``-joined values, stripped (AMap codes arrive with spaces)."""
    if not isinstance(value, str):
        if value is None or (isinstance(value, float) and value != value):
            return ""
        value = str(value)
    return value.split(sep)[0].strip()


def _amap_row(code: object, type_text: object) -> tuple[str, str] | None:
    by_code, by_name = _amap_maps()
    c = _first(code)
    if c.endswith(".0"):  # a spreadsheet read the code as a number
        c = c[:-2]
    if c.isdigit():
        c = c.zfill(6)
        if c in by_code:
            return by_code[c]
    parts = [p.strip() for p in _first(type_text).split(";")]
    if len(parts) == 3 and tuple(parts) in by_name:
        return by_name[(parts[0], parts[1], parts[2])]
    return None


def _baidu_row(tag: object) -> tuple[str, str] | None:
    parts = [p.strip() for p in re.split(r"[;；]", _first(tag, sep="|"))]
    if len(parts) >= 2:
        return _baidu_map().get((parts[0], parts[1]))
    return None


def _tencent_row(category: object) -> tuple[str, str] | None:
    table = _tencent_map()
    parts = [p.strip() for p in re.split(r"[:：]", _first(category))]
    # the full name first, then shorter prefixes (names of deeper levels change between editions)
    for n in range(len(parts), 0, -1):
        found = table.get(":".join(parts[:n]))
        if found is not None:
            return found
    return None


def classify_vendor(vendor: str, *, codes: Sequence[object], categories: Sequence[object],
                    names: Sequence[object]) -> pd.DataFrame:
    """Facility types of a vendor's POIs: its category table, then the name rules.

    Parameters
    ----------
    vendor : {"amap", "baidu", "tencent"}
    codes : sequence, keyword-only
        AMap ``typecode`` values (ignored for the other vendors; may be blank).
    categories : sequence, keyword-only
        AMap ``type`` text (``大类;中类;小类``), Baidu ``tag`` (``一级;二级``) or
        Tencent ``category`` (``一级:二级``).
    names : sequence, keyword-only
        POI names.

    Returns
    -------
    pandas.DataFrame
        ``facility_type`` (``""`` when unclassified), ``group`` and
        ``classified_by`` (``table``, ``name_rule`` or ``unclassified``), one row per POI.
    """
    if vendor not in VENDORS:
        vendor_table(vendor)  # raises the clear error
    n = len(names)
    rows: list[tuple[str, str] | None]
    if vendor == "amap":
        rows = [_amap_row(c, t) for c, t in zip(codes, categories, strict=True)]
    elif vendor == "baidu":
        rows = [_baidu_row(t) for t in categories]
    else:
        rows = [_tencent_row(t) for t in categories]
    if len(rows) != n:
        msg = "类别与名称的行数须相同 (categories and names must have the same length)"
        raise ParameterError(msg)
    table_types = np.array([r[0] if r else "" for r in rows], dtype=object)
    groups = np.array([r[1] if r else "" for r in rows], dtype=object)
    types, by_rule = classify_names(names, groups=groups, types=table_types)
    by = np.where(by_rule, "name_rule", np.where(types != "", "table", "unclassified"))
    return pd.DataFrame({"facility_type": types, "group": groups, "classified_by": by})


def type_counts(types: Iterable[object]) -> dict[str, int]:
    """Facilities per type, in the vocabulary's order (``""`` for the unclassified, last)."""
    counts = pd.Series(list(types), dtype=object).fillna("").astype(str).value_counts()
    order = [c for c in vocab.codes("facility_type") if c in counts.index]
    out = {c: int(counts[c]) for c in order}
    out.update({str(c): int(v) for c, v in counts.items() if c not in out and c})
    if "" in counts.index:
        out[""] = int(counts[""])
    return out


def describe_counts(counts: Mapping[str, int]) -> str:
    """``幼儿园 3、小学 2、未归类 5`` for a planner."""
    parts = [f"{vocab.label('facility_type', code) if code else '未归类'} {n:,}" for code, n in counts.items()]
    return "、".join(parts) if parts else "无"
