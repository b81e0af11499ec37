"""The command table of ``integramon`` matches what each role's module registers."""

from __future__ import annotations

import argparse
import importlib

from integramon.cli import COMMAND_MODULES, COMMAND_OWNERS


def _registered(module: str) -> set[str]:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    importlib.import_module(module).register(sub)
    return set(sub.choices)


def test_every_command_has_its_owner_listed() -> None:
    actual = {cmd: module for module in COMMAND_MODULES for cmd in _registered(module)}
    assert actual == COMMAND_OWNERS
