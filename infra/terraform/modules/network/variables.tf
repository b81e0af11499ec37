variable "name" {
  description = "Name prefix of the security groups."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name must be 2-31 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "vpc_id" {
  description = "VPC that holds every IntegraMon resource (the network is an input: this module creates no VPC)."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must look like vpc-0123abcd."
  }
}

variable "alb_ingress_cidrs" {
  description = "CIDR blocks allowed to reach the admin API load balancer on ports 80/443."
  type        = list(string)

  validation {
    condition     = length(var.alb_ingress_cidrs) > 0 && alltrue([for c in var.alb_ingress_cidrs : can(cidrhost(c, 0))])
    error_message = "alb_ingress_cidrs must be a non-empty list of CIDR blocks."
  }
}

variable "api_port" {
  description = "Port the admin API container listens on (INTEGRAMON_API_PORT)."
  type        = number
  default     = 8000

  validation {
    condition     = var.api_port > 0 && var.api_port < 65536
    error_message = "api_port must be a TCP port."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
