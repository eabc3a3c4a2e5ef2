"""One vocabulary: every code the layers carry has a Chinese label."""

from __future__ import annotations

import pytest

from spatial import vocab
from spatial.gazetteer import CATEGORIES as PLACE_CATEGORIES
from spatial.gazetteer import PLACE_KINDS, PRECISIONS
from spatial.report import CATEGORIES as ITEM_CATEGORIES


def test_every_coded_value_of_every_seed_layer_has_a_label(seed_build) -> None:
    missing = {}
    for name, frame in seed_build.layers.items():
        for column, domain in vocab.labelled_frame_columns(frame.columns).items():
            lacking = vocab.unlabelled(frame[column].dropna().astype(str), domain)
            if lacking:
                missing[f"{name}.{column}"] = sorted(lacking)
    assert not missing, f"codes without a label: {missing}"


def test_the_check_finds_a_missing_label() -> None:
    assert vocab.unlabelled(["exact", "surveyed"], "precision") == {"surveyed"}
    assert vocab.unlabelled(["parks|no_such"], "category") == {"no_such"}


@pytest.mark.parametrize(("domain", "codes"), [
    ("precision", PRECISIONS),
    ("category", ITEM_CATEGORIES),
    ("category", PLACE_CATEGORIES),
    ("kind", PLACE_KINDS),
])
def test_the_library_vocabularies_are_covered(domain: str, codes: tuple[str, ...]) -> None:
    assert not vocab.unlabelled(codes, domain)


def test_labels_are_chinese_and_never_the_code() -> None:
    for domain, entries in vocab.LABELS.items():
        for code, (zh, en) in entries.items():
            assert zh and en, (domain, code)
            if domain not in {"unit", "datum"}:
                assert any("\u4e00" <= ch <= "\u9fff" for ch in zh), (domain, code, zh)


def test_label_forms() -> None:
    assert vocab.label("crossing_status", "under_construction") == "在建"
    assert vocab.label("crossing_status", "under_construction", en=True) == "在建 (under construction)"
    assert vocab.label("precision", None) == "" and vocab.label("precision", float("nan")) == ""
    assert vocab.label_many("category", "parks|greenways") == "公园、绿道"
    assert vocab.column_label("population_covered_pct") == "人口覆盖率 (%)"
