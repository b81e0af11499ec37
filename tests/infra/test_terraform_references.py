"""Cross-reference check of infra/terraform with python-hcl2 (no providers needed): in every module
folder each ``var.X`` is a declared variable, each ``local.X`` a declared local, each ``module.M`` a
module call and each ``module.M.O`` an output of that module's source; every module call passes only
inputs its module declares and every input it requires. A broken reference otherwise shows up only at
``terraform plan`` against a real provider, which this machine cannot download."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.infra.toolchain import TERRAFORM_DIR, load_hcl, module_blocks

MODULE_META_ARGS = {"source", "for_each", "count", "depends_on", "providers", "version"}
FOLDERS = [TERRAFORM_DIR, TERRAFORM_DIR / "examples" / "minimal",
           *sorted(p for p in (TERRAFORM_DIR / "modules").iterdir() if p.is_dir())]
INTERPOLATION = re.compile(r"\$\{(.*)\}", re.S)
REFERENCE = re.compile(r"(?<![\w.])(var|local|module)\.([A-Za-z_][\w-]*)(?:\[[^\]]*\])?(?:\.([A-Za-z_][\w-]*))?")


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


def references(folder: Path) -> set[tuple[str, str, str | None]]:
    found: set[tuple[str, str, str | None]] = set()
    for path in sorted(folder.glob("*.tf")):
        for text in strings(load_hcl(path)):
            for expression in INTERPOLATION.findall(text):
                for kind, name, attribute in REFERENCE.findall(expression):
                    found.add((kind, name, attribute or None))
    return found


def declared_locals(folder: Path) -> set[str]:
    names: set[str] = set()
    for path in sorted(folder.glob("*.tf")):
        for block in load_hcl(path).get("locals", []):
            names.update(block)
    return names


def unresolved(folder: Path) -> list[str]:
    """Every reference or module input in ``folder`` that does not resolve (empty when all do)."""
    variables = set(module_blocks(folder, "variable"))
    local_names = declared_locals(folder)
    calls = module_blocks(folder, "module")
    outputs = {label: set(module_blocks((folder / body["source"]).resolve(), "output"))
               for label, body in calls.items()}
    problems = []
    for kind, name, attribute in sorted(references(folder), key=str):
        if kind == "var" and name not in variables:
            problems.append(f"var.{name} is not declared")
        elif kind == "local" and name not in local_names:
            problems.append(f"local.{name} is not declared")
        elif kind == "module" and name not in calls:
            problems.append(f"module.{name} is not called")
        elif kind == "module" and attribute is not None and attribute not in outputs[name]:
            problems.append(f"module.{name}.{attribute}: {calls[name]['source']} has no such output")
    for label, body in calls.items():
        declared = module_blocks((folder / body["source"]).resolve(), "variable")
        passed = set(body) - MODULE_META_ARGS
        problems += [f"module {label} passes {n}, which its module does not declare"
                     for n in sorted(passed - set(declared))]
        required = {n for n, v in declared.items() if "default" not in v}
        problems += [f"module {label} misses required input {n}" for n in sorted(required - passed)]
    return problems


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: str(p.relative_to(TERRAFORM_DIR)) or "root")
def test_every_reference_and_module_input_resolves(folder: Path) -> None:
    assert references(folder), f"no references found in {folder}: the parser or the pattern is broken"
    assert unresolved(folder) == []


def test_the_check_finds_broken_references(tmp_path: Path) -> None:
    child = tmp_path / "child"
    child.mkdir()
    (child / "main.tf").write_text('variable "a" {\n  type = string\n}\n\noutput "o" {\n  value = var.a\n}\n')
    (tmp_path / "main.tf").write_text(
        'variable "x" {\n  type = string\n}\n\n'
        'locals {\n  y = var.x\n}\n\n'
        'module "c" {\n  source = "./child"\n  b      = local.y\n}\n\n'
        'output "p" {\n  value = "${var.nope}-${local.gone}-${module.c.missing}-${module.d.o}"\n}\n')
    assert sorted(unresolved(tmp_path)) == sorted([
        "var.nope is not declared", "local.gone is not declared", "module.d is not called",
        "module.c.missing: ./child has no such output", "module c passes b, which its module does not declare",
        "module c misses required input a"])
