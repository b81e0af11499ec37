output "admin_api_url" {
  description = "Base URL of the admin API and console."
  value       = module.integramon.admin_api_url
}

output "run_migrations_command" {
  description = "Run the migrations once by hand (the controller also runs them at start)."
  value       = module.integramon.run_migrations_command
}
