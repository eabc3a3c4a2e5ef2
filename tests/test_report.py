"""Tests of the report parser on the real Jinan report and small fixtures."""

from __future__ import annotations

import dataclasses
import datetime as dt
import doctest
import itertools
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import spatial.report as report_mod
from spatial._errors import ParameterError, PlanatlasError, ReportError
from spatial.report import (
    CATEGORIES,
    categorize,
    clean_span,
    cn_numeral,
    decode_report_bytes,
    parse_report,
    read_report,
)
from spatial.settings import DEFAULT_REPORT

DATA = Path(__file__).parent / "data"
SEED_TEXT = DEFAULT_REPORT.read_text(encoding="utf-8")
ID_RE = re.compile(r"^p\d+-s\d+-\d{3}-[0-9a-f]{6}$")


@pytest.fixture(scope="module")
def seed():
    return read_report(DEFAULT_REPORT)


def _item_with(report, fragment):
    found = [i for i in report.items if fragment in i.text]
    assert len(found) == 1, (fragment, [i.text for i in found])
    return found[0]


# --- front matter and hierarchy ---------------------------------------------

def test_seed_title_and_date(seed):
    assert seed.title == "政府工作报告"
    assert seed.date == dt.date(2022, 12, 26)
    assert seed.source == SEED_TEXT
    assert seed.source_name.endswith("jinan_2023_government_work_report.md")


def test_seed_parts_regardless_of_markdown_level(seed):
    # "## 一", "## 二", "### 三", "#### **四**": levels differ, numbering counts.
    assert [(p.number, p.year) for p in seed.parts] == [
        ("一", 2022), ("二", 2023), ("三", 2023), ("四", 2023)]
    assert seed.parts[0].title == "2022年工作回顾"
    assert seed.parts[3].title == "全面加强政府自身建设"
    for p in seed.parts:
        assert p.title in SEED_TEXT[p.start:p.end]


def test_seed_sections_inline_and_heading_lines(seed):
    by_part = Counter(s.part for s in seed.sections)
    assert by_part == {1: 8, 3: 10}
    first = seed.sections[0]
    assert (first.number, first.title) == ("（一）", "坚持人民至上、知重负重，疫情防控和经济社会发展实现高效统筹")
    # (八) of part 一 is itself cut by a page break in the middle of its title
    eighth = next(s for s in seed.sections if s.part == 1 and s.index == 8)
    assert eighth.title == "坚持扛牢责任、提高效能，政府自身建设全面加强"
    # plain heading line (一) and bold heading lines (二)…(十) of part 三
    third = [s for s in seed.sections if s.part == 3]
    assert third[0].title == "着力融入服务重大战略，加快增强省会引领带动力"
    assert third[9].title == "着力改善环境质量，加快夯实绿色发展生态本底"
    assert [s.index for s in third] == list(range(1, 11))


def test_seed_topics_bold_and_lead_clauses(seed):
    kinds = Counter((t.part, t.kind) for t in seed.topics)
    assert kinds == {(3, "bold"): 39, (2, "lead"): 5, (4, "lead"): 4}
    titles = [t.title for t in seed.topics]
    assert "纵深推进黄河重大国家战略落地落实" in titles
    assert "加快建设“无废城市”" in titles
    assert "坚决做到立场坚定、对党忠诚" in titles
    assert "我们必须在锐意改革创新中激活高质量发展动能" in titles
    # every bold topic sits in the section that precedes it
    t = next(t for t in seed.topics if t.title == "高标准推动城市规划建设")
    assert (t.part, t.section) == (3, 7)


def test_headings_are_not_items(seed):
    texts = [i.text for i in seed.items]
    assert not any(t.startswith(("**", "#", "（一）", "（二）")) for t in texts)
    assert not any("纵深推进黄河重大国家战略落地落实。" in t for t in texts)
    assert not any(t.startswith("坚决做到立场坚定") for t in texts)
    assert "各位代表！" not in texts


def test_item_hierarchy_on_known_sentences(seed):
    parks23 = _item_with(seed, "新建各类公园 100 处")
    assert (parks23.part, parks23.section, parks23.topic, parks23.year) == (
        3, 7, "高标准推动城市规划建设", 2023)
    assert parks23.section_title == "着力提高规划建设治理水平，加快彰显省会城市魅力"
    assert parks23.part_title == "2023年重点工作安排"
    parks22 = _item_with(seed, "新建公园55处")
    assert (parks22.part, parks22.section, parks22.topic, parks22.year) == (1, 4, "", 2022)
    # the closing paragraphs of the review belong to the part, not to (八)
    thanks = _item_with(seed, "事非经过不知难")
    assert (thanks.part, thanks.section) == (1, 0)
    problems = _item_with(seed, "主要有：城市能级和核心竞争力还不够强")
    assert (problems.part, problems.section) == (1, 0)
    # a coda in part 三 stays in its section, outside any topic
    coda = _item_with(seed, "坚持工业强市、构建现代化产业体系，就是夯实")
    assert (coda.part, coda.section, coda.topic) == (3, 4, "")
    lead = _item_with(seed, "深刻领悟“两个确立”的决定性意义")
    assert (lead.part, lead.topic) == (4, "坚决做到立场坚定、对党忠诚")


# --- page breaks and spans ---------------------------------------------------

@pytest.mark.parametrize("joined", [
    "最大限度保障了人民群众生命安全和身体健康。",
    "实施济西、白云湖等湿地公园保护修复，",
    "数字经济占比达到 47%",
    "四大主导产业规模持续壮大",
    "南部山区生态保护与修复成效明显",
    "对外开放能级大幅提升",
    "生活垃圾实现“零填埋”",
    "立足新时代现代化田园城市定位",
    "新建改造供水管网80 公里",
    "深入推进全民参保计划。",
    "确保国省控断面水质达标",
    "实现小清河正式通航。",
])
def test_page_breaks_rejoined(seed, joined):
    item = _item_with(seed, joined)
    # the item really spans a page break in the source
    assert "\n" in seed.source[item.start:item.end]


_BODY_START = SEED_TEXT.index("## 一、") + 20
# positions between two Chinese characters outside markdown heading lines
# (a converter never breaks those: they stand alone by construction)
_CJK_PAIRS = [k for k in range(_BODY_START, len(SEED_TEXT))
              if re.match(r"[\u4e00-\u9fff]{2}", SEED_TEXT[k - 1:k + 1])
              and not SEED_TEXT[SEED_TEXT.rfind("\n", 0, k) + 1:].startswith("#")]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(_CJK_PAIRS))
def test_any_new_mid_sentence_page_break_is_healed(seed, k):
    # a page break between two Chinese characters, wherever it falls
    # (mid-word, inside a bold lead-in or a section title), changes nothing
    broken = parse_report(SEED_TEXT[:k] + "\n\n" + SEED_TEXT[k:])
    assert [(i.item_id, i.text, i.topic) for i in broken.items] == [
        (i.item_id, i.text, i.topic) for i in seed.items]
    assert [s.title for s in broken.sections] == [s.title for s in seed.sections]


def test_page_break_halves_not_left_as_items(seed):
    texts = [i.text for i in seed.items]
    for half in ("安全和身体健康。", "达到 47%，", "外开放能级大幅提升", "划。", "机。"):
        assert not any(t.startswith(half) for t in texts), half


def test_span_invariant_for_every_item(seed):
    assert len(seed.items) > 300
    for item in seed.items:
        assert clean_span(seed.source, item.start, item.end) == item.text
        assert "\n" not in item.text
        assert item.text == item.text.strip()


def test_items_do_not_overlap_and_keep_order(seed):
    ends = [(i.start, i.end) for i in seed.items]
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(ends))


def test_long_enumerations_are_split(seed):
    first = _item_with(seed, "地区生产总值增长 5.5%以上")
    assert first.text == "经济社会发展主要预期目标是：地区生产总值增长 5.5%以上；"
    k = seed.items.index(first)
    assert [i.text for i in seed.items[k + 1:k + 3]] == [
        "一般公共预算收入增长 6%左右；", "规模以上工业增加值增长 6%左右；"]
    assert max(len(i.text) for i in seed.items) < 200
    assert _item_with(seed, "年内改造老旧小区 9.9 万户").text == "年内改造老旧小区 9.9 万户，"


# --- ids --------------------------------------------------------------------

def test_ids_unique_and_well_formed(seed):
    ids = [i.item_id for i in seed.items]
    assert len(set(ids)) == len(ids)
    assert all(ID_RE.match(i) for i in ids)
    assert seed.item(ids[10]) is seed.items[10]


def test_ids_stable_across_parses(seed):
    again = parse_report(SEED_TEXT)
    assert [i.item_id for i in again.items] == [i.item_id for i in seed.items]


def test_ids_unaffected_by_edit_in_another_part(seed):
    edited_text = SEED_TEXT.replace("加大审计监督力度，", "加大审计监督力度，严格财经纪律，")
    assert edited_text != SEED_TEXT
    edited = parse_report(edited_text)
    before = {i.item_id for i in seed.items if i.part != 4}
    after = {i.item_id for i in edited.items if i.part != 4}
    assert before == after
    # the edited item itself gets a new id
    assert {i.item_id for i in edited.items if i.part == 4} != {
        i.item_id for i in seed.items if i.part == 4}


def test_ids_unaffected_by_edit_in_another_section(seed):
    edited = parse_report(SEED_TEXT.replace("新增高新技术企业900家", "新增高新技术企业1000家"))
    changed = {i.item_id for i in seed.items} ^ {i.item_id for i in edited.items}
    assert len(changed) == 2  # one old id out, one new in
    assert all(c.startswith("p3-s3-") for c in changed)


# --- years and categories ------------------------------------------------------

def test_years(seed):
    years = Counter((i.part, i.year) for i in seed.items)
    assert set(years) == {(1, 2022), (2, 2023), (3, 2023), (4, 2023)}


def test_horizon_year_and_fixture_years():
    rep = read_report(DATA / "report_minimal.md")
    assert [p.year for p in rep.parts] == [2023, 2024]
    assert rep.date == dt.date(2024, 1, 8)
    horizon = _item_with(rep, "到2035年")
    assert horizon.year == 2035
    assert _item_with(rep, "新建各类公园 20 处").year == 2024


_UNTITLED = """# 政府工作报告

——{date}在示例市第一届人民代表大会第三次会议上

各位代表：

## 一、过去一年工作回顾

（一）坚持生态优先。新建公园12处、绿道30公里。

## 二、今年重点工作

**建设公园城市。**新建各类公园 20 处、绿道 40 公里。
"""


@pytest.mark.parametrize("written, date, review, plan", [
    ("2022年12月26日", dt.date(2022, 12, 26), 2022, 2023),          # a December session reviews its own year
    ("二〇二二年十二月二十六日", dt.date(2022, 12, 26), 2022, 2023),  # Chinese numerals
    ("二〇二四年一月八日", dt.date(2024, 1, 8), 2023, 2024),          # a January session reviews the year before
    ("２０２４年２月１日", dt.date(2024, 2, 1), 2023, 2024),          # full-width digits
    ("2024年1月", dt.date(2024, 1, 1), 2023, 2024),                   # month only
    ("二零二五年一月十五日", dt.date(2025, 1, 15), 2024, 2025),       # 零 for zero
])
def test_date_in_any_form_gives_review_and_plan_years(written, date, review, plan):
    # the parts' titles carry no year: the years follow from the date alone
    rep = parse_report(_UNTITLED.format(date=written))
    assert rep.date == date and rep.date_text.replace(" ", "") == unicodedata.normalize("NFKC", written)
    assert (rep.review_year, rep.plan_year) == (review, plan)
    assert [p.year for p in rep.parts] == [review, plan]
    assert {i.year for i in rep.items} == {review, plan}


def test_impossible_or_missing_date_gives_no_years():
    rep = parse_report(_UNTITLED.format(date="2022年13月40日"))
    assert rep.date is None and rep.review_year is None and rep.plan_year is None


@pytest.mark.parametrize("fragment, best, also", [
    ("新建各类公园 100 处", "parks", "greenways"),
    ("新建公园55处", "parks", "greenways"),
    ("6 条跨河通道建设", "river_crossings", None),
    ("加快轨道交通二期 6 条线路", "transport", None),
    ("开工新建改扩建中小学校 20 所", "education", None),
    ("PM<sub>2.5</sub>控制在44微克/立方米以内", "ecology", None),
    ("年内改造老旧小区 9.9 万户", "housing", None),
    ("推进广安门医院济南医院建设", "health", None),
    ("新建8个泉城书房", "culture", None),
    ("新增高新技术企业900家", "technology", "industry"),
    ("全年新增城镇就业15万人以上", "social", None),
    ("新引进知名首店、品牌店、旗舰店 50 家以上", "commerce", None),
    ("加快推进行政审批服务立法", "government", None),
    ("推进北大沙河、大寺河等 12 条河道综合治理", "water", None),
])
def test_categories_on_known_sentences(seed, fragment, best, also):
    item = _item_with(seed, fragment)
    assert item.category == best
    assert item.categories[0] == best
    if also:
        assert also in item.categories


def test_categories_are_from_the_table(seed):
    assert {i.category for i in seed.items} <= set(CATEGORIES)
    assert categorize("今天天气很好") == ()
    other = [i for i in seed.items if i.category == "other"]
    assert len(other) < len(seed.items) * 0.1


def test_items_frame(seed):
    frame = seed.items_frame()
    assert list(frame.columns) == ["item_id", "part", "part_title", "section", "section_title",
                                   "topic", "year", "category", "categories", "text", "start", "end"]
    assert len(frame) == len(seed.items)
    greenway = frame[frame["text"].str.contains("绿道 100 公里")].iloc[0]
    assert "greenways" in greenway["categories"].split("|")
    assert frame["item_id"].is_unique
    assert str(frame["year"].dtype) == "int64"
    row = frame[frame["text"].str.contains("新建各类公园 100 处")].iloc[0]
    assert SEED_TEXT[row["start"]:row["end"]] == row["text"]


def test_report_is_frozen(seed):
    with pytest.raises(dataclasses.FrozenInstanceError):
        seed.title = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        seed.items[0].text = "x"  # type: ignore[misc]


# --- decoding and input kinds ----------------------------------------------------

def _signature(rep):
    return [(i.item_id, i.text, i.start, i.end, i.topic, i.category) for i in rep.items]


def test_gbk_bytes_parse_identically(seed):
    rep = read_report(SEED_TEXT.encode("gbk"))
    assert rep.source == SEED_TEXT
    assert _signature(rep) == _signature(seed)


def test_gbk_file_and_bom_bytes(seed, tmp_path):
    path = tmp_path / "report_gbk.txt"
    path.write_bytes(SEED_TEXT.encode("gbk"))
    assert _signature(read_report(path)) == _signature(seed)
    assert _signature(read_report(str(path))) == _signature(seed)
    bom = read_report(b"\xef\xbb\xbf" + SEED_TEXT.encode("utf-8"))
    assert bom.source == SEED_TEXT
    assert _signature(bom) == _signature(seed)


def test_text_input_and_explicit_encoding(seed):
    assert _signature(read_report(SEED_TEXT)) == _signature(seed)
    assert _signature(read_report(SEED_TEXT.encode("gb18030"), encoding="gb18030")) == _signature(seed)
    with pytest.raises(ReportError, match="报告无法解码：文字不是 utf-8 编码") as info:
        read_report(SEED_TEXT.encode("gbk"), encoding="utf-8")
    assert "(report bytes cannot be decoded: the text is not utf-8 (undecodable at byte" in str(info.value)


def test_crlf_source_keeps_spans():
    text = (DATA / "report_minimal.md").read_text(encoding="utf-8").replace("\n", "\r\n")
    rep = parse_report(text)
    assert rep.source == text
    for item in rep.items:
        assert clean_span(rep.source, item.start, item.end) == item.text
    gdp = _item_with(rep, "地区生产总值增长5.1%")
    assert gdp.section == 2


@pytest.mark.parametrize("bad, message", [
    ("", "报告文本为空"),
    ("   \n\n\u3000 ", "报告文本为空"),
    (b"", "报告文本为空"),
    ("The annual report of the city government. It has sentences. " * 10, "没有中文句子"),
    ("今天天气很好。我们去公园散步。公园里有很多人在锻炼身体，也有很多孩子在玩耍。晚上回家吃饭。", "没有编号的部分"),
    (b"\x81\x20\xff\xfe\x00", "无法判断文字编码"),
    ("政府工作报告\x00\x01。一、回顾。", "二进制文件"),
])
def test_bad_input_raises_report_error(bad, message):
    with pytest.raises(ReportError, match=message) as info:
        read_report(bad)
    text = str(info.value)
    # Chinese first, the English after it in brackets
    assert re.match(r"[\u4e00-\u9fff]", text) and text.endswith(")") and " (" in text


def test_missing_file_raises_report_error(tmp_path):
    with pytest.raises(ReportError, match="找不到报告文件") as info:
        read_report(tmp_path / "nope.md")
    assert "nope.md" in str(info.value)
    with pytest.raises(ReportError, match=r"找不到报告文件.*nope.md"):
        read_report(str(tmp_path / "nope.md"))


def test_refusal_names_the_file(tmp_path):
    path = tmp_path / "blank.md"
    path.write_text("\n\n   \n", encoding="utf-8")
    with pytest.raises(ReportError, match="为空") as info:
        read_report(path)
    assert "blank.md" in str(info.value)


_HEAD = "# 政府工作报告\n\n——2022年12月26日\n\n## 一、2022年工作回顾\n\n"


@pytest.mark.parametrize("make", [
    pytest.param(lambda: read_report(None), id="source None"),
    pytest.param(lambda: read_report(12345), id="source int"),
    pytest.param(lambda: read_report(["一、回顾。"]), id="source list"),
    pytest.param(lambda: parse_report(b"bytes are not text"), id="parse bytes"),
    pytest.param(lambda: parse_report(None), id="parse None"),
    pytest.param(lambda: read_report(b"\xff\xfe\x00\xd8"), id="broken UTF-16"),
    pytest.param(lambda: read_report(SEED_TEXT.encode("utf-8"), encoding="no-such-codec"), id="unknown codec"),
    pytest.param(lambda: parse_report(_HEAD.replace("## 一、", "").replace("\n\n", "。。") * 5), id="no parts"),
    pytest.param(lambda: parse_report("前言说明文字，共有二十多个汉字。还有一句话。\n\n一、回顾\n"), id="no body"),
    pytest.param(lambda: read_report(DATA / "report_minimal.md").item("p9-s9-999-abcdef"), id="unknown item id"),
    pytest.param(lambda: read_report(DATA / "report_minimal.md").item(["unhashable"]), id="unhashable item id"),
    pytest.param(lambda: cn_numeral("二二"), id="bad numeral"),
    pytest.param(lambda: decode_report_bytes(b"\x81\x20\xff\xfe\x00"), id="undecodable"),
])
def test_user_errors_are_planatlas_errors(make):
    with pytest.raises(PlanatlasError) as info:
        make()
    assert re.search(r"[\u4e00-\u9fff]", str(info.value))  # a message a planner can read


def test_malformed_section_numeral_is_body_text():
    # （二二） is no section number: a paragraph opening with it used to crash the parser (KeyError)
    report = parse_report(_HEAD + "（二二）坚持生态优先。新建公园55处、绿道130公里，完成造林 1.16 万亩。\n")
    assert report.sections == ()
    assert report.items[0].text.startswith("（二二）")
    with pytest.raises(ParameterError, match="'二二'"):
        cn_numeral("二二")


def test_unknown_item_id_is_named():
    report = read_report(DATA / "report_minimal.md")
    with pytest.raises(ParameterError, match="p9-s9-999-abcdef"):
        report.item("p9-s9-999-abcdef")


def test_parse_steps_agree_with_the_report(seed):
    # the named steps of parse_report, run one by one, give the parts and topics of the whole
    paras = report_mod._logical_paragraphs(SEED_TEXT)
    assert report_mod._front_matter(paras) == (seed.title, seed.date, seed.date_text)
    outline = report_mod._hierarchy(paras, date=seed.date)
    assert [p.title for p in outline.parts] == [p.title for p in seed.parts]
    topics, bodies = report_mod._lead_clause_topics(outline.parts, outline.sections, outline.topics,
                                                    outline.bodies)
    assert tuple(topics) == seed.topics
    assert len(bodies) == len(outline.bodies)
    parts = report_mod._part_spans(outline.parts, SEED_TEXT)
    assert [p.end for p in parts[:-1]] == [p.start for p in parts[1:]]
    assert tuple(report_mod._items(bodies, parts, outline.sections)) == seed.items


def test_report_error_is_a_value_error():
    with pytest.raises(ValueError):
        parse_report("")


def test_doctests():
    result = doctest.testmod(report_mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
