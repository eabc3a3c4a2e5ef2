"""Safe unpacking of a zip archive a user uploaded (a zipped Shapefile, or a folder of layers).

A zip is a list of names and sizes written by whoever made it, so nothing in it
is believed: every member must stay inside the unpacking folder (no ``..``,
absolute paths, drive letters or symbolic links, which would let an upload
overwrite or read files of the server: "zip slip"), and the archive may not
unpack to far more than it weighs (member count, declared total, compression
ratio of each large member, and the bytes actually unpacked, since the
declared sizes can lie: a "zip bomb"). Encrypted members are refused rather
than guessed at.

Chinese Windows zip tools store member names in GBK without the UTF-8 flag,
which Python shows as mojibake; such names are decoded back, so a planner
sees ``车站.shp`` and not ``│╡╒╛.shp``.

What the unpacked files are is decided by :mod:`spatial.io._formats`; this
module only unpacks them and lists the readable ones.
"""

from __future__ import annotations

import io
import lzma
import re
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from .._errors import InputFileError
from . import _limits
from ._limits import Source, mb, one_line, strip_controls

#: Extensions of the files a zip may carry as layers -> the format reading them.
LAYER_SUFFIXES: dict[str, str] = {
    ".shp": "shapefile", ".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg", ".csv": "csv",
}

# parts that make a shapefile group show up, so a zip missing its .shp is
# still listed (and refused with the missing part named)
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf")
_CHUNK = 1024 * 1024
# skipped silently: folders' debris of macOS and Windows
_JUNK_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}
# failures of a damaged member: a damaged deflate or LZMA stream fails in the
# decompressor itself (zlib.error, LZMAError) before zipfile's CRC check could
# turn it into BadZipFile
_MEMBER_FAILURES = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, OSError, EOFError, ValueError,
                    NotImplementedError)


def member_name(info: zipfile.ZipInfo) -> str:
    """Member name, re-decoded when a Chinese Windows zip tool wrote it in GBK.

    Zip names without the UTF-8 flag (bit 11) are cp437 by the standard;
    Python decodes them so, and the GBK bytes come back by encoding to cp437.
    """
    name = info.filename
    if info.flag_bits & 0x800 or name.isascii():
        return name
    try:
        raw = name.encode("cp437")
    except UnicodeEncodeError:
        return name
    for enc in ("utf-8", "gbk", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return name


def _unsafe(zip_name: str, member: str, zh: str, en: str) -> InputFileError:
    shown = strip_controls(member)
    return InputFileError(f"{zip_name} 不安全：成员 {shown} {zh} (unsafe zip: member {shown} {en})")


def safe_member_path(name: str, zip_name: str) -> PurePosixPath | None:
    """Relative path of a member inside the unpacking folder, or refuse it.

    Parameters
    ----------
    name : str
        The member's name as stored (``/`` or ``\\`` separators).
    zip_name : str
        The archive's display name, for messages.

    Returns
    -------
    pathlib.PurePosixPath or None
        None for members skipped silently (folders, macOS resource forks,
        ``.DS_Store``).

    Raises
    ------
    InputFileError
        An absolute path, a drive letter, ``..``, control characters or ``:``
        in a part of the name.
    """
    norm = name.replace("\\", "/")
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        raise _unsafe(zip_name, name, "是绝对路径", "has an absolute path")
    parts = [p for p in norm.split("/") if p not in {"", "."}]
    if ".." in parts:
        raise _unsafe(zip_name, name, "指向压缩包之外", "points outside the archive ('..')")
    if any(strip_controls(p) != p.strip() or ":" in p for p in parts):
        raise _unsafe(zip_name, name, "的名称含控制字符或冒号", "has control characters or ':' in its name")
    if not parts or norm.endswith("/"):
        return None
    if parts[0] == "__MACOSX" or parts[-1].startswith("._") or parts[-1] in _JUNK_NAMES:
        return None
    return PurePosixPath(*parts)


def _plan(zf: zipfile.ZipFile, name: str) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """Check the directory of the archive; the members to unpack and where."""
    infos = zf.infolist()
    if len(infos) > _limits.ZIP_MAX_MEMBERS:
        limit = _limits.ZIP_MAX_MEMBERS
        msg = (
            f"{name} 含 {len(infos)} 个文件，压缩包最多 {limit} 个 "
            f"({name} holds {len(infos)} files; zip uploads are limited to {limit})"
        )
        raise InputFileError(msg)
    declared = sum(i.file_size for i in infos)
    if declared > _limits.ZIP_MAX_TOTAL_BYTES:
        cap = mb(_limits.ZIP_MAX_TOTAL_BYTES)
        msg = (
            f"{name} 解压后将达 {mb(declared)}，解压上限为 {cap} "
            f"({name} would unpack to {mb(declared)}; zip uploads are limited to {cap} unpacked)"
        )
        raise InputFileError(msg)
    plan: list[tuple[zipfile.ZipInfo, PurePosixPath]] = []
    for info in infos:
        member = member_name(info)
        rel = safe_member_path(member, name)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise _unsafe(name, member, "是符号链接", "is a symbolic link")
        if rel is None or info.is_dir():
            continue
        if info.flag_bits & 0x1:
            msg = f"{name} 有密码保护；请上传未加密的压缩包 ({name} is password-protected; upload an unencrypted zip)"
            raise InputFileError(msg)
        if info.file_size >= _limits.ZIP_RATIO_MIN_BYTES:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > _limits.ZIP_MAX_RATIO:
                most = f"{_limits.ZIP_MAX_RATIO:,.0f}"
                msg = (
                    f"{name} 疑似 zip 炸弹：成员 {rel} 的压缩比为 {ratio:,.0f}:1，最多接受 {most}:1 "
                    f"({name} looks like a zip bomb: {rel} is compressed {ratio:,.0f} to 1; "
                    f"at most {most} to 1 is accepted)"
                )
                raise InputFileError(msg)
        # lower-case the extension: GDAL looks for sidecars as .shx/.SHX, not .Shx
        rel = rel.with_name(rel.stem + rel.suffix.lower()) if rel.suffix else rel
        plan.append((info, rel))
    return plan


def unzip(src: Source, folder: Path) -> Path:
    """Unpack a zip into ``folder/unzipped`` after checking every member is safe and sane.

    Parameters
    ----------
    src : Source
        The archive (bytes or a path).
    folder : pathlib.Path
        An empty temporary folder of planatlas's own.

    Returns
    -------
    pathlib.Path
        The folder holding the unpacked members.

    Raises
    ------
    InputFileError
        Not a zip, damaged, encrypted, unsafe (zip slip, symbolic link) or too
        large (members, total, ratio, more bytes than declared).
    """
    name = src.name
    try:
        zf = zipfile.ZipFile(io.BytesIO(src.data) if src.data is not None else str(src.path))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        detail = one_line(exc)
        msg = f"无法读取 {name}：不是有效的 zip 压缩包 (cannot read {name}: not a valid zip archive: {detail})"
        raise InputFileError(msg) from None
    dest = folder / "unzipped"
    dest.mkdir()
    with zf:
        plan = _plan(zf, name)
        written = 0
        for info, rel in plan:
            target = dest.joinpath(*rel.parts)
            # belt and braces: the checks above already exclude escaping paths
            if not target.resolve().is_relative_to(dest.resolve()):
                raise _unsafe(name, str(rel), "指向压缩包之外", "points outside the archive")
            target.parent.mkdir(parents=True, exist_ok=True)
            member_bytes = 0
            try:
                with zf.open(info) as fin, target.open("wb") as fout:
                    while chunk := fin.read(_CHUNK):
                        member_bytes += len(chunk)
                        written += len(chunk)
                        # the sizes in the zip header can lie: count what is unpacked
                        if member_bytes > info.file_size or written > _limits.ZIP_MAX_TOTAL_BYTES:
                            msg = (
                                f"{name} 解压后超出其声明的大小，疑似 zip 炸弹 "
                                f"({name} unpacks to more than it declares; refused as a possible zip bomb)"
                            )
                            raise InputFileError(msg)
                        fout.write(chunk)
            except InputFileError:
                raise
            except _MEMBER_FAILURES as exc:
                detail = one_line(exc)
                msg = f"无法读取 {name}：成员 {rel} 已损坏 (cannot read {name}: member {rel} is damaged: {detail})"
                raise InputFileError(msg) from None
    return dest


def zip_layers(root: Path) -> dict[str, tuple[str, Path]]:
    """Readable things inside an unpacked zip, in name order.

    Parameters
    ----------
    root : pathlib.Path
        Folder returned by :func:`unzip`.

    Returns
    -------
    dict
        Layer name (its path inside the zip without extension, e.g.
        ``"export/parks"``) -> (format, path). A shapefile is listed by any of
        its main parts, so one without its ``.shp`` is still found.
    """
    found: dict[str, tuple[str, Path]] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        ext = path.suffix.lower()
        rel = path.relative_to(root).with_suffix("").as_posix()
        if ext in _SHAPEFILE_PARTS:
            found.setdefault(rel, ("shapefile", path.with_suffix(".shp")))
        elif ext in LAYER_SUFFIXES:
            found.setdefault(rel if rel not in found else rel + ext, (LAYER_SUFFIXES[ext], path))
    return found
