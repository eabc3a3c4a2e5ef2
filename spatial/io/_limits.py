"""What is checked before a user's file is parsed at all: its size, its name, where it lives.

A file is refused for its size before one byte of it is parsed, because the
parsers (GDAL, the csv module, shapely) all hold the whole file in memory.
The name a user gave the file is text from a stranger: it may hold ``../``,
terminal escape sequences or bidi overrides that would make a message lie, so
only its base name, stripped of control characters, ever appears in a message
or a warning, and it never becomes a path.

GDAL is only ever handed paths planatlas made itself inside a temporary folder.
A path a user typed that GDAL would read as something else than a local file
(``/vsicurl/…``, ``/vsizip/…``, ``CSV:…``, ``https://…``) is refused here, so it
never reaches a driver.

The zip limits live here too, next to the upload size, because
:func:`spatial.io.describe_limits` quotes them all to the user; the unpacking
that enforces them is :mod:`spatial.io._zip`.
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol

from .. import settings
from .._atomic import file_kind
from .._errors import InputFileError

#: Most members a zip archive may hold (a shapefile has 4-8 parts; a folder of
#: a few dozen layers is still far below this).
ZIP_MAX_MEMBERS: int = 200

#: Most bytes a zip archive may unpack to, all members together.
ZIP_MAX_TOTAL_BYTES: int = 500 * 1024 * 1024

#: Highest compression ratio (unpacked / packed) of a member larger than
#: :data:`ZIP_RATIO_MIN_BYTES`. Real .dbf files with blank padding reach
#: 20-50; zip bombs reach 1000 and more.
ZIP_MAX_RATIO: float = 100.0

#: Members smaller than this (bytes) are not ratio-checked: a tiny .prj or .cpg
#: can compress oddly and can do no harm.
ZIP_RATIO_MIN_BYTES: int = 1024 * 1024

#: First bytes of a file kept for recognising its content, bytes: enough to
#: reach the root element of an XML file behind its declaration and comments.
HEAD_BYTES: int = 2048

# terminal escape sequences (CSI ... final byte)
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
# what GDAL would read as something else than a local file: its virtual file
# systems and URLs, and driver prefixes ("CSV:", "GPKG:", "ESRI Shapefile:");
# one letter and a colon is a Windows drive, not a prefix
_VIRTUAL = re.compile(r"^\s*(?:/vsi|[A-Za-z][A-Za-z0-9+.-]*://)", re.IGNORECASE)
_DRIVER_PREFIX = re.compile(r"^\s*[A-Za-z][A-Za-z0-9 _+.-]+:")

PathLike = str | os.PathLike[str]


class SupportsGetvalue(Protocol):
    """An in-memory upload (Streamlit's ``UploadedFile``, :class:`io.BytesIO`)."""

    def getvalue(self) -> bytes: ...


class SupportsRead(Protocol):
    """A binary file object."""

    def read(self, size: int = ..., /) -> bytes: ...


#: Everything :func:`open_source` accepts as a file.
UploadData = bytes | bytearray | memoryview | PathLike | SupportsGetvalue | SupportsRead


@dataclass
class Source:
    """A user's file after the size check: where its bytes are and what the user called it.

    Attributes
    ----------
    name : str
        Base name the user gave, without control characters: safe to print.
    suffix : str
        Lower-case extension of that name (``".geojson"``), ``""`` for none.
    head : bytes
        The first :data:`HEAD_BYTES` bytes, for recognising the content.
    path : pathlib.Path or None
        The file on disk (CLI); never handed to GDAL, only copied.
    data : bytes or None
        The bytes in memory (upload).
    notes : list of str
        Warnings collected while the file is read.
    """

    name: str
    suffix: str
    head: bytes
    path: Path | None = None
    data: bytes | None = None
    notes: list[str] = field(default_factory=list)


def mb(n_bytes: int) -> str:
    """A size in bytes as megabytes for a message: ``"1.9 MB"``, ``"50 MB"``."""
    return f"{n_bytes / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")


def strip_controls(text: str) -> str:
    """``text`` without terminal escapes, control and invisible format characters, stripped.

    Terminal escape sequences go whole (the CLI prints column names); then
    Unicode categories Cc (C0/C1 controls: newlines, escapes) and Cf (BOM,
    zero-width spaces, bidi overrides that make a name display reversed).
    """
    text = _ANSI_ESCAPE.sub("", text)
    return "".join(ch for ch in text if unicodedata.category(ch) not in {"Cc", "Cf"}).strip()


def display_name(name: str) -> str:
    """Base name of a user-given file name, without control characters; ``"upload"`` if nothing is left.

    >>> display_name("../../etc/evil\\x07.geojson")
    'evil.geojson'
    """
    base = re.split(r"[\\/]", str(name))[-1]
    return strip_controls(base) or "upload"


def suffix_of(name: str) -> str:
    """Lower-case extension of a user-given file name (``"Parks.GeoJSON"`` -> ``".geojson"``)."""
    base = re.split(r"[\\/]", str(name))[-1]
    return PurePosixPath(base).suffix.lower()


def sibling_files(path: Path) -> dict[str, Path]:
    """Files next to ``path`` with its stem, any case, by lower-case extension (a shapefile's parts)."""
    parts: dict[str, Path] = {}
    if not path.parent.is_dir():
        return parts
    stem = path.stem.lower()
    for p in sorted(path.parent.iterdir()):
        if p.is_file() and p.stem.lower() == stem and p.suffix:
            parts.setdefault(p.suffix.lower(), p)
    return parts


def check_size(name: str, size: int, limit: int) -> None:
    """Refuse a file larger than ``limit`` bytes.

    Raises
    ------
    InputFileError
        ``size`` exceeds ``limit``.
    """
    if size > limit:
        msg = f"{name} 大小为 {mb(size)}，超过上限 {mb(limit)} ({name} is {mb(size)}; files are limited to {mb(limit)})"
        raise InputFileError(msg)


def refuse_virtual_path(text: str) -> None:
    """Refuse a path GDAL would read as a virtual file, a driver prefix or a URL.

    planatlas copies a user's file before GDAL opens it, so such a path would
    only fail as "no such file"; it is refused here with the reason instead.
    A name that looks like a prefix (``"CSV:x"``) but is an existing local
    file is accepted.

    Raises
    ------
    InputFileError
        ``text`` starts with ``/vsi`` or a URL scheme (``https://``), or with a
        ``DRIVER:`` prefix and is no existing file.
    """
    if _VIRTUAL.match(text) or (_DRIVER_PREFIX.match(text) and not os.path.lexists(text)):
        shown = strip_controls(text)[:80]
        msg = (
            f"{shown} 不是本地文件路径：不读取 GDAL 虚拟路径 (/vsi…)、驱动前缀或网址 "
            f"({shown} is not a local file: /vsi paths, driver prefixes and URLs are not read)"
        )
        raise InputFileError(msg)


def check_user_file(path: PathLike, *, what: tuple[str, str], max_bytes: int) -> int:
    """Refuse a path a user gave that is not a local, regular file of at most ``max_bytes``; its size.

    ``/dev/zero`` would be read until memory runs out and a FIFO would block
    for ever, so only regular files are read (a symbolic link to one is fine).

    Parameters
    ----------
    path : path-like
        The file as the user named it.
    what : (str, str), keyword-only
        What the file is, in Chinese and English (``("报告", "report")``), for messages.
    max_bytes : int, keyword-only
        Largest size accepted, bytes.

    Raises
    ------
    InputFileError
        A virtual path or URL, no such file, not a regular file, or too large.
    """
    text = os.fspath(path)
    refuse_virtual_path(text)
    shown = strip_controls(text)[:200]
    try:
        st = os.stat(text)
    except FileNotFoundError:
        msg = f"找不到{what[0]}文件 {shown} ({what[1]} file not found: {shown})"
        raise InputFileError(msg) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        msg = f"无法读取{what[0]}文件 {shown}：{reason} (cannot read {what[1]} file {shown}: {reason})"
        raise InputFileError(msg) from None
    if not stat.S_ISREG(st.st_mode):
        zh, en = file_kind(st.st_mode)
        msg = (f"{shown} 是{zh}，不是普通文件；planatlas 只读取普通文件作为{what[0]} "
               f"({what[1]} {shown} is {en}, not a regular file; planatlas reads only regular files)")
        raise InputFileError(msg)
    if st.st_size > max_bytes:
        msg = (f"{what[0]}文件 {shown} 大小为 {mb(st.st_size)}，超过上限 {mb(max_bytes)} "
               f"({what[1]} file {shown} is {mb(st.st_size)}; the limit is {mb(max_bytes)})")
        raise InputFileError(msg)
    return int(st.st_size)


def read_user_file(path: PathLike, *, what: tuple[str, str], max_bytes: int) -> bytes:
    """The bytes of a user's file, after :func:`check_user_file`; never more than ``max_bytes``.

    The file is opened without blocking and checked again once open, so a
    file swapped for a FIFO or a device between the check and the read is
    still refused, and at most ``max_bytes + 1`` bytes are ever read.

    Raises
    ------
    InputFileError
        As :func:`check_user_file`, or the file cannot be read.
    """
    check_user_file(path, what=what, max_bytes=max_bytes)
    shown = strip_controls(os.fspath(path))[:200]
    try:
        fd = os.open(os.fspath(path), os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        msg = f"无法读取{what[0]}文件 {shown}：{reason} (cannot read {what[1]} file {shown}: {reason})"
        raise InputFileError(msg) from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            msg = f"{shown} 不是普通文件 ({shown} is not a regular file)"
            raise InputFileError(msg)
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        msg = (f"{what[0]}文件 {shown} 超过上限 {mb(max_bytes)} "
               f"({what[1]} file {shown} is larger than the limit of {mb(max_bytes)})")
        raise InputFileError(msg)
    return data


def open_source(data: UploadData, *, filename: str | None, max_bytes: int | None) -> Source:
    """Check the size, then hold the bytes (upload) or the path (CLI).

    Parameters
    ----------
    data : bytes, path or file object
        The file. A file object with ``size`` (Streamlit) is refused on that
        size before its bytes are fetched; one with only ``read()`` is read
        one byte past the limit, enough to know it is too large.
    filename : str or None, keyword-only
        The user's name of the file; required for bytes and file objects.
    max_bytes : int or None, keyword-only
        Size limit, bytes (default :data:`spatial.settings.MAX_UPLOAD_BYTES`).
        For a ``.shp`` path its sidecar files count too.

    Returns
    -------
    Source

    Raises
    ------
    InputFileError
        Too large, no such file, a virtual path or URL, no ``filename`` for
        bytes, or an object that is not a file.
    """
    limit = settings.MAX_UPLOAD_BYTES if max_bytes is None else int(max_bytes)
    if isinstance(data, (str, os.PathLike)):
        text = os.fspath(data)
        refuse_virtual_path(text)
        path = Path(text)
        name = display_name(filename or path.name)
        try:
            os.stat(text)
        except FileNotFoundError:
            msg = f"{name}：找不到该文件 ({name}: no such file)"
            raise InputFileError(msg) from None
        except OSError:  # a name too long, a loop of links …: check_user_file says which
            pass
        size = check_user_file(path, what=("上传", "upload"), max_bytes=2**62)
        if path.suffix.lower() == ".shp":
            size = sum(p.stat().st_size for p in sibling_files(path).values())
        check_size(name, size, limit)
        head = _head_of(path)
        return Source(name=name, suffix=suffix_of(filename or path.name), head=head, path=path)
    if filename is None:
        msg = "读取上传的字节需要 filename= (filename= is needed to read uploaded bytes)"
        raise InputFileError(msg)
    name = display_name(filename)
    if isinstance(data, (bytes, bytearray, memoryview)):
        blob = bytes(data)
    elif hasattr(data, "getvalue"):
        declared: object = getattr(data, "size", None)
        if isinstance(declared, int):
            check_size(name, declared, limit)
        blob = bytes(data.getvalue())
    elif hasattr(data, "read"):
        blob = bytes(data.read(limit + 1))
    else:
        kind = type(data).__name__
        msg = (
            f"{name}：需要字节、路径或文件对象，收到 {kind} "
            f"({name}: expected bytes, a path or a file object, got {kind})"
        )
        raise InputFileError(msg)
    check_size(name, len(blob), limit)
    return Source(name=name, suffix=suffix_of(filename), head=blob[:HEAD_BYTES], data=blob)


def _head_of(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(HEAD_BYTES)


def one_line(exc: BaseException | Warning | str, *, path: Path | None = None, name: str | None = None,
             limit: int = 200) -> str:
    """A library's error text on one short line, with temporary paths replaced by the user's file name.

    Parameters
    ----------
    exc : exception, warning or str
        What GDAL, zipfile or pyproj said (in English).
    path : pathlib.Path, optional, keyword-only
        The temporary file that was opened; GDAL quotes it, the user knows the
        file by ``name``.
    name : str, optional, keyword-only
        The user's name of the file.
    limit : int, keyword-only
        Longest text returned, characters.
    """
    text = str(exc)
    shown = name or (path.name if path is not None else "file")
    if path is not None:
        for driver in ("GeoJSON", "GPKG"):
            text = text.replace(f"{driver}:{path}", shown)
        text = text.replace(str(path), shown).replace(str(path.parent), shown)
    text = re.sub(r"/\S*planatlas-upload-[^\s'\"]*", shown, text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
