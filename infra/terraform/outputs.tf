output "admin_api_url" {
  description = "Base URL of the admin API and console (health: <url>/health/live)."
  value       = module.alb.url
}

output "cluster_name" {
  description = "ECS cluster running every IntegraMon service."
  value       = module.ecs_cluster.cluster_name
}

output "worker_services" {
  description = "ECS service name per worker group."
  value       = { for group, worker in module.worker : group => worker.service_name }
}

output "worker_autoscaling_targets" {
  description = "Backlog-per-task target per worker group (ready jobs per running task)."
  value = { for group, cfg in var.worker_groups :
  group => coalesce(cfg.target_backlog_per_task, cfg.concurrency * var.backlog_per_slot) }
}

output "run_migrations_command" {
  description = "AWS CLI command that runs `integramon migrate` once as a Fargate task."
  value = join(" ", [
    "aws ecs run-task --cluster ${module.ecs_cluster.cluster_name}",
    "--task-definition ${module.migrate.task_definition_family} --launch-type FARGATE",
    "--network-configuration 'awsvpcConfiguration={subnets=[${join(",", var.private_subnet_ids)}],securityGroups=[${module.network.tasks_security_group_id}],assignPublicIp=DISABLED}'",
  ])
}

output "runtime_secret_arn" {
  description = "Secrets Manager secret with the connection URLs and the secret key."
  value       = aws_secretsmanager_secret.this.arn
}

output "database_credentials_secret_arn" {
  description = "Secrets Manager secret with the PostgreSQL master credentials."
  value       = module.postgres.credentials_secret_arn
}

output "archive_bucket" {
  description = "S3 bucket for archives and iflow zips."
  value       = module.archive_bucket.name
}

output "redis_primary_endpoint" {
  description = "ElastiCache Redis primary endpoint."
  value       = module.redis.primary_endpoint
}

output "log_groups" {
  description = "CloudWatch log group per service."
  value = merge(
    { api = module.api.log_group_name, controller = module.controller.log_group_name, migrate = module.migrate.log_group_name },
    { for group, worker in module.worker : "worker-${group}" => worker.log_group_name },
  )
}
