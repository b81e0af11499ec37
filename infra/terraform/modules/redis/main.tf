# ElastiCache Redis with cluster mode OFF: arq has no Redis Cluster client, and its queues are
# sorted sets plus keys that multi-key commands touch together, which must live in one keyspace.
resource "random_password" "auth_token" {
  length  = 48
  special = false
}

resource "aws_elasticache_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

resource "aws_elasticache_parameter_group" "this" {
  name   = "${var.name}-params"
  family = "redis${split(".", var.engine_version)[0]}"
  tags   = var.tags

  parameter {
    name  = "cluster-enabled"
    value = "no"
  }

  # Evicting a key could drop a queued job or a lease: fail writes instead of losing work.
  parameter {
    name  = "maxmemory-policy"
    value = "noeviction"
  }
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/integramon/${var.name}/redis-slow-log"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id       = var.name
  description                = "IntegraMon arq queues, heartbeats and leases"
  engine                     = "redis"
  engine_version             = var.engine_version
  node_type                  = var.node_type
  port                       = 6379
  cluster_mode               = "disabled"
  num_cache_clusters         = var.replicas + 1
  automatic_failover_enabled = true
  multi_az_enabled           = true
  parameter_group_name       = aws_elasticache_parameter_group.this.name
  subnet_group_name          = aws_elasticache_subnet_group.this.name
  security_group_ids         = var.security_group_ids
  at_rest_encryption_enabled = true
  kms_key_id                 = var.kms_key_arn
  transit_encryption_enabled = true
  auth_token                 = random_password.auth_token.result
  auto_minor_version_upgrade = true
  snapshot_retention_limit   = 7
  apply_immediately          = false
  tags                       = var.tags

  log_delivery_configuration {
    destination      = aws_cloudwatch_log_group.this.name
    destination_type = "cloudwatch-logs"
    log_format       = "json"
    log_type         = "slow-log"
  }
}
