"""The evaluation: every residential cell against every requirement of a standard, weighed by residents.

:func:`evaluate` runs as named steps:

1. :func:`select_facilities` - the facilities each requirement accepts (its
   types, its size band), and what the data can say about them
   (``ok``, ``thin``, ``no_data``, in words);
2. :func:`measure` - one distance search per distinct facility set
   (:mod:`spatial.lifecircle.reach`), each as far as its largest requirement
   needs, shared by the requirements that use the same set;
3. :func:`judge` - met or not per cell and requirement, completeness per tier
   (share of the tier's requirements with data that are met: tiers do not
   nest), and whether all of a tier is within reach;
4. :func:`summarise` - weighed figures by unit and for the city: residents
   with all of a tier in reach, residents missing each requirement,
   weighted median and 90th-percentile distance;
5. :func:`indicators` - the 城市体检 indicators on their own denominators
   (residential land area), straight-line as their documents define a
   服务半径, and along the streets beside it when the network was used;
6. :func:`spatial.lifecircle.ledger.problem_ledger` - the problem ledger.

Honest figures: a requirement whose facility set is empty is reported as
"no facility data" and left out of completeness (it cannot be judged); a thin
set (far fewer facilities than the residents would need at one per
tier-sized neighbourhood, GB 50180-2018 表3.0.4) is flagged in words next to
its figures; every figure names the facilities, the population, the network
and the standard edition it stands on (:attr:`Evaluation.parameters`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import vocab
from .._errors import EmptyLayerError, NetworkDataError, ParameterError
from ..network import StreetNetwork
from ..projection import reproject, require_crs
from . import catalogue
from .catalogue import Alternative, Requirement
from .cells import Cells
from .reach import CellAccess, Reach, check_method, network_distances, snap_cells, straight_distances

__all__ = ["Evaluation", "evaluate", "weighted_quantile"]

#: How far each search looks: twice the requirement's distance (and at least SEARCH_EXTRA_M beyond it), so
#: distances of those out of reach are known up to there and said as "> limit" beyond.
SEARCH_FACTOR = 2.0
SEARCH_EXTRA_M = 0.0

#: A facility set is thin when it holds fewer than this share of one facility per tier-sized neighbourhood.
THIN_SHARE = 0.1


@dataclass(eq=False)
class Evaluation:
    """Everything :func:`evaluate` computes.

    Attributes
    ----------
    standard : str
        Catalogue code (``gb50180``, ``mofcom``, ``chengshi-tijian``).
    edition : str
        The document and edition judged against.
    method : str
        ``network`` or ``buffer``.
    requirements : list of Requirement
        What was judged, in order.
    cells : Cells
        The residential cells (metric CRS).
    distance : pandas.DataFrame
        Cells x requirements: metres to the nearest accepted facility
        (``inf`` beyond the search limit or with no street access).
    met : pandas.DataFrame
        Cells x requirements: within the requirement's distance.
    status : pandas.DataFrame
        One row per requirement: tier, label, what it accepts, distance,
        verification, clause, source, ``n_facilities``, ``data_status``
        (vocab ``data_status``), ``data_note`` (the words said next to its figures).
    by_type : pandas.DataFrame
        City-wide, per requirement: weight in reach, missing, share, weighted median and p90 distance.
    unit_types : pandas.DataFrame
        The same per unit and requirement (long table).
    by_unit : pandas.DataFrame
        One row per unit: weight, and per tier the weight with all of the tier in reach,
        its share and the weighted mean completeness.
    city : pandas.DataFrame
        The city-wide row of ``by_unit`` per tier.
    indicators : pandas.DataFrame
        城市体检 indicators (empty for other standards).
    ledger : pandas.DataFrame
        The problem ledger (:mod:`spatial.lifecircle.ledger`).
    parameters : dict
        What every figure stands on.
    notes : list of str
        Plain-language remarks (Chinese, English in brackets).
    """

    standard: str
    edition: str
    method: str
    requirements: list[Requirement]
    cells: Cells
    distance: pd.DataFrame
    met: pd.DataFrame
    status: pd.DataFrame
    by_type: pd.DataFrame = field(default_factory=pd.DataFrame)
    unit_types: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_unit: pd.DataFrame = field(default_factory=pd.DataFrame)
    city: pd.DataFrame = field(default_factory=pd.DataFrame)
    indicators: pd.DataFrame = field(default_factory=pd.DataFrame)
    ledger: pd.DataFrame = field(default_factory=pd.DataFrame)
    parameters: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def tiers(self) -> tuple[str, ...]:
        """Tiers reported, in order."""
        return catalogue.TIERS[self.standard]

    @property
    def weight_label(self) -> str:
        """What the figures count, in words (``居民 (人)``)."""
        return vocab.label("weight_kind", self.cells.weight_kind)

    def search_limits(self) -> dict[str, float]:
        """How far each requirement's search looked, metres (distances beyond it are ``inf``)."""
        return {r.id: _limit(r.distance_m) for r in self.requirements}

    def evaluated(self, tier: str | None = None) -> list[str]:
        """Ids of the requirements with facility data (of one tier, or all)."""
        s = self.status
        keep = s["data_status"] != "no_data"
        if tier is not None:
            keep &= s["tier"] == tier
        return list(s.index[keep])

    def completeness(self, tier: str) -> np.ndarray:
        """Per cell: share (0-1) of the tier's evaluated requirements met; NaN when the tier has none."""
        ids = self.evaluated(tier)
        if not ids:
            return np.full(len(self.cells), np.nan)
        return np.asarray(self.met[ids].to_numpy().mean(axis=1), dtype="float64")

    def cells_frame(self) -> gpd.GeoDataFrame:
        """The cells with their figures, EPSG:4326: distance and met per requirement, completeness per tier."""
        f = self.cells.frame[["cell_id", "unit", "area_m2", "floor_area_m2", "population", "weight", "geometry"]]
        out = f.copy()
        for tier in self.tiers:
            out[f"complete_{tier}"] = self.completeness(tier)
            ids = self.evaluated(tier)
            out[f"all_{tier}"] = self.met[ids].to_numpy().all(axis=1) if ids else False
        for rid in self.status.index:
            d = self.distance[rid].to_numpy()
            out[f"d_{rid}"] = np.where(np.isfinite(d), d, np.nan)
            out[f"ok_{rid}"] = self.met[rid].to_numpy()
        return reproject(out, "EPSG:4326")


# --------------------------------------------------------------------------- step 1: facilities


def _areas_m2(facilities: gpd.GeoDataFrame, crs: Any) -> np.ndarray:
    """Area of each facility, m²: the polygon's own, else an ``area_m2`` column, else NaN."""
    geoms = reproject(facilities, crs).geometry.to_numpy()
    area = np.where(np.isin(shapely.get_type_id(geoms), (3, 6)), shapely.area(geoms), np.nan)
    if "area_m2" in facilities.columns:
        given = pd.to_numeric(facilities["area_m2"], errors="coerce").to_numpy(dtype="float64")
        area = np.where(np.isfinite(given), given, area)
    return np.asarray(area, dtype="float64")


@dataclass(eq=False)
class _FacilitySet:
    """The facilities one alternative accepts."""

    key: tuple[object, ...]
    frame: gpd.GeoDataFrame
    no_area: int = 0


def select_facilities(facilities: gpd.GeoDataFrame, alternative: Alternative, *, crs: Any,
                      areas: np.ndarray) -> _FacilitySet:
    """The facilities of an alternative's types and size band (those without a known area left out, and counted)."""
    types = facilities["facility_type"].astype(str).to_numpy()
    keep = np.isin(types, alternative.facility_types)
    no_area = 0
    if alternative.min_area_m2 is not None or alternative.max_area_m2 is not None:
        known = np.isfinite(areas)
        no_area = int((keep & ~known).sum())
        band = known.copy()
        if alternative.min_area_m2 is not None:
            band &= np.where(known, areas, -1) >= alternative.min_area_m2
        if alternative.max_area_m2 is not None:
            band &= np.where(known, areas, np.inf) < alternative.max_area_m2
        keep &= band
    key = (alternative.facility_types, alternative.min_area_m2, alternative.max_area_m2)
    return _FacilitySet(key=key, frame=facilities[keep], no_area=no_area)


def _data_status(req: Requirement, sets: list[_FacilitySet], *, total_residents: float | None,
                 standard: str) -> tuple[int, str, str]:
    """How many facilities a requirement has, and what may be said of them: (n, status, words)."""
    n = sum(len(s.frame) for s in sets)
    types = "、".join(vocab.label("facility_type", t) for t in req.facility_types)
    no_area = sum(s.no_area for s in sets)
    extra = (f"；{no_area} 个设施没有面积，未按规模计入 ({no_area} facilities without an area were not counted)"
             if no_area else "")
    if n == 0:
        return 0, "no_data", f"无设施数据：没有{types}，未判断{extra} (no facility data: not judged)"
    size = catalogue.thin_threshold(standard, req.tier)
    if total_residents is not None and size is not None and total_residents > 0:
        expected = total_residents / size
        if n < THIN_SHARE * expected:
            return n, "thin", (f"数据稀疏：仅 {n} 个{types}；按每 {size:,.0f} 人一处估计应有约 {expected:,.0f} 处，"
                               f"结果可能低估可达性{extra} (thin data: only {n}, about {expected:,.0f} expected "
                               f"at one per {size:,.0f} residents; access may be understated)")
    elif n < 3:
        return n, "thin", f"数据稀疏：仅 {n} 个{types}{extra} (thin data: only {n})"
    return n, "ok", f"{n} 个设施{extra}"


# --------------------------------------------------------------------------- step 2: distances


def _limit(distance_m: float) -> float:
    return max(SEARCH_FACTOR * distance_m, distance_m + SEARCH_EXTRA_M)


def measure(cells: Cells, sets: dict[tuple[object, ...], _FacilitySet], limits: dict[tuple[object, ...], float], *,
            method: str, access: CellAccess | None, max_snap_m: float = 500.0) -> dict[tuple[object, ...], Reach]:
    """One search per distinct facility set, as far as the largest requirement using it needs."""
    out: dict[tuple[object, ...], Reach] = {}
    n = len(cells)
    for key, fs in sets.items():
        limit = limits[key]
        if len(fs.frame) == 0:
            out[key] = Reach(np.full(n, np.inf), np.full(n, -1, dtype=np.int64), method, limit, 0)
            continue
        if method == "network":
            assert access is not None
            try:
                out[key] = network_distances(access, fs.frame, limit_m=limit, max_snap_m=max_snap_m)
            except NetworkDataError:
                # none of these facilities is near a street: nobody reaches them along the network
                far = pd.DataFrame({"facility": fs.frame.index, "position": np.arange(len(fs.frame)), "snap_m": np.nan})
                out[key] = Reach(np.full(n, np.inf), np.full(n, -1, dtype=np.int64), method, limit,
                                 len(fs.frame), unreached=far)
        else:
            out[key] = straight_distances(cells.xy, fs.frame, crs=cells.crs, limit_m=limit)
    return out


# --------------------------------------------------------------------------- step 3: judging


def judge(requirements: list[Requirement], sets: dict[str, list[_FacilitySet]],
          reach: dict[tuple[object, ...], Reach], n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Distance to the nearest accepted facility and whether it is within reach, per cell and requirement."""
    dist: dict[str, np.ndarray] = {}
    met: dict[str, np.ndarray] = {}
    for req in requirements:
        d_req = np.full(n, np.inf)
        ok = np.zeros(n, dtype=bool)
        for alt, fs in zip(req.alternatives, sets[req.id], strict=True):
            d = reach[fs.key].distance
            d_req = np.minimum(d_req, d)
            ok |= d <= alt.distance_m
        dist[req.id] = d_req
        met[req.id] = ok
    index = pd.RangeIndex(n, name="cell_id")
    return pd.DataFrame(dist, index=index), pd.DataFrame(met, index=index)


# --------------------------------------------------------------------------- step 4: figures


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile (0-1) of ``values`` weighted by ``weights`` (inf values count as the largest).

    >>> weighted_quantile(np.array([100.0, 200.0, np.inf]), np.array([1.0, 1.0, 2.0]), 0.5)
    200.0
    """
    w = np.asarray(weights, dtype="float64")
    v = np.asarray(values, dtype="float64")
    keep = w > 0
    if not keep.any():
        return float("nan")
    v, w = v[keep], w[keep]
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(w[order])
    i = int(np.searchsorted(cum, q * cum[-1] - 1e-9 * cum[-1], side="left"))
    return float(v[order][min(i, len(v) - 1)])


def _sorted_quantiles(v: np.ndarray, w: np.ndarray, g: np.ndarray, n_groups: int, qs: tuple[float, ...]) -> list[
        np.ndarray]:
    """Weighted quantiles per group of values already sorted by (group, value)."""
    total = np.bincount(g, weights=w, minlength=n_groups)
    out = [np.full(n_groups, np.nan) for _ in qs]
    has = np.flatnonzero(total > 0)
    if not len(has):
        return out
    cum = np.cumsum(w)
    start = np.concatenate([[0.0], np.cumsum(total)])[:-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        within = np.where(total[g] > 0, (cum - start[g]) / total[g], 0.0)  # rises to 1 inside each group
    key = g + np.minimum(within, 1.0) * (1 - 1e-12)
    last = np.searchsorted(g, has, side="right") - 1
    for q, o in zip(qs, out, strict=True):
        idx = np.searchsorted(key, has + q * (1 - 1e-12) - 1e-9, side="left")
        o[has] = v[np.minimum(idx, last)]
    return out


def group_quantiles(values: np.ndarray, weights: np.ndarray, groups: np.ndarray, n_groups: int,
                    q: float) -> np.ndarray:
    """:func:`weighted_quantile` of every group at once (one sort, no loop over groups).

    Groups with no weight get NaN.

    >>> group_quantiles(np.array([3.0, 1.0, 2.0, 9.0]), np.ones(4), np.array([0, 0, 0, 1]), 2, 0.5)
    array([2., 9.])
    """
    v = np.asarray(values, dtype="float64")
    g = np.asarray(groups, dtype=np.int64)
    order = np.lexsort((v, g))
    return _sorted_quantiles(v[order], np.asarray(weights, dtype="float64")[order], g[order], n_groups, (q,))[0]


def _type_table(ev: Evaluation, codes: np.ndarray, n_groups: int) -> pd.DataFrame:
    """Per requirement and group (unit, or one group for the city): the weighed figures, vectorised."""
    weight = ev.cells.weight
    area = ev.cells.frame["area_m2"].to_numpy()
    total = np.bincount(codes, weights=weight, minlength=n_groups)
    cols: dict[str, list[np.ndarray]] = {k: [] for k in (
        "in_reach", "missing", "in_reach_pct", "median_m", "p90_m", "missing_median_m", "gap_area_ha", "gap_cells")}
    nan = np.full(n_groups, np.nan)
    for rid in ev.status.index:
        if ev.status.loc[rid, "data_status"] == "no_data":  # nothing can be said: no figures, not zeros
            for key in cols:
                cols[key].append(np.zeros(n_groups) if key == "gap_cells" else nan)
            continue
        ok = ev.met[rid].to_numpy()
        d = ev.distance[rid].to_numpy()
        missing = ~ok
        covered = np.bincount(codes, weights=weight * ok, minlength=n_groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            pct = np.where(total > 0, 100.0 * covered / total, np.nan)
        order = np.lexsort((d, codes))
        v, g = d[order], codes[order]
        median, p90 = _sorted_quantiles(v, weight[order], g, n_groups, (0.5, 0.9))
        (miss_median,) = _sorted_quantiles(v, (weight * missing)[order], g, n_groups, (0.5,))
        for key, value in (("in_reach", covered), ("missing", total - covered), ("in_reach_pct", pct),
                           ("median_m", median), ("p90_m", p90), ("missing_median_m", miss_median),
                           ("gap_area_ha", np.bincount(codes, weights=area * missing, minlength=n_groups) / 1e4),
                           ("gap_cells", np.bincount(codes, weights=missing.astype(float), minlength=n_groups))):
            cols[key].append(value)
    k = len(ev.status)
    return pd.DataFrame({
        "group": np.tile(np.arange(n_groups), k),
        "requirement": np.repeat(np.asarray(ev.status.index, dtype=object), n_groups),
        "weight": np.tile(total, k),
        **{key: np.concatenate(vals) if vals else np.empty(0) for key, vals in cols.items()},
        "data_status": np.repeat(ev.status["data_status"].to_numpy(dtype=object), n_groups),
    }).astype({"gap_cells": np.int64})


def _tier_table(ev: Evaluation, codes: np.ndarray, n_groups: int) -> pd.DataFrame:
    """Per group: weight, cells, land, and per tier the weight with all in reach and the mean completeness."""
    weight = ev.cells.weight
    total = np.bincount(codes, weights=weight, minlength=n_groups)
    out = pd.DataFrame({
        "weight": total, "cells": np.bincount(codes, minlength=n_groups),
        "area_ha": np.bincount(codes, weights=ev.cells.frame["area_m2"].to_numpy(), minlength=n_groups) / 1e4,
    })
    for tier in ev.tiers:
        ids = ev.evaluated(tier)
        if ids:
            m = ev.met[ids].to_numpy()
            covered = np.bincount(codes, weights=weight * m.all(axis=1), minlength=n_groups)
            comp = np.bincount(codes, weights=weight * m.mean(axis=1), minlength=n_groups)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[f"all_{tier}"] = covered
                out[f"all_{tier}_pct"] = np.where(total > 0, 100.0 * covered / total, np.nan)
                out[f"complete_{tier}_pct"] = np.where(total > 0, 100.0 * comp / total, np.nan)
        else:
            out[f"all_{tier}"] = np.nan
            out[f"all_{tier}_pct"] = np.nan
            out[f"complete_{tier}_pct"] = np.nan
        out[f"judged_{tier}"] = len(ids)
    return out


def summarise(ev: Evaluation) -> None:
    """Fill ``by_type``, ``unit_types``, ``by_unit`` and ``city`` of an evaluation (no loop over units)."""
    names = np.asarray(ev.cells.units["unit"].astype(str).to_numpy(dtype=object))
    codes = pd.Categorical(ev.cells.frame["unit"].astype(str).to_numpy(dtype=object), categories=names).codes
    codes = np.asarray(codes, dtype=np.int64)
    n = len(names)
    ut = _type_table(ev, codes, n)
    ut.insert(0, "unit", names[ut.pop("group").to_numpy()])
    ev.unit_types = ut
    city_codes = np.zeros(len(codes), dtype=np.int64)
    ev.by_type = _type_table(ev, city_codes, 1).drop(columns=["group"])
    by_unit = _tier_table(ev, codes, n)
    by_unit.insert(0, "unit", names)
    ev.by_unit = by_unit
    city = _tier_table(ev, city_codes, 1)
    city.insert(0, "unit", "全市 (city)")
    ev.city = city


# --------------------------------------------------------------------------- step 5: 城市体检 indicators


#: 城市体检 indicators: id -> (name, requirements that must all be met). Each is a share of residential land area.
INDICATORS: dict[str, tuple[str, tuple[str, ...]]] = {
    "park_service": ("公园绿地服务半径覆盖率", ("park_service",)),
    "greenway_service": ("城市绿道服务半径覆盖率", ("greenway_service",)),
    "convenience_service": ("社区便民服务设施覆盖率 (planatlas 读法，定义未核实)",
                            ("convenience_5min", "market_8min", "supermarket_15min")),
}


def _radius_cover(cells: Cells, sets: list[_FacilitySet], alternatives: tuple[Alternative, ...]) -> np.ndarray:
    """Residential land area of each cell inside the union of the alternatives' straight-line radii, m² (exact)."""
    circles = []
    for alt, fs in zip(alternatives, sets, strict=True):
        if len(fs.frame):
            geoms = reproject(fs.frame, cells.crs).geometry.to_numpy()
            circles.append(shapely.buffer(geoms, alt.distance_m, quad_segs=16))
    geoms = cells.frame.geometry.to_numpy()
    out = np.zeros(len(geoms))
    if not circles:
        return out
    union = shapely.union_all(np.concatenate(circles))
    parts = shapely.get_parts(union)
    shapely.prepare(parts)
    ci, pi = shapely.STRtree(parts).query(geoms, predicate="intersects")
    inside = shapely.contains_properly(parts[pi], geoms[ci])
    np.add.at(out, ci[inside], shapely.area(geoms[ci[inside]]))
    edge = ~inside
    np.add.at(out, ci[edge], shapely.area(shapely.intersection(geoms[ci[edge]], parts[pi[edge]])))
    covered: np.ndarray = np.minimum(out, shapely.area(geoms))
    return covered


def indicators(ev: Evaluation, sets: dict[str, list[_FacilitySet]]) -> pd.DataFrame:
    """The 城市体检 indicators of a ``chengshi-tijian`` evaluation, each on residential land area."""
    if ev.standard != "chengshi-tijian":
        return pd.DataFrame()
    area = ev.cells.frame["area_m2"].to_numpy()
    land = float(area.sum())
    by_id = {r.id: r for r in ev.requirements}
    rows = []
    for ind_id, (name, req_ids) in INDICATORS.items():
        reqs = [by_id[r] for r in req_ids if r in by_id]
        no_data = [r.id for r in reqs if ev.status.loc[r.id, "data_status"] == "no_data"]
        verification = max((r.verification for r in reqs), key=catalogue.VERIFICATION.index)
        row: dict[str, Any] = {"indicator": ind_id, "name": name, "denominator_ha": land / 1e4,
                               "verification": verification, "clause": reqs[0].alternatives[0].clause,
                               "source": reqs[0].alternatives[0].source,
                               "definition": "；".join(r.describe() for r in reqs)}
        if no_data:
            row.update(value_pct=np.nan, network_pct=np.nan, threshold="", result="no_data",
                       note="缺少设施数据，无法计算 (no facility data: cannot be computed)")
            rows.append(row)
            continue
        if len(reqs) == 1:  # a 服务半径 indicator: exact straight-line cover of the residential land
            cover = _radius_cover(ev.cells, sets[reqs[0].id], reqs[0].alternatives)
            row["value_pct"] = 100.0 * float(cover.sum()) / land if land > 0 else np.nan
            row["method_note"] = "按文件定义：直线服务半径覆盖的居住用地面积 (straight-line radius, as defined)"
        else:
            ok = ev.met[[r.id for r in reqs]].to_numpy().all(axis=1)
            row["value_pct"] = 100.0 * float(area[ok].sum()) / land if land > 0 else np.nan
            row["method_note"] = f"按网格判断 ({vocab.label('method', ev.method)})"
        ok_net = ev.met[[r.id for r in reqs]].to_numpy().all(axis=1)
        row["network_pct"] = (100.0 * float(area[ok_net].sum()) / land if ev.method == "network" and land > 0
                              else np.nan)
        thr = catalogue.thresholds(ind_id)
        binding = thr[thr["standard"] == "gb55014"]
        if not binding.empty:
            limit = float(str(binding["threshold"].iloc[0]).strip(">≥%"))
            b = binding.iloc[0]
            row["threshold"] = f"{b['threshold']} ({b['edition']} 第{b['clause']}条)"
            row["result"] = "pass" if row["value_pct"] > limit else "fail"
            others = thr[thr["standard"] != "gb55014"]
            row["note"] = "体检文件未给出阈值，按 GB 55014-2021 判断" + "".join(
                f"；{r['edition']} 第{r['clause']}条：{r['threshold']}" for _, r in others.iterrows())
        else:
            row["threshold"] = ""
            row["result"] = "no_threshold"
            row["note"] = "所读文件未给出阈值 (no threshold in the text read)"
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- the public call


def _check_facilities(facilities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if not isinstance(facilities, gpd.GeoDataFrame):
        msg = f"设施须为 GeoDataFrame，收到 {type(facilities).__name__} (facilities must be a GeoDataFrame)"
        raise ParameterError(msg)
    require_crs(facilities, name="设施 facilities")
    if "facility_type" not in facilities.columns:
        msg = "设施图层须有 facility_type 字段 (the facilities need a facility_type column)"
        raise EmptyLayerError(msg)
    keep = facilities.geometry.notna() & ~facilities.geometry.is_empty
    return facilities[keep]


def evaluate(
    cells: Cells,
    facilities: gpd.GeoDataFrame,
    *,
    standard: str = "gb50180",
    method: str = "network",
    network: StreetNetwork | None = None,
    max_access_m: float = 500.0,
    max_snap_m: float = 500.0,
) -> Evaluation:
    """Judge every residential cell against every requirement of a standard.

    Parameters
    ----------
    cells : Cells
        From :func:`spatial.lifecircle.cells.build_cells`.
    facilities : GeoDataFrame
        All facilities, any CRS, with a ``facility_type`` column (vocab
        domain ``facility_type``); parks with polygons or an ``area_m2``.
        ``facilities.attrs["planatlas_source"]`` (optional) names where they came from.
    standard : {"gb50180", "mofcom", "chengshi-tijian"}, keyword-only
    method : {"network", "buffer"}, keyword-only
        Along the streets (needs ``network``) or straight-line.
    network : StreetNetwork, optional, keyword-only
    max_access_m : float, keyword-only
        Longest walk from a cell to a street, metres (network method).
    max_snap_m : float, keyword-only
        Longest walk from a facility to a street, metres (network method).

    Returns
    -------
    Evaluation

    Raises
    ------
    UnknownPresetError
        An unknown standard.
    ParameterError, NetworkDataError, EmptyLayerError
        A bad method, the network method without a network, facilities without ``facility_type``.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    code = catalogue.check_standard(standard)
    method = check_method(method)
    if method == "network" and network is None:
        msg = "街道网络方法需要街道网络 (method 'network' needs a street network)"
        raise NetworkDataError(msg)
    facilities = _check_facilities(facilities)
    reqs = catalogue.requirements(standard)
    residents = float(cells.weight.sum()) if cells.weight_kind == "residents" else None

    t = time.perf_counter()
    areas = _areas_m2(facilities, cells.crs) if len(facilities) else np.empty(0)
    sets: dict[str, list[_FacilitySet]] = {}
    distinct: dict[tuple[object, ...], _FacilitySet] = {}
    limits: dict[tuple[object, ...], float] = {}
    rows = []
    for req in reqs:
        sets[req.id] = []
        for alt in req.alternatives:
            fs = select_facilities(facilities, alt, crs=cells.crs, areas=areas)
            fs = distinct.setdefault(fs.key, fs)
            limits[fs.key] = max(limits.get(fs.key, 0.0), _limit(alt.distance_m))
            sets[req.id].append(fs)
        n, status, words = _data_status(req, sets[req.id], total_residents=residents, standard=code)
        rows.append({"requirement": req.id, "tier": req.tier, "label": req.label, "accepts": req.describe(),
                     "distance_m": req.distance_m, "verification": req.verification,
                     "clause": "；".join(dict.fromkeys(a.clause for a in req.alternatives)),
                     "source": "；".join(dict.fromkeys(a.source for a in req.alternatives)),
                     "n_facilities": n, "data_status": status, "data_note": words})
    status_frame = pd.DataFrame(rows).set_index("requirement")
    timings["select_s"] = time.perf_counter() - t

    access = None
    if method == "network":
        assert network is not None
        t = time.perf_counter()
        xy = cells.xy if network.crs.equals(cells.crs) else _reproject_xy(cells, network)
        access = snap_cells(network, xy, max_access_m=max_access_m)
        timings["snap_cells_s"] = time.perf_counter() - t
    t = time.perf_counter()
    reach = measure(cells, distinct, limits, method=method, access=access, max_snap_m=max_snap_m)
    timings["distances_s"] = time.perf_counter() - t
    t = time.perf_counter()
    distance, met = judge(reqs, sets, reach, len(cells))
    timings["judge_s"] = time.perf_counter() - t

    ev = Evaluation(standard=code, edition=reqs[0].edition if reqs else "", method=method, requirements=reqs,
                    cells=cells, distance=distance, met=met, status=status_frame)
    t = time.perf_counter()
    summarise(ev)
    timings["summarise_s"] = time.perf_counter() - t
    t = time.perf_counter()
    ev.indicators = indicators(ev, sets)
    timings["indicators_s"] = time.perf_counter() - t
    from .ledger import problem_ledger

    t = time.perf_counter()
    ev.ledger = problem_ledger(ev)
    timings["ledger_s"] = time.perf_counter() - t
    _unreached_notes(ev, reach, distinct)
    ev.notes = [*cells.notes, *ev.notes]
    if access is not None and access.off_network.any():
        off = access.off_network
        ev.notes.append(f"{int(off.sum())} 个网格（{cells.weight[off].sum():,.0f} {ev.weight_label}）距街道超过 "
                        f"{max_access_m:g} m，按不可达计 ({int(off.sum())} cells are farther than {max_access_m:g} m "
                        "from any street: counted as out of reach)")
    timings["total_s"] = time.perf_counter() - t0
    ev.parameters = _parameters(ev, facilities, network, timings, distinct)
    return ev


def _reproject_xy(cells: Cells, network: StreetNetwork) -> np.ndarray:
    pts = reproject(gpd.GeoSeries(shapely.points(cells.xy), crs=cells.crs), network.crs)
    return np.asarray(shapely.get_coordinates(pts.to_numpy()))


def _unreached_notes(ev: Evaluation, reach: dict[tuple[object, ...], Reach],
                     distinct: dict[tuple[object, ...], _FacilitySet]) -> None:
    for key, r in reach.items():
        if len(r.unreached):
            fac_types = tuple(str(t) for t in np.unique(distinct[key].frame["facility_type"].astype(str)))
            types = "、".join(vocab.label("facility_type", t) for t in fac_types)
            ev.notes.append(f"{len(r.unreached)} 个{types}距街道超过最大接入距离，未计入网络距离 "
                            f"({len(r.unreached)} of {len(distinct[key].frame)} facilities are off the network)")


def _parameters(ev: Evaluation, facilities: gpd.GeoDataFrame, network: StreetNetwork | None,
                timings: dict[str, float], distinct: dict[tuple[object, ...], _FacilitySet]) -> dict[str, Any]:
    """What every figure stands on."""
    c = ev.cells
    layers = ""
    if "layer" in facilities.columns:
        counts = facilities["layer"].astype(str).value_counts()
        layers = "、".join(f"{k} ({v})" for k, v in counts.items())
    return {
        "standard": ev.standard,
        "standard_title": vocab.label("standard", ev.standard),
        "edition": ev.edition,
        "method": ev.method,
        "method_label": vocab.label("method", ev.method),
        "network_source": (network.source or "street network") if network is not None else None,
        "network_mode": network.mode if network is not None else None,
        "network_nodes": network.n_nodes if network is not None else None,
        "facilities_source": facilities.attrs.get("planatlas_source", "") or layers,
        "facility_layers": layers,
        "n_facilities": len(facilities),
        "facility_sets": len(distinct),
        "population_source": c.population_source,
        "population_method": c.population_method,
        "weight_kind": c.weight_kind,
        "weight_label": ev.weight_label,
        "weight_total": float(c.weight.sum()),
        "land": c.land,
        "land_source": c.land_source,
        "cell_m": c.cell_m,
        "cells": len(c),
        "units": len(c.units),
        "units_source": c.units.attrs.get("planatlas_source", ""),
        "metric_crs": c.crs.to_string(),
        "search_rule": f"{SEARCH_FACTOR:g} × 标准距离 (twice each requirement's distance)",
        "catalogue": catalogue.catalogue().attrs.get("source", ""),
        "timings": timings,
    }
