"""选址 (siting): where N new facilities do the most good, with the existing ones fixed.

A work report sets counts without places ("新建各类公园 100 处"); this package
answers where. The pieces, one concept each:

* demand — the residential cells of :mod:`spatial.lifecircle.cells` (residents
  per 100 m cell, or floor area where no residents are known), as points;
* :mod:`~spatial.siting.candidates` — candidate sites (grid cells, a layer's
  polygons or a planner's parcels) and exclusions (water, masks, existing sites);
* :mod:`~spatial.siting.relation` — who can reach what, along the streets or
  in a straight line, kept sparse;
* :mod:`~spatial.siting.greedy` — the greedy pass: warm start, fallback, curve;
* :mod:`~spatial.siting.models` — MCLP, LSCP and p-median solved with HiGHS,
  each with objective, bound, gap, solver and status;
* :mod:`~spatial.siting.targets` — the report's targets a facility type answers;
* :mod:`~spatial.siting.inputs` — the inputs of a run read from a project store;
* :mod:`~spatial.siting.result` — the result, its tables and exports;
* :mod:`~spatial.siting.run` — :func:`site_facilities`, the whole run as named steps.

>>> from spatial.siting import MODELS
>>> MODELS
('mclp', 'lscp', 'pmedian')
"""

from __future__ import annotations

from .candidates import Exclusions, apply_exclusions, grid_candidates, layer_candidates
from .models import MODELS, Solution, solve_lscp, solve_mclp, solve_pmedian
from .relation import Relation, network_relation, straight_line_relation
from .result import RESULT_SPECS, SitingResult, write_outputs
from .run import default_threshold, site_facilities
from .targets import TARGET_RULES, Target, target_for

__all__ = [
    "MODELS",
    "RESULT_SPECS",
    "TARGET_RULES",
    "Exclusions",
    "Relation",
    "SitingResult",
    "Solution",
    "Target",
    "apply_exclusions",
    "default_threshold",
    "grid_candidates",
    "layer_candidates",
    "network_relation",
    "site_facilities",
    "solve_lscp",
    "solve_mclp",
    "solve_pmedian",
    "straight_line_relation",
    "target_for",
    "write_outputs",
]
