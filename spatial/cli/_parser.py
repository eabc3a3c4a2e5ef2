"""The argument parser: Chinese help, one clear line for every usage error.

argparse writes its usage and an English message on a bad argument; a planner
reads one line instead, Chinese first with the English in brackets
(``planatlas coverage: 错误：… (argument --distance: …)``), and the command exits
with status 2, as argparse does. Value converters (:func:`positive_float`,
:func:`bbox`) refuse impossible values before any work starts, with the same
messages the library uses.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from typing import NoReturn

#: argparse's English messages -> Chinese (pattern, template).
_TRANSLATIONS: tuple[tuple[str, str], ...] = (
    (r"the following arguments are required: (.+)", "缺少必需的参数：{0}"),
    (r"argument (\S+): invalid choice: '?(.+?)'? \(choose from (.+)\)", "参数 {0} 不接受 {1}，可选：{2}"),
    (r"argument (\S+): invalid (\w+) value: '?(.*?)'?$", "参数 {0} 的值 {2} 不是有效的数字"),
    (r"argument (\S+): expected one argument", "参数 {0} 需要一个值"),
    (r"argument (\S+): not allowed with argument (\S+)", "参数 {0} 不能与 {1} 同时使用"),
    (r"argument (\S+): (.+)", "参数 {0}：{1}"),
    (r"unrecognized arguments: (.+)", "无法识别的参数：{0}"),
    (r"ambiguous option: (\S+) could match (.+)", "参数 {0} 有歧义，可能是 {1}"),
)


def translate(message: str) -> str:
    """argparse's message in Chinese (unknown messages are returned as they are)."""
    for pattern, template in _TRANSLATIONS:
        m = re.fullmatch(pattern, message.strip())
        if m:
            return template.format(*m.groups())
    return message


def split_english(line: str) -> tuple[str, str]:
    """``"中文 (English)"`` -> ``("中文", "English")``; ``("line", "")`` when it has no English at the end."""
    if not line.endswith(")"):
        return line, ""
    depth = 0
    for i in range(len(line) - 1, -1, -1):
        if line[i] == ")":
            depth += 1
        elif line[i] == "(":
            depth -= 1
            if depth == 0:
                return line[:i].rstrip(), line[i + 1:-1]
    return line, ""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on standard error: Chinese, then argparse's English in brackets."""

    def error(self, message: str) -> NoReturn:
        zh, en = split_english(" ".join(translate(message).split()))
        english = en or " ".join(message.split())
        sys.stderr.write(f"{self.prog}: 错误：{zh}（用 --help 查看用法） ({english})\n")
        raise SystemExit(2)


def positive_float(text: str) -> float:
    """A positive finite number (metres, minutes, metres per minute)."""
    try:
        value = float(text)
    except ValueError:
        msg = f"{text!r} 不是数字 (not a number)"
        raise argparse.ArgumentTypeError(msg) from None
    if not math.isfinite(value) or value <= 0:
        msg = f"须为正数，收到 {text} (must be a positive number)"
        raise argparse.ArgumentTypeError(msg)
    return value


def positive_int(text: str) -> int:
    """A positive whole number (counts)."""
    try:
        value = int(text)
    except ValueError:
        msg = f"{text!r} 不是整数 (not a whole number)"
        raise argparse.ArgumentTypeError(msg) from None
    if value <= 0:
        msg = f"须为正整数，收到 {text} (must be a positive whole number)"
        raise argparse.ArgumentTypeError(msg)
    return value


def bbox(text: str) -> tuple[float, float, float, float]:
    """``W,S,E,N`` in WGS-84 degrees."""
    parts = [p for p in re.split(r"[,\s]+", text.strip()) if p]
    try:
        w, s, e, n = (float(p) for p in parts)
    except ValueError:
        msg = f"范围须为 西,南,东,北 四个数，收到 {text!r} (bbox must be W,S,E,N)"
        raise argparse.ArgumentTypeError(msg) from None
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        msg = f"范围 {text} 不是有效的经纬度范围 (W < E, S < N in degrees)"
        raise argparse.ArgumentTypeError(msg)
    return (w, s, e, n)


#: Options (by ``dest``) that name a file or folder, in every subcommand: they get :func:`file_path`.
FILE_DESTS = frozenset({"file", "store", "report", "network", "population", "out", "distance_tif", "clip_file"})

#: Longest name of one part of a path, and of a whole path, bytes (Linux's NAME_MAX and PATH_MAX).
NAME_MAX_BYTES = 255
PATH_MAX_BYTES = 4096


def file_path(text: str) -> str:
    """A path as typed, refused before any work when no system could open it.

    A part longer than 255 bytes (or a path of more than 4096), or a NUL
    character, makes every later ``exists()`` raise instead of answering:
    refused here, once, for every file option of every subcommand.
    """
    shown = "".join(ch if ch.isprintable() else "?" for ch in text)[:120]
    if "\x00" in text:
        msg = f"路径中含有空字符：{shown} (the path holds a NUL character)"
        raise argparse.ArgumentTypeError(msg)
    raw = text.encode("utf-8", "surrogateescape")
    if len(raw) > PATH_MAX_BYTES or any(len(part) > NAME_MAX_BYTES for part in raw.split(b"/")):
        msg = (f"路径过长 (每一级名称最多 {NAME_MAX_BYTES} 字节，全长最多 {PATH_MAX_BYTES} 字节)：{shown}… "
               f"(the path is too long for the file system: {len(raw)} bytes)")
        raise argparse.ArgumentTypeError(msg)
    return text


def add_file_types(parser: argparse.ArgumentParser) -> None:
    """Give every file option of ``parser`` and of its subcommands :func:`file_path` (when it has no type)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                add_file_types(sub)
        elif action.dest in FILE_DESTS and action.type is None and action.nargs != 0:
            action.type = file_path
