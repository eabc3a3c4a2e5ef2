"""A siting result as a planner reads it: the sites, the curve, coverage by unit, what it stands on; exports.

:class:`SitingResult` holds

* ``sites`` — the chosen sites in build order, each with the residents it
  newly covers (``residents_new``: beyond the existing facilities and the
  sites ranked before it, so the column adds up to the total), the residents
  only it covers (``residents_only``: lost if it were dropped) and all
  residents within its reach;
* ``curve`` — the marginal-gain curve: residents newly covered against the
  number of new sites, 1 to 2N, in greedy build order (each added site is
  the one adding most given those before it), the chart that argues a budget;
* ``by_unit`` — residents covered before and after, by unit;
* ``solution`` — objective, bound, gap, solver and status of the model;
* ``parameters`` — which facilities, population, network, standard and
  target every figure stands on.

:func:`write_outputs` writes them as a GeoPackage (a planatlas store: sites and
units as layers, curve and summary as tables), GeoJSON of the sites and an
XLSX workbook with Chinese headings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import vocab
from .._atomic import atomic_path
from .._errors import StoreError
from ..layerspec import LayerSpec, LayerStyle
from .models import Solution
from .targets import Target

__all__ = ["RESULT_SPECS", "SitingResult", "headings", "labelled_table", "write_outputs"]

#: How the layers of a siting result are drawn and described.
RESULT_SPECS: dict[str, LayerSpec] = {
    "sites": LayerSpec("sites", "选址结果", "Chosen sites", role="analysis", order=320,
                       style=LayerStyle(color="#d7301f", weight=2, fill_opacity=0.6, radius=7)),
    "existing": LayerSpec("existing", "现有设施", "Existing facilities", role="facilities", order=310,
                          style=LayerStyle(color="#2171b5", weight=1, fill_opacity=0.35, radius=4)),
    "units": LayerSpec("units", "选址前后覆盖 (分单元)", "Coverage before and after, by unit", role="analysis",
                       order=200, style=LayerStyle(color="#636363", weight=1, fill_opacity=0.15,
                                                   figures=("pct_before", "pct_after"))),
}

#: Columns of the sites table, in order (headings from :mod:`spatial.vocab`).
SITE_COLUMNS = ("rank", "candidate_id", "facility_type", "residents_new", "residents_only", "residents_reach",
                "residents_nearest", "saving_resident_m", "unit_name", "lon", "lat", "source", "source_datum",
                "precision")

#: Columns of the by-unit table, in order.
UNIT_COLUMNS = ("name", "population", "covered_before", "covered_after", "pct_before", "pct_after", "new_sites")


@dataclass
class SitingResult:
    """Everything :func:`spatial.siting.site_facilities` computes (frames in EPSG:4326).

    Attributes
    ----------
    sites : GeoDataFrame
    curve : DataFrame
        ``sites_added``, ``marginal``, ``residents_new``, ``residents_covered``,
        ``covered_pct`` (and for the p-median ``mean_distance_m``).
    by_unit : GeoDataFrame
    solution : Solution
    existing : GeoDataFrame
        The existing facilities the result kept fixed.
    parameters : dict
    target : Target or None
    """

    sites: gpd.GeoDataFrame
    curve: pd.DataFrame
    by_unit: gpd.GeoDataFrame
    solution: Solution
    existing: gpd.GeoDataFrame
    parameters: dict[str, Any] = field(default_factory=dict)
    target: Target | None = None

    def summary_lines(self) -> list[str]:
        """What the CLI prints and the page shows, as Chinese lines (the same figures in both)."""
        p, s = self.parameters, self.solution
        lines = []
        if self.target is not None:
            t = self.target
            lines.append(f"回应目标：{t.describe()}")
            lines.append(f"报告原文：“{t.sentence}”")
            if t.note:
                lines.append(f"说明：{t.note}")
        lines.append(f"{p['facility_label']}：{vocab.label('siting_model', s.model)}，新增 {len(self.sites)} 处"
                     f"（{p['count_basis']}）")
        if s.model != "lscp" and len(self.sites) < int(p.get("count", 0)):
            lines.append(f"注意：只有 {len(self.sites)} 处能新增覆盖，要求的其余 {int(p['count']) - len(self.sites)} 处"
                         "不会再增加覆盖，未列出 (the other sites would add nobody)")
        lines.append(f"服务距离：{p['reach']}；{p['distance_source']}")
        u = p.get("weight_unit", "人")
        what = "人口" if u == "人" else "需求"
        lines.append(f"{what}：{p['population_source']}（{p['population_method']}），共 {p['population']:,.0f} {u}")
        if p.get("population_note"):
            lines.append(f"注意：{p['population_note']}")
        lines.append(f"现有设施：{p['existing_count']} 处（{p['existing_source']}），保持不变；"
                     f"现状覆盖 {p['covered_before']:,.0f} {u}（{p['pct_before']:.1f}%）")
        lines.append(f"候选点：{p['candidates_description']}")
        lines.append(f"选址后覆盖 {p['covered_after']:,.0f} {u}（{p['pct_after']:.1f}%），"
                     f"新增覆盖 {p['residents_new']:,.0f} {u}")
        if s.model == "pmedian":
            lines.append(f"平均步行距离：{p['mean_distance_before_m']:,.0f} m → {p['mean_distance_after_m']:,.0f} m"
                         f"（距离超过 {p['limit_m']:,.0f} m 的按 {p['limit_m']:,.0f} m 计）")
        tolerance = f"（容许差距 {100 * p.get('rel_gap', 0):g}%）" if s.status == "optimal" else ""
        lines.append(f"求解：{s.solver}；{vocab.label('solve_status', s.status)}{tolerance}；"
                     f"目标值 {_fmt(s.objective)}，界 {_fmt(s.bound)}，差距 {100 * s.gap:.2f}%，用时 {s.time_s:.1f} s")
        if not s.proven_optimal:
            lines.append("注意：此方案未被证明最优 (not proven optimal)：保留的是目前找到的最好方案，"
                         f"与最优的差距至多 {100 * s.gap:.2f}%")
        return lines

    def summary_table(self) -> pd.DataFrame:
        """Two columns (项目, 内容): the summary for the XLSX and the GeoPackage."""
        rows = [[*line.split("：", 1), ""][:2] for line in self.summary_lines()]
        return pd.DataFrame(rows, columns=["item", "value"])


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:,.2f}"


# --------------------------------------------------------------------------- outputs


def headings(columns: list[str] | pd.Index, weight_unit: str = "人") -> dict[str, str]:
    """Chinese headings of result columns; where the demand is not residents, no heading says 人口.

    >>> headings(["residents_new"], "m² 住宅建筑面积 (不是人数)")["residents_new"]
    '新增覆盖住宅建筑面积 (m²)'
    """
    out = {str(c): vocab.column_label(str(c)) for c in columns}
    if weight_unit != "人":
        noun = "住宅建筑面积 (m²)" if "建筑" in weight_unit else "居住用地面积 (m²)"
        out = {c: h.replace("人口", noun).replace("人·米", "m²·米") for c, h in out.items()}
    return out


def labelled_table(frame: pd.DataFrame, weight_unit: str = "人") -> pd.DataFrame:
    """Codes as labels, Chinese headings: a table as a planner reads it."""
    out = pd.DataFrame(frame.drop(columns=[c for c in ("geometry",) if c in frame.columns]))
    for col, domain in vocab.labelled_frame_columns(out.columns).items():
        out[col] = out[col].map(lambda v, d=domain: vocab.label(d, v))
    return out.rename(columns=headings(out.columns, weight_unit))


def _write_xlsx(sheets: dict[str, pd.DataFrame], path: Path) -> None:
    """An XLSX workbook, every text cell stored as text (never run as a formula)."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for title, frame in sheets.items():
        sheet = book.create_sheet(title)
        sheet.append([str(c) for c in frame.columns])
        for row in frame.itertuples(index=False):
            sheet.append([None if (isinstance(v, float) and v != v) else (v.item() if hasattr(v, "item") else v)
                          for v in row])
        for cells in sheet.iter_rows(min_row=1):
            for cell in cells:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
    with atomic_path(path, suffix=".tmp.xlsx") as tmp:
        book.save(tmp)


#: The files :func:`write_outputs` writes into its folder (the CLI plans them before the run).
OUTPUT_NAMES = ("sites.gpkg", "sites.geojson", "siting.xlsx")


def write_outputs(result: SitingResult, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write ``sites.gpkg``, ``sites.geojson`` and ``siting.xlsx`` into ``out_dir`` (created if missing).

    Each file is written atomically; files of other names in the folder are
    left alone.

    Raises
    ------
    StoreError
        When the folder cannot be created or written.
    """
    from ..io.export import export_layer
    from ..store import write_store

    folder = Path(out_dir).expanduser()
    if folder.exists() and not folder.is_dir():
        msg = f"--out 须为文件夹，{folder} 是文件 (--out must be a folder)"
        raise StoreError(msg)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"无法创建文件夹 {folder} ({exc.strerror or exc})"
        raise StoreError(msg) from None
    gpkg = write_store({"sites": result.sites, "existing": result.existing, "units": result.by_unit},
                       folder / "sites.gpkg", specs=RESULT_SPECS,
                       tables={"siting_curve": result.curve, "siting_summary": result.summary_table()})
    geojson = folder / "sites.geojson"
    export_layer(result.sites, geojson, layer="sites")
    xlsx = folder / "siting.xlsx"
    unit = str(result.parameters.get("weight_unit", "人"))
    _write_xlsx({"选址结果": labelled_table(result.sites, unit), "边际曲线": labelled_table(result.curve, unit),
                 "分单元覆盖": labelled_table(result.by_unit, unit), "说明": result.summary_table().rename(
                     columns={"item": "项目", "value": "内容"})}, xlsx)
    return [gpkg, geojson, xlsx]


# --------------------------------------------------------------------------- frames


def attribution(cover_chosen: np.ndarray, rows: np.ndarray, weights: np.ndarray, before: np.ndarray,
                n_sites: int) -> tuple[np.ndarray, np.ndarray]:
    """Residents each site newly covers (in rank order) and only it covers.

    Parameters
    ----------
    cover_chosen : numpy.ndarray of int64
        Rank (0-based) of the site of each coverage pair.
    rows : numpy.ndarray of int64
        Demand row of each pair.
    weights, before : numpy.ndarray
        Residents and already-covered flag per demand row.
    n_sites : int
    """
    n = len(weights)
    first = np.full(n, n_sites, dtype=np.int64)
    np.minimum.at(first, rows, cover_chosen)
    count = np.bincount(rows, minlength=n)
    fresh = (first < n_sites) & ~before
    new = np.bincount(first[fresh], weights=weights[fresh], minlength=n_sites)[:n_sites]
    only_rows = fresh & (count == 1)
    only = np.bincount(first[only_rows], weights=weights[only_rows], minlength=n_sites)[:n_sites]
    return new, only
