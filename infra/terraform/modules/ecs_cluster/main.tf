# The cluster plus the execution roles (pull the image, inject secrets, write logs): one for the
# services, which may read the runtime secrets only, and one for the migrate task, which may also read
# the master credentials RDS manages. What the code itself may call is each service's own task role
# (modules/ecs_service).
data "aws_partition" "current" {}

resource "aws_ecs_cluster" "this" {
  name = var.name
  tags = var.tags

  # Container Insights publishes RunningTaskCount, the denominator of the backlog-per-task metric.
  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = ["FARGATE", "FARGATE_SPOT"]

  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = 1
    base              = 1
  }
}

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "execution" {
  name_prefix        = "${var.name}-exec-"
  description        = "ECS task execution role of IntegraMon (image pull, secrets, logs)"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "ReadRuntimeSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = var.secret_arns
  }

  statement {
    sid       = "DecryptRuntimeSecrets"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "execution" {
  name_prefix = "secrets-"
  role        = aws_iam_role.execution.id
  policy      = data.aws_iam_policy_document.execution.json
}

# Same as the services' execution role, plus the master credentials: only the migrate task logs in as
# the database owner (it applies DDL and creates the services' DML-only role).
resource "aws_iam_role" "migrate_execution" {
  name_prefix        = "${var.name}-migexec-"
  description        = "ECS task execution role of the IntegraMon migrate task (image pull, secrets incl. DB master, logs)"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "migrate_execution" {
  role       = aws_iam_role.migrate_execution.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "migrate_execution" {
  statement {
    sid       = "ReadMigrateSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = concat(var.secret_arns, var.migrate_secret_arns)
  }

  statement {
    sid       = "DecryptMigrateSecrets"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "migrate_execution" {
  name_prefix = "secrets-"
  role        = aws_iam_role.migrate_execution.id
  policy      = data.aws_iam_policy_document.migrate_execution.json
}
