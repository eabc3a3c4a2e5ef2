"""生活圈体检 (life-circle evaluation) page: a standard's requirements judged cell by cell, by unit, with the ledger.

The page runs exactly what ``planatlas evaluate`` runs (inputs read from the
project store by :func:`spatial.lifecircle.inputs.read_inputs`, cells,
evaluation, outputs), so its numbers are the command line's.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from app_pages import common, result_map, state
from spatial import vocab
from spatial._errors import PlanatlasError

_STANDARDS = {"gb50180": "GB 50180-2018 五/十/十五分钟生活圈", "mofcom": "商务部 一刻钟便民生活圈",
              "chengshi-tijian": "住建部 城市体检指标"}
_METHODS = {"network": vocab.label("method", "network"), "buffer": vocab.label("method", "buffer")}
_POPULATION = {"auto": "自动 (单元有人口数则用之，否则不计人口)", "units": "单元人口数按居住用地/建筑面积分配",
               "none": "不计人口 (按居住建筑/用地面积)"}
_DOWNLOADS = (("report", "报告 (HTML)", "text/html"),
              ("gpkg", "网格与单元 (GeoPackage)", "application/geopackage+sqlite3"),
              ("xlsx", "问题台账 (XLSX)",
               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
              ("csv", "问题台账 (CSV)", "text/csv"))


@st.cache_resource(show_spinner="正在评估…", max_entries=4)
def _evaluate(path: str, mtime: float, standard: str, method: str, units: str | None, population: str,
              cell_m: float) -> tuple[object, dict[str, bytes]]:
    """The evaluation and its output files (as bytes), once per store version and choice of options."""
    from spatial.lifecircle.cells import build_cells
    from spatial.lifecircle.evaluate import evaluate
    from spatial.lifecircle.inputs import read_inputs
    from spatial.lifecircle.report import write_outputs

    inputs = read_inputs(path, units=units, method=method, population=population)
    cells = build_cells(inputs.units, residential=inputs.residential, buildings=inputs.buildings,
                        population=inputs.population, cell_m=cell_m)
    ev = evaluate(cells, inputs.facilities, standard=standard, method=method, network=inputs.network)
    ev.parameters["store"] = path
    ev.parameters["units_layer"] = inputs.units_layer
    ev.notes = [*inputs.notes, *ev.notes]
    from spatial._atomic import sweep_stale, temp_dir_prefix

    sweep_stale(tempfile.gettempdir())  # what a killed server left
    with tempfile.TemporaryDirectory(prefix=temp_dir_prefix("eval")) as tmp:
        paths = write_outputs(ev, tmp, title=f"生活圈体检报告：{Path(path).stem}")
        files = {key: paths[key].read_bytes() for key, _label, _mime in _DOWNLOADS}
    return ev, files


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _has_network(mode: str = "walk") -> bool:
    return f"network_{mode}" in common.store_layer_names()


def _choices() -> dict[str, object] | None:
    standard = st.selectbox("评估标准", list(_STANDARDS), format_func=_STANDARDS.get, key="w_lc_standard",
                            persist_state="session")
    network = _has_network()
    methods = list(_METHODS) if network else ["buffer"]
    method = st.radio("距离", methods, format_func=_METHODS.get, key="w_lc_method",
                      persist_state="session", horizontal=True)
    if not network:
        st.caption("数据库中没有步行街道网络：只能按直线距离评估。导入街道网络后可沿街道评估。")
    unit_layers = common.layers_with_role("units") + common.layers_with_role("districts")  # uploads are role upload
    if not unit_layers:
        st.error("数据库中没有单元或区县图层，无法按单元统计。")
        return None
    units = st.selectbox("统计单元", unit_layers, format_func=common.layer_label, key="w_lc_units",
                         persist_state="session")
    population = st.radio("人口", list(_POPULATION), format_func=_POPULATION.get, key="w_lc_population",
                          persist_state="session")
    cell = st.number_input("网格大小 (m)", min_value=20.0, max_value=1000.0, value=100.0, step=10.0,
                           key="w_lc_cell", persist_state="session")
    return {"standard": standard, "method": method, "units": units, "population": population, "cell_m": float(cell)}


def _city_metrics(ev) -> None:
    city = ev.city.iloc[0]
    cols = st.columns(len(ev.tiers) + 1)
    cols[0].metric(f"总计 ({ev.weight_label})", f"{city['weight']:,.0f}")
    for col, tier in zip(cols[1:], ev.tiers, strict=True):
        judged = int(city[f"judged_{tier}"])
        label = vocab.label("tier", tier)
        if judged:
            col.metric(f"{label} 全部可达", f"{city[f'all_{tier}_pct']:.1f} %",
                       help=f"{judged} 项有设施数据；平均完整度 {city[f'complete_{tier}_pct']:.1f} %")
        else:
            col.metric(f"{label} 全部可达", "—", help="该层级没有任何设施数据，无法判断")


def types_table(ev) -> pd.DataFrame:
    """The per-type table as the page shows it (also what the tests compare with the CLI)."""
    t = ev.status.reset_index().merge(ev.by_type.drop(columns=["data_status"]), on="requirement")
    out = pd.DataFrame({
        "层级": t["tier"].map(lambda c: vocab.label("tier", c)),
        "设施": t["label"],
        "判定条件": t["accepts"],
        "设施数": t["n_facilities"],
        "可达比例 (%)": t["in_reach_pct"].round(1),
        f"不可达 ({ev.weight_label})": t["missing"].round(0),
        "距离中位数 (m)": t["median_m"].replace([np.inf], np.nan).round(0),
        "数据说明": t["data_note"],
        "核实程度": t["verification"].map(lambda c: vocab.label("verification", c)),
    })
    return out


def units_table(ev) -> pd.DataFrame:
    """The per-unit table as the page shows it."""
    out = pd.DataFrame({"单元": ev.by_unit["unit"], ev.weight_label: ev.by_unit["weight"].round(0)})
    for tier in ev.tiers:
        if ev.evaluated(tier):
            label = vocab.label("tier", tier)
            out[f"{label}全部可达 (%)"] = ev.by_unit[f"all_{tier}_pct"].round(1)
            out[f"{label}完整度 (%)"] = ev.by_unit[f"complete_{tier}_pct"].round(1)
    return out


def _map(ev) -> None:
    from spatial.layerspec import LayerSpec, LayerStyle
    from spatial.lifecircle.report import units_frame

    ids = ev.evaluated()
    if not ids:
        return
    labels = {r: f"{vocab.label('tier', ev.status.loc[r, 'tier'])} · {ev.status.loc[r, 'label']}" for r in ids}
    rid = st.selectbox("盲区图：设施类型", ids, format_func=labels.get, key="w_lc_blind", persist_state="session")
    specs = {
        "blind": LayerSpec("blind", f"盲区：{labels[rid]}", role="analysis", order=300,
                           style=LayerStyle(color="#d7301f", weight=0, fill_opacity=0.6)),
        "in_reach": LayerSpec("in_reach", "可达", role="analysis", order=290, visible=False,
                              style=LayerStyle(color="#31a354", weight=0, fill_opacity=0.4)),
        "units": LayerSpec("units", "单元", role="districts", order=280,
                           style=LayerStyle(color="#333333", weight=1.5, fill_opacity=0.05)),
    }
    def layers() -> dict:  # cells of the chosen type in and out of reach: made only when the map is drawn
        cells = ev.cells_frame()
        cells = cells[cells["weight"] > 0]
        cells = cells.assign(reach=np.where(cells[f"ok_{rid}"], "in_reach", "blind"))
        return {"units": units_frame(ev)[["unit", "weight", "geometry"]],
                "blind": cells[cells["reach"] == "blind"][["unit", "weight", "geometry"]],
                "in_reach": cells[cells["reach"] == "in_reach"][["unit", "weight", "geometry"]]}

    result_map.draw(layers, specs=specs, key="lifecircle_map", fit_to="units", height_px=460,
                    token=("evaluation", id(ev), rid), keep=ev)


def _results(ev, files: dict[str, bytes]) -> None:
    p = ev.parameters
    st.caption(common.with_layer_titles(f"{p['standard_title']}（{p['edition']}）· {p['method_label']}"
               + (f" · 网络：{p['network_source']}" if p.get("network_source") else "")
               + f" · 设施：{p['facilities_source'] or '—'}"
               + f" · 人口：{p['population_source']}（{p['population_method']}）"
               + f" · {p['cells']:,} 个 {p['cell_m']:g} m 网格"))
    for note in ev.notes:
        st.warning(common.with_layer_titles(note))
    _city_metrics(ev)
    if not ev.indicators.empty:
        st.subheader("城市体检指标")
        ind = ev.indicators
        st.dataframe(pd.DataFrame({
            "指标": ind["name"], "数值 (%)": ind["value_pct"].round(1), "沿街道网络 (%)": ind["network_pct"].round(1),
            "阈值": ind["threshold"], "结果": ind["result"].map(lambda c: vocab.label("pass_fail", c)),
            "说明": ind["note"], "核实程度": ind["verification"].map(lambda c: vocab.label("verification", c)),
        }), hide_index=True, width="stretch")
    _map(ev)
    st.subheader("分设施类型")
    st.dataframe(types_table(ev), hide_index=True, width="stretch")
    st.subheader("分单元")
    table = units_table(ev)
    st.dataframe(table, hide_index=True, width="stretch")
    share_cols = [c for c in table.columns if c.endswith("全部可达 (%)")]
    if share_cols and len(table):
        st.bar_chart(table.set_index("单元")[share_cols], y_label="全部可达 (%)", horizontal=True)
    st.subheader(f"问题台账 ({len(ev.ledger)} 行)")
    if len(ev.ledger):
        from spatial.lifecircle.ledger import ledger_for_people

        st.dataframe(ledger_for_people(ev.ledger, limit_m=ev.search_limits()), hide_index=True, width="stretch")
    else:
        st.info("没有缺项：每个有数据的要求都覆盖了全部居住网格。")
    st.subheader("下载")
    cols = st.columns(len(_DOWNLOADS))
    for col, (key, label, mime) in zip(cols, _DOWNLOADS, strict=True):
        suffix = {"report": ".html", "gpkg": ".gpkg", "xlsx": ".xlsx", "csv": ".csv"}[key]
        col.download_button(label, files[key], file_name=f"lifecircle_{key}{suffix}", mime=mime,
                            key=f"w_lc_dl_{key}", on_click="ignore")


def render() -> None:
    """Draw the 生活圈体检 page."""
    state.init_state()
    st.header("生活圈体检")
    path = common.store_path()
    if path is None:
        return
    left, right = st.columns([1, 3])
    with left:
        choice = _choices()
        if choice is not None and st.button("运行评估", type="primary", key="w_lc_run"):
            try:
                ev, files = _evaluate(str(path), _mtime(path), str(choice["standard"]), str(choice["method"]),
                                      str(choice["units"]), str(choice["population"]), float(choice["cell_m"]))
            except PlanatlasError as exc:
                st.error(f"评估失败：{exc}")
            else:
                state.put(state.LIFECIRCLE_RESULT, ev)
                state.put(state.LIFECIRCLE_FILES, files)
                state.put(state.LIFECIRCLE_INPUTS, choice)
    with right:
        ev = state.get(state.LIFECIRCLE_RESULT)
        if ev is None:
            st.info("选择标准、距离方法、统计单元与人口后点击“运行评估”。")
        else:
            if choice != state.get(state.LIFECIRCLE_INPUTS):
                st.warning(state.STALE_NOTE)
            _results(ev, state.get(state.LIFECIRCLE_FILES) or {})


if __name__ == "__main__":  # run by st.navigation as a page script
    render()
