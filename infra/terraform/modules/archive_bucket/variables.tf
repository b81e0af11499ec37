variable "name" {
  description = "Globally unique bucket name."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.name))
    error_message = "name must be a valid S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)."
  }
}

variable "kms_key_arn" {
  description = "KMS key that encrypts every object (SSE-KMS with a bucket key)."
  type        = string
}

variable "infrequent_access_after_days" {
  description = "Days after which archived CPI days move to STANDARD_IA (they are rarely read again)."
  type        = number
  default     = 30

  validation {
    condition     = var.infrequent_access_after_days >= 30
    error_message = "S3 allows STANDARD_IA transitions after 30 days at the earliest."
  }
}

variable "glacier_after_days" {
  description = "Days after which objects move to GLACIER_IR (instant retrieval)."
  type        = number
  default     = 180

  validation {
    condition     = var.glacier_after_days >= var.infrequent_access_after_days + 30
    error_message = "glacier_after_days must be at least 30 days after infrequent_access_after_days (S3 keeps objects 30 days in STANDARD_IA before a further transition)."
  }
}

variable "expire_after_days" {
  description = "Days after which archives are deleted; 0 keeps them forever."
  type        = number
  default     = 730

  validation {
    condition     = var.expire_after_days == 0 || var.expire_after_days >= 1
    error_message = "expire_after_days must be 0 (keep) or a positive number of days."
  }

  # S3 rejects a rule whose expiration is not after its transitions, at apply time; fail at plan.
  validation {
    condition     = var.expire_after_days == 0 || var.expire_after_days > var.glacier_after_days
    error_message = "expire_after_days must be 0 (keep) or later than glacier_after_days (an object cannot expire before it moves to Glacier)."
  }
}

variable "force_destroy" {
  description = "Allow `terraform destroy` to delete a bucket that still holds archives."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
