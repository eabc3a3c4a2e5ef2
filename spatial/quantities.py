"""Quantities in report sentences, and the 2023-target vs 2022-result table.

:func:`extract_quantities` finds every number that carries a unit in a piece
of report text (``新建各类公园 100 处``, ``1.2 万亩``, ``6.5%``, ``44 微克/立方米``,
``2190 亿元``, ``第 6 位``), applies the 万/亿 multipliers, keeps qualifiers
(``左右``, ``以上``, ``超过``, ``余`` …) and names the thing measured.

How the subject is found
------------------------
Chinese puts the measured noun either before the number (``新建公园55处``,
``数字经济占比达到 47%``) or after a classifier (``新增 11 个绿色发展工业园区``).
The text to the left of the number up to the previous clause mark (，、；。：)
or the previous quantity is the *left phrase*; the text after the unit up to
the next clause mark or number is the *right phrase*. The right phrase is the
subject when the unit is a classifier (个, 家, 所, 处 …) and there is one, or
when the left phrase is empty, a bare verb, or ends in 等 (examples listed
before a count: ``北大沙河、大寺河等 12 条河道``). Otherwise the left phrase is
the subject, with link verbs (达到, 提高到, 控制在 …) and qualifiers trimmed
from its end. When the subject comes out empty (``995 元、770 元``) the
previous quantity's subject is reused. Markup (``PM<sub>2.5</sub>``) is
removed from subjects, and numbers inside markup are never quantities.

Units are reported in base form: ``1.2 万亩`` has ``value=12000.0``,
``unit='亩'``, ``unit_as_written='万亩'``, ``multiplier=10000.0``,
``value_as_written=1.2``.

Target table
------------
:func:`targets_table` pairs 2023 plan quantities with 2022 results that
measure the same thing. Two quantities match when they share a *subject key*
and a unit (处 and 个 count as the same unit). The key comes from
:data:`SUBJECT_SYNONYMS` (first match in the subject, else in the item text
left of the number: ``改造老旧小区 46 个、惠及居民 5.7 万户`` keys 5.7 万户 as
老旧小区); failing that, the subject with its verbs stripped. When several
quantities share key and unit, the *stage* (开工 start, 建成 complete, 新建
build, 改造 renovate, 累计 cumulative …) decides.

Examples
--------
>>> [(q.subject, q.value, q.unit, q.kind) for q in extract_quantities("新建各类公园 100 处、绿道 100 公里")]
[('新建各类公园', 100.0, '处', 'count'), ('绿道', 100.0, '公里', 'length')]
>>> q = extract_quantities("完成造林绿化1.2万亩")[0]
>>> (q.subject, q.value, q.unit, q.unit_as_written, q.value_as_written)
('完成造林绿化', 12000.0, '亩', '万亩', 1.2)
>>> q = extract_quantities("预计全年完成进出口 2190 亿元、同比增长 15% 左右")[1]
>>> (q.value, q.unit, q.kind, q.qualifier, q.bound)
(15.0, '%', 'percent', '左右', 'approx')
>>> q = extract_quantities("PM<sub>2.5</sub>控制在44微克/立方米以内")[0]
>>> (q.subject, q.value, q.unit, q.kind, q.bound)
('PM2.5', 44.0, '微克/立方米', 'concentration', '<=')
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from spatial._errors import ParameterError

if TYPE_CHECKING:
    import pandas as pd

    from spatial.report import Report

__all__ = [
    "SUBJECT_SYNONYMS",
    "UNITS",
    "Quantity",
    "extract_quantities",
    "item_quantities",
    "subject_key",
    "targets_table",
]

#: Base units and their kind. Longer units must be tried first; the regex
#: below sorts them by length.
UNITS: dict[str, str] = {
    "微克/立方米": "concentration",
    "平方公里": "area", "平方米": "area", "亩": "area", "公顷": "area",
    "公里": "length", "千米": "length", "米": "length",
    "元": "money", "美元": "money",
    "%": "percent", "％": "percent", "个百分点": "percent", "百分点": "percent",
    "千瓦": "power",
    "吨": "mass",
    "人次": "count", "件次": "count",
    "个": "count", "处": "count", "家": "count", "所": "count", "套": "count", "户": "count",
    "人": "count", "辆": "count", "条": "count", "项": "count", "件": "count", "列": "count",
    "座": "count", "名": "count", "批": "count", "台": "count", "张": "count", "间": "count",
    "株": "count", "只": "count", "栋": "count", "宗": "count", "场": "count", "届": "count",
    "年": "duration", "倍": "ratio",
}

#: Units that are classifiers: the noun counted normally follows them.
CLASSIFIERS = frozenset({"个", "处", "家", "所", "套", "户", "辆", "条", "项", "件", "列",
                         "座", "名", "批", "台", "张", "间", "株", "只", "栋", "宗", "场"})

#: Units treated as the same when pairing targets (both mean "so many sites").
EQUIVALENT_UNITS = {"处": "个"}

_MULTIPLIERS = {"万亿": 1e12, "亿": 1e8, "万": 1e4, "千": 1e3}

#: Words before a number that qualify it, and their bound.
PRE_QUALIFIERS = {"超过": ">", "突破": ">", "逾": ">", "约": "approx", "近": "<",
                  "不低于": ">=", "不少于": ">=", "不超过": "<=", "高于": ">", "低于": "<"}
#: Words after a number (and unit) that qualify it, and their bound.
POST_QUALIFIERS = {"左右": "approx", "以上": ">=", "以内": "<=", "以下": "<=", "余": ">",
                   "多": ">"}

#: Link verbs and fillers trimmed from the end of a left-hand subject.
_TRAILING = ("提高到", "提高至", "提升到", "提升至", "增加到", "增加至", "下降到", "降低到",
             "增至", "达到", "控制在", "稳定在", "保持在", "保持", "突破", "超过", "达", "为",
             "至", "到", "约", "近", "力争", "分别", "均", "各", "共", "累计", "居", "跃居",
             "实现", "完成", "每人每月", "每人每年", "和", "及", "与", "、", "等")

#: Fillers trimmed from the start of a subject.
_LEADING = ("预计全年", "预计", "全年", "年内", "累计", "其中", "力争", "确保", "共", "并",
            "新一年", "全市", "和", "及", "与", "对", "其")

#: Subject keys used to pair 2023 targets with 2022 results. Each key lists
#: the words that identify it, specific words first: the first key with a
#: word found wins, so 体育公园 is tried before 公园.
SUBJECT_SYNONYMS: dict[str, tuple[str, ...]] = {
    "体育公园": ("体育公园",),
    "公园": ("公园",),
    "绿道": ("绿道",),
    "老旧小区": ("老旧小区",),
    "棚改安置房": ("棚改安置房", "棚改"),
    "保障性租赁住房": ("保障性租赁住房", "租赁住房", "房源"),
    "高标准农田": ("高标准农田",),
    "造林": ("造林",),
    "森林抚育": ("森林抚育",),
    "供水管网": ("供水管网",),
    "供热管网": ("供热管网",),
    "燃气管网": ("燃气管网",),
    "中小学校": ("中小学校", "中小学"),
    "幼儿园": ("普惠性幼儿园覆盖率", "幼儿园"),
    "研发投入占比": ("研发综合投入占比", "研发经费投入占比", "研发投入"),
    "数字经济占比": ("数字经济占比",),
    "一刻钟便民生活圈": ("一刻钟便民生活圈", "便民生活圈"),
    "泉城书房": ("泉城书房",),
    "进出口实绩企业": ("进出口实绩企业",),
    "首店": ("首店", "旗舰店", "品牌店"),
    "上市及过会企业": ("上市及过会企业", "上市"),
    "总部企业": ("总部企业",),
    "新型研发机构": ("新型研发机构",),
    "绿色工厂": ("绿色工厂",),
    "城镇新增就业": ("城镇新增就业", "新增城镇就业"),
    "中欧班列": ("中欧班列",),
    "民生实事": ("民生实事",),
    "田园综合体": ("田园综合体",),
    "地区生产总值": ("地区生产总值", "GDP"),
    "一般公共预算收入": ("一般公共预算收入",),
    "固定资产投资": ("固定资产投资",),
    "社会消费品零售总额": ("社会消费品零售总额",),
    "进出口": ("进出口额", "进出口"),
    "技术合同成交额": ("技术合同成交额",),
    "PM2.5": ("PM2.5",),
    "空气优良天数比率": ("空气优良天数",),
    "重点项目": ("重点项目",),
    "专精特新企业": ("专精特新",),
    "高新技术企业": ("高新技术企业",),
    "5G基站": ("5G基站",),
    "清洁村庄": ("清洁村庄",),
    "养老服务设施": ("养老服务设施",),
    "长者食堂": ("长者食堂",),
    "轨道交通二期线路": ("轨道交通二期",),
    "社区医院": ("社区医院",),
}

#: Stage of an action, from the verb in the subject (first match wins).
_STAGES = (("基本建成", "complete"), ("建成", "complete"), ("完工", "complete"),
           ("竣工", "complete"), ("开工", "start"), ("累计", "cumulative"),
           ("改造", "renovate"), ("新建", "build"), ("打造", "build"), ("新增", "add"), ("新引进", "add"),
           ("引进", "add"), ("新培育", "add"), ("培育", "add"), ("创建", "add"),
           ("增长", "growth"), ("提高", "growth"), ("下降", "growth"), ("改善", "growth"))

_VERBS = ("新建改扩建", "新建改造", "改扩建", "新建", "建成", "完成", "改造", "新增", "新引进",
          "引进", "开工建设", "开工", "新开工", "基本建成", "建设", "创建", "打造", "新打造",
          "培育", "新培育", "新认定", "推进", "实施", "完工", "新筹集", "扶持", "支持", "发放",
          "提供", "帮助", "新完成", "新备案", "新获批", "获批", "设立", "新设", "建立")

_VERBS_LONGEST = tuple(sorted(_VERBS, key=len, reverse=True))

_NUM = r"(?P<num>\d+(?:,\d{3})*(?:\.\d+)?)"
_UNIT_ALT = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
_QTY_RE = re.compile(
    r"(?P<rank>第\s*)?" + _NUM
    # 千 is no multiplier in 千米 / 千瓦: those are units of their own (UNITS)
    + r"\s*(?P<mult>万亿|亿|万|千(?!米|瓦))?(?P<yu>余|多)?\s*"
    + r"(?P<unit>" + _UNIT_ALT + r"|位)"
    + r"(?P<paren>（间）|\(间\))?"
    + r"(?P<post>\s*(?:左右|以上|以内|以下))?"
)
_TAG_RE = re.compile(r"<[^>]+>")
#: Characters before 约/近/逾 that make them part of a word (签约, 附近 …).
_NOT_QUALIFIER = {"约": "签节制预合契公邀条", "近": "最附接临将靠亲", "逾": ""}
_BOUNDARY = "，、；。：！？,;:!?“”《》\n"
#: Marks that end a comma clause: context for keys never crosses them.
_CLAUSE_END = "，；。：！？,;:!?"
_RIGHT_STOP = _BOUNDARY + "（）()和及与"


@dataclass(frozen=True)
class Quantity:
    """A number with its unit and the thing it measures.

    Attributes
    ----------
    subject : str
        What is measured, verb included where the report puts one
        (``新建各类公园``, ``绿道``, ``PM2.5``, ``数字经济占比``).
    value : float
        The value in ``unit``, multipliers applied (``1.2 万亩`` → 12000.0).
    value_as_written : float
        The number as printed (``1.2``).
    unit : str
        Base unit (处, 公里, 亩, 元, %, 微克/立方米, 位 …).
    unit_as_written : str
        Unit with its multiplier as printed (``万亩``, ``亿元``).
    multiplier : float
        Factor from ``value_as_written`` to ``value`` (1, 1e4, 1e8, 1e12).
    kind : str
        count, length, area, money, percent, concentration, rank, mass,
        power, duration or ratio.
    qualifier : str
        The qualifying words as printed (``左右``, ``超过``, ``余``, ``以上``), else "".
    bound : str
        ``"="``, ``"approx"``, ``">"``, ``">="``, ``"<"`` or ``"<="``.
    raw : str
        The text of the quantity, qualifiers included (``15% 左右``).
    start, end : int
        Span of ``raw`` in the text given to :func:`extract_quantities`.
    """

    subject: str
    value: float
    value_as_written: float
    unit: str
    unit_as_written: str
    multiplier: float
    kind: str
    qualifier: str
    bound: str
    raw: str
    start: int
    end: int

    def to_dict(self) -> dict[str, object]:
        """Plain dict (for JSON columns)."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _markup_spans(text: str) -> list[tuple[int, int]]:
    """Spans of tags and of the text inside ``<sub>``/``<sup>`` pairs."""
    spans = [(m.start(), m.end()) for m in re.finditer(r"<(sub|sup)>.*?</\1>", text)]
    spans += [(m.start(), m.end()) for m in _TAG_RE.finditer(text)]
    return spans


def _clean(text: str) -> str:
    return re.sub(r"\s+", "", _TAG_RE.sub("", text)).replace("**", "")


def _trim_subject(phrase: str) -> str:
    phrase = _clean(phrase)
    changed = True
    while changed and phrase:
        changed = False
        for w in _TRAILING:
            if phrase.endswith(w) and len(phrase) > len(w) - (w in "、和及与等"):
                phrase = phrase[: -len(w)]
                changed = True
        for w in _LEADING:
            if phrase.startswith(w) and len(phrase) > len(w):
                phrase = phrase[len(w):]
                changed = True
    return phrase


def _check_text(value: object, what: str) -> None:
    """Refuse a non-str where text is needed (bytes must be decoded first: :func:`spatial.report.read_report`)."""
    if not isinstance(value, str):
        msg = f"{what} 须为文本，收到 {type(value).__name__} ({what} must be a str)"
        raise ParameterError(msg)


def _check_report(report: object) -> None:
    """Refuse anything but a parsed :class:`~spatial.report.Report`."""
    from spatial.report import Report

    if not isinstance(report, Report):
        msg = (f"须为解析后的报告 (spatial.report.Report)，收到 {type(report).__name__} "
               "(report must be a parsed Report: use spatial.report.read_report)")
        raise ParameterError(msg)


def _check_year(year: object, what: str) -> None:
    """Refuse a year that is given but is not a whole number (``True`` and ``2023.5`` included)."""
    if year is not None and (isinstance(year, bool) or not isinstance(year, numbers.Integral)):
        msg = f"年份 {what} 须为整数，收到 {year!r} ({what} must be a whole year)"
        raise ParameterError(msg)


def _left_phrase(text: str, start: int, floor: int) -> tuple[str, int]:
    i = start
    while i > floor and text[i - 1] not in _BOUNDARY:
        i -= 1
    return text[i:start], i


def _right_phrase(text: str, end: int) -> str:
    j = end
    while j < len(text) and text[j] not in _RIGHT_STOP and not text[j].isdigit():
        j += 1
    phrase = _clean(text[end:j])
    for w in ("和", "及", "与", "、"):
        phrase = phrase.removesuffix(w)
    return phrase


def extract_quantities(text: str) -> list[Quantity]:
    """Quantities (number + unit) in a piece of report text, in order.

    Parameters
    ----------
    text : str
        A sentence, an item's text or a whole report.

    Returns
    -------
    list of Quantity
        Spans index into ``text``. Four-digit years (``2023 年``), numbers
        inside markup (``PM<sub>2.5</sub>``) and numbers without a unit
        (``12345 热线``, ``“1+4+N”``) are not quantities.

    Raises
    ------
    ParameterError
        When ``text`` is not a str.
    """
    _check_text(text, "text")
    masked = _markup_spans(text)
    out: list[Quantity] = []
    floor = 0
    for m in _QTY_RE.finditer(text):
        s, e = m.start("num"), m.end()
        if any(a <= s < b for a, b in masked):
            continue
        num_text = m.group("num").replace(",", "")
        unit = m.group("unit")
        mult_word = m.group("mult") or ""
        rank = bool(m.group("rank"))
        if unit == "位" and not rank:
            continue
        if unit == "年" and (mult_word or re.fullmatch(r"(19|20)\d\d", num_text)):
            continue  # a calendar year, not a duration
        if rank and unit not in {"位", "名"}:
            rank = False
        # "第" belongs to the quantity only for ranks
        qstart = m.start() if rank else s
        if s > 0 and (text[s - 1].isalpha() and text[s - 1].isascii()):
            continue  # inside an identifier such as 5G, PM10, O3
        value_written = float(num_text)
        multiplier = _MULTIPLIERS.get(mult_word, 1.0)
        kind = "rank" if rank else UNITS.get(unit, "count")
        base_unit = "%" if unit == "％" else unit

        # qualifiers before the number
        qual_parts = []
        bound = "="
        before = text[floor:qstart].rstrip()
        for w, b in PRE_QUALIFIERS.items():
            if before.endswith(w) and not (
                    len(w) == 1 and len(before) > 1 and before[-2] in _NOT_QUALIFIER.get(w, "")):
                qual_parts.append(w)
                bound = b
                qstart = floor + len(before) - len(w)
                break
        if m.group("yu"):
            qual_parts.append(m.group("yu"))
            bound = POST_QUALIFIERS[m.group("yu")]
        post = (m.group("post") or "").strip()
        if post:
            qual_parts.append(post)
            bound = POST_QUALIFIERS[post]
        qend = e

        left, _ = _left_phrase(text, qstart, floor)
        left_subj = _trim_subject(left)
        right_subj = _right_phrase(text, qend)
        left_raw = _clean(left)
        left_verb = next((v for v in _VERBS_LONGEST if left_subj.endswith(v)), "")
        use_right = bool(right_subj) and (
            (unit in CLASSIFIERS and not rank)
            or not left_subj
            or bool(left_verb)
            or left_raw.endswith("等")
        )
        if use_right:
            verb = left_subj if left_subj in _VERBS else left_verb
            subject = verb + right_subj
        else:
            subject = left_subj
        if not subject and out and re.fullmatch(r"[\s、和及与]*", text[out[-1].end:qstart]):
            subject = out[-1].subject  # "995 元、770 元": the second shares the first's subject
        out.append(Quantity(
            subject=subject, value=value_written * multiplier,
            value_as_written=value_written, unit=base_unit,
            unit_as_written=mult_word + unit, multiplier=multiplier, kind=kind,
            qualifier="".join(qual_parts), bound=bound, raw=text[qstart:qend],
            start=qstart, end=qend))
        floor = qend
    return out


def subject_key(subject: str, context: str = "") -> str:
    """Key used to pair quantities across years (see :data:`SUBJECT_SYNONYMS`).

    ``context`` (the item text left of the number) is searched, within the
    number's comma clause, when the subject alone has no synonym and names no
    thing (a bare verb, 惠及居民, 同比增长); the occurrence nearest the number
    wins. Without a synonym the key is the subject minus its leading verb.

    >>> subject_key("新建各类公园"), subject_key("惠及居民", "改造老旧小区 46 个、惠及居民")
    ('公园', '老旧小区')

    Raises
    ------
    ParameterError
        When ``subject`` or ``context`` is not a str.
    """
    _check_text(subject, "subject")
    _check_text(context, "context")
    plain = _clean(subject)
    for key, words in SUBJECT_SYNONYMS.items():
        if any(w in plain for w in words):
            return key
    if _is_weak(plain):
        ctx = _clean(_last_clause(context))
        best, best_pos = "", -1
        for key, words in SUBJECT_SYNONYMS.items():
            for w in words:
                pos = ctx.rfind(w)
                if pos > best_pos:
                    best, best_pos = key, pos
        if best:
            return best
    stripped = plain
    for v in sorted(_VERBS, key=len, reverse=True):
        if stripped.startswith(v) and len(stripped) > len(v):
            stripped = stripped[len(v):]
            break
    return stripped


def _last_clause(context: str) -> str:
    """The comma clause a quantity sits in (items may hold several)."""
    cut = max(context.rfind(c) for c in _CLAUSE_END)
    return context[cut + 1:]


def _is_weak(subject: str) -> bool:
    """A subject that names no thing: a bare verb, 惠及居民, 同比增长 …"""
    for v in _VERBS_LONGEST:
        if subject.startswith(v):
            subject = subject[len(v):]
            break
    return len(subject) <= 2 or subject.startswith(("同比", "惠及", "其中", "分别"))


#: Stages that measure the same indicator (new things delivered: 新建, 建成, 新增 …); others stand alone.
STAGE_CLASS: dict[str, str] = {"build": "new", "complete": "new", "add": "new"}


def stage_class(stage: str) -> str:
    """The indicator family of a stage: ``new`` for build/complete/add, else the stage itself."""
    return STAGE_CLASS.get(stage, stage)


def _next_clause(after: str) -> str:
    """The text after a quantity up to the end of its comma clause."""
    cuts = [i for i in (after.find(c) for c in _CLAUSE_END) if i >= 0]
    return after[: min(cuts)] if cuts else after


def _stage(subject: str, context: str, after: str = "") -> str:
    """Stage of the action a quantity measures: the subject's verb, else the
    verb of its comma clause before the number, else after it (``6条线路…全面开工``);
    累计 (running total) anywhere before the number wins."""
    clause = _clean(_last_clause(context))
    if "累计" in clause:
        return "cumulative"
    for text in (_clean(subject), clause, _clean(_next_clause(after))):
        for word, stage in _STAGES:
            if word in text:
                return stage
    return "level"


def item_quantities(report: Report) -> pd.DataFrame:
    """Every quantity of every item, one row each.

    Columns: item_id, year, subject, key, stage, value, value_as_written, unit,
    unit_as_written, multiplier, kind, qualifier, bound, raw, start, end
    (``start``/``end`` are offsets in ``report.source``), text.

    Raises
    ------
    ParameterError
        When ``report`` is not a :class:`~spatial.report.Report`.
    """
    import pandas as pd

    _check_report(report)
    rows = []
    for item in report.items:
        # offsets of item text chars in the source (page breaks removed)
        src = report.source
        offsets: list[int] = []
        k = item.start
        while k < item.end and len(offsets) < len(item.text):
            if src[k] == item.text[len(offsets)]:
                offsets.append(k)
            k += 1
        for q in extract_quantities(item.text):
            context = item.text[:q.start]
            key = subject_key(q.subject, context)
            rows.append({
                "item_id": item.item_id, "year": item.year, "subject": q.subject,
                "key": key, "stage": _stage(q.subject, context, item.text[q.end:]), "value": q.value,
                "value_as_written": q.value_as_written, "unit": q.unit,
                "unit_as_written": q.unit_as_written, "multiplier": q.multiplier,
                "kind": q.kind, "qualifier": q.qualifier, "bound": q.bound, "raw": q.raw,
                "start": offsets[q.start], "end": offsets[q.end - 1] + 1, "text": item.text,
            })
    cols = ["item_id", "year", "subject", "key", "stage", "value", "value_as_written", "unit",
            "unit_as_written", "multiplier", "kind", "qualifier", "bound", "raw", "start",
            "end", "text"]
    return pd.DataFrame(rows, columns=cols)


def targets_table(report: Report, *, plan_year: int | None = None,
                  review_year: int | None = None) -> pd.DataFrame:
    """Pair the plan year's quantified targets with the review year's results.

    Two quantities pair only when they measure the same indicator: the same
    subject key, the same unit (处 = 个) and the same stage family
    (:func:`stage_class`: 新建/建成/新增 are one family; 开工, 改造, 累计,
    增长 each stand alone). So a 2022 "全面开工" of six metro lines is not a
    2023 target of six, and "新建 6 个" is not "改造提升 4 个". Within a family
    the same stage is preferred.

    Parameters
    ----------
    report : Report
    plan_year, review_year : int, optional
        Default: the years the report plans and reviews
        (:attr:`~spatial.report.Report.plan_year`, ``review_year``: 2023 and
        2022 for the Jinan report), which follow from its date when its parts'
        titles carry none.

    Returns
    -------
    pandas.DataFrame
        One row per plan-year quantity, columns ``subject`` (the pairing key),
        ``unit``, ``value_2022``, ``value_2023``, ``item_id_2022``,
        ``item_id_2023``, ``text_2022``, ``text_2023`` (column names follow
        the actual years), plus ``subject_2022``, ``subject_2023``, ``raw_2022``,
        ``raw_2023``, ``stage_2022``, ``stage_2023``, ``match``
        (``same_stage``, ``same_family`` or ``""`` when there is no result to
        pair) and ``pair_key``, unique per row (subject, stage family and
        unit, numbered when a report sets one indicator twice). ``value_2022``
        is NaN for targets with no result in the review year. Values are in
        base units (亩 not 万亩, 元 not 亿元).

    Raises
    ------
    ParameterError
        When ``report`` is not a :class:`~spatial.report.Report`, or a year
        is not a whole number.
    """
    import pandas as pd

    _check_report(report)
    _check_year(plan_year, "plan_year")
    _check_year(review_year, "review_year")
    review_year = review_year or report.review_year or report.parts[0].year
    plan_year = plan_year or report.plan_year or report.parts[-1].year
    q = item_quantities(report)
    q = q[q["kind"] != "rank"]
    q = q.assign(match_unit=q["unit"].map(lambda u: EQUIVALENT_UNITS.get(u, u)),
                 family=q["stage"].map(stage_class))
    old = q[q["year"] == review_year]
    new = q[q["year"] == plan_year]
    used: set[int] = set()
    a, b = str(review_year), str(plan_year)
    rows = []
    seen: dict[str, int] = {}
    for _, t in new.iterrows():
        cands = old[(old["key"] == t["key"]) & (old["match_unit"] == t["match_unit"])
                    & (old["family"] == t["family"]) & (t["key"] != "")]
        cands = cands[~cands.index.isin(used)]
        if len(cands) > 1:
            same = cands[cands["stage"] == t["stage"]]
            cands = same if len(same) else cands
        if len(cands):
            r = cands.iloc[0]
            used.add(cands.index[0])
            match = "same_stage" if r["stage"] == t["stage"] else "same_family"
            v_old, id_old, tx_old, s_old, raw_old, st_old = (r["value"], r["item_id"], r["text"],
                                                             r["subject"], r["raw"], r["stage"])
        else:
            match, v_old, id_old, tx_old, s_old, raw_old, st_old = "", math.nan, "", "", "", "", ""
        subject = t["key"] or t["subject"]
        base = f"{subject}|{t['family']}|{t['unit']}"
        seen[base] = seen.get(base, 0) + 1
        rows.append({
            "subject": subject, "unit": t["unit"],
            f"value_{a}": v_old, f"value_{b}": t["value"],
            f"item_id_{a}": id_old, f"item_id_{b}": t["item_id"],
            f"text_{a}": tx_old, f"text_{b}": t["text"],
            f"subject_{a}": s_old, f"subject_{b}": t["subject"],
            f"raw_{a}": raw_old, f"raw_{b}": t["raw"],
            f"stage_{a}": st_old, f"stage_{b}": t["stage"], "match": match,
            "pair_key": base if seen[base] == 1 else f"{base}#{seen[base]}",
        })
    cols = ["subject", "unit", f"value_{a}", f"value_{b}", f"item_id_{a}", f"item_id_{b}",
            f"text_{a}", f"text_{b}", f"subject_{a}", f"subject_{b}", f"raw_{a}", f"raw_{b}",
            f"stage_{a}", f"stage_{b}", "match", "pair_key"]
    frame = pd.DataFrame(rows, columns=cols)
    return frame.astype({f"value_{a}": "float64", f"value_{b}": "float64"})
