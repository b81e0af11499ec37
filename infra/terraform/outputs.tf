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
  description = "AWS CLI command that runs `integramon migrate` once as a Fargate task (what the gated step does; by hand when run_migrations = false)."
  value = join(" ", [
    "aws ecs run-task --cluster ${module.ecs_cluster.cluster_name}",
    "--task-definition ${module.migrate.task_definition_family} --launch-type FARGATE",
    "--network-configuration 'awsvpcConfiguration={subnets=[${join(",", var.private_subnet_ids)}],securityGroups=[${module.network.tasks_security_group_id}],assignPublicIp=DISABLED}'",
  ])
}

output "runtime_secret_arn" {
  description = "Secrets Manager secret with the Redis and RabbitMQ URLs."
  value       = aws_secretsmanager_secret.this.arn
}

output "database_master_secret_arn" {
  description = "Secrets Manager secret RDS manages with the PostgreSQL master credentials (read by the migrate task only)."
  value       = module.postgres.master_user_secret_arn
}

output "database_app_secret_arn" {
  description = "Secrets Manager secret with the password of the services' DML-only database role."
  value       = aws_secretsmanager_secret.db_app.arn
}

output "secret_key_secret_arn" {
  description = "Secrets Manager secret holding INTEGRAMON_SECRET_KEY (rotate: put \"new,old\" here, docs/aws.md)."
  value       = aws_secretsmanager_secret.secret_key.arn
}

output "ecr_repository_url" {
  description = "ECR repository for the IntegraMon image (push <url>:<tag>, then apply with image_tag = <tag>)."
  value       = aws_ecr_repository.this.repository_url
}

output "db_connection_budget" {
  description = "Worst-case PostgreSQL connections per role and in all, against max_connections (the plan fails when it does not fit)."
  value = {
    worst_case      = module.db_budget.worst_case
    max_connections = module.db_budget.max_connections
    by_role         = module.db_budget.by_role
  }
}

output "dashboard_name" {
  description = "CloudWatch dashboard of this deployment."
  value       = module.monitoring.dashboard_name
}

output "alarm_names" {
  description = "CloudWatch alarms of this deployment."
  value       = module.monitoring.alarm_names
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
