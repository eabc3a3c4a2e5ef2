"""Command line: ``planatlas build | layers | geocode | export | presets | coverage | evaluate |
import-* | fetch-osm | demo | site``.

The CLI sits on top of the library, like the app: it is the one part of
``spatial`` that may build the default store with ``layers.build``. Each
subcommand lives in a module of its own with a ``register(subparsers)``.

Every failure a user can cause prints one line starting with ``planatlas: 错误：``
and exits with status 1; usage errors print one line and exit with status 2.
No traceback reaches the terminal.
"""

from __future__ import annotations

import sys

from .._errors import PlanatlasError
from . import build, coverage, evaluate, export, intake, places, site
from ._parser import Parser

#: Modules that add subcommands, in the order ``--help`` lists them.
COMMANDS = (build, places, export, coverage, evaluate, intake, site)


def build_parser() -> Parser:
    parser = Parser(
        prog="planatlas",
        description="把城市政府工作报告变成规划图层，并做 15 分钟生活圈分析 (a work report as planning layers)",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser, metavar="命令")
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except PlanatlasError as exc:
        print(f"planatlas: 错误：{' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("planatlas: 已中断，未写入任何内容 (interrupted; nothing was written)", file=sys.stderr)
        return 130
