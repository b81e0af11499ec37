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

variable "extra_egress" {
  description = <<-EOT
    Further outbound rules for the tasks besides HTTPS (443) and the data stores: SMTP relays, CPI or
    LLM endpoints on other ports. Each entry opens from_port..to_port (to_port defaults to from_port)
    over protocol (tcp by default) to the given CIDR blocks, e.g.
    { description = "SMTP relay", from_port = 587, cidr_blocks = ["10.20.0.25/32"] }.
  EOT
  type = list(object({
    description = string
    from_port   = number
    to_port     = optional(number)
    protocol    = optional(string, "tcp")
    cidr_blocks = list(string)
  }))
  default = []

  validation {
    condition = alltrue([for rule in var.extra_egress :
      rule.from_port >= 1 && coalesce(rule.to_port, rule.from_port) >= rule.from_port &&
    coalesce(rule.to_port, rule.from_port) <= 65535 && contains(["tcp", "udp"], rule.protocol)])
    error_message = "extra_egress: ports 1-65535 with to_port >= from_port, protocol tcp or udp."
  }

  validation {
    condition = alltrue([for rule in var.extra_egress :
    length(rule.cidr_blocks) > 0 && alltrue([for cidr in rule.cidr_blocks : can(cidrhost(cidr, 0))])])
    error_message = "extra_egress: every rule needs at least one valid CIDR block."
  }

  validation {
    condition     = alltrue([for rule in var.extra_egress : length(trimspace(rule.description)) > 0])
    error_message = "extra_egress: every rule needs a description (what the tasks reach there)."
  }
}
