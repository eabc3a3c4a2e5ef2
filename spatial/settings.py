"""Project-wide settings: where data lives, what may go online, default speeds.

Plain module attributes, as in osmnx, so a notebook can change one with
``spatial.settings.allow_online = True``. Environment variables give the same
switches to the CLI and the app:

``PLANATLAS_DATA_DIR``
    Folder for the GeoPackage store and the disk cache (default: the user data
    folder, ``~/.local/share/planatlas`` on Linux).
``PLANATLAS_ALLOW_ONLINE``
    ``1`` lets osmnx downloads and online geocoders run. Off by default: the
    default path of the tool never touches the network.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

#: Repository / installation root (the folder holding ``spatial/`` and ``layers/``).
PROJECT_ROOT: Path = Path(__file__).resolve().parent.parent

#: Authored data shipped with the project (gazetteer, census tables, polygons).
LAYER_DATA_DIR: Path = PROJECT_ROOT / "layers" / "data"

#: The embedded default report: Jinan, 2022-12-26, with its 2023 plans.
DEFAULT_REPORT: Path = PROJECT_ROOT / "seeds" / "jinan_2023_government_work_report.md"

#: Geographic CRS every stored layer uses (WGS-84 longitude/latitude).
STORAGE_CRS: str = "EPSG:4326"

#: Metric CRS for measuring in Jinan: CGCS2000 / 3-degree Gauss-Kruger CM 117E.
METRIC_CRS: str = "EPSG:4548"

#: Walking speed of the life-circle standards, metres per minute (4.8 km/h;
#: GB 50180-2018 equates 15 minutes with 800-1,000 m).
WALK_SPEED_M_PER_MIN: float = 80.0

#: Cycling speed, metres per minute (15 km/h).
BIKE_SPEED_M_PER_MIN: float = 250.0

#: Largest upload the app accepts, bytes.
MAX_UPLOAD_BYTES: int = 50 * 1024 * 1024

#: Seconds an online request may take before it is abandoned.
ONLINE_TIMEOUT_S: float = 20.0


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


#: Whether online sources (osmnx downloads, online geocoders) may be used.
allow_online: bool = _env_flag("PLANATLAS_ALLOW_ONLINE")


def data_dir() -> Path:
    """Folder for the store and the cache, created on first use."""
    env = os.environ.get("PLANATLAS_DATA_DIR")
    if env:
        base = Path(env).expanduser()
    else:
        xdg = os.environ.get("XDG_DATA_HOME")
        base = (Path(xdg) if xdg else Path.home() / ".local" / "share") / "planatlas"
    base.mkdir(parents=True, exist_ok=True)
    return base


def default_store_path() -> Path:
    """Default GeoPackage written by ``planatlas build``."""
    return data_dir() / "planatlas.gpkg"


def cache_dir() -> Path:
    """Disk cache for online downloads and prepared networks."""
    path = data_dir() / "cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_key(*parts: object) -> str:
    """Stable hash of the arguments of a cached call (used as a file name)."""
    blob = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:24]
