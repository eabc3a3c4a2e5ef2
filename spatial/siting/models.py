"""The siting models — maximal covering, set covering, p-median — solved with HiGHS, with their proof.

* **MCLP** (maximal covering, Church & ReVelle 1974): choose p sites that cover
  the most residents not yet covered; the existing facilities stay, and the
  residents they already reach are left out of the objective.
* **LSCP** (set covering, Toregas et al. 1971, in its partial form): the fewest
  sites that bring coverage up to a share of all residents (the standard's
  80 % or 90 %).
* **p-median** (Hakimi 1964): choose p sites that save the most walking —
  every resident walks to the nearest facility, existing or new.

Every solve returns a :class:`Solution` with the objective, a bound no
solution can beat, the relative gap between them, the solver and the status:
``optimal`` (the gap is within the tolerance), ``time_limit`` (the best
solution found so far, *not proven optimal*) or ``greedy_fallback`` (the exact
model was too large; the greedy solution with its bound).

How the MCLP is solved at city size: greedy start → Lagrangian bound over all
candidates (:mod:`spatial.siting._lagrange`) → HiGHS MIP on a core of the
candidates the bound says matter, started from the best solution known →
the core's result proven globally with the Lagrangian bound of every
solution that leaves the core; the core grows when that proof falls short.
Small models are simply solved whole by HiGHS.

Gap convention (as HiGHS's): ``|bound - objective| / |objective|``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from .._errors import EmptyLayerError, ParameterError
from ._highs import highs_version, solve_mip
from ._lagrange import bound_outside, mclp_lagrange, median_lagrange
from .greedy import GreedyPath, greedy_cover, greedy_median

__all__ = ["MODELS", "Solution", "solve_lscp", "solve_mclp", "solve_pmedian"]

#: The models, by code (labels in :mod:`spatial.vocab`, domain ``siting_model``).
MODELS: tuple[str, ...] = ("mclp", "lscp", "pmedian")

#: Relative gap at which a solution counts as optimal: 0.5 %. Residents per 100 m cell are
#: estimates known to a few per cent at best; a tighter proof changes no planner's decision and,
#: at city size, costs most of the time limit (benchmarks/bench_siting.py: 0.12 % proven in 19 s,
#: 0.10 % in 41 s).
DEFAULT_REL_GAP = 5e-3

#: Candidates up to which the MCLP is given to HiGHS whole (beyond: core + Lagrangian bound).
WHOLE_MODEL_CANDIDATES = 400

#: Merged demand rows up to which the MCLP is given to HiGHS whole, whatever the candidates.
WHOLE_MODEL_ROWS = 3_000

#: Coverage pairs beyond which no MIP is built at all (greedy with its Lagrangian bound).
MAX_COVER_PAIRS = 40_000_000

#: Assignment pairs up to which the p-median MIP is given to HiGHS whole.
WHOLE_MEDIAN_PAIRS = 20_000

#: Assignment pairs beyond which no p-median MIP is built (greedy with its Lagrangian bound).
MAX_MEDIAN_PAIRS = 20_000_000


@dataclass(frozen=True)
class Solution:
    """A solved siting model.

    Attributes
    ----------
    model : str
        ``"mclp"``, ``"lscp"`` or ``"pmedian"``.
    chosen : numpy.ndarray of int64
        Candidate positions chosen (in the greedy build order where known).
    objective : float
        MCLP: residents newly covered; LSCP: number of sites; p-median:
        resident-metres walked to the nearest facility (all residents).
    bound : float
        No solution is better: an upper bound for MCLP, a lower bound for
        LSCP and p-median.
    gap : float
        ``|bound - objective| / |objective|`` (0 when both are 0).
    status : str
        ``optimal``, ``time_limit``, ``greedy_fallback`` or ``all_covered``
        (vocab domain ``solve_status``).
    solver : str
        What solved it, e.g. ``"HiGHS 1.16.0 MIP (core of 300 of 10,000 candidates) + Lagrangian bound"``.
    time_s : float
        Wall time, seconds.
    details : dict
        Figures on the way (greedy value, Lagrangian bound, core size …).
    """

    model: str
    chosen: np.ndarray
    objective: float
    bound: float
    gap: float
    status: str
    solver: str
    time_s: float
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def proven_optimal(self) -> bool:
        """True when the gap is within the tolerance the solve was asked for."""
        return self.status in ("optimal", "all_covered")


def _gap(objective: float, bound: float) -> float:
    if not (np.isfinite(objective) and np.isfinite(bound)):
        return float("inf")
    diff = abs(bound - objective)
    return 0.0 if diff <= 1e-9 * max(1.0, abs(objective)) else diff / max(abs(objective), 1e-12)


def _check_count(p: object, what: str = "选址数量 count") -> int:
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or int(p) < 1:
        msg = f"{what} 须为正整数，收到 {p!r} ({what} must be a positive whole number)"
        raise ParameterError(msg)
    return int(p)


# --------------------------------------------------------------------------- reduction


@dataclass(frozen=True)
class _Reduced:
    """Coverage rows that matter, identical rows merged: what the MCLP is solved on."""

    A: sparse.csr_matrix  # (groups, n_candidates), 1.0 where a candidate covers the group
    w: np.ndarray  # residents per group
    n_demand: int  # demand rows before merging


def _ones(A: sparse.csr_matrix) -> sparse.csr_matrix:
    A = sparse.csr_matrix(A)
    A.sort_indices()
    return sparse.csr_matrix((np.ones(A.nnz), A.indices, A.indptr), shape=A.shape)


def merge_rows(A: sparse.csr_matrix, w: np.ndarray) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Merge demand rows covered by exactly the same candidates (their residents add up).

    Rows are grouped by two random projections of their candidate sets and
    the groups are then checked entry by entry, so a hash collision can never
    merge two different rows.
    """
    A = _ones(A)
    if A.shape[0] == 0:
        return A, np.asarray(w, dtype=np.float64)
    proj = np.random.default_rng(20230101).random((A.shape[1], 2))
    h = A @ proj
    key = pd.MultiIndex.from_arrays([np.diff(A.indptr), h[:, 0], h[:, 1]])
    codes, uniques = pd.factorize(key)
    first = np.full(len(uniques), -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes))[::-1]
    diff = A - A[first[codes]]
    bad = np.diff(diff.tocsr().indptr) > 0  # differs from its group's first row: keep it alone
    if bad.any():
        codes = codes.copy()
        codes[bad] = len(uniques) + np.arange(int(bad.sum()))
        first = np.concatenate([first, np.flatnonzero(bad)])
    weights = np.bincount(codes, weights=np.asarray(w, dtype=np.float64), minlength=len(first))
    return A[first], weights


def _reduce(cover: sparse.csr_matrix, weights: np.ndarray, covered_before: np.ndarray | None) -> _Reduced:
    A = _ones(cover)
    w = np.asarray(weights, dtype=np.float64)
    keep = (np.diff(A.indptr) > 0) & (w > 0)
    if covered_before is not None:
        keep &= ~np.asarray(covered_before, dtype=bool)
    merged, mw = merge_rows(A[keep], w[keep])
    return _Reduced(merged, mw, int(keep.sum()))


# --------------------------------------------------------------------------- MCLP


def _mclp_mip(red: _Reduced, p: int, cols: np.ndarray, start: np.ndarray, *, time_limit_s: float,
              rel_gap: float) -> tuple[np.ndarray, float, float, str, float]:
    """HiGHS on the MCLP restricted to candidates ``cols``: (chosen, objective, bound, status, time)."""
    sub = red.A[:, cols].tocsr()
    rows = np.diff(sub.indptr) > 0
    S, ws = merge_rows(sub[rows], red.w[rows])
    nd, nc = S.shape
    if p >= nc:
        return cols.copy(), float(ws.sum()), float(ws.sum()), "optimal", 0.0
    coo = S.tocoo()
    matrix = sparse.csc_matrix(
        (np.r_[-np.ones(coo.nnz), np.ones(nd), np.ones(nc)],
         (np.r_[coo.row, np.arange(nd), np.full(nc, nd)], np.r_[coo.col, nc + np.arange(nd), np.arange(nc)])),
        shape=(nd + 1, nc + nd),
    )
    x0 = np.isin(cols, start).astype(np.float64)
    y0 = np.minimum(1.0, S @ x0)
    out = solve_mip(
        cost=np.r_[np.zeros(nc), ws], matrix=matrix,
        row_lower=np.r_[np.full(nd, -np.inf), p], row_upper=np.r_[np.zeros(nd), p],
        col_lower=np.zeros(nc + nd), col_upper=np.ones(nc + nd),
        integer=np.r_[np.ones(nc, dtype=bool), np.zeros(nd, dtype=bool)], maximize=True,
        start=np.r_[x0, y0] if x0.sum() == p else None, time_limit_s=time_limit_s, rel_gap=rel_gap,
    )
    chosen = cols[np.flatnonzero(out.x[:nc] > 0.5)] if out.has_solution else np.zeros(0, dtype=np.int64)
    return chosen, out.objective, out.bound, out.status, out.time_s


def _value(red: _Reduced, chosen: np.ndarray) -> float:
    """Residents the chosen candidates cover (recomputed, never taken from a solver's word)."""
    if not len(chosen):
        return 0.0
    hit = np.asarray(red.A[:, chosen].sum(axis=1)).ravel() > 0
    return float(red.w[hit].sum())


def _build_order(red: _Reduced, chosen: np.ndarray) -> np.ndarray:
    """The chosen sites in greedy order among themselves (the order a planner would build them)."""
    allowed = np.zeros(red.A.shape[1], dtype=bool)
    allowed[chosen] = True
    path = greedy_cover(red.A, red.w, len(chosen), allowed=allowed)
    rest = np.setdiff1d(chosen, path.order, assume_unique=False)
    return np.concatenate([path.order, rest]).astype(np.int64)


def solve_mclp(
    cover: sparse.csr_matrix,
    weights: np.ndarray,
    p: int,
    *,
    covered_before: np.ndarray | None = None,
    time_limit_s: float = 60.0,
    rel_gap: float = DEFAULT_REL_GAP,
    core_size: int | None = None,
) -> Solution:
    """Maximal covering: p new sites covering the most residents not yet covered.

    Parameters
    ----------
    cover : scipy.sparse.csr_matrix, shape (n_demand, n_candidates)
        A stored entry where a candidate reaches a demand cell within the distance.
    weights : numpy.ndarray, shape (n_demand,)
        Residents per demand cell.
    p : int
        New sites to choose.
    covered_before : numpy.ndarray of bool, optional, keyword-only
        Demand cells the existing facilities already reach (they stay; their
        residents count for nobody new).
    time_limit_s : float, keyword-only
        Wall-time limit of the whole solve, seconds.
    rel_gap : float, keyword-only
        Gap at which the solution counts as optimal.
    core_size : int, optional, keyword-only
        Candidates in the first HiGHS core (default ``max(3p, 100)``).

    Returns
    -------
    Solution
        ``objective`` and ``bound`` in residents newly covered.

    Raises
    ------
    ParameterError
        ``p`` is not a positive whole number.
    EmptyLayerError
        No resident is left that any candidate could newly cover.
    """
    t0 = time.perf_counter()
    p = _check_count(p)
    red = _reduce(cover, weights, covered_before)
    if red.A.shape[0] == 0:
        msg = ("没有可新增覆盖的居民：现有设施已覆盖全部居民，或任何候选点都覆盖不到未覆盖的居民 "
               "(no resident is left that a candidate could newly cover)")
        raise EmptyLayerError(msg)
    details: dict[str, Any] = {"demand_rows": red.n_demand, "merged_rows": int(red.A.shape[0]),
                               "candidates": int(red.A.shape[1])}
    t = time.perf_counter()
    path = greedy_cover(red.A, red.w, p)
    details["reduce_s"] = t - t0
    details["greedy_s"] = time.perf_counter() - t
    details["greedy_value"] = float(path.value[-1])
    details["greedy_bound"] = float(path.bound[-1])
    if len(path.order) < p:  # fewer sites than asked already cover every coverable resident
        value = float(red.w.sum())
        details["useful_sites"] = len(path.order)
        return Solution("mclp", path.order, value, value, 0.0, "all_covered", "贪心 greedy (全部可覆盖居民已覆盖)",
                        time.perf_counter() - t0, details)
    if _gap(details["greedy_value"], details["greedy_bound"]) <= rel_gap:  # the greedy proved itself
        return Solution("mclp", path.order, details["greedy_value"], details["greedy_bound"],
                        _gap(details["greedy_value"], details["greedy_bound"]), "optimal",
                        "贪心 greedy (其上界已证明最优 proven by its own bound)", time.perf_counter() - t0, details)
    useful = np.flatnonzero(np.diff(red.A.tocsc().indptr) > 0)
    if len(useful) <= WHOLE_MODEL_CANDIDATES or red.A.shape[0] <= WHOLE_MODEL_ROWS:
        chosen, _obj, bnd, status, _ = _mclp_mip(red, p, useful, path.order, time_limit_s=time_limit_s,
                                                rel_gap=rel_gap)
        best, best_set = details["greedy_value"], path.order
        if len(chosen) and _value(red, chosen) >= best:
            best, best_set = _value(red, chosen), chosen
        bound = max(min(bnd, details["greedy_bound"]), best)
        gap = _gap(best, bound)
        status = "optimal" if gap <= rel_gap * (1 + 1e-9) else "time_limit"
        return Solution("mclp", _build_order(red, best_set), best, bound, gap, status,
                        f"{highs_version()} MIP", time.perf_counter() - t0, details)
    if red.A.nnz > MAX_COVER_PAIRS:
        return _greedy_with_lagrange(red, p, path, t0, time_limit_s, details)
    return _core_solve(red, p, path, t0, time_limit_s=time_limit_s, rel_gap=rel_gap,
                       core_size=core_size or max(3 * p, 100), details=details)


def _greedy_with_lagrange(red: _Reduced, p: int, path: GreedyPath, t0: float, time_limit_s: float,
                          details: dict[str, Any]) -> Solution:
    lag, _ = mclp_lagrange(red.A, red.w, p, incumbent=float(path.value[-1]), time_limit_s=0.8 * time_limit_s)
    best, best_set = float(path.value[-1]), path.order
    if lag.best_value > best:
        best, best_set = lag.best_value, lag.best_set
    bound = max(min(lag.bound, float(path.bound[-1])), best)
    details["lagrange_bound"] = lag.bound
    return Solution("mclp", _build_order(red, best_set), best, bound, _gap(best, bound), "greedy_fallback",
                    f"贪心 greedy + 拉格朗日界 Lagrangian bound (模型过大 model too large: {red.A.nnz:,} pairs)",
                    time.perf_counter() - t0, details)


def _core_solve(red: _Reduced, p: int, path: GreedyPath, t0: float, *, time_limit_s: float, rel_gap: float,
                core_size: int, details: dict[str, Any]) -> Solution:
    """Lagrangian bound over all candidates, HiGHS on a core, the core's result proven globally."""
    def left() -> float:
        return time_limit_s - (time.perf_counter() - t0)

    best, best_set = float(path.value[-1]), path.order
    lag, lam = mclp_lagrange(red.A, red.w, p, incumbent=best, time_limit_s=max(0.25 * left(), 0.05))
    iterations, lagrange_s, mip_s = lag.iterations, lag.time_s, 0.0
    if lag.best_value > best:
        best, best_set = lag.best_value, lag.best_set
    order = np.argsort(-lag.column_weight, kind="stable")
    core = np.union1d(order[:core_size], best_set)
    bound = min(lag.bound, float(path.bound[-1]))
    rounds = 0
    while left() > 0.05:
        rounds += 1
        chosen, _obj, core_bound, _status, spent = _mclp_mip(red, p, core, best_set, time_limit_s=0.8 * left(),
                                                             rel_gap=rel_gap)
        mip_s += spent
        if len(chosen) == p and (value := _value(red, chosen)) > best:
            best, best_set = value, chosen
        if left() > 0.1 and _gap(best, bound) > rel_gap:  # a better incumbent sharpens the multipliers
            lag2, lam2 = mclp_lagrange(red.A, red.w, p, incumbent=best, time_limit_s=min(0.3 * left(), 20.0),
                                       multipliers=lam)
            iterations += lag2.iterations
            lagrange_s += lag2.time_s
            if lag2.bound < lag.bound:
                lag, lam = lag2, lam2
        outside = bound_outside(lag, p, core)
        bound = max(min(lag.bound, float(path.bound[-1]), max(core_bound, outside)), best)
        if _gap(best, bound) <= rel_gap:
            break
        # grow the core by the candidates whose own bound still beats the incumbent
        c = lag.column_weight
        kth = float(np.partition(c, len(c) - p)[len(c) - p])
        promising = np.flatnonzero(lag.bound - kth + np.minimum(c, kth) > best * (1 + rel_gap))
        grow = np.setdiff1d(promising, core)
        if not len(grow) or len(core) >= 4 * core_size or rounds >= 4:
            break
        grow = grow[np.argsort(-c[grow])][: len(core)]
        core = np.union1d(core, grow)
    gap = _gap(best, bound)
    details.update({"lagrange_bound": lag.bound, "lagrange_iterations": iterations, "core": len(core),
                    "rounds": rounds, "lagrange_s": lagrange_s, "mip_s": mip_s})
    status = "optimal" if gap <= rel_gap * (1 + 1e-9) else "time_limit"
    solver = (f"{highs_version()} MIP (核心 core: {len(core):,} / {red.A.shape[1]:,} 个候选点) "
              f"+ 拉格朗日界 Lagrangian bound")
    return Solution("mclp", _build_order(red, best_set), best, bound, gap, status, solver,
                    time.perf_counter() - t0, details)


# --------------------------------------------------------------------------- LSCP


def solve_lscp(
    cover: sparse.csr_matrix,
    weights: np.ndarray,
    needed: float,
    *,
    covered_before: np.ndarray | None = None,
    time_limit_s: float = 60.0,
    rel_gap: float = DEFAULT_REL_GAP,
) -> Solution:
    """Set covering (partial): the fewest new sites that newly cover at least ``needed`` residents.

    The count is found by the maximal covering model: the greedy pass gives
    a count that reaches ``needed`` and, from its bounds, a count below which
    no choice can; the counts in between are settled by solving the MCLP
    (a count is impossible when the MCLP's bound falls short of ``needed``).

    Parameters
    ----------
    cover, weights, covered_before
        As :func:`solve_mclp`.
    needed : float
        Residents to cover beyond those the existing facilities reach
        (e.g. ``0.9 × all residents − residents covered now``).
    time_limit_s, rel_gap : float, keyword-only

    Returns
    -------
    Solution
        ``objective``: sites; ``bound``: fewest sites that could possibly do.

    Raises
    ------
    ParameterError
        ``needed`` is not positive, or more than all candidates together can cover.
    EmptyLayerError
        No resident is left that any candidate could newly cover.
    """
    t0 = time.perf_counter()
    if not np.isfinite(needed) or needed <= 0:
        msg = f"需新增覆盖的人数须为正数，收到 {needed!r} (residents to cover must be positive)"
        raise ParameterError(msg)
    red = _reduce(cover, weights, covered_before)
    total = float(red.w.sum())
    if red.A.shape[0] == 0:
        msg = "没有可新增覆盖的居民 (no resident is left that a candidate could newly cover)"
        raise EmptyLayerError(msg)
    if total < needed * (1 - 1e-12):
        msg = (f"即使在全部候选点建设，也只能新增覆盖 {total:,.0f} 人，达不到所需的 {needed:,.0f} 人 "
               f"(all candidates together newly cover {total:,.0f}, short of {needed:,.0f})")
        raise ParameterError(msg)
    n_cand = red.A.shape[1]
    path = greedy_cover(red.A, red.w, n_cand)
    k_greedy = int(np.searchsorted(path.value, needed * (1 - 1e-12)) + 1)
    k_low = int(np.searchsorted(path.bound, needed * (1 - 1e-12)) + 1)
    best_k, best_set = k_greedy, path.order[:k_greedy]
    details: dict[str, Any] = {"greedy_sites": k_greedy, "greedy_lower": k_low, "mclp_solves": 0}
    lower = k_low
    k = k_greedy - 1
    while k >= k_low:
        left = time_limit_s - (time.perf_counter() - t0)
        if left <= 0.05:
            break
        sol = solve_mclp(red.A, red.w, k, time_limit_s=left, rel_gap=rel_gap)
        details["mclp_solves"] += 1
        if sol.objective >= needed * (1 - 1e-12):
            best_k, best_set = k, sol.chosen
            k -= 1
            continue
        if sol.bound < needed * (1 - 1e-12):
            lower = k + 1
        break
    else:
        lower = best_k
    gap = _gap(float(best_k), float(lower))
    status = "optimal" if lower >= best_k else "time_limit"
    return Solution("lscp", _build_order(red, np.asarray(best_set, dtype=np.int64)), float(best_k), float(lower),
                    gap, status, f"{highs_version()} MIP (逐个数量求解最大覆盖 MCLP per count) + 贪心界 greedy bound",
                    time.perf_counter() - t0, details)


# --------------------------------------------------------------------------- p-median


def solve_pmedian(
    distance: sparse.csr_matrix,
    weights: np.ndarray,
    current_m: np.ndarray,
    p: int,
    *,
    time_limit_s: float = 60.0,
    rel_gap: float = DEFAULT_REL_GAP,
    max_pairs: int = MAX_MEDIAN_PAIRS,
    core_size: int | None = None,
) -> Solution:
    """p-median: p new sites that save the most walking, every resident going to the nearest facility.

    Solved like the MCLP: the greedy start; HiGHS on the whole assignment MIP
    when it is small (up to :data:`WHOLE_MEDIAN_PAIRS` pairs), else the
    Lagrangian bound of the savings form over all candidates, HiGHS on a
    core, and the global proof (:mod:`spatial.siting._lagrange`).

    Parameters
    ----------
    distance : scipy.sparse.csr_matrix, shape (n_demand, n_candidates)
        Metres from each candidate to each demand cell within the search limit.
    weights : numpy.ndarray, shape (n_demand,)
        Residents per demand cell.
    current_m : numpy.ndarray, shape (n_demand,)
        Metres to the nearest existing facility, capped at the search limit.
    p : int
        New sites.
    time_limit_s, rel_gap : float, keyword-only
    max_pairs : int, keyword-only
        Assignment pairs beyond which no MIP is built (the greedy with its
        Lagrangian bound instead, labelled ``greedy_fallback``).
    core_size : int, optional, keyword-only
        Candidates in the first HiGHS core (default ``max(3p, 30)``).

    Returns
    -------
    Solution
        ``objective``: resident-metres walked by everyone after the new
        sites; ``bound``: no choice of p sites gets below it.
    """
    t0 = time.perf_counter()
    p = _check_count(p)
    D = sparse.csr_matrix(distance)
    w = np.asarray(weights, dtype=np.float64)
    cur = np.asarray(current_m, dtype=np.float64)
    if not np.all(np.isfinite(cur)):
        msg = "现状距离须为有限值 (current distances must be finite: cap them at the search limit)"
        raise ParameterError(msg)
    base = float(w @ cur)
    rows_of = np.repeat(np.arange(D.shape[0]), np.diff(D.indptr))
    useful = (D.data < cur[rows_of]) & (w[rows_of] > 0)
    if not useful.any():
        msg = "任何候选点都不能缩短居民的步行距离 (no candidate brings any resident closer)"
        raise EmptyLayerError(msg)
    pairs = _Pairs(rows_of[useful], D.indices[useful], D.data[useful], D.shape)
    saving = w[pairs.r] * (cur[pairs.r] - pairs.d)
    P = sparse.csr_matrix((pairs.d, (pairs.r, pairs.c)), shape=D.shape)
    path = greedy_median(P, w, cur, p)
    best, best_set = float(path.value[-1]), path.order
    greedy_bound = float(path.bound[-1])
    details: dict[str, Any] = {"pairs": len(pairs.d), "greedy_saving": best, "base_resident_m": base}

    def result(status: str, solver: str, bound_saving: float, chosen: np.ndarray) -> Solution:
        order = greedy_median(P, w, cur, len(chosen), allowed=np.isin(np.arange(D.shape[1]), chosen)).order
        order = np.concatenate([order, np.setdiff1d(chosen, order)]).astype(np.int64)
        saved = _saving(P, w, cur, order)
        bound_saving = max(bound_saving, saved)
        return Solution("pmedian", order, base - saved, base - bound_saving,
                        _gap(base - saved, base - bound_saving), status, solver, time.perf_counter() - t0, details)

    if len(path.order) < p:
        details["useful_sites"] = len(path.order)
        return result("optimal", "贪心 greedy (全部有用候选点已选 every useful candidate chosen)", best, path.order)
    if _gap(base - best, base - greedy_bound) <= rel_gap:
        return result("optimal", "贪心 greedy (其上界已证明最优 proven by its own bound)", greedy_bound, path.order)

    def left() -> float:
        return time_limit_s - (time.perf_counter() - t0)

    if len(pairs.d) <= min(WHOLE_MEDIAN_PAIRS, max_pairs):
        chosen, _value, bound, _status, _ = _median_mip(pairs, saving, p, np.arange(D.shape[1]), best_set,
                                                        time_limit_s=left(), rel_gap=rel_gap)
        if len(chosen) == p and _saving(P, w, cur, chosen) >= best:
            best, best_set = _saving(P, w, cur, chosen), chosen
        bound = max(min(bound, greedy_bound), best)
        status = "optimal" if _gap(base - best, base - bound) <= rel_gap * (1 + 1e-9) else "time_limit"
        return result(status, f"{highs_version()} MIP", bound, best_set)
    if len(pairs.d) <= max_pairs:
        status, solver, bound, chosen = _median_core(pairs, saving, p, P=P, w=w, cur=cur, path=path, left=left,
                                                     rel_gap=rel_gap, core_size=core_size, details=details)
        return result(status, solver, bound, chosen)
    lag, _mu = median_lagrange(pairs.r, pairs.c, saving, D.shape, p, incumbent=best,
                               time_limit_s=max(0.8 * left(), 0.05))
    if lag.best_value > best:
        best, best_set = lag.best_value, lag.best_set
    details.update({"lagrange_bound": lag.bound, "lagrange_iterations": lag.iterations})
    bound = min(lag.bound, greedy_bound)
    return result("greedy_fallback", f"贪心 greedy + 拉格朗日界 Lagrangian bound (模型过大 model too large: "
                  f"{len(pairs.d):,} pairs)", bound, best_set)


def _median_core(pairs: _Pairs, saving: np.ndarray, p: int, *, P: sparse.csr_matrix, w: np.ndarray,
                 cur: np.ndarray, path: GreedyPath, left: Any, rel_gap: float, core_size: int | None,
                 details: dict[str, Any]) -> tuple[str, str, float, np.ndarray]:
    """Lagrangian bound, HiGHS on a core, the core's result proven globally: (status, solver, bound, chosen)."""
    base = float(w @ cur)
    best, best_set = float(path.value[-1]), path.order
    greedy_bound = float(path.bound[-1])
    lag, mu = median_lagrange(pairs.r, pairs.c, saving, pairs.shape, p, incumbent=best,
                              time_limit_s=max(0.25 * left(), 0.05))
    if lag.best_value > best:
        best, best_set = lag.best_value, lag.best_set
    details.update({"lagrange_bound": lag.bound, "lagrange_iterations": lag.iterations})
    bound = min(lag.bound, greedy_bound)
    size = core_size or max(3 * p, 30)
    core = np.union1d(np.argsort(-lag.column_weight, kind="stable")[:size], best_set)
    rounds = 0
    while left() > 0.05:
        rounds += 1
        chosen, _value, core_bound, _status, _ = _median_mip(pairs, saving, p, core, best_set,
                                                             time_limit_s=0.8 * left(), rel_gap=rel_gap)
        if len(chosen) == p and (value := _saving(P, w, cur, chosen)) > best:
            best, best_set = value, chosen
        if left() > 0.1 and _gap(base - best, base - bound) > rel_gap:
            lag2, mu2 = median_lagrange(pairs.r, pairs.c, saving, pairs.shape, p, incumbent=best,
                                        time_limit_s=min(0.3 * left(), 20.0), multipliers=mu)
            details["lagrange_iterations"] += lag2.iterations
            if lag2.bound < lag.bound:
                lag, mu = lag2, mu2
        bound = max(min(lag.bound, greedy_bound, max(core_bound, bound_outside(lag, p, core))), best)
        if _gap(base - best, base - bound) <= rel_gap:
            break
        c = lag.column_weight
        kth = float(np.partition(c, len(c) - p)[len(c) - p])
        grow = np.setdiff1d(np.flatnonzero(lag.bound - kth + np.minimum(c, kth) > best * (1 + rel_gap)), core)
        if not len(grow) or len(core) >= 4 * size or rounds >= 4:
            break
        core = np.union1d(core, grow[np.argsort(-c[grow])][: len(core)])
    details.update({"lagrange_bound": lag.bound, "core": len(core), "rounds": rounds})
    status = "optimal" if _gap(base - best, base - bound) <= rel_gap * (1 + 1e-9) else "time_limit"
    solver = (f"{highs_version()} MIP (核心 core: {len(core):,} / {pairs.shape[1]:,} 个候选点) "
              "+ 拉格朗日界 Lagrangian bound")
    return status, solver, bound, best_set


@dataclass(frozen=True)
class _Pairs:
    """Assignment pairs of the p-median: demand row, candidate, metres."""

    r: np.ndarray
    c: np.ndarray
    d: np.ndarray
    shape: tuple[int, int]


def _median_mip(pairs: _Pairs, saving: np.ndarray, p: int, cols: np.ndarray, start: np.ndarray, *,
                time_limit_s: float, rel_gap: float) -> tuple[np.ndarray, float, float, str, float]:
    """HiGHS on the p-median (savings form) restricted to candidates ``cols``: (chosen, saving, bound, status, time).

    Variables: x_j (binary) per candidate, z_e (continuous) per pair; rows:
    ``sum_e z_e <= 1`` per resident, ``z_e <= x_j`` per pair, ``sum x = p``.
    """
    n_cand = pairs.shape[1]
    local = np.full(n_cand, -1, dtype=np.int64)
    local[cols] = np.arange(len(cols))
    keep = local[pairs.c] >= 0
    r_all, c, s = pairs.r[keep], local[pairs.c[keep]], saving[keep]
    rows_used, r = np.unique(r_all, return_inverse=True)
    n_c, n_e, n_d = len(cols), len(s), len(rows_used)
    if p >= n_c:
        return cols.copy(), float("nan"), float("inf"), "other", 0.0
    e = np.arange(n_e)
    matrix = sparse.csc_matrix(
        (np.r_[np.ones(n_e), np.ones(n_e), -np.ones(n_e), np.ones(n_c)],
         (np.r_[r, n_d + e, n_d + e, np.full(n_c, n_d + n_e)], np.r_[n_c + e, n_c + e, c, np.arange(n_c)])),
        shape=(n_d + n_e + 1, n_c + n_e),
    )
    x0 = np.isin(cols, start).astype(np.float64)
    z0 = _assignment(r, c, -s, x0, np.zeros(n_d), n_d)  # each resident to its best open pair
    out = solve_mip(
        cost=np.r_[np.zeros(n_c), s], matrix=matrix,
        row_lower=np.r_[np.full(n_d + n_e, -np.inf), p], row_upper=np.r_[np.ones(n_d), np.zeros(n_e), p],
        col_lower=np.zeros(n_c + n_e), col_upper=np.ones(n_c + n_e),
        integer=np.r_[np.ones(n_c, dtype=bool), np.zeros(n_e, dtype=bool)], maximize=True,
        start=np.r_[x0, z0] if x0.sum() == p else None, time_limit_s=max(time_limit_s, 0.05), rel_gap=rel_gap,
    )
    chosen = cols[np.flatnonzero(out.x[:n_c] > 0.5)] if out.has_solution else np.zeros(0, dtype=np.int64)
    return chosen, out.objective, out.bound, out.status, out.time_s


def _assignment(r: np.ndarray, c: np.ndarray, d: np.ndarray, x: np.ndarray, cur: np.ndarray, n_d: int) -> np.ndarray:
    """The MIP start's z: each resident to the nearest chosen site that is closer than today's facility."""
    z = np.zeros(len(r))
    open_ = (x[c] > 0.5) & (d < cur[r])
    idx = np.flatnonzero(open_)
    if len(idx):
        order = idx[np.lexsort((d[idx], r[idx]))]
        first = np.ones(len(order), dtype=bool)
        first[1:] = r[order][1:] != r[order][:-1]
        z[order[first]] = 1.0
    return z


def _saving(P: sparse.csr_matrix, w: np.ndarray, cur: np.ndarray, chosen: np.ndarray) -> float:
    """Resident-metres the chosen sites save (recomputed from the distances)."""
    if not len(chosen):
        return 0.0
    sub = P[:, chosen].tocsr()
    rows_of = np.repeat(np.arange(sub.shape[0]), np.diff(sub.indptr))
    best = cur.copy()
    np.minimum.at(best, rows_of, sub.data)
    return float(w @ (cur - best))
