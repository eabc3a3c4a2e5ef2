"""Property tests: the report parser on arbitrary text and bytes, and on the real seed cut up.

* Any ``str`` or ``bytes`` either parses or raises :class:`ReportError`, never
  anything else.
* Every item's span points at its text: ``clean_span(source, start, end) ==
  item.text`` (the documented contract), hence also the same text once
  whitespace is removed.
* Item ids are the same on a second parse, and ids in one section do not
  change when text in another section changes.
* Fragments of the real report mixed with noise still parse.

The text strategy is built from the tokens that drive the parser (part and
section numbers, bold markers, sentence marks, line breaks of every kind) so
the examples reach its branches instead of bouncing off the "no Chinese
sentences" check. The budget is fixed and derandomised so CI runs the same
examples every time.
"""

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spatial._errors import ReportError
from spatial.report import clean_span, parse_report, read_report
from tests import inputs

FUZZ = {"deadline": None, "derandomize": True, "database": None, "suppress_health_check": [HealthCheck.too_slow]}

SEED = inputs.SEED_REPORT
FRONT = inputs.REPORT_FRONT

#: What the parser strips around lines (see spatial.report._STRIP) plus \s.
_BLANK = re.compile(r"[\s\ufeff]")

TOKENS = inputs.REPORT_TOKENS
structured_text = st.lists(st.one_of(st.sampled_from(TOKENS), st.text(max_size=4)), max_size=80).map("".join)


def _check_refusal(exc: ReportError) -> None:
    """A refusal is one line a planner reads: Chinese first, the English in brackets at the end."""
    message = str(exc)
    assert message.startswith("报告") and message.endswith(")") and " (" in message, message


def check_report(text: str):
    """Parse ``text``; return the report, or None when it is refused with ReportError."""
    try:
        report = parse_report(text)
    except ReportError as exc:
        _check_refusal(exc)
        return None
    assert report.source == text
    for item in report.items:
        assert 0 <= item.start < item.end <= len(text)
        assert clean_span(text, item.start, item.end) == item.text, item
        assert _BLANK.sub("", text[item.start:item.end]) == _BLANK.sub("", item.text)
        assert item.text.strip() == item.text and item.text
    for part in report.parts:
        assert 0 <= part.start < part.end <= len(text)
    for sec in report.sections:
        assert 0 <= sec.start < sec.end <= len(text)
    ids = [i.item_id for i in report.items]
    assert len(set(ids)) == len(ids)
    assert [i.item_id for i in parse_report(text).items] == ids  # stable across parses
    return report


@settings(max_examples=800, **FUZZ)
@given(st.text(max_size=300))
def test_arbitrary_unicode_parses_or_refuses(text):
    check_report(text)


@settings(max_examples=800, **FUZZ)
@given(structured_text)
def test_report_shaped_text_parses_or_refuses(text):
    check_report(text)


@settings(max_examples=600, **FUZZ)
@given(st.one_of(st.binary(max_size=400),
                 structured_text.map(lambda t: t.encode("utf-8", "surrogatepass")),
                 structured_text.map(lambda t: t.encode("gb18030", "ignore")),
                 structured_text.map(lambda t: t.encode("utf-16"))))
def test_arbitrary_bytes_parse_or_refuse(data):
    try:
        report = read_report(data)
    except ReportError as exc:
        _check_refusal(exc)
        return
    check_report(report.source)


seed_fragments = st.randoms(use_true_random=False).map(inputs.seed_fragment)


@settings(max_examples=200, **FUZZ)
@given(seed_fragments)
def test_seed_fragments_mixed_with_noise_still_parse(text):
    # refused only for a NUL (binary data, by design) or if the slices happen
    # to hold no sentence at all
    report = check_report(text)
    if ("\x00" not in text and text.count("。") >= 2
            and len(re.findall(r"[\u4e00-\u9fff]", text)) >= 20):
        assert report is not None and report.items


@settings(max_examples=40, **FUZZ)
@given(st.data())
def test_ids_do_not_move_when_another_section_changes(data):
    report = parse_report(SEED)
    sections = report.sections
    target = data.draw(st.sampled_from(sections))
    # an item that ends a sentence, so the inserted sentence stands alone
    inside = [i for i in report.items if (i.part, i.section) == (target.part, target.index)
              and i.text.endswith("。")]
    item = data.draw(st.sampled_from(inside))
    # insert a sentence of noise right after one item of that section
    extra = "新增" + data.draw(st.text(alphabet="公园绿道城市建设项目", min_size=1, max_size=20)) + "。"
    edited = parse_report(SEED[:item.end] + extra + SEED[item.end:])
    before = {i.item_id for i in report.items if (i.part, i.section) != (target.part, target.index)}
    after = {i.item_id for i in edited.items if (i.part, i.section) != (target.part, target.index)}
    assert before == after
    assert len(edited.items) == len(report.items) + 1


def test_line_separator_and_bom_keep_the_span_contract():
    # regressions: U+2028 (a line break for str.splitlines) stayed inside an
    # item, and a BOM at a line start made clean_span differ from item.text
    body = "## 一、2022年工作回顾\n\n新建公园55处，\u2028\ufeff绿道130公里。完成造林 1.16 万亩。\n"
    for text in (FRONT + body, "\r\n\u2028" + FRONT + body, FRONT.replace("\n\n", "\n\ufeff\n") + body):
        report = check_report(text)
        assert report is not None
        assert report.items[0].text == "新建公园55处，绿道130公里。"
