"""Property tests: the geocoder on random text and on gazetteer names mixed with noise.

Whatever the text, :meth:`Geocoder.find_mentions` must not crash, every
mention's span must index the text it was given, and no resolved place may lie
outside Shandong (the gazetteer is Jinan's; a point elsewhere would be a data
or matching error). Names of the shipped gazetteer joined with noise must each
be found again, with spaces and full-width forms inside them.

The budget is fixed and derandomised so CI runs the same examples every time.
"""

import json

import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spatial._errors import ParameterError
from spatial.gazetteer import normalise_name
from spatial.geocode import PRECISION_ORDER, Geocoder
from tests import inputs

FUZZ = settings(max_examples=400, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

SHANDONG = inputs.SHANDONG

GEOCODER = Geocoder.default()
GAZ = GEOCODER.gazetteer
NAMES = sorted({n for n in GAZ["name"] if len(normalise_name(n)) >= 2})
ALIASES = sorted({a.strip() for cell in GAZ["aliases"].dropna() for a in str(cell).split("|")
                  if len(normalise_name(a)) >= 2})

# Noise that is neither a name nor able to extend one: punctuation, spaces,
# digits, Latin letters and control/format characters.
_SEPARATORS = st.sampled_from(["，", "。", "、", "；", "\n", "\n\n", " ， ", "（", "）", "“", "”", ";"])
_NOISE = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Lo",)), max_size=6)


def _in_shandong(geom) -> bool:
    x0, y0, x1, y1 = shapely.bounds(geom)
    return SHANDONG[0] <= x0 and x1 <= SHANDONG[2] and SHANDONG[1] <= y0 and y1 <= SHANDONG[3]


def _check_mentions(text: str):
    mentions = GEOCODER.find_mentions(text)
    for m in mentions:
        assert 0 <= m.start < m.end <= len(text), (text, m)
        assert text[m.start:m.end] == m.text, (text, m)
        assert m.precision in PRECISION_ORDER
        if m.place_id is not None:
            geom = GAZ.loc[m.place_id, "geometry"]
            assert geom is None or _in_shandong(geom), (m, geom)
            # what was matched is the name or an alias of that place
            keys = {normalise_name(GAZ.loc[m.place_id, "name"])} | {
                normalise_name(a) for a in str(GAZ.loc[m.place_id, "aliases"] or "").split("|")}
            assert normalise_name(m.text) in keys, (m, keys)
    starts = [m.start for m in mentions]
    assert starts == sorted(starts)
    return mentions


def test_shipped_gazetteer_lies_in_shandong():
    located = GAZ[GAZ.geometry.notna()]
    assert len(located) > 100
    assert all(_in_shandong(g) for g in located.geometry)


@FUZZ
@given(st.text(max_size=200))
def test_random_text_never_crashes(text):
    _check_mentions(text)


@FUZZ
@given(st.lists(st.one_of(st.sampled_from(NAMES + ALIASES), st.text(max_size=3),
                          st.sampled_from(["公园", "湿地", "大桥", "新建", "等", "和", " ", "\u3000"])),
                max_size=20).map("".join))
def test_names_glued_to_noise_never_crash(text):
    _check_mentions(text)


@st.composite
def names_with_noise(draw):
    """Gazetteer names separated by noise; a name may be spaced out or full-width."""
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=6))
    pieces, shown = [], []
    for name in names:
        form = draw(st.sampled_from(["plain", "spaced", "fullwidth"]))
        if form == "spaced":  # PDF conversions scatter spaces through names
            name_text = " ".join(name)
        elif form == "fullwidth":  # an IME may give full-width Latin letters and digits
            name_text = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in name)
        else:
            name_text = name
        pieces += [draw(_NOISE), draw(_SEPARATORS), name_text, draw(_SEPARATORS)]
        shown.append(name)
    return "".join(pieces) + draw(_NOISE), shown


@FUZZ
@given(names_with_noise())
def test_every_name_comes_back_between_noise(case):
    text, names = case
    mentions = _check_mentions(text)
    resolved = [m for m in mentions if m.place_id is not None]
    found = [normalise_name(GAZ.loc[m.place_id, "name"]) for m in resolved]
    # each name is found as itself, or inside a longer gazetteer name it is part of
    # (noise such as "湿地" may extend it): leftmost-longest matching
    for name in names:
        key = normalise_name(name)
        assert any(key == f or key in normalise_name(m.text) or normalise_name(m.text) in key
                   for f, m in zip(found, resolved, strict=True)), (text, name, [m.text for m in resolved])


@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(st.lists(st.one_of(st.text(max_size=40), names_with_noise().map(lambda c: c[0])),
                min_size=1, max_size=8))
def test_geocode_items_stays_in_shandong(texts):
    items = pd.DataFrame({"item_id": [f"x{i}" for i in range(len(texts))], "text": texts})
    out, summary = GEOCODER.geocode_items(items)
    # one feature per site: an item drawn at n sites has n rows, all others one
    assert out["item_id"].nunique() == len(texts) and summary.items == len(texts)
    assert str(out.crs) == "EPSG:4326"
    for geom, status, mentions in zip(out.geometry, out["geocode_status"], out["mentions"], strict=True):
        assert status in {"place", "district", "unresolved", "none", "other_city", "not_a_place"}
        if geom is None or geom.is_empty:
            # another city's place or a phrase that is no place is never drawn
            assert status in {"unresolved", "none", "other_city", "not_a_place"}
        else:
            assert geom.geom_type == "Point" and _in_shandong(geom)
        for m in json.loads(mentions):
            assert m["start"] < m["end"]
    assert summary.mentions == (summary.mentions_resolved + summary.mentions_unresolved
                                + summary.mentions_other_city + summary.mentions_not_a_place)


def test_an_ellipsis_does_not_switch_off_normalisation():
    # regression: one character whose NFKC form is longer ("……" -> "......")
    # made find_mentions match the raw text, so names with full-width
    # brackets were lost
    pid = GEOCODER.lookup("齐鲁号欧亚班列（济南）集结中心")["id"]
    for tail in ("", "……", "，面积 5 ㎡", "，气温 5 ℃"):
        text = "建设齐鲁号欧亚班列（济南）集结中心" + tail
        assert [m.place_id for m in _check_mentions(text) if m.place_id] == [pid], text


@pytest.mark.parametrize("text", [
    "济南" * 5000,                      # long, repetitive
    "\u200b".join("济南黄河大桥"),      # zero-width spaces inside a name
    "ﬁ济南ﬀ" * 10,                      # NFKC ligatures change the length
    "e\u0301济南",                      # combining accent: NFKC composes two characters
    "\x00\x1b[31m济南\x1b[0m",          # NUL and a terminal escape
    "𠀀𠀁济南𪚥",                          # astral-plane Han characters
])
def test_awkward_texts(text):
    _check_mentions(text)


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(st.one_of(st.none(), st.integers(), st.floats(), st.binary(max_size=20), st.lists(st.text(max_size=3))))
def test_text_that_is_not_a_str_is_refused(value):
    with pytest.raises(ParameterError, match="文本须为字符串"):
        GEOCODER.find_mentions(value)
