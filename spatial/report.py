"""The work-report parser: hierarchy, items and their exact spans.

A Chinese city government work report (政府工作报告) has a fixed shape:
front matter (title, date and venue, speaker, salutation), then numbered
**parts** (一、二、三 …), parts divided into **sections** (（一）（二） …) and
sections into **topics** (bold lead-ins such as ``**纵深推进黄河重大国家战略落地落实。**``).
This module turns such a report, as converted from PDF to markdown, into a
:class:`Report` whose :class:`Item` objects are the sentences and clauses a
planner would map or track, each with an exact character span in the source.

PDF conversion artefacts handled here
-------------------------------------
* Paragraphs broken at page boundaries, often mid-sentence and even
  mid-word, with blank lines between the halves ("…保障了人民群众生命" /
  "安全和身体健康"). A paragraph that does not end with sentence-final
  punctuation (see :data:`SENTENCE_FINAL`) continues into the next paragraph
  unless that one starts a part, a section, a topic or a salutation
  (``各位代表``) or is a markdown heading. Front matter (before the first part)
  is never rejoined: its short centred lines carry no punctuation by design.
* Uneven heading levels: ``## 一、`` and ``#### **四、**`` are both parts; the
  markdown level is ignored, only the numbering counts, and numbering must run
  in order (一 then 二 …) so an enumeration inside a paragraph is never taken
  for a part.
* Sections either stand on their own line (``**（二）着力保持经济稳定增长，…**``)
  or open a paragraph (``（一）坚持人民至上、知重负重，疫情防控…实现高效统筹。面对…``);
  in the second case the section title is the lead clause up to the first 。.

Hierarchy rules
---------------
* A **topic** is a bold lead-in (``**…。**``) at the start of a paragraph, or,
  in a part with no sections and no bold lead-ins, a *lead clause*: the short
  first sentence (at most :data:`LEAD_CLAUSE_MAX` characters) of at least three
  paragraphs opening with the same four characters, e.g. ``我们必须在…。`` in
  part 二 and ``坚决做到…。`` in part 四. A topic covers its own paragraph only:
  in these reports the paragraph after a topic paragraph that has no lead-in is
  a coda of the section ("各位代表，…", "当前，…").
* A section that stands on its own line runs to the next section or part.
  A section that opens a paragraph (the review part) also ends at a
  ``各位代表`` paragraph, which closes the review as a whole.
* Titles and lead-ins are headings, not items.

Items
-----
Body text is split after 。！？； (with any closing quote or bracket). A
sentence longer than :data:`LONG_SENTENCE` characters is further split at a
comma that is followed by an action verb (:data:`ACTION_VERBS`: 推进, 加快,
建成, 新建 …) or that follows a result word (:data:`RESULT_ENDINGS`: 通车,
开工, 启用 …), outside quotes and brackets, keeping every piece at least
:data:`MIN_CLAUSE` characters long. Each piece keeps its own trailing
punctuation, so ``item.text == clean_span(source, item.start, item.end)``
where :func:`clean_span` removes the page-break whitespace.

Item ids are ``p{part}-s{section}-{ordinal:03d}-{hash6}``: part and section
index (0 for text outside any section), ordinal within that section and the
first six hex digits of the SHA-1 of the normalised text (NFKC, markup and
whitespace removed). They are stable across runs and do not change when text
in another section changes.

Year rule
---------
The year of a part comes from a four-digit year in its title (``一、2022年工作回顾``
→ 2022, ``二、2023 年工作总体要求…`` → 2023). A part without a year in its title
takes the review year if its title has 回顾/过去 and otherwise the planning
year (the latest year of an earlier part, or the year after the one the report's
date reviews: a report given from July on reviews its own year, one given in
January to June the year before; see :func:`review_year_of`).
An item in a planning part that names a later horizon explicitly
(``到2035年``, ``至 2025 年``, ``2035年前``) gets that year instead.

Categories
----------
Keyword rules in :data:`CATEGORY_KEYWORDS`: every category whose keywords occur
in the item is kept in ``categories`` (best first); the score of a category is
the summed length of its matched keywords (longer keywords are more specific)
and ties go to the earlier category in the table, which lists the map-bound
categories (parks, greenways, river crossings …) first. An item with no match
takes the category of its topic title, then of its section title, else
``other``.

Examples
--------
>>> text = (
...     "# 政府工作报告\\n\\n——2022年12月26日\\n\\n## 一、2022年工作回顾\\n\\n"
...     "（一）坚持生态优先。新建公园55处、绿道130公里，完成造\\n\\n林 1.16 万亩。\\n\\n"
...     "## 二、2023年重点工作安排\\n\\n**（一）着力改善环境**\\n\\n"
...     "**建设公园城市。**新建各类公园 100 处、绿道 100 公里。\\n"
... )
>>> report = parse_report(text)
>>> [p.title for p in report.parts]
['2022年工作回顾', '2023年重点工作安排']
>>> report.date.isoformat()
'2022-12-26'
>>> [(i.year, i.category, i.text) for i in report.items]  # doctest: +NORMALIZE_WHITESPACE
[(2022, 'parks', '新建公园55处、绿道130公里，完成造林 1.16 万亩。'),
 (2023, 'parks', '新建各类公园 100 处、绿道 100 公里。')]
>>> item = report.items[0]
>>> clean_span(report.source, item.start, item.end) == item.text
True
>>> report.items[1].topic
'建设公园城市'
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from spatial import settings
from spatial._errors import ParameterError, ReportError

if TYPE_CHECKING:  # pandas is imported lazily: parsing does not need it
    import pandas as pd

__all__ = [
    "CATEGORIES",
    "CATEGORY_KEYWORDS",
    "Item",
    "Part",
    "Report",
    "Section",
    "Topic",
    "categorize",
    "clean_span",
    "decode_report_bytes",
    "normalize_text",
    "parse_report",
    "read_report",
]

#: Characters that end a sentence or a clause that may end a paragraph.
#: A paragraph ending in anything else was cut by a page break.
SENTENCE_FINAL = "。！？；：…!?;:"

#: Closing quotes/brackets that may follow sentence-final punctuation.
CLOSERS = "”’」』）)》】"

#: Sentences longer than this (characters) are split into clauses.
LONG_SENTENCE = 80

#: Shortest clause kept on its own when a long sentence is split.
MIN_CLAUSE = 15

#: Longest first sentence that counts as a lead clause (topic) in parts
#: without bold lead-ins.
LEAD_CLAUSE_MAX = 40

#: Verbs that open a new action clause; a long sentence is split at a comma
#: followed by one of these. Longer forms first is not needed: any prefix match.
ACTION_VERBS: tuple[str, ...] = (
    "推进", "推动", "加快", "加强", "加大", "加速", "实施", "实现", "建设", "建成", "新建",
    "开工", "完成", "完善", "打造", "提升", "提高", "支持", "深化", "深入", "开展", "新增",
    "培育", "引进", "创建", "建立", "构建", "优化", "改造", "保护", "统筹", "争创", "积极",
    "大力", "全力", "持续", "全面", "着力", "坚持", "坚决", "严格", "确保", "力争", "促进",
    "扩大", "探索", "鼓励", "用好", "发挥", "设立", "聚焦", "启用", "办好", "做好", "抓好",
    "出台", "制定", "发放", "帮助", "预计", "累计", "规范", "健全", "强化", "巩固", "拓展",
    "稳步", "稳妥", "高标准", "高水平", "高质量", "启动", "编制", "筹建", "新引进", "新培育",
    "新认定", "新获批", "新设", "新打造", "新筹集", "新开工", "新改建", "建成开通", "开通",
    "改造提升", "扶持", "落实", "组织", "吸引", "依托", "带动", "提速", "壮大",
    "做大", "做强", "做优", "塑强", "培养", "发展", "提质", "保障", "维护", "基本建成",
    "入选", "获批", "获评", "成功", "圆满", "有效", "精心", "扎实", "创新", "谋划", "引导",
    "增强", "保持", "面对", "市场主体", "全市", "全社会", "年内", "全年",
)

#: Result words that close a clause in review text ("黄河大道一期建成通车，"):
#: a long sentence is also split after a comma that follows one of these.
RESULT_ENDINGS: tuple[str, ...] = (
    "通车", "推进", "布局", "下线", "完工", "开工", "启用", "建成", "完成", "提升", "增强",
    "明显", "显著", "完善", "落地", "见效", "运行", "投用", "竣工", "贯通", "形成", "起势",
    "铺开", "崛起", "交付", "发射", "落户", "获批", "实施", "覆盖",
)

#: Category keyword table. Order matters for ties: map-bound categories first.
CATEGORY_KEYWORDS: dict[str, tuple[str, ...]] = {
    "parks": ("公园", "园林", "游园", "口袋公园", "城市绿地", "绿地", "景区"),
    "greenways": ("绿道", "步道", "慢行", "骑行道"),
    "river_crossings": ("跨河通道", "跨黄", "穿黄", "黄河大桥", "复线桥", "隧道", "过河"),
    "transport": ("轨道交通", "地铁", "高铁", "铁路", "高速公路", "高速", "公路", "快速路",
                  "机场", "济南港", "航道", "通航", "交通", "有轨电车", "云巴", "公交", "停车",
                  "班列", "物流枢纽", "货运", "道路", "农村路", "枢纽", "充电", "通勤"),
    "water": ("供水", "排水", "雨污", "水库", "河道", "河湖", "水质", "污水", "节水", "防洪",
              "内涝", "泉水", "泉群", "水利", "再生水", "河长制", "水厂", "水资源", "断面"),
    "ecology": ("生态", "造林", "森林", "湿地", "修复", "碳达峰", "碳中和", "低碳", "污染",
                "PM", "空气", "环境质量", "绿色", "矿山", "自然保护地", "无废", "垃圾",
                "能耗", "清洁能源", "可再生能源", "节能", "减排", "耕地", "土壤"),
    "education": ("教育", "学校", "幼儿园", "中小学", "大学", "高校", "学位", "校区",
                  "产教融合", "双减", "教师", "高中", "学园", "大学城"),
    "health": ("医院", "医疗", "卫生", "医保", "健康", "疫情", "医学", "中医药", "康养",
               "防疫", "核酸", "医共体", "就医", "药", "院区"),
    "culture": ("文化", "博物馆", "图书馆", "书房", "文艺", "遗址", "非遗", "文明", "旅游",
                "文旅", "体育", "全民健身", "申遗", "考古", "古城", "历史街区", "传播"),
    "industry": ("产业", "工业", "制造", "企业", "集群", "园区", "产业园", "专精特新",
                 "产业链", "农业", "农田", "粮食", "种业", "装备", "地区生产总值", "固定资产投资",
                 "工业增加值", "起步区", "新旧动能"),
    "housing": ("住房", "老旧小区", "棚改", "安置房", "城中村", "房地产", "保交楼", "危房",
                "供热", "燃气", "清洁取暖", "房源", "人居环境", "宜居"),
    "commerce": ("消费", "商圈", "商贸", "首店", "外贸", "进出口", "跨境电商", "招商", "会展",
                 "电商", "夜间", "物流", "金融", "外资", "服务业", "总部", "商务区", "贸易",
                 "市场主体", "民间资本", "政商"),
    "technology": ("科技", "创新", "数字", "研发", "实验室", "5G", "算力", "人工智能", "量子",
                   "互联网", "信息", "卫星", "大数据", "软件", "智慧", "科创", "人才",
                   "空天", "集成电路", "数据", "高新技术", "技术"),
    "government": ("政府", "政务", "审批", "营商环境", "改革", "依法", "监督", "廉政", "党",
                   "法治", "预算", "国企", "国资", "执法", "热线", "督察", "巡视", "人大",
                   "政协", "规划", "作风"),
    "social": ("就业", "养老", "托育", "低保", "社会保障", "社保", "民生", "社区", "救助",
               "慈善", "便民生活圈", "食堂", "儿童", "妇女", "平安", "社会治理", "退役军人",
               "收入", "安全生产", "乡村", "村庄", "双拥", "群众"),
}

#: All category names, the fallback ``other`` last.
CATEGORIES: tuple[str, ...] = (*CATEGORY_KEYWORDS, "other")

_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}

_PART_RE = re.compile(r"^([一二三四五六七八九十]{1,3})、\s*(.+)$")
_SECTION_RE = re.compile(r"^[（(]([一二三四五六七八九十]{1,3})[）)]\s*")
_BOLD_LEAD_RE = re.compile(r"^\*\*(.+?)\*\*")
_TAG_RE = re.compile(r"</?[a-zA-Z][^>]*>")
_CN_YEAR_DIGITS = "〇零一二三四五六七八九"
_DATE_RE = re.compile(
    r"([0-9〇零○Ｏ一二三四五六七八九]{4})\s*年\s*([0-9一二三四五六七八九十]{1,3})\s*月"
    r"(?:\s*([0-9一二三四五六七八九十]{1,3})\s*[日号])?"
)
_YEAR_IN_TITLE_RE = re.compile(r"((?:19|20)\d\d)\s*年")
_HORIZON_RE = re.compile(r"(?:到|至)\s*((?:20)\d\d)\s*年|((?:20)\d\d)\s*年前")
_REVIEW_RE = re.compile("回顾|过去")
_SALUTE_ONLY_RE = re.compile(r"^各位代表[！!，,：:。]?$")
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")
_STRIP = " \t\r\n\u3000\ufeff\xa0"
#: Characters that end a line for :meth:`str.splitlines` (so for the parser).
_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
# A page-break gap: what lies between two glued lines, i.e. the stripped
# characters around at least one line break (built from _STRIP and _BREAKS,
# not from \s, so it removes exactly what the line splitter dropped).
_GAP_RE = re.compile(f"[{_STRIP}]*[{_BREAKS}][{_STRIP}{_BREAKS}]*")


_CN_NUMERAL_RE = re.compile("[一二三四五六七八九]|[二三四五六七八九]?十[一二三四五六七八九]?")


def cn_numeral(text: str) -> int:
    """Value of a Chinese numeral from 一 to 九十九 (一 → 1, 十 → 10, 十二 → 12).

    >>> [cn_numeral(t) for t in ("一", "十", "十二", "二十", "二十三")]
    [1, 10, 12, 20, 23]

    Raises
    ------
    ParameterError
        When ``text`` is not such a numeral (``二二``, ``十十``, ``百``).
    """
    if not isinstance(text, str) or not _CN_NUMERAL_RE.fullmatch(text):
        msg = f"不是一到九十九的中文数字：{text!r} (not a Chinese numeral from 一 to 九十九)"
        raise ParameterError(msg)
    if "十" not in text:
        return _CN_DIGITS[text]
    tens, _, units = text.partition("十")
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[units] if units else 0)


def clean_span(source: str, start: int, end: int) -> str:
    """``source[start:end]`` with page-break whitespace (newlines and the
    blank lines and spaces around them) removed: an item's text."""
    return _GAP_RE.sub("", source[start:end])


def normalize_text(text: str) -> str:
    """Text as used for hashing and matching: NFKC, no markup, no whitespace.

    >>> normalize_text("PM<sub>2.5</sub> 控制在 44 微克/立方米")
    'PM2.5控制在44微克/立方米'
    """
    text = unicodedata.normalize("NFKC", _TAG_RE.sub("", text)).replace("**", "")
    return re.sub(r"\s+", "", text)


def categorize(text: str) -> tuple[str, ...]:
    """Categories whose keywords occur in ``text``, best first (may be empty).

    >>> categorize("新建各类公园 100 处、绿道 100 公里")
    ('parks', 'greenways')
    """
    plain = normalize_text(text)
    scores: list[tuple[int, int, str]] = []
    for order, (name, words) in enumerate(CATEGORY_KEYWORDS.items()):
        score = sum(len(w) for w in words if w in plain)
        if score:
            scores.append((-score, order, name))
    return tuple(name for _, _, name in sorted(scores))


@dataclass(frozen=True)
class Part:
    """A numbered part (一、二、三 …) of the report."""

    index: int
    number: str
    title: str
    year: int
    start: int
    end: int


@dataclass(frozen=True)
class Section:
    """A section (（一）（二） …) of a part; ``index`` counts within the part."""

    part: int
    index: int
    number: str
    title: str
    start: int
    end: int


@dataclass(frozen=True)
class Topic:
    """A topic: a bold lead-in (``kind='bold'``) or a lead clause (``kind='lead'``)."""

    part: int
    section: int
    index: int
    title: str
    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class Item:
    """One sentence or clause of the report body.

    ``section`` is 0 and ``section_title``/``topic`` are empty strings for text
    outside any section/topic. ``text == clean_span(source, start, end)``.
    """

    item_id: str
    part: int
    part_title: str
    section: int
    section_title: str
    topic: str
    year: int
    category: str
    categories: tuple[str, ...]
    text: str
    start: int
    end: int

    @property
    def plain(self) -> str:
        """The text without markup (``PM<sub>2.5</sub>`` → ``PM2.5``)."""
        return _TAG_RE.sub("", self.text).replace("**", "")


@dataclass(frozen=True, repr=False)
class Report:
    """A parsed work report. Spans (``start``, ``end``) index into ``source``."""

    source: str
    title: str
    date: _dt.date | None
    parts: tuple[Part, ...]
    sections: tuple[Section, ...]
    topics: tuple[Topic, ...]
    items: tuple[Item, ...]
    source_name: str = ""
    date_text: str = ""
    _by_id: dict[str, Item] = field(default_factory=dict, repr=False, compare=False)

    @property
    def review_year(self) -> int | None:
        """The year the report reviews: a review part's title year, else from the date.

        A report given from July on (济南, 2022-12-26) reviews its own year; one
        given in the first half (the January and February sessions) reviews
        the year before.
        """
        for part in self.parts:
            if _REVIEW_RE.search(part.title) and part.year:
                return part.year
        return review_year_of(self.date) if self.date else None

    @property
    def plan_year(self) -> int | None:
        """The year the report plans: the year after :attr:`review_year`, or a planning part's title year."""
        titled = [p.year for p in self.parts if not _REVIEW_RE.search(p.title) and _title_year(p.title)]
        if titled:
            return min(titled)
        review = self.review_year
        return review + 1 if review else None

    def __repr__(self) -> str:  # the source is long: summarise instead
        return (f"Report(title={self.title!r}, date={self.date}, parts={len(self.parts)}, "
                f"sections={len(self.sections)}, topics={len(self.topics)}, "
                f"items={len(self.items)}, source_name={self.source_name!r})")

    def item(self, item_id: str) -> Item:
        """The item with this id.

        Raises
        ------
        ParameterError
            When the report has no item with this id.
        """
        if not self._by_id:
            self._by_id.update({i.item_id: i for i in self.items})
        try:
            return self._by_id[item_id]
        except (KeyError, TypeError):  # TypeError: an unhashable id
            msg = f"报告中没有编号为 {item_id!r} 的条目 (no item with id {item_id!r})"
            raise ParameterError(msg) from None

    def items_frame(self) -> pd.DataFrame:
        """Items as a DataFrame with the ``report_items`` core columns.

        Columns: item_id, part, part_title, section, section_title, topic,
        year, category, categories (every matching category, ``|``-joined,
        so a filter on "greenways" finds items whose best category is parks),
        text, start, end.
        """
        import pandas as pd

        cols = ["item_id", "part", "part_title", "section", "section_title", "topic",
                "year", "category", "text", "start", "end"]
        rows = [[getattr(i, c) for c in cols] for i in self.items]
        frame = pd.DataFrame(rows, columns=cols)
        frame.insert(8, "categories", ["|".join(i.categories) for i in self.items])
        return frame.astype({"part": "int64", "section": "int64", "year": "int64",
                             "start": "int64", "end": "int64"})


# ----------------------------------------------------------------------------
# decoding


def decode_report_bytes(data: bytes, *, encoding: str | None = None) -> str:
    """Decode report bytes: UTF-8, GBK/GB18030, Big5, UTF-16 or UTF-32, recognised (see :mod:`spatial._encoding`).

    Raises
    ------
    ReportError
        ``encoding`` is unknown or does not fit, or no encoding reads the
        bytes as Chinese text (the message says to give the encoding).
    """
    from ._encoding import EncodingProblem, decode

    try:
        return decode(data, encoding=encoding).text
    except EncodingProblem as exc:
        hint = "" if encoding else "；如知道编码，请用 --encoding (encoding=) 指定"
        hint_en = "" if encoding else "; give it with --encoding (encoding=) if you know it"
        msg = f"报告无法解码：{exc.zh}{hint} (report bytes cannot be decoded: {exc.en}{hint_en})"
        raise ReportError(msg) from None


def _looks_like_path(text: str) -> bool:
    """A str without a newline that names a file, or ends like a report file name."""
    if not text or "\n" in text or len(text) > 1024:
        return False
    path = Path(text)
    if path.suffix.lower() in {".md", ".txt", ".markdown"}:
        return True
    try:
        return os.path.lexists(path)  # a folder, device or FIFO too: refused as a file, not parsed as text
    except (OSError, ValueError):  # too long for a file name, NUL bytes …
        return False


def _read_report_file(path: Path) -> bytes:
    """A report file's bytes: only a regular file, at most :data:`~spatial.settings.MAX_REPORT_BYTES`."""
    from ._errors import InputFileError
    from .io._limits import read_user_file

    try:
        return read_user_file(path, what=("报告", "report"), max_bytes=settings.MAX_REPORT_BYTES)
    except InputFileError as exc:
        raise ReportError(str(exc)) from None


def read_report(source: str | os.PathLike[str] | bytes, *, encoding: str | None = None) -> Report:
    """Read and parse a work report.

    Parameters
    ----------
    source : str, path-like or bytes
        A path to a UTF-8 or GBK/GB18030 text/markdown file, the raw bytes of
        one, or the report text itself. A ``str`` without a newline that names
        an existing file is read as a path.
    encoding : str, optional
        Force an encoding instead of detecting UTF-8 / GB18030.

    Returns
    -------
    Report

    Raises
    ------
    ReportError
        If the file is missing, the bytes cannot be decoded, or the text is
        empty or not a work report.
    """
    name = ""
    given: object = source  # checked at run time: callers pass what they have
    if isinstance(given, (bytes, bytearray, memoryview)):
        text = decode_report_bytes(bytes(given), encoding=encoding)
    elif isinstance(given, os.PathLike) or (isinstance(given, str) and _looks_like_path(given)):
        path = Path(given)
        text = decode_report_bytes(_read_report_file(path), encoding=encoding)
        name = str(path)
    elif isinstance(given, str):
        text = given
    else:
        msg = (f"报告来源须为路径、字节或文本，收到 {type(given).__name__} "
               f"(report source must be a path, bytes or str, not {type(given).__name__})")
        raise ReportError(msg)
    return parse_report(text, source_name=name)


# ----------------------------------------------------------------------------
# parsing


@dataclass
class _Para:
    """A logical paragraph: source segments glued across page breaks."""

    segments: list[tuple[int, int]]
    kind: str  # front | part | section | topic | salute | heading | body
    text: str = ""
    offsets: list[int] = field(default_factory=list)  # text index -> source index

    def build(self, source: str) -> None:
        chars: list[str] = []
        offsets: list[int] = []
        for s, e in self.segments:
            chars.append(source[s:e])
            offsets.extend(range(s, e))
        self.text = "".join(chars)
        self.offsets = offsets

    def span(self, i: int, j: int) -> tuple[int, int]:
        """Source span of ``text[i:j]`` (j > i)."""
        return self.offsets[i], self.offsets[j - 1] + 1


def _physical_paragraphs(source: str) -> list[tuple[list[tuple[int, int]], bool]]:
    """Segments and heading flag of each run of non-blank lines.

    Each line is trimmed of surrounding whitespace; the lines of one run (no
    blank line between) become one paragraph, except markdown headings, which
    always stand alone.
    """
    out: list[tuple[list[tuple[int, int]], bool]] = []
    pos = 0
    prev_blank = True
    for line in source.splitlines(keepends=True):
        # drop exactly the line's terminator (any of str.splitlines' breaks,
        # e.g. U+2028 from some PDF converters), not just \r and \n
        body = line[:-2] if line.endswith("\r\n") else (
            line[:-1] if line and line[-1] in _BREAKS else line)
        stripped = body.strip(_STRIP)
        if stripped:
            s = pos + len(body) - len(body.lstrip(_STRIP))
            e = s + len(stripped)
            heading = stripped.startswith("#")
            if prev_blank or heading or out[-1][1]:
                out.append(([(s, e)], heading))
            else:
                out[-1][0].append((s, e))
            prev_blank = False
        else:
            prev_blank = True
        pos += len(line)
    return out


def _strip_marks(text: str) -> str:
    """Drop leading markdown heading marks and surrounding bold markers."""
    text = text.lstrip("#").strip(_STRIP)
    if text.startswith("**") and text.endswith("**") and len(text) > 4:
        text = text[2:-2].strip(_STRIP)
    return text


def _ends_sentence(text: str) -> bool:
    text = text.rstrip(_STRIP).removesuffix("**").rstrip(_STRIP).rstrip(CLOSERS)
    return bool(text) and text[-1] in SENTENCE_FINAL


def _classify(text: str, heading: bool, n_parts: int, n_sections: int) -> str:
    bare = _strip_marks(text)
    m = _PART_RE.match(bare)
    if m and "。" not in bare and len(bare) <= 40 and m.group(1) in _CN_DIGITS_ORDER \
            and _CN_DIGITS_ORDER.index(m.group(1)) == n_parts:
        return "part"
    if n_parts == 0:
        return "front"
    lead = bare.removeprefix("**")
    m = _SECTION_RE.match(lead)
    if m and _CN_NUMERAL_RE.fullmatch(m.group(1)) and cn_numeral(m.group(1)) == n_sections + 1:
        return "section"
    if heading:
        return "heading"
    if text.startswith("**") and _BOLD_LEAD_RE.match(text):
        return "topic"
    if bare.startswith("各位代表"):
        return "salute"
    return "body"


_CN_DIGITS_ORDER = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十",
                    "十一", "十二", "十三", "十四", "十五"]


def _logical_paragraphs(source: str) -> list[_Para]:
    paras: list[_Para] = []
    n_parts = 0
    n_sections = 0
    for segs, heading in _physical_paragraphs(source):
        raw = "".join(source[s:e] for s, e in segs)
        kind = _classify(raw, heading, n_parts, n_sections)
        prev = paras[-1] if paras else None
        # a paragraph opening in bold starts something new even before its
        # closing ** (the lead-in may itself be cut by a page break)
        if (kind == "body" and not raw.startswith("**") and prev is not None
                and prev.kind in {"section", "topic", "body", "salute"}
                and not _is_heading_line(prev) and not _ends_sentence(prev.text)):
            prev.segments.extend(segs)
            prev.build(source)
            # a page break had cut the lead-in itself ("**纵" / "深推进…。**")
            if prev.kind == "body" and _BOLD_LEAD_RE.match(prev.text):
                prev.kind = "topic"
            elif prev.kind == "body" and _strip_marks(prev.text).startswith("各位代表"):
                prev.kind = "salute"
            continue
        if kind == "part":
            n_parts += 1
            n_sections = 0
        elif kind == "section":
            n_sections += 1
        para = _Para(list(segs), kind)
        para.build(source)
        paras.append(para)
    return paras


def _is_heading_line(para: _Para) -> bool:
    """A stand-alone heading line (fully bold, or a markdown heading) is never
    continued by the next paragraph."""
    text = para.text
    return text.startswith("#") or (text.startswith("**") and text.endswith("**")
                                     and text.count("**") == 2)


def _sentence_bounds(text: str, start: int) -> list[tuple[int, int]]:
    """Split ``text[start:]`` after 。！？； (plus closers); trims whitespace."""
    bounds: list[tuple[int, int]] = []
    i = start
    n = len(text)
    depth = 0
    j = start
    while j < n:
        ch = text[j]
        if ch in "“「『《（(【":
            depth += 1
        elif ch in "”」』》）)】":
            depth = max(0, depth - 1)
        if ch in "。！？；!?;" and not (depth and ch in "；;"):
            k = j + 1
            while k < n and text[k] in CLOSERS:
                if text[k] in "”」』》）)】":
                    depth = max(0, depth - 1)
                k += 1
            # A sentence-final mark inside quotes ends the quoted sentence only
            # when the closer follows at once; otherwise keep going.
            if depth and ch not in "；;":
                j += 1
                continue
            bounds.append((i, k))
            i = j = k
            continue
        j += 1
    if i < n:
        bounds.append((i, n))
    out = []
    for a, b in bounds:
        while a < b and text[a] in _STRIP:
            a += 1
        while b > a and text[b - 1] in _STRIP:
            b -= 1
        if (b > a and _CJK_RE.search(text[a:b])) or (b > a and re.search(r"\w", text[a:b])):
            out.append((a, b))
    return out


def _clause_bounds(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """Split a long sentence ``text[a:b]`` at commas before action verbs."""
    if b - a <= LONG_SENTENCE:
        return [(a, b)]
    cuts = [a]
    depth = 0
    for j in range(a, b - 1):
        ch = text[j]
        if ch in "“「『《（(【":
            depth += 1
        elif ch in "”」』》）)】":
            depth = max(0, depth - 1)
        elif ch == "，" and depth == 0:
            nxt = text[j + 1:j + 5].lstrip(_STRIP)
            ends_result = text[cuts[-1]:j].rstrip(_STRIP).endswith(RESULT_ENDINGS)
            if (nxt.startswith(ACTION_VERBS) or ends_result) and j + 1 - cuts[-1] >= MIN_CLAUSE:
                cuts.append(j + 1)
    pieces = []
    for k, s in enumerate(cuts):
        e = cuts[k + 1] if k + 1 < len(cuts) else b
        pieces.append([s, e])
    # the last piece too short: give it to the one before
    if len(pieces) > 1 and pieces[-1][1] - pieces[-1][0] < MIN_CLAUSE:
        pieces[-2][1] = pieces[-1][1]
        pieces.pop()
    return [(s, e) for s, e in pieces]


def _short_hash(text: str) -> str:
    return hashlib.sha1(normalize_text(text).encode("utf-8")).hexdigest()[:6]


def _title_year(title: str) -> int | None:
    m = _YEAR_IN_TITLE_RE.search(title)
    return int(m.group(1)) if m else None


def parse_report(text: str, *, source_name: str = "") -> Report:
    """Parse report text (already decoded) into a :class:`Report`.

    The work is done in named steps, each a function of its own:
    :func:`_validate_text` (refuse what is not a report),
    :func:`_logical_paragraphs` (rejoin page breaks, classify paragraphs),
    :func:`_front_matter` (title and date), :func:`_hierarchy` (parts,
    sections, bold topics and the body text under each),
    :func:`_lead_clause_topics` (topics of parts without bold lead-ins),
    :func:`_part_spans` (each part runs to the next) and :func:`_items`
    (sentences and clauses with their year, categories and id).

    Parameters
    ----------
    text : str
        The report, markdown or plain text.
    source_name : str, optional, keyword-only
        Where the text came from (file name), kept in ``Report.source_name``
        and named in error messages.

    Raises
    ------
    ReportError
        If the text is not a str, is empty, contains NUL characters, has no
        Chinese sentences, has no numbered parts (一、…) or no body text.
    """
    _validate_text(text, source_name=source_name)
    paras = _logical_paragraphs(text)
    title, date, date_text = _front_matter(paras)
    outline = _hierarchy(paras, date=date, source_name=source_name)
    topics, bodies = _lead_clause_topics(outline.parts, outline.sections, outline.topics, outline.bodies)
    parts = _part_spans(outline.parts, text)
    items = _items(bodies, parts, outline.sections)
    if len(items) > settings.MAX_REPORT_ITEMS:
        msg = (f"报告有 {len(items):,} 个条目，超过上限 {settings.MAX_REPORT_ITEMS:,}{_origin(source_name)}："
               "这不像一份政府工作报告 (the report yields more items than a work report has)")
        raise ReportError(msg)
    return Report(source=text, title=title, date=date, parts=tuple(parts),
                  sections=tuple(outline.sections), topics=tuple(topics), items=tuple(items),
                  source_name=source_name, date_text=date_text)


def _origin(source_name: str) -> str:
    """`` (file name)`` for messages about a named source, else nothing."""
    return f"（{source_name}）" if source_name else ""


def _validate_text(text: object, *, source_name: str = "") -> None:
    """Refuse text that cannot be a work report, before any parsing.

    Raises
    ------
    ReportError
        Not a str, empty (only whitespace), NUL characters (a binary file), or
        fewer than 20 Chinese characters or two 。 (no Chinese sentences).
    """
    origin = _origin(source_name)
    if not isinstance(text, str):
        msg = (f"报告文本须为字符串，收到 {type(text).__name__}{origin} "
               f"(report text must be str, not {type(text).__name__})")
        raise ReportError(msg)
    if not text.strip(_STRIP):
        msg = f"报告文本为空{origin} (report text is empty)"
        raise ReportError(msg)
    if len(text) > settings.MAX_REPORT_BYTES:
        limit = settings.MAX_REPORT_BYTES
        msg = (f"报告文本有 {len(text):,} 个字符，超过上限 {limit:,}{origin}；政府工作报告通常不到 10 万字 "
               f"(report text has {len(text):,} characters; the limit is {limit:,})")
        raise ReportError(msg)
    if "\x00" in text:
        msg = (f"报告文本含 NUL 字符{origin}：这是二进制文件，不是报告 "
               "(report text contains NUL characters: this is a binary file, not a report)")
        raise ReportError(msg)
    if len(_CJK_RE.findall(text)) < 20 or text.count("。") < 2:
        msg = (f"报告文本没有中文句子{origin}，不是政府工作报告 "
               "(report text has no Chinese sentences: not a government work report)")
        raise ReportError(msg)


def review_year_of(date: _dt.date) -> int:
    """The year a report given on ``date`` reviews (July on: that year; January to June: the year before).

    >>> review_year_of(_dt.date(2022, 12, 26)), review_year_of(_dt.date(2023, 1, 10))
    (2022, 2022)
    """
    return date.year if date.month >= 7 else date.year - 1


def _number(text: str) -> int:
    """A year, month or day written in digits or Chinese (二〇二二, 十二, 二十六)."""
    text = unicodedata.normalize("NFKC", text).replace("○", "〇").replace("O", "〇")
    if text.isdigit():
        return int(text)
    if len(text) == 4 and all(ch in _CN_YEAR_DIGITS for ch in text):
        return int("".join(str(max(_CN_YEAR_DIGITS.index(ch) - 1, 0)) for ch in text))
    return cn_numeral(text)


def parse_date(text: str) -> tuple[_dt.date | None, str]:
    """The first calendar date in ``text``, in any form reports use, and the words as written.

    ``2022年12月26日``, ``二〇二二年十二月二十六日``, ``２０２３年１月１０日`` and a month
    alone (``2023年1月``: the first of the month) are read; an impossible date
    (``2022年13月40日``) gives ``(None, "")``.

    >>> parse_date("——二〇二二年十二月二十六日在济南市")
    (datetime.date(2022, 12, 26), '二〇二二年十二月二十六日')
    >>> parse_date("2023年1月")[0]
    datetime.date(2023, 1, 1)
    """
    for m in _DATE_RE.finditer(unicodedata.normalize("NFKC", text)):
        try:
            year, month = _number(m.group(1)), _number(m.group(2))
            day = _number(m.group(3)) if m.group(3) else 1
            return _dt.date(year, month, day), m.group(0)
        except (ValueError, ParameterError):  # 2022年13月40日: not a date, so no date
            return None, ""
    return None, ""


def _front_matter(paras: list[_Para]) -> tuple[str, _dt.date | None, str]:
    """Title, date and the date as written, from the paragraphs before the first part.

    The title is the first markdown heading of the front matter, else its
    first paragraph; the date is the first date in it (:func:`parse_date`),
    ``None`` when there is none or it is no calendar date.
    """
    front = [p for p in paras if p.kind == "front"]
    title = ""
    date: _dt.date | None = None
    written = ""
    for p in front:
        if not title and p.text.startswith("#"):
            title = _strip_marks(p.text)
        if date is None:
            date, written = parse_date(p.text)
    if not title:
        title = _strip_marks(front[0].text) if front else ""
    return title, date, written


class _Body(NamedTuple):
    """Body text of one paragraph, and where in the hierarchy it sits."""

    part: int  #: part index (1-based)
    section: int  #: section index within the part, 0 outside any section
    topic: str  #: title of the topic the text belongs to, "" for none
    para: _Para  #: the paragraph
    start: int  #: index in ``para.text`` where the body text starts (after any heading)


@dataclass
class _Outline:
    """What :func:`_hierarchy` has found so far while walking the paragraphs in order."""

    date: _dt.date | None
    parts: list[Part] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    topics: list[Topic] = field(default_factory=list)
    bodies: list[_Body] = field(default_factory=list)
    review_year: int | None = None  #: year of the first review part (回顾/过去)
    plan_year: int | None = None  #: latest year of a planning part so far
    section: int = 0  #: current section index within the current part (0: none)
    inline_section: bool = False  #: the current section opened a paragraph (review style)

    @property
    def part(self) -> int:
        """Index of the current part (0 before the first)."""
        return len(self.parts)


def _hierarchy(paras: list[_Para], *, date: _dt.date | None, source_name: str = "") -> _Outline:
    """Parts, sections and bold topics, and the body text under each, in text order.

    Parameters
    ----------
    paras : list of _Para
        The logical paragraphs of :func:`_logical_paragraphs`.
    date : datetime.date or None, keyword-only
        The report's date: gives the year of parts whose title has none.
    source_name : str, keyword-only
        File name for error messages.

    Raises
    ------
    ReportError
        When no paragraph is a numbered part, or no part has body text.
    """
    if not any(p.kind == "part" for p in paras):
        msg = (f"报告文本没有编号的部分（一、二、…）{_origin(source_name)}，不是政府工作报告 "
               "(report text has no numbered parts (一、二、…): not a government work report)")
        raise ReportError(msg)
    outline = _Outline(date=date)
    for p in paras:
        if p.kind == "part":
            _add_part(outline, p)
        elif p.kind == "section":
            _add_section(outline, p)
        elif p.kind == "topic":
            _add_topic(outline, p)
        elif p.kind not in {"front", "heading"} and outline.part:
            if p.kind == "salute" and outline.inline_section:
                # "各位代表" closes a review whose sections opened paragraphs
                outline.section = 0
                outline.inline_section = False
            outline.bodies.append(_Body(outline.part, outline.section, "", p, 0))
    if not outline.bodies:
        msg = (f"报告只有各部分标题，没有正文{_origin(source_name)} "
               "(report has part headings but no body text)")
        raise ReportError(msg)
    return outline


def _part_year(title: str, outline: _Outline) -> int:
    """Year of a part (see "Year rule" in the module docstring); 0 when nothing tells it."""
    year = _title_year(title)
    review = bool(_REVIEW_RE.search(title))
    date = outline.date
    if year is None:
        if review:
            year = outline.review_year or (review_year_of(date) if date else None)
        else:
            year = outline.plan_year or (outline.review_year + 1 if outline.review_year else None) or (
                review_year_of(date) + 1 if date else None)
    return year if year is not None else 0


def _add_part(outline: _Outline, p: _Para) -> None:
    """Record a part heading (``一、2022年工作回顾``); its span is the heading until :func:`_part_spans`."""
    m = _PART_RE.match(_strip_marks(p.text))
    assert m is not None  # _classify made it a part by this very match
    number, title = m.group(1), m.group(2).strip(_STRIP).removesuffix("**").strip()
    year = _part_year(title, outline)
    if _REVIEW_RE.search(title):
        outline.review_year = outline.review_year or year
    else:
        outline.plan_year = max(outline.plan_year or 0, year)
    outline.section = 0
    outline.inline_section = False
    outline.parts.append(Part(outline.part + 1, number, title, year, p.segments[0][0], p.segments[-1][1]))


def _add_section(outline: _Outline, p: _Para) -> None:
    """Record a section, on its own line (title: the whole line) or opening a paragraph
    (title: the lead clause up to the first 。, the rest is body text)."""
    outline.section += 1
    m = _SECTION_RE.match(_strip_marks(p.text).removeprefix("**"))
    assert m is not None  # _classify made it a section by this very match
    number = m.group(0).strip(_STRIP)
    after = p.text.find(number) + len(number)  # where the title starts in the paragraph text
    stop = p.text.find("。", after)
    if _is_heading_line(p) or stop < 0:
        title_end = len(p.text.rstrip(_STRIP).removesuffix("**"))
        body_start = len(p.text)
        outline.inline_section = False
    else:
        title_end = stop
        body_start = stop + 1
        outline.inline_section = True
    title = p.text[after:title_end].strip(_STRIP).replace("**", "")
    s, e = p.span(0, max(title_end, 1))
    outline.sections.append(Section(outline.part, outline.section, number, title, s, e))
    if body_start < len(p.text):
        outline.bodies.append(_Body(outline.part, outline.section, "", p, body_start))


def _add_topic(outline: _Outline, p: _Para) -> None:
    """Record a bold lead-in (``**纵深推进….**``) as a topic; the rest of the paragraph is its body."""
    m = _BOLD_LEAD_RE.match(p.text)
    assert m is not None  # _classify made it a topic by this very match
    title = m.group(1).strip(_STRIP).rstrip("。！：:").strip()
    s, e = p.span(0, m.end())
    outline.topics.append(Topic(outline.part, outline.section, 0, title, "bold", s, e))
    outline.bodies.append(_Body(outline.part, outline.section, title, p, m.end()))


def _lead_clause_topics(
    parts: list[Part], sections: list[Section], topics: list[Topic], bodies: list[_Body]
) -> tuple[list[Topic], list[_Body]]:
    """Add lead-clause topics to parts with neither sections nor bold topics.

    A lead clause is the first sentence (at most :data:`LEAD_CLAUSE_MAX`
    characters, with text after it) of a paragraph, counted only when at least
    three paragraphs of the part open with the same four characters.

    Returns
    -------
    (list of Topic, list of _Body)
        Every topic in text order, numbered from 1 within each part; and the
        bodies, those of lead-clause paragraphs now starting after the clause
        and carrying its title. The arguments are not modified.
    """
    topics = list(topics)
    bodies = list(bodies)
    structured = {s.part for s in sections} | {t.part for t in topics}
    for part in parts:
        if part.index in structured:
            continue
        for k, stop in _lead_clauses(part.index, bodies).items():
            body = bodies[k]
            title = body.para.text[:stop].strip(_STRIP)
            s, e = body.para.span(0, stop + 1)
            topics.append(Topic(body.part, body.section, 0, title, "lead", s, e))
            bodies[k] = body._replace(topic=title, start=stop + 1)
    topics.sort(key=lambda t: t.start)
    counts: dict[int, int] = {}
    numbered = []
    for t in topics:
        counts[t.part] = counts.get(t.part, 0) + 1
        numbered.append(dataclasses.replace(t, index=counts[t.part]))
    return numbered, bodies


def _lead_clauses(part: int, bodies: list[_Body]) -> dict[int, int]:
    """Body index -> position of the 。 ending its lead clause, for the paragraphs of one part
    whose first sentence is a lead clause (see :func:`_lead_clause_topics`)."""
    groups: dict[str, list[tuple[int, int]]] = {}
    for k, body in enumerate(bodies):
        if body.part != part or body.start != 0:
            continue
        text = body.para.text
        stop = text.find("。")
        if 0 < stop <= LEAD_CLAUSE_MAX and stop + 1 < len(text):
            groups.setdefault(text[:4], []).append((k, stop))
    return {k: stop for members in groups.values() if len(members) >= 3 for k, stop in members}


def _part_spans(parts: list[Part], text: str) -> list[Part]:
    """The parts with spans running from their heading to the next part (the last to the end)."""
    ends = [p.start for p in parts[1:]] + [len(text.rstrip(_STRIP))]
    return [dataclasses.replace(part, end=end) for part, end in zip(parts, ends, strict=True)]


def _items(bodies: list[_Body], parts: list[Part], sections: list[Section]) -> list[Item]:
    """Split every body into sentences and clauses (:func:`_sentence_bounds`,
    :func:`_clause_bounds`) and make each an :class:`Item`.

    A lone salutation (``各位代表！``) is no item. Ordinals, and so ids, count
    within each (part, section).
    """
    part_by_index = {p.index: p for p in parts}
    section_by_key = {(s.part, s.index): s for s in sections}
    items: list[Item] = []
    ordinals: dict[tuple[int, int], int] = {}
    for body in bodies:
        part = part_by_index[body.part]
        sec = section_by_key.get((body.part, body.section))
        text = body.para.text
        for a, b in _sentence_bounds(text, body.start):
            if _SALUTE_ONLY_RE.match(text[a:b]):
                continue  # "各位代表！" on its own says nothing to map or track
            for ca, cb in _clause_bounds(text, a, b):
                key = (body.part, body.section)
                ordinals[key] = ordinals.get(key, 0) + 1
                items.append(_item(body, ca, cb, part=part, section=sec, ordinal=ordinals[key]))
    return items


def _item(body: _Body, a: int, b: int, *, part: Part, section: Section | None, ordinal: int) -> Item:
    """The item ``body.para.text[a:b]``: its source span, year, categories and id."""
    text = body.para.text[a:b]
    start, end = body.para.span(a, b)
    year = part.year
    if not _REVIEW_RE.search(part.title):
        m = _HORIZON_RE.search(text)
        if m:
            year = max(year, int(m.group(1) or m.group(2)))
    # no keyword of its own: the topic, then the section speaks for it
    cats = (categorize(text) or categorize(body.topic)
            or (categorize(section.title) if section else ()) or ("other",))
    item_id = f"p{body.part}-s{body.section}-{ordinal:03d}-{_short_hash(text)}"
    return Item(item_id, body.part, part.title, body.section, section.title if section else "",
                body.topic, year, cats[0], cats, text, start, end)
