"""Tests of spatial.siting.targets: the report's own counts, with their sentences."""

from __future__ import annotations

import pytest

from spatial import store
from spatial._errors import ParameterError
from spatial.siting.targets import TARGET_RULES, target_for
from spatial.vocab import LABELS


@pytest.fixture(scope="module")
def targets(seed_store):
    return store.read_table("targets", path=seed_store)


@pytest.mark.parametrize("ftype,count,unit,phrase", [
    ("park", 100, "处", "新建各类公园"),
    ("kindergarten", 35, "所", "开工新建改扩建幼儿园"),
    ("elderly_canteen", 200, "处", "建成长者食堂"),
    ("library", 8, "个", "新建泉城书房"),
    ("primary_school", 20, "所", "开工新建改扩建中小学校"),
])
def test_the_jinan_report_targets_are_found_with_their_sentence(targets, ftype, count, unit, phrase):
    t = target_for(ftype, targets)
    assert (t.count, t.unit, t.phrase, t.year) == (count, unit, phrase, 2023)
    assert f"{count}" in t.sentence and phrase[-3:] in t.sentence  # the report's own words
    assert t.item_id.startswith("p3-") and t.describe().startswith("2023 年目标：")


def test_the_park_target_carries_last_years_result(targets):
    assert target_for("park", targets).previous == 55  # 新建公园55处 in 2022


def test_a_percentage_row_of_the_same_subject_is_not_taken_as_a_count(targets):
    assert target_for("kindergarten", targets).count == 35  # not "普惠性幼儿园覆盖率 90%"


def test_a_type_without_a_target_says_which_types_have_one(targets):
    with pytest.raises(ParameterError, match="--count") as err:
        target_for("community_health_station", targets)
    assert "公园" in str(err.value) and "长者食堂" in str(err.value)


def test_a_type_without_a_rule_and_a_store_without_targets_are_clear_errors(targets):
    with pytest.raises(ParameterError, match="没有对应的报告目标规则"):
        target_for("bus_stop", targets)
    with pytest.raises(ParameterError, match="没有报告目标表"):
        target_for("park", None)


def test_every_rule_names_a_known_facility_type():
    assert {r.facility_type for r in TARGET_RULES} <= set(LABELS["facility_type"])
