# Security groups only: the VPC and its subnets are inputs of the root module. Traffic is allowed
# group to group (ALB -> API tasks -> data stores), never from a CIDR into the tasks or the stores.
locals {
  data_ports = {
    postgres = 5432
    redis    = 6379
    rabbitmq = 5671
  }
  # one rule per (extra_egress entry, CIDR block)
  extra_egress = { for pair in flatten([for index, rule in var.extra_egress : [
    for cidr in rule.cidr_blocks : { key = "${index}-${cidr}", rule = rule, cidr = cidr }
  ]]) : pair.key => pair }
}

resource "aws_security_group" "alb" {
  # checkov:skip=CKV2_AWS_5: attached to the admin API load balancer by the root module through this module's outputs
  name_prefix = "${var.name}-alb-"
  description = "IntegraMon admin API load balancer"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-alb" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_security_group" "tasks" {
  # checkov:skip=CKV2_AWS_5: attached to every ECS service by the root module through this module's outputs
  name_prefix = "${var.name}-tasks-"
  description = "IntegraMon ECS tasks (workers, controller, admin API)"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-tasks" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_security_group" "data" {
  # checkov:skip=CKV2_AWS_5: attached to RDS, ElastiCache and Amazon MQ by the root module through this module's outputs
  name_prefix = "${var.name}-data-"
  description = "IntegraMon data stores (RDS PostgreSQL, ElastiCache Redis, Amazon MQ)"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-data" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "alb" {
  for_each = { for pair in setproduct(var.alb_ingress_cidrs, [80, 443]) : "${pair[0]}-${pair[1]}" => pair }

  security_group_id = aws_security_group.alb.id
  description       = "admin API clients on port ${each.value[1]}"
  cidr_ipv4         = each.value[0]
  ip_protocol       = "tcp"
  from_port         = each.value[1]
  to_port           = each.value[1]
}

resource "aws_vpc_security_group_egress_rule" "alb_to_api" {
  security_group_id            = aws_security_group.alb.id
  description                  = "load balancer to the admin API tasks"
  referenced_security_group_id = aws_security_group.tasks.id
  ip_protocol                  = "tcp"
  from_port                    = var.api_port
  to_port                      = var.api_port
}

resource "aws_vpc_security_group_ingress_rule" "api_from_alb" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "admin API from the load balancer"
  referenced_security_group_id = aws_security_group.alb.id
  ip_protocol                  = "tcp"
  from_port                    = var.api_port
  to_port                      = var.api_port
}

# Tasks call CPI tenants, AWS APIs (S3, Secrets Manager, CloudWatch, ECR) and the LLM endpoint over HTTPS.
resource "aws_vpc_security_group_egress_rule" "tasks_https" {
  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to CPI tenants, AWS APIs and the LLM endpoint"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "tasks_to_data" {
  for_each = local.data_ports

  security_group_id            = aws_security_group.tasks.id
  description                  = "tasks to ${each.key}"
  referenced_security_group_id = aws_security_group.data.id
  ip_protocol                  = "tcp"
  from_port                    = each.value
  to_port                      = each.value
}

resource "aws_vpc_security_group_ingress_rule" "data_from_tasks" {
  for_each = local.data_ports

  security_group_id            = aws_security_group.data.id
  description                  = "${each.key} from the IntegraMon tasks"
  referenced_security_group_id = aws_security_group.tasks.id
  ip_protocol                  = "tcp"
  from_port                    = each.value
  to_port                      = each.value
}

# SMTP, CPI or LLM endpoints on ports other than 443 (var.extra_egress); nothing else leaves the tasks.
resource "aws_vpc_security_group_egress_rule" "tasks_extra" {
  for_each = local.extra_egress

  security_group_id = aws_security_group.tasks.id
  description       = each.value.rule.description
  cidr_ipv4         = each.value.cidr
  ip_protocol       = each.value.rule.protocol
  from_port         = each.value.rule.from_port
  to_port           = coalesce(each.value.rule.to_port, each.value.rule.from_port)
}
