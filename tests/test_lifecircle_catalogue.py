"""The standards catalogue: every row says what it stands on; the requirements are well formed."""

from __future__ import annotations

import pytest

from spatial import settings, vocab
from spatial._errors import UnknownPresetError
from spatial.lifecircle import catalogue


def test_every_row_is_sourced_and_labelled():
    rows = catalogue.catalogue()
    assert len(rows) >= 50
    assert set(rows["verification"]) <= set(catalogue.VERIFICATION)
    assert (rows["source"].str.len() > 10).all() and (rows["clause"].str.len() > 0).all()
    assert not vocab.unlabelled(rows["tier"], "tier")
    assert not vocab.unlabelled(rows["standard"], "standard")
    for cell in rows["facility_types"]:
        assert not vocab.unlabelled(cell.split("|"), "facility_type"), cell
    # an unverified row says so in its note
    unverified = rows[rows["verification"] == "unverified"]
    assert unverified["note"].str.contains("unverified").all()


@pytest.mark.parametrize("standard", list(catalogue.STANDARDS))
def test_requirements_of_each_standard(standard):
    reqs = catalogue.requirements(standard)
    assert reqs and len({r.id for r in reqs}) == len(reqs)
    for r in reqs:
        assert r.tier in catalogue.TIERS[catalogue.STANDARDS[standard]]
        assert r.facility_types and all(a.distance_m > 0 for a in r.alternatives)
        assert r.describe() and "≤" in r.describe()


def test_tier_distances_and_minutes():
    assert catalogue.tier_distance("gb50180", "5min") == 300.0
    assert catalogue.tier_distance("gb50180", "15min") == 1000.0
    assert catalogue.tier_distance("gb50180", "block") is None
    mofcom = {r.id: r for r in catalogue.requirements("mofcom")}
    assert mofcom["convenience"].distance_m == 5 * settings.WALK_SPEED_M_PER_MIN
    assert mofcom["pharmacy"].distance_m == 8 * settings.WALK_SPEED_M_PER_MIN  # MOFCOM's 8 minutes, not 10
    assert mofcom["repair"].tier == "15min"  # the source read puts repair at 15 minutes


def test_park_indicator_has_two_size_bands_and_a_threshold():
    park = {r.id: r for r in catalogue.requirements("chengshi-tijian")}["park_service"]
    bands = sorted((a.min_area_m2, a.max_area_m2, a.distance_m) for a in park.alternatives)
    assert bands == [(2000.0, 5000.0, 300.0), (5000.0, None, 500.0)]
    thr = catalogue.thresholds("park_service")
    assert set(thr["standard"]) == {"gb55014", "gbt51346"}
    assert (thr["verification"] == "standard_text").all()


def test_unknown_standard():
    with pytest.raises(UnknownPresetError, match="chengshi-tijian"):
        catalogue.requirements("gb50180-2002")
