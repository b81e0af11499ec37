output "admin_api_url" {
  description = "Base URL of the admin API and console."
  value       = module.integramon.admin_api_url
}

output "run_migrations_command" {
  description = "Run the migrations once by hand (apply already runs them as a gated step)."
  value       = module.integramon.run_migrations_command
}

output "ecr_repository_url" {
  description = "Push the image here (docs/aws.md step 3)."
  value       = module.integramon.ecr_repository_url
}
