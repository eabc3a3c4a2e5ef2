"""Drawing layers from their specs: GeoJSON with pre-rendered popups, groups, clusters, legends.

The map knows no layer by name. For each layer it reads the spec and takes
the same few steps: the features that can be drawn (:func:`drawable`), their
popups, tooltips and styles (:func:`features_of`), the layer-control entries
they fall into (:func:`parts_of`, one per ``style.group_by`` value), the
legend (:func:`legend_of`), and the GeoJSON of each entry, clustered when the
style and the map allow it (:func:`add_layer`).

Only pre-escaped HTML and style values reach the page, never raw columns: the
GeoJSON properties are ``_popup``, ``_tooltip`` and ``_style`` alone. Popups
are bound per feature (not on the GeoJSON group) so they still open after
Leaflet.markercluster has taken the features out of their group.

Geometry is simplified for display only (``style.tolerance_deg``, about 10 m
by default), which shrinks the page several-fold; stored and exported layers
keep every vertex. A layer too large for a browser is simplified further or
summarised on a grid, with a note (:mod:`spatial.webmap._budget`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from folium.plugins import MarkerCluster
from folium.utilities import JsCode

from .. import datum as _datum
from .._errors import ParameterError
from ..layerspec import LayerSpec, LayerStyle, default_spec
from ..projection import reproject, require_crs
from ._budget import fit_for_display
from ._format import cell_text, code_order, is_blank
from .basemaps import get_basemap
from .legends import LegendControl, categorical_legend_html, choropleth_legend_html, swatch_html
from .popups import escape, feature_popup, tooltip_html
from .styles import PRECISION_MARKS, Choropleth, class_breaks, code_colours, feature_style

#: Display-only simplification when a style does not say, degrees (about 10 m in Jinan).
DISPLAY_TOLERANCE_DEG: float = LayerStyle().tolerance_deg

#: ``attrs`` key of a drawn frame: the note on how it was fitted to the map ("" when drawn as it is).
DISPLAY_NOTE = "planatlas_display_note"

#: Layer-control label of features whose ``group_by`` value is blank.
_BLANK_GROUP_LABEL = "未分类"

#: Point and MultiPoint (shapely type ids): never simplified, clustered when asked.
_POINT_TYPES = (0, 4)

_BIND_POPUP = JsCode(
    """function(feature, layer) {
        var p = feature.properties;
        if (p._popup) { layer.bindPopup(p._popup, {maxWidth: 360}); }
        if (p._tooltip) { layer.bindTooltip(p._tooltip, {sticky: true}); }
    }"""
)

#: A feature's attributes, column -> value.
Row = dict[str, object]


@dataclass(frozen=True)
class FeatureTexts:
    """What each feature of a layer carries to the page, in row order.

    Attributes
    ----------
    popups, tooltips : list of str
        Escaped HTML.
    styles : list of dict
        Leaflet path options.
    """

    popups: list[str]
    tooltips: list[str]
    styles: list[dict[str, object]]

    def take(self, index: Sequence[int] | npt.NDArray[np.intp]) -> FeatureTexts:
        """The texts of the features at ``index``."""
        return FeatureTexts([self.popups[i] for i in index], [self.tooltips[i] for i in index],
                            [self.styles[i] for i in index])


@dataclass(frozen=True)
class Part:
    """One layer-control entry of a layer: a ``group_by`` value, or the whole layer.

    Attributes
    ----------
    name : str
        Escaped HTML shown in the layer control.
    index : numpy.ndarray
        Row positions of its features.
    """

    name: str
    index: npt.NDArray[np.intp]


# --------------------------------------------------------------------------- frames


def drawable(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The rows that have a geometry, in WGS-84 (EPSG:4326), with a fresh 0..n-1 index."""
    geom = frame.geometry
    out = frame.loc[geom.notna() & ~geom.is_empty].copy()
    if out.crs is not None and not out.crs.equals("EPSG:4326"):
        out = reproject(out, "EPSG:4326")
    return out.reset_index(drop=True)


def records(frame: gpd.GeoDataFrame) -> list[Row]:
    """Attribute rows of a frame (no geometry), blanks as None."""
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    table = table.astype(object).where(table.notna(), None)
    return [{str(k): v for k, v in row.items()} for row in table.to_dict("records")]


def display_geometry(geoms: Iterable[object], *, tolerance: float = DISPLAY_TOLERANCE_DEG) -> npt.NDArray[np.object_]:
    """Lines and polygons simplified for drawing; every coordinate rounded to 1e-6 degrees (0.1 m).

    Parameters
    ----------
    geoms : array-like of shapely geometries
        Not modified.
    tolerance : float, keyword-only
        Simplification tolerance, degrees; points are never simplified.

    Returns
    -------
    numpy.ndarray
        New geometries.
    """
    arr = np.asarray(geoms, dtype=object)
    shaped = ~np.isin(shapely.get_type_id(arr), _POINT_TYPES)
    out = arr.copy()
    out[shaped] = shapely.simplify(arr[shaped], float(tolerance), preserve_topology=True)
    rounded: npt.NDArray[np.object_] = shapely.transform(out, lambda xy: np.round(xy, 6))
    return rounded


# --------------------------------------------------------------------------- steps of one layer


def colours_of(rows: Sequence[Row], spec: LayerSpec) -> dict[str, str] | None:
    """Code -> colour for the layer's ``style.color_by`` (None when it has one colour)."""
    column = spec.style.color_by
    if not column:
        return None
    return code_colours((r.get(column) for r in rows), spec.style)


def features_of(rows: Sequence[Row], spec: LayerSpec, *, colours: Mapping[str, str] | None = None,
                choropleth: Choropleth | None = None, points: Sequence[bool] | None = None) -> FeatureTexts:
    """Popups, tooltips and styles of every feature of a layer.

    Parameters
    ----------
    rows : sequence of mapping
        Attributes of the drawable features.
    spec : LayerSpec
        The layer's spec (popup template, colours).
    colours : mapping, optional, keyword-only
        Code -> colour of ``style.color_by`` (from :func:`colours_of`; computed when not given).
    choropleth : Choropleth, optional, keyword-only
        Fill the features by this figure instead of the style's colours.
    points : sequence of bool, optional, keyword-only
        Which features are points: a point shows its ``precision`` in its
        symbol (:data:`~spatial.webmap.styles.PRECISION_MARKS`).
    """
    if points is None:
        points = [False] * len(rows)
    if colours is None:
        colours = colours_of(rows, spec)
    column = spec.style.color_by
    figure = choropleth.column if choropleth else None
    styles = [
        feature_style(spec.style, code=r.get(column) if column else None, colours=colours,
                      fill=choropleth.colour(r.get(choropleth.column)) if choropleth else None,
                      precision=r.get("precision") if is_point else None)
        for r, is_point in zip(rows, points, strict=True)
    ]
    return FeatureTexts(popups=[feature_popup(r, spec) for r in rows],
                        tooltips=[tooltip_html(r, spec, figure=figure) for r in rows], styles=styles)


def parts_of(rows: Sequence[Row], spec: LayerSpec, *, colours: Mapping[str, str] | None = None) -> list[Part]:
    """The layer-control entries of a layer: one per ``style.group_by`` value, else one.

    Entries are named ``<title> · <value label>`` (labels from the
    vocabulary), in code order with blanks last; when the layer is grouped by
    its colour column, each name starts with the colour's swatch.
    """
    title = escape(spec.title_zh or spec.name)
    column = spec.style.group_by
    if not column:
        return [Part(title, np.arange(len(rows), dtype=np.intp))]
    codes = np.array(["" if is_blank(r.get(column)) else str(r.get(column)).strip() for r in rows], dtype=object)
    parts = []
    for code in sorted(set(codes), key=code_order(column)):
        label = cell_text(column, code) or _BLANK_GROUP_LABEL
        swatch = ""
        if colours is not None and column == spec.style.color_by and code in colours:
            swatch = swatch_html(colours[code])
        parts.append(Part(f"{swatch}{title} · {escape(label)}", np.flatnonzero(codes == code).astype(np.intp)))
    return parts


def legend_of(rows: Sequence[Row], spec: LayerSpec, *, colours: Mapping[str, str] | None = None,
              choropleth: Choropleth | None = None, points: Sequence[bool] | None = None) -> str:
    """Legend HTML of a layer ("" when it needs none).

    A choropleth gets its classes; a layer coloured by a code gets one entry
    per code present (report items by category, crossings by status); a
    layer of points whose ``precision`` differs gets the symbols that say it
    (filled, hollow, dashed ring).
    """
    if choropleth is not None:
        return choropleth_legend_html(choropleth) if choropleth.breaks.size else ""
    column = spec.style.color_by
    entries = []
    if colours and column:
        entries = [(colours[code], cell_text(column, code)) for code in sorted(colours, key=code_order(column))]
    marks: list[tuple[dict[str, object], str]] = []
    if points is not None and any(points):
        present = {str(r.get("precision")).strip() for r, p in zip(rows, points, strict=True)
                   if p and not is_blank(r.get("precision"))}
        marked = [c for c in code_order_list("precision", present) if c in PRECISION_MARKS]
        if len(marked) > 1:
            base = spec.style.path_options(None)
            by_symbol: dict[str, list[str]] = {}
            for c in marked:  # codes drawn alike share one legend row
                by_symbol.setdefault(json.dumps(PRECISION_MARKS[c], sort_keys=True), []).append(c)
            marks = [({**base, **PRECISION_MARKS[cs[0]]}, "、".join(cell_text("precision", c) for c in cs))
                     for cs in by_symbol.values()]
    if not entries and not marks:
        return ""
    return categorical_legend_html(spec.title_zh or spec.name, entries, marks=marks)


def code_order_list(column: str, codes: Iterable[str]) -> list[str]:
    """``codes`` in the vocabulary's order of ``column``'s domain."""
    return sorted(codes, key=code_order(column))


def geojson(frame: gpd.GeoDataFrame, texts: FeatureTexts, *, name: str,
            tolerance: float = DISPLAY_TOLERANCE_DEG) -> folium.GeoJson:
    """A GeoJSON element whose features carry only their pre-rendered texts and styles.

    The FeatureCollection is built directly (``shapely.to_geojson`` is
    vectorised); ``GeoDataFrame.__geo_interface__`` walks rows and was most of
    the map's drawing time.
    """
    geoms = display_geometry(frame.geometry.values, tolerance=tolerance)
    features = [
        {"type": "Feature", "id": str(i), "geometry": json.loads(g),
         "properties": {"_popup": p, "_tooltip": t, "_style": s}}
        for i, (g, p, t, s) in enumerate(
            zip(shapely.to_geojson(geoms), texts.popups, texts.tooltips, texts.styles, strict=True))
    ]
    has_points = bool(np.isin(shapely.get_type_id(geoms), _POINT_TYPES).any())
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=name,
        style_function=lambda feature: feature["properties"]["_style"],
        marker=folium.CircleMarker(radius=6, fill=True) if has_points else None,
        on_each_feature=_BIND_POPUP,
    )


def add_layer(m: folium.Map, frame: gpd.GeoDataFrame, spec: LayerSpec, *, choropleth: Choropleth | None = None,
              cluster: bool = False, show: bool = True) -> list[folium.FeatureGroup]:
    """Draw one layer on ``m`` as its spec says; return its feature groups.

    Parameters
    ----------
    m : folium.Map
        The map (changed in place).
    frame : GeoDataFrame
        Drawable features in the basemap's datum (see :func:`drawable`).
    spec : LayerSpec
        Title, style, grouping and popup template.
    choropleth : Choropleth, optional, keyword-only
        Colour the layer by a figure.
    cluster : bool, keyword-only
        The map's cluster switch; points cluster only when ``spec.style.cluster`` too.
    show : bool, keyword-only
        Shown when the map opens.
    """
    rows = records(frame)
    colours = colours_of(rows, spec)
    points = np.isin(shapely.get_type_id(frame.geometry.values), _POINT_TYPES).tolist()
    texts = features_of(rows, spec, colours=colours, choropleth=choropleth, points=points)
    groups = []
    for part in parts_of(rows, spec, colours=colours):
        group = folium.FeatureGroup(name=part.name, show=show)
        layer = geojson(frame.iloc[part.index], texts.take(part.index), name=part.name,
                        tolerance=spec.style.tolerance_deg)
        if cluster and spec.style.cluster:
            holder = MarkerCluster(name=part.name, control=False)  # type: ignore[no-untyped-call]
            layer.add_to(holder)
            holder.add_to(group)
        else:
            layer.add_to(group)
        groups.append(group)
    legend = legend_of(rows, spec, colours=colours, choropleth=choropleth, points=points)
    if legend and groups:
        LegendControl(legend).attach(groups[0])
    for group in groups:
        group.add_to(m)
    return groups


# --------------------------------------------------------------------------- all layers


def spec_of(name: str, specs: Mapping[str, LayerSpec] | None) -> LayerSpec:
    """The spec of layer ``name`` (:func:`~spatial.layerspec.default_spec` when none is given).

    Raises
    ------
    ParameterError
        The value given for ``name`` is not a LayerSpec.
    """
    spec: object = specs.get(name) if specs is not None else None  # callers may pass anything
    if spec is None:
        return default_spec(name)
    if not isinstance(spec, LayerSpec):
        msg = f"图层 {name} 的说明不是 LayerSpec (spec of layer {name!r} is a {type(spec).__name__})"
        raise ParameterError(msg)
    return spec


def choropleth_of(frame: gpd.GeoDataFrame, spec: LayerSpec, color_by: str) -> Choropleth:
    """The choropleth of ``color_by`` on a districts layer.

    Raises
    ------
    ParameterError
        ``color_by`` is not among the spec's ``style.figures`` or not a column of the frame.
    """
    figures = tuple(f for f in spec.style.figures if f in frame.columns)
    if color_by not in figures:
        msg = (f"没有可着色的字段 {color_by}，可选：{'、'.join(figures) or '无'} "
               f"(no figure {color_by!r} to colour by; choose from {', '.join(figures) or 'none'})")
        raise ParameterError(msg)
    return Choropleth(color_by, class_breaks(frame[color_by]))


def checked_frames(layers: Mapping[str, gpd.GeoDataFrame | None]) -> dict[str, gpd.GeoDataFrame]:
    """The layers that are frames (None skipped), each with a CRS.

    Raises
    ------
    ParameterError
        A layer is not a GeoDataFrame.
    CRSError
        A layer has no CRS.
    """
    frames: dict[str, gpd.GeoDataFrame] = {}
    for name, frame in layers.items():
        if frame is None:
            continue
        if not isinstance(frame, gpd.GeoDataFrame):
            msg = f"图层 {name} 不是 GeoDataFrame (layer {name!r} is a {type(frame).__name__})"
            raise ParameterError(msg)
        require_crs(frame, name=name)
        frames[name] = frame
    return frames


def draw_order(names: Sequence[str], specs: Mapping[str, LayerSpec] | None) -> list[str]:
    """Layers in the order a map draws them: ``spec.order``, then as given (later ones on top)."""
    position = {name: i for i, name in enumerate(names)}
    return sorted(names, key=lambda n: (spec_of(n, specs).order, position[n]))


def add_overlays(
    m: folium.Map,
    layers: Mapping[str, gpd.GeoDataFrame | None],
    *,
    specs: Mapping[str, LayerSpec] | None,
    basemap: str,
    color_by: str | None,
    cluster_items: bool,
    hidden: Iterable[str] | None,
) -> dict[str, gpd.GeoDataFrame]:
    """Draw every layer on ``m`` in ``spec.order``; return the frames as drawn (basemap datum).

    Raises
    ------
    ParameterError
        ``color_by`` given but no layer whose spec has role ``districts`` is
        drawn, or it is not one of that layer's figures.
    """
    bm = get_basemap(basemap)
    frames = checked_frames(layers)
    resolved = {name: spec_of(name, specs) for name in frames}
    if color_by and not any(s.role == "districts" for s in resolved.values()):
        msg = (f"没有可按 {color_by} 着色的区县图层 (color_by={color_by!r} needs a layer whose spec has role "
               "'districts'; pass specs=)")
        raise ParameterError(msg)
    hidden_set = set(hidden) if hidden is not None else None
    drawn: dict[str, gpd.GeoDataFrame] = {}
    for name in draw_order(list(frames), resolved):
        spec = resolved[name]
        frame = drawable(frames[name])
        if bm.datum != "WGS84" and len(frame):
            frame = _datum.convert_frame(frame, source="WGS84", target=bm.datum)
        choropleth = choropleth_of(frame, spec, color_by) if color_by and spec.role == "districts" else None
        show = spec.visible if hidden_set is None else name not in hidden_set
        fitted = fit_for_display(frame, spec)
        if fitted.frame is not frame:
            choropleth = None  # the figure belongs to the features, not to the cells or simplified shapes
        add_layer(m, fitted.frame, fitted.spec, choropleth=choropleth, cluster=cluster_items, show=show)
        fitted.frame.attrs[DISPLAY_NOTE] = fitted.note
        drawn[name] = fitted.frame
    return drawn
