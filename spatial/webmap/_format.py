"""Cell values as a planner reads them: codes as words, counts with separators, years as years.

Popups, tooltips and legends all show values of data columns. Written once
here, a value reads the same everywhere on the map: a coded column through
:mod:`spatial.vocab` (``area_centroid`` -> 区域中心), a year without a
thousands separator (``1982``), a count with one (``1,000,000``), a float with
no exponent, a JSON list as its short text, and a blank (None, NaN, "None")
as nothing at all, so a popup never shows ``None`` or ``nan``.

The functions return plain text; escaping is the caller's job
(:func:`spatial.webmap.popups.escape`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from .. import vocab

#: Text cells that mean "no value" once a frame went through ``astype(str)`` or a CSV.
_BLANK_TEXT = frozenset({"", "none", "nan", "null", "nat", "<na>"})

#: Separator planatlas uses inside multi-value text cells (``district``, ``aliases``).
_MULTI = vocab.MULTI_SEPARATOR

#: How multi-value cells are joined for reading.
_JOIN = "、"


def is_blank(value: object) -> bool:
    """True for None, NaN, NaT, empty text and the texts "None"/"nan"/"null".

    Parameters
    ----------
    value : object
        A cell.

    Returns
    -------
    bool
    """
    if value is None:
        return True
    if isinstance(value, float | np.floating):
        return bool(np.isnan(value))
    if isinstance(value, str):
        return value.strip().lower() in _BLANK_TEXT
    if value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, np.datetime64 | np.timedelta64) and bool(np.isnat(value))


def _as_float(value: object) -> float | None:
    """A real number (not a bool, not text) as a float, else None."""
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    return None


def fmt_number(value: object) -> str:
    """A number for people: ``1,000,000``, ``4,300``, ``12.5``, ``0.034``; never ``1.3e+07``.

    Whole numbers and numbers of 100 or more are rounded to units with
    thousands separators; smaller numbers keep two decimals (more for
    numbers below 1, so they do not read as 0), trailing zeros dropped.

    Parameters
    ----------
    value : object
        A number, or text holding one.

    Returns
    -------
    str
        "" for a blank; the text itself for a value that is not a number.
    """
    if is_blank(value):
        return ""
    number = _as_float(value)
    if number is None:
        try:
            number = float(str(value).replace(",", ""))
        except ValueError:
            return str(value)
    if math.isnan(number):
        return ""
    if math.isinf(number):
        return "∞" if number > 0 else "-∞"
    if number.is_integer() or abs(number) >= 100:
        return f"{round(number):,}"
    digits = 2 if abs(number) >= 1 else min(8, 1 - math.floor(math.log10(abs(number))) + 1)
    text = f"{number:,.{digits}f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-", "-0") else "0"


def fmt_year(value: object) -> str:
    """A year as written on a calendar: ``2023``, never ``2,023`` or ``2023.0``.

    Parameters
    ----------
    value : object
        A number or text; text that is not a whole number (``"1982-07"``) is kept.

    Returns
    -------
    str
    """
    if is_blank(value):
        return ""
    number = _as_float(value)
    if number is None:
        text = str(value).strip()
        try:
            number = float(text)
        except ValueError:
            return text
    return str(int(number)) if number.is_integer() else str(value)


def fmt_json_list(value: object) -> str:
    """A JSON text cell (quantities, mentions) as short readable text.

    Each entry shows the words a planner recognises from the report (its
    ``text``, ``raw`` or ``name``); entries are joined by "；".

    Parameters
    ----------
    value : object
        JSON text, a list or a mapping.

    Returns
    -------
    str
        "" for a blank or an empty list; the value as text if it is not JSON.
    """
    if is_blank(value):
        return ""
    try:
        data = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return str(value)
    if isinstance(data, Mapping):
        data = [data]
    if not isinstance(data, list):
        return str(data)
    parts: list[str] = []
    for entry in data:
        if isinstance(entry, Mapping):
            words = entry.get("text") or entry.get("raw") or entry.get("name")
            if words:
                parts.append(str(words))
            else:
                parts.append(" ".join(str(v) for k, v in entry.items() if not is_blank(v) and k != "span"))
        elif not is_blank(entry):
            parts.append(str(entry))
    return "；".join(p for p in parts if p)


def is_year_column(column: str) -> bool:
    """Columns holding calendar years (``year``, ``opened``, ``*_year``)."""
    return column in ("year", "opened") or column.endswith("_year")


def is_identifier_column(column: str) -> bool:
    """Columns holding identifiers, shown as written (``adcode``, ``id``, ``*_id``, ``*code``)."""
    return column == "id" or column.endswith(("_id", "code"))


def cell_text(column: str, value: object) -> str:
    """The text a planner reads for one cell of ``column``.

    Parameters
    ----------
    column : str
        Column name; it decides how the value reads (a vocabulary domain from
        :data:`spatial.vocab.COLUMN_DOMAINS`, a year, an identifier).
    value : object
        The cell.

    Returns
    -------
    str
        Plain (unescaped) text; "" for a blank.
    """
    if is_blank(value):
        return ""
    domain = vocab.COLUMN_DOMAINS.get(column)
    if domain is not None:
        return vocab.label_many(domain, value) if _MULTI in str(value) else vocab.label(domain, value)
    if isinstance(value, bool | np.bool_):
        return vocab.label("yes_no", "yes" if value else "no")
    if is_year_column(column):
        return fmt_year(value)
    number = _as_float(value)
    if number is not None:
        if is_identifier_column(column):
            return str(int(number)) if number.is_integer() else str(value)
        return fmt_number(number)
    text = str(value).strip()
    if text[:1] in ("[", "{"):
        return fmt_json_list(text)
    return _JOIN.join(p.strip() for p in text.split(_MULTI) if p.strip()) if _MULTI in text else text


def code_order(column: str) -> Callable[[str], tuple[int, int, str]]:
    """Sort key putting codes of ``column`` in the vocabulary's order, unknown codes after, blanks last.

    Legends and layer-control entries then read as a planner expects
    (已通车, 在建, 规划) rather than alphabetically by code.
    """
    domain = vocab.COLUMN_DOMAINS.get(column)
    known = {code: i for i, code in enumerate(vocab.codes(domain))} if domain and domain in vocab.LABELS else {}

    def key(code: str) -> tuple[int, int, str]:
        return (int(is_blank(code)), known.get(code, len(known)), code)

    return key
