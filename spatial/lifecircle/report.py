"""The report a planner hands in: one self-contained HTML file, with the GeoPackage and the ledger beside it.

:func:`write_outputs` writes into a folder:

``lifecircle_report.html``
    one page that opens from disk with no internet and prints to PDF from the
    browser: the method and what the figures stand on (facilities, population,
    network, standard edition), the honest notes, the city-wide figures per
    tier, the 城市体检 indicators, the table per facility type, the table per
    unit, a completeness map per tier, a blind-spot (盲区) map per facility
    type, a chart per unit of the types within reach, the problem ledger and
    the catalogue rows the evaluation stands on, each with its verification.
``lifecircle.gpkg``
    the cells (distance and met per requirement, completeness per tier) and
    the units (their figures) as layers, the ledger as an attribute table.
``lifecircle_ledger.xlsx`` / ``lifecircle_ledger.csv``
    the problem ledger with Chinese headings.
``lifecircle_units.csv``
    the per-unit table.

Why static maps (matplotlib PNG, inlined as ``data:`` URIs) rather than
Leaflet in the report: a report is printed and filed; tiles do not print and
need the internet, one Leaflet map per facility type would put dozens of map
scripts on a page, and a grid of 100 m cells draws as one image in
milliseconds (:func:`_grid_image`). The interactive map is the app's.

Every text that comes from data (unit names, layer names, sources, notes) is
HTML-escaped.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import os
import warnings
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import settings, store, vocab
from .._atomic import atomic_path
from .._errors import StoreError
from ..layerspec import LayerSpec, LayerStyle
from ..projection import reproject
from . import catalogue
from .ledger import ledger_for_people, write_ledger

if TYPE_CHECKING:
    from .evaluate import Evaluation

__all__ = ["RESULT_SPECS", "write_outputs", "write_report"]

#: How the evaluation's layers are drawn and described in the GeoPackage and the app.
RESULT_SPECS: dict[str, LayerSpec] = {
    "lifecircle_cells": LayerSpec("lifecircle_cells", "生活圈体检网格", "Life-circle evaluation cells",
                                  role="analysis", order=300, geometry_type="Polygon",
                                  style=LayerStyle(color="#2b8cbe", weight=0.5, fill_opacity=0.6)),
    "lifecircle_units": LayerSpec("lifecircle_units", "生活圈体检单元", "Life-circle evaluation units",
                                  role="analysis", order=290, geometry_type="MultiPolygon",
                                  style=LayerStyle(color="#444444", weight=1, fill_opacity=0.3)),
}

_CSS = """
body{font-family:"Noto Sans CJK SC","Noto Sans SC","Microsoft YaHei","PingFang SC",sans-serif;margin:2em;
color:#222;max-width:1100px}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;border-bottom:2px solid #2b8cbe;padding-bottom:.2em;
margin-top:1.6em}h3{font-size:1.05em}
table{border-collapse:collapse;margin:.6em 0;font-size:.86em;width:100%}
th,td{border:1px solid #bbb;padding:.25em .45em;text-align:left;vertical-align:top}
th{background:#eef4f8}td.n{text-align:right;white-space:nowrap}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:.4em .8em;margin:.4em 0}
.thin{color:#b35900}.nodata{color:#888}.fail{color:#c0392b;font-weight:bold}.pass{color:#1a7f37;font-weight:bold}
.meta td:first-child{width:14em;font-weight:bold;background:#f6f6f6}
img{max-width:100%}.grid{display:flex;flex-wrap:wrap;gap:.5em}.grid figure{margin:0;width:32%}
figcaption{font-size:.8em;color:#555}
@media print{body{margin:0;max-width:none}h2{page-break-after:avoid}table,figure{page-break-inside:avoid}}
"""


# --------------------------------------------------------------------------- plotting


@cache
def _plt() -> Any:
    """matplotlib with the Agg backend and a font that has Chinese glyphs, when the machine has one."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    wanted = ("NotoSansCJK-Regular", "NotoSansCJK", "SourceHanSans", "wqy-microhei", "wqy-zenhei", "DroidSansFallback",
              "NotoSerifCJK", "msyh", "simhei")
    found = {Path(p).name: p for p in font_manager.findSystemFonts()}
    for key in wanted:  # one font is enough; loading a CJK collection takes about a second
        path = next((p for name, p in sorted(found.items()) if name.startswith(key)), None)
        if path is None:
            continue
        try:
            font_manager.fontManager.addfont(path)
            name = font_manager.FontProperties(fname=path).get_name()
        except (OSError, RuntimeError, ValueError):
            continue
        plt.rcParams["font.sans-serif"] = [name, *plt.rcParams["font.sans-serif"]]
        break
    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["axes.unicode_minus"] = False
    return plt


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a machine without a CJK font draws boxes, not errors
        fig.savefig(buf, format="png", dpi=90)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _grid_image(ev: Evaluation, values: np.ndarray) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Cell values on the grid of squares (the largest value per square), NaN where no cell; and its extent."""
    c = ev.cells
    ll = c.square_corner
    cell = c.cell_m
    x0, y0 = ll[:, 0].min(), ll[:, 1].min()
    col = np.round((ll[:, 0] - x0) / cell).astype(np.int64)
    row = np.round((ll[:, 1] - y0) / cell).astype(np.int64)
    width, height = int(col.max()) + 1, int(row.max()) + 1
    img = np.full((height, width), np.nan)
    order = np.argsort(np.nan_to_num(values, nan=-np.inf), kind="stable")
    img[row[order], col[order]] = values[order]
    return img[::-1], (x0, x0 + width * cell, y0, y0 + height * cell)


def _map(ev: Evaluation, values: np.ndarray, *, title: str, cmap: Any, vmin: float, vmax: float,
         legend: list[tuple[str, str]] | None = None, size: float = 4.2) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(size, size))
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.92)
    img, extent = _grid_image(ev, values)
    ax.imshow(img, extent=extent, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ev.cells.units.boundary.plot(ax=ax, color="#333333", linewidth=0.6)
    ax.set_title(title, fontsize=10)
    ax.set_axis_off()
    ax.set_aspect("equal")
    if legend:
        from matplotlib.patches import Patch

        ax.legend(handles=[Patch(color=col, label=lab) for lab, col in legend], loc="lower left", fontsize=7,
                  frameon=True)
    return _png(fig)


def _completeness_maps(ev: Evaluation) -> list[tuple[str, str]]:
    plt = _plt()
    out = []
    for tier in ev.tiers:
        if not ev.evaluated(tier):
            continue
        comp = ev.completeness(tier)
        label = vocab.label("tier", tier)
        out.append((f"{label}完整度", _map(ev, comp, title=f"{label}：设施完整度 (0-100%)",
                                          cmap=plt.get_cmap("RdYlGn"), vmin=0.0, vmax=1.0,
                                          legend=[("0%", "#a50026"), ("50%", "#ffffbf"), ("100%", "#006837")])))
    return out


def _blind_spot_maps(ev: Evaluation) -> list[tuple[str, str]]:
    from matplotlib.colors import ListedColormap

    cmap = ListedColormap(["#d7301f", "#74c476"])
    out = []
    for rid in ev.evaluated():
        row = ev.status.loc[rid]
        values = ev.met[rid].to_numpy().astype(float)
        values[ev.cells.weight <= 0] = np.nan
        title = f"{vocab.label('tier', row['tier'])} · {row['label']}"
        out.append((title, _map(ev, values, title=title, cmap=cmap, vmin=0, vmax=1, size=3.2,
                                legend=[("盲区 (out of reach)", "#d7301f"), ("可达 (in reach)", "#74c476")])))
    return out


def _unit_charts(ev: Evaluation, limit: int = 60) -> list[tuple[str, str]]:
    plt = _plt()
    ids = ev.evaluated()
    if not ids or ev.unit_types.empty:
        return []
    ut = ev.unit_types
    order = ev.by_unit.sort_values("weight", ascending=False)["unit"].tolist()[:limit]
    labels = [f"{vocab.label('tier', str(ev.status.at[r, 'tier']))[:3]} {str(ev.status.at[r, 'label'])[:10]}"
              for r in ids]
    out = []
    for unit in order:
        rows = ut[(ut["unit"] == unit) & ut["requirement"].isin(ids)].set_index("requirement").reindex(ids)
        share = rows["in_reach_pct"].to_numpy(dtype="float64")
        height = 0.22 * len(ids) + 0.9
        fig, ax = plt.subplots(figsize=(3.6, height))
        fig.subplots_adjust(left=0.42, right=0.97, bottom=0.55 / height, top=1 - 0.3 / height)
        colours = ["#74c476" if v >= 99.95 else "#fdae61" if v >= 50 else "#d7301f" for v in np.nan_to_num(share)]
        ax.barh(np.arange(len(ids)), np.nan_to_num(share), color=colours)
        ax.set_yticks(np.arange(len(ids)), labels, fontsize=6)
        ax.invert_yaxis()
        ax.set_xlim(0, 100)
        ax.set_xlabel("可达比例 (%)", fontsize=7)
        ax.tick_params(axis="x", labelsize=6)
        ax.set_title(str(unit), fontsize=9)
        out.append((str(unit), _png(fig)))
    return out


# --------------------------------------------------------------------------- HTML


def _e(value: object) -> str:
    return html.escape("" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value))


def _num(value: object, digits: int = 0, *, people: bool = False) -> str:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return _e(value)
    if np.isnan(number):
        return "—"
    if np.isinf(number):
        return "超出搜索范围"
    return f"{number:,.{0 if people else digits}f}"


def _table(header: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(r))
        + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _f(value: object) -> float:
    """A table cell as a float (NaN when it is not a number)."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


def _distance_text(value: float, limit: float) -> str:
    if np.isfinite(value):
        return f"{value:,.0f}"
    return f"&gt; {limit:,.0f}"


def _limits(ev: Evaluation) -> dict[str, float]:
    return ev.search_limits()


def _method_section(ev: Evaluation, title: str) -> str:
    p = ev.parameters
    rows = [
        ("标准 (standard)", f"{_e(p['standard_title'])}；版本 {_e(p['edition'])}；条目与出处见文末“标准条目” "
                           f"(catalogue {_e(p['catalogue'])})"),
        ("方法 (method)", _e(p["method_label"]) + (f"；网络：{_e(p['network_source'])} "
                                                  f"({_e(vocab.label('mode', p['network_mode']))}，"
                                                  f"{_num(p['network_nodes'])} 个节点)" if p.get("network_source")
                                                  else "；直线距离 (straight line)")),
        ("设施 (facilities)", f"{_e(p['facilities_source'] or '—')}，共 {_num(p['n_facilities'])} 个"),
        ("人口 (population)", f"{_e(p['population_source'])}；{_e(p['population_method'])}"),
        ("计量 (what figures count)", _e(p["weight_label"])),
        ("居住用地 (land)", f"{_e(p['land_source'])}；{_num(p['cell_m'])} m 网格，{_num(p['cells'])} 个网格"),
        ("单元 (units)", f"{_e(p['units_source'] or '—')}，{_num(p['units'])} 个"),
        ("搜索范围 (search)", f"每类设施一次多源搜索，至 {_e(p['search_rule'])}"),
        ("坐标 (CRS)", f"以 {_e(p['metric_crs'])} 计量，输出 WGS-84 (EPSG:4326)"),
        ("生成 (made)", f"planatlas {_e(_version())}，{_e(_dt.datetime.now().strftime('%Y-%m-%d %H:%M'))}"),
    ]
    meta = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in rows)
    notes = "".join(f'<div class="note">{_e(n)}</div>' for n in ev.notes)
    return (f"<h1>{_e(title)}</h1><p>{_e(vocab.label('standard', ev.standard))} · "
            f"{_e(vocab.label('method', ev.method))} · {_e(ev.weight_label)}</p>"
            f"<h2>方法与数据 (method and data)</h2><table class='meta'>{meta}</table>{notes}")


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("planatlas")
    except Exception:  # not installed: a source checkout
        return "source"


def _city_section(ev: Evaluation) -> str:
    city = ev.city.iloc[0]
    rows = []
    for tier in ev.tiers:
        judged = int(city.get(f"judged_{tier}", 0))
        total = len([r for r in ev.requirements if r.tier == tier])
        rows.append([_e(vocab.label("tier", tier)), f"{judged} / {total}", _num(city.get(f"all_{tier}"), people=True),
                     _num(city.get(f"all_{tier}_pct"), 1), _num(city.get(f"complete_{tier}_pct"), 1)])
    w = _e(ev.weight_label)
    table = _table(["层级", "有数据的要求 / 全部要求", f"全部可达的{w}", "占比 (%)", "平均完整度 (%)"], rows, {2, 3, 4})
    return (f"<h2>全市概况 (city)</h2><p>总计 {_num(city['weight'], people=True)} {w}，"
            f"{_num(city['cells'])} 个网格，居住用地 {_num(city['area_ha'], 1)} ha。完整度只计有设施数据的要求；"
            f"无数据的要求列在下表，未计入。</p>{table}")


def _indicator_section(ev: Evaluation) -> str:
    if ev.indicators.empty:
        return ""
    rows = []
    for _, r in ev.indicators.iterrows():
        result = str(r.get("result", ""))
        css = {"pass": "pass", "fail": "fail"}.get(result, "nodata")
        rows.append([_e(r["name"]), _num(r.get("value_pct"), 1), _num(r.get("network_pct"), 1), _e(r.get("threshold")),
                     f'<span class="{css}">{_e(vocab.label("pass_fail", result))}</span>',
                     _e(r.get("definition")), _e(f"{r.get('method_note', '')}；{r.get('note', '')}"),
                     _e(vocab.label("verification", r.get("verification"))), _e(r.get("clause"))])
    header = ["指标", "数值 (%)", "沿街道网络 (%)", "阈值", "结果", "定义", "说明", "核实程度", "条款"]
    table = _table(header, rows, {1, 2})
    return (f"<h2>城市体检指标 (indicators)</h2><p>分母：评估范围内的居住用地面积 "
            f"{_num(float(ev.indicators['denominator_ha'].iloc[0]), 1)} ha。</p>{table}")


def _types_section(ev: Evaluation) -> str:
    limits = _limits(ev)
    bt = ev.by_type.set_index("requirement")
    rows = []
    missing = []
    for rid, s in ev.status.iterrows():
        b = bt.loc[str(rid)]
        status = str(s["data_status"])
        css = {"thin": "thin", "no_data": "nodata"}.get(status, "")
        judged = status != "no_data"
        if not judged:
            missing.append(f"{_e(vocab.label('tier', s['tier']))} · {_e(s['label'])}"
                           f" ({_e(vocab.label('verification', s['verification']))})")
            continue
        rows.append([
            _e(vocab.label("tier", s["tier"])), _e(s["label"]), _e(s["accepts"]), _num(s["n_facilities"]),
            _num(b["in_reach_pct"], 1) if judged else "—", _num(b["missing"], people=True) if judged else "—",
            _distance_text(_f(bt.at[str(rid), "median_m"]), limits[str(rid)]) if judged else "—",
            _distance_text(_f(bt.at[str(rid), "p90_m"]), limits[str(rid)]) if judged else "—",
            f'<span class="{css}">{_e(s["data_note"])}</span>',
            _e(vocab.label("verification", s["verification"])), _e(s["clause"]),
        ])
    w = _e(ev.weight_label)
    none = (f"<p class='nodata'>无设施数据、未判断的要求 ({len(missing)} 项；未计入完整度与问题台账)："
            f"{'；'.join(missing)}</p>" if missing else "")
    return ("<h2>分设施类型 (by facility type)</h2>"
            + _table(["层级", "设施 (标准原名)", "判定条件", "设施数", "可达比例 (%)", f"不可达{w}",
                      "距离中位数 (m)", "90%分位距离 (m)", "数据说明", "核实程度", "条款"], rows, {3, 4, 5, 6, 7})
            + none)


def _units_section(ev: Evaluation) -> str:
    w = _e(ev.weight_label)
    header = ["单元", w]
    for tier in ev.tiers:
        if ev.evaluated(tier):
            t = vocab.label("tier", tier)
            header += [f"{t}全部可达 (%)", f"{t}平均完整度 (%)"]
    rows = []
    for _, u in ev.by_unit.iterrows():
        row = [_e(u["unit"]), _num(u["weight"], people=True)]
        for tier in ev.tiers:
            if ev.evaluated(tier):
                row += [_num(u[f"all_{tier}_pct"], 1), _num(u[f"complete_{tier}_pct"], 1)]
        rows.append(row)
    return "<h2>分单元 (by unit)</h2>" + _table(header, rows, set(range(1, len(header))))


def _ledger_section(ev: Evaluation, limit: int = 200) -> str:
    if ev.ledger.empty:
        return "<h2>问题台账 (problem ledger)</h2><p>没有缺项：每个有数据的要求都覆盖了全部居住网格。</p>"
    shown = ledger_for_people(ev.ledger.head(limit), limit_m=_limits(ev))
    cols = [c for c in shown.columns if c not in ("要求代码", "数据说明", "条款")]
    rows = [[_e(v) for v in r] for r in shown[cols].itertuples(index=False)]
    more = (f"<p>仅列出前 {limit} 行，共 {len(ev.ledger)} 行；完整台账见 lifecircle_ledger.xlsx。</p>"
            if len(ev.ledger) > limit else "")
    numeric = {i for i, c in enumerate(cols) if c.startswith(("排序", "受影响", "占单元", "缺口"))}
    return "<h2>问题台账 (problem ledger)</h2>" + _table(cols, rows, numeric) + more


def _figures_section(title: str, figures: list[tuple[str, str]], note: str = "") -> str:
    if not figures:
        return ""
    items = "".join(f'<figure><img alt="{_e(c)}" src="{src}"><figcaption>{_e(c)}</figcaption></figure>'
                    for c, src in figures)
    return f"<h2>{_e(title)}</h2>{note}<div class='grid'>{items}</div>"


def _catalogue_section(ev: Evaluation) -> str:
    rows = []
    for _, r in catalogue.standard_rows(ev.standard).iterrows():
        types = "、".join(vocab.label("facility_type", t) for t in str(r["facility_types"]).split("|") if t)
        dist = r["distance_m"] or (f"{r['minutes']} 分钟" if r["minutes"] else "")
        rows.append([_e(r["edition"]), _e(r["clause"]), _e(vocab.label("tier", r["tier"])), _e(r["facility_zh"]),
                     _e(types), _e(dist), _e(r["threshold"]), _e(vocab.label("verification", r["verification"])),
                     _e(r["source"]), _e(r["note"])])
    return ("<h2>标准条目 (the catalogue rows this evaluation stands on)</h2>"
            "<p>每行注明核实程度：已读原文 = 在全文转载中读到条文；二手来源 = 论文、词条或解读转述；"
            "未核实 = 凭记忆或团队笔记，未读到来源。没有一行读到官方正式文本。</p>"
            + _table(["文件", "条款", "层级", "名称", "设施类型", "距离 (m)", "阈值", "核实程度", "出处", "说明"],
                     rows))


def report_html(ev: Evaluation, *, title: str = "生活圈体检报告") -> str:
    """The whole report as one HTML document (maps and charts inlined)."""
    parts = [
        _method_section(ev, title), _city_section(ev), _indicator_section(ev), _types_section(ev),
        _units_section(ev),
        _figures_section("完整度地图 (completeness)", _completeness_maps(ev)),
        _figures_section("盲区地图 (blind spots by facility type)", _blind_spot_maps(ev),
                         "<p>红色：居住网格到该类设施超出标准距离；绿色：可达。</p>"),
        _figures_section("各单元可达设施 (types in reach, by unit)", _unit_charts(ev)),
        _ledger_section(ev), _catalogue_section(ev),
    ]
    body = "".join(parts)
    return (f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>{_e(title)}</title>"
            f"<style>{_CSS}</style></head><body>{body}</body></html>")


def write_report(ev: Evaluation, path: str | os.PathLike[str], *, title: str = "生活圈体检报告") -> Path:
    """Write :func:`report_html` to ``path`` atomically."""
    target = Path(path)
    text = report_html(ev, title=title)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target, suffix=".html") as tmp:
            tmp.write_text(text, encoding="utf-8")
    except StoreError:  # already said in words (disk full …) by atomic_path
        raise
    except OSError as exc:
        msg = f"无法写入报告 {target} ({exc.strerror or exc}) (cannot write the report)"
        raise StoreError(msg) from None
    return target


def units_frame(ev: Evaluation) -> Any:
    """The units with their figures (EPSG:4326), one row per unit."""
    units = ev.cells.units[["unit", "geometry"]].merge(ev.by_unit, on="unit", how="left")
    return reproject(units, settings.STORAGE_CRS)


def output_paths(out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """The files :func:`write_outputs` writes into ``out_dir``, by key (for the CLI to check them first)."""
    out = Path(out_dir).expanduser()
    return {
        "report": out / "lifecircle_report.html", "gpkg": out / "lifecircle.gpkg",
        "xlsx": out / "lifecircle_ledger.xlsx", "csv": out / "lifecircle_ledger.csv",
        "units_csv": out / "lifecircle_units.csv",
    }


def write_outputs(ev: Evaluation, out_dir: str | os.PathLike[str], *, title: str = "生活圈体检报告") -> dict[str, Path]:
    """Write the report, the GeoPackage, the ledger (XLSX and CSV) and the unit table into ``out_dir``.

    Returns
    -------
    dict of str to Path
        ``report``, ``gpkg``, ``xlsx``, ``csv``, ``units_csv``.

    Raises
    ------
    StoreError
        The folder cannot be written.
    """
    out = Path(out_dir).expanduser()
    if out.exists() and not out.is_dir():
        msg = f"--out 须为文件夹，{out} 是文件 (the output must be a folder; {out} is a file)"
        raise StoreError(msg)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except StoreError:  # already said in words (disk full …) by atomic_path
        raise
    except OSError as exc:
        msg = f"无法创建文件夹 {out} ({exc.strerror or exc}) (cannot create the folder)"
        raise StoreError(msg) from None
    paths = output_paths(out)
    limits = _limits(ev)
    notes = [f"{k}: {v}" for k, v in ev.parameters.items() if k != "timings"] + ev.notes
    write_ledger(ev.ledger, paths["xlsx"], limit_m=limits, notes=notes)
    write_ledger(ev.ledger, paths["csv"], limit_m=limits)
    ledger_table = ev.ledger.copy()
    ledger_table["missing_median_m"] = ledger_table["missing_median_m"].replace([np.inf], np.nan)
    store.write_store({"lifecircle_cells": ev.cells_frame(), "lifecircle_units": units_frame(ev)}, paths["gpkg"],
                      specs=RESULT_SPECS, tables={"lifecircle_ledger": pd.DataFrame(ledger_table),
                                                  "lifecircle_status": ev.status.reset_index()})
    try:
        with atomic_path(paths["units_csv"], suffix=".csv") as tmp:
            ev.by_unit.to_csv(tmp, index=False, encoding="utf-8-sig")
    except StoreError:  # already said in words (disk full …) by atomic_path
        raise
    except OSError as exc:
        msg = f"无法写入 {paths['units_csv']} ({exc.strerror or exc})"
        raise StoreError(msg) from None
    write_report(ev, paths["report"], title=title)
    return paths
