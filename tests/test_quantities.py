"""Tests of quantity extraction and the 2023-vs-2022 target table."""

from __future__ import annotations

import doctest
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import spatial.quantities as quantities_mod
from spatial._errors import ParameterError, PlanatlasError
from spatial.quantities import extract_quantities, item_quantities, subject_key, targets_table
from spatial.report import clean_span, parse_report, read_report
from spatial.settings import DEFAULT_REPORT

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def seed():
    return read_report(DEFAULT_REPORT)


@pytest.fixture(scope="module")
def table(seed):
    return targets_table(seed)


def _one(text, **expected):
    qs = extract_quantities(text)
    assert len(qs) == 1, qs
    q = qs[0]
    for key, value in expected.items():
        assert getattr(q, key) == value, (key, getattr(q, key), value)
    assert text[q.start:q.end] == q.raw
    return q


# --- single sentences of the seed ---------------------------------------------

def test_parks_and_greenways_sentence():
    text = "巩固国家园林城市建设成果，新建各类公园 100 处、绿道 100 公里，"
    parks, greenways = extract_quantities(text)
    assert (parks.subject, parks.value, parks.unit, parks.kind) == ("新建各类公园", 100.0, "处", "count")
    assert (greenways.subject, greenways.value, greenways.unit, greenways.kind) == (
        "绿道", 100.0, "公里", "length")
    assert text[parks.start:parks.end] == "100 处"


def test_multiplier_applied_and_value_as_written_kept():
    q = _one("完成造林绿化1.2万亩，", subject="完成造林绿化", unit="亩", unit_as_written="万亩",
             kind="area", value_as_written=1.2, multiplier=1e4)
    assert q.value == pytest.approx(12000.0)
    money = _one("社会消费品零售总额达到 4820 亿元。", subject="社会消费品零售总额", unit="元",
                 unit_as_written="亿元", kind="money")
    assert money.value == pytest.approx(4.82e11)
    trillion = _one("资产总额达到1.7万亿元。", unit_as_written="万亿元")
    assert trillion.value == pytest.approx(1.7e12)


def test_percent_with_qualifiers():
    export, growth = extract_quantities("预计全年完成进出口 2190 亿元、同比增长 15% 左右，")
    assert (export.value_as_written, export.unit_as_written, export.bound) == (2190.0, "亿元", "=")
    assert (growth.value, growth.unit, growth.kind) == (15.0, "%", "percent")
    assert (growth.qualifier, growth.bound, growth.raw) == ("左右", "approx", "15% 左右")
    _one("空气质量综合指数改善6.5%。", value=6.5, unit="%", subject="空气质量综合指数改善")


def test_pre_qualifier_kept_in_raw():
    q = _one("减税退税降费超过 1000 亿元，", qualifier="超过", bound=">", subject="减税退税降费")
    assert q.raw == "超过 1000 亿元"
    _one("中欧班列年开行量突破 800 列，", qualifier="突破", unit="列", subject="中欧班列年开行量")
    # 约 inside 签约 is not a qualifier
    q = _one("累计签约 141 个高端优质项目", qualifier="", bound="=")
    assert q.subject == "高端优质项目"


def test_concentration_with_markup():
    text = "PM<sub>2.5</sub>控制在44微克/立方米以内，空气优良天数比率达到62.5%，"
    pm, days = extract_quantities(text)
    assert (pm.subject, pm.value, pm.unit, pm.kind, pm.bound) == (
        "PM2.5", 44.0, "微克/立方米", "concentration", "<=")
    assert days.subject == "空气优良天数比率"
    # the 2.5 inside the markup is no quantity
    assert all(q.value != 2.5 for q in extract_quantities("PM<sub>2.5</sub>浓度改善10.3%"))


def test_rank():
    text = "数字经济占比达到 47%，跃居 2022 全国数字经济城市排行第 6 位，"
    share, rank = extract_quantities(text)
    assert (share.subject, share.value, share.unit) == ("数字经济占比", 47.0, "%")
    assert (rank.kind, rank.value, rank.unit, rank.raw) == ("rank", 6.0, "位", "第 6 位")
    assert "数字经济城市排行" in rank.subject


def test_classifier_subject_on_the_right():
    q = _one("新增 11 个绿色发展工业园区", subject="新增绿色发展工业园区", unit="个")
    assert q.value == 11
    q = _one("推进北大沙河、大寺河等 12 条河道综合治理", unit="条")
    assert q.subject == "河道综合治理"
    q = _one("新建8个泉城书房，", subject="新建泉城书房")


def test_subject_shared_across_enumeration():
    first, second = extract_quantities("城乡低保标准分别提高到每人每月 995 元、770 元。")
    assert first.subject == second.subject == "城乡低保标准"
    assert (first.value, second.value) == (995.0, 770.0)
    cargo = extract_quantities("年内客货吞吐量达到 1300 万人次、14.4 万吨。")
    assert [q.subject for q in cargo] == ["客货吞吐量", "客货吞吐量"]
    assert [q.unit for q in cargo] == ["人次", "吨"]


def test_yu_and_housing_units():
    q = _one("累计签约入驻各类优质企业6500余家，", qualifier="余", bound=">", unit="家")
    assert q.value == 6500
    q = _one("新筹集房源 3.5 万套（间）。", unit="套", value_as_written=3.5)
    assert q.raw == "3.5 万套（间）"


@pytest.mark.parametrize("text", [
    "2023 年是全面贯彻落实党的二十大精神开局之年",
    "12345市民热线服务水平不断提升",
    "构建起“1+4+N”总体框架体系",
    "加快 5G 网络深度覆盖",
    "今天天气很好",
])
def test_numbers_without_units_are_not_quantities(text):
    assert extract_quantities(text) == []


def test_duration_but_not_calendar_year():
    (q,) = extract_quantities("重点泉群保持 19 年持续喷涌。")
    assert (q.value, q.unit, q.kind) == (19.0, "年", "duration")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="新建公园绿道处公里万亿元%、，。 0123456789.左右以上超过第位个", max_size=60))
def test_spans_always_match_raw(text):
    for q in extract_quantities(text):
        assert text[q.start:q.end] == q.raw
        assert q.value == pytest.approx(q.value_as_written * q.multiplier)
        assert not math.isnan(q.value)


# --- the seed as a whole -------------------------------------------------------

def test_item_quantities_spans_in_source(seed):
    frame = item_quantities(seed)
    assert len(frame) > 150
    for row in frame.itertuples():
        assert clean_span(seed.source, row.start, row.end) == row.raw
    assert set(frame["year"]) == {2022, 2023}


def test_subject_key_context_only_for_weak_subjects():
    assert subject_key("惠及居民", "改造老旧小区 46 个、惠及居民") == "老旧小区"
    assert subject_key("基本建成", "棚改安置房新开工 7864 套、基本建成") == "棚改安置房"
    # a subject that names a thing keeps its own key, whatever the context says
    assert subject_key("新增省级工业设计中心", "新认定总部企业12家，新增省级工业设计中心") == "省级工业设计中心"
    # context stops at the comma clause
    assert subject_key("增长", "新建公园55处，增长") == "增长"


def _row(table, subject, unit):
    rows = table[(table["subject"] == subject) & (table["unit"] == unit)]
    assert len(rows) >= 1, (subject, unit)
    return rows


def test_targets_table_columns(table):
    for col in ["subject", "unit", "value_2022", "value_2023", "item_id_2022", "item_id_2023",
                "text_2022", "text_2023"]:
        assert col in table.columns
    assert str(table["value_2022"].dtype) == "float64"


def test_targets_parks_and_greenways_pair_up(seed, table):
    parks = _row(table, "公园", "处").iloc[0]
    assert (parks["value_2022"], parks["value_2023"]) == (55.0, 100.0)
    assert "新建公园55处" in parks["text_2022"]
    assert "新建各类公园 100 处" in parks["text_2023"]
    assert seed.item(parks["item_id_2022"]).year == 2022
    assert seed.item(parks["item_id_2023"]).year == 2023
    greenways = _row(table, "绿道", "公里").iloc[0]
    assert (greenways["value_2022"], greenways["value_2023"]) == (130.0, 100.0)
    # sports parks are not parks for the pairing
    assert not (table["subject"] == "体育公园").any()


def test_targets_housing_pairs_by_unit_and_stage(table):
    estates = _row(table, "老旧小区", "户").iloc[0]
    assert (estates["value_2022"], estates["value_2023"]) == (57000.0, 99000.0)
    shanty = _row(table, "棚改安置房", "套").set_index("raw_2023")
    assert shanty.loc["8012 套", "value_2022"] == 7864.0  # started
    assert shanty.loc["11427 套", "value_2022"] == 31335.0  # completed


def test_targets_other_pairs(table):
    expected = {("供水管网", "公里"): (100.0, 80.0), ("造林", "亩"): (11600.0, 12000.0),
                ("森林抚育", "亩"): (80000.0, 88000.0), ("数字经济占比", "%"): (47.0, 48.0),
                ("高标准农田", "亩"): (275000.0, 234000.0),
                ("城镇新增就业", "人"): (173000.0, 150000.0)}
    for (subject, unit), values in expected.items():
        row = _row(table, subject, unit).iloc[0]
        assert (row["value_2022"], row["value_2023"]) == pytest.approx(values), subject


def test_targets_without_counterpart_and_no_false_pairs(seed, table):
    pm = _row(table, "PM2.5", "微克/立方米").iloc[0]
    assert math.isnan(pm["value_2022"]) and pm["value_2023"] == 44.0
    assert pm["item_id_2022"] == ""
    # a running total (累计, 2200 trains) is not paired with a yearly target (800)
    trains = _row(table, "中欧班列", "列").iloc[0]
    assert math.isnan(trains["value_2022"])
    # every 2022 result is used at most once, and only 2023 items are targets
    used = table.loc[table["item_id_2022"] != "", ["item_id_2022", "raw_2022"]]
    assert not used.duplicated().any()
    assert {seed.item(i).year for i in table["item_id_2023"]} == {2023}
    assert table["value_2022"].notna().sum() >= 20


def test_targets_pair_only_the_same_indicator(table):
    # 2022: 轨道交通二期6条线路…全面开工 (started); 2023: 加快…6 条线路…建设: not the same indicator
    metro = table[table["subject"] == "轨道交通二期线路"].iloc[0]
    assert metro["stage_2023"] != "start" and math.isnan(metro["value_2022"]) and metro["match"] == ""
    # 2022: 新建成市级田园综合体6个; 2023: 改造提升 4 个田园综合体: built is not renovated
    farms = table[table["subject"] == "田园综合体"].iloc[0]
    assert farms["stage_2023"] == "renovate" and math.isnan(farms["value_2022"])
    # 2022: 完工 20 所 schools; 2023: 开工 …: completed is not started
    schools = table[table["subject"] == "中小学校"]
    assert all(math.isnan(v) or r != "start" for v, r in zip(schools["value_2022"], schools["stage_2022"],
                                                             strict=True))
    # a pair's stages are of one family, and new-build stages do pair with completions
    paired = table[table["match"] != ""]
    assert (paired["match"].isin(["same_stage", "same_family"])).all()
    fields = _row(table, "高标准农田", "亩").iloc[0]
    assert fields["match"] == "same_family" and {fields["stage_2022"], fields["stage_2023"]} == {"build", "complete"}


def test_pairing_keys_do_not_collide(table):
    assert table["pair_key"].is_unique
    # 棚改安置房 is set twice in 2023 (started, completed): two keys, one subject
    shanty = table[table["subject"] == "棚改安置房"]
    assert len(shanty) == 2 and shanty["pair_key"].nunique() == 2


def test_targets_of_a_january_report_follow_its_date():
    text = (DATA / "report_minimal.md").read_text(encoding="utf-8")
    untitled = text.replace("## 一、2023年工作回顾", "## 一、过去一年工作回顾").replace(
        "## 二、2024年重点工作安排", "## 二、今年重点工作安排")
    rep = parse_report(untitled)
    assert rep.date.month == 1 and (rep.review_year, rep.plan_year) == (2023, 2024)
    t = targets_table(rep)
    assert "value_2023" in t.columns and "value_2024" in t.columns
    assert _row(t, "公园", "处").iloc[0]["value_2023"] == 12.0


def test_targets_on_fixture():
    rep = read_report(DATA / "report_minimal.md")
    t = targets_table(rep)
    assert "value_2023" in t.columns and "value_2024" in t.columns
    parks = _row(t, "公园", "处").iloc[0]
    assert (parks["value_2023"], parks["value_2024"]) == (12.0, 20.0)
    estates = _row(t, "老旧小区", "户").iloc[0]
    assert (estates["value_2023"], estates["value_2024"]) == (11000.0, 15000.0)
    shanty = _row(t, "棚改安置房", "套").set_index("raw_2024")
    assert shanty.loc["600 套", "value_2023"] == 500.0
    assert shanty.loc["900 套", "value_2023"] == 800.0
    books = _row(t, "泉城书房", "个") if (t["subject"] == "泉城书房").any() else None
    assert books is None
    # 累计建成社区书房 30 个 (running total) does not pair with 新建 6 个
    rooms = t[t["subject_2024"].str.contains("社区书房")].iloc[0]
    assert math.isnan(rooms["value_2023"])


def test_doctests():
    result = doctest.testmod(quantities_mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize("make, named", [
    (lambda seed: extract_quantities(None), "NoneType"),
    (lambda seed: extract_quantities(b"\xe6\x96\xb0\xe5\xbb\xba 100 \xe5\xa4\x84"), "bytes"),
    (lambda seed: extract_quantities(100), "int"),
    (lambda seed: subject_key(["公园"]), "list"),
    (lambda seed: subject_key("公园", context=3.5), "float"),
    (lambda seed: item_quantities("报告文本"), "str"),
    (lambda seed: targets_table(None), "NoneType"),
    (lambda seed: targets_table(seed, plan_year="2023"), "'2023'"),
    (lambda seed: targets_table(seed, review_year=2022.5), "2022.5"),
    (lambda seed: targets_table(seed, plan_year=True), "True"),
])
def test_user_errors_are_planatlas_errors(seed, make, named):
    with pytest.raises(PlanatlasError) as info:
        make(seed)
    assert isinstance(info.value, ParameterError)
    assert "须为" in str(info.value) and named in str(info.value)  # Chinese first, naming what was refused
