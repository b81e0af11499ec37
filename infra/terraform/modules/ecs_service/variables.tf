variable "name" {
  description = "Service name inside the cluster, e.g. integramon-worker-light."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,62}$", var.name))
    error_message = "name must be 2-63 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "cluster_arn" {
  description = "ECS cluster the service runs in."
  type        = string
}

variable "cluster_name" {
  description = "Name of that cluster (autoscaling resource id, Container Insights dimension)."
  type        = string
}

variable "image" {
  description = "IntegraMon image (one image, every role)."
  type        = string
}

variable "command" {
  description = "Arguments after the image's `integramon` entrypoint that pick the role, e.g. [\"worker\", \"--group\", \"light\"]."
  type        = list(string)

  validation {
    condition     = try(contains(["worker", "controller", "api", "migrate", "simulator"], var.command[0]), false)
    error_message = "command must start with a role: worker, controller, api, migrate or simulator."
  }
}

variable "create_service" {
  description = "False registers the task definition only (for one-shot tasks started with `aws ecs run-task`)."
  type        = bool
  default     = true
}

variable "cpu" {
  description = "Fargate task CPU units."
  type        = number
  default     = 256

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096], var.cpu)
    error_message = "cpu must be a Fargate size: 256, 512, 1024, 2048 or 4096."
  }
}

variable "memory" {
  description = "Fargate task memory in MiB (must suit the CPU size)."
  type        = number
  default     = 512

  validation {
    condition     = var.memory >= 512 && var.memory <= 30720
    error_message = "memory must be between 512 and 30720 MiB."
  }
}

variable "desired_count" {
  description = "Tasks to run (the starting count when autoscaling is on)."
  type        = number
  default     = 1

  validation {
    condition     = var.desired_count >= 0
    error_message = "desired_count cannot be negative."
  }
}

variable "capacity_provider" {
  description = "FARGATE, or FARGATE_SPOT for interruption-tolerant work (jobs are re-queued on SIGTERM)."
  type        = string
  default     = "FARGATE"

  validation {
    condition     = contains(["FARGATE", "FARGATE_SPOT"], var.capacity_provider)
    error_message = "capacity_provider must be FARGATE or FARGATE_SPOT."
  }
}

variable "environment" {
  description = "Plain environment variables (INTEGRAMON_* settings that are not secret)."
  type        = map(string)
  default     = {}
}

variable "secrets" {
  description = "Environment variables read from Secrets Manager: name => secret ARN (optionally :json-key::)."
  type        = map(string)
  default     = {}
}

variable "subnet_ids" {
  description = "Private subnets of the tasks."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the tasks."
  type        = list(string)
}

variable "execution_role_arn" {
  description = "Task execution role (image pull, secrets, logs)."
  type        = string
}

variable "task_role_policy_json" {
  description = "IAM policy of this service's own task role (what its code may call); null gives a role without permissions."
  type        = string
  default     = null
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the log group."
  type        = string
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps this service's logs."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (e.g. 30, 90, 365)."
  }
}

variable "stop_timeout" {
  description = "Seconds between SIGTERM and SIGKILL; must exceed INTEGRAMON_SHUTDOWN_GRACE_SECONDS (25 s by default)."
  type        = number
  default     = 40

  validation {
    condition     = var.stop_timeout >= 2 && var.stop_timeout <= 120
    error_message = "stop_timeout must be between 2 and 120 seconds (the Fargate limit)."
  }
}

variable "health_check_command" {
  description = "Container LIVENESS check (ECS form, e.g. [\"CMD\", \"integramon\", \"controller\", \"--live\"]): a failing one makes ECS replace the task, so it must not depend on RabbitMQ, CloudWatch or other loops. Null for none."
  type        = list(string)
  default     = null

  validation {
    condition     = var.health_check_command == null || try(contains(["CMD", "CMD-SHELL"], var.health_check_command[0]), false)
    error_message = "health_check_command must start with CMD or CMD-SHELL."
  }
}

variable "health_check_start_period" {
  description = "Seconds after start during which failed health checks do not count."
  type        = number
  default     = 60
}

variable "port" {
  description = "Container port to expose (the admin API); null for none."
  type        = number
  default     = null
}

variable "target_group_arn" {
  description = "ALB target group to register the container port with; null for none."
  type        = string
  default     = null
}

variable "autoscaling" {
  description = <<-EOT
    Target tracking on backlog per task: metric (namespace, name, dimensions) divided by the service's
    running task count (Container Insights), kept near target_backlog_per_task. Null for a fixed count.
  EOT
  type = object({
    min_count               = number
    max_count               = number
    metric_namespace        = string
    metric_name             = string
    metric_dimensions       = map(string)
    target_backlog_per_task = number
    scale_in_cooldown       = optional(number, 300)
    scale_out_cooldown      = optional(number, 60)
  })
  default = null

  validation {
    condition = var.autoscaling == null || try(
      var.autoscaling.min_count >= 1 && var.autoscaling.max_count >= var.autoscaling.min_count && var.autoscaling.target_backlog_per_task > 0,
    false)
    error_message = "autoscaling needs 1 <= min_count <= max_count and a positive target_backlog_per_task."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
