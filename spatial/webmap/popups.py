"""Popups and tooltips: the words of a feature, HTML-escaped, in the planner's vocabulary.

A popup is where a planner decides whether to trust a feature, so it shows
the feature's own words (the report's sentence, its section and category,
its quantities) and where its location comes from (来源, 来源坐标系, 精度).
Every heading comes from :func:`spatial.vocab.column_label` and every coded
value from :func:`spatial.vocab.label`, so the map, the tables and the
exports say the same thing and no raw code (``area_centroid``,
``under_construction``), ``None`` or ``nan`` ever reaches a popup.

A layer picks its template with :attr:`LayerStyle.popup` (one of
:data:`spatial.layerspec.POPUPS`); the templates know columns, never layer
names, so any layer carrying the columns of report items can use ``"item"``.

Everything from data is escaped here, in Python, and stored as one
pre-rendered string per feature: Folium places some HTML inside JavaScript
template literals, so :func:`escape` also neutralises the backtick, ``$`` and
backslash.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping, Sequence

from .. import vocab
from ..layerspec import LayerSpec
from ._format import cell_text, fmt_number, is_blank

__all__ = [
    "PROVENANCE_COLUMNS",
    "TEMPLATES",
    "escape",
    "feature_popup",
    "feature_title",
    "popup_html",
    "tooltip_html",
]

#: A feature's attributes, column -> value.
Row = Mapping[str, object]

#: A popup template: a feature's attributes and its layer's spec -> escaped HTML.
PopupTemplate = Callable[[Row, LayerSpec], str]

#: Columns that say where a location comes from, shown at the foot of every popup.
PROVENANCE_COLUMNS: tuple[str, ...] = ("source", "source_datum", "precision")

#: Columns naming a feature, most telling first (the popup's heading).
_TITLE_COLUMNS: tuple[str, ...] = ("name", "place_name", "topic", "item_id")

#: Columns a generic popup never lists: the heading, provenance (shown apart), geometry.
_NOT_LISTED: frozenset[str] = frozenset({"geometry", *_TITLE_COLUMNS[:2], *PROVENANCE_COLUMNS})

#: Roles whose columns are the planner's own: listed even when the vocabulary has no heading.
_OWN_COLUMNS_ROLES: frozenset[str] = frozenset({"upload", "analysis"})

#: Characters of a source's citation shown after its Chinese summary.
_CITATION_CHARS = 90

#: Most rows a generic popup lists (it must fit on a laptop screen).
_GENERIC_MAX_ROWS = 12

_TH = "text-align:left;padding-right:6px;white-space:nowrap;vertical-align:top"


def escape(value: object) -> str:
    """HTML-escape any value for popup, tooltip, legend or layer-control HTML.

    Besides ``& < > " '`` (what :func:`html.escape` covers) the backtick, ``$``
    and backslash become character references too: Folium places some HTML
    inside JavaScript template literals, where ``${...}`` would run as code;
    escaped here they are inert wherever the string ends up. So do the braces:
    folium wraps each element's finished script in a new Jinja template when
    it renders, so a ``{{`` or ``{%`` from a report or an upload would be read
    as template code (a syntax error that stopped the map, or text changed).

    Parameters
    ----------
    value : object
        Anything; None and NaN give "".

    Returns
    -------
    str
        Text safe inside HTML elements and attribute values.
    """
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = html.escape(str(value), quote=True)
    return (text.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")
            .replace("{", "&#123;").replace("}", "&#125;"))


def _shown(value: object) -> str:
    """A row value as text: numbers formatted for people, blanks empty."""
    if is_blank(value):
        return ""
    if isinstance(value, str):
        return value.strip()
    number = fmt_number(value)
    return number if number else str(value)


def provenance_rows(provenance: Mapping[str, object]) -> list[tuple[str, str]]:
    """Headed provenance rows: 来源 (text), 来源坐标系 (datum label), 精度 (precision label).

    Parameters
    ----------
    provenance : mapping
        ``source``, ``source_datum`` and ``precision`` of a feature (any may be missing).

    Returns
    -------
    list of (heading, text)
        Unescaped; blank values left out.
    """
    rows = []
    for column in PROVENANCE_COLUMNS:
        text = cell_text(column, provenance.get(column))
        if column == "source" and text:
            summary = vocab.source_label(text)  # Chinese first, the citation after it
            if summary:
                cited = text if len(text) <= _CITATION_CHARS else text[:_CITATION_CHARS].rstrip() + "…"
                text = f"{summary}（{cited}）"
        if text:
            rows.append((vocab.column_label(column), text))
    return rows


def popup_html(
    title: object,
    rows: Iterable[tuple[str, object]] = (),
    *,
    quote: object = None,
    provenance: Mapping[str, object] | None = None,
) -> str:
    """Escaped popup HTML: a heading, an optional quoted sentence, a table of rows.

    Parameters
    ----------
    title : object
        Heading.
    rows : iterable of (heading, value)
        Table rows; blank values (None, NaN, "", "None") are left out, numbers
        are formatted with thousands separators.
    quote : object, optional, keyword-only
        The report's own sentence, shown as a block quote.
    provenance : mapping, optional, keyword-only
        ``source``, ``source_datum`` and ``precision`` codes of the feature,
        shown as 来源, 来源坐标系 and 精度 with their vocabulary labels.

    Returns
    -------
    str
        HTML in which every heading and value is escaped.
    """
    out = [f'<div class="pa-popup" style="max-width:340px;font-size:13px"><b>{escape(_shown(title))}</b>']
    if not is_blank(quote):
        out.append('<blockquote class="pa-quote" style="margin:4px 0;padding-left:6px;'
                   f'border-left:3px solid #999">{escape(_shown(quote))}</blockquote>')
    table = [f"<tr><th style='{_TH}'>{escape(head)}</th><td>{escape(text)}</td></tr>"
             for head, text in ((h, _shown(v)) for h, v in rows) if text]
    table += [f"<tr class='pa-prov'><th style='{_TH};color:#666'>{escape(head)}</th>"
              f"<td style='color:#666'>{escape(text)}</td></tr>"
              for head, text in provenance_rows(provenance or {})]
    if table:
        out.append("<table>" + "".join(table) + "</table>")
    out.append("</div>")
    return "".join(out)


def feature_title(row: Row, spec: LayerSpec) -> str:
    """A feature's heading: its name (or place, topic, item id), else the layer's title."""
    for column in _TITLE_COLUMNS:
        if not is_blank(row.get(column)):
            return str(row.get(column)).strip()
    return spec.title_zh or spec.name


def _rows(row: Row, columns: Sequence[str]) -> list[tuple[str, str]]:
    """Headed, readable rows for those of ``columns`` the feature has."""
    return [(vocab.column_label(c), cell_text(c, row.get(c))) for c in columns if c in row]


def _provenance(row: Row) -> dict[str, object]:
    return {c: row.get(c) for c in PROVENANCE_COLUMNS}


def _first(row: Row, *columns: str) -> object:
    """The first non-blank value among ``columns`` (None when all are blank)."""
    return next((row.get(c) for c in columns if not is_blank(row.get(c))), None)


def item_popup(row: Row, spec: LayerSpec) -> str:
    """A report item: its sentence, part / section, category, year, quantities, place, status."""
    section = " / ".join(str(row.get(c)).strip() for c in ("part_title", "section_title")
                         if not is_blank(row.get(c)))
    rows = [*_rows(row, ("item_id",)), (vocab.column_label("section_title"), section)]
    rows += _rows(row, ("category",))
    if cell_text("categories", row.get("categories")) != cell_text("category", row.get("category")):
        rows += _rows(row, ("categories",))
    rows += _rows(row, ("year", "quantities", "place_name", "geocode_status"))
    return popup_html(feature_title(row, spec), rows, quote=row.get("text"), provenance=_provenance(row))


def district_popup(row: Row, spec: LayerSpec) -> str:
    """A unit of aggregation: its name and the figures its layer can be coloured by."""
    return popup_html(feature_title(row, spec), _rows(row, spec.style.figures), provenance=_provenance(row))


def crossing_popup(row: Row, spec: LayerSpec) -> str:
    """A river crossing: status, bridge or tunnel, what it carries, year opened, district."""
    rows = _rows(row, ("status", "mode", "carries", "opened", "district"))
    return popup_html(feature_title(row, spec), rows, provenance=_provenance(row))


def ring_popup(row: Row, spec: LayerSpec) -> str:
    """A city of the metropolitan area: ring, basis, distance, population, the report's sentence."""
    rows = _rows(row, ("ring", "basis", "distance_km", "population_2020"))
    return popup_html(feature_title(row, spec), rows, quote=_first(row, "report_sentence", "sentence"),
                      provenance=_provenance(row))


def _listed(column: str, spec: LayerSpec) -> bool:
    """Whether a generic popup lists ``column`` of a layer with ``spec``."""
    if column in _NOT_LISTED or column.startswith("_"):
        return False
    # planatlas's own layers carry bookkeeping columns (lon/lat copies, ids, file
    # names) that have no heading; a planner's own columns are shown by name
    return vocab.column_label(column) != column or spec.role in _OWN_COLUMNS_ROLES


def generic_popup(row: Row, spec: LayerSpec) -> str:
    """Any layer: its name and up to 12 of its other columns, headed and labelled."""
    columns = [c for c in row if _listed(str(c), spec)]
    rows = [(head, text) for head, text in _rows(row, columns) if text][:_GENERIC_MAX_ROWS]
    return popup_html(feature_title(row, spec), rows, provenance=_provenance(row))


#: Popup template by :attr:`LayerStyle.popup` (every name of :data:`spatial.layerspec.POPUPS`).
TEMPLATES: Mapping[str, PopupTemplate] = {
    "generic": generic_popup,
    "item": item_popup,
    "district": district_popup,
    "crossing": crossing_popup,
    "ring": ring_popup,
}


def feature_popup(row: Row, spec: LayerSpec) -> str:
    """Escaped popup HTML of one feature, by its layer's template (generic when unknown).

    Parameters
    ----------
    row : mapping
        The feature's attributes.
    spec : LayerSpec
        Its layer's spec; ``spec.style.popup`` picks the template.

    Returns
    -------
    str
    """
    return TEMPLATES.get(spec.style.popup, generic_popup)(row, spec)


def tooltip_html(row: Row, spec: LayerSpec, *, figure: str | None = None) -> str:
    """Escaped hover text: the feature's name, its ``color_by`` label and the figure coloured by.

    Parameters
    ----------
    row : mapping
        The feature's attributes.
    spec : LayerSpec
        Its layer's spec.
    figure : str, optional, keyword-only
        Column of a choropleth the feature is coloured by; its value is shown.

    Returns
    -------
    str
        E.g. ``济南黄河大桥 · 已通车`` or ``历下区 · 8,147``.
    """
    parts = [feature_title(row, spec)]
    if spec.style.color_by:
        parts.append(cell_text(spec.style.color_by, row.get(spec.style.color_by)))
    if figure:
        parts.append(cell_text(figure, row.get(figure)))
    return escape(" · ".join(p for p in parts if p))
