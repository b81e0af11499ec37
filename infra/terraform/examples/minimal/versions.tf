terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.95"
    }
    random = {
      source  = "hashicorp/random"
      version = ">= 3.7"
    }
  }

  # Remote state with locking: the state holds the Redis and RabbitMQ credentials and the Fernet key,
  # so it never stays on a laptop. Create the bucket once (docs/aws.md, step 1), fill in the values
  # below (backend blocks cannot read variables), then `terraform init`.
  backend "s3" {
    bucket       = "CHANGE-ME-integramon-terraform-state" # your state bucket (versioned, encrypted, private)
    key          = "integramon/minimal/terraform.tfstate" # one key per deployment
    region       = "eu-central-1"                         # the bucket's region
    encrypt      = true
    use_lockfile = true # S3-native state locking (Terraform >= 1.10); no DynamoDB table needed
  }
}
