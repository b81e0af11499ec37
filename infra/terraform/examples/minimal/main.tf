# Smallest set of inputs: an existing VPC and its private subnets, an internal admin API, the image
# tag, and the worker groups; everything else keeps the module's production defaults (Multi-AZ
# database, Redis with a replica, deletion protection, one year of logs, alarms). The first deploy,
# step by step (state bucket, image push, migrate, services), is in docs/aws.md.
provider "aws" {
  region = var.region

  default_tags {
    tags = { Environment = "minimal" }
  }
}

module "integramon" {
  source = "../.."

  name               = "integramon"
  image_tag          = var.image_tag
  vpc_id             = var.vpc_id
  private_subnet_ids = var.private_subnet_ids
  alb_ingress_cidrs  = var.alb_ingress_cidrs
  worker_groups      = var.worker_groups
}
