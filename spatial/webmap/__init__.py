"""Interactive web maps of planning layers (Folium / Leaflet) that draw each layer from its spec.

:func:`make_map` draws layers on one Leaflet map with a layer control, and
:func:`make_live_map` the same split for ``st_folium``. The map draws what it
is given: every layer's :class:`~spatial.layerspec.LayerSpec` says its order,
visibility, colours, grouping, popup template and title, so this package
holds no table of layer names and a new layer needs nothing here.

Three rules shape the package:

* **Everything from data is HTML-escaped**, in Python, before it reaches the
  page (:func:`escape`); popups and tooltips are pre-rendered per feature.
* **Every label comes from** :mod:`spatial.vocab`: a planner never reads a
  raw code, ``None`` or ``nan``.
* **No CDN.** Leaflet and its plugins come from the installed ``xstatic``
  packages (:func:`install_assets`), or are inlined by :func:`standalone_html`.

Modules, one concept each:

==================  ===========================================================
``maps``            :func:`make_map`, :func:`make_live_map`, :class:`LiveMap`
``basemaps``        tile basemaps, their datum, GCJ-02 positions on AMap
``styles``          Leaflet styles from a LayerStyle, colours per code, choropleth classes
``popups``          :func:`escape`, :func:`popup_html`, one template per ``style.popup``
``legends``         legends as Leaflet controls inside the map
``assets``          vendored Leaflet / markercluster / jQuery, :func:`localise_assets`
``standalone``      :func:`standalone_html` with every asset inlined
``view``            the view as state: fitted zooms, fly-tos st_folium applies, the target's mark
``_draw``           plumbing: GeoJSON, display simplification, groups, clusters
``_format``         plumbing: values formatted for people
==================  ===========================================================
"""

from __future__ import annotations

from . import view
from ._draw import DISPLAY_TOLERANCE_DEG, display_geometry, draw_order
from ._format import cell_text, fmt_number
from .assets import STATIC_URL, install_assets, localise_assets
from .basemaps import (
    BASEMAPS,
    DEFAULT_CENTER,
    DEFAULT_ZOOM,
    Basemap,
    available_basemaps,
    display_point,
    from_display_point,
)
from .legends import categorical_legend_html, choropleth_legend_html
from .maps import LiveMap, figure_choices, make_live_map, make_map
from .popups import escape, popup_html
from .standalone import standalone_html
from .styles import CHOROPLETH_COLOURS, Choropleth, class_breaks, code_colours

__all__ = [
    "BASEMAPS",
    "CHOROPLETH_COLOURS",
    "DEFAULT_CENTER",
    "DEFAULT_ZOOM",
    "DISPLAY_TOLERANCE_DEG",
    "STATIC_URL",
    "Basemap",
    "Choropleth",
    "LiveMap",
    "available_basemaps",
    "categorical_legend_html",
    "cell_text",
    "choropleth_legend_html",
    "class_breaks",
    "code_colours",
    "display_geometry",
    "display_point",
    "draw_order",
    "escape",
    "figure_choices",
    "fmt_number",
    "from_display_point",
    "install_assets",
    "localise_assets",
    "make_live_map",
    "make_map",
    "popup_html",
    "standalone_html",
    "view",
]
