"""``integramon`` console command.

Each role registers its own sub-commands (``register(subparsers)`` in the modules listed in
``COMMAND_MODULES``), so this launcher stays small and the deployables never import each other.
Errors of ours print one line and exit non-zero; no traceback for bad input.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from core.errors import IntegraMonError
from core.settings import load_settings

__all__ = ["COMMAND_MODULES", "build_parser", "main"]

COMMAND_MODULES: tuple[str, ...] = (
    "integramon.core_commands",
    "functions.cli",
    "simulator.cli",
    "controller.cli",
    "admin_api.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="integramon", description="IntegraMon Runtime")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        logging.basicConfig(
            level=settings.log_level.upper(),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
        return int(args.handler(args, settings) or 0)
    except IntegraMonError as exc:
        print(f"integramon {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
