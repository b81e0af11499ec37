# IntegraMon Runtime on AWS: one Fargate service per worker group (from var.worker_groups), the
# controller (which also runs the migrations before it starts), the admin API behind an ALB,
# RDS PostgreSQL, ElastiCache Redis (cluster mode off), Amazon MQ for RabbitMQ, the S3 archive and
# CloudWatch logs. Worker groups scale on the controller's ready-jobs metric as backlog per task.
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

  # Settings every task shares; connection URLs and keys come from the runtime secret below.
  environment = merge(var.settings, {
    INTEGRAMON_DATA_DIR             = "/var/lib/integramon"
    INTEGRAMON_API_HOST             = "0.0.0.0"
    INTEGRAMON_API_PORT             = tostring(local.api_port)
    INTEGRAMON_LOG_LEVEL            = var.log_level
    INTEGRAMON_S3_BUCKET            = module.archive_bucket.name
    INTEGRAMON_S3_REGION            = local.region
    INTEGRAMON_CLOUDWATCH_NAMESPACE = var.cloudwatch_namespace
  })
  secrets = merge(
    {
      INTEGRAMON_DATABASE_URL = "${aws_secretsmanager_secret.this.arn}:database_url::"
      INTEGRAMON_REDIS_URL    = "${aws_secretsmanager_secret.this.arn}:redis_url::"
      INTEGRAMON_RABBITMQ_URL = "${aws_secretsmanager_secret.this.arn}:rabbitmq_url::"
      INTEGRAMON_SECRET_KEY   = "${aws_secretsmanager_secret.this.arn}:secret_key::"
    },
    var.llm_api_key_secret_arn == null ? {} : { INTEGRAMON_LLM_API_KEY = var.llm_api_key_secret_arn },
  )
  secret_arns = compact([aws_secretsmanager_secret.this.arn, var.llm_api_key_secret_arn])

  # Arguments every ECS service shares.
  service_defaults = {
    cluster_arn        = module.ecs_cluster.cluster_arn
    cluster_name       = module.ecs_cluster.cluster_name
    subnet_ids         = var.private_subnet_ids
    security_group_ids = [module.network.tasks_security_group_id]
    execution_role_arn = module.ecs_cluster.execution_role_arn
    task_role_arn      = module.ecs_cluster.task_role_arn
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
  tags              = local.tags
}

module "postgres" {
  source = "./modules/postgres"

  name                = "${var.name}-db"
  subnet_ids          = var.private_subnet_ids
  security_group_ids  = [module.network.data_security_group_id]
  instance_class      = var.db_instance_class
  multi_az            = var.db_multi_az
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

  name              = local.bucket_name
  kms_key_arn       = aws_kms_key.this.arn
  expire_after_days = var.archive_expire_after_days
  tags              = local.tags
}

# ---- runtime secret: the connection URLs and the Fernet key, injected into every task ----

resource "random_id" "secret_key" {
  byte_length = 32
}

resource "aws_secretsmanager_secret" "this" {
  # checkov:skip=CKV2_AWS_57: the values derive from the data stores' generated credentials; rotate them by re-applying, not by a Lambda
  name_prefix             = "${var.name}-runtime-"
  description             = "IntegraMon connection URLs and secret key (INTEGRAMON_*), read by the ECS tasks"
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = 7
  tags                    = local.tags
}

resource "aws_secretsmanager_secret_version" "this" {
  secret_id = aws_secretsmanager_secret.this.id
  secret_string = jsonencode({
    database_url = module.postgres.url
    redis_url    = module.redis.url
    rabbitmq_url = module.rabbitmq.url
    # Fernet wants url-safe base64 of 32 bytes WITH its padding; random_id leaves the padding off.
    secret_key = "${random_id.secret_key.b64_url}="
  })
}

# ---- ECS: cluster, admin API, controller, migrations, one service per worker group ----

module "ecs_cluster" {
  source = "./modules/ecs_cluster"

  name                 = var.name
  kms_key_arn          = aws_kms_key.this.arn
  secret_arns          = local.secret_arns
  archive_bucket_arn   = module.archive_bucket.arn
  cloudwatch_namespace = var.cloudwatch_namespace
  tags                 = local.tags
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

module "api" {
  source = "./modules/ecs_service"

  name               = "${var.name}-api"
  image              = var.image
  command            = ["api"]
  port               = local.api_port
  target_group_arn   = module.alb.target_group_arn
  desired_count      = var.api_count
  cpu                = 512
  memory             = 1024
  stop_timeout       = 30
  environment        = local.environment
  secrets            = local.secrets
  kms_key_arn        = aws_kms_key.this.arn
  log_retention_days = var.log_retention_days
  cluster_arn        = local.service_defaults.cluster_arn
  cluster_name       = local.service_defaults.cluster_name
  subnet_ids         = local.service_defaults.subnet_ids
  security_group_ids = local.service_defaults.security_group_ids
  execution_role_arn = local.service_defaults.execution_role_arn
  task_role_arn      = local.service_defaults.task_role_arn
  tags               = local.tags
}

# The controller task runs `integramon migrate` first (an init container that must exit 0), so a
# new release migrates before its controller starts; workers and the API retry until it is done.
module "controller" {
  source = "./modules/ecs_service"

  name               = "${var.name}-controller"
  image              = var.image
  command            = ["controller"]
  init_command       = ["migrate"]
  desired_count      = var.controller_count
  cpu                = 512
  memory             = 1024
  stop_timeout       = 30
  environment        = local.environment
  secrets            = local.secrets
  kms_key_arn        = aws_kms_key.this.arn
  log_retention_days = var.log_retention_days
  cluster_arn        = local.service_defaults.cluster_arn
  cluster_name       = local.service_defaults.cluster_name
  subnet_ids         = local.service_defaults.subnet_ids
  security_group_ids = local.service_defaults.security_group_ids
  execution_role_arn = local.service_defaults.execution_role_arn
  task_role_arn      = local.service_defaults.task_role_arn
  tags               = local.tags
}

# Task definition only: `aws ecs run-task` it (output run_migrations_command) before a rollout.
module "migrate" {
  source = "./modules/ecs_service"

  name                 = "${var.name}-migrate"
  image                = var.image
  command              = ["migrate"]
  create_service       = false
  health_check_command = null
  environment          = local.environment
  secrets              = local.secrets
  kms_key_arn          = aws_kms_key.this.arn
  log_retention_days   = var.log_retention_days
  cluster_arn          = local.service_defaults.cluster_arn
  cluster_name         = local.service_defaults.cluster_name
  subnet_ids           = local.service_defaults.subnet_ids
  security_group_ids   = local.service_defaults.security_group_ids
  execution_role_arn   = local.service_defaults.execution_role_arn
  task_role_arn        = local.service_defaults.task_role_arn
  tags                 = local.tags
}

module "worker" {
  source   = "./modules/ecs_service"
  for_each = var.worker_groups

  name               = "${var.name}-worker-${each.key}"
  image              = var.image
  command            = ["worker", "--group", each.key]
  cpu                = each.value.cpu
  memory             = each.value.memory
  desired_count      = each.value.min_count
  capacity_provider  = each.value.use_spot ? "FARGATE_SPOT" : "FARGATE"
  stop_timeout       = var.worker_stop_timeout
  environment        = local.environment
  secrets            = local.secrets
  kms_key_arn        = aws_kms_key.this.arn
  log_retention_days = var.log_retention_days
  cluster_arn        = local.service_defaults.cluster_arn
  cluster_name       = local.service_defaults.cluster_name
  subnet_ids         = local.service_defaults.subnet_ids
  security_group_ids = local.service_defaults.security_group_ids
  execution_role_arn = local.service_defaults.execution_role_arn
  task_role_arn      = local.service_defaults.task_role_arn
  tags               = merge(local.tags, { WorkerGroup = each.key, Concurrency = tostring(each.value.concurrency) })

  autoscaling = {
    min_count               = each.value.min_count
    max_count               = each.value.max_count
    metric_namespace        = var.cloudwatch_namespace
    metric_name             = var.ready_jobs_metric_name
    metric_dimensions       = { WorkerGroup = each.key }
    target_backlog_per_task = coalesce(each.value.target_backlog_per_task, each.value.concurrency * var.backlog_per_slot)
  }
}
