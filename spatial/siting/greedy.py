"""Greedy siting: add, one at a time, the site that helps most — the warm start, the fallback, the curve.

Coverage (residents within reach) and distance savings (walking saved by a new
site) are both *submodular*: a site adds less the more sites there already
are. Two consequences make the greedy pass worth its place beside the exact
models:

* it is good: the residents it covers with k sites are at least
  (1 - 1/e) ≈ 63 % of the optimum (Nemhauser, Wolsey & Fisher 1978), and in
  practice within a few per cent; it gives the exact solver its MIP start;
* it certifies itself: at any state S, no k sites can add more than the sum
  of the k largest gains at S (the "online" bound of submodular
  maximisation), so every greedy run carries an upper bound on the optimum
  for every k, valid however it was found.

The greedy order is also the build order a planner reads off the
marginal-gain curve: the first site is the one that alone adds most, the
second the one that adds most given the first, and so on. Each step is one
sparse update of the gains of the candidates the new site's residents touch;
there is no loop over candidates.

Inputs are the arrays of :mod:`spatial.siting.relation`: ``cover`` (demand ×
candidate, a stored entry where the candidate reaches the demand cell),
``distance`` (the same with metres), residents per demand cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

__all__ = ["GreedyPath", "greedy_cover", "greedy_median"]


@dataclass(frozen=True)
class GreedyPath:
    """The greedy sequence of sites and what each added.

    Attributes
    ----------
    order : numpy.ndarray of int64
        Candidate positions in the order chosen (shorter than ``k_max`` when
        no candidate adds anything any more).
    gains : numpy.ndarray of float64
        What each site added when it was chosen (residents covered, or
        resident-metres of walking saved), same length as ``order``.
    bound : numpy.ndarray of float64, shape (k_max,)
        ``bound[k-1]``: no k sites together add more than this (the online
        bound, minimised over the greedy states).
    """

    order: np.ndarray
    gains: np.ndarray
    bound: np.ndarray

    @property
    def value(self) -> np.ndarray:
        """Cumulative gain after 1, 2, … sites, shape (k_max,) (flat after the last useful site)."""
        k_max = len(self.bound)
        out = np.zeros(k_max)
        cum = np.cumsum(self.gains)
        out[: len(cum)] = cum
        if len(cum) < k_max:
            out[len(cum):] = cum[-1] if len(cum) else 0.0
        return out


def _top_sums(gains: np.ndarray, k_max: int) -> np.ndarray:
    """Sums of the 1, 2, …, k_max largest positive gains."""
    positive = gains[gains > 0]
    k = min(k_max, len(positive))
    out = np.zeros(k_max)
    if k:
        top = np.partition(positive, len(positive) - k)[len(positive) - k:] if k < len(positive) else positive
        cum = np.cumsum(np.sort(top)[::-1])
        out[:k] = cum
        out[k:] = cum[-1]
    return out


def _start_gains(allowed: np.ndarray | None, gains: np.ndarray) -> np.ndarray:
    gains = np.asarray(gains, dtype=np.float64).copy()
    if allowed is not None:
        gains[~np.asarray(allowed, dtype=bool)] = -np.inf
    return gains


def greedy_cover(
    cover: sparse.csr_matrix,
    weights: np.ndarray,
    k_max: int,
    *,
    allowed: np.ndarray | None = None,
) -> GreedyPath:
    """Greedy maximal covering: each step adds the site covering most residents not yet covered.

    Parameters
    ----------
    cover : scipy.sparse.csr_matrix, shape (n_demand, n_candidates)
        A stored entry ``[i, j]`` when candidate j reaches demand cell i
        (demand already covered by existing facilities left out beforehand).
    weights : numpy.ndarray, shape (n_demand,)
        Residents per demand cell (>= 0).
    k_max : int
        Sites to add at most.
    allowed : numpy.ndarray of bool, optional, keyword-only
        Candidates that may be chosen (default all).

    Returns
    -------
    GreedyPath
        Gains are residents newly covered.
    """
    A = sparse.csr_matrix(cover)
    AC = A.tocsc()
    w = np.asarray(weights, dtype=np.float64)
    n_cand = A.shape[1]
    ones = sparse.csr_matrix((np.ones(A.nnz), A.indices, A.indptr), shape=A.shape)
    gains = _start_gains(allowed, np.asarray(ones.T @ w))
    covered = np.zeros(A.shape[0], dtype=bool)
    order: list[int] = []
    added: list[float] = []
    value = 0.0
    bound = np.full(k_max, np.inf)
    for _ in range(k_max):
        bound = np.minimum(bound, value + _top_sums(gains, k_max))
        j = int(np.argmax(gains)) if n_cand else 0
        if not n_cand or gains[j] <= 0:
            break
        order.append(j)
        added.append(float(gains[j]))
        value += float(gains[j])
        rows = AC.indices[AC.indptr[j]:AC.indptr[j + 1]]
        rows = rows[~covered[rows]]
        covered[rows] = True
        sub = ones[rows]
        gains -= np.bincount(sub.indices, weights=np.repeat(w[rows], np.diff(sub.indptr)), minlength=n_cand)
        gains[j] = -np.inf
    else:
        bound = np.minimum(bound, value + _top_sums(gains, k_max))
    return GreedyPath(np.asarray(order, dtype=np.int64), np.asarray(added), np.maximum(bound, _cum(added, k_max)))


def _cum(added: list[float], k_max: int) -> np.ndarray:
    """The greedy values themselves (a bound is never below a solution found)."""
    return GreedyPath(np.zeros(0, dtype=np.int64), np.asarray(added), np.zeros(k_max)).value


def greedy_median(
    distance: sparse.csr_matrix,
    weights: np.ndarray,
    current_m: np.ndarray,
    k_max: int,
    *,
    allowed: np.ndarray | None = None,
) -> GreedyPath:
    """Greedy p-median: each step adds the site that saves most resident-metres of walking.

    Parameters
    ----------
    distance : scipy.sparse.csr_matrix, shape (n_demand, n_candidates)
        Metres from each candidate to each demand cell it reaches within the
        search limit (explicit zeros are distances of 0 m).
    weights : numpy.ndarray, shape (n_demand,)
        Residents per demand cell.
    current_m : numpy.ndarray, shape (n_demand,)
        Distance to the nearest existing facility, metres, capped at the
        search limit (residents farther away count at the limit).
    k_max : int
        Sites to add at most.
    allowed : numpy.ndarray of bool, optional, keyword-only
        Candidates that may be chosen (default all).

    Returns
    -------
    GreedyPath
        Gains are resident-metres saved; the bound is on the saving.
    """
    D = sparse.csr_matrix(distance)
    DC = D.tocsc()
    w = np.asarray(weights, dtype=np.float64)
    cur = np.asarray(current_m, dtype=np.float64).copy()
    n_cand = D.shape[1]
    rows_of = np.repeat(np.arange(D.shape[0]), np.diff(D.indptr))
    saving = w[rows_of] * np.maximum(0.0, cur[rows_of] - D.data)
    gains = _start_gains(allowed, np.bincount(D.indices, weights=saving, minlength=n_cand))
    order: list[int] = []
    added: list[float] = []
    value = 0.0
    bound = np.full(k_max, np.inf)
    for _ in range(k_max):
        bound = np.minimum(bound, value + _top_sums(gains, k_max))
        j = int(np.argmax(gains)) if n_cand else 0
        if not n_cand or gains[j] <= 1e-9:
            break
        order.append(j)
        added.append(float(gains[j]))
        value += float(gains[j])
        col = slice(DC.indptr[j], DC.indptr[j + 1])
        rows, dist = DC.indices[col], DC.data[col]
        closer = dist < cur[rows]
        rows, dist = rows[closer], dist[closer]
        sub = D[rows]
        rr = np.repeat(np.arange(len(rows)), np.diff(sub.indptr))
        before = w[rows][rr] * np.maximum(0.0, cur[rows][rr] - sub.data)
        after = w[rows][rr] * np.maximum(0.0, dist[rr] - sub.data)
        gains -= np.bincount(sub.indices, weights=before - after, minlength=n_cand)
        cur[rows] = dist
        gains[j] = -np.inf
    else:
        bound = np.minimum(bound, value + _top_sums(gains, k_max))
    return GreedyPath(np.asarray(order, dtype=np.int64), np.asarray(added), np.maximum(bound, _cum(added, k_max)))
