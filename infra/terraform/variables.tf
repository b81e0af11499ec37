variable "name" {
  description = "Prefix of every resource name (cluster, services, data stores)."
  type        = string
  default     = "integramon"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,14}$", var.name))
    error_message = "name must be 2-15 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "image_tag" {
  description = "Tag of the IntegraMon image in the ECR repository this module creates (output ecr_repository_url), e.g. 1.0.0."
  type        = string
  default     = null

  validation {
    condition     = var.image_tag == null || try(length(trimspace(var.image_tag)) > 0 && var.image_tag != "latest", false)
    error_message = "image_tag must be a pinned tag, not latest (every service must run the same build; the repository is immutable)."
  }
}

variable "image" {
  description = "Full image reference elsewhere than this module's repository (e.g. 123456789012.dkr.ecr.eu-central-1.amazonaws.com/integramon:1.0.0); null uses image_tag."
  type        = string
  default     = null

  validation {
    condition     = (var.image == null) != (var.image_tag == null)
    error_message = "set exactly one of image_tag (the repository this module creates) or image."
  }

  validation {
    condition     = var.image == null || try(length(trimspace(var.image)) > 0 && !endswith(var.image, ":latest"), false)
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
  description = "ACM certificate for HTTPS on the load balancer; null serves HTTP only (accepted on an internal ALB only)."
  type        = string
  default     = null

  validation {
    condition     = var.alb_internal || var.certificate_arn != null
    error_message = "alb_internal = false needs certificate_arn: bearer tokens must not cross the internet unencrypted."
  }
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
    is given. Tasks scale between min_count and max_count. db_pool_size (default concurrency + 1) and
    db_max_overflow (default 1) bound each task's PostgreSQL connections (the budget check adds them up).
    archive_access is what the group's functions do with the S3 archive: none, read or read-write.
  EOT
  type = map(object({
    concurrency             = number
    min_count               = optional(number, 1)
    max_count               = optional(number, 4)
    cpu                     = optional(number, 256)
    memory                  = optional(number, 512)
    target_backlog_per_task = optional(number)
    use_spot                = optional(bool, false)
    db_pool_size            = optional(number)
    db_max_overflow         = optional(number, 1)
    archive_access          = optional(string, "none")
  }))
  default = {
    "light"                         = { concurrency = 2, archive_access = "read-write" }
    "light-cold"                    = { concurrency = 2 }
    "api-details"                   = { concurrency = 3, archive_access = "read-write" }
    "api-details-cold"              = { concurrency = 2 }
    "alert-details"                 = { concurrency = 1 }
    "alerts"                        = { concurrency = 1, max_count = 2 }
    "periodic"                      = { concurrency = 1, max_count = 2, archive_access = "read" }
    "ai"                            = { concurrency = 1, max_count = 2 }
    "messagelog-process-batch"      = { concurrency = 2 }
    "messagelog-process-batch-cold" = { concurrency = 2 }
    "medium"                        = { concurrency = 2, memory = 1024, archive_access = "read-write" }
  }

  validation {
    condition     = alltrue([for g in values(var.worker_groups) : contains(["none", "read", "read-write"], g.archive_access)])
    error_message = "archive_access must be none, read or read-write."
  }

  validation {
    condition = alltrue([for g in values(var.worker_groups) :
    (g.db_pool_size == null || try(g.db_pool_size >= 1, false)) && g.db_max_overflow >= 0])
    error_message = "db_pool_size must be at least 1 when set and db_max_overflow at least 0."
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

variable "autoscaling_metric" {
  description = <<-EOT
    What worker groups scale on. DesiredWorkers (default): the controller's per-group count, the ready backlog
    over concurrency x backlog_per_slot, capped at the running tasks while CPI throttles, the database is
    write-bound or Redis is busy (backpressure: more tasks would only press harder on that limit).
    ReadyJobs: plain backlog per task against concurrency x backlog_per_slot.
  EOT
  type        = string
  default     = "DesiredWorkers"

  validation {
    condition     = contains(["DesiredWorkers", "ReadyJobs"], var.autoscaling_metric)
    error_message = "autoscaling_metric must be DesiredWorkers or ReadyJobs."
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
  description = "Name of the controller's per-group metric that target tracking follows (INTEGRAMON_CLOUDWATCH_READY_METRIC, dimension WorkerGroup)."
  type        = string
  default     = "ReadyJobs"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_.-]{0,254}$", var.ready_jobs_metric_name))
    error_message = "ready_jobs_metric_name must be a CloudWatch metric name (letters, digits, _ . -)."
  }
}

# ---- data stores ----

variable "db_instance_class" {
  description = "RDS PostgreSQL instance class; its max_connections must hold the worst case of every pool (docs/sizing.md)."
  type        = string
  default     = "db.t4g.small"
}

variable "db_max_connections" {
  description = "max_connections of the database when not the RDS default of db_instance_class; null derives it from the class."
  type        = number
  default     = null
}

variable "db_backup_window" {
  description = "Daily UTC window of automated database backups (must not overlap db_maintenance_window)."
  type        = string
  default     = "01:00-02:00"
}

variable "db_maintenance_window" {
  description = "Weekly UTC maintenance window of the database."
  type        = string
  default     = "sun:03:00-sun:04:00"
}

variable "db_app_role" {
  description = "Database role the services log in as (DML rights only), created by the migrate task."
  type        = string
  default     = "integramon_app"
}

variable "db_app_password_version" {
  description = "Bump to generate a new password for db_app_role; the next apply writes it and re-runs the migrate task, which sets it (docs/aws.md)."
  type        = number
  default     = 1
}

variable "api_db_pool_size" {
  description = "INTEGRAMON_DB_POOL_SIZE of each admin API task."
  type        = number
  default     = 5
}

variable "api_db_max_overflow" {
  description = "INTEGRAMON_DB_MAX_OVERFLOW of each admin API task."
  type        = number
  default     = 5
}

variable "controller_db_pool_size" {
  description = "INTEGRAMON_DB_POOL_SIZE of each controller task (standbys connect too)."
  type        = number
  default     = 3
}

variable "controller_db_max_overflow" {
  description = "INTEGRAMON_DB_MAX_OVERFLOW of each controller task."
  type        = number
  default     = 2
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

variable "archive_glacier_after_days" {
  description = "Days after which archives move to Glacier Instant Retrieval (at least 60: 30 in Standard, 30 in Standard-IA)."
  type        = number
  default     = 180

  validation {
    condition     = var.archive_glacier_after_days >= 60
    error_message = "archive_glacier_after_days must be at least 60 (objects spend 30 days in Standard and 30 in Standard-IA first)."
  }
}

variable "archive_expire_after_days" {
  description = "Days after which archives are deleted (0 keeps them); must be later than archive_glacier_after_days."
  type        = number
  default     = 730

  validation {
    condition     = var.archive_expire_after_days == 0 || var.archive_expire_after_days > var.archive_glacier_after_days
    error_message = "archive_expire_after_days must be 0 (keep) or later than archive_glacier_after_days."
  }
}

variable "run_migrations" {
  description = "Run the migrate task as a gated step of every apply that changes it (needs the AWS CLI where terraform runs); false leaves it to you (output run_migrations_command) before the services update."
  type        = bool
  default     = true
}

# ---- network egress, alarms ----

variable "extra_egress" {
  description = "Outbound rules besides HTTPS and the data stores: SMTP relays, CPI or LLM endpoints on other ports (see modules/network)."
  type = list(object({
    description = string
    from_port   = number
    to_port     = optional(number)
    protocol    = optional(string, "tcp")
    cidr_blocks = list(string)
  }))
  default = []
}

variable "alarm_actions" {
  description = "ARNs (e.g. an SNS topic) notified when an alarm fires or clears."
  type        = list(string)
  default     = []
}

variable "oldest_ready_age_alarm_seconds" {
  description = "Alarm when a worker group's oldest ready job waited longer than this for 5 minutes."
  type        = number
  default     = 900
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
      "INTEGRAMON_CLOUDWATCH_READY_METRIC", "INTEGRAMON_DATABASE_PASSWORD", "INTEGRAMON_DB_APP_ROLE",
      "INTEGRAMON_DB_APP_PASSWORD", "INTEGRAMON_DB_POOL_SIZE", "INTEGRAMON_DB_MAX_OVERFLOW",
    ])) == 0
    error_message = "connection settings, secrets and pool sizes are managed by this module; do not set them in settings."
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
