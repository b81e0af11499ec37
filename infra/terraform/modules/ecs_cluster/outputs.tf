# Both wait for the capacity providers: a service that names FARGATE(_SPOT) before the cluster has
# them associated fails to create.
output "cluster_arn" {
  description = "ARN of the ECS cluster."
  value       = aws_ecs_cluster.this.arn
  depends_on  = [aws_ecs_cluster_capacity_providers.this]
}

output "cluster_name" {
  description = "Name of the ECS cluster (used in autoscaling resource ids and metric dimensions)."
  value       = aws_ecs_cluster.this.name
  depends_on  = [aws_ecs_cluster_capacity_providers.this]
}

output "execution_role_arn" {
  description = "Task execution role (image pull, secret injection, logs)."
  value       = aws_iam_role.execution.arn
}

output "migrate_execution_role_arn" {
  description = "Task execution role of the migrate task (also reads the database master credentials)."
  value       = aws_iam_role.migrate_execution.arn
}
