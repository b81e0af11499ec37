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
from core.logsafe import install_log_masking
from core.settings import load_settings
from core.urls import mask_text

__all__ = ["COMMAND_MODULES", "COMMAND_OWNERS", "build_parser", "main"]

COMMAND_MODULES: tuple[str, ...] = (
    "integramon.core_commands",
    "functions.cli",
    "simulator.cli",
    "controller.cli",
    "admin_api.cli",
    "functions.archive.cli",
)


# Which module registers each command, so one command imports only its own role (a worker never
# loads Litestar). A test checks this table against what the modules really register.
COMMAND_OWNERS: dict[str, str] = {
    "migrate": "integramon.core_commands",
    "catalog": "integramon.core_commands",
    "dev": "integramon.core_commands",
    "worker": "functions.cli",
    "worker-health": "functions.cli",
    "enqueue": "functions.cli",
    "simulator": "simulator.cli",
    "controller": "controller.cli",
    "api": "admin_api.cli",
    "token": "admin_api.cli",
    "secrets": "admin_api.cli",
    "archive": "functions.archive.cli",
}


def build_parser(modules: Sequence[str] = COMMAND_MODULES) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="integramon", description="IntegraMon Runtime")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in modules:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    owner = COMMAND_OWNERS.get(words[0]) if words else None
    parser = build_parser((owner,) if owner else COMMAND_MODULES)
    args = parser.parse_args(words)
    install_log_masking()
    try:
        settings = load_settings()
        logging.basicConfig(
            level=settings.log_level.upper(),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
        return int(args.handler(args, settings) or 0)
    except IntegraMonError as exc:
        # one line whatever the cause says: libpq, for one, adds a hint on a second, tab-indented line
        print(f"integramon {args.command}: {' '.join(mask_text(str(exc)).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
