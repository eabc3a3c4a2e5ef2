"""Find the places an item of the report names, and put the item on the map.

The geocoder is scoped to the city the report is about (:class:`~spatial.cityscope.CityScope`):
its gazetteer rows, the planner's corrections (the store's ``user_places``)
and the national gazetteer of provinces, cities and counties are read into one
name index, each spelling with its role:

* a **place** of this city (an authored row, a planner's correction, one of its
  counties from the national gazetteer);
* **context** (the report's own city and province: 济南, 山东省): no place to draw;
* **another city's** place (青岛, 崂山区, or a Jinan row read in a 青岛 report):
  recorded with ``status="other_city"`` and never drawn.

Each item's text is matched leftmost-longest (济南黄河大桥复线桥 before
济南黄河大桥). A match is then checked against the words around it, because a
place name inside a longer phrase is often no place at all:

* inside 《…》 it is a document title (《黄河保护法》);
* inside a short quotation that is not the name itself it is a brand or a
  slogan (“新黄河” the news app, “四季泉城·大美黄河”);
* followed by 流域, 战略, 文化, 轴 … it is a strategy or a concept
  (黄河流域生态保护和高质量发展战略, 黄河重大国家战略, 黄河文化轴);
* a river, lake or hill followed by 大道, 路, 医院 … is part of the name of
  another feature (黄河大道, 千佛山医院), listed as unresolved, not put on the river.

Such mentions get ``status="not_a_place"`` with the reason. A generic name
(国际机场, 高新区, 综合保税区, 市中心医院…; :func:`spatial.cityscope.is_generic`)
matches only when no other proper name precedes it: 胶东国际机场 is not
济南遥墙国际机场, 青岛高新区 is Qingdao's. Names the gazetteer lacks but that
end in a place word (公园, 湿地, 医院, 片区 …) are listed as unresolved mentions so
a planner sees what is missing; they are never guessed.

An item is drawn at **every** site it names (one feature per site, the item id
kept, ``site``/``n_sites`` numbering them), except where one named place is
broader than another and contains it: a zone or river that holds a named
site, a district when any finer place is named (the most specific wins). An
item naming only a district falls back to the district's centroid and says so
(``geocode_status="district"``, ``precision="district_fallback"``); an item a
planner placed by hand says ``corrected``.

The :class:`GeocodeSummary` of a run is what a planner reads before trusting
the map: its :meth:`~GeocodeSummary.as_text` is in Chinese with the labels of
:mod:`spatial.vocab`, and counts how the places named are known (sourced,
estimated, corrected, unresolved); :meth:`~GeocodeSummary.as_dict` keeps the
codes for scripts and tests.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import settings, vocab
from ._errors import EmptyLayerError, InputFileError, ParameterError, UnknownPlaceError
from .cityscope import CityScope, admin_names, city_scope, division_feature, divisions, is_generic
from .gazetteer import DEFAULT_CITY_ADCODE, DEFAULT_ERROR_M, PRECISIONS, Gazetteer, feature, split_aliases
from .gazetteer import normalise_name as normalise
from .projection import reproject
from .report import ACTION_VERBS, RESULT_ENDINGS

#: Precision classes from most to least trustworthy.
PRECISION_ORDER = PRECISIONS

#: Place words that end a name worth mapping; used to find names the gazetteer lacks.
PLACE_SUFFIXES = (
    "国家湿地公园", "湿地公园", "森林公园", "郊野公园", "遗址公园", "体育公园", "口袋公园", "公园", "湿地",
    "水库", "隧道", "大桥", "黄河大桥", "医院", "院区", "校区", "片区", "商圈", "园区", "产业园",
    "科创城", "科学城", "新城", "风景区", "景区", "街区", "古城", "老城区", "高铁站", "火车站", "机场",
    "体育中心", "会展中心", "博物馆", "图书馆", "大剧院", "港", "物流园", "高新区", "保税区", "开发区",
)

# A candidate name is a run of Han characters (letters and digits allowed
# inside, as in "5G产业园") ending in a place word. The run stops at
# punctuation and is trimmed of leading verbs and lists ("建成", "推进", "等").
_HAN = r"\u4e00-\u9fff"
_SUFFIX_RE = "|".join(sorted((re.escape(s) for s in PLACE_SUFFIXES), key=len, reverse=True))
_CANDIDATE_RE = re.compile(rf"[{_HAN}A-Za-z0-9·]{{1,12}}?(?:{_SUFFIX_RE})")

_NOISE_WORDS = (
    "设立", "促进", "壮大", "完善", "获评", "至", "建好", "用好", "发展", "支持", "服务", "依托", "围绕",
    "实现", "形成", "构建", "建成", "建设", "新建", "改建", "扩建", "续建", "开工", "完工", "推进", "实施",
    "加快", "打造", "启动", "完成", "提升", "开通", "通车", "推动", "规划", "谋划", "落地", "引进", "运营",
    "投用", "开放", "保护", "修复", "整治", "改造", "新增", "培育", "创建", "争创", "高标准", "高水平",
    "高质量", "全面", "加速", "深化", "持续", "积极", "重点", "大力", "着力", "精心", "一批", "各类",
    "多个", "两个", "三个", "首个", "以及", "及其", "和", "与", "及", "、", "的", "在", "为", "等", "个",
    "座", "处", "家", "所", "条", "项", "加强", "联合", "共建", "对", "向", "从", "把", "将", "由", "是",
    *ACTION_VERBS, *RESULT_ENDINGS,
)
#: Leading words that are actions or quantities, not part of a place name.
_LEADING_NOISE = re.compile(
    "^(?:.*(?:" + "|".join(sorted({re.escape(w) for w in _NOISE_WORDS}, key=len, reverse=True)) + "))"
)
_GENERIC = {
    "公园", "湿地", "水库", "隧道", "大桥", "医院", "校区", "片区", "商圈", "园区", "产业园", "景区",
    "街区", "新城", "港", "城市公园", "口袋公园", "体育公园", "湿地公园", "郊野公园", "森林公园",
    "遗址公园", "物流园", "博物馆", "图书馆", "机场", "火车站", "高铁站", "黄河大桥", "风景区",
    "高新区", "保税区", "开发区", "综合保税区", "经济开发区", "国际机场",
}

#: Modifiers that make a name generic ("社区医院", "各类公园", "公共图书馆"): a kind, not a place.
_GENERIC_PREFIX = re.compile(
    r"^(?:各类|各级|社区|公立|公共|城市|城乡|乡镇|基层|县级|市级|区级|省级|重点|特色|新型|专业|综合|"
    r"功能|新|大型|小型|口袋|一批|一流|历史|工业|考古|无废)"
)

#: Words after a place name that make the phrase a strategy, plan, culture or concept (黄河流域…战略).
CONCEPT_AFTER: tuple[str, ...] = (
    "流域", "重大国家战略", "国家战略", "战略", "保护法", "法", "条例", "规划纲要", "文化", "精神", "品牌",
    "论坛", "客户端", "号", "杯", "奖", "发展轴", "生态轴", "安全轴", "文化轴", "轴", "模式", "经验",
    "样板", "指数", "基金", "标准", "故事", "大集", "名片", "文旅", "联盟", "协作", "同城化", "一体化",
)

#: Words after a natural feature's name that make it the name of another feature (黄河大道, 千佛山医院).
FEATURE_AFTER: tuple[str, ...] = (
    "大道", "路", "大街", "街", "大桥", "桥", "隧道", "广场", "中心", "医院", "大学", "学院", "中学", "小学",
    "实验室", "研究院", "集团", "公司", "宾馆", "饭店", "酒店", "站", "机场", "小区", "社区",
)

#: Place words that, right after a district's name, make a longer name (崂山风景区, 长清湖).
_PLACE_WORDS: tuple[str, ...] = tuple(sorted({*PLACE_SUFFIXES, "风景区", "风景名胜区", "湖", "山", "湾", "岛"},
                                             key=len, reverse=True))

#: Kinds whose names are reused by roads, hospitals and firms (the words above apply to them).
_NATURAL_KINDS = frozenset({"river", "canal", "lake", "mountain", "spring", "reservoir", "wetland"})

#: Kinds that contain other places: dropped from an item when a named site lies inside them.
CONTAINER_KINDS = frozenset({"zone", "district", "city", "province", "town", "river", "canal", "corridor",
                             "greenway"})

#: How far (metres) from a line or outline a site may lie and still count as inside it.
CONTAINS_WITHIN_M = 1_000.0

_QUOTE_CONTENT = re.compile(r"[\u4e00-\u9fffA-Za-z0-9·]{1,15}")

#: Source text of a planner's correction, as items placed by one say.
CORRECTION_SOURCE = "规划师修正 planner correction"


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


@dataclass(frozen=True)
class Mention:
    """A place named in a text, and what the geocoder made of it.

    ``status`` is ``place`` (a place of the report's city, ``place_id`` set),
    ``unresolved`` (named but not located), ``other_city`` (another city's
    place: ``city`` says which; never drawn) or ``not_a_place`` (a strategy,
    law, brand or slogan containing a place name: ``reason`` says which).
    """

    text: str
    start: int
    end: int
    place_id: str | None
    place_name: str | None
    precision: str
    how: str  # "gazetteer", "user", "admin" or "pattern"
    status: str = "place"
    reason: str = ""
    city: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The mention as a JSON-ready dict (stored in an item's ``mentions`` column)."""
        return {"text": self.text, "start": self.start, "end": self.end, "place_id": self.place_id,
                "place_name": self.place_name, "precision": self.precision, "how": self.how,
                "status": self.status, "reason": self.reason, "city": self.city}


#: Unresolved names :meth:`GeocodeSummary.as_text` lists before it only counts the rest.
SUMMARY_NAMES_SHOWN = 30

#: Labels of the reasons a mention is not a place.
NOT_A_PLACE_REASONS: dict[str, str] = {
    "document": "文件或法规名称", "slogan": "品牌、口号或栏目", "concept": "战略、流域或概念",
}


@dataclass
class GeocodeSummary:
    """Counts a planner reads before trusting the map.

    The ``*_by_*`` dicts map codes (``area_centroid``, ``district``) to counts;
    ``unresolved_names`` lists the names not located, most frequent first.
    ``places_by_basis`` counts the distinct places the report names by how
    their position is known (``sourced``, ``proxy``, ``estimated``,
    ``corrected``, ``unresolved``); ``point_places`` and
    ``point_places_sourced`` count those of them that are points.
    """

    items: int = 0
    items_with_mentions: int = 0
    mentions: int = 0
    mentions_resolved: int = 0
    mentions_unresolved: int = 0
    mentions_other_city: int = 0
    mentions_not_a_place: int = 0
    items_by_status: dict[str, int] = field(default_factory=dict)
    items_by_precision: dict[str, int] = field(default_factory=dict)
    mentions_by_precision: dict[str, int] = field(default_factory=dict)
    places_by_basis: dict[str, int] = field(default_factory=dict)
    point_places: int = 0
    point_places_sourced: int = 0
    features: int = 0
    unresolved_names: list[str] = field(default_factory=list)
    other_city_names: list[str] = field(default_factory=list)
    city: dict[str, str] = field(default_factory=dict)

    def as_text(self) -> str:
        """The summary in Chinese, one figure per line, as ``planatlas build`` prints it.

        Codes are shown by their :func:`spatial.vocab.label`; at most
        :data:`SUMMARY_NAMES_SHOWN` unresolved names are listed.
        """
        def counts(domain: str, by: dict[str, int]) -> str:
            return "、".join(f"{vocab.label(domain, code)} {n}" for code, n in by.items()) or "无"

        lines = []
        if self.city:
            lines.append(CityScope(**self.city).text())
        lines += [
            f"条目：{self.items} (其中 {self.items_with_mentions} 条提到地点)",
            f"地名提及：{self.mentions} 处，已定位 {self.mentions_resolved}，未定位 {self.mentions_unresolved}"
            + (f"，外市地名 {self.mentions_other_city}" if self.mentions_other_city else "")
            + (f"，非地名用语 {self.mentions_not_a_place}" if self.mentions_not_a_place else ""),
            "地名提及按精度：" + counts("precision", self.mentions_by_precision),
            "条目按定位状态：" + counts("geocode_status", self.items_by_status),
            "条目按精度：" + counts("precision", self.items_by_precision),
        ]
        if self.places_by_basis:
            by = self.places_by_basis
            sourced = by.get("sourced", 0) + by.get("proxy", 0)
            proxy = f"（其中近旁地标 {by['proxy']}）" if by.get("proxy") else ""
            total = sum(by.values())
            lines.append(
                f"报告提到的地名 {total} 个，位置：来源可查 {sourced}{proxy}、团队估计 {by.get('estimated', 0)}、"
                f"规划师修正 {by.get('corrected', 0)}、未定位 {by.get('unresolved', 0)}")
        if self.point_places:
            share = 100.0 * self.point_places_sourced / self.point_places
            lines.append(f"其中点状地名 {self.point_places} 个，来源可查 {self.point_places_sourced} 个 ({share:.0f}%)")
        if self.unresolved_names:
            shown = "、".join(self.unresolved_names[:SUMMARY_NAMES_SHOWN])
            more = len(self.unresolved_names) - SUMMARY_NAMES_SHOWN
            lines.append(f"未定位的地名：{shown}" + (f" (另有 {more} 个)" if more > 0 else ""))
        if self.other_city_names:
            lines.append("外市地名（不绘制）：" + "、".join(self.other_city_names[:SUMMARY_NAMES_SHOWN]))
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        """The counts with their codes, as plain Python values (for JSON and tests)."""
        return dict(self.__dict__)


#: Columns a gazetteer frame needs for matching and for the provenance of located items.
_GAZETTEER_COLUMNS = ("id", "name", "aliases", "kind", "precision", "source", "source_datum")

#: Columns of a planner's correction (the store's ``user_places`` layer).
USER_PLACE_COLUMNS: tuple[str, ...] = (
    "id", "name", "item_id", "replaces", "kind", "district", "source", "source_datum", "precision",
    "coord_basis", "error_m", "corrected_at", "note",
)


@dataclass(frozen=True)
class _Target:
    """What a spelling leads to in one scope."""

    role: str  # "user", "place", "own_admin", "context", "other"
    ident: str | None
    name: str
    generic: bool = False
    city: str = ""


_ROLE_RANK = {"user": 0, "place": 1, "own_admin": 2, "context": 3, "other": 4}


def _compact(text: str) -> tuple[str, list[int]]:
    """NFKC text without whitespace, and the source index of each character.

    NFKC is applied per character, each output character remembering its
    source position: one character whose NFKC form is longer ("……" →
    "......", "㎡" → "m2") must not switch normalisation off for the whole
    text, or names with full-width brackets stop matching.
    """
    chars: list[str] = []
    keep: list[int] = []
    for i, ch in enumerate(text):
        if ch.isspace():
            continue
        for c in unicodedata.normalize("NFKC", ch):
            if not c.isspace():
                chars.append(c)
                keep.append(i)
    return "".join(chars), keep


def _frame_defaults(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Give a gazetteer frame the position columns a hand-made one may lack."""
    out = frame.copy()
    if "coord_basis" not in out.columns:
        out["coord_basis"] = np.where(out["precision"] == "unresolved", "unresolved", "estimated")
    if "error_m" not in out.columns:
        out["error_m"] = [math.nan if p == "unresolved" else DEFAULT_ERROR_M.get(p, 3_000.0)
                          for p in out["precision"]]
    if "city_adcode" not in out.columns:
        out["city_adcode"] = ""
    for col in ("district", "note", "category"):
        if col not in out.columns:
            out[col] = ""
    return out


def _user_rows(user_places: gpd.GeoDataFrame | None) -> tuple[gpd.GeoDataFrame | None, dict[str, list[int]]]:
    """Planner corrections split into name-keyed places and item-keyed placements (row positions)."""
    if user_places is None or len(user_places) == 0:
        return None, {}
    missing = [c for c in ("name", "precision", "source", "source_datum") if c not in user_places.columns]
    if missing:
        msg = (f"规划师修正图层缺少列 {', '.join(missing)} "
               f"(the planner corrections lack the column(s) {', '.join(missing)})")
        raise InputFileError(msg)
    frame = user_places.reset_index(drop=True)
    items: dict[str, list[int]] = {}
    if "item_id" in frame.columns:
        for i, item in enumerate(frame["item_id"]):
            if isinstance(item, str) and item.strip():
                items.setdefault(item.strip(), []).append(i)
    return frame, items


class Geocoder:
    """Matches place names in text, scoped to one city, and resolves them to geometry with provenance.

    Parameters
    ----------
    gazetteer : GeoDataFrame
        As returned by :func:`spatial.gazetteer.load_gazetteer`: columns ``id``,
        ``name``, ``aliases`` (``|``-separated), ``kind``, ``district``,
        ``source``, ``source_datum``, ``precision`` and a WGS-84 geometry
        (None where unresolved); ``coord_basis``, ``error_m`` and
        ``city_adcode`` when it has them.
    scope : CityScope, optional, keyword-only
        The city the texts are about (:func:`spatial.cityscope.detect_city`).
        Default: the gazetteer's own city (济南市 for the shipped one). Rows of
        other cities are matched as ``other_city`` only.
    user_places : GeoDataFrame, optional, keyword-only
        Planner corrections (the store's ``user_places`` layer, see
        :data:`USER_PLACE_COLUMNS`): rows with an ``item_id`` place that item;
        rows without one are places of their own, consulted before the
        gazetteer (a correction of a gazetteer place names it in ``replaces``
        or carries its name).
    national : bool, keyword-only
        Also match the national gazetteer of provinces, cities and counties
        (default True; a gazetteer test may switch it off).
    """

    def __init__(self, gazetteer: gpd.GeoDataFrame, *, scope: CityScope | None = None,
                 user_places: gpd.GeoDataFrame | None = None, national: bool = True) -> None:
        if not isinstance(gazetteer, gpd.GeoDataFrame):
            msg = (f"地名库须为 GeoDataFrame，收到 {type(gazetteer).__name__} "
                   "(the gazetteer must be a GeoDataFrame, e.g. from load_gazetteer)")
            raise ParameterError(msg)
        missing = [c for c in _GAZETTEER_COLUMNS if c not in gazetteer.columns]
        if missing:
            msg = (f"地名库缺少列 {', '.join(missing)} (the gazetteer lacks the column(s) "
                   f"{', '.join(missing)})")
            raise InputFileError(msg)
        if len(gazetteer) == 0:
            msg = "地名库没有任何地名 (the gazetteer has no rows)"
            raise EmptyLayerError(msg)
        self.scope = scope or city_scope(DEFAULT_CITY_ADCODE, how="default")
        frame = _frame_defaults(gazetteer)
        city = frame["city_adcode"].astype(str)
        in_scope = (city == "") | (city == self.scope.adcode)
        users, self._item_fixes = _user_rows(user_places)
        self._users = users
        own = frame[in_scope]
        others = frame[~in_scope]
        own, replaced = self._with_user_places(own, users)
        if national:
            own = self._with_own_districts(own)
        self.gazetteer = gpd.GeoDataFrame(own, geometry="geometry", crs=settings.STORAGE_CRS).set_index(
            "id", drop=False)
        self.places = Gazetteer(self.gazetteer.reset_index(drop=True))  # exact look-ups with suggestions
        self._extent, self._metric = self._measure(self.gazetteer)
        self._index: dict[str, _Target] = {}
        self._own_spellings: set[str] = set()
        self._build_index(others, replaced, national=national)
        self._lengths = sorted({len(k) for k in self._index}, reverse=True)

    # -- construction ----------------------------------------------------------------
    def _with_user_places(self, own: gpd.GeoDataFrame,
                          users: gpd.GeoDataFrame | None) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
        """The in-scope rows with the planner's name-keyed places added; replaced rows dropped.

        Returns the rows and ``authored id -> user id`` of the rows a correction replaces.
        """
        if users is None:
            return own, {}
        named = users[[not (isinstance(i, str) and i.strip()) for i in users.get("item_id", pd.Series(
            [""] * len(users)))]] if "item_id" in users.columns else users
        if named.empty:
            return own, {}
        by_name = {normalise(n): i for n, i in zip(own["name"], own["id"], strict=True)}
        for i, aliases in zip(own["id"], own["aliases"], strict=True):
            for a in split_aliases(aliases):
                by_name.setdefault(normalise(a), i)
        rows = []
        replaced: dict[str, str] = {}
        for k, row in enumerate(named.itertuples(index=False)):
            data = row._asdict()
            uid = str(data.get("id") or f"U{k + 1:03d}")
            target = str(data.get("replaces") or "") or by_name.get(normalise(str(data["name"])), "")
            aliases = str(data["name"])
            if target and target in set(own["id"]):
                old = own.loc[own["id"] == target].iloc[0]
                aliases = "|".join(dict.fromkeys([str(data["name"]), old["name"], *split_aliases(old["aliases"])]))
                replaced[target] = uid
            rows.append({
                "id": uid, "name": data["name"], "aliases": aliases, "kind": data.get("kind") or "other",
                "category": data.get("category") or "other", "district": data.get("district") or "",
                "source": data["source"], "source_datum": data["source_datum"], "precision": data["precision"],
                "note": data.get("note") or "", "coord_basis": "corrected",
                "error_m": float(data.get("error_m") or DEFAULT_ERROR_M.get(str(data["precision"]), 1_500.0)),
                "city_adcode": self.scope.adcode, "geometry": data.get("geometry"),
                "corrected_at": data.get("corrected_at") or "",
            })
        kept = own[~own["id"].isin(list(replaced))]
        extra = gpd.GeoDataFrame(rows, geometry="geometry", crs=settings.STORAGE_CRS)
        return gpd.GeoDataFrame(pd.concat([extra, kept], ignore_index=True), geometry="geometry",
                                crs=settings.STORAGE_CRS), replaced

    def _with_own_districts(self, own: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """The report city's counties from the national gazetteer, where the gazetteer has none of that name."""
        table = divisions()
        mine = table[(table["level"] == "district") & (table["city_adcode"] == self.scope.adcode)]
        known = {normalise(n) for n in own["name"]}
        missing = [a for a, n in zip(mine["adcode"], mine["name"], strict=True) if normalise(n) not in known]
        if not missing:
            return own
        from .cityscope import district_points

        points = district_points(self.scope.adcode)
        points = points[points["adcode"].isin(missing)].drop(columns="adcode")
        taken = {normalise(a) for cell in own["aliases"] for a in split_aliases(cell)} | known
        points["aliases"] = ["|".join(a for a in split_aliases(cell) if normalise(a) not in taken)
                             for cell in points["aliases"]]
        return gpd.GeoDataFrame(pd.concat([own, points], ignore_index=True), geometry="geometry",
                                crs=settings.STORAGE_CRS)

    @staticmethod
    def _measure(frame: gpd.GeoDataFrame) -> tuple[dict[str, float], gpd.GeoSeries]:
        """Extent (metres: the larger of the expected error and the geometry's size) and metric geometry."""
        located = frame[frame.geometry.notna()]
        if located.empty:
            return {}, gpd.GeoSeries([], crs=settings.METRIC_CRS)
        from .projection import metric_crs_for

        metric = reproject(located.geometry, metric_crs_for(located))
        x0, y0, x1, y1 = shapely.bounds(metric.to_numpy()).T
        size = np.hypot(x1 - x0, y1 - y0)
        error = pd.to_numeric(located["error_m"], errors="coerce").fillna(0.0).to_numpy()
        extent = {str(i): float(max(s, e)) for i, s, e in zip(located["id"], size, error, strict=True)}
        return extent, gpd.GeoSeries(metric.to_numpy(), index=located["id"].astype(str).to_numpy(), crs=metric.crs)

    def _add(self, spelling: str, target: _Target) -> None:
        key = normalise(spelling)
        if len(key) < 2:
            return
        current = self._index.get(key)
        if current is None or _ROLE_RANK[target.role] < _ROLE_RANK[current.role]:
            self._index[key] = target

    def _build_index(self, others: gpd.GeoDataFrame, replaced: dict[str, str], *, national: bool) -> None:
        scope = self.scope
        city_names = (scope.name, scope.short_name)
        if national:
            for a in admin_names(scope):
                if a.role == "context":
                    self._add(a.spelling, _Target("context", a.adcode, a.name))
                    self._own_spellings.add(normalise(a.spelling))
                elif a.role == "other":
                    self._add(a.spelling, _Target("other", None, a.name, city=a.city_name))
        for row in self.gazetteer.itertuples(index=False):
            role = "user" if row.coord_basis == "corrected" else "place"
            for spelling in [row.name, *split_aliases(row.aliases)]:
                generic = is_generic(normalise(spelling), city_names=city_names) and row.kind != "district"
                self._add(spelling, _Target(role, str(row.id), str(row.name), generic))
                if row.kind == "district":
                    self._own_spellings.add(normalise(spelling))
        names = divisions()
        city_of = dict(zip(names.loc[names["level"] == "city", "adcode"],
                           names.loc[names["level"] == "city", "name"], strict=True))
        for row in others.itertuples(index=False):
            city = city_of.get(str(row.city_adcode), str(row.city_adcode))
            short = city.removesuffix("市")
            for spelling in [row.name, *split_aliases(row.aliases)]:
                if not is_generic(normalise(spelling), city_names=(city, short)):
                    self._add(spelling, _Target("other", None, str(row.name), city=city))

    @classmethod
    def default(cls) -> Geocoder:
        """Geocoder on the gazetteer shipped in ``layers/data/``, scoped to its city (济南市)."""
        return _default_geocoder()

    @classmethod
    def for_report(cls, text: str, *, title: str = "", gazetteer: gpd.GeoDataFrame | None = None,
                   user_places: gpd.GeoDataFrame | None = None) -> Geocoder:
        """A geocoder scoped to the city ``text`` is about (:func:`spatial.cityscope.detect_city`).

        A report that names no city is read as one of the gazetteer's default city, and the summary says so.
        """
        from .cityscope import detect_city
        from .gazetteer import load_gazetteer

        scope = detect_city(text, title=title, default=DEFAULT_CITY_ADCODE)
        frame = gazetteer if gazetteer is not None else load_gazetteer()
        return cls(frame, scope=scope, user_places=user_places)

    # -- lookups -----------------------------------------------------------------
    def lookup(self, name: str) -> pd.Series:
        """The gazetteer row of a name or alias; :class:`UnknownPlaceError` with suggestions.

        Beyond :meth:`Gazetteer.lookup`'s exact match, a short phrase that
        contains exactly one known name ("济西湿地公园保护") finds that place.
        """
        try:
            return self.places.lookup(name)
        except UnknownPlaceError:
            key = normalise(name)
            found = {t.ident for t in (m[2] for m in self._scan(key)) if t.role in ("place", "user")}
            if len(found) == 1 and len(key) <= 20:
                row: pd.Series = self.gazetteer.loc[found.pop()]
                return row
            raise

    def _scan(self, compact: str) -> list[tuple[int, int, _Target]]:
        """Leftmost-longest matches of index spellings in ``compact`` text (non-overlapping)."""
        out = []
        i, n = 0, len(compact)
        index, lengths = self._index, self._lengths
        while i < n:
            for length in lengths:
                if length <= n - i:
                    target = index.get(compact[i:i + length])
                    if target is not None:
                        out.append((i, i + length, target))
                        i += length
                        break
            else:
                i += 1
        return out

    # -- mentions ----------------------------------------------------------------
    def find_mentions(self, text: str) -> list[Mention]:
        """Place mentions in a text, each with its status (place, unresolved, other city, not a place).

        Positions index into ``text`` as given.

        Raises
        ------
        ParameterError
            When ``text`` is not a str.
        """
        given: object = text  # checked at run time: callers pass what they have
        if not isinstance(given, str):
            msg = f"文本须为字符串，收到 {type(given).__name__} (text must be a str)"
            raise ParameterError(msg)
        compact, keep = _compact(text)
        mentions: list[Mention] = []
        taken = np.zeros(len(text) + 1, dtype=bool)
        previous: tuple[int, Mention] | None = None  # (compact end, mention) of the last other-city mention
        for a, b, target in self._scan(compact):
            start, end = keep[a], keep[b - 1] + 1
            if target.role == "context":
                continue  # the report's own city: no place, and no bar to a longer unknown name (青岛高新区)
            taken[start:end] = True
            surface = text[start:end]
            if target.role == "other":
                reason = self._not_a_place(text, compact, a, b, start, end, "")
                if reason:
                    mentions.append(Mention(surface, start, end, None, target.name, "unresolved", "gazetteer",
                                            "not_a_place", reason, target.city))
                    continue
                m = Mention(surface, start, end, None, target.name, "unresolved", "admin" if not target.ident else
                            "gazetteer", "other_city", "", target.city or target.name)
                mentions.append(m)
                previous = (b, m)
                continue
            row = self.gazetteer.loc[target.ident]
            how = "user" if target.role == "user" else ("admin" if str(target.ident).startswith("CN") else "gazetteer")
            if target.generic:
                prefix = self._proper_prefix(compact, a)
                if prefix:
                    p0 = keep[a - len(prefix)]
                    taken[p0:end] = True
                    if previous is not None and previous[0] == a:
                        other = previous[1]
                        mentions.remove(other)
                        mentions.append(Mention(text[other.start:end], other.start, end, None, other.place_name,
                                                "unresolved", other.how, "other_city", "", other.city))
                    else:
                        mentions.append(Mention(text[p0:end], p0, end, None, None, "unresolved", "pattern",
                                                "unresolved", "other_name"))
                    continue
            reason = self._not_a_place(text, compact, a, b, start, end, str(row["kind"]))
            if reason == "part_of_name":
                tail = next(w for w in (*FEATURE_AFTER, *_PLACE_WORDS) if compact.startswith(w, b))
                longer_end = keep[b + len(tail) - 1] + 1
                taken[start:longer_end] = True
                mentions.append(Mention(text[start:longer_end], start, longer_end, None, None, "unresolved",
                                        "pattern", "unresolved", "part_of_name"))
                continue
            if reason:
                mentions.append(Mention(surface, start, end, None, str(row["name"]), "unresolved", how,
                                        "not_a_place", reason))
                continue
            mentions.append(Mention(surface, start, end, str(target.ident), str(row["name"]), str(row["precision"]),
                                    how, "unresolved" if row["precision"] == "unresolved" else "place"))
        for hit in _CANDIDATE_RE.finditer(text):
            name = _LEADING_NOISE.sub("", hit.group(0))
            if len(name) < 3 or name in _GENERIC or _GENERIC_PREFIX.match(name) or not _is_han(name[0]):
                continue
            start = hit.end() - len(name)
            if taken[start:hit.end()].any():
                continue
            mentions.append(Mention(name, start, hit.end(), None, None, "unresolved", "pattern", "unresolved"))
        mentions.sort(key=lambda mt: mt.start)
        return mentions

    def _proper_prefix(self, compact: str, a: int) -> str:
        """The proper-name words right before a generic name (胶东 in 胶东国际机场), or "".

        The run of Han characters before the name, without leading verbs and
        lists; the report's own city or district names do not count (济南国际机场
        is this city's).
        """
        i = a
        while i > 0 and a - i < 12 and _is_han(compact[i - 1]):
            i -= 1
        prefix = _LEADING_NOISE.sub("", compact[i:a])
        while prefix:
            own = next((s for s in sorted(self._own_spellings, key=len, reverse=True) if prefix.endswith(s)), None)
            if own is None:
                break
            prefix = prefix[: -len(own)]
        return prefix

    @staticmethod
    def _not_a_place(text: str, compact: str, a: int, b: int, start: int, end: int, kind: str) -> str:
        """Why a matched name is no place here (``document``, ``slogan``, ``concept``, ``part_of_name``), or ""."""
        # inside 《…》: a document title
        opened = text.rfind("《", 0, start)
        if opened >= 0 and text.rfind("》", opened, start) < 0:
            closed = text.find("》", end)
            if closed >= 0 and text.find("《", end, closed) < 0:
                return "document"
        # inside a short quotation that is not the name itself: a brand or slogan
        q0 = max(text.rfind("“", 0, start), text.rfind("\"", 0, start))
        if q0 >= 0:
            q1_candidates = [p for p in (text.find("”", end), text.find("\"", end)) if p >= 0]
            if q1_candidates:
                q1 = min(q1_candidates)
                content = text[q0 + 1:q1]
                if (_QUOTE_CONTENT.fullmatch(content) and normalise(content) != normalise(text[start:end])):
                    return "slogan"
        if b < len(compact) and _is_han(compact[b]):
            if any(compact.startswith(w, b) for w in CONCEPT_AFTER):
                return "concept"
            if kind in _NATURAL_KINDS and any(compact.startswith(w, b) for w in FEATURE_AFTER):
                return "part_of_name"
            if kind == "district" and any(compact.startswith(w, b) for w in _PLACE_WORDS):
                return "part_of_name"  # 崂山风景区 is a scenic area, not the district
        return ""

    # -- items -------------------------------------------------------------------
    def _inside(self, inner: str, outer: str) -> bool:
        """Whether place ``inner`` lies inside the broader place ``outer`` (metres, in the metric CRS)."""
        geoms = self._metric
        if inner not in geoms.index or outer not in geoms.index:
            return False
        a, b = geoms.loc[inner], geoms.loc[outer]
        radius = CONTAINS_WITHIN_M if b.geom_type != "Point" else max(
            CONTAINS_WITHIN_M, float(self.gazetteer.loc[outer, "error_m"] or 0.0))
        return bool(a.distance(b) <= radius)

    def _finer(self, q: str, p: str, kind: dict[str, str]) -> bool:
        """Whether ``q`` is more specific than the container ``p``: not a container itself, or a smaller one."""
        if kind[q] not in CONTAINER_KINDS:
            return True
        return self._extent.get(q, 0.0) < self._extent.get(p, 0.0)

    def sites(self, mentions: list[Mention]) -> tuple[list[str], str]:
        """The places an item is drawn at, and its status.

        Every place of the report's city the item names, except a broader
        place (zone, river, district …; :data:`CONTAINER_KINDS`) that contains
        another named place, and districts when a finer place is named.
        Status: ``place``, ``district``, ``unresolved``, ``other_city``,
        ``not_a_place`` or ``none``.
        """
        placed: list[str] = []
        for mt in mentions:
            if mt.status == "place" and mt.place_id is not None and mt.place_id not in placed \
                    and self.gazetteer.loc[mt.place_id, "geometry"] is not None:
                placed.append(mt.place_id)
        if placed:
            kind = {p: str(self.gazetteer.loc[p, "kind"]) for p in placed}
            finer = [p for p in placed if kind[p] not in ("district", "city", "province")]
            if finer:
                keep = [p for p in finer if not (kind[p] in CONTAINER_KINDS and any(
                    q != p and self._finer(q, p, kind) and self._inside(q, p) for q in finer))]
                return keep or finer[:1], "place"
            return placed[:1], "district"
        statuses = {mt.status for mt in mentions}
        for status in ("unresolved", "other_city", "not_a_place"):
            if status in statuses:
                return [], status
        return [], "none"

    def _site_row(self, pid: str, status: str) -> dict[str, Any]:
        place = self.gazetteer.loc[pid]
        if place["coord_basis"] == "corrected":
            source = f"{place['source']} ({place.get('corrected_at') or ''})".replace(" ()", "")
            status = "corrected"
        else:
            source = f"gazetteer:{pid} ({place['source']})"
        precision = place["precision"] if status in ("place", "corrected") else "district_fallback"
        return {"place_id": pid, "place_name": place["name"], "geocode_status": status, "source": source,
                "source_datum": place["source_datum"], "precision": precision,
                "coord_basis": place["coord_basis"], "error_m": float(place["error_m"]),
                "_geometry": place["geometry"]}

    def _fix_rows(self, item_id: str) -> list[dict[str, Any]]:
        """Rows of an item the planner placed by hand (one per correction)."""
        assert self._users is not None
        rows = []
        for k in self._item_fixes[item_id]:
            fix = self._users.iloc[k]
            when = str(fix.get("corrected_at") or "")
            rows.append({
                "place_id": str(fix.get("id") or ""), "place_name": fix.get("name") or None,
                "geocode_status": "corrected", "source": f"{fix['source']} ({when})".replace(" ()", ""),
                "source_datum": fix["source_datum"], "precision": fix["precision"], "coord_basis": "corrected",
                "error_m": float(fix.get("error_m") or DEFAULT_ERROR_M.get(str(fix["precision"]), 1_500.0)),
                "_geometry": fix.geometry,
            })
        return rows

    def geocode_items(self, items: pd.DataFrame) -> tuple[gpd.GeoDataFrame, GeocodeSummary]:
        """Geocode every item of a report: one feature per site an item names.

        Parameters
        ----------
        items : DataFrame
            :meth:`spatial.report.Report.items_frame` output (needs ``item_id`` and ``text``).

        Returns
        -------
        (GeoDataFrame, GeocodeSummary)
            The items with ``mentions`` (JSON), ``place_id``, ``place_name``,
            ``geocode_status``, provenance columns (``source``,
            ``source_datum``, ``precision``, ``coord_basis``, ``error_m``),
            ``site``/``n_sites`` (1..n for an item drawn at n sites, 0 when
            it has no location) and a point geometry (a point on the place;
            None when not located), EPSG:4326. An item appears once per site,
            so ``item_id`` repeats for items naming several sites.

        Raises
        ------
        ParameterError
            When ``items`` is not a DataFrame with ``item_id`` and ``text``
            columns, or a text is not a str.
        """
        if not isinstance(items, pd.DataFrame) or not {"item_id", "text"} <= set(items.columns):
            msg = ("条目须为含 item_id、text 列的 DataFrame (items must be a DataFrame "
                   "with item_id and text columns, e.g. Report.items_frame())")
            raise ParameterError(msg)
        summary = GeocodeSummary(items=len(items), city=self.scope.as_dict())
        base = items.reset_index(drop=True)
        out_rows: list[dict[str, Any]] = []
        positions: list[int] = []
        unresolved: dict[str, int] = {}
        other: dict[str, int] = {}
        by_precision: dict[str, int] = {}
        named: set[str] = set()
        for pos, (item_id, text) in enumerate(zip(base["item_id"], base["text"], strict=True)):
            mentions = self.find_mentions(text)
            if mentions:
                summary.items_with_mentions += 1
            for mt in mentions:
                summary.mentions += 1
                if mt.status == "place":
                    summary.mentions_resolved += 1
                    named.add(str(mt.place_id))
                elif mt.status == "other_city":
                    summary.mentions_other_city += 1
                    other[mt.text] = other.get(mt.text, 0) + 1
                    continue
                elif mt.status == "not_a_place":
                    summary.mentions_not_a_place += 1
                    continue
                else:
                    summary.mentions_unresolved += 1
                    unresolved[mt.text] = unresolved.get(mt.text, 0) + 1
                by_precision[mt.precision] = by_precision.get(mt.precision, 0) + 1
            mentions_json = json.dumps([mt.as_dict() for mt in mentions], ensure_ascii=False)
            if str(item_id) in self._item_fixes:
                rows = self._fix_rows(str(item_id))
            else:
                pids, status = self.sites(mentions)
                rows = [self._site_row(p, status) for p in pids]
                if not rows:
                    rows = [{"place_id": None, "place_name": None, "geocode_status": status, "source": "",
                             "source_datum": "", "precision": "unresolved" if status == "unresolved" else "none",
                             "coord_basis": "unresolved" if status == "unresolved" else "", "error_m": math.nan,
                             "_geometry": None}]
            located = rows[0]["_geometry"] is not None
            for k, row in enumerate(rows, start=1):
                row.update({"mentions": mentions_json, "site": k if located else 0,
                            "n_sites": len(rows) if located else 0})
                out_rows.append(row)
                positions.append(pos)
        table = pd.DataFrame(out_rows)
        geoms = table.pop("_geometry").to_numpy()
        arr = np.array(list(geoms), dtype=object)
        has = np.array([g is not None for g in arr], dtype=bool)
        pts = np.full(len(arr), None, dtype=object)
        if has.any():
            pts[has] = shapely.point_on_surface(np.array(list(arr[has]), dtype=object))
        front = base.iloc[positions].reset_index(drop=True)
        cols = ["mentions", "place_id", "place_name", "geocode_status", "source", "source_datum", "precision",
                "coord_basis", "error_m", "site", "n_sites"]
        out = gpd.GeoDataFrame(pd.concat([front, table[cols]], axis=1),
                               geometry=gpd.GeoSeries(pts, crs=settings.STORAGE_CRS), crs=settings.STORAGE_CRS)
        first = out.drop_duplicates("item_id")
        summary.items_by_status = first["geocode_status"].value_counts().to_dict()
        summary.items_by_precision = first["precision"].value_counts().to_dict()
        summary.features = int(out.geometry.notna().sum())
        summary.mentions_by_precision = dict(sorted(by_precision.items(),
                                                    key=lambda kv: PRECISION_ORDER.index(kv[0])
                                                    if kv[0] in PRECISION_ORDER else 9))
        summary.unresolved_names = sorted(unresolved, key=lambda k: (-unresolved[k], k))
        summary.other_city_names = sorted(other, key=lambda k: (-other[k], k))
        self._count_places(summary, named, unresolved)
        return out, summary

    def _count_places(self, summary: GeocodeSummary, named: set[str], unresolved: dict[str, int]) -> None:
        """How the distinct places the items name are known, and the share of point places sourced."""
        by: dict[str, int] = {}
        points = sourced_points = 0
        for pid in named:
            row = self.gazetteer.loc[pid]
            basis = str(row["coord_basis"])
            by[basis] = by.get(basis, 0) + 1
            geom = row["geometry"]
            if geom is not None and geom.geom_type == "Point" and row["kind"] not in ("district", "city", "province"):
                points += 1
                sourced_points += basis in ("sourced", "proxy")
        by["unresolved"] = len(unresolved)
        summary.places_by_basis = {k: by[k] for k in ("sourced", "proxy", "estimated", "corrected", "unresolved")
                                   if by.get(k)}
        summary.point_places, summary.point_places_sourced = points, sourced_points

    def places_named(self, geocoded: pd.DataFrame) -> gpd.GeoDataFrame:
        """Places of this city the items name and that have a location, with the ids of those items."""
        refs: dict[str, list[str]] = {}
        for item_id, mentions in zip(geocoded["item_id"], geocoded["mentions"], strict=True):
            for mt in json.loads(mentions):
                if mt["place_id"] and mt.get("status", "place") == "place":
                    refs.setdefault(mt["place_id"], [])
                    if item_id not in refs[mt["place_id"]]:
                        refs[mt["place_id"]].append(item_id)
        ids = [pid for pid in self.gazetteer.index if pid in refs]
        out = self.gazetteer.loc[ids].copy()
        out = out[~out.geometry.isna()]
        out["item_ids"] = [json.dumps(refs[pid], ensure_ascii=False) for pid in out.index]
        out["n_items"] = [len(refs[pid]) for pid in out.index]
        return gpd.GeoDataFrame(out.reset_index(drop=True), geometry="geometry", crs=settings.STORAGE_CRS)

    def feature(self, name: str) -> dict[str, Any]:
        """GeoJSON Feature (RFC 7946) of a place name or alias, with provenance.

        The gazetteer first (:func:`spatial.gazetteer.feature` plus what a
        crossing row adds: status, mode, carries, opened); then the national
        gazetteer, whose provinces, cities and counties come with their
        sourced outline (``planatlas geocode 济南市``).
        """
        try:
            row = self.lookup(name)
        except UnknownPlaceError:
            adcode = _division_named(name)
            if adcode is None:
                raise
            return division_feature(adcode)
        out = feature(row)
        for extra in ("aliases", "status", "mode", "carries", "opened"):
            value = row.get(extra)
            if isinstance(value, str) and value.strip():
                out["properties"][extra] = value
        out["properties"]["stored_datum"] = "WGS84"
        return out


def _division_named(name: str) -> str | None:
    """Adcode of the province, city or county called ``name`` (full or short name), or None.

    A short name shared by several divisions is refused (None); a full name
    shared by several counties (市中区) too.
    """
    key = normalise(name)
    table = divisions()
    for column in ("name", "short_name"):
        hit = table[table[column] == key]
        if column == "short_name":
            hit = hit[hit["level"] != "district"] if len(hit) > 1 else hit
        if len(hit) == 1:
            return str(hit.iloc[0]["adcode"])
        if len(hit) > 1:
            levels = hit.sort_values("level", key=lambda s: s.map({"province": 0, "city": 1, "district": 2}))
            top = levels.iloc[0]
            if (levels["level"] == top["level"]).sum() == 1:
                return str(top["adcode"])
            return None
    return None


@lru_cache(maxsize=1)
def _default_geocoder() -> Geocoder:
    from .gazetteer import load_gazetteer

    return Geocoder(load_gazetteer())
