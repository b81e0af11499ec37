variable "name" {
  description = "Replication group id (at most 40 characters)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,39}$", var.name))
    error_message = "name must be 2-40 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "subnet_ids" {
  description = "Private subnets of the cache nodes."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the cache nodes."
  type        = list(string)
}

variable "node_type" {
  description = "ElastiCache node type; Redis memory holds queued jobs, results and heartbeats (see README Sizing)."
  type        = string
  default     = "cache.t4g.small"

  validation {
    condition     = startswith(var.node_type, "cache.")
    error_message = "node_type must be an ElastiCache node type such as cache.t4g.small."
  }
}

variable "replicas" {
  description = "Replicas besides the primary (at least one: automatic failover across AZs keeps the queues up)."
  type        = number
  default     = 1

  validation {
    condition     = var.replicas >= 1 && var.replicas <= 5
    error_message = "replicas must be between 1 and 5 (a lone node loses the queues on failure)."
  }
}

variable "engine_version" {
  description = "Redis OSS engine version."
  type        = string
  default     = "7.1"
}

variable "kms_key_arn" {
  description = "KMS key for encryption at rest and the slow log."
  type        = string
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the Redis slow log."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
