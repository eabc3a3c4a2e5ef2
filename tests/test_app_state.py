"""Page inputs survive a page switch because Streamlit keeps them (issue 14).

Every input widget of ``app_pages/`` with a ``w_*`` key must be drawn with
``persist_state="session"``; without it Streamlit drops the value when the
planner opens another page. Checked on the source, so a new page or widget
cannot forget it; the browser test
``test_coverage_inputs_survive_a_page_switch_and_a_changed_input_marks_the_result_stale``
checks the behaviour.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PAGES = sorted((Path(__file__).resolve().parents[1] / "app_pages").glob("*.py"))

#: Streamlit input widgets whose value a planner sets (buttons, uploads, tables and maps are not kept).
INPUTS = {"selectbox", "radio", "text_input", "text_area", "number_input", "multiselect", "checkbox", "toggle",
          "slider", "select_slider", "date_input", "time_input", "color_picker", "pills", "segmented_control"}


def _input_calls(path: Path) -> list[tuple[int, str, dict[str, ast.expr]]]:
    out = []
    for node in ast.walk(ast.parse(path.read_bytes())):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in INPUTS:
                out.append((node.lineno, name, {k.arg: k.value for k in node.keywords if k.arg}))
    return out


def test_the_pages_draw_input_widgets():
    calls = [c for p in PAGES for c in _input_calls(p)]
    assert len(calls) >= 40  # the check below ran over the real pages


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_every_input_widget_has_a_key_and_is_kept_for_the_session(path):
    missing = []
    for line, name, kwargs in _input_calls(path):
        persist = kwargs.get("persist_state")
        if "key" not in kwargs or not (isinstance(persist, ast.Constant) and persist.value == "session"):
            missing.append(f"{path.name}:{line} st.{name}")
    assert not missing, "input widgets without key= and persist_state='session': " + ", ".join(missing)
