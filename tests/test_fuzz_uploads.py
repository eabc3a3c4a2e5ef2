"""Property tests: any bytes given to read_upload end in a result or a planatlas error.

Three families of input:

* random bytes under every supported file name extension (and a few others);
* valid files (GeoJSON, GeoPackage, zipped Shapefile, CSV) damaged by random
  byte flips, truncation and insertions, which reach far deeper into GDAL
  than pure noise;
* random small GeoDataFrames (points, lines or polygons in Jinan, text and
  number attributes with awkward Unicode) written in each format: they must
  read back with the same number of features, in place.

Whatever happens, only :mod:`spatial._errors` subclasses may escape, messages
are one line, and no temporary folder is left behind. The budget is fixed and
derandomised so CI runs the same examples every time.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spatial._errors import PlanatlasError
from spatial.io import list_layers, read_upload
from tests import inputs

FUZZ = {"deadline": None, "derandomize": True, "database": None,
        "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]}


@pytest.fixture(scope="module")
def private_tmp(tmp_path_factory):
    """Point tempfile at a folder of this module's own, to see what is left in it."""
    folder = tmp_path_factory.mktemp("sys_tmp")
    mp = pytest.MonkeyPatch()
    mp.setattr(tempfile, "tempdir", str(folder))
    yield folder
    mp.undo()


def _read_or_refuse(data: bytes, filename: str, folder: Path, **kwargs):
    """read_upload and list_layers; the result, or None when refused cleanly."""
    out = None
    try:
        out = read_upload(data, filename=filename, **kwargs)
    except PlanatlasError as exc:
        msg = str(exc)
        assert msg and "\n" not in msg and "planatlas-upload-" not in msg, msg
    with contextlib.suppress(PlanatlasError):
        list_layers(data, filename=filename)
    left = [p.name for p in folder.iterdir()]
    assert left == [], f"temporary files left behind: {left}"
    return out


# Text a planner's attribute table may hold: Chinese, quotes, delimiters,
# newlines, emoji, markup; no NUL and no lone surrogates (not storable text).
_ATTR_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12
) | st.sampled_from(inputs.ATTR_SAMPLES)

frames = st.builds(
    lambda kind, rows: inputs.jinan_frame(kind, [r[0] for r in rows], [r[1] for r in rows]),
    st.sampled_from(["point", "line", "polygon"]),
    st.lists(st.tuples(_ATTR_TEXT, st.floats(-1e6, 1e6, allow_nan=False)), min_size=1, max_size=6),
)

# --------------------------------------------------------------------------- properties


@settings(max_examples=300, **FUZZ)
@given(data=st.binary(max_size=600), ext=st.sampled_from(inputs.UPLOAD_EXTENSIONS))
def test_random_bytes_only_raise_planatlas_errors(private_tmp, data, ext):
    _read_or_refuse(data, "upload" + ext, private_tmp)


@settings(max_examples=100, **FUZZ)
@given(head=st.sampled_from([h for h in inputs.MAGIC_HEADS if h]),
       tail=st.binary(max_size=400), ext=st.sampled_from(inputs.UPLOAD_EXTENSIONS))
def test_magic_numbers_followed_by_noise(private_tmp, head, tail, ext):
    _read_or_refuse(head + tail, "upload" + ext, private_tmp)


@st.composite
def damaged_files(draw):
    """A random frame written in a random format, then damaged by the battery's own damage()."""
    data, name = inputs.file_bytes(draw(frames), draw(st.sampled_from(inputs.UPLOAD_FORMATS)))
    return inputs.damage(draw(st.randoms(use_true_random=False)), data), name


@settings(max_examples=300, **FUZZ)
@given(damaged_files())
def test_damaged_valid_files_only_raise_planatlas_errors(private_tmp, case):
    data, name = case
    result = _read_or_refuse(data, name, private_tmp)
    if result is not None:
        assert str(result.frame.crs) == "EPSG:4326"
        assert result.n_features == len(result.frame) >= 1


@settings(max_examples=60, **FUZZ)
@given(gdf=frames, fmt=st.sampled_from(inputs.UPLOAD_FORMATS))
def test_random_frames_round_trip(private_tmp, gdf, fmt):
    data, name = inputs.file_bytes(gdf, fmt)
    result = _read_or_refuse(data, name, private_tmp)
    assert result is not None, f"a valid {fmt} was refused"
    assert result.n_features == len(gdf) == len(result.frame)
    assert str(result.frame.crs) == "EPSG:4326"
    # same places, to well under a metre (CSV/WKT text keeps 15+ digits)
    got = shapely.centroid(result.frame.geometry.values)
    want = shapely.centroid(gdf.geometry.values)
    assert np.allclose(shapely.get_coordinates(got), shapely.get_coordinates(want), atol=1e-7)
    assert set(gdf.geom_type) == set(result.frame.geom_type) or fmt == "shp"  # shp may promote to Multi


@pytest.mark.parametrize("method", sorted(inputs.BAD_STREAMS))
def test_damaged_compressed_stream_is_an_input_file_error(private_tmp, method):
    # regression: zlib.error and lzma.LZMAError escaped from the unzip step
    # (found by the fuzzer above with a flipped byte inside a zipped .dbf)
    from spatial._errors import InputFileError

    with pytest.raises(InputFileError, match=r"^无法读取 layer\.zip：成员 layer\.shp 已损坏"):
        read_upload(inputs.zip_with_bad_stream(method), filename="layer.zip")
    assert list(private_tmp.iterdir()) == []
