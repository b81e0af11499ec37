variable "name" {
  description = "Name of the Amazon MQ broker."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,49}$", var.name))
    error_message = "name must be 2-50 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "subnet_ids" {
  description = "Private subnets: the first one for a single instance, all (at least two) for a cluster."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 1
    error_message = "subnet_ids needs at least one subnet."
  }
}

variable "security_group_ids" {
  description = "Security groups of the broker."
  type        = list(string)
}

variable "instance_type" {
  description = "Broker instance type (mq.t3.micro suits the event stream of a small installation)."
  type        = string
  default     = "mq.t3.micro"

  validation {
    condition     = startswith(var.instance_type, "mq.")
    error_message = "instance_type must be an Amazon MQ type such as mq.t3.micro or mq.m5.large."
  }
}

variable "deployment_mode" {
  description = "SINGLE_INSTANCE, or CLUSTER_MULTI_AZ (three brokers, not on mq.t3.micro)."
  type        = string
  default     = "SINGLE_INSTANCE"

  validation {
    condition     = contains(["SINGLE_INSTANCE", "CLUSTER_MULTI_AZ"], var.deployment_mode)
    error_message = "deployment_mode must be SINGLE_INSTANCE or CLUSTER_MULTI_AZ."
  }
}

variable "engine_version" {
  description = "RabbitMQ engine version offered by Amazon MQ."
  type        = string
  default     = "3.13"
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
