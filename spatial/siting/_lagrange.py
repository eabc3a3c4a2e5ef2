"""The Lagrangian bound of the maximal covering model: a proof of quality at city size.

Why it is written here: at city size (10,000 candidates, 100,000 demand
cells) HiGHS cannot even finish the LP relaxation of the covering MIP in a
minute (measured: dual simplex past 60 s, interior point 38 s on 66,000
rows), so a plain MIP call would return the greedy start with a gap of
hundreds of per cent. No solver library offers the classic remedy for this
model, which is a few dozen lines of sparse algebra:

Relax the coverage rows ``y_i <= sum_{j covers i} x_j`` with multipliers
``0 <= λ_i <= w_i``. What is left splits per variable::

    L(λ) = sum_i (w_i - λ_i) + sum of the p largest c_j,   c = Aᵀλ

and ``L(λ)`` is an upper bound on the residents any p sites can cover, for
*every* λ — the bound needs no convergence to be valid. Minimising it by
subgradient steps reaches the LP bound (the subproblem has the integrality
property), which on these models is within a fraction of a per cent of the
optimum (measured: 0.00-0.01 % at 9,000-18,000 rows, where HiGHS proves the
optimum).

The same multipliers say which candidates can matter: forcing candidate j
in gives ``L_j = L - c_(p) + c_j`` (j not among the p largest), a bound on
every solution containing j. :mod:`spatial.siting.models` solves the exact
MIP with HiGHS on a *core* of the candidates with the largest ``c_j`` and
proves the result globally with ``max(core bound, max L_j outside the core)``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse

__all__ = ["LagrangeBound", "bound_outside", "mclp_lagrange", "median_lagrange"]


@dataclass(frozen=True)
class LagrangeBound:
    """Best Lagrangian bound found and what it says about each candidate.

    Attributes
    ----------
    bound : float
        ``L(λ)`` at the best multipliers: no p sites add more residents.
    column_weight : numpy.ndarray, shape (n_candidates,)
        ``c = Aᵀλ`` at those multipliers (the residents a candidate is
        "credited" with).
    best_value : float
        Best covering value of the heuristic solutions met on the way
        (the p largest ``c_j`` at each step).
    best_set : numpy.ndarray of int64
        That solution's candidates.
    iterations : int
    time_s : float
    """

    bound: float
    column_weight: np.ndarray
    best_value: float
    best_set: np.ndarray
    iterations: int
    time_s: float


def _top(c: np.ndarray, p: int) -> np.ndarray:
    return np.argpartition(-c, p - 1)[:p] if p < len(c) else np.arange(len(c))


def mclp_lagrange(
    cover: sparse.csr_matrix,
    weights: np.ndarray,
    p: int,
    *,
    incumbent: float,
    time_limit_s: float,
    max_iter: int = 5000,
    multipliers: np.ndarray | None = None,
) -> tuple[LagrangeBound, np.ndarray]:
    """Subgradient minimisation of the Lagrangian bound of the maximal covering model.

    Parameters
    ----------
    cover : scipy.sparse.csr_matrix, shape (n_demand, n_candidates)
        Coverage (every row covered by at least one candidate).
    weights : numpy.ndarray, shape (n_demand,)
        Residents per (merged) demand row.
    p : int
        Sites to choose.
    incumbent : float
        Value of the best known solution (the target of the step length).
    time_limit_s : float
        Stop after this many seconds.
    max_iter : int
        Stop after this many steps.
    multipliers : numpy.ndarray, optional
        Start from these (a previous run's); default ``w_i / (candidates covering i)``.

    Returns
    -------
    (LagrangeBound, numpy.ndarray)
        The bound and the multipliers that gave it.
    """
    t0 = time.perf_counter()
    A = sparse.csr_matrix(cover)
    AC = A.tocsc()
    AT = AC.T.tocsr()
    w = np.asarray(weights, dtype=np.float64)
    deg = np.maximum(np.diff(A.indptr), 1)
    lam = np.clip(multipliers, 0, w) if multipliers is not None else w / deg
    best, best_lam = np.inf, lam
    best_value, best_set = float(incumbent), np.zeros(0, dtype=np.int64)
    theta, stall, it = 2.0, 0, 0
    for it in range(1, max_iter + 1):
        c = AT @ lam
        top = _top(c, p)
        value = float((w - lam).sum() + c[top].sum())
        if not np.isfinite(best) or value < best * (1 - 1e-12):
            best, best_lam, stall = value, lam, 0
        else:
            stall += 1
            if stall >= 40:
                theta, stall = theta / 2, 0
        idx = AC.indices[np.concatenate([np.arange(AC.indptr[j], AC.indptr[j + 1]) for j in top])]
        ax = np.bincount(idx, minlength=len(w)).astype(np.float64)
        if it % 10 == 1:
            heuristic = float(w[ax > 0].sum())
            if heuristic > best_value:
                best_value, best_set = heuristic, np.sort(top).astype(np.int64)
        g = ax - (w > lam)
        norm = float(g @ g)
        gap = best - best_value
        if norm == 0 or theta < 1e-6 or gap <= 1e-9 * max(best, 1.0) or time.perf_counter() - t0 > time_limit_s:
            break
        lam = np.clip(lam - theta * gap / norm * g, 0.0, w)
    c = AT @ best_lam
    result = LagrangeBound(bound=best, column_weight=c, best_value=best_value, best_set=best_set, iterations=it,
                           time_s=time.perf_counter() - t0)
    return result, best_lam


def bound_outside(lagrange: LagrangeBound, p: int, core: np.ndarray) -> float:
    """Largest bound on any p sites that use at least one candidate outside ``core``.

    Forcing candidate j into the Lagrangian subproblem swaps it for the p-th
    largest ``c``: ``L_j = L - c_(p) + min(c_j, c_(p))`` (``L`` when j is
    among the p largest). Every solution containing j is worth at most ``L_j``.
    """
    c = lagrange.column_weight
    outside = np.ones(len(c), dtype=bool)
    outside[core] = False
    if not outside.any():
        return -np.inf
    if p >= len(c):
        return lagrange.bound
    kth = float(np.partition(c, len(c) - p)[len(c) - p])  # p-th largest
    return float(lagrange.bound - kth + min(float(np.max(c[outside])), kth))


def median_lagrange(
    rows: np.ndarray,
    cols: np.ndarray,
    saving: np.ndarray,
    shape: tuple[int, int],
    p: int,
    *,
    incumbent: float,
    time_limit_s: float,
    max_iter: int = 5000,
    multipliers: np.ndarray | None = None,
) -> tuple[LagrangeBound, np.ndarray]:
    """The same bound for the p-median, in its savings form.

    Pairs ``e = (i, j)`` with ``saving_e = w_i (d_i^now - d_ij) > 0``; relaxing
    "each resident goes to one facility" (``sum_j z_ij <= 1``) with ``μ_i >= 0``
    leaves ``L(μ) = sum_i μ_i + sum of the p largest c_j``, with
    ``c_j = sum_i max(0, saving_ij - μ_i)``: a bound on the resident-metres any
    p sites can save, for every μ (Cornuéjols, Fisher & Nemhauser 1977).

    Parameters
    ----------
    rows, cols, saving : numpy.ndarray, shape (n_pairs,)
        Demand row, candidate and saving of each pair.
    shape : (int, int)
        ``(n_demand, n_candidates)``.
    p, incumbent, time_limit_s, max_iter, multipliers
        As :func:`mclp_lagrange` (the incumbent is a saving).
    """
    t0 = time.perf_counter()
    n_demand, n_cand = shape
    s = np.asarray(saving, dtype=np.float64)
    if multipliers is not None:
        mu = np.maximum(multipliers, 0.0)
    else:
        top_s = np.zeros(n_demand)
        np.maximum.at(top_s, rows, s)
        mu = top_s / np.maximum(np.bincount(rows, minlength=n_demand), 1)
    best, best_mu = np.inf, mu
    best_value, best_set = float(incumbent), np.zeros(0, dtype=np.int64)
    theta, stall, it = 2.0, 0, 0
    for it in range(1, max_iter + 1):
        excess = np.maximum(0.0, s - mu[rows])
        c = np.bincount(cols, weights=excess, minlength=n_cand)
        top = _top(c, p)
        value = float(mu.sum() + c[top].sum())
        if not np.isfinite(best) or value < best * (1 - 1e-12):
            best, best_mu, stall = value, mu, 0
        else:
            stall += 1
            if stall >= 40:
                theta, stall = theta / 2, 0
        chosen = np.zeros(n_cand, dtype=bool)
        chosen[top] = True
        on = chosen[cols]
        if it % 10 == 1:
            kept = np.zeros(n_demand)
            np.maximum.at(kept, rows[on], s[on])
            heuristic = float(kept.sum())
            if heuristic > best_value:
                best_value, best_set = heuristic, np.sort(top).astype(np.int64)
        g = 1.0 - np.bincount(rows[on & (excess > 0)], minlength=n_demand)
        norm = float(g @ g)
        gap = best - best_value
        if norm == 0 or theta < 1e-6 or gap <= 1e-9 * max(best, 1.0) or time.perf_counter() - t0 > time_limit_s:
            break
        mu = np.maximum(mu - theta * gap / norm * g, 0.0)
    c = np.bincount(cols, weights=np.maximum(0.0, s - best_mu[rows]), minlength=n_cand)
    result = LagrangeBound(bound=best, column_weight=c, best_value=best_value, best_set=best_set, iterations=it,
                           time_s=time.perf_counter() - t0)
    return result, best_mu
