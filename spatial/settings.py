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

from ._errors import StoreError

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

# --- limits on every input, checked before a file is read whole. A work
# report is 30-100 KB of text with a few hundred items; a city's layers hold
# thousands to a few hundred thousand features.

#: Largest report file, bytes (the Jinan report is 66 KB).
MAX_REPORT_BYTES: int = 2 * 1024 * 1024

#: Most items a report may yield (Jinan: 516); more is not a work report.
MAX_REPORT_ITEMS: int = 20_000

#: Most columns of a CSV upload (a wide POI export has about 60).
MAX_CSV_COLUMNS: int = 1000

#: Most features of an uploaded layer.
MAX_UPLOAD_FEATURES: int = 1_000_000

#: Most cells of a population raster, in the file and after regridding
#: (25 million float64 cells are 200 MB; a 100 m grid of Shandong has 16 million).
MAX_RASTER_CELLS: int = 25_000_000

#: Largest OSM extract read by ``planatlas import-osm``, bytes (it is streamed, never held whole;
#: Geofabrik's Shandong extract is about 0.2 GB; larger ones are cut with ``osmium extract`` first).
MAX_OSM_BYTES: int = 2 * 1024 * 1024 * 1024

#: Largest population raster file, bytes (WorldPop's 100 m China raster is about 1 GB).
MAX_RASTER_BYTES: int = 2 * 1024 * 1024 * 1024

#: Largest street network file, bytes (Shandong's OSM extract is about 250 MB).
MAX_NETWORK_BYTES: int = 1024 * 1024 * 1024

#: Features of one layer drawn one by one on a map; beyond, the layer is drawn
#: summarised on a grid (counts per cell) with a note.
MAX_DRAWN_FEATURES: int = 5000

#: Vertices of one layer drawn on a map; beyond, lines and polygons are
#: simplified further (with a note) until they fit.
MAX_DRAWN_VERTICES: int = 250_000

#: Seconds an online request may take before it is abandoned.
ONLINE_TIMEOUT_S: float = 20.0


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


#: Whether online sources (osmnx downloads, online geocoders) may be used.
allow_online: bool = _env_flag("PLANATLAS_ALLOW_ONLINE")


def user_path(path: str | os.PathLike[str]) -> Path:
    """A path a user typed, ``~`` expanded as a shell does (``~nobody`` of an unknown user stays as it is)."""
    try:
        return Path(path).expanduser()
    except RuntimeError:  # no such user, or no home folder
        return Path(path)


def data_dir() -> Path:
    """Folder for the store and the cache, created on first use.

    Raises
    ------
    StoreError
        The folder cannot be created or written (``PLANATLAS_DATA_DIR`` names
        a file, a read-only place, or a folder without write permission).
    """
    env = os.environ.get("PLANATLAS_DATA_DIR")
    if env:
        base = user_path(env)
        where = "环境变量 PLANATLAS_DATA_DIR", "the PLANATLAS_DATA_DIR environment variable"
    else:
        xdg = os.environ.get("XDG_DATA_HOME")
        try:
            base = (Path(xdg) if xdg else Path.home() / ".local" / "share") / "planatlas"
        except RuntimeError:  # no home folder to be found
            base = Path(".planatlas")
        where = "用户数据目录 (可用 PLANATLAS_DATA_DIR 另指)", "the user data folder (set PLANATLAS_DATA_DIR)"
    try:
        base.mkdir(parents=True, exist_ok=True)
        usable = base.is_dir() and os.access(base, os.W_OK | os.X_OK)
        reason = ("不可写", "not writable")
    except OSError as exc:
        usable = False
        reason = _folder_reason(exc)
    if not usable:
        msg = (f"数据目录 {base} 不可用：{reason[0]}；请把{where[0]} 指向一个可写的文件夹 "
               f"(data folder {base} is unusable: {reason[1]}; point {where[1]} at a writable folder)")
        raise StoreError(msg)
    return base


def _folder_reason(exc: OSError) -> tuple[str, str]:
    import errno

    if isinstance(exc, (FileExistsError, NotADirectoryError)) or exc.errno in (errno.EEXIST, errno.ENOTDIR):
        return "它 (或它的上级) 是文件，不是文件夹", "it (or a folder above it) is a file"
    if isinstance(exc, PermissionError):
        return "没有权限创建或写入", "permission denied"
    if exc.errno == errno.EROFS:
        return "文件系统为只读", "read-only file system"
    if exc.errno == errno.ENOSPC:
        return "磁盘已满", "disk full"
    return "无法创建", exc.strerror or type(exc).__name__


def default_store_path() -> Path:
    """Default GeoPackage written by ``planatlas build``."""
    return data_dir() / "planatlas.gpkg"


def cache_dir() -> Path:
    """Disk cache for online downloads and prepared networks.

    Raises
    ------
    StoreError
        The data folder is unusable, or ``cache`` in it is not a folder.
    """
    path = data_dir() / "cache"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = _folder_reason(exc)
        msg = f"缓存目录 {path} 不可用：{reason[0]} (cache folder {path} is unusable: {reason[1]})"
        raise StoreError(msg) from None
    return path


def networks_dir() -> Path:
    """Folder where the server's administrator puts street networks the app may offer (``networks``).

    The app offers only the files in this folder (and uploads): a web user
    can never name a path on the server.
    """
    return data_dir() / "networks"


def cache_key(*parts: object) -> str:
    """Stable hash of the arguments of a cached call (used as a file name)."""
    blob = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:24]
