"""The problem ledger (问题台账): what is missing where, for how many residents, ranked.

One row per unit and requirement that some of the unit's residents cannot
reach: the residents affected (or the floor / land area, when residents are
not known), their share of the unit, the weighted median distance of those
affected to the nearest accepted facility, and the gap area (the residential
land of the cells out of reach). Rows are ranked by residents affected.
Requirements with no facility data are not rows (nothing can be said of
them); they are listed in the report beside the ledger instead.

:func:`write_ledger` writes it as XLSX (openpyxl) or CSV (UTF-8 with BOM so
Excel opens the Chinese headings), with Chinese column headings from
:data:`HEADINGS`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import vocab
from .._atomic import atomic_path
from .._errors import ParameterError, StoreError

if TYPE_CHECKING:
    from .evaluate import Evaluation

__all__ = ["HEADINGS", "ledger_for_people", "problem_ledger", "write_ledger"]

#: Ledger columns -> Chinese headings (the weight column is renamed per weight kind).
HEADINGS: dict[str, str] = {
    "rank": "排序",
    "unit": "单元",
    "tier": "层级",
    "requirement": "要求代码",
    "label": "设施 (标准原名)",
    "accepts": "判定条件",
    "affected": "受影响居民",
    "affected_pct": "占单元比例 (%)",
    "missing_median_m": "受影响者到最近设施距离中位数 (m)",
    "gap_area_ha": "缺口居住用地 (ha)",
    "gap_cells": "缺口网格数",
    "data_status": "数据状况",
    "data_note": "数据说明",
    "verification": "标准核实程度",
    "clause": "条款",
}


def problem_ledger(ev: Evaluation) -> pd.DataFrame:
    """The ledger of an evaluation, ranked by residents affected (largest first).

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`HEADINGS` (codes as column names; tiers, data status
        and verification as codes of their vocab domains).
    """
    ut = ev.unit_types
    if ut.empty:
        return pd.DataFrame(columns=list(HEADINGS))
    s = ev.status
    judged = ut["requirement"].map(s["data_status"]) != "no_data"
    rows = ut[judged & (ut["missing"] > 0)].copy()
    out = pd.DataFrame({
        "unit": rows["unit"].to_numpy(),
        "tier": rows["requirement"].map(s["tier"]).to_numpy(),
        "requirement": rows["requirement"].to_numpy(),
        "label": rows["requirement"].map(s["label"]).to_numpy(),
        "accepts": rows["requirement"].map(s["accepts"]).to_numpy(),
        "affected": rows["missing"].to_numpy(),
        "affected_pct": np.where(rows["weight"] > 0, 100.0 * rows["missing"] / rows["weight"], np.nan),
        "missing_median_m": rows["missing_median_m"].to_numpy(),
        "gap_area_ha": rows["gap_area_ha"].to_numpy(),
        "gap_cells": rows["gap_cells"].to_numpy(),
        "data_status": rows["requirement"].map(s["data_status"]).to_numpy(),
        "data_note": rows["requirement"].map(s["data_note"]).to_numpy(),
        "verification": rows["requirement"].map(s["verification"]).to_numpy(),
        "clause": rows["requirement"].map(s["clause"]).to_numpy(),
    })
    out = out.sort_values(["affected", "gap_area_ha", "unit", "requirement"], ascending=[False, False, True, True],
                          kind="stable").reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out.attrs["weight_kind"] = ev.cells.weight_kind
    return out


def ledger_for_people(ledger: pd.DataFrame, *, limit_m: dict[str, float] | None = None) -> pd.DataFrame:
    """The ledger as a planner reads it: Chinese headings, labels instead of codes, rounded figures.

    Distances beyond the search are written ``> N m`` (from ``limit_m``, requirement id -> metres).
    """
    kind = str(ledger.attrs.get("weight_kind", "residents"))
    out = ledger.copy()
    for col, domain in (("tier", "tier"), ("data_status", "data_status"), ("verification", "verification")):
        out[col] = out[col].map(lambda c, d=domain: vocab.label(d, c))
    people = kind == "residents"
    out["affected"] = out["affected"].round(0 if people else 1)
    out["affected_pct"] = out["affected_pct"].round(1)
    out["gap_area_ha"] = out["gap_area_ha"].round(2)

    def far(row: pd.Series) -> str:
        value = row["missing_median_m"]
        if np.isfinite(value):
            return f"{value:,.0f}"
        lim = (limit_m or {}).get(str(row["requirement"]))
        return f"> {lim:,.0f}" if lim else "超出搜索范围 (beyond the search)"

    out["missing_median_m"] = out.apply(far, axis=1) if len(out) else out["missing_median_m"]
    headings = dict(HEADINGS)
    headings["affected"] = "受影响" + vocab.label("weight_kind", kind)
    return out.rename(columns=headings)


def write_ledger(ledger: pd.DataFrame, path: str | os.PathLike[str], *,
                 limit_m: dict[str, float] | None = None, notes: list[str] | None = None) -> Path:
    """Write the ledger as ``.xlsx`` or ``.csv`` (atomically), with Chinese headings.

    Parameters
    ----------
    ledger : DataFrame
        From :func:`problem_ledger`.
    path : path-like
        ``.xlsx`` (a sheet 问题台账, and a sheet 说明 with ``notes``) or ``.csv``.
    limit_m : dict, optional, keyword-only
        Search limits per requirement, to write distances beyond them as ``> N m``.
    notes : list of str, optional, keyword-only
        What the figures stand on (the XLSX's second sheet).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        msg = f"台账须写为 .xlsx 或 .csv，收到 {path.name} (the ledger is written as .xlsx or .csv)"
        raise ParameterError(msg)
    shown = ledger_for_people(ledger, limit_m=limit_m)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path, suffix=suffix) as tmp:
            if suffix == ".csv":
                shown.to_csv(tmp, index=False, encoding="utf-8-sig")
            else:
                with pd.ExcelWriter(tmp, engine="openpyxl") as xl:
                    shown.to_excel(xl, sheet_name="问题台账", index=False)
                    pd.DataFrame({"说明": notes or []}).to_excel(xl, sheet_name="说明", index=False)
    except StoreError:  # already said in words (disk full …) by atomic_path
        raise
    except OSError as exc:
        msg = f"无法写入台账 {path} ({exc.strerror or exc}) (cannot write the ledger)"
        raise StoreError(msg) from None
    return path
