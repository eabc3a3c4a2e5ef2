"""服务圈分析 (coverage) page: 15-minute service circles, gaps, residents covered."""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import streamlit as st

from app_pages import common, result_map, state
from spatial import vocab
from spatial._errors import PlanatlasError

_METHODS = {"buffer": vocab.label("method", "buffer"), "network": vocab.label("method", "network")}
_POP_SOURCES = {"store": "项目人口数据", "geotiff": "上传人口栅格 GeoTIFF"}
_NET_SOURCES = {"store": "项目数据库中导入的街道网络", "file": "本地 OSM 文件"}
_CUSTOM = "__custom__"

#: columns of the coverage table shown, in order (headings from spatial.vocab; the CSV keeps the codes)
TABLE_COLUMNS = ("name", "area_km2", "covered_km2", "area_covered_pct", "population", "population_covered",
                 "population_covered_pct", "residents_outside")
TABLE_LABELS = {c: vocab.column_label(c) for c in TABLE_COLUMNS} | {"name": "统计单元"}
#: the same columns when the surface counts residential floor area (a project without population data)
FLOOR_AREA_LABELS = TABLE_LABELS | {"population": "住宅建筑面积 (m²)", "population_covered": "覆盖建筑面积 (m²)",
                                    "population_covered_pct": "建筑面积覆盖率 (%)",
                                    "residents_outside": "未覆盖建筑面积 (m²)"}


#: File names of street networks the app offers from :func:`spatial.settings.networks_dir`.
NETWORK_SUFFIXES = (".osm", ".osm.pbf", ".pbf", ".graphml", ".gpkg")


def _save_upload(upload, *, suffix: str) -> Path:
    """An uploaded file in the cache folder, in a folder named by its content hash, written atomically and verified.

    The file keeps the user's name (without folders or control characters),
    so messages and results name it as the user knows it. An entry is reused
    only when its bytes hash to its folder's name: one left broken (a full
    disk, a killed server) is written again, never read broken.
    """
    from spatial import settings
    from spatial._atomic import write_bytes
    from spatial.io._limits import display_name

    data = upload.getvalue()
    digest = hashlib.sha256(data).hexdigest()[:24]
    folder = settings.cache_dir() / "uploads" / digest
    folder.mkdir(parents=True, exist_ok=True)
    name = display_name(str(getattr(upload, "name", "") or "upload"))
    if not name.lower().endswith(suffix):
        name += suffix
    path = folder / name
    if not (path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest()[:24] == digest):
        write_bytes(path, data)
    return path


def server_networks() -> dict[str, Path]:
    """Street network files the server offers: those in the data folder's ``networks`` folder, by name.

    A web user picks one by name; no path typed in the page ever reaches the
    server's file system.
    """
    from spatial import settings

    folder = settings.networks_dir()
    if not folder.is_dir():
        return {}
    return {p.name: p for p in sorted(folder.iterdir())
            if p.is_file() and p.name.lower().endswith(NETWORK_SUFFIXES)}


@st.cache_resource(show_spinner="正在读取街道网络…", max_entries=4)
def _network(path: str, mode: str):
    from spatial.network import load_network

    return load_network(path, mode=mode)


@st.cache_resource(show_spinner="正在读取人口栅格…", max_entries=4)
def _population_raster(path: str):
    from spatial.population import load_population

    return load_population(path)


@st.cache_resource(show_spinner="正在读取项目的街道网络…", max_entries=4)
def _store_network(path: str, mtime: float, mode: str):
    from spatial.network import from_store

    return from_store(path, mode=mode)


def _store_key() -> tuple[str, float] | None:
    path = common.store_path()
    if path is None:
        return None
    return str(path), path.stat().st_mtime if path.exists() else 0.0


def _preset_choice(standards) -> dict:
    table = standards.list_presets()
    options = [_CUSTOM, *table.index]
    labels = {_CUSTOM: "自定义 (分钟 × 速度)"}
    for pid, row in table.iterrows():
        labels[pid] = f"{row['title_zh']} · {row['distance_m_default']:.0f} m"
    default = "gb50180-15min" if "gb50180-15min" in options else options[-1]
    choice = st.selectbox("服务标准", options, index=options.index(default), format_func=labels.get,
                          key="w_cov_preset", persist_state="session")
    if choice == _CUSTOM:
        c1, c2 = st.columns(2)
        minutes = c1.number_input("时间 (分钟)", min_value=1.0, max_value=120.0, value=15.0, step=1.0,
                                  key="w_cov_minutes", persist_state="session")
        speed = c2.number_input("速度 (米/分钟)", min_value=10.0, max_value=1000.0, value=80.0, step=10.0,
                                key="w_cov_speed",
                                persist_state="session", help="步行约 80 m/min (4.8 km/h)，骑行约 250 m/min。")
        return {"minutes": minutes, "speed_m_per_min": speed}
    row = table.loc[choice]
    st.caption(f"依据：{row['source']}")
    return {"preset": choice}


def _facilities(names: list[str]) -> tuple[str, gpd.GeoDataFrame | None]:
    facility_layers = common.layers_with_role("facilities")
    default = "parks" if "parks" in names else (facility_layers[0] if facility_layers else names[0])
    name = st.selectbox("设施图层", names, index=names.index(default), format_func=common.layer_labels(names).get,
                        key="w_cov_layer", persist_state="session")
    gdf = common.get_layer(name)
    if gdf is None:
        return name, None
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    if "facility_type" in gdf.columns and gdf["facility_type"].notna().any():
        present = set(gdf["facility_type"].dropna().astype(str)) - {""}
        types = [c for c in vocab.codes("facility_type") if c in present]
        picked_types = st.multiselect("设施类型", types, default=[], key="w_cov_types",
                                      persist_state="session", placeholder="全部类型",
                                      format_func=lambda c: vocab.label("facility_type", c),
                                      help="按 facility_type 列筛选；留空即使用全部设施。")
        if picked_types:
            gdf = gdf[gdf["facility_type"].isin(picked_types)]
    if "category" in gdf.columns and gdf["category"].notna().any():
        cats = sorted(gdf["category"].dropna().astype(str).unique())
        picked = st.multiselect("类别筛选", cats, default=[], key="w_cov_cats",
                                persist_state="session", placeholder="全部类别",
                                help="留空即使用全部要素。")
        if picked:
            gdf = gdf[gdf["category"].astype(str).isin(picked)]
    st.caption(f"{len(gdf)} 个设施要素")
    return name, gdf


def _network_choice() -> dict | None:
    """Street network options; ``None`` when the user has not given a usable network yet.

    A web user never types a server path: a network comes from the store, an
    upload, or the data folder's ``networks/`` (put there by the administrator).
    """
    in_store = [n.removeprefix("network_") for n in common.layers_with_role("network")]
    modes = [m for m in ("walk", "bike", "drive") if m in in_store] or ["walk", "bike"]
    mode = st.radio("出行方式", modes, horizontal=True, key="w_cov_mode", persist_state="session",
                    format_func=lambda m: vocab.label("mode", m))
    sources = list(_NET_SOURCES) if in_store else ["file"]
    where = st.radio("街道网络", sources, format_func=_NET_SOURCES.get, key="w_cov_netsrc", persist_state="session")
    if where == "store":
        if mode not in in_store:
            st.info(f"项目中没有{vocab.label('mode', mode)}网络。")
            return None
        return {"store": True, "mode": mode}
    offered = server_networks()
    upload = st.file_uploader("上传 OSM 文件 (.osm / .osm.pbf)", type=["osm", "pbf"], key="w_cov_netfile")
    if upload is not None:
        suffix = ".osm.pbf" if upload.name.lower().endswith(".pbf") else ".osm"
        try:
            saved = _save_upload(upload, suffix=suffix)
        except PlanatlasError as exc:
            st.error(f"无法保存上传的街道网络：{exc}")
            return None
        return {"path": str(saved), "mode": mode}
    if offered:
        name = st.selectbox("或选择服务器上的街道网络", ["", *offered], key="w_cov_netname", persist_state="session",
                            format_func=lambda n: n or "（不选）")
        if name:
            return {"path": str(offered[name]), "mode": mode}
    st.info("街道网络分析需要一个 OSM 文件：请上传，或由管理员放入数据目录的 networks 文件夹 (本工具不在线下载)。")
    return None


def _population_choice() -> dict | None:
    source = st.radio("人口数据", list(_POP_SOURCES), format_func=_POP_SOURCES.get, key="w_cov_pop",
                      persist_state="session",
                      help="项目人口数据：导入的人口栅格或按住宅分配的人口，否则第七次人口普查按区县均匀分布。")
    if source == "store":
        return {}
    upload = st.file_uploader("人口栅格 (GeoTIFF，每格人数)", type=["tif", "tiff"], key="w_cov_popfile")
    if upload is None:
        st.info("请上传人口栅格，或选择普查数据。")
        return None
    try:
        return {"geotiff": str(_save_upload(upload, suffix=".tif"))}
    except PlanatlasError as exc:
        st.error(f"无法保存上传的人口栅格：{exc}")
        return None


def _units_choice() -> str | None:
    """The units a result is reported by: districts, or imported units (街道, 社区, 控规单元)."""
    names = common.layers_with_role("districts", "units")
    if not names:
        st.error("数据库中没有区县或统计单元图层，无法分单元统计 (no districts or units layer in the store)。")
        return None
    return st.selectbox("统计单元", names, format_func=common.layer_labels(names).get, key="w_cov_units",
                        persist_state="session")


def _run(coverage, facilities, preset_kw: dict, method: str, net: dict | None, pop: dict,
         units: str | None) -> None:
    kwargs = dict(preset_kw)
    key = _store_key()
    try:
        if units is None or key is None:
            return
        if method == "network":
            kwargs["network"] = (_store_network(*key, net["mode"]) if net.get("store")
                                 else _network(net["path"], net["mode"]))
        if pop.get("geotiff"):
            kwargs["population"] = _population_raster(pop["geotiff"])
        else:
            kwargs["population"] = common.store_population_cached(*key, units)
        districts = common.get_layer(units)
        if districts is None:
            return
        with st.spinner("正在计算服务范围…"):
            result = coverage.run_coverage(facilities, districts=districts, method=method, **kwargs)
    except (PlanatlasError, OSError) as exc:
        st.error(f"分析失败：{exc}")
        return
    state.put(state.COVERAGE_RESULT, result)
    state.put(state.COVERAGE_LABEL, facilities.attrs.get("planatlas_label", ""))
    state.put(state.COVERAGE_FACILITIES, facilities)
    state.put(state.COVERAGE_INPUTS, facilities.attrs.get("planatlas_inputs"))


def _readable(text: object) -> str:
    """A parameter's text with raw column names replaced by their headings (字段 population_2020 -> 2020 年常住人口)."""
    import re

    return re.sub(r"字段 ([A-Za-z_][A-Za-z0-9_]*)", lambda m: f"字段“{vocab.column_label(m.group(1))}”",
                  str(text or ""))


def basis_lines(p: dict, *, facilities_label: str) -> list[str]:
    """What a coverage figure stands on, one line each: standard, facilities, population, method and network."""
    residents = str(p.get("population_units", "residents")).startswith("residents")
    what = "人口" if residents else "住宅建筑面积 (不是人数)"
    lines = [f"标准：{p.get('preset_title') or '自定义'} · {p.get('distance_m', float('nan')):,.0f} m"
             + (f"（{p['preset_source']}）" if p.get("preset_source") else
                f"（{p.get('minutes', 0):g} 分钟 × {p.get('speed_m_per_min', 0):g} 米/分钟）"),
             f"设施：{facilities_label or '—'}，使用 {p.get('n_facilities_used', '')} / {p.get('n_facilities', '')} 处"
             + (f"，规模筛选：{p['area_filter']}" if p.get("area_filter") not in (None, "", "none") else ""),
             f"{what}：{_readable(p.get('population_source'))}；{p.get('population_method', '')}",
             f"方法：{_METHODS.get(p.get('method'), p.get('method'))}"
             + (f"；网络：{p['network_source']}" if p.get("network_source") else "")]
    return lines


def _figures(result, *, stale: bool) -> None:
    """The headline figures of a result and, beside them, what they stand on."""
    p = result.parameters
    if stale:
        st.warning("⚠ 已过期：左侧的选择已改变，下面仍是上次运行的结果（依据见下）。点击“运行分析”更新。")
    residents = str(p.get("population_units", "residents")).startswith("residents")
    c1, c2 = st.columns(2)
    c1.metric("服务半径", f"{p.get('distance_m', float('nan')):,.0f} m")
    c2.metric("覆盖面积", f"{p.get('covered_km2', float('nan')):,.1f} km²",
              help=f"统计单元总面积 {p.get('area_km2', float('nan')):,.0f} km²")
    c3, c4 = st.columns(2)
    if residents:
        c3.metric("覆盖人口", f"{p.get('population_covered', float('nan')) / 1e4:,.1f} 万人",
                  help=f"统计单元总人口 {p.get('population', float('nan')) / 1e4:,.1f} 万人")
        c4.metric("人口覆盖率", f"{p.get('population_covered_pct', float('nan')):.1f} %")
    else:  # no population data: the figures are m² of residential floor area, and say so
        c3.metric("覆盖住宅建筑面积", f"{p.get('population_covered', float('nan')) / 1e4:,.1f} 万 m²")
        c4.metric("住宅建筑面积覆盖率", f"{p.get('population_covered_pct', float('nan')):.1f} %")
    label = common.project_label()
    lines = basis_lines(p, facilities_label=state.get(state.COVERAGE_LABEL) or "")
    st.caption("  \n".join([label, *lines] if label else lines))  # next to the figures: what they stand on


def _map(result, facilities, *, name: str) -> None:
    """The result's map; before the first run, the facilities about to be analysed.

    Always drawn in the same place of the page under the same key, so the
    first result swaps layers on a map whose Leaflet is loaded already
    (mounting a new map frame took most of a first run: 2.2 s against 0.7 s
    for the runs after it in ``benchmarks/bench_app.py`` of 2026-12-03, whose
    times then still included the driver's polling).
    """
    from spatial.coverage import RESULT_SPECS

    if result is None:  # drawn again only when other facilities are chosen (layer, filters, the store changed)
        layers = {"facilities": facilities} if facilities is not None and len(facilities) else {}
        rows = () if facilities is None else tuple(facilities.index.tolist())
        result_map.draw(layers, specs=RESULT_SPECS, key="coverage_map", fit_to="facilities", height_px=480,
                        token=("facilities", name, _store_key(), rows))
        return
    layers = {"gaps": result.gaps, "service_area": result.service_area}
    used = state.get(state.COVERAGE_FACILITIES)
    if used is not None:
        layers["facilities"] = used
    result_map.draw(layers, specs=RESULT_SPECS, key="coverage_map", fit_to="service_area", height_px=480,
                    token=("result", id(result)), keep=result)


def _details(result) -> None:
    """Under the map: the gaps ranked, the table by unit, the downloads."""
    p = result.parameters
    residents = str(p.get("population_units", "residents")).startswith("residents")
    table = result.table.copy()
    labels = TABLE_LABELS if residents else FLOOR_AREA_LABELS
    _gap_ranking(table, labels)
    st.subheader("分单元覆盖")
    shown = table.rename(columns=labels)[[v for k, v in labels.items() if k in table.columns]]
    counts = {labels[c] for c in ("population", "population_covered", "residents_outside") if c in table.columns}
    pct = labels["population_covered_pct"]
    bar_col = pct if table["population_covered_pct"].notna().any() else labels["area_covered_pct"]
    config = {c: st.column_config.NumberColumn(format="localized" if c in counts else "%.1f")
              for c in shown.columns[1:]}
    # the share drawn as a bar in its own cell: read along the row, and no chart to build on every rerun
    config[bar_col] = st.column_config.ProgressColumn(bar_col, format="%.1f %%", min_value=0.0, max_value=100.0)
    st.dataframe(shown, hide_index=True, width="stretch", column_config=config)

    from spatial.io.export import FORMATS

    st.subheader("下载")
    cols = st.columns(4)
    for i, (what, frame, fmt) in enumerate((
        ("服务范围", result.service_area, "geojson"),
        ("服务范围", result.service_area, "gpkg"),
        ("覆盖缺口", result.gaps, "geojson"),
    )):
        stem, layer = ("area", "service_area") if what == "服务范围" else ("gaps", "gaps")
        suffix, mime = FORMATS[fmt]
        cols[i].download_button(f"{what} ({fmt.upper()})", _written_on_click(frame, fmt, layer),
                                file_name=f"coverage_{stem}{suffix}", mime=mime, key=f"w_cov_dl_{i}",
                                on_click="ignore")
    csv = table.to_csv(index=False).encode("utf-8-sig")  # BOM: opens in Excel
    cols[3].download_button("分单元表 (CSV)", csv, file_name="coverage_by_unit.csv", mime="text/csv",
                            key="w_cov_dl_csv", on_click="ignore")


def _written_on_click(frame, fmt: str, layer: str):
    """The file's bytes, written only when the planner clicks (writing a GeoPackage on every rerun took 0.1 s).

    GeoJSON and GeoPackage hold a result layer whole (only Shapefile and KML
    cut or rename, with notes), so nothing needs saying before the click.
    """
    def write() -> bytes:
        from spatial.io.export import export_bytes

        return export_bytes(frame, fmt, layer=layer)[0]

    return write


def gap_ranking(table, labels: dict[str, str]):
    """The units ranked by what is left outside the service area (residents, else area), worst first."""
    import pandas as pd

    key = "residents_outside" if table["residents_outside"].notna().any() else "area_covered_pct"
    ranked = table.sort_values(key, ascending=key == "area_covered_pct").reset_index(drop=True)
    out = pd.DataFrame({"排名": range(1, len(ranked) + 1), "统计单元": ranked["name"].astype(str)})
    if key == "residents_outside":
        out[labels["residents_outside"]] = ranked["residents_outside"].round(0)
        out[labels["population_covered_pct"]] = ranked["population_covered_pct"].round(1)
    out["未覆盖面积 (km²)"] = (ranked["area_km2"] - ranked["covered_km2"]).round(1)
    out[labels["area_covered_pct"]] = ranked["area_covered_pct"].round(1)
    return out


def _gap_ranking(table, labels: dict[str, str]) -> None:
    st.subheader("覆盖缺口排名")
    ranked = gap_ranking(table, labels)
    st.caption("按未覆盖的人口（无人口数据时按覆盖率）由多到少排列：排在前面的单元最需要新设施。")
    st.dataframe(ranked, hide_index=True, width="stretch", height=min(38 + 35 * len(ranked), 320),
                 column_config={c: st.column_config.NumberColumn(format="localized")
                                for c in ranked.columns if c not in ("统计单元",) and "(%)" not in c
                                and "km²" not in c})


def _inputs(name: str, preset_kw: dict, method: str, net: dict | None, pop: dict | None, units: str | None,
            facilities) -> tuple:
    """The page's choices as a comparable value (a result run with other choices is marked stale)."""
    rows = -1 if facilities is None else len(facilities)
    return (name, tuple(sorted(preset_kw.items())), method, tuple(sorted((net or {}).items())),
            tuple(sorted((pop or {}).items())), units, rows)


def render() -> None:
    """Draw the coverage page."""
    state.init_state()
    st.header("服务圈分析")
    from spatial import coverage, standards

    names = common.available_layers()
    if not names:
        st.warning("没有可用作设施的图层：请先构建数据库或上传图层。")
        return
    left, right = st.columns([1, 2])
    with left:
        name, facilities = _facilities(names)
        preset_kw = _preset_choice(standards)
        method = st.radio("方法", list(_METHODS), format_func=_METHODS.get, key="w_cov_method", persist_state="session")
        net = _network_choice() if method == "network" else None
        units = _units_choice()
        pop = _population_choice()
        ready = facilities is not None and len(facilities) > 0 and pop is not None and units is not None and (
            method != "network" or net is not None)
        inputs = _inputs(name, preset_kw, method, net, pop, units, facilities)
        if st.button("运行分析", type="primary", disabled=not ready, key="w_cov_run"):
            facilities = facilities.copy()
            facilities.attrs["planatlas_label"] = common.layer_label(name)
            facilities.attrs["planatlas_inputs"] = inputs
            _run(coverage, facilities, preset_kw, method, net, pop, units)
    with right:  # figures, map, details: the map keeps its slot whether or not a result exists
        result = state.get(state.COVERAGE_RESULT)
        with st.container():
            if result is None:
                st.info("选择设施与标准后点击“运行分析”。地图上是将要分析的设施。")
            else:
                _figures(result, stale=state.get(state.COVERAGE_INPUTS) != inputs)
        _map(result, facilities, name=name)
        if result is not None:
            _details(result)


if __name__ == "__main__":  # run by st.navigation as a page script
    render()
