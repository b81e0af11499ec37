variable "name" {
  description = "Name of the load balancer and its target group (at most 26 characters)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,25}$", var.name))
    error_message = "name must be 2-26 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "vpc_id" {
  description = "VPC of the target group."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets of the load balancer (public ones for an internet-facing ALB), in at least two AZs."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "An ALB needs subnets in at least two availability zones."
  }
}

variable "security_group_ids" {
  description = "Security groups of the load balancer."
  type        = list(string)
}

variable "internal" {
  description = "True keeps the admin API reachable from inside the VPC (and peered networks) only."
  type        = bool
  default     = true
}

variable "certificate_arn" {
  description = "ACM certificate for HTTPS; with it, HTTP redirects to HTTPS. Null serves plain HTTP (internal ALB only)."
  type        = string
  default     = null

  # Bearer tokens and console sessions travel in every request: never in clear text over the internet.
  validation {
    condition     = var.internal || var.certificate_arn != null
    error_message = "an internet-facing load balancer (internal = false) needs certificate_arn: tokens must not cross the internet unencrypted."
  }
}

variable "target_port" {
  description = "Admin API container port."
  type        = number
  default     = 8000
}

variable "health_check_path" {
  description = "Liveness path of the admin API."
  type        = string
  default     = "/health/live"

  validation {
    condition     = startswith(var.health_check_path, "/")
    error_message = "health_check_path must start with /."
  }
}

variable "deletion_protection" {
  description = "Protect the load balancer from deletion (turn off before `terraform destroy`)."
  type        = bool
  default     = true
}

variable "access_logs_bucket" {
  description = "S3 bucket for ALB access logs (it needs the ELB log delivery policy); null for none."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
