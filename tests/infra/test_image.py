"""The Dockerfile: hadolint clean, multi-stage, non-root, one role-aware health check, and a build
context (.dockerignore) that still contains everything the Dockerfile copies."""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path

from tests.infra.toolchain import REPO, TERRAFORM_DIR, hadolint_binary, load_hcl, run

DOCKERFILE = REPO / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def test_hadolint_passes() -> None:
    result = run([hadolint_binary(), "--no-color", DOCKERFILE])
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_is_a_real_linter(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install curl\n")
    result = run([hadolint_binary(), "--no-color", bad])
    assert result.returncode != 0
    assert "DL3007" in result.stdout


def test_multi_stage_non_root_image_with_role_health_check() -> None:
    steps = instructions()
    stages = [args for keyword, args in steps if keyword == "FROM"]
    assert len(stages) == 2
    assert stages[0].endswith("AS build")
    assert stages[1].endswith("AS runtime")
    runtime = steps[[i for i, (k, _) in enumerate(steps) if k == "FROM"][1]:]
    users = [args for keyword, args in runtime if keyword == "USER"]
    assert users
    assert users[-1].split(":")[0] not in {"0", "root"}
    assert ("ENTRYPOINT", '["integramon"]') in runtime
    healthcheck = [args for keyword, args in runtime if keyword == "HEALTHCHECK"]
    assert healthcheck
    assert healthcheck[0].endswith('CMD ["integramon-healthcheck"]')
    assert any(k == "COPY" and "infra/image/healthcheck.py /usr/local/bin/integramon-healthcheck" in a
               for k, a in runtime)


def dockerignore_excludes(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; a pattern matching a parent folder matches too."""
    excluded = False
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        negate = pattern.startswith("!")
        glob = pattern[1:] if negate else pattern
        glob = glob.rstrip("/")
        if any(fnmatch.fnmatchcase(c, glob) or fnmatch.fnmatchcase(c, glob.replace("**/", "")) for c in candidates):
            excluded = not negate
    return excluded


def test_build_context_keeps_what_the_dockerfile_copies() -> None:
    patterns = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    sources = []
    for keyword, args in instructions():
        if keyword == "COPY" and "--from=" not in args:
            words = [w for w in args.split() if not w.startswith("--")]
            sources += words[:-1]
    assert "core" in sources
    assert "requirements.lock" in sources
    for source in sources:
        assert (REPO / source).exists(), f"COPY {source}: no such file"
        assert not dockerignore_excludes(source, patterns), f"COPY {source} is excluded by .dockerignore"
    for private in (".venv/bin/python", ".git/config", "infra/compose/.env", "tests/conftest.py"):
        assert dockerignore_excludes(private, patterns), f"{private} would be sent to the Docker daemon"


def test_writable_paths_are_volumes_owned_by_the_runtime_user() -> None:
    """Fargate task volumes take owner and mode from the image's VOLUME folders: without VOLUME they
    are root-owned and uid 10001 cannot write its data folder."""
    steps = instructions()
    runtime = steps[[i for i, (k, _) in enumerate(steps) if k == "FROM"][1]:]
    volumes = [json.loads(args) for keyword, args in runtime if keyword == "VOLUME"]
    assert volumes
    assert set(volumes[-1]) >= {"/var/lib/integramon", "/tmp"}
    made = " ".join(args for keyword, args in runtime if keyword == "RUN")
    assert "chown integramon:integramon /var/lib/integramon" in made
    volume_at = next(i for i, (k, _) in enumerate(runtime) if k == "VOLUME")
    chown_at = next(i for i, (k, a) in enumerate(runtime) if k == "RUN" and "chown" in a)
    assert chown_at < volume_at, "VOLUME must come after the folder is owned by the runtime user"


def test_the_ca_bundle_the_database_url_names_is_copied_into_the_image() -> None:
    steps = instructions()
    copies = [args.split() for keyword, args in steps if keyword == "COPY" and "--from=" not in args]
    target = next(words[-1] for words in copies if words[-2] == "infra/image/certs/")
    bundle = load_hcl(TERRAFORM_DIR / "modules" / "postgres" / "variables.tf")["variable"]
    path = next(v["ca_bundle_path"]["default"] for v in bundle if "ca_bundle_path" in v)
    assert path.startswith(target), f"sslrootcert {path} is not under {target}"
    readme = (REPO / "infra" / "image" / "certs" / "README.md").read_text()
    assert Path(path).name in readme
    assert "truststore.pki.rds.amazonaws.com" in readme
