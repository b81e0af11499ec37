variable "name" {
  description = "Identifier of the DB instance."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,62}$", var.name))
    error_message = "name must be 2-63 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "subnet_ids" {
  description = "Private subnets of the database (at least two AZs)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "RDS needs subnets in at least two availability zones."
  }
}

variable "security_group_ids" {
  description = "Security groups of the database."
  type        = list(string)
}

variable "instance_class" {
  description = "RDS instance class; the run ledger makes PostgreSQL write-heavy (see README Sizing)."
  type        = string
  default     = "db.t4g.small"

  validation {
    condition     = startswith(var.instance_class, "db.")
    error_message = "instance_class must be an RDS class such as db.t4g.small."
  }
}

variable "engine_version" {
  description = "PostgreSQL major version (minor upgrades are applied automatically)."
  type        = string
  default     = "17"
}

variable "allocated_storage_gb" {
  description = "Initial storage in GiB; storage autoscaling grows it up to max_allocated_storage_gb."
  type        = number
  default     = 20

  validation {
    condition     = var.allocated_storage_gb >= 20
    error_message = "allocated_storage_gb must be at least 20."
  }
}

variable "max_allocated_storage_gb" {
  description = "Upper bound of storage autoscaling in GiB."
  type        = number
  default     = 200
}

variable "multi_az" {
  description = "Standby in a second AZ (about doubles the database cost)."
  type        = bool
  default     = true
}

variable "backup_retention_days" {
  description = "Days of automated backups."
  type        = number
  default     = 7

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be between 1 and 35."
  }
}

variable "backup_window" {
  description = "Daily UTC window of automated backups (hh24:mi-hh24:mi, at least 30 minutes, not overlapping maintenance_window)."
  type        = string
  default     = "01:00-02:00"

  validation {
    condition     = can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$", var.backup_window))
    error_message = "backup_window must look like 01:00-02:00 (UTC)."
  }
}

variable "maintenance_window" {
  description = "Weekly UTC maintenance window (ddd:hh24:mi-ddd:hh24:mi), e.g. sun:03:00-sun:04:00."
  type        = string
  default     = "sun:03:00-sun:04:00"

  validation {
    condition     = can(regex("^(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]-(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]$", var.maintenance_window))
    error_message = "maintenance_window must look like sun:03:00-sun:04:00 (UTC)."
  }
}

variable "app_role" {
  description = "Login role of the services (INTEGRAMON_DB_APP_ROLE), created with DML rights only by `integramon migrate`."
  type        = string
  default     = "integramon_app"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.app_role)) && var.app_role != "integramon_admin"
    error_message = "app_role must be a lower-case PostgreSQL identifier other than the master user integramon_admin."
  }
}

variable "ca_bundle_path" {
  description = "Path of the RDS CA bundle inside the image (sslrootcert); the Dockerfile copies infra/image/certs/ there."
  type        = string
  default     = "/etc/integramon/certs/rds-global-bundle.pem"

  validation {
    condition     = startswith(var.ca_bundle_path, "/")
    error_message = "ca_bundle_path must be an absolute path inside the image."
  }
}

variable "deletion_protection" {
  description = "Protect the database from deletion (turn off before `terraform destroy`)."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "KMS key for storage, Performance Insights and the credentials secret."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
