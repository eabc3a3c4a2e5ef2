"""Property tests: quantities built from known numbers and units come back exactly.

Each generated quantity is a number (integer, decimal or with thousands
separators), an optional multiplier (万, 亿, 万亿) and a unit from
:data:`spatial.quantities.UNITS`, embedded between Chinese phrases. The
extractor must return the value with the multiplier applied, the base unit,
and a span that indexes the text. A second property feeds arbitrary text and
checks only that nothing crashes and every span points into the text.

The budget is fixed and derandomised so CI runs the same examples every time.
"""

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spatial import settings as pa_settings
from spatial._errors import ParameterError
from spatial.quantities import UNITS, extract_quantities, targets_table
from spatial.report import read_report
from tests import inputs

FUZZ = settings(max_examples=600, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])

# Phrases around a quantity: Chinese words without digits, ASCII letters,
# qualifiers (约, 超过, 左右 …), 第 (ranks) or characters that would extend a
# unit (次 after 人, 百分点 after 个).
_WORDS = inputs.QUANTITY_WORDS
_MARKS = [*inputs.QUANTITY_MARKS, ""]
phrase = st.lists(st.sampled_from(_WORDS), min_size=0, max_size=4).map("".join)

# The brief's units first, then every other unit the extractor knows
# (年 is a calendar year for four-digit numbers and 位 needs 第: tested apart).
_UNITS = ["%", "公里", "亩", "处", "套", "个", "家", "元", "平方米", "微克/立方米"] + [
    u for u in UNITS if u not in {"年"}]
_MULTS = inputs.MULTIPLIERS


@st.composite
def number_text(draw) -> tuple[str, float]:
    """A number as the report prints it, and its value."""
    whole = draw(st.integers(min_value=0, max_value=9_999_999))
    style = draw(st.sampled_from(["int", "dec", "sep"]))
    if style == "dec":
        frac = draw(st.text("0123456789", min_size=1, max_size=3))
        text = f"{whole}.{frac}"
    elif style == "sep":
        text = f"{whole:,}"
    else:
        text = str(whole)
    return text, float(text.replace(",", ""))


@st.composite
def embedded_quantity(draw):
    num, value = draw(number_text())
    mult = draw(st.sampled_from(sorted(_MULTS)))
    unit = draw(st.sampled_from(_UNITS))
    gap = draw(st.sampled_from(["", " "]))  # the report often spaces numbers: "1.16 万亩"
    left = draw(phrase) + draw(st.sampled_from(_MARKS[:-1])) + draw(phrase)
    right = draw(st.sampled_from(_MARKS)) + draw(phrase)
    written = f"{num}{gap}{mult}{unit}"
    return left + " " * draw(st.integers(0, 1)) + written + right, num, value * _MULTS[mult], mult, unit


@FUZZ
@given(embedded_quantity())
def test_value_unit_and_span_come_back(case):
    text, num, value, mult, unit = case
    found = extract_quantities(text)
    assert len(found) == 1, (text, found)
    q = found[0]
    assert math.isclose(q.value, value, rel_tol=1e-12), (text, q)
    assert q.multiplier == _MULTS[mult]
    assert q.unit == ("%" if unit == "％" else unit)
    assert q.unit_as_written == mult + unit
    assert q.kind == UNITS[unit]
    assert 0 <= q.start < q.end <= len(text)
    assert text[q.start:q.end] == q.raw
    assert q.raw.startswith(num) and q.raw.endswith(unit)


@FUZZ
@given(st.lists(embedded_quantity(), min_size=2, max_size=5))
def test_several_quantities_in_one_sentence(cases):
    text = "、".join(c[0] for c in cases)
    found = extract_quantities(text)
    assert [round(q.value, 6) for q in found] == [round(c[2], 6) for c in cases], text
    assert [q.unit for q in found] == [("%" if c[4] == "％" else c[4]) for c in cases]
    ends = [q.end for q in found]
    assert ends == sorted(ends)
    for q in found:
        assert text[q.start:q.end] == q.raw


@FUZZ
@given(st.integers(min_value=1900, max_value=2099), phrase)
def test_calendar_years_are_not_durations(year, words):
    assert extract_quantities(f"到{year}年{words}") == []
    assert extract_quantities(f"{words}{year} 年") == []


_NOISE = st.one_of(
    st.text(max_size=60),
    st.lists(st.one_of(st.sampled_from(_UNITS + list(_MULTS) + [
        "第", "位", "年", "约", "超过", "左右", "以上", "余", "多", "<sub>", "</sub>", "PM", ",", ".",
        "０", "１", "٣", "5G", "（间）", "\n", " "]), st.text("0123456789.,", max_size=6),
        st.sampled_from(_WORDS)), max_size=30).map("".join),
)


@settings(max_examples=500, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(_NOISE)
def test_arbitrary_text_never_crashes_and_spans_index_it(text):
    for q in extract_quantities(text):
        assert 0 <= q.start < q.end <= len(text)
        assert text[q.start:q.end] == q.raw
        assert q.unit in UNITS or q.unit in {"%", "位"}
        assert not math.isnan(q.value)


def test_targets_table_on_the_seed_report_has_only_known_units():
    # the real report end to end: every paired row has units the table knows
    table = targets_table(read_report(pa_settings.DEFAULT_REPORT))
    assert len(table) > 0
    for column in table.columns:
        if "unit" in column:
            assert set(table[column].dropna()) <= set(UNITS) | {"%", "位"}


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(st.one_of(st.none(), st.integers(), st.floats(), st.binary(max_size=20), st.lists(st.text(max_size=3))))
def test_text_that_is_not_a_str_is_refused(value):
    try:
        extract_quantities(value)
    except ParameterError as exc:
        assert str(exc).startswith("text 须为文本，收到 ") and type(value).__name__ in str(exc)
    else:
        raise AssertionError(f"{value!r} was accepted")
