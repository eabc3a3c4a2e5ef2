"""Legends drawn inside the map, as Leaflet controls that come and go with their layer.

A legend under the map scrolls out of sight on a laptop and stays when its
layer is switched off. Here a legend is a Leaflet control in a corner of the
map, added by a small script attached to the layer's feature group: it
appears when the group is added to the map and disappears when the group is
removed, whether the planner unticks the layer, or ``st_folium`` swaps the
overlays of a live map (which removes and re-adds the groups without
reloading the page). The same element works in :func:`spatial.webmap.make_map`,
the standalone HTML and the live map.

A plain HTML legend: branca's colormap legend would pull d3 from a CDN.
"""

from __future__ import annotations

from collections.abc import Sequence

import folium
from branca.element import MacroElement
from jinja2 import Template

from ._format import fmt_number
from .popups import escape
from .styles import Choropleth, safe_colour

__all__ = [
    "LEGEND_POSITION",
    "LegendControl",
    "categorical_legend_html",
    "choropleth_legend_html",
    "swatch_html",
]

#: Corner of the map the legends sit in, above the scale bar (Leaflet control position; the
#: layer control unfolds from the top right and would cover a legend there).
LEGEND_POSITION = "bottomleft"

#: Corner of a long legend (more than :data:`LONG_LEGEND` rows, e.g. 15 item categories): the
#: bottom right, so it does not stack on the choropleth's legend and run off the top of the map.
LONG_LEGEND_POSITION = "bottomright"

#: Rows above which a legend is long (two columns, its own corner).
LONG_LEGEND = 6

_BOX = ("background:rgba(255,255,255,.92);padding:5px 7px;font-size:12px;line-height:17px;"
        "border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);max-height:42vh;overflow-y:auto;max-width:320px")


def swatch_html(colour: str) -> str:
    """A small coloured dot (for legends and layer-control names)."""
    return (f'<span class="pa-swatch" style="display:inline-block;width:10px;height:10px;border-radius:50%;'
            f'margin-right:4px;background:{safe_colour(colour)}"></span>')


def _legend(title: str, rows: Sequence[str], *, extra: str = "") -> str:
    columns = "column-count:2;column-gap:10px;" if len(rows) > LONG_LEGEND else ""
    body = f'<div style="{columns}">{"".join(rows)}</div>' if rows else ""
    return f'<div class="pa-legend" style="{_BOX}"><b>{escape(title)}</b>{body}{extra}</div>'


def mark_svg(options: dict[str, object]) -> str:
    """A point symbol as a small SVG, drawn from the same path options the map uses."""
    radius = min(float(options.get("radius") or 5.0), 7.0)  # type: ignore[arg-type]
    colour = safe_colour(options.get("color"), default="#555555")
    fill = safe_colour(options.get("fillColor"), default=colour)
    opacity = float(options.get("fillOpacity") or 0.0)  # type: ignore[arg-type]
    dash = str(options.get("dashArray") or "").replace('"', "")
    weight = min(float(options.get("weight") or 1.0), 2.5)  # type: ignore[arg-type]
    return (f'<svg width="18" height="16" style="vertical-align:middle;margin-right:4px">'
            f'<circle cx="9" cy="8" r="{radius:.1f}" stroke="{colour}" stroke-width="{weight:.1f}" '
            f'fill="{fill}" fill-opacity="{opacity:.2f}"' + (f' stroke-dasharray="{escape(dash)}"' if dash else "")
            + "/></svg>")


def categorical_legend_html(title: str, entries: Sequence[tuple[str, str]], *,
                            marks: Sequence[tuple[dict[str, object], str]] = ()) -> str:
    """Legend of a layer coloured by a code: one swatch and label per code, then its point symbols.

    Parameters
    ----------
    title : str
        The layer's title (escaped here).
    entries : sequence of (colour, label)
        Label text is escaped here.
    marks : sequence of (path options, label), keyword-only
        Point symbols and what they mean (e.g. how precise a position is),
        listed under 定位精度.

    Returns
    -------
    str
        HTML of a ``div.pa-legend``.
    """
    extra = ""
    if marks:
        extra = ('<div class="pa-legend-precision" style="margin-top:4px;border-top:1px solid #ddd">'
                 "<b>定位精度</b>" + "".join(f"<div>{mark_svg(o)}{escape(label)}</div>" for o, label in marks)
                 + "</div>")
    return _legend(title, [f"<div>{swatch_html(colour)}{escape(label)}</div>" for colour, label in entries],
                   extra=extra)


def choropleth_legend_html(choropleth: Choropleth) -> str:
    """Legend of a choropleth: the figure's heading and one row per class, low to high.

    Parameters
    ----------
    choropleth : Choropleth
        The figure and its class breaks.

    Returns
    -------
    str
        HTML of a ``div.pa-legend``; class bounds formatted for people (``4,300 – 8,147``).
    """
    rows = [
        f'<div><span style="display:inline-block;width:12px;height:12px;margin-right:4px;'
        f'background:{safe_colour(colour)}"></span>{escape(fmt_number(lo))} – {escape(fmt_number(hi))}</div>'
        for colour, lo, hi in choropleth.classes()
    ]
    return _legend(choropleth.title, rows)


class LegendControl(MacroElement):
    """A legend shown as a Leaflet control while its parent feature group is on the map.

    Add it to a :class:`folium.FeatureGroup` (not to the map). Its script
    creates an ``L.control`` holding ``html`` and ties it to the group's
    ``add`` and ``remove`` events.

    Parameters
    ----------
    html : str
        Escaped legend HTML (from :func:`categorical_legend_html` or
        :func:`choropleth_legend_html`).
    position : str, keyword-only
        Leaflet control position (default :data:`LEGEND_POSITION`).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var group = {{ this._parent.get_name() }};
            var legend = L.control({position: {{ this.position|tojson }}});
            legend.onAdd = function () {
                var box = L.DomUtil.create("div");
                box.innerHTML = {{ this.html|tojson }};
                var element = box.firstChild;
                L.DomEvent.disableClickPropagation(element);
                L.DomEvent.disableScrollPropagation(element);
                return element;
            };
            group.on("add", function () { if (group._map) { legend.addTo(group._map); } });
            group.on("remove", function () { legend.remove(); });
            if (group._map) { legend.addTo(group._map); }
        })();
        {% endmacro %}
        """
    )

    def __init__(self, html: str, *, position: str | None = None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca is not annotated
        self._name = "LegendControl"
        self.html = html
        long = html.count("<div>") > LONG_LEGEND
        self.position = position or (LONG_LEGEND_POSITION if long else LEGEND_POSITION)

    def attach(self, group: folium.FeatureGroup) -> None:
        """Add the legend to ``group`` (it shows while the group is on the map)."""
        group.add_child(self)
