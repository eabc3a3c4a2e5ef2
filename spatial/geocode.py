"""Find the places an item of the report names, and put the item on the map.

Two passes over each item's text:

1. **Gazetteer names and aliases**, longest first, so 济南黄河大桥复线桥 wins over
   济南黄河大桥 and 白云湖湿地 over 白云湖. Matches do not overlap.
2. **Pattern candidates**: Chinese names ending in a place word (公园, 湿地,
   水库, 隧道, 大桥, 医院, 校区, 片区, 商圈, 园区, ...) that the gazetteer does
   not know. They are listed as *unresolved mentions* so a planner sees what
   the gazetteer still lacks; they are never guessed.

Each item then takes the most precise resolved place it names as its location.
An item that names only a district falls back to the district's centroid, and
says so in ``geocode_status`` and ``precision``: nothing falls back silently.

The :class:`GeocodeSummary` of a run is what a planner reads before trusting
the map: its :meth:`~GeocodeSummary.as_text` is in Chinese with the labels of
:mod:`spatial.vocab`, its :meth:`~GeocodeSummary.as_dict` keeps the codes for
scripts and tests.
"""

from __future__ import annotations

import json
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
from .gazetteer import PRECISIONS, Gazetteer, feature, split_aliases
from .gazetteer import normalise_name as normalise

#: Precision classes from most to least trustworthy.
PRECISION_ORDER = PRECISIONS

#: Place words that end a name worth mapping; used to find names the gazetteer lacks.
PLACE_SUFFIXES = (
    "国家湿地公园", "湿地公园", "森林公园", "郊野公园", "遗址公园", "体育公园", "口袋公园", "公园", "湿地",
    "水库", "隧道", "大桥", "黄河大桥", "医院", "院区", "校区", "片区", "商圈", "园区", "产业园",
    "科创城", "科学城", "新城", "风景区", "景区", "街区", "古城", "老城区", "高铁站", "火车站", "机场",
    "体育中心", "会展中心", "博物馆", "图书馆", "大剧院", "港", "物流园",
)

# A candidate name is a run of Han characters (letters and digits allowed
# inside, as in "5G产业园") ending in a place word. The run stops at
# punctuation and is trimmed of leading verbs and lists ("建成", "推进", "等").
_HAN = r"\u4e00-\u9fff"
_SUFFIX_RE = "|".join(sorted((re.escape(s) for s in PLACE_SUFFIXES), key=len, reverse=True))
_CANDIDATE_RE = re.compile(rf"[{_HAN}A-Za-z0-9·]{{1,12}}?(?:{_SUFFIX_RE})")

#: Leading words that are actions or quantities, not part of a place name.
_LEADING_NOISE = re.compile(
    r"^(?:.*(?:设立|促进|壮大|完善|获评|至|建好|用好|发展|支持|服务|依托|围绕|实现|形成|构建|"
    r"建成|建设|新建|改建|扩建|续建|开工|完工|推进|实施|加快|打造|启动|完成|提升|开通|通车|"
    r"推动|规划|谋划|落地|引进|运营|投用|开放|保护|修复|整治|改造|新增|培育|创建|争创|高标准|"
    r"高水平|高质量|全面|加速|深化|持续|积极|重点|大力|着力|精心|一批|各类|多个|两个|三个|首个|"
    r"以及|及其|和|与|及|、|的|在|为|等|个|座|处|家|所|条|项))"
)
_GENERIC = {
    "公园", "湿地", "水库", "隧道", "大桥", "医院", "校区", "片区", "商圈", "园区", "产业园", "景区",
    "街区", "新城", "港", "城市公园", "口袋公园", "体育公园", "湿地公园", "郊野公园", "森林公园",
    "遗址公园", "物流园", "博物馆", "图书馆", "机场", "火车站", "高铁站", "黄河大桥", "风景区",
}

#: Modifiers that make a name generic ("社区医院", "各类公园", "公共图书馆"): a kind, not a place.
_GENERIC_PREFIX = re.compile(
    r"^(?:各类|各级|社区|公立|公共|城市|城乡|乡镇|基层|县级|市级|区级|省级|重点|特色|新型|专业|综合|"
    r"功能|新|大型|小型|口袋|一批|一流|历史|工业|考古|无废)"
)


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


@dataclass(frozen=True)
class Mention:
    """A place named in a text."""

    text: str
    start: int
    end: int
    place_id: str | None
    place_name: str | None
    precision: str
    how: str  # "gazetteer" or "pattern"

    def as_dict(self) -> dict[str, Any]:
        """The mention as a JSON-ready dict (stored in an item's ``mentions`` column)."""
        return {"text": self.text, "start": self.start, "end": self.end, "place_id": self.place_id,
                "place_name": self.place_name, "precision": self.precision, "how": self.how}


#: Unresolved names :meth:`GeocodeSummary.as_text` lists before it only counts the rest.
SUMMARY_NAMES_SHOWN = 30


@dataclass
class GeocodeSummary:
    """Counts a planner reads before trusting the map.

    The ``*_by_*`` dicts map codes (``area_centroid``, ``district``) to counts;
    ``unresolved_names`` lists the names not located, most frequent first.
    """

    items: int = 0
    items_with_mentions: int = 0
    mentions: int = 0
    mentions_resolved: int = 0
    mentions_unresolved: int = 0
    items_by_status: dict[str, int] = field(default_factory=dict)
    items_by_precision: dict[str, int] = field(default_factory=dict)
    mentions_by_precision: dict[str, int] = field(default_factory=dict)
    unresolved_names: list[str] = field(default_factory=list)

    def as_text(self) -> str:
        """The summary in Chinese, one figure per line, as ``planatlas build`` prints it.

        Codes are shown by their :func:`spatial.vocab.label`; at most
        :data:`SUMMARY_NAMES_SHOWN` unresolved names are listed.
        """
        def counts(domain: str, by: dict[str, int]) -> str:
            return "、".join(f"{vocab.label(domain, code)} {n}" for code, n in by.items()) or "无"

        lines = [
            f"条目：{self.items} (其中 {self.items_with_mentions} 条提到地点)",
            f"地名提及：{self.mentions} 处，已定位 {self.mentions_resolved}，未定位 {self.mentions_unresolved}",
            "地名提及按精度：" + counts("precision", self.mentions_by_precision),
            "条目按定位状态：" + counts("geocode_status", self.items_by_status),
            "条目按精度：" + counts("precision", self.items_by_precision),
        ]
        if self.unresolved_names:
            shown = "、".join(self.unresolved_names[:SUMMARY_NAMES_SHOWN])
            more = len(self.unresolved_names) - SUMMARY_NAMES_SHOWN
            lines.append(f"未定位的地名：{shown}" + (f" (另有 {more} 个)" if more > 0 else ""))
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        """The counts with their codes, as plain Python values (for JSON and tests)."""
        return dict(self.__dict__)


#: Columns a gazetteer frame needs for matching and for the provenance of located items.
_GAZETTEER_COLUMNS = ("id", "name", "aliases", "kind", "precision", "source", "source_datum")


class Geocoder:
    """Matches gazetteer names in text and resolves them to geometry with provenance.

    Parameters
    ----------
    gazetteer : GeoDataFrame
        As returned by :func:`spatial.gazetteer.load_gazetteer`: columns ``id``,
        ``name``, ``aliases`` (``|``-separated), ``kind``, ``district``,
        ``source``, ``source_datum``, ``precision`` and a WGS-84 geometry
        (None where unresolved).
    """

    def __init__(self, gazetteer: gpd.GeoDataFrame) -> None:
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
        self.gazetteer = gazetteer.set_index("id", drop=False)
        self.places = Gazetteer(gazetteer)  # exact name/alias look-ups with suggestions
        names: dict[str, str] = {}
        for row in gazetteer.itertuples():
            for name in [row.name, *split_aliases(row.aliases)]:
                key = normalise(name)
                if len(key) >= 2:
                    names.setdefault(key, row.id)
        self._names = names
        ordered = sorted(names, key=len, reverse=True)
        # Python's regex alternation takes the first alternative that matches
        # at a position, so longest-first order gives leftmost-longest matches.
        self._pattern = re.compile("|".join(re.escape(n) for n in ordered))

    @classmethod
    def default(cls) -> Geocoder:
        """Geocoder on the gazetteer shipped in ``layers/data/``."""
        return _default_geocoder()

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
            found = {self._names[m.group(0)] for m in self._pattern.finditer(key)}
            if len(found) == 1 and len(key) <= 20:
                row: pd.Series = self.gazetteer.loc[found.pop()]
                return row
            raise

    # -- mentions ----------------------------------------------------------------
    def find_mentions(self, text: str) -> list[Mention]:
        """Place mentions in a text: gazetteer matches, then unknown pattern candidates.

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
        mentions: list[Mention] = []
        taken = np.zeros(len(text) + 1, dtype=bool)
        # Match on the text with spaces removed but keep a map back to positions,
        # since the report puts spaces around numbers ("5G" vs "5 G").
        # NFKC is applied per character, each output character remembering its
        # source position: one character whose NFKC form is longer ("……" →
        # "......", "㎡" → "m2") must not switch normalisation off for the
        # whole text, or names with full-width brackets stop matching.
        chars: list[str] = []
        keep: list[int] = []
        for i, ch in enumerate(text):
            if ch.isspace():
                continue
            for c in unicodedata.normalize("NFKC", ch):
                if not c.isspace():
                    chars.append(c)
                    keep.append(i)
        compact = "".join(chars)
        for m in self._pattern.finditer(compact):
            start, end = keep[m.start()], keep[m.end() - 1] + 1
            pid = self._names[m.group(0)]
            row = self.gazetteer.loc[pid]
            mentions.append(Mention(text[start:end], start, end, pid, row["name"], row["precision"], "gazetteer"))
            taken[start:end] = True
        for m in _CANDIDATE_RE.finditer(text):
            name = _LEADING_NOISE.sub("", m.group(0))
            if len(name) < 3 or name in _GENERIC or _GENERIC_PREFIX.match(name) or not _is_han(name[0]):
                continue
            start = m.end() - len(name)
            if taken[start:m.end()].any():
                continue
            mentions.append(Mention(name, start, m.end(), None, None, "unresolved", "pattern"))
        mentions.sort(key=lambda mt: mt.start)
        return mentions

    # -- items -------------------------------------------------------------------
    def _best(self, mentions: list[Mention]) -> tuple[str | None, str]:
        """The place an item is mapped at, and how: ``place``, ``district`` or ``unresolved``/``none``."""
        resolved = [mt for mt in mentions if mt.place_id is not None]
        if not resolved:
            return None, ("unresolved" if mentions else "none")
        specific = [mt for mt in resolved if self.gazetteer.loc[mt.place_id, "kind"] != "district"
                    and self.gazetteer.loc[mt.place_id, "geometry"] is not None]
        if specific:
            rank = {p: i for i, p in enumerate(PRECISION_ORDER)}
            best = min(specific, key=lambda mt: (rank.get(mt.precision, 9), mt.start))
            return best.place_id, "place"
        located = [mt for mt in resolved if self.gazetteer.loc[mt.place_id, "geometry"] is not None]
        if located:
            return located[0].place_id, "district"
        return None, "unresolved"

    def geocode_items(self, items: pd.DataFrame) -> tuple[gpd.GeoDataFrame, GeocodeSummary]:
        """Geocode every item of a report.

        Parameters
        ----------
        items : DataFrame
            :meth:`spatial.report.Report.items_frame` output (needs ``item_id`` and ``text``).

        Returns
        -------
        (GeoDataFrame, GeocodeSummary)
            The items with ``mentions`` (JSON), ``place_id``, ``place_name``,
            ``geocode_status``, provenance columns and a point geometry
            (representative point of the place; None when not located), EPSG:4326;
            and the summary counts.

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
        summary = GeocodeSummary(items=len(items))
        rows = []
        geoms = []
        unresolved: dict[str, int] = {}
        by_precision: dict[str, int] = {}
        for text in items["text"]:
            mentions = self.find_mentions(text)
            if mentions:
                summary.items_with_mentions += 1
            for mt in mentions:
                summary.mentions += 1
                by_precision[mt.precision] = by_precision.get(mt.precision, 0) + 1
                if mt.place_id is None or mt.precision == "unresolved":
                    summary.mentions_unresolved += 1
                    unresolved[mt.text] = unresolved.get(mt.text, 0) + 1
                else:
                    summary.mentions_resolved += 1
            pid, status = self._best(mentions)
            if pid is not None:
                place = self.gazetteer.loc[pid]
                geom = place["geometry"]
                precision = place["precision"] if status == "place" else "district_fallback"
                rows.append({
                    "mentions": json.dumps([mt.as_dict() for mt in mentions], ensure_ascii=False),
                    "place_id": pid, "place_name": place["name"], "geocode_status": status,
                    "source": f"gazetteer:{pid} ({place['source']})",
                    "source_datum": place["source_datum"], "precision": precision,
                })
                geoms.append(geom)
            else:
                rows.append({
                    "mentions": json.dumps([mt.as_dict() for mt in mentions], ensure_ascii=False),
                    "place_id": None, "place_name": None, "geocode_status": status,
                    "source": "", "source_datum": "", "precision": "unresolved" if status == "unresolved" else "none",
                })
                geoms.append(None)
        geo = gpd.GeoSeries(geoms, index=items.index, crs=settings.STORAGE_CRS)
        # items are mapped as points: a line or zone is represented by a point on it
        arr = geo.values
        has = ~shapely.is_missing(arr)
        pts = arr.copy()
        pts[has] = shapely.point_on_surface(arr[has])
        out = gpd.GeoDataFrame(
            pd.concat([items.reset_index(drop=True), pd.DataFrame(rows)], axis=1),
            geometry=gpd.GeoSeries(pts, crs=settings.STORAGE_CRS).reset_index(drop=True),
            crs=settings.STORAGE_CRS,
        )
        summary.items_by_status = out["geocode_status"].value_counts().to_dict()
        summary.items_by_precision = out["precision"].value_counts().to_dict()
        summary.mentions_by_precision = dict(sorted(by_precision.items(),
                                                    key=lambda kv: PRECISION_ORDER.index(kv[0])
                                                    if kv[0] in PRECISION_ORDER else 9))
        summary.unresolved_names = sorted(unresolved, key=lambda k: (-unresolved[k], k))
        return out, summary

    def places_named(self, geocoded: pd.DataFrame) -> gpd.GeoDataFrame:
        """Gazetteer places the items name and that have a location, with the ids of those items."""
        refs: dict[str, list[str]] = {}
        for item_id, mentions in zip(geocoded["item_id"], geocoded["mentions"], strict=True):
            for mt in json.loads(mentions):
                if mt["place_id"]:
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

        :func:`spatial.gazetteer.feature` plus what a crossing row adds
        (status, mode, carries, opened) and the datum the geometry is stored in.
        """
        row = self.lookup(name)
        out = feature(row)
        for extra in ("aliases", "status", "mode", "carries", "opened"):
            value = row.get(extra)
            if isinstance(value, str) and value.strip():
                out["properties"][extra] = value
        out["properties"]["stored_datum"] = "WGS84"
        return out


@lru_cache(maxsize=1)
def _default_geocoder() -> Geocoder:
    from .gazetteer import load_gazetteer

    return Geocoder(load_gazetteer())
