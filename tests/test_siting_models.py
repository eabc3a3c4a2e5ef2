"""Tests of spatial.siting.models and greedy: optima checked by enumerating every choice of sites."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import sparse

from spatial._errors import EmptyLayerError, ParameterError
from spatial.siting import models
from spatial.siting.greedy import greedy_cover, greedy_median
from spatial.siting.models import merge_rows, solve_lscp, solve_mclp, solve_pmedian


def instance(seed: int, n_demand: int = 50, n_cand: int = 11, reach: float = 260.0):
    rng = np.random.default_rng(seed)
    demand = rng.uniform(0, 1000, (n_demand, 2))
    cand = rng.uniform(0, 1000, (n_cand, 2))
    w = rng.integers(1, 100, n_demand).astype(float)
    d = np.hypot(demand[:, None, 0] - cand[None, :, 0], demand[:, None, 1] - cand[None, :, 1])
    before = rng.random(n_demand) < 0.15
    return d, w, before, reach


def covered(d, w, before, reach, chosen):
    return float(w[~before & (d[:, list(chosen)] <= reach).any(axis=1)].sum())


def enumerate_mclp(d, w, before, reach, p):
    return max(covered(d, w, before, reach, s) for s in itertools.combinations(range(d.shape[1]), p))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("p", [1, 3, 4])
def test_mclp_gives_the_enumerated_optimum(seed, p):
    d, w, before, reach = instance(seed)
    best = enumerate_mclp(d, w, before, reach, p)
    sol = solve_mclp(sparse.csr_matrix(d <= reach), w, p, covered_before=before, rel_gap=0.0)
    assert sol.objective == pytest.approx(best)
    assert covered(d, w, before, reach, sol.chosen) == pytest.approx(best)  # the sites really cover that many
    assert len(sol.chosen) == p and len(set(sol.chosen)) == p
    assert sol.status == "optimal" and sol.proven_optimal and sol.gap <= 1e-9
    assert sol.bound >= best - 1e-6


@pytest.mark.parametrize("seed", range(4))
def test_the_greedy_bound_is_never_below_the_optimum(seed):
    d, w, before, reach = instance(seed)
    keep = ~before
    path = greedy_cover(sparse.csr_matrix(d[keep] <= reach), w[keep], 5)
    for k in range(1, 6):
        best = enumerate_mclp(d, w, before, reach, k)
        assert path.value[k - 1] <= best + 1e-9  # a greedy solution
        assert path.bound[k - 1] >= best - 1e-9  # and a valid bound
        assert path.value[k - 1] >= (1 - 1 / np.e) * best  # Nemhauser-Wolsey-Fisher


@pytest.mark.parametrize("seed", range(4))
def test_lscp_gives_the_enumerated_fewest_sites(seed):
    d, w, before, reach = instance(seed, reach=300.0)
    needed = 0.6 * w[~before].sum()
    fewest = next(k for k in range(1, d.shape[1] + 1)
                  if enumerate_mclp(d, w, before, reach, k) >= needed)
    sol = solve_lscp(sparse.csr_matrix(d <= reach), w, needed, covered_before=before, rel_gap=0.0)
    assert sol.objective == fewest and len(sol.chosen) == fewest
    assert covered(d, w, before, reach, sol.chosen) >= needed
    assert sol.bound == fewest and sol.status == "optimal"


def enumerate_median(d, w, cur, p, limit):
    dm = np.where(d <= limit, d, np.inf)
    return min(float(w @ np.minimum(cur, dm[:, list(s)].min(axis=1)))
               for s in itertools.combinations(range(d.shape[1]), p))


def distances(d, limit):
    rows, cols = np.nonzero(d <= limit)
    return sparse.csr_matrix((d[rows, cols], (rows, cols)), shape=d.shape)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("p", [1, 3])
def test_pmedian_gives_the_enumerated_optimum(seed, p):
    d, w, _before, _ = instance(seed, n_demand=40, n_cand=9)
    limit = 600.0
    cur = np.minimum(np.random.default_rng(seed).uniform(100, 900, len(w)), limit)
    best = enumerate_median(d, w, cur, p, limit)
    sol = solve_pmedian(distances(d, limit), w, cur, p, rel_gap=0.0)
    assert sol.objective == pytest.approx(best)
    assert sol.status == "optimal" and sol.bound <= best + 1e-6


def test_pmedian_greedy_bound_is_valid_when_the_model_is_too_large():
    d, w, _b, _ = instance(2, n_demand=40, n_cand=9)
    cur = np.full(len(w), 600.0)
    best = enumerate_median(d, w, cur, 3, 600.0)
    sol = solve_pmedian(distances(d, 600.0), w, cur, 3, max_pairs=10)
    assert sol.status == "greedy_fallback" and not sol.proven_optimal
    tol = 1e-9 * best
    assert sol.bound <= best + tol and best <= sol.objective + tol  # the truth lies between bound and solution
    path = greedy_median(distances(d, 600.0), w, cur, 3)
    assert float(w @ cur) - path.value[-1] == pytest.approx(sol.objective)


@pytest.mark.parametrize("seed", [3, 4])
def test_the_pmedian_core_path_is_proven_against_the_whole_model(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    demand = rng.uniform(0, 3000, (300, 2))
    cand = rng.uniform(0, 3000, (60, 2))
    w = rng.integers(1, 50, 300).astype(float)
    d = np.hypot(demand[:, None, 0] - cand[None, :, 0], demand[:, None, 1] - cand[None, :, 1])
    cur = np.full(300, 700.0)
    D = distances(d, 700.0)
    whole = solve_pmedian(D, w, cur, 6, rel_gap=0.0, time_limit_s=120)
    assert whole.status == "optimal" and "core" not in whole.details
    monkeypatch.setattr(models, "WHOLE_MEDIAN_PAIRS", 10)
    core = solve_pmedian(D, w, cur, 6, rel_gap=1e-3, core_size=15)
    assert core.details["core"] >= 15 and core.details["lagrange_iterations"] > 0
    assert core.bound <= whole.objective + 1e-6  # a valid lower bound on the walking
    assert core.objective <= whole.objective * (1 + core.gap) + 1e-6
    assert core.status == "optimal" and core.gap <= 1e-3


def test_a_zero_distance_pair_counts():
    d = np.array([[0.0, 50.0], [400.0, 0.0]])
    sol = solve_pmedian(distances(d, 500), np.array([10.0, 1.0]), np.array([300.0, 300.0]), 1)
    assert list(sol.chosen) == [0] and sol.objective == pytest.approx(0 + 1 * 300)


def big_instance(seed=7, side=70, spacing=150.0, reach=400.0):
    """A grid town of side² demand cells with clustered residents, candidates every ``spacing`` m."""
    rng = np.random.default_rng(seed)
    xs, ys = np.meshgrid(np.arange(side) * 100.0, np.arange(side) * 100.0)
    dx, dy = xs.ravel(), ys.ravel()
    w = 50 * np.exp(-np.hypot(dx - 2000, dy - 3000) / 1500) + 30 * np.exp(-np.hypot(dx - 5000, dy - 1500) / 1000)
    w *= rng.lognormal(0, 0.4, len(w))
    cx, cy = np.meshgrid(np.arange(0, side * 100, spacing), np.arange(0, side * 100, spacing))
    from scipy.spatial import cKDTree

    pairs = cKDTree(np.c_[dx, dy]).sparse_distance_matrix(cKDTree(np.c_[cx.ravel(), cy.ravel()]), reach,
                                                          output_type="ndarray")
    cover = sparse.csr_matrix((np.ones(len(pairs)), (pairs["i"], pairs["j"])), shape=(len(dx), cx.size))
    return cover, w


@pytest.mark.parametrize("seed", [7, 8])
def test_the_core_path_is_proven_against_the_whole_model(seed, monkeypatch):
    cover, w = big_instance(seed=seed, side=32, spacing=200.0, reach=350.0)
    whole = solve_mclp(cover, w, 8, time_limit_s=60, rel_gap=1e-6)  # 256 candidates: HiGHS gets it whole
    assert whole.status == "optimal" and "core" not in whole.details
    monkeypatch.setattr(models, "WHOLE_MODEL_CANDIDATES", 10)
    monkeypatch.setattr(models, "WHOLE_MODEL_ROWS", 10)
    core = solve_mclp(cover, w, 8, time_limit_s=60, rel_gap=1e-3, core_size=30)
    assert core.details["core"] >= 30 and core.details["lagrange_iterations"] > 0
    # the core's bound is valid for the whole model, and its solution within its own proven gap
    assert core.bound >= whole.objective - 1e-6
    assert core.objective >= whole.objective * (1 - core.gap) - 1e-6
    assert core.status == "optimal" and core.gap <= 1e-3


def test_a_time_limit_keeps_the_best_solution_and_says_it_is_not_proven():
    cover, w = big_instance(side=60, spacing=100.0)
    sol = solve_mclp(cover, w, 15, time_limit_s=0.2, rel_gap=0.0)
    greedy = greedy_cover(cover, w, 15).value[-1]
    assert len(sol.chosen) == 15
    assert sol.objective >= greedy - 1e-6  # never worse than the greedy start
    assert sol.status == "time_limit" and not sol.proven_optimal
    assert sol.bound >= sol.objective and sol.gap > 0


def test_merge_rows_is_exact_and_keeps_the_residents():
    A = sparse.csr_matrix(np.array([[1, 0, 1], [1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 1, 0]], dtype=float))
    merged, w = merge_rows(A, np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    rows = {tuple(merged[i].indices): w[i] for i in range(merged.shape[0])}
    assert rows == {(0, 2): 3.0, (1,): 8.0, (0, 1): 4.0}


def test_all_coverable_residents_covered_by_fewer_sites_than_asked():
    d = np.array([[0.0, 900.0, 900.0], [900.0, 0.0, 900.0]])
    sol = solve_mclp(sparse.csr_matrix(d <= 100), np.array([5.0, 7.0]), 3)
    assert sol.status == "all_covered" and sorted(sol.chosen) == [0, 1] and sol.objective == 12


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "3"])
def test_a_count_that_is_not_a_positive_whole_number_is_refused(bad):
    with pytest.raises(ParameterError, match="正整数"):
        solve_mclp(sparse.csr_matrix(np.ones((2, 2))), np.ones(2), bad)


def test_nothing_left_to_cover_is_a_clear_error():
    with pytest.raises(EmptyLayerError, match="没有可新增覆盖的居民"):
        solve_mclp(sparse.csr_matrix(np.ones((2, 2))), np.ones(2), 1, covered_before=np.array([True, True]))


def test_an_unreachable_share_is_a_clear_error():
    with pytest.raises(ParameterError, match="全部候选点"):
        solve_lscp(sparse.csr_matrix(np.array([[1.0], [0.0]])), np.array([1.0, 5.0]), 3.0)
