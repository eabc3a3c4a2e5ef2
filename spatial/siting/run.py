"""``site_facilities``: choose where N new facilities do the most good, as named steps.

1. :func:`siting_options` validates what was asked (model, count or share,
   reach, method) once, at the boundary;
2. :func:`build_relation` measures who can reach what (streets or straight
   line, :mod:`spatial.siting.relation`), with the existing facilities fixed;
3. :func:`solve` runs the model (:mod:`spatial.siting.models`);
4. :func:`marginal_curve` traces residents covered against 1 … 2N sites;
5. :func:`site_frames` turns the chosen positions into the sites table, the
   by-unit table and the figures of the result, each saying what it stands on.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import settings, vocab
from .._errors import EmptyLayerError, NetworkDataError, ParameterError
from ..network import StreetNetwork
from ..projection import metric_crs_for, reproject, require_crs
from ..standards import PRESETS
from ..thresholds import Threshold, check_positive, resolve_threshold
from .greedy import greedy_cover, greedy_median
from .models import DEFAULT_REL_GAP, MODELS, Solution, solve_lscp, solve_mclp, solve_pmedian
from .relation import Relation, network_relation, straight_line_relation
from .result import SITE_COLUMNS, SitingResult, attribution
from .targets import Target

__all__ = ["SitingOptions", "build_relation", "check_count", "default_threshold", "marginal_curve",
           "site_facilities", "siting_options", "solve"]

#: Ways distances are measured.
METHODS: tuple[str, ...] = ("network", "buffer")


def default_threshold(facility_type: str) -> Threshold:
    """The reach of a facility type from the standards presets (the first that lists the type).

    Raises
    ------
    ParameterError
        When no preset names the type: give a distance.
    """
    for preset in PRESETS.values():
        if facility_type in preset.applies_to:
            return resolve_threshold(preset=preset)
    label = vocab.label("facility_type", facility_type)
    msg = (f"没有标准给出{label}的服务距离：请用 --distance 或 --minutes 给出 "
           f"(no preset gives a reach for {facility_type!r}: give a distance)")
    raise ParameterError(msg)


@dataclass(frozen=True)
class SitingOptions:
    """What was asked, validated.

    Attributes
    ----------
    facility_type : str
    model : str
    count : int or None
        New sites (MCLP, p-median); None for LSCP.
    share : float or None
        Coverage share to reach (LSCP), 0-1.
    threshold : Threshold
    method : str
    limit_m : float
        Search limit of the distances (the reach; for the p-median farther).
    time_limit_s, rel_gap : float
    """

    facility_type: str
    model: str
    count: int | None
    share: float | None
    threshold: Threshold
    method: str
    limit_m: float
    time_limit_s: float
    rel_gap: float


def siting_options(
    *,
    facility_type: str,
    model: str = "mclp",
    count: int | None = None,
    share: float | None = None,
    threshold: Threshold | None = None,
    method: str = "buffer",
    network: StreetNetwork | None = None,
    search_m: float | None = None,
    time_limit_s: float = 60.0,
    rel_gap: float = DEFAULT_REL_GAP,
) -> SitingOptions:
    """Validate the options of a siting run once.

    Raises
    ------
    ParameterError
        Unknown type, model or method; a count for LSCP or a share for the
        others; a share outside (0, 1]; a network method without network.
    """
    if facility_type not in vocab.LABELS["facility_type"]:
        known = "、".join(vocab.codes("facility_type"))
        msg = f"未知的设施类型 {facility_type!r}；可用：{known} (unknown facility type)"
        raise ParameterError(msg)
    if model not in MODELS:
        msg = f"模型须为 {'、'.join(MODELS)} 之一，收到 {model!r} (unknown model)"
        raise ParameterError(msg)
    if method not in METHODS:
        msg = f"方法须为 network 或 buffer，收到 {method!r} (method must be 'network' or 'buffer')"
        raise ParameterError(msg)
    if method == "network" and network is None:
        msg = "街道网络方法需要街道网络 (method 'network' needs a street network)"
        raise NetworkDataError(msg)
    if model == "lscp":
        if count is not None:
            msg = ("最少设施覆盖 (lscp) 由覆盖率求数量，不能同时给出数量 "
                   "(lscp finds the count: give a share, not a count)")
            raise ParameterError(msg)
        value = check_positive(0.8 if share is None else share, "覆盖率 share")
        if value > 1:
            msg = f"覆盖率 share 须在 0 与 1 之间，收到 {share!r} (share must be in (0, 1], e.g. 0.8)"
            raise ParameterError(msg)
        share = value
    else:
        if share is not None:
            msg = f"覆盖率 share 只用于 lscp 模型 (share applies to the lscp model, not {model})"
            raise ParameterError(msg)
        if count is None:
            msg = "请给出新增设施数量 (give the number of new sites)"
            raise ParameterError(msg)
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
            msg = f"新增设施数量须为正整数，收到 {count!r} (count must be a positive whole number)"
            raise ParameterError(msg)
        count = int(count)
    reach = threshold or default_threshold(facility_type)
    limit = reach.distance_m
    if model == "pmedian":
        limit = check_positive(search_m, "搜索距离 search_m") if search_m is not None else 3 * reach.distance_m
        limit = max(limit, reach.distance_m)
    return SitingOptions(facility_type, model, count, share, reach, method, float(limit),
                         check_positive(time_limit_s, "求解时限 time_limit_s"),
                         check_positive(rel_gap, "差距容许 rel_gap", allow_zero=True))


def build_relation(opts: SitingOptions, demand: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame,
                   existing: gpd.GeoDataFrame | None, network: StreetNetwork | None) -> Relation:
    """Distances between demand cells, candidates and the existing facilities (step 2)."""
    if opts.method == "network":
        assert network is not None  # siting_options
        return network_relation(network, demand, candidates, existing, limit_m=opts.limit_m)
    return straight_line_relation(demand, candidates, existing, limit_m=opts.limit_m)


def _needed(opts: SitingOptions, weights: np.ndarray, before: np.ndarray) -> float:
    total = float(weights.sum())
    now = float(weights[before].sum())
    assert opts.share is not None
    needed = opts.share * total - now
    if needed <= 0:
        msg = (f"现有设施已覆盖 {100 * now / total:.1f}% 的居民，已达到 {100 * opts.share:g}% 的覆盖率：无需新增设施 "
               f"(the existing facilities already reach the share)")
        raise EmptyLayerError(msg)
    return needed


def check_count(count: int | None, n_candidates: int) -> None:
    """Refuse a count above the candidates (before any work when the caller knows both).

    Raises
    ------
    ParameterError
    """
    if count is not None and count > n_candidates:
        msg = (f"要选 {count} 处，但排除后只有 {n_candidates} 个候选点：请减少数量、放宽排除或增加候选点 "
               f"(asked for {count} sites but only {n_candidates} candidates are left)")
        raise ParameterError(msg)


def solve(opts: SitingOptions, relation: Relation, weights: np.ndarray) -> Solution:
    """Run the model on the relation (step 3).

    Raises
    ------
    ParameterError
        The count exceeds the candidates; the share cannot be reached.
    EmptyLayerError
        Nothing left to gain (every resident already covered).
    """
    check_count(opts.count, relation.shape[1])
    d = opts.threshold.distance_m
    if opts.model == "mclp":
        assert opts.count is not None
        return solve_mclp(relation.cover(d), weights, opts.count, covered_before=relation.covered_before(d),
                          time_limit_s=opts.time_limit_s, rel_gap=opts.rel_gap)
    if opts.model == "lscp":
        before = relation.covered_before(d)
        return solve_lscp(relation.cover(d), weights, _needed(opts, weights, before), covered_before=before,
                          time_limit_s=opts.time_limit_s, rel_gap=opts.rel_gap)
    assert opts.count is not None
    return solve_pmedian(relation.distance, weights, relation.current_m(), opts.count,
                         time_limit_s=opts.time_limit_s, rel_gap=opts.rel_gap)


def marginal_curve(opts: SitingOptions, relation: Relation, weights: np.ndarray, n_max: int) -> pd.DataFrame:
    """Residents newly covered (and, for the p-median, mean distance) against 1 … ``n_max`` sites, greedy order."""
    d = opts.threshold.distance_m
    before = relation.covered_before(d)
    total = float(weights.sum())
    now = float(weights[before].sum())
    n = np.arange(1, n_max + 1)
    cover = relation.cover(d)
    keep = ~before
    if opts.model == "pmedian":
        path = greedy_median(relation.distance, weights, relation.current_m(), n_max)
        new = _covered_along(cover, weights, keep, path.order, n_max)
        base = float(weights @ relation.current_m())
        mean = (base - path.value) / total if total > 0 else np.full(n_max, np.nan)
    else:
        rows = cover[keep]
        path = greedy_cover(rows, weights[keep], n_max)
        new = path.value
        mean = None
    marginal = np.diff(np.r_[0.0, new])
    frame = pd.DataFrame({"sites_added": n, "marginal": marginal, "residents_new": new,
                          "residents_covered": now + new,
                          "covered_pct": 100 * (now + new) / total if total > 0 else np.nan})
    if mean is not None:
        frame["mean_distance_m"] = mean
    return frame


def _covered_along(cover: Any, weights: np.ndarray, keep: np.ndarray, order: np.ndarray, n_max: int) -> np.ndarray:
    """Residents newly covered after each site of a given order."""
    out = np.zeros(n_max)
    if not len(order):
        return out
    sub = cover[:, order].tocoo()
    first = np.full(cover.shape[0], len(order))
    np.minimum.at(first, sub.row, sub.col)
    ok = keep & (first < len(order))
    gain = np.bincount(first[ok], weights=weights[ok], minlength=len(order))
    cum = np.cumsum(gain)
    out[: len(cum)] = cum[:n_max]
    out[len(cum):] = cum[-1]
    return out


def _unit_names(units: gpd.GeoDataFrame) -> pd.Series:
    for col in ("name", "name_zh", "NAME"):
        if col in units.columns:
            names: pd.Series = units[col].astype(str).reset_index(drop=True)
            return names
    return pd.Series([f"单元 {i + 1}" for i in range(len(units))])


def _locate(points: np.ndarray, units: gpd.GeoDataFrame | None, crs: Any) -> np.ndarray:
    """Position of the unit containing each point (-1 outside every unit; the first unit wins on overlaps).

    One prepared point-in-polygon test per unit over the points of its bounding
    box: far faster than a spatial join when a few complex district outlines
    hold a million demand cells.
    """
    out = np.full(len(points), -1, dtype=np.int64)
    if units is None or not len(units) or not len(points):
        return out
    xy = shapely.get_coordinates(points)
    x, y = xy[:, 0], xy[:, 1]
    geoms = np.asarray(reproject(units, crs).geometry.values, dtype=object)
    for u, geom in enumerate(geoms):
        if geom is None or shapely.is_empty(geom):
            continue
        minx, miny, maxx, maxy = shapely.bounds(geom)
        box = np.flatnonzero((out < 0) & (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy))
        if not len(box):
            continue
        shapely.prepare(geom)
        hit = shapely.intersects_xy(geom, x[box], y[box])
        out[box[hit]] = u
    return out


def site_frames(
    opts: SitingOptions, relation: Relation, solution: Solution, *, demand: gpd.GeoDataFrame,
    weights: np.ndarray, candidates: gpd.GeoDataFrame, units: gpd.GeoDataFrame | None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, dict[str, Any]]:
    """The sites table and the by-unit table of a solution, and its headline figures (step 5)."""
    d = opts.threshold.distance_m
    before = relation.covered_before(d)
    chosen = solution.chosen
    cover = relation.cover(d)
    sub = cover[:, chosen].tocoo()
    new, only = attribution(sub.col.astype(np.int64), sub.row.astype(np.int64), weights, before, len(chosen))
    reach = np.bincount(sub.col, weights=weights[sub.row], minlength=len(chosen))[: len(chosen)]
    crs = metric_crs_for(demand, name="需求 demand")
    sites = candidates.iloc[chosen].copy().reset_index(drop=True)
    points = shapely.point_on_surface(np.asarray(reproject(sites, crs).geometry.values, dtype=object))
    unit_pos = _locate(points, units, crs)
    names = _unit_names(units) if units is not None else pd.Series([], dtype=str)
    wgs = reproject(gpd.GeoSeries(points, crs=crs), settings.STORAGE_CRS)
    sites["rank"] = np.arange(1, len(chosen) + 1)
    sites["facility_type"] = opts.facility_type
    sites["residents_new"] = new
    sites["residents_only"] = only
    sites["residents_reach"] = reach
    if opts.model == "pmedian":
        nearest, saving = _median_attribution(relation, weights, chosen)
        sites["residents_nearest"] = nearest
        sites["saving_resident_m"] = saving
    sites["unit_name"] = [names.iloc[u] if u >= 0 else "" for u in unit_pos]
    sites["lon"] = wgs.x.to_numpy()
    sites["lat"] = wgs.y.to_numpy()
    sites["source"] = f"planatlas 选址 ({vocab.label('siting_model', opts.model, en=True)})"
    sites["source_datum"] = "WGS84"
    if "precision" not in sites.columns:
        sites["precision"] = "approximate"
    ordered = [c for c in (*SITE_COLUMNS, "cell_m") if c in sites.columns]
    sites = gpd.GeoDataFrame(sites[[*ordered, sites.geometry.name]], geometry=sites.geometry.name,
                             crs=candidates.crs)
    sites = reproject(sites, settings.STORAGE_CRS)
    after = before.copy()
    after[np.unique(sub.row)] = True
    by_unit = _by_unit(units, demand, weights, before, after, unit_pos, crs)
    total = float(weights.sum())
    figures: dict[str, Any] = {
        "population": total, "covered_before": float(weights[before].sum()),
        "covered_after": float(weights[after].sum()), "residents_new": float(new.sum()),
        "pct_before": 100 * float(weights[before].sum()) / total if total else math.nan,
        "pct_after": 100 * float(weights[after].sum()) / total if total else math.nan,
    }
    if opts.model == "pmedian":
        cur = relation.current_m()
        figures["mean_distance_before_m"] = float(weights @ cur) / total if total else math.nan
        figures["mean_distance_after_m"] = solution.objective / total if total else math.nan
    return sites, by_unit, figures


def _median_attribution(relation: Relation, weights: np.ndarray, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Residents for whom each new site becomes the nearest facility, and the resident-metres it saves them."""
    cur = relation.current_m()
    sub = relation.distance[:, chosen].tocoo()
    better = sub.data < cur[sub.row]
    r, c, dist = sub.row[better], sub.col[better], sub.data[better]
    order = np.lexsort((dist, r))
    r, c, dist = r[order], c[order], dist[order]
    first = np.ones(len(r), dtype=bool)
    first[1:] = r[1:] != r[:-1]
    r, c, dist = r[first], c[first], dist[first]
    nearest = np.bincount(c, weights=weights[r], minlength=len(chosen))[: len(chosen)]
    saving = np.bincount(c, weights=weights[r] * (cur[r] - dist), minlength=len(chosen))[: len(chosen)]
    return nearest, saving


def _by_unit(units: gpd.GeoDataFrame | None, demand: gpd.GeoDataFrame, weights: np.ndarray, before: np.ndarray,
             after: np.ndarray, site_unit: np.ndarray, crs: Any) -> gpd.GeoDataFrame:
    """Residents covered before and after, by unit (one row for the whole area when there are no units)."""
    dpts = shapely.point_on_surface(np.asarray(reproject(demand, crs).geometry.values, dtype=object))
    if units is None or not len(units):
        hull = shapely.convex_hull(shapely.union_all(dpts))
        frame = gpd.GeoDataFrame({"name": ["研究范围 (study area)"]}, geometry=[hull], crs=crs)
        pos = np.zeros(len(dpts), dtype=np.int64)
        n_units = 1
        site_unit = np.zeros(len(site_unit), dtype=np.int64)
    else:
        frame = gpd.GeoDataFrame({"name": _unit_names(units).to_numpy()},
                                 geometry=reproject(units, crs).geometry.to_numpy(), crs=crs)
        pos = _locate(dpts, units, crs)
        n_units = len(units)
    ok = pos >= 0
    def per(mask: np.ndarray) -> np.ndarray:
        sel = ok & mask
        return np.bincount(pos[sel], weights=weights[sel], minlength=n_units)[:n_units]
    pop = per(np.ones(len(weights), dtype=bool))
    cb, ca = per(before), per(after)
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["population"] = pop
        frame["covered_before"] = cb
        frame["covered_after"] = ca
        frame["pct_before"] = np.where(pop > 0, 100 * cb / pop, np.nan)
        frame["pct_after"] = np.where(pop > 0, 100 * ca / pop, np.nan)
    frame["new_sites"] = np.bincount(site_unit[site_unit >= 0], minlength=n_units)[:n_units]
    return reproject(frame, settings.STORAGE_CRS)


def _describe_facilities(existing: gpd.GeoDataFrame | None) -> str:
    if existing is None or not len(existing):
        return "无 (none)"
    source = existing.attrs.get("planatlas_source", "")
    if not source and "source" in existing.columns:
        values = existing["source"].dropna().astype(str).unique()
        source = "、".join(values[:3]) + ("…" if len(values) > 3 else "")
    return source or "未注明来源 (source not stated)"


def site_facilities(
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    facility_type: str,
    existing: gpd.GeoDataFrame | None = None,
    model: str = "mclp",
    count: int | None = None,
    share: float | None = None,
    threshold: Threshold | None = None,
    method: str = "buffer",
    network: StreetNetwork | None = None,
    units: gpd.GeoDataFrame | None = None,
    target: Target | None = None,
    weight_column: str | None = None,
    search_m: float | None = None,
    time_limit_s: float = 60.0,
    rel_gap: float = DEFAULT_REL_GAP,
    candidates_description: str = "",
) -> SitingResult:
    """Choose sites for new facilities of a type, the existing ones fixed.

    Parameters
    ----------
    demand : GeoDataFrame
        Demand cells (points or cells) with residents in ``weight_column``
        (e.g. :func:`spatial.siting.inputs.demand_of` of the evaluation's
        cells, whose weight column is ``weight``); its ``attrs`` may name
        ``population_source``, ``population_method`` and ``weight_unit``.
    candidates : GeoDataFrame
        Candidate sites (:mod:`spatial.siting.candidates`), after exclusions.
    facility_type : str, keyword-only
        A code of the vocab domain ``facility_type``.
    existing : GeoDataFrame, optional, keyword-only
        The existing facilities of the type; they stay.
    model : {"mclp", "lscp", "pmedian"}, keyword-only
    count : int, optional, keyword-only
        New sites (MCLP, p-median); ``target.count`` when not given.
    share : float, optional, keyword-only
        Coverage share the LSCP must reach (default 0.8).
    threshold : Threshold, optional, keyword-only
        Reach; default the first standards preset naming the type.
    method : {"buffer", "network"}, keyword-only
        Straight-line or street distances (``network`` needs ``network``).
    network : StreetNetwork, optional, keyword-only
    units : GeoDataFrame, optional, keyword-only
        Units for the before/after table (with ``name``).
    target : Target, optional, keyword-only
        The report target the siting answers (:func:`spatial.siting.targets.target_for`).
    weight_column : str, optional, keyword-only
        Column of what each demand cell weighs (default ``weight`` when the
        frame has one, else ``population``).
    search_m : float, optional, keyword-only
        p-median search limit, metres (default 3 × the reach); residents
        farther from every facility count at it.
    time_limit_s, rel_gap : float, keyword-only
        Solver time limit (s) and the gap at which a solution is optimal.
    candidates_description : str, keyword-only
        What the candidates are (shown with the result).

    Returns
    -------
    SitingResult

    Raises
    ------
    ParameterError, EmptyLayerError, NetworkDataError, CRSError
        Bad options, no demand, no candidates, a count above the candidates,
        a network that does not reach them.
    """
    t0 = time.perf_counter()
    if count is None and target is not None and model != "lscp":
        count = target.count
    opts = siting_options(facility_type=facility_type, model=model, count=count, share=share, threshold=threshold,
                          method=method, network=network, search_m=search_m, time_limit_s=time_limit_s,
                          rel_gap=rel_gap)
    require_crs(demand, name="需求 demand")
    if weight_column is None:
        weight_column = "weight" if "weight" in demand.columns else "population"
    if weight_column not in demand.columns:
        msg = f"需求单元没有人口字段 {weight_column} (demand cells have no {weight_column!r} column)"
        raise EmptyLayerError(msg)
    weights = pd.to_numeric(demand[weight_column], errors="coerce").fillna(0).clip(lower=0).to_numpy(np.float64)
    if not len(demand) or weights.sum() <= 0:
        msg = "没有需求：需求单元中没有居民 (no demand: the demand cells hold no residents)"
        raise EmptyLayerError(msg)
    relation = build_relation(opts, demand, candidates, existing, network)
    t_rel = time.perf_counter() - t0
    solution = solve(opts, relation, weights)
    n = len(solution.chosen) if opts.model == "lscp" else int(opts.count or 0)
    curve = marginal_curve(opts, relation, weights, max(2 * n, 1))
    sites, by_unit, figures = site_frames(opts, relation, solution, demand=demand, weights=weights,
                                          candidates=candidates, units=units)
    existing_frame = (reproject(existing, settings.STORAGE_CRS) if existing is not None and len(existing)
                      else gpd.GeoDataFrame({"name": []}, geometry=[], crs=settings.STORAGE_CRS))
    basis = (f"报告目标 {target.count} {target.unit}" if target is not None and count == target.count
             and opts.model != "lscp" else
             f"达到 {100 * (opts.share or 0):g}% 覆盖率所需的最少数量" if opts.model == "lscp" else "指定数量")
    parameters: dict[str, Any] = {
        "facility_type": opts.facility_type,
        "facility_label": vocab.label("facility_type", opts.facility_type),
        "model": opts.model, "count": n, "count_basis": basis, "share": opts.share,
        "distance_m": opts.threshold.distance_m, "reach": opts.threshold.describe(),
        "preset": opts.threshold.preset.id if opts.threshold.preset else None,
        "preset_source": opts.threshold.preset.source if opts.threshold.preset else None,
        "method": opts.method, "distance_source": relation.source, "limit_m": opts.limit_m,
        "population_source": demand.attrs.get("population_source", "") or "需求单元 (demand cells)",
        "population_method": demand.attrs.get("population_method", "") or "—",
        "demand_cells": len(demand),
        "weight_unit": demand.attrs.get("weight_unit", "人"),
        "existing_count": 0 if existing is None else len(existing),
        "existing_source": _describe_facilities(existing),
        "candidates": len(candidates),
        "candidates_description": candidates_description or f"{len(candidates)} 个",
        "unreached_candidates": len(relation.unreached_candidates),
        "solver": solution.solver, "status": solution.status, "objective": solution.objective,
        "bound": solution.bound, "gap": solution.gap, "proven_optimal": solution.proven_optimal,
        "time_limit_s": opts.time_limit_s, "rel_gap": opts.rel_gap, "solver_details": dict(solution.details),
        "population_note": demand.attrs.get("population_note", ""),
        "timings": {"relation_s": t_rel, "solve_s": solution.time_s, "total_s": time.perf_counter() - t0},
        **figures,
    }
    if target is not None:
        parameters.update({"target_subject": target.subject, "target_count": target.count,
                           "target_unit": target.unit, "target_year": target.year,
                           "target_item_id": target.item_id, "target_sentence": target.sentence})
    return SitingResult(sites, curve, by_unit, solution, existing_frame, parameters, target)
