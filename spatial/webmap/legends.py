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

_BOX = ("background:rgba(255,255,255,.9);padding:6px 8px;font-size:12px;line-height:18px;"
        "border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);max-height:40vh;overflow-y:auto")


def swatch_html(colour: str) -> str:
    """A small coloured dot (for legends and layer-control names)."""
    return (f'<span class="pa-swatch" style="display:inline-block;width:10px;height:10px;border-radius:50%;'
            f'margin-right:4px;background:{safe_colour(colour)}"></span>')


def _legend(title: str, rows: Sequence[str]) -> str:
    return f'<div class="pa-legend" style="{_BOX}"><b>{escape(title)}</b>{"".join(rows)}</div>'


def categorical_legend_html(title: str, entries: Sequence[tuple[str, str]]) -> str:
    """Legend of a layer coloured by a code: one swatch and label per code.

    Parameters
    ----------
    title : str
        The layer's title (escaped here).
    entries : sequence of (colour, label)
        Label text is escaped here.

    Returns
    -------
    str
        HTML of a ``div.pa-legend``.
    """
    return _legend(title, [f"<div>{swatch_html(colour)}{escape(label)}</div>" for colour, label in entries])


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

    def __init__(self, html: str, *, position: str = LEGEND_POSITION) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca is not annotated
        self._name = "LegendControl"
        self.html = html
        self.position = position

    def attach(self, group: folium.FeatureGroup) -> None:
        """Add the legend to ``group`` (it shows while the group is on the map)."""
        group.add_child(self)
