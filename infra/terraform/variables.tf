variable "name" {
  description = "Prefix of every resource name (cluster, services, data stores)."
  type        = string
  default     = "integramon"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,14}$", var.name))
    error_message = "name must be 2-15 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "image" {
  description = "The IntegraMon image (built from the repository's Dockerfile and pushed to ECR), e.g. 123456789012.dkr.ecr.eu-central-1.amazonaws.com/integramon:1.0.0."
  type        = string

  validation {
    condition     = length(trimspace(var.image)) > 0 && !endswith(var.image, ":latest")
    error_message = "image must name a pinned tag or digest, not :latest (every service must run the same build)."
  }
}

# ---- network (inputs: this module creates no VPC) ----

variable "vpc_id" {
  description = "VPC to deploy into."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets (with NAT egress to the CPI tenants) for tasks and data stores, in at least two AZs."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) >= 2
    error_message = "private_subnet_ids needs subnets in at least two availability zones."
  }
}

variable "public_subnet_ids" {
  description = "Public subnets for an internet-facing load balancer (alb_internal = false); unused otherwise."
  type        = list(string)
  default     = []
}

# ---- admin API ----

variable "alb_internal" {
  description = "True keeps the admin API load balancer internal to the VPC."
  type        = bool
  default     = true
}

variable "alb_ingress_cidrs" {
  description = "CIDR blocks that may reach the admin API load balancer."
  type        = list(string)
  default     = ["10.0.0.0/8"]
}

variable "certificate_arn" {
  description = "ACM certificate for HTTPS on the load balancer; null serves HTTP only (acceptable on an internal ALB)."
  type        = string
  default     = null
}

variable "alb_access_logs_bucket" {
  description = "Existing S3 bucket for ALB access logs; null for none."
  type        = string
  default     = null
}

variable "api_count" {
  description = "Admin API tasks (stateless; two survive the loss of one AZ)."
  type        = number
  default     = 2

  validation {
    condition     = var.api_count >= 1 && var.api_count <= 20
    error_message = "api_count must be between 1 and 20."
  }
}

variable "controller_count" {
  description = "Controller tasks: one leader, the rest standbys that take over within the controller lease."
  type        = number
  default     = 1

  validation {
    condition     = var.controller_count >= 1 && var.controller_count <= 3
    error_message = "controller_count must be 1, 2 or 3."
  }
}

# ---- workers ----

variable "worker_groups" {
  description = <<-EOT
    One Fargate service per worker group (the catalog's groups; `integramon catalog`). concurrency is the
    group's concurrency per task in the active tuning profile (balanced by default) and sets the
    autoscaling target: backlog per task = concurrency x backlog_per_slot unless target_backlog_per_task
    is given. Tasks scale between min_count and max_count.
  EOT
  type = map(object({
    concurrency             = number
    min_count               = optional(number, 1)
    max_count               = optional(number, 4)
    cpu                     = optional(number, 256)
    memory                  = optional(number, 512)
    target_backlog_per_task = optional(number)
    use_spot                = optional(bool, false)
  }))
  default = {
    "light"                         = { concurrency = 2 }
    "light-cold"                    = { concurrency = 2 }
    "api-details"                   = { concurrency = 3 }
    "api-details-cold"              = { concurrency = 2 }
    "alert-details"                 = { concurrency = 1 }
    "alerts"                        = { concurrency = 1, max_count = 2 }
    "periodic"                      = { concurrency = 1, max_count = 2 }
    "ai"                            = { concurrency = 1, max_count = 2 }
    "messagelog-process-batch"      = { concurrency = 2 }
    "messagelog-process-batch-cold" = { concurrency = 2 }
    "medium"                        = { concurrency = 2, memory = 1024 }
  }

  validation {
    condition     = length(var.worker_groups) > 0
    error_message = "worker_groups must list at least one group."
  }

  validation {
    condition     = alltrue([for group in keys(var.worker_groups) : can(regex("^[a-z][a-z0-9-]{0,39}$", group))])
    error_message = "worker group names are lower-case letters, digits and hyphens (as in the catalog), at most 40 characters."
  }

  validation {
    condition = alltrue([for g in values(var.worker_groups) :
    g.concurrency >= 1 && g.concurrency <= 64 && floor(g.concurrency) == g.concurrency])
    error_message = "concurrency must be a whole number between 1 and 64."
  }

  validation {
    condition     = alltrue([for g in values(var.worker_groups) : g.min_count >= 1 && g.max_count >= g.min_count && g.max_count <= 50])
    error_message = "each group needs 1 <= min_count <= max_count <= 50 (backlog per task cannot scale up from zero tasks)."
  }

  validation {
    condition = alltrue([for g in values(var.worker_groups) :
    contains([256, 512, 1024, 2048, 4096], g.cpu) && g.memory >= 2 * g.cpu && g.memory <= 8 * g.cpu])
    error_message = "cpu must be a Fargate size (256..4096) and memory between 2x and 8x the cpu units."
  }

  validation {
    condition     = alltrue([for g in values(var.worker_groups) : g.target_backlog_per_task == null || try(g.target_backlog_per_task > 0, false)])
    error_message = "target_backlog_per_task must be positive when set."
  }
}

variable "backlog_per_slot" {
  description = "Ready jobs per concurrency slot a worker task may have queued before the group scales out."
  type        = number
  default     = 5

  validation {
    condition     = var.backlog_per_slot > 0
    error_message = "backlog_per_slot must be positive."
  }
}

variable "worker_stop_timeout" {
  description = "Seconds between SIGTERM and SIGKILL for workers; keep above INTEGRAMON_SHUTDOWN_GRACE_SECONDS (25 s)."
  type        = number
  default     = 40

  validation {
    condition     = var.worker_stop_timeout > 25 && var.worker_stop_timeout <= 120
    error_message = "worker_stop_timeout must exceed the 25 s shutdown grace and be at most 120 s (Fargate)."
  }
}

variable "cloudwatch_namespace" {
  description = "INTEGRAMON_CLOUDWATCH_NAMESPACE: where the controller publishes per-group ready jobs."
  type        = string
  default     = "IntegraMon"

  validation {
    condition     = length(var.cloudwatch_namespace) > 0 && !startswith(var.cloudwatch_namespace, "AWS/")
    error_message = "cloudwatch_namespace must be non-empty and not start with AWS/."
  }
}

variable "ready_jobs_metric_name" {
  description = "Name of the controller's ready-jobs metric (dimension WorkerGroup = the group)."
  type        = string
  default     = "ReadyJobs"
}

# ---- data stores ----

variable "db_instance_class" {
  description = "RDS PostgreSQL instance class."
  type        = string
  default     = "db.t4g.small"
}

variable "db_multi_az" {
  description = "Standby database in a second AZ."
  type        = bool
  default     = true
}

variable "redis_node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.t4g.small"
}

variable "redis_replicas" {
  description = "Redis replicas besides the primary (1 to 5; automatic failover is always on)."
  type        = number
  default     = 1
}

variable "mq_instance_type" {
  description = "Amazon MQ broker instance type."
  type        = string
  default     = "mq.t3.micro"
}

variable "mq_deployment_mode" {
  description = "Amazon MQ deployment: SINGLE_INSTANCE or CLUSTER_MULTI_AZ."
  type        = string
  default     = "SINGLE_INSTANCE"
}

variable "archive_bucket_name" {
  description = "Name of the S3 archive bucket; null derives <name>-archive-<account id>."
  type        = string
  default     = null
}

variable "archive_expire_after_days" {
  description = "Days after which archives are deleted (0 keeps them)."
  type        = number
  default     = 730
}

# ---- runtime ----

variable "log_level" {
  description = "INTEGRAMON_LOG_LEVEL of every task."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

variable "settings" {
  description = "Further INTEGRAMON_* settings for every task (see the README settings table), e.g. INTEGRAMON_STALE_QUEUE_MINUTES."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for key in keys(var.settings) : can(regex("^INTEGRAMON_[A-Z0-9_]+$", key))])
    error_message = "settings keys must be INTEGRAMON_* variable names."
  }

  validation {
    condition = length(setintersection(keys(var.settings), [
      "INTEGRAMON_DATABASE_URL", "INTEGRAMON_REDIS_URL", "INTEGRAMON_RABBITMQ_URL", "INTEGRAMON_SECRET_KEY",
      "INTEGRAMON_LLM_API_KEY", "INTEGRAMON_S3_BUCKET", "INTEGRAMON_CLOUDWATCH_NAMESPACE",
    ])) == 0
    error_message = "connection settings and secrets are managed by this module; do not set them in settings."
  }
}

variable "llm_api_key_secret_arn" {
  description = "Secrets Manager secret holding INTEGRAMON_LLM_API_KEY (plain string); null for none."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the logs of every service."
  type        = number
  default     = 365
}

variable "deletion_protection" {
  description = "Protect the database and load balancer from deletion."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
