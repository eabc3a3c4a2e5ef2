"""Outputs a user names (``--out``, ``--distance-tif`` …): checked together, before any work is done.

A command that writes files must never destroy what it did not make. So every
output of one command is planned with :func:`plan_outputs` before the work
starts, and refused, with the reason and what to do, when

* it is not a regular file: a folder, device, FIFO or socket (writes follow a
  symbolic link and keep it, see :mod:`spatial._atomic`);
* it is a file the command reads: the store (``export --out`` naming the
  store would replace ten layers with one), the report, the network or the
  population raster;
* two outputs of the command are one file (``--out x.gpkg`` writes a
  ``x.csv`` beside it: ``--distance-tif`` cannot also be that file);
* a file is already there that planatlas did not write, unless ``--force``
  is given (``force=True``); the default store is always planatlas's own.

How planatlas knows it wrote a file: after each write, :func:`record_outputs`
keeps the file's identity (device, inode, size and modification time, in
nanoseconds) in ``outputs.json`` in the data folder. A file whose identity is
recorded there, unchanged, is planatlas's own and may be replaced; one that was
edited since, or never written by planatlas, is the user's. (A marker inside
the file would not do: CSV and GeoJSON have no room for one, and a user's
copy of a planatlas GeoPackage would carry it too.) The record holds at most
:data:`MAX_RECORDS` files; when the data folder cannot be used, nothing is
recorded, and replacing then needs ``--force``.

Permissions and owners are kept, and temporaries cleaned, by the writers'
own :func:`spatial._atomic.atomic_path`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import settings
from .._atomic import atomic_path, refuse_virtual_output, regular_target
from .._errors import ParameterError, StoreError

#: Files the record of planatlas's outputs keeps at most (the oldest are forgotten first).
MAX_RECORDS: int = 5000

_RECORD = "outputs.json"


@dataclass(frozen=True)
class Output:
    """One planned output.

    Attributes
    ----------
    option : str
        What named it, for messages (``"--out"``, ``"--out 的表格 (.csv)"``).
    path : pathlib.Path
        The path as given (user's ``~`` expanded).
    target : pathlib.Path
        The file that will be written (a symbolic link's target).
    exists : bool
        A file is there now (planatlas's own, or ``force`` was given).
    """

    option: str
    path: Path
    target: Path
    exists: bool


def _identity(path: Path) -> dict[str, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return {"dev": st.st_dev, "ino": st.st_ino, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _key(path: Path) -> str:
    try:
        return str(path.resolve())
    except (OSError, RuntimeError):
        return str(path.absolute())


def _record_path() -> Path | None:
    try:
        return settings.data_dir() / _RECORD
    except StoreError:
        return None


def _read_record(path: Path | None) -> dict[str, dict[str, int]]:
    if path is None:
        return {}
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, dict)}


@contextmanager
def _locked(record: Path) -> Iterator[None]:
    """An exclusive lock beside the record, so two commands do not lose each other's entries."""
    try:
        import fcntl
    except ImportError:  # Windows: one writer at a time is the user's business
        yield
        return
    try:
        fd = os.open(record.with_suffix(".lock"), os.O_CREAT | os.O_RDWR, 0o600)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def written_by_planatlas(path: str | os.PathLike[str]) -> bool:
    """Whether the file at ``path`` is one planatlas wrote and nobody changed since."""
    target = settings.user_path(path)
    ident = _identity(target)
    if ident is None:
        return False
    return _read_record(_record_path()).get(_key(target)) == ident


def record_outputs(paths: Iterable[str | os.PathLike[str] | Output]) -> None:
    """Remember files planatlas has just written, so a later run may replace them without ``--force``.

    Never fails: when the data folder cannot be written, nothing is recorded.
    """
    record = _record_path()
    if record is None:
        return
    targets = [p.target if isinstance(p, Output) else settings.user_path(p) for p in paths]
    with suppress(OSError, StoreError), _locked(record):
        entries = _read_record(record)
        for target in targets:
            ident = _identity(target)
            if ident is not None:
                entries.pop(_key(target), None)
                entries[_key(target)] = ident  # newest last
        # forget files that are gone or changed, then the oldest beyond the cap
        entries = {k: v for k, v in entries.items() if _identity(Path(k)) == v}
        entries = dict(list(entries.items())[-MAX_RECORDS:])
        with atomic_path(record) as tmp:
            tmp.write_text(json.dumps(entries), encoding="utf-8")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return _key(a) == _key(b)


def plan_outputs(
    outputs: Sequence[tuple[str, str | os.PathLike[str]]],
    *,
    reading: Iterable[str | os.PathLike[str] | None] = (),
    force: bool = False,
) -> list[Output]:
    """Check every output of one command together, before any work is done.

    Parameters
    ----------
    outputs : sequence of (str, path)
        ``(what names it, path)`` for each file the command will write, e.g.
        ``[("--out", "parks.gpkg"), ("--out 的表格 (.csv)", "parks.csv")]``.
    reading : iterable of path, keyword-only
        The files the command reads (store, report, network, raster); ``None``
        entries are skipped.
    force : bool, keyword-only
        Replace existing files planatlas did not write (``--force``).

    Returns
    -------
    list of Output
        In the order given.

    Raises
    ------
    StoreError
        An output is not a regular file, or a part of its folder is a file.
    ParameterError
        An output is a file being read, two outputs are one file, or a file
        planatlas did not write is there and ``force`` is False.
    """
    inputs = [settings.user_path(p) for p in reading if p is not None]
    record = _read_record(_record_path())
    own = _default_store_key()
    planned: list[Output] = []
    for option, given in outputs:
        refuse_virtual_output(given)
        path = settings.user_path(given)
        target = regular_target(path)
        _check_folder(option, path, target)
        for source in inputs:
            if source.exists() and _same_file(target, source):
                msg = (f"{option} {path} 是本命令正在读取的文件，不能覆盖它；请换一个输出文件名 "
                       f"({option} {path} is a file this command reads; choose another output)")
                raise ParameterError(msg)
        for earlier in planned:
            if _key(earlier.target) == _key(target):
                msg = (f"{earlier.option} 与 {option} 指向同一个文件 {path}；请给出不同的文件名 "
                       f"({earlier.option} and {option} name the same file {path})")
                raise ParameterError(msg)
        exists = target.exists()
        if exists and not force and _key(target) != own and record.get(_key(target)) != _identity(target):
            msg = (f"{option} {path} 已存在且不是 planatlas 写出的文件 (或写出后已被修改)，未覆盖；"
                   f"确定要替换它请加 --force ({option} {path} exists and was not written by planatlas; "
                   "add --force to replace it)")
            raise ParameterError(msg)
        planned.append(Output(option=option, path=path, target=target, exists=exists))
    return planned


def _default_store_key() -> str | None:
    """The default store is planatlas's own whoever wrote it last (``planatlas build`` replaces it)."""
    try:
        return _key(settings.default_store_path())
    except StoreError:
        return None


def _check_folder(option: str, path: Path, target: Path) -> None:
    """Refuse an output whose folder cannot exist: a part of it is a file."""
    for parent in target.parents:
        if parent.exists():
            if not parent.is_dir():
                msg = (f"无法写入 {option} {path}：{parent} 是文件，不是文件夹 "
                       f"(cannot write {option} {path}: {parent} is a file, not a folder)")
                raise StoreError(msg)
            return
