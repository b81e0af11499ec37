variable "region" {
  description = "AWS region."
  type        = string
}

variable "image_tag" {
  description = "Tag of the IntegraMon image pushed to the ECR repository the module creates (output ecr_repository_url)."
  type        = string
}

variable "vpc_id" {
  description = "Existing VPC."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets with NAT egress, in at least two AZs."
  type        = list(string)
}

variable "alb_ingress_cidrs" {
  description = "Networks allowed to open the admin API."
  type        = list(string)
}

variable "worker_groups" {
  description = "Worker groups with their balanced concurrency and task counts (see the root module)."
  type = map(object({
    concurrency    = number
    min_count      = optional(number, 1)
    max_count      = optional(number, 4)
    cpu            = optional(number, 256)
    memory         = optional(number, 512)
    archive_access = optional(string, "none")
  }))
}
