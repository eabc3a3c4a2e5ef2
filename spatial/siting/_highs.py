"""HiGHS plumbing: a MIP from arrays, started from a known solution, and what HiGHS proved.

The siting models are built as arrays (a sparse constraint matrix in column
form, bounds, costs) and passed to HiGHS in one call (``Highs.passModel``), never
row by row through a modelling layer: at city size a Python loop over the
coverage pairs alone would take longer than the solve.

HiGHS prints a banner on standard output the first time a solver is made in a
process, from C; :func:`new_highs` makes that first one with the output
pointed at ``os.devnull`` so the CLI's output stays the planner's.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass

import highspy
import numpy as np
from scipy import sparse

__all__ = ["MipOutcome", "highs_version", "new_highs", "solve_mip"]

_LOCK = threading.Lock()
_BANNER_SHOWN = False


def highs_version() -> str:
    """``"HiGHS 1.16.0"``: the solver named next to every figure it proved."""
    return f"HiGHS {highspy.HIGHS_VERSION_MAJOR}.{highspy.HIGHS_VERSION_MINOR}.{highspy.HIGHS_VERSION_PATCH}"


def new_highs() -> highspy.Highs:
    """A silent HiGHS instance (its one-time banner kept off standard output)."""
    global _BANNER_SHOWN
    with _LOCK:
        if _BANNER_SHOWN:
            h = highspy.Highs()  # type: ignore[no-untyped-call]
        else:
            sys.stdout.flush()
            saved = os.dup(1)
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, 1)
                h = highspy.Highs()  # type: ignore[no-untyped-call]
            finally:
                os.dup2(saved, 1)
                os.close(saved)
                os.close(devnull)
            _BANNER_SHOWN = True
    h.setOptionValue("output_flag", False)
    return h


@dataclass(frozen=True)
class MipOutcome:
    """What one HiGHS run found and proved.

    Attributes
    ----------
    x : numpy.ndarray of float64
        Column values of the best solution (zeros when there is none).
    objective : float
        Objective of that solution (NaN when there is none).
    bound : float
        HiGHS's dual bound: no solution is better than this.
    status : str
        ``"optimal"`` (within the gap asked), ``"time_limit"``, ``"infeasible"``
        or ``"other"``.
    has_solution : bool
        Whether ``x`` is a feasible solution.
    time_s : float
        Wall time of the run, seconds.
    nodes : int
        Branch-and-bound nodes explored.
    """

    x: np.ndarray
    objective: float
    bound: float
    status: str
    has_solution: bool
    time_s: float
    nodes: int


_STATUS = {
    highspy.HighsModelStatus.kOptimal: "optimal",
    highspy.HighsModelStatus.kTimeLimit: "time_limit",
    highspy.HighsModelStatus.kInfeasible: "infeasible",
}


def solve_mip(
    *,
    cost: np.ndarray,
    matrix: sparse.csc_matrix,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    integer: np.ndarray,
    maximize: bool,
    start: np.ndarray | None = None,
    time_limit_s: float = 60.0,
    rel_gap: float = 1e-4,
) -> MipOutcome:
    """Solve ``opt cost·x  s.t.  row_lower <= matrix·x <= row_upper, col bounds, x[integer] whole``.

    Parameters
    ----------
    cost, col_lower, col_upper : numpy.ndarray, shape (n,)
    matrix : scipy.sparse.csc_matrix, shape (m, n)
    row_lower, row_upper : numpy.ndarray, shape (m,)
        ``-inf`` / ``inf`` for open sides.
    integer : numpy.ndarray of bool, shape (n,)
        Which columns must be whole numbers.
    maximize : bool
    start : numpy.ndarray, optional
        A feasible solution to start from (HiGHS's MIP start); a start HiGHS
        finds infeasible is ignored by it.
    time_limit_s : float
        Wall-time limit, seconds; at the limit the best solution found so far
        is returned with ``status="time_limit"``.
    rel_gap : float
        Relative gap at which HiGHS stops and calls the solution optimal.
    """
    n = len(cost)
    m = matrix.shape[0]
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = m
    lp.col_cost_ = np.asarray(cost, dtype=np.float64)
    lp.col_lower_ = np.asarray(col_lower, dtype=np.float64)
    lp.col_upper_ = np.asarray(col_upper, dtype=np.float64)
    lp.row_lower_ = np.where(np.isfinite(row_lower), row_lower, -inf).astype(np.float64)
    lp.row_upper_ = np.where(np.isfinite(row_upper), row_upper, inf).astype(np.float64)
    lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    csc = sparse.csc_matrix(matrix)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data.astype(np.float64)
    lp.integrality_ = [highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous
                       for flag in np.asarray(integer, dtype=bool)]
    h = new_highs()
    h.setOptionValue("time_limit", float(max(time_limit_s, 0.01)))
    h.setOptionValue("mip_rel_gap", float(rel_gap))
    h.passModel(lp)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = [float(v) for v in start]
        h.setSolution(sol)
    t0 = time.perf_counter()
    h.run()
    elapsed = time.perf_counter() - t0
    info = h.getInfo()
    status = _STATUS.get(h.getModelStatus(), "other")
    has = int(info.primal_solution_status) == int(highspy.SolutionStatus.kSolutionStatusFeasible)
    x = np.asarray(h.getSolution().col_value, dtype=np.float64) if has else np.zeros(n)
    objective = float(info.objective_function_value) if has else float("nan")
    bound = float(info.mip_dual_bound)
    if not np.isfinite(bound):
        bound = float("inf") if maximize else float("-inf")
    return MipOutcome(x=x, objective=objective, bound=bound, status=status, has_solution=has, time_s=elapsed,
                      nodes=int(info.mip_node_count))
