variable "name" {
  description = "Prefix of the alarm names and name of the dashboard."
  type        = string
}

variable "namespace" {
  description = "CloudWatch namespace the controller publishes to (INTEGRAMON_CLOUDWATCH_NAMESPACE)."
  type        = string
}

variable "ready_metric_name" {
  description = "Name of the per-group ready-jobs metric (INTEGRAMON_CLOUDWATCH_READY_METRIC)."
  type        = string
}

variable "worker_groups" {
  description = "Worker group names (one age alarm and one dashboard line each)."
  type        = list(string)
}

variable "worker_services" {
  description = "ECS service names of the worker groups (running task counts on the dashboard)."
  type        = list(string)
}

variable "cluster_name" {
  description = "ECS cluster name (Container Insights dimension)."
  type        = string
}

variable "redis_replication_group_id" {
  description = "ElastiCache replication group; its nodes are <id>-001, <id>-002, ..."
  type        = string
}

variable "redis_node_count" {
  description = "Nodes in the replication group (primary plus replicas)."
  type        = number
}

variable "db_instance_id" {
  description = "RDS instance identifier."
  type        = string
}

variable "db_max_connections" {
  description = "max_connections of the database (the connections alarm fires at db_connections_percent of it)."
  type        = number
}

variable "alb_arn_suffix" {
  description = "ARN suffix of the admin API load balancer."
  type        = string
}

variable "alarm_actions" {
  description = "ARNs notified when an alarm fires or clears (e.g. an SNS topic); empty keeps the alarms silent on the console."
  type        = list(string)
  default     = []
}

variable "oldest_ready_age_seconds" {
  description = "Alarm when a group's oldest ready job waited longer than this for 5 minutes."
  type        = number
  default     = 900

  validation {
    condition     = var.oldest_ready_age_seconds > 0
    error_message = "oldest_ready_age_seconds must be positive."
  }
}

variable "outbox_backlog_threshold" {
  description = "Alarm when more events than this wait in the outbox for 15 minutes."
  type        = number
  default     = 1000
}

variable "redis_memory_percent" {
  description = "Alarm when a Redis node uses more memory than this percentage."
  type        = number
  default     = 80

  validation {
    condition     = var.redis_memory_percent > 0 && var.redis_memory_percent < 100
    error_message = "redis_memory_percent must be between 0 and 100."
  }
}

variable "db_connections_percent" {
  description = "Alarm when PostgreSQL holds more than this percentage of max_connections."
  type        = number
  default     = 80

  validation {
    condition     = var.db_connections_percent > 0 && var.db_connections_percent <= 100
    error_message = "db_connections_percent must be between 1 and 100."
  }
}

variable "db_free_storage_gib" {
  description = "Alarm when PostgreSQL has less free storage than this (GiB)."
  type        = number
  default     = 5
}

variable "alb_5xx_threshold" {
  description = "Alarm when the admin API answers more 5xx than this in 5 minutes."
  type        = number
  default     = 10
}

variable "tags" {
  description = "Tags added to every alarm."
  type        = map(string)
  default     = {}
}
