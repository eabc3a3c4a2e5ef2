"""The quick robustness battery, inside the test command: every category, a few generated cases each.

The full battery (``python tools/robustness.py``, which writes
``docs/robustness.md``) runs the same categories of ``tests/battery.py`` with
many more cases. Here each category is one test, so a failure names the
category and shows the first cases that went wrong: a traceback, data lost,
a hang, an unclear message or a wrong result must all be 0.
"""

from __future__ import annotations

import pytest

from tests import battery


def _id(entry: tuple) -> str:
    return entry[0].__name__.removeprefix("cat_")


@pytest.mark.parametrize("entry", battery.CATEGORIES, ids=_id)
def test_quick_battery_category_has_no_problems(entry: tuple) -> None:
    func, _full, quick = entry
    tallies = battery.run_category(func, quick)
    assert sum(t.tried for t in tallies) >= 1, "the category generated no case"
    problems = {t.category: t.examples for t in tallies if t.problems}
    assert not problems, "\n".join(f"{cat}: {e}" for cat, examples in problems.items() for e in examples)


def test_unclear_messages_are_recognised() -> None:
    assert battery.unclear("无法读取 x.gpkg：已损坏 (cannot read x.gpkg: damaged)") is None
    assert battery.unclear("abc (x)") == "no Chinese"
    assert battery.unclear("无法读取 x：第一行\n第二行 (x)") == "more than one line"
    assert "library text" in battery.unclear("无法写入 (OperationalError: database or disk is full)")
    assert battery.unclear("无法写入数据库") == "not Chinese first with the English in brackets"
    assert battery.unclear("zip bomb (1).zip 疑似 zip 炸弹 (zip bomb (1).zip looks like a zip bomb)") is None


def test_a_hang_and_a_crash_in_a_child_are_counted() -> None:
    import os
    import time

    tally = battery.Tally("selftest")
    tally.run(battery.in_child(time.sleep, 30, timeout=2), label="sleeps")
    tally.run(battery.in_child(os.abort, timeout=20), label="aborts")
    tally.run(battery.in_child(lambda: bytearray(8 << 30), timeout=20, memory=1 << 30), label="eats memory")
    assert (tally.hangs, tally.tracebacks) == (2, 1), tally.examples
