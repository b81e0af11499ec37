variable "name" {
  description = "Name of the ECS cluster and prefix of its IAM roles."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name must be 2-31 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the secrets, logs and archive bucket the tasks read and write."
  type        = string
}

variable "secret_arns" {
  description = "Secrets Manager secrets the task execution role may read to inject into containers."
  type        = list(string)

  validation {
    condition     = length(var.secret_arns) > 0
    error_message = "secret_arns must name at least the runtime secret."
  }
}

variable "migrate_secret_arns" {
  description = "Further secrets only the migrate task's execution role may read (the RDS-managed master credentials)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
