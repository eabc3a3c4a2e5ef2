"""Shared fixtures, and a sandbox: nothing a test run writes lands in the home folder.

Every folder planatlas (and osmnx) would write to — the store, the network
and geocoding caches — points at a temporary folder of this test session,
set before any test module imports ``spatial``. The seed build (the embedded
Jinan report, parsed, geocoded and assembled) is made once per session and
worker, and shared by the tests that only read it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_SANDBOX = Path(tempfile.mkdtemp(prefix="planatlas-tests-"))


def pytest_configure(config: pytest.Config) -> None:
    # set here, not in a fixture: modules read some settings at import time
    os.environ["PLANATLAS_DATA_DIR"] = str(_SANDBOX / "data")
    os.environ.setdefault("XDG_CACHE_HOME", str(_SANDBOX / "xdg-cache"))
    os.environ.pop("PLANATLAS_ALLOW_ONLINE", None)
    import osmnx as ox

    ox.settings.cache_folder = str(_SANDBOX / "osmnx-cache")
    ox.settings.use_cache = False


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The session's planatlas data folder (``PLANATLAS_DATA_DIR``)."""
    return Path(os.environ["PLANATLAS_DATA_DIR"])


@pytest.fixture(scope="session")
def seed_build():
    """The embedded report built once: layers, specs, tables and summary."""
    from layers.build import build_all

    return build_all()


@pytest.fixture(scope="session")
def seed_store(seed_build, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of the seed build, written once per session (read-only for tests)."""
    from layers.build import write_build

    return write_build(seed_build, tmp_path_factory.mktemp("seed") / "seed.gpkg")


@pytest.fixture
def seed_store_copy(seed_store: Path, tmp_path: Path) -> Iterator[Path]:
    """A private copy of the seed store, for tests that change it."""
    import shutil

    path = tmp_path / "store.gpkg"
    shutil.copyfile(seed_store, path)
    yield path
