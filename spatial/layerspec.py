"""A layer declared in one place: titles, provenance, map order, visibility and style as data.

A :class:`LayerSpec` travels with its layer: the builder of the default layers
(``layers.LAYERS``), an import of the planner's data or an analysis declares
it, :func:`spatial.store.write_store` keeps it in the store's
``planatlas_layers`` table (the style as JSON text, so QGIS users see it too),
and :mod:`spatial.webmap` draws a layer from its spec without knowing its
name. Adding a layer is one entry; nothing else needs to learn about it.

The style is plain data in the spirit of ``GeoDataFrame.explore(style_kwds=)``:
Leaflet path options (``color``, ``weight``, ``fillOpacity`` …) plus a few
planatlas keys saying which column colours the features, which column splits
them into groups of the layer control, and which popup template shows them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from ._errors import StoreError

#: Popup templates :mod:`spatial.webmap` knows (anything else shows the generic one).
POPUPS: tuple[str, ...] = ("generic", "item", "district", "crossing", "ring")

#: What a layer is for; pages pick their inputs by role.
ROLES: tuple[str, ...] = (
    "reference",   # context: outlines, rivers, lines
    "districts",   # units with census population (the default units of aggregation)
    "units",       # other units of aggregation (街道, 社区, 控规单元)
    "facilities",  # things people walk to
    "items",       # the report's items
    "places",      # the gazetteer places the report names
    "residential", # residential land or buildings
    "network",     # street network edges
    "population",  # population points or polygons
    "analysis",    # results of an analysis
    "upload",      # a planner's own file
)


@dataclass(frozen=True)
class LayerStyle:
    """How a layer is drawn, as data.

    Attributes
    ----------
    color, fill_color : str
        Stroke and fill colour (CSS hex); ``fill_color`` defaults to ``color``.
    weight : float
        Stroke width, pixels.
    opacity, fill_opacity : float
        Stroke and fill opacity, 0-1.
    radius : float
        Circle-marker radius of points, pixels.
    dash : str
        SVG dash pattern, e.g. ``"6 4"`` ("" for a solid line).
    color_by : str
        Column whose codes pick the colour of each feature ("" for one colour).
    colors : mapping of str to str
        Code -> colour for ``color_by``; codes not listed take colours from
        :data:`PALETTE` in sorted order (stable between runs).
    group_by : str
        Column splitting the layer into one layer-control entry per value
        (report items by category); "" for one entry.
    cluster : bool
        Points may be clustered (Leaflet.markercluster) when the map asks for it.
    figures : tuple of str
        Numeric columns the layer can be coloured by as a choropleth (districts).
    popup : str
        Popup template, one of :data:`POPUPS`.
    tolerance_deg : float
        Display-only simplification of lines and polygons, degrees (stored and
        exported geometry keeps every vertex).
    """

    color: str = "#555555"
    fill_color: str = ""
    weight: float = 2.0
    opacity: float = 1.0
    fill_opacity: float = 0.35
    radius: float = 5.0
    dash: str = ""
    color_by: str = ""
    colors: Mapping[str, str] = field(default_factory=dict)
    group_by: str = ""
    cluster: bool = False
    figures: tuple[str, ...] = ()
    popup: str = "generic"
    tolerance_deg: float = 1e-4

    def path_options(self, colour: str | None = None) -> dict[str, Any]:
        """Leaflet path options for one feature (its own colour if given)."""
        stroke = colour or self.color
        options: dict[str, Any] = {
            "color": stroke,
            "weight": self.weight,
            "opacity": self.opacity,
            "fillColor": colour or self.fill_color or self.color,
            "fillOpacity": self.fill_opacity,
            "radius": self.radius,
        }
        if self.dash:
            options["dashArray"] = self.dash
        return options


#: Colours for codes a style does not list (readable on light and OSM basemaps).
PALETTE: tuple[str, ...] = (
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
    "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f",
)


@dataclass(frozen=True)
class LayerSpec:
    """What a planner needs to know about a layer before trusting it, and how to draw it.

    Attributes
    ----------
    name : str
        Layer name in the store (ASCII, stable).
    title_zh, title_en : str
        Titles for the layer control, lists and legends.
    description : str
        What the layer holds and how it was made.
    source, licence : str
        Where the data came from and under which terms.
    source_datum : str
        Datum of the source as read (``WGS84``, ``GCJ02``, ``BD09`` or "mixed (per row)").
    precision : str
        What precision a planner can expect (a precision code or a phrase).
    geometry_type : str
        Expected geometry type ("Point", "LineString", "Polygon", "Geometry").
    role : str
        One of :data:`ROLES`.
    order : int
        Drawing order on the map (low first: areas before lines before points).
    visible : bool
        Shown when a map opens (else one tick away in the layer control).
    style : LayerStyle
        How it is drawn.
    """

    name: str
    title_zh: str
    title_en: str = ""
    description: str = ""
    source: str = ""
    licence: str = ""
    source_datum: str = "WGS84"
    precision: str = ""
    geometry_type: str = "Geometry"
    role: str = "reference"
    order: int = 100
    visible: bool = True
    style: LayerStyle = field(default_factory=LayerStyle)

    def title(self, *, en: bool = False) -> str:
        """``title_zh``, with the English title in brackets when ``en``."""
        if en and self.title_en:
            return f"{self.title_zh} ({self.title_en})"
        return self.title_zh or self.name

    def as_record(self) -> dict[str, Any]:
        """Flat row for the store's metadata table (the style as JSON text)."""
        row = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "style"}
        style = asdict(self.style)
        style["colors"] = dict(self.style.colors)
        style["figures"] = list(self.style.figures)
        row["style"] = json.dumps(style, ensure_ascii=False, sort_keys=True)
        row["visible"] = int(self.visible)
        return row

    def with_(self, **changes: Any) -> LayerSpec:
        """A copy with some fields changed (``style=`` takes a mapping or a LayerStyle)."""
        style = changes.pop("style", None)
        spec = replace(self, **changes)
        if isinstance(style, Mapping):
            spec = replace(spec, style=replace(spec.style, **style))
        elif isinstance(style, LayerStyle):
            spec = replace(spec, style=style)
        return spec


def spec_from_record(row: Mapping[str, Any]) -> LayerSpec:
    """Inverse of :meth:`LayerSpec.as_record` (unknown keys are ignored).

    Raises
    ------
    StoreError
        When the style text is not the JSON planatlas wrote.
    """
    known = {f.name for f in fields(LayerSpec)}
    values: dict[str, Any] = {}
    for key in known - {"style"}:
        value = row.get(key)
        if value is None or (isinstance(value, float) and value != value):
            continue
        values[key] = value
    if "order" in values:
        values["order"] = int(values["order"])
    if "visible" in values:
        values["visible"] = bool(int(values["visible"]))
    for key in ("name", "title_zh", "title_en", "description", "source", "licence", "source_datum",
                "precision", "geometry_type", "role"):
        if key in values:
            values[key] = str(values[key])
    if "name" not in values:
        msg = "图层说明缺少名称 (layer metadata row without a name)"
        raise StoreError(msg)
    values.setdefault("title_zh", values["name"])
    style_text = row.get("style")
    style = LayerStyle()
    if isinstance(style_text, str) and style_text.strip():
        try:
            data = json.loads(style_text)
        except ValueError:
            msg = f"图层 {values['name']} 的样式不是有效的 JSON (style of layer {values['name']!r} is not JSON)"
            raise StoreError(msg) from None
        style_fields = {f.name for f in fields(LayerStyle)}
        kwargs = {k: v for k, v in data.items() if k in style_fields}
        if "figures" in kwargs:
            kwargs["figures"] = tuple(kwargs["figures"])
        if "colors" in kwargs:
            kwargs["colors"] = dict(kwargs["colors"])
        style = LayerStyle(**kwargs)
    return LayerSpec(style=style, **values)


def default_spec(name: str, *, role: str = "upload", geometry_type: str = "Geometry",
                 title_zh: str | None = None, source: str = "") -> LayerSpec:
    """Spec of a layer nobody declared (an upload, a layer of another tool's store)."""
    return LayerSpec(name=name, title_zh=title_zh or name, role=role, geometry_type=geometry_type,
                     source=source, order=500, style=LayerStyle(color=_stable_colour(name)))


def _stable_colour(name: str) -> str:
    import zlib

    return PALETTE[zlib.crc32(name.encode("utf-8")) % len(PALETTE)]
