"""生活圈体检: the life-circle evaluation the standards define.

Every residential cell is judged against every facility requirement of a
standard at its own tier's distance (tiers do not nest), and the results are
weighed by residents and summed by unit and for the city, with the
城市体检 indicators computed on their own denominators and a problem ledger
(问题台账) of what is missing where.

Modules, one concept each:

=============  ==============================================================
``catalogue``  the standards as data: requirement rows with clause, source, verification
``cells``      residential cells (a grid cut by residential land and units) with residents
``reach``      distance from every cell to the nearest facility of a type (one search per type)
``evaluate``   tiers, completeness, per-unit and city figures, 城市体检 indicators
``ledger``     the problem ledger: unit x missing type x residents, ranked; XLSX/CSV
``report``     the HTML report a planner hands in, with the GeoPackage and the ledger
``inputs``     the evaluation's inputs read from a project store (for the CLI and the app)
=============  ==============================================================
"""

from __future__ import annotations

from .catalogue import STANDARDS, Requirement, requirements
from .cells import Cells, build_cells

__all__ = ["STANDARDS", "Cells", "Requirement", "build_cells", "requirements"]
