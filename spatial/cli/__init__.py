"""Command line: ``planatlas build | layers | geocode | export | presets | coverage | evaluate |
import-* | fetch-osm | demo | site``.

The CLI sits on top of the library, like the app: it is the one part of
``spatial`` that may build the default store with ``layers.build``. Each
subcommand lives in a module of its own with a ``register(subparsers)``,
listed in :data:`COMMAND_MODULES`.

Every failure a user can cause prints one line starting with ``planatlas: 错误：``
and exits with status 1; usage errors print one line and exit with status 2.
No traceback reaches the terminal.
"""

from __future__ import annotations

import importlib
import signal
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType, ModuleType

from .._errors import PlanatlasError, PlanatlasWarning
from ._parser import Parser, add_file_types

#: Modules that add subcommands, in the order ``--help`` lists them. They are
#: imported by :func:`build_parser`, inside :func:`main`, so Ctrl-C or SIGTERM
#: while the geospatial libraries load ends quietly too.
COMMAND_MODULES = ("build", "places", "export", "coverage", "evaluate", "intake", "site")


def commands() -> tuple[ModuleType, ...]:
    """The subcommand modules, imported."""
    return tuple(importlib.import_module(f"{__name__}.{name}") for name in COMMAND_MODULES)


#: Exit status of an unexpected internal error (a bug: the message asks to report it).
EXIT_INTERNAL = 70


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where the process is, so every ``finally`` and cleanup runs."""


def build_parser() -> Parser:
    parser = Parser(
        prog="planatlas",
        description="把城市政府工作报告变成规划图层，并做 15 分钟生活圈分析 (a work report as planning layers)",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser, metavar="命令")
    for module in commands():
        module.register(sub)
    add_file_types(parser)  # every file option of every subcommand, those added later too
    return parser


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated(signum)


@contextmanager
def _signals_as_interrupts() -> Iterator[None]:
    """SIGTERM and SIGHUP end the command like Ctrl-C: temporary files are removed, nothing half-written stays.

    Only in the main thread (signal handlers cannot be set elsewhere, e.g. in tests run by threads).
    """
    previous: dict[int, object] = {}
    try:
        for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
            if sig is not None:
                previous[sig] = signal.signal(sig, _raise_terminated)
    except ValueError:  # not the main thread
        pass
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]


class _Warnings:
    """Prints planatlas's own warnings at once, one line each; other libraries' warnings are not shown."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def show(self, message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: object = None, line: str | None = None) -> None:
        if isinstance(message, PlanatlasWarning):
            text = " ".join(str(message).split())
            if text not in self.seen:
                self.seen.add(text)
                print(f"planatlas: 注意：{text}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    with _signals_as_interrupts(), warnings.catch_warnings():
        warnings.simplefilter("always", PlanatlasWarning)
        warnings.showwarning = _Warnings().show
        try:
            args = build_parser().parse_args(argv)
            return int(args.func(args))
        except PlanatlasError as exc:
            print(f"planatlas: 错误：{' '.join(str(exc).split())}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("planatlas: 已中断，未写入任何内容 (interrupted; nothing was written)", file=sys.stderr)
            return 130
        except BrokenPipeError:  # `planatlas layers | head`: the reader has gone
            return 0
        except MemoryError:
            print("planatlas: 错误：内存不足，输入过大 (out of memory: the input is too large)", file=sys.stderr)
            return 1
        except Exception as exc:  # the last resort: a bug, said in one line, never a traceback
            print(f"planatlas: 错误：内部错误 {type(exc).__name__}，请报告此问题 "
                  f"(internal error {type(exc).__name__}; please report it)", file=sys.stderr)
            return EXIT_INTERNAL
