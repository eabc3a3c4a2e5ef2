"""Leaflet styles of features, computed from a layer's :class:`~spatial.layerspec.LayerStyle`.

A spec says how a layer looks as data; this module turns it into the path
options Leaflet applies to each feature. Three cases:

* one colour for the whole layer (``style.color``);
* a colour per code of ``style.color_by`` (crossings by status, items by
  category): the code's colour in ``style.colors``, else the next colour of
  :data:`spatial.layerspec.PALETTE`, handed out in sorted code order so a
  code keeps its colour between runs;
* a choropleth of one of ``style.figures`` (districts by density): quantile
  classes of the figure, coloured light to dark.

Colours may come from a store written by another tool, and they end up in
HTML style attributes of legends and the layer control, so every colour
passes :func:`safe_colour` first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from .. import vocab
from ..layerspec import PALETTE, POPUPS, LayerStyle
from ._format import is_blank

__all__ = [
    "CHOROPLETH_COLOURS",
    "CHOROPLETH_FILL_OPACITY",
    "NO_DATA_COLOUR",
    "PRECISION_MARKS",
    "Choropleth",
    "class_breaks",
    "class_colour",
    "code_colours",
    "feature_style",
    "safe_colour",
]

#: Choropleth classes, light to dark (ColorBrewer YlOrRd, 5 classes).
CHOROPLETH_COLOURS: tuple[str, ...] = ("#ffffcc", "#fed976", "#fd8d3c", "#e31a1c", "#800026")

#: Fill of a feature whose figure is missing.
NO_DATA_COLOUR = "#cccccc"

#: Least fill opacity of a choropleth (a faint reference fill would hide the classes), 0-1; light
#: enough that streets and place names of the basemap still read through the darkest class.
CHOROPLETH_FILL_OPACITY = 0.45

#: How a point shows how far its position can be trusted, by ``precision`` code: overrides of its
#: path options. A surveyed or sourced point is a filled dot; a position within about a kilometre
#: a lighter dot; the centre of a zone or town a hollow ring; a district's centroid a wide dashed
#: ring: the wider and emptier the symbol, the less the spot itself means.
PRECISION_MARKS: dict[str, dict[str, object]] = {
    "exact": {},
    "approximate": {"fillOpacity": 0.45},
    "schematic": {"fillOpacity": 0.45},
    "area_centroid": {"fillOpacity": 0.0, "weight": 2.5, "radius": 8.0},
    "district_fallback": {"fillOpacity": 0.0, "weight": 2.0, "radius": 11.0, "dashArray": "3 3"},
}

#: CSS class of each mark (for pages and tests to find them; no raw code reaches the page).
PRECISION_CLASSES: dict[str, str] = {"approximate": "pa-light", "schematic": "pa-light",
                                     "area_centroid": "pa-hollow", "district_fallback": "pa-ring"}

#: CSS colours accepted from a spec: hex, a plain colour name, rgb()/rgba()/hsl()/hsla().
_COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20}|(?:rgb|hsl)a?\([0-9., %]{5,40}\)")

#: Colour of features whose code is blank.
_BLANK_CODE_COLOUR = "#969696"


def safe_colour(value: object, *, default: str = "#555555") -> str:
    """``value`` if it is a plain CSS colour, else ``default`` (no CSS or script can ride along).

    Parameters
    ----------
    value : object
        A colour from a spec.
    default : str, keyword-only
        What to use instead.

    Returns
    -------
    str
    """
    text = str(value).strip() if isinstance(value, str) else ""
    return text if _COLOUR.fullmatch(text) else default


def code_colours(codes: Iterable[object], style: LayerStyle) -> dict[str, str]:
    """Colour of each code of ``style.color_by`` among ``codes``.

    Parameters
    ----------
    codes : iterable
        The codes present (duplicates and blanks allowed).
    style : LayerStyle
        ``style.colors`` gives fixed colours; codes it does not list take
        :data:`~spatial.layerspec.PALETTE` colours in sorted code order.

    Returns
    -------
    dict of str to str
        Code -> CSS colour, for every distinct non-blank code.
    """
    present = sorted({str(c).strip() for c in codes if not is_blank(c)})
    fixed = {str(k): safe_colour(v) for k, v in style.colors.items()}
    unlisted = [c for c in present if c not in fixed]
    spare = {code: PALETTE[i % len(PALETTE)] for i, code in enumerate(unlisted)}
    return {code: fixed.get(code) or spare[code] for code in present}


def class_breaks(values: Iterable[object], *, k: int = 5) -> npt.NDArray[np.float64]:
    """Quantile class breaks (``k + 1`` edges) of the finite values, duplicates removed.

    Parameters
    ----------
    values : iterable
        Numbers (text that is not a number and NaN are ignored).
    k : int, keyword-only
        Number of classes asked for; fewer come back when values repeat.

    Returns
    -------
    numpy.ndarray
        Increasing edges in the values' unit; empty when no value is finite.
    """
    arr = np.asarray(pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce"), dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return np.array([], dtype=float)
    return np.unique(np.quantile(arr, np.linspace(0, 1, k + 1)))


def class_colour(value: object, breaks: npt.NDArray[np.float64]) -> str:
    """Colour of the class ``value`` falls in (:data:`NO_DATA_COLOUR` for a missing value).

    When quantiles collapsed into fewer classes than colours, the classes are
    spread over the whole ramp so the top class is always the darkest.
    """
    try:
        number = float(value)  # type: ignore[arg-type]  # anything float() takes
    except (TypeError, ValueError):
        return NO_DATA_COLOUR
    if not np.isfinite(number) or breaks.size == 0:
        return NO_DATA_COLOUR
    if breaks.size == 1:
        return CHOROPLETH_COLOURS[-1]
    index = int(np.searchsorted(breaks, number, side="right") - 1)
    index = min(max(index, 0), breaks.size - 2)
    position = round(index * (len(CHOROPLETH_COLOURS) - 1) / max(breaks.size - 2, 1))
    return CHOROPLETH_COLOURS[position]


@dataclass(frozen=True)
class Choropleth:
    """A layer coloured by one numeric column in quantile classes.

    Attributes
    ----------
    column : str
        The figure, one of the layer's ``style.figures``.
    breaks : numpy.ndarray
        Class edges in the figure's unit (from :func:`class_breaks`).
    """

    column: str
    breaks: npt.NDArray[np.float64]

    @property
    def title(self) -> str:
        """The figure's heading for the legend (from the vocabulary)."""
        return vocab.column_label(self.column)

    def colour(self, value: object) -> str:
        """Fill colour of a feature whose figure is ``value``."""
        return class_colour(value, self.breaks)

    def classes(self) -> list[tuple[str, float, float]]:
        """``(colour, low, high)`` of each class, low to high."""
        if self.breaks.size == 0:
            return []
        if self.breaks.size == 1:
            only = float(self.breaks[0])
            return [(self.colour(only), only, only)]
        edges = zip(self.breaks[:-1], self.breaks[1:], strict=True)
        return [(self.colour(lo), float(lo), float(hi)) for lo, hi in edges]


def feature_style(
    style: LayerStyle,
    *,
    code: object = None,
    colours: Mapping[str, str] | None = None,
    fill: str | None = None,
    precision: object = None,
) -> dict[str, object]:
    """Leaflet path options of one feature.

    Parameters
    ----------
    style : LayerStyle
        The layer's style.
    code : object, optional, keyword-only
        The feature's ``style.color_by`` code.
    colours : dict, optional, keyword-only
        Code -> colour (from :func:`code_colours`); with ``code`` it colours
        stroke and fill.
    fill : str, optional, keyword-only
        A choropleth fill; the stroke keeps the layer's colour and the fill is
        at least :data:`CHOROPLETH_FILL_OPACITY` opaque.
    precision : object, optional, keyword-only
        The ``precision`` code of a point feature: its mark from
        :data:`PRECISION_MARKS` (hollow for centroids). Leave it out for lines and areas.

    Returns
    -------
    dict
        ``color``, ``weight``, ``opacity``, ``fillColor``, ``fillOpacity``,
        ``radius`` (pixels), ``dashArray`` when dashed, and ``className``
        ``pa-<popup template>`` for pages and tests to find the features.
    """
    own = None
    if colours is not None and style.color_by:
        own = _BLANK_CODE_COLOUR if is_blank(code) else colours.get(str(code).strip(), _BLANK_CODE_COLOUR)
    options = style.path_options(own)
    options["color"] = safe_colour(options["color"])
    options["fillColor"] = safe_colour(options["fillColor"], default=str(options["color"]))
    if fill is not None:
        options["fillColor"] = safe_colour(fill, default=NO_DATA_COLOUR)
        options["fillOpacity"] = max(float(style.fill_opacity), CHOROPLETH_FILL_OPACITY)
    marks = PRECISION_MARKS.get(str(precision).strip(), {}) if not is_blank(precision) else {}
    options.update(marks)
    options["className"] = f"pa-{style.popup if style.popup in POPUPS else 'generic'}" + (
        f" {PRECISION_CLASSES[str(precision).strip()]}" if marks else "")
    return options
