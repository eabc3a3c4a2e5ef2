"""Atomic file writes: write beside the target, move into place only when complete.

Every writer in planatlas (the store, exports, caches, rasters) uses
:func:`atomic_path`, so an interrupted write leaves the previous file as it
was and never a truncated one. The same helper is where the rules of every
write live, so no writer can forget one:

* **only regular files are written.** A device node, FIFO, socket or folder
  at the target is refused before anything is created (``--out /dev/null``
  run as root would otherwise turn ``/dev/null`` into a GeoPackage). A
  symbolic link is followed: its target is written and the link stays a link.
* **the file keeps its permissions and owner.** The new file gets the mode
  (and, where allowed, the owner) of the file it replaces; a ``0600`` file
  stays ``0600``.
* **the bytes are on disk before the move** (``fsync``), and a ``verify``
  callback can read the new file back before it replaces the old one (caches
  use it, so a damaged entry is never installed).
* **no temporary file outlives its writer.** Temporary names carry the host
  and process id (``.<stem>.planatlas-<host>-<pid>-<random><suffix>``); they
  are removed on any exception, including ``KeyboardInterrupt`` and the
  SIGTERM the CLI turns into one, and each write first sweeps the folder of
  temporaries whose process is gone (a writer killed with ``kill -9``), so
  none accumulates beside the store.
* **a failed write says why in words**: a full disk is "磁盘已满 (disk full)",
  not SQLite's or GDAL's text (:func:`describe_failure`).
"""

from __future__ import annotations

import errno
import os
import re
import socket
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from . import settings
from ._errors import PlanatlasError, StoreError

#: Temporaries older than this are swept even when their process id is alive
#: (ids are reused), seconds.
STALE_AFTER_S: float = 24 * 3600.0

_HOST = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:32] or "host"
# ".<stem>.planatlas-<host>-<pid>-<random><suffix>" (files beside their target) and
# "planatlas-<kind>-<host>-<pid>-<random>" (folders in the system's temporary folder)
_TEMP_NAME = re.compile(r"^(?:\..*\.planatlas|planatlas-[a-z]+)-([A-Za-z0-9]+)-(\d+)-")

# outputs that are no local file: GDAL's virtual paths and URLs
_VIRTUAL_OUT = re.compile(r"^\s*(?:/vsi|[A-Za-z][A-Za-z0-9+.-]*://)", re.IGNORECASE)

# what GDAL and SQLite say when the disk is full (they do not raise OSError)
_FULL_TEXT = re.compile(r"disk is full|no space left|database or disk is full|SQLITE_FULL|ENOSPC", re.IGNORECASE)
_IO_TEXT = re.compile(r"disk I/O error|SQLITE_IOERR|write failed|File too large", re.IGNORECASE)

_REASONS: dict[int, tuple[str, str]] = {
    errno.ENOSPC: ("磁盘已满", "disk full"),
    errno.EDQUOT: ("磁盘配额已用完", "disk quota exceeded"),
    errno.EFBIG: ("文件超过系统允许的大小", "file too large for this system"),
    errno.EACCES: ("没有写入权限", "permission denied"),
    errno.EPERM: ("没有写入权限", "operation not permitted"),
    errno.EROFS: ("文件系统为只读", "read-only file system"),
    errno.ENOENT: ("文件夹不存在", "no such folder"),
    errno.ENOTDIR: ("路径中有一段不是文件夹", "a part of the path is not a folder"),
    errno.EISDIR: ("目标是文件夹", "the target is a folder"),
    errno.ENAMETOOLONG: ("文件名过长", "file name too long"),
    errno.EIO: ("磁盘读写出错", "input/output error"),
}


def describe_failure(exc: BaseException) -> tuple[str, str] | None:
    """Why a write failed, as (Chinese, English), or None when ``exc`` is not a write failure.

    OS errors are named by their errno; GDAL and SQLite report a full disk
    in text ("database or disk is full", "No space left on device"), which is
    recognised too.

    >>> describe_failure(OSError(28, "No space left on device"))
    ('磁盘已满', 'disk full')
    """
    if isinstance(exc, OSError) and exc.errno in _REASONS:
        return _REASONS[exc.errno]
    text = str(exc)
    if _FULL_TEXT.search(text):
        return _REASONS[errno.ENOSPC]
    if _IO_TEXT.search(text):
        return "磁盘写入失败 (磁盘可能已满)", "write failed (the disk may be full)"
    if isinstance(exc, OSError):
        return "写入失败", (exc.strerror or type(exc).__name__)
    return None


def write_error(dest: str | os.PathLike[str], exc: BaseException) -> StoreError:
    """A :class:`StoreError` saying in words why ``dest`` could not be written."""
    zh, en = describe_failure(exc) or ("写入失败", "write failed")
    return StoreError(f"无法写入 {dest}：{zh} (cannot write {dest}: {en})")


def refuse_virtual_output(dest: str | os.PathLike[str]) -> None:
    """Refuse an output GDAL would write to memory, an archive or a server (``/vsi…``, a URL), never to a file.

    Checked on the text as given (a :class:`~pathlib.Path` folds ``https://`` into ``https:/``).
    """
    text = os.fspath(dest)
    if _VIRTUAL_OUT.match(text) or text.startswith(("https:/", "http:/", "ftp:/")):
        msg = (f"无法写入 {text[:80]}：输出须为本地文件，不写 GDAL 虚拟路径 (/vsi…) 或网址 "
               f"(cannot write {text[:80]}: outputs are local files, not /vsi paths or URLs)")
        raise StoreError(msg)


def regular_target(dest: str | os.PathLike[str]) -> Path:
    """The file a write to ``dest`` really replaces: ``dest``, or the target of the link it is.

    Raises
    ------
    StoreError
        Something other than a regular file is there (folder, device, FIFO,
        socket), or the link loops.
    """
    refuse_virtual_output(dest)
    path = settings.user_path(dest)
    try:
        target = path.resolve() if path.is_symlink() else path
    except (OSError, RuntimeError):  # a link loop (RuntimeError before Python 3.13)
        msg = f"无法写入 {path}：符号链接循环 (cannot write {path}: the symbolic link loops)"
        raise StoreError(msg) from None
    try:
        st = target.stat()
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise write_error(path, exc) from None
    if not stat.S_ISREG(st.st_mode):
        kind = file_kind(st.st_mode)
        msg = (f"无法写入 {path}：它是{kind[0]}，不是普通文件；planatlas 只写普通文件 "
               f"(cannot write {path}: it is {kind[1]}, not a regular file)")
        raise StoreError(msg)
    return target


def file_kind(mode: int) -> tuple[str, str]:
    """What a file that is not a regular one is, from its ``st_mode``: (Chinese, English)."""
    if stat.S_ISDIR(mode):
        return "文件夹", "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "设备文件", "a device"
    if stat.S_ISFIFO(mode):
        return "命名管道 (FIFO)", "a FIFO"
    if stat.S_ISSOCK(mode):
        return "套接字", "a socket"
    return "特殊文件", "a special file"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def sweep_stale(folder: str | os.PathLike[str], *, now: float | None = None) -> list[Path]:
    """Remove planatlas temporaries in ``folder`` whose writer is gone; the paths removed.

    A temporary is stale when its process id (on this host) is no longer
    running, or when it is older than :data:`STALE_AFTER_S` whatever its host.
    GDAL's side files of a temporary (``-journal``, ``-wal``, ``-shm``) go with it.
    """
    removed: list[Path] = []
    now = time.time() if now is None else now
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP_NAME.match(entry.name)
        if m is None:
            continue
        host, pid = m.group(1), int(m.group(2))
        try:
            age = now - entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        ours = host == _HOST and pid == os.getpid()
        dead = host == _HOST and not ours and not _alive(pid)
        if dead or (age > STALE_AFTER_S and not ours):
            try:
                if entry.is_dir(follow_symlinks=False):
                    import shutil

                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
                removed.append(Path(entry.path))
            except OSError:
                continue
    return removed


def temp_prefix(stem: str) -> str:
    """Prefix of a temporary planatlas makes for ``stem`` (its host and process id inside)."""
    return f".{stem}.planatlas-{_HOST}-{os.getpid()}-"


def temp_dir_prefix(kind: str) -> str:
    """Prefix of a temporary folder planatlas makes for ``kind`` (``"upload"``), swept by :func:`sweep_stale`."""
    return f"planatlas-{kind}-{_HOST}-{os.getpid()}-"


def _fsync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # a writer that made a folder, or nothing: nothing to flush
    try:
        with suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def _keep_owner_and_mode(tmp: Path, old: os.stat_result | None) -> None:
    if old is None or not tmp.exists():
        return
    with suppress(OSError):
        os.chmod(tmp, stat.S_IMODE(old.st_mode))
    if hasattr(os, "chown"):
        try:
            st = tmp.stat()
            if (st.st_uid, st.st_gid) != (old.st_uid, old.st_gid):
                os.chown(tmp, old.st_uid, old.st_gid)
        except OSError:
            pass  # only root may give a file away; the mode was kept


@contextmanager
def atomic_path(dest: str | os.PathLike[str], *, suffix: str | None = None,
                verify: Callable[[Path], object] | None = None) -> Iterator[Path]:
    """Yield a temporary path in ``dest``'s folder; on success move it over ``dest``.

    The temporary path does not exist yet (GDAL and rasterio want to create
    their files themselves). On any exception, including KeyboardInterrupt, it
    is removed and ``dest`` is untouched.

    Parameters
    ----------
    dest : path-like
        Final file. A symbolic link is followed (its target is replaced, the
        link stays); anything else than a regular file there is refused.
    suffix : str, optional
        Suffix of the temporary file (drivers pick formats by it); default
        ``dest``'s own suffix.
    verify : callable, optional, keyword-only
        Called with the temporary path once it is written; whatever it raises
        stops the move (the old file stays).

    Raises
    ------
    StoreError
        The folder does not exist or cannot be written, the target is not a
        regular file, or the write failed (the reason in words: disk full,
        permission denied …).
    """
    target = regular_target(dest)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        msg = f"无法写入 {dest}：文件夹 {folder} 不存在 (cannot write {dest}: folder {folder} does not exist)"
        raise StoreError(msg)
    sweep_stale(folder)
    try:
        old: os.stat_result | None = target.stat()
    except OSError:
        old = None
    try:
        fd, name = tempfile.mkstemp(prefix=temp_prefix(target.stem), suffix=suffix or target.suffix or ".tmp",
                                    dir=folder)
    except OSError as exc:
        raise write_error(dest, exc) from None
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()
    try:
        yield tmp
        _fsync(tmp)
        if verify is not None:
            verify(tmp)
        _keep_owner_and_mode(tmp, old)
        os.replace(tmp, target)
    except BaseException as exc:
        written = _size_of(tmp)
        _remove(tmp)
        if isinstance(exc, PlanatlasError) or not isinstance(exc, Exception):
            raise
        if isinstance(exc, OSError) or describe_failure(exc) is not None:
            raise write_error(dest, exc) from None
        # GDAL says "Cannot write feature" or "Failed to commit transaction" when
        # the disk is full: ask the file system whether that was the reason
        reason = diagnose(folder, written)
        if reason is not None:
            msg = f"无法写入 {dest}：{reason[0]} (cannot write {dest}: {reason[1]})"
            raise StoreError(msg) from None
        raise


def _size_of(tmp: Path) -> int:
    try:
        if tmp.is_dir():
            return sum(p.stat().st_size for p in tmp.rglob("*") if p.is_file())
        return tmp.stat().st_size
    except OSError:
        return 0


def diagnose(folder: Path, written: int) -> tuple[str, str] | None:
    """Whether a write that failed without saying why met a full disk or a file size limit.

    The disk is full when less room is left, in ``folder`` or in the system's
    temporary folder (where some writers work first), than was being written
    (or 16 MB); a file size limit holds when the process has one (``ulimit
    -f``, a quota) or a file cannot be extended to the size reached. Returns
    (Chinese, English), or None when neither holds (the writer failed for a
    reason of its own).
    """
    for place in (folder, Path(tempfile.gettempdir())):
        try:
            vfs = os.statvfs(place)
        except (OSError, AttributeError):
            continue
        if vfs.f_bavail * vfs.f_frsize < max(16 << 20, 2 * written):
            return _REASONS[errno.ENOSPC]
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
        if soft != resource.RLIM_INFINITY:
            return _REASONS[errno.EFBIG]
    except (ImportError, OSError, ValueError):
        pass
    probe = Path(folder) / f"{temp_prefix('probe')}{os.urandom(4).hex()}"
    try:
        with open(probe, "wb") as fh:
            fh.seek(max(written, 1))
            fh.write(b"\0")
            fh.flush()
    except OSError as exc:
        return describe_failure(exc) or _REASONS[errno.EFBIG]
    finally:
        probe.unlink(missing_ok=True)
    return None


def _remove(tmp: Path) -> None:
    """The temporary and GDAL's side files of it."""
    for path in (tmp, *(tmp.with_name(tmp.name + side) for side in ("-journal", "-wal", "-shm"))):
        try:
            if path.is_dir() and not path.is_symlink():
                import shutil

                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        except OSError:
            pass


def write_bytes(dest: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``dest`` atomically and read it back before it replaces anything.

    Used for caches: a full disk or a killed process can never leave a
    truncated entry that later runs would reuse.

    Raises
    ------
    StoreError
        The write failed, or the file read back differs.
    """

    def same(tmp: Path) -> None:
        if tmp.read_bytes() != data:
            msg = f"写入 {dest} 后读回的内容不一致 (the bytes read back from {dest} differ)"
            raise StoreError(msg)

    with atomic_path(dest, verify=same) as tmp:
        tmp.write_bytes(data)
    return regular_target(dest)
