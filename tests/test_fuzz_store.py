"""Property tests: a failed or interrupted store write never loses the previous store.

Random sets of layers, some of them unwritable (columns differing only in
case, complex numbers, a non-text column name, no CRS, reserved or empty
layer names), and writes interrupted at a random layer (``KeyboardInterrupt``
or ``OSError`` raised from inside GDAL's writer). After each attempt either the
new store is complete, or a planatlas error (or the interrupt itself) came out
and the previous store reads back unchanged, with no temporary file left.
The killed-process case is in ``tests/test_store_atomic.py``.
"""

from __future__ import annotations

import pyogrio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spatial import store
from spatial._errors import PlanatlasError, StoreError
from tests import inputs

FUZZ = {"deadline": None, "derandomize": True, "database": None,
            "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]}

good = inputs.good_frame
BAD_FRAMES = inputs.BAD_FRAMES
BAD_NAMES = inputs.BAD_LAYER_NAMES


@pytest.fixture
def previous(tmp_path):
    path = tmp_path / "planatlas.gpkg"
    store.write_store({"parks": good(3), "places": good(2)}, path)
    return path


def assert_previous_intact(path):
    assert {row[0] for row in pyogrio.list_layers(path)} >= {"parks", "places", store.META_TABLE}
    assert store.read_layer("parks", path=path)["name"].tolist() == ["趵突泉0", "趵突泉1", "趵突泉2"]
    assert len(store.read_layer("places", path=path)) == 2
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp.gpkg")] == []


@pytest.mark.parametrize("bad", sorted(BAD_FRAMES))
def test_unwritable_frame_is_a_store_error_and_keeps_the_old_store(previous, bad):
    with pytest.raises(PlanatlasError):
        store.write_store({"parks": good(1), "bad": BAD_FRAMES[bad]()}, previous)
    assert_previous_intact(previous)


@pytest.mark.parametrize("name", BAD_NAMES)
def test_reserved_or_empty_layer_names_are_refused(previous, name):
    with pytest.raises(StoreError, match="reserved"):
        store.write_store({"parks": good(1), name: good(1)}, previous)
    assert_previous_intact(previous)


layer_sets = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["parks", "places", "districts", "grid", "上传图层", "a b"]),
                  st.integers(0, 4).map(good)),
        st.tuples(st.sampled_from(["bad1", "bad2"]), st.sampled_from(sorted(BAD_FRAMES)).map(
            lambda k: BAD_FRAMES[k]())),
        st.tuples(st.sampled_from(BAD_NAMES), st.just(good(1))),
    ),
    min_size=1, max_size=5,
).map(dict)


@settings(max_examples=25, **FUZZ)
@given(layers=layer_sets, fail_at=st.one_of(st.none(), st.integers(0, 5)),
       interrupt=st.sampled_from([KeyboardInterrupt, OSError]))
def test_any_write_leaves_a_complete_store(tmp_path, layers, fail_at, interrupt):
    path = tmp_path / "planatlas.gpkg"
    store.write_store({"parks": good(3), "places": good(2)}, path)
    real_write = pyogrio.write_dataframe
    calls = []

    def flaky_write(*args, **kwargs):
        calls.append(kwargs.get("layer"))
        if fail_at is not None and len(calls) > fail_at:
            raise interrupt("simulated failure while writing")
        return real_write(*args, **kwargs)

    mp = pytest.MonkeyPatch()
    mp.setattr(pyogrio, "write_dataframe", flaky_write)
    try:
        store.write_store(layers, path)
    except (PlanatlasError, KeyboardInterrupt):
        assert_previous_intact(path)
    else:
        written = {row[0] for row in pyogrio.list_layers(path)}
        assert set(layers) | {store.META_TABLE} <= written
        for name, frame in layers.items():
            assert len(store.read_layer(name, path=path)) == len(frame)
    finally:
        mp.undo()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp.gpkg")] == []
