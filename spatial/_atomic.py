"""Atomic file writes: write beside the target, move into place only when complete.

Every writer in planatlas (the store, exports, caches, rasters) uses
:func:`atomic_path`, so an interrupted write leaves the previous file as it
was and never a truncated one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ._errors import StoreError


@contextmanager
def atomic_path(dest: str | os.PathLike[str], *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path in ``dest``'s folder; on success move it over ``dest``.

    The temporary path does not exist yet (GDAL and rasterio want to create
    their files themselves). On any exception, including KeyboardInterrupt, it
    is removed and ``dest`` is untouched.

    Parameters
    ----------
    dest : path-like
        Final file.
    suffix : str, optional
        Suffix of the temporary file (drivers pick formats by it); default
        ``dest``'s own suffix.

    Raises
    ------
    StoreError
        When the folder does not exist or cannot be written.
    """
    dest = Path(dest)
    folder = dest.parent if str(dest.parent) else Path(".")
    if not folder.is_dir():
        msg = f"cannot write {dest}: folder {folder} does not exist"
        raise StoreError(msg)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{dest.stem}.", suffix=suffix or dest.suffix or ".tmp",
                                    dir=folder)
    except OSError as exc:
        msg = f"cannot write {dest}: {exc.strerror or exc}"
        raise StoreError(msg) from None
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()
    try:
        yield tmp
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
