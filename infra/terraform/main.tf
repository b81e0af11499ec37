# IntegraMon Runtime on AWS: one Fargate service per worker group (from var.worker_groups), the
# controller, the admin API behind an ALB, a one-off migrate task run as a gated step before the
# services update, RDS PostgreSQL, ElastiCache Redis (cluster mode off), Amazon MQ for RabbitMQ, the
# S3 archive, an ECR repository for the image, CloudWatch logs, alarms and a dashboard. Worker groups
# scale on the controller's ready-jobs metric as backlog per task.
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id  = data.aws_caller_identity.current.account_id
  region      = data.aws_region.current.name
  tags        = merge({ Application = "integramon", ManagedBy = "terraform" }, var.tags)
  bucket_name = coalesce(var.archive_bucket_name, "${var.name}-archive-${local.account_id}")
  api_port    = 8000
  alb_subnets = var.alb_internal ? var.private_subnet_ids : var.public_subnet_ids
  image       = var.image != null ? var.image : "${aws_ecr_repository.this.repository_url}:${var.image_tag}"

  # Settings every task shares; the database URL names the role but carries no password (it comes
  # from a secret as INTEGRAMON_DATABASE_PASSWORD).
  environment = merge(var.settings, {
    INTEGRAMON_DATA_DIR                 = "/var/lib/integramon"
    INTEGRAMON_API_HOST                 = "0.0.0.0"
    INTEGRAMON_API_PORT                 = tostring(local.api_port)
    INTEGRAMON_LOG_LEVEL                = var.log_level
    INTEGRAMON_S3_BUCKET                = module.archive_bucket.name
    INTEGRAMON_S3_REGION                = local.region
    INTEGRAMON_CLOUDWATCH_NAMESPACE     = var.cloudwatch_namespace
    INTEGRAMON_CLOUDWATCH_READY_METRIC  = var.ready_jobs_metric_name
    INTEGRAMON_SCALING_BACKLOG_PER_SLOT = tostring(var.backlog_per_slot)
    INTEGRAMON_DATABASE_URL             = module.postgres.app_url
  })
  secrets = merge(
    {
      INTEGRAMON_DATABASE_PASSWORD = "${aws_secretsmanager_secret.db_app.arn}:password::"
      INTEGRAMON_REDIS_URL         = "${aws_secretsmanager_secret.this.arn}:redis_url::"
      INTEGRAMON_RABBITMQ_URL      = "${aws_secretsmanager_secret.this.arn}:rabbitmq_url::"
      INTEGRAMON_SECRET_KEY        = aws_secretsmanager_secret.secret_key.arn
    },
    var.llm_api_key_secret_arn == null ? {} : { INTEGRAMON_LLM_API_KEY = var.llm_api_key_secret_arn },
  )
  secret_arns = compact([aws_secretsmanager_secret.this.arn, aws_secretsmanager_secret.db_app.arn,
  aws_secretsmanager_secret.secret_key.arn, var.llm_api_key_secret_arn])

  # The migrate task logs in as the master user (RDS-managed secret) and creates the services' role.
  migrate_environment = merge(local.environment, {
    INTEGRAMON_DATABASE_URL = module.postgres.master_url
    INTEGRAMON_DB_APP_ROLE  = var.db_app_role
  })
  migrate_secrets = merge(local.secrets, {
    INTEGRAMON_DATABASE_PASSWORD = "${module.postgres.master_user_secret_arn}:password::"
    INTEGRAMON_DB_APP_PASSWORD   = "${aws_secretsmanager_secret.db_app.arn}:password::"
  })

  # Arguments every ECS service shares.
  service_defaults = {
    cluster_arn        = module.ecs_cluster.cluster_arn
    cluster_name       = module.ecs_cluster.cluster_name
    subnet_ids         = var.private_subnet_ids
    security_group_ids = [module.network.tasks_security_group_id]
    execution_role_arn = module.ecs_cluster.execution_role_arn
  }
}

# ---- encryption key shared by secrets, logs, the archive bucket and the data stores ----

data "aws_iam_policy_document" "kms" {
  # checkov:skip=CKV_AWS_109: a KMS key policy; Resource "*" means this key only and the root statement is the AWS default that lets IAM policies grant use
  # checkov:skip=CKV_AWS_111: same key policy: writes are limited to this key by KMS itself
  # checkov:skip=CKV_AWS_356: same key policy: "*" is the only resource value a key policy accepts
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchLogsEncrypt"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${data.aws_partition.current.partition}:logs:${local.region}:${local.account_id}:log-group:/integramon/*"]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "IntegraMon ${var.name}: secrets, logs, archive bucket and data stores"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
  tags                    = local.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}

# ---- network, data stores, archive ----

module "network" {
  source = "./modules/network"

  name              = var.name
  vpc_id            = var.vpc_id
  alb_ingress_cidrs = var.alb_ingress_cidrs
  api_port          = local.api_port
  extra_egress      = var.extra_egress
  tags              = local.tags
}

module "postgres" {
  source = "./modules/postgres"

  name                = "${var.name}-db"
  subnet_ids          = var.private_subnet_ids
  security_group_ids  = [module.network.data_security_group_id]
  instance_class      = var.db_instance_class
  multi_az            = var.db_multi_az
  backup_window       = var.db_backup_window
  maintenance_window  = var.db_maintenance_window
  app_role            = var.db_app_role
  deletion_protection = var.deletion_protection
  kms_key_arn         = aws_kms_key.this.arn
  tags                = local.tags
}

module "redis" {
  source = "./modules/redis"

  name               = "${var.name}-redis"
  subnet_ids         = var.private_subnet_ids
  security_group_ids = [module.network.data_security_group_id]
  node_type          = var.redis_node_type
  replicas           = var.redis_replicas
  kms_key_arn        = aws_kms_key.this.arn
  log_retention_days = var.log_retention_days
  tags               = local.tags
}

module "rabbitmq" {
  source = "./modules/rabbitmq"

  name               = "${var.name}-events"
  subnet_ids         = var.private_subnet_ids
  security_group_ids = [module.network.data_security_group_id]
  instance_type      = var.mq_instance_type
  deployment_mode    = var.mq_deployment_mode
  tags               = local.tags
}

module "archive_bucket" {
  source = "./modules/archive_bucket"

  name               = local.bucket_name
  kms_key_arn        = aws_kms_key.this.arn
  expire_after_days  = var.archive_expire_after_days
  glacier_after_days = var.archive_glacier_after_days
  tags               = local.tags
}

# ---- secrets: runtime URLs, the services' database password, the Fernet key ----

resource "aws_secretsmanager_secret" "this" {
  # checkov:skip=CKV2_AWS_57: the values derive from the data stores' generated credentials; rotate them by re-applying, not by a Lambda
  name_prefix             = "${var.name}-runtime-"
  description             = "IntegraMon Redis and RabbitMQ URLs (INTEGRAMON_*), read by the ECS tasks"
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = 7
  tags                    = local.tags
}

resource "aws_secretsmanager_secret_version" "this" {
  secret_id = aws_secretsmanager_secret.this.id
  secret_string = jsonencode({
    redis_url    = module.redis.url
    rabbitmq_url = module.rabbitmq.url
  })
}

# The services' database password: generated as an ephemeral value and written write-only, so it is
# never in the Terraform state. Bump db_app_password_version to rotate it (docs/aws.md).
ephemeral "random_password" "db_app" {
  length  = 40
  special = false
}

resource "aws_secretsmanager_secret" "db_app" {
  # checkov:skip=CKV2_AWS_57: rotated by bumping db_app_password_version and re-running the migrate task, which re-passwords the role
  name_prefix             = "${var.name}-db-app-"
  description             = "Password of the IntegraMon services' DML-only database role (${var.db_app_role})"
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = 7
  tags                    = local.tags
}

resource "aws_secretsmanager_secret_version" "db_app" {
  secret_id                = aws_secretsmanager_secret.db_app.id
  secret_string_wo         = jsonencode({ username = var.db_app_role, password = ephemeral.random_password.db_app.result })
  secret_string_wo_version = var.db_app_password_version
}

# The Fernet key that encrypts every stored tenant secret: lose or replace it and they are
# unreadable. Both the key and its secret refuse `terraform destroy` and replacement; a rotated value
# written by hand ("new,old", docs/aws.md) is kept, not reverted, by later applies.
resource "random_id" "secret_key" {
  byte_length = 32

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_secretsmanager_secret" "secret_key" {
  # checkov:skip=CKV2_AWS_57: a Fernet key rotates by prepending a new key by hand (docs/aws.md), never by a Lambda that would drop the old one
  name_prefix             = "${var.name}-secret-key-"
  description             = "INTEGRAMON_SECRET_KEY: Fernet key(s) of the stored tenant secrets; never delete"
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = 30
  tags                    = local.tags

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_secretsmanager_secret_version" "secret_key" {
  secret_id = aws_secretsmanager_secret.secret_key.id
  # Fernet wants url-safe base64 of 32 bytes WITH its padding; random_id leaves the padding off.
  secret_string = "${random_id.secret_key.b64_url}="

  lifecycle {
    prevent_destroy = true
    ignore_changes  = [secret_string]
  }
}

# ---- task roles: each role may call only what its code calls ----

# Worker groups: the archive bucket as far as the group's functions use it (archive_access), and
# their own task's scale-in protection (the ECS agent endpoint calls UpdateTaskProtection as the task).
data "aws_iam_policy_document" "worker" {
  for_each = var.worker_groups

  statement {
    sid       = "OwnTaskScaleInProtection"
    actions   = ["ecs:UpdateTaskProtection", "ecs:GetTaskProtection"]
    resources = ["arn:${data.aws_partition.current.partition}:ecs:${local.region}:${local.account_id}:task/${var.name}/*"]
  }

  dynamic "statement" {
    for_each = each.value.archive_access == "none" ? [] : ["list"]

    content {
      sid       = "ArchiveBucketList"
      actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
      resources = [module.archive_bucket.arn]
    }
  }

  dynamic "statement" {
    for_each = each.value.archive_access == "none" ? [] : ["objects"]

    content {
      sid = "ArchiveObjects"
      # no DeleteObject: nothing in the runtime deletes archives (the lifecycle rules expire them)
      actions   = each.value.archive_access == "read-write" ? ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"] : ["s3:GetObject"]
      resources = ["${module.archive_bucket.arn}/*"]
    }
  }

  dynamic "statement" {
    for_each = each.value.archive_access == "none" ? [] : ["kms"]

    content {
      sid       = "ArchiveEncryption"
      actions   = each.value.archive_access == "read-write" ? ["kms:Decrypt", "kms:GenerateDataKey"] : ["kms:Decrypt"]
      resources = [aws_kms_key.this.arn]
    }
  }
}

# The controller publishes the queue metrics (autoscaling input, alarms) and nothing else.
data "aws_iam_policy_document" "controller" {
  # PutMetricData has no resource-level permissions; the namespace condition is what limits it.
  statement {
    sid       = "QueueMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [var.cloudwatch_namespace]
    }
  }
}

# ---- the image repository ----

resource "aws_ecr_repository" "this" {
  name                 = var.name
  image_tag_mutability = "IMMUTABLE"
  force_delete         = false
  tags                 = local.tags

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.this.arn
  }
}

# ---- PostgreSQL connection budget: fails the plan when the worst case exceeds max_connections ----

module "db_budget" {
  source = "./modules/db_budget"

  instance_class  = var.db_instance_class
  max_connections = var.db_max_connections
  worker_groups   = var.worker_groups
  api = {
    count        = var.api_count
    pool_size    = var.api_db_pool_size
    max_overflow = var.api_db_max_overflow
  }
  controller = {
    count        = var.controller_count
    pool_size    = var.controller_db_pool_size
    max_overflow = var.controller_db_max_overflow
  }
}

# ---- ECS: cluster, migrate task (gated step), admin API, controller, one service per worker group ----

module "ecs_cluster" {
  source = "./modules/ecs_cluster"

  name                = var.name
  kms_key_arn         = aws_kms_key.this.arn
  secret_arns         = local.secret_arns
  migrate_secret_arns = [module.postgres.master_user_secret_arn]
  tags                = local.tags
}

module "alb" {
  source = "./modules/alb"

  name                = "${var.name}-api"
  vpc_id              = var.vpc_id
  subnet_ids          = local.alb_subnets
  security_group_ids  = [module.network.alb_security_group_id]
  internal            = var.alb_internal
  certificate_arn     = var.certificate_arn
  target_port         = local.api_port
  deletion_protection = var.deletion_protection
  access_logs_bucket  = var.alb_access_logs_bucket
  tags                = local.tags
}

# One-off task: `integramon migrate` (advisory-locked, so a retry or a second run is harmless) as the
# master user; it also creates or re-passwords the services' DML-only role.
module "migrate" {
  source = "./modules/ecs_service"

  name               = "${var.name}-migrate"
  image              = local.image
  command            = ["migrate"]
  create_service     = false
  environment        = local.migrate_environment
  secrets            = local.migrate_secrets
  kms_key_arn        = aws_kms_key.this.arn
  log_retention_days = var.log_retention_days
  cluster_arn        = local.service_defaults.cluster_arn
  cluster_name       = local.service_defaults.cluster_name
  subnet_ids         = local.service_defaults.subnet_ids
  security_group_ids = local.service_defaults.security_group_ids
  execution_role_arn = module.ecs_cluster.migrate_execution_role_arn
  tags               = local.tags
}

# The gate: whenever the migrate task definition changes (a new image, new settings), run it once and
# wait for exit code 0 BEFORE any service is updated (they depend on this); a failed migration stops
# the apply with the old services still running. Needs the AWS CLI where terraform runs.
resource "terraform_data" "migrate" {
  count = var.run_migrations ? 1 : 0

  triggers_replace = [module.migrate.task_definition_arn, var.db_app_password_version]

  provisioner "local-exec" {
    command = "${path.module}/scripts/run_migrate_task.sh"
    environment = {
      CLUSTER         = module.ecs_cluster.cluster_name
      TASK_DEFINITION = module.migrate.task_definition_arn
      SUBNETS         = join(",", var.private_subnet_ids)
      SECURITY_GROUP  = module.network.tasks_security_group_id
      AWS_REGION      = local.region
    }
  }
}

module "api" {
  source     = "./modules/ecs_service"
  depends_on = [terraform_data.migrate]

  name                 = "${var.name}-api"
  image                = local.image
  command              = ["api"]
  port                 = local.api_port
  target_group_arn     = module.alb.target_group_arn
  desired_count        = var.api_count
  cpu                  = 512
  memory               = 1024
  stop_timeout         = 30
  health_check_command = ["CMD", "integramon-healthcheck"] # the api probe is GET /health/live
  environment = merge(local.environment, {
    INTEGRAMON_DB_POOL_SIZE    = tostring(var.api_db_pool_size)
    INTEGRAMON_DB_MAX_OVERFLOW = tostring(var.api_db_max_overflow)
  })
  secrets            = local.secrets
  kms_key_arn        = aws_kms_key.this.arn
  log_retention_days = var.log_retention_days
  cluster_arn        = local.service_defaults.cluster_arn
  cluster_name       = local.service_defaults.cluster_name
  subnet_ids         = local.service_defaults.subnet_ids
  security_group_ids = local.service_defaults.security_group_ids
  execution_role_arn = local.service_defaults.execution_role_arn
  tags               = local.tags
}

module "controller" {
  source     = "./modules/ecs_service"
  depends_on = [terraform_data.migrate]

  name                 = "${var.name}-controller"
  image                = local.image
  command              = ["controller"]
  desired_count        = var.controller_count
  cpu                  = 512
  memory               = 1024
  stop_timeout         = 30
  health_check_command = ["CMD", "integramon", "controller", "--live"]
  environment = merge(local.environment, {
    INTEGRAMON_DB_POOL_SIZE    = tostring(var.controller_db_pool_size)
    INTEGRAMON_DB_MAX_OVERFLOW = tostring(var.controller_db_max_overflow)
  })
  secrets               = local.secrets
  task_role_policy_json = data.aws_iam_policy_document.controller.json
  kms_key_arn           = aws_kms_key.this.arn
  log_retention_days    = var.log_retention_days
  cluster_arn           = local.service_defaults.cluster_arn
  cluster_name          = local.service_defaults.cluster_name
  subnet_ids            = local.service_defaults.subnet_ids
  security_group_ids    = local.service_defaults.security_group_ids
  execution_role_arn    = local.service_defaults.execution_role_arn
  tags                  = local.tags
}

module "worker" {
  source     = "./modules/ecs_service"
  for_each   = var.worker_groups
  depends_on = [terraform_data.migrate]

  name                 = "${var.name}-worker-${each.key}"
  image                = local.image
  command              = ["worker", "--group", each.key]
  cpu                  = each.value.cpu
  memory               = each.value.memory
  desired_count        = each.value.min_count
  capacity_provider    = each.value.use_spot ? "FARGATE_SPOT" : "FARGATE"
  stop_timeout         = var.worker_stop_timeout
  health_check_command = ["CMD", "integramon", "worker-health", "--group", each.key]
  environment = merge(local.environment, {
    INTEGRAMON_DB_POOL_SIZE    = tostring(module.db_budget.worker_pools[each.key].size)
    INTEGRAMON_DB_MAX_OVERFLOW = tostring(module.db_budget.worker_pools[each.key].overflow)
  })
  secrets               = local.secrets
  task_role_policy_json = data.aws_iam_policy_document.worker[each.key].json
  kms_key_arn           = aws_kms_key.this.arn
  log_retention_days    = var.log_retention_days
  cluster_arn           = local.service_defaults.cluster_arn
  cluster_name          = local.service_defaults.cluster_name
  subnet_ids            = local.service_defaults.subnet_ids
  security_group_ids    = local.service_defaults.security_group_ids
  execution_role_arn    = local.service_defaults.execution_role_arn
  tags                  = merge(local.tags, { WorkerGroup = each.key, Concurrency = tostring(each.value.concurrency) })

  autoscaling = {
    min_count         = each.value.min_count
    max_count         = each.value.max_count
    metric_namespace  = var.cloudwatch_namespace
    metric_name       = var.autoscaling_metric == "DesiredWorkers" ? "DesiredWorkers" : var.ready_jobs_metric_name
    metric_dimensions = { WorkerGroup = each.key }
    # DesiredWorkers already divides the backlog by what a task keeps up with (and is capped while CPI,
    # the database or Redis is the limit): desired / running tasks is kept at 1.
    target_backlog_per_task = var.autoscaling_metric == "DesiredWorkers" ? 1 : coalesce(each.value.target_backlog_per_task, each.value.concurrency * var.backlog_per_slot)
  }
}

# ---- alarms and the dashboard ----

module "monitoring" {
  source = "./modules/monitoring"

  name                       = var.name
  namespace                  = var.cloudwatch_namespace
  ready_metric_name          = var.ready_jobs_metric_name
  worker_groups              = keys(var.worker_groups)
  worker_services            = [for group in keys(var.worker_groups) : "${var.name}-worker-${group}"]
  cluster_name               = module.ecs_cluster.cluster_name
  redis_replication_group_id = module.redis.replication_group_id
  redis_node_count           = module.redis.node_count
  db_instance_id             = module.postgres.instance_id
  db_max_connections         = module.db_budget.max_connections
  alb_arn_suffix             = module.alb.arn_suffix
  alarm_actions              = var.alarm_actions
  oldest_ready_age_seconds   = var.oldest_ready_age_alarm_seconds
  tags                       = local.tags
}
