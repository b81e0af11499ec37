"""How infra/terraform deploys, checked on the parsed HCL: the migration gate before the services,
liveness health checks, one least-privilege task role per role, the Fernet key that cannot be
destroyed, remote state with locking, the image repository, RDS windows and snapshot names, and the
ignore rules that keep state and secrets out of git."""

from __future__ import annotations

import importlib
import inspect
import os
import subprocess
from typing import Any

import pytest

from core.queues.catalog import GROUPS
from functions.registry import resolve_for_queues
from tests.infra.toolchain import REPO, TERRAFORM_DIR, load_hcl, module_blocks, run

ROOT_MAIN = TERRAFORM_DIR / "main.tf"
EXAMPLE = TERRAFORM_DIR / "examples" / "minimal"
SERVICES = ("api", "controller", "worker")


def root_resources() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for entry in load_hcl(ROOT_MAIN).get("resource", []):
        for rtype, named in entry.items():
            for name, body in named.items():
                found[f"{rtype}.{name}"] = body
    return found


def root_data() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for entry in load_hcl(ROOT_MAIN).get("data", []):
        for dtype, named in entry.items():
            for name, body in named.items():
                found[f"{dtype}.{name}"] = body
    return found


def calls() -> dict[str, Any]:
    return module_blocks(TERRAFORM_DIR, "module")


def test_migrations_run_once_as_a_gate_before_the_services_update() -> None:
    gate = root_resources()["terraform_data.migrate"]
    assert "module.migrate.task_definition_arn" in str(gate["triggers_replace"])
    exec_ = gate["provisioner"][0]["local-exec"]
    assert exec_["command"] == "${path.module}/scripts/run_migrate_task.sh"
    for name in SERVICES:
        assert calls()[name]["depends_on"] == ["${terraform_data.migrate}"], f"{name} may roll out before migrate"
    migrate = calls()["migrate"]
    assert migrate["command"] == ["migrate"]
    assert migrate["create_service"] is False
    assert migrate["execution_role_arn"] == "${module.ecs_cluster.migrate_execution_role_arn}"
    for label, body in calls().items():
        assert "init_command" not in body, f"{label}: a migrate init container per task races the others"
    assert "init_command" not in module_blocks(TERRAFORM_DIR / "modules" / "ecs_service", "variable")


def test_the_gate_script_waits_and_fails_on_a_non_zero_exit() -> None:
    script = TERRAFORM_DIR / "scripts" / "run_migrate_task.sh"
    assert os.access(script, os.X_OK)
    assert run(["bash", "-n", script]).returncode == 0
    text = script.read_text()
    for must in ("aws ecs run-task", "aws ecs wait tasks-stopped", "exitCode", 'if [ "$code" != "0" ]', "exit 1"):
        assert must in text


def test_health_checks_are_liveness_commands_per_role() -> None:
    assert calls()["controller"]["health_check_command"] == ["CMD", "integramon", "controller", "--live"]
    assert calls()["worker"]["health_check_command"] == ["CMD", "integramon", "worker-health", "--group", "${each.key}"]
    assert calls()["api"]["health_check_command"] == ["CMD", "integramon-healthcheck"]  # GET /health/live
    alb = module_blocks(TERRAFORM_DIR / "modules" / "alb", "variable")
    assert alb["health_check_path"]["default"] == "/health/live"


def test_each_role_has_its_own_least_privilege_task_role() -> None:
    cluster = load_hcl(TERRAFORM_DIR / "modules" / "ecs_cluster" / "main.tf")
    roles = [name for entry in cluster.get("resource", []) for name in entry.get("aws_iam_role", {})]
    assert "task" not in roles, "one shared task role gives every service every permission"
    service = module_blocks(TERRAFORM_DIR / "modules" / "ecs_service", "variable")
    assert "task_role_arn" not in service
    assert "task_role_policy_json" in service
    assert calls()["worker"]["task_role_policy_json"] == "${data.aws_iam_policy_document.worker[each.key].json}"
    assert calls()["controller"]["task_role_policy_json"] == "${data.aws_iam_policy_document.controller.json}"
    assert "task_role_policy_json" not in calls()["api"], "the API calls no AWS API"
    assert "task_role_policy_json" not in calls()["migrate"]
    controller = root_data()["aws_iam_policy_document.controller"]
    assert [s["actions"] for s in controller["statement"]] == [["cloudwatch:PutMetricData"]]
    worker = str(root_data()["aws_iam_policy_document.worker"])
    assert "s3:DeleteObject" not in worker, "nothing deletes archives; the lifecycle rules expire them"
    assert "ecs:UpdateTaskProtection" in worker


def storage_groups() -> set[str]:
    """Worker groups whose job functions open the object store (read from the code, not a list)."""
    found = set()
    for name, spec in GROUPS.items():
        modules = {inspect.getmodule(fn) for fn in resolve_for_queues(spec.queues).values()}
        if any(m is not None and "open_store(" in inspect.getsource(importlib.import_module(m.__name__))
               for m in modules):
            found.add(name)
    return found


@pytest.mark.parametrize("source", ["default", "example"])
def test_archive_access_matches_what_each_group_runs(source: str) -> None:
    if source == "default":
        groups = module_blocks(TERRAFORM_DIR, "variable")["worker_groups"]["default"]
    else:
        groups = load_hcl(EXAMPLE / "terraform.tfvars")["worker_groups"]
    users = storage_groups()
    assert users, "no group opens the object store: the scan is broken"
    for group, cfg in groups.items():
        access = cfg.get("archive_access", "none")
        assert (access != "none") == (group in users), f"{group}: archive_access {access}"


def test_the_fernet_key_cannot_be_destroyed_and_keeps_a_hand_rotated_value() -> None:
    found = root_resources()
    for name in ("random_id.secret_key", "aws_secretsmanager_secret.secret_key",
                 "aws_secretsmanager_secret_version.secret_key"):
        assert found[name]["lifecycle"][0]["prevent_destroy"] is True, name
    assert found["aws_secretsmanager_secret_version.secret_key"]["lifecycle"][0]["ignore_changes"] == ["secret_string"]
    environment = load_hcl(ROOT_MAIN)["locals"][0]
    assert "aws_secretsmanager_secret.secret_key.arn" in str(environment["secrets"])


def test_the_services_database_password_never_enters_the_state() -> None:
    text = ROOT_MAIN.read_text()
    assert 'ephemeral "random_password" "db_app"' in text
    version = root_resources()["aws_secretsmanager_secret_version.db_app"]
    assert "ephemeral.random_password.db_app.result" in version["secret_string_wo"]
    assert "secret_string" not in version
    assert version["secret_string_wo_version"] == "${var.db_app_password_version}"


def test_example_keeps_its_state_in_s3_with_locking() -> None:
    backend = load_hcl(EXAMPLE / "versions.tf")["terraform"][0]["backend"][0]["s3"]
    assert backend["encrypt"] is True
    assert backend["use_lockfile"] is True or backend.get("dynamodb_table")
    text = (EXAMPLE / "versions.tf").read_text()
    assert "CHANGE-ME" in text
    assert "#" in text.split('backend "s3"')[1], "the values to fill in are commented"


@pytest.mark.parametrize(("path", "ignored"), [
    ("infra/compose/.env", True),
    ("infra/terraform/examples/minimal/terraform.tfstate", True),
    ("infra/terraform/examples/minimal/terraform.tfstate.backup", True),
    ("infra/terraform/examples/minimal/.terraform/providers/x", True),
    ("infra/terraform/examples/minimal/.terraform.lock.hcl", False),
    ("infra/compose/.env.example", False),
])
def test_state_and_secrets_stay_out_of_git(path: str, ignored: bool) -> None:
    result = subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO, check=False)
    assert (result.returncode == 0) is ignored, f"{path} ignored={result.returncode == 0}"


def test_lock_file_policy_is_documented() -> None:
    text = (REPO / "docs" / "aws.md").read_text()
    assert ".terraform.lock.hcl" in text
    assert "terraform providers lock" in text


def test_the_image_comes_from_a_repository_terraform_creates() -> None:
    repo = root_resources()["aws_ecr_repository.this"]
    assert repo["image_tag_mutability"] == "IMMUTABLE"
    assert repo["image_scanning_configuration"][0]["scan_on_push"] is True
    locals_ = load_hcl(ROOT_MAIN)["locals"][0]
    assert "aws_ecr_repository.this.repository_url" in locals_["image"]
    assert "ecr_repository_url" in module_blocks(TERRAFORM_DIR, "output")


def test_database_windows_and_a_unique_final_snapshot() -> None:
    main = load_hcl(TERRAFORM_DIR / "modules" / "postgres" / "main.tf")
    instance = next(e["aws_db_instance"]["this"] for e in main["resource"] if "aws_db_instance" in e)
    assert instance["backup_window"] == "${var.backup_window}"
    assert instance["maintenance_window"] == "${var.maintenance_window}"
    assert "timestamp()" in instance["final_snapshot_identifier"]
    assert instance["lifecycle"][0]["ignore_changes"] == ["final_snapshot_identifier"]


def test_settings_the_code_reads_are_passed_to_every_task() -> None:
    environment = load_hcl(ROOT_MAIN)["locals"][0]["environment"]
    assert "INTEGRAMON_CLOUDWATCH_READY_METRIC = var.ready_jobs_metric_name" in environment
    assert "module.postgres.app_url" in environment
    for name in ("worker", "controller", "api"):
        env = str(calls()[name]["environment"])
        assert "INTEGRAMON_DB_POOL_SIZE" in env, name
        assert "INTEGRAMON_DB_MAX_OVERFLOW" in env, name
    assert calls()["network"]["extra_egress"] == "${var.extra_egress}"


def test_alarms_and_one_dashboard_per_deployment() -> None:
    monitoring = calls()["monitoring"]
    assert monitoring["worker_groups"] == "${keys(var.worker_groups)}"
    main = load_hcl(TERRAFORM_DIR / "modules" / "monitoring" / "main.tf")
    alarms = {name for e in main["resource"] for name in e.get("aws_cloudwatch_metric_alarm", {})}
    assert alarms >= {"oldest_ready_age", "no_leader", "outbox_backlog", "redis_memory", "redis_evictions",
                      "db_connections", "db_free_storage", "alb_5xx"}
    dashboards = [e for e in main["resource"] if "aws_cloudwatch_dashboard" in e]
    assert len(dashboards) == 1
    leader = next(e["aws_cloudwatch_metric_alarm"]["no_leader"] for e in main["resource"]
                  if "no_leader" in e.get("aws_cloudwatch_metric_alarm", {}))
    assert leader["treat_missing_data"] == "breaching", "no leader = no data: missing data must alarm"
