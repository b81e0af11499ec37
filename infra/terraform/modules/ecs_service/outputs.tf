output "service_name" {
  description = "Name of the ECS service (null when only the task definition is created)."
  value       = one(concat(aws_ecs_service.this[*].name, aws_ecs_service.autoscaled[*].name))
}

output "task_definition_arn" {
  description = "Task definition of this role."
  value       = aws_ecs_task_definition.this.arn
}

output "task_definition_family" {
  description = "Task definition family (for `aws ecs run-task --task-definition`)."
  value       = aws_ecs_task_definition.this.family
}

output "log_group_name" {
  description = "CloudWatch log group of this role."
  value       = aws_cloudwatch_log_group.this.name
}

output "task_role_arn" {
  description = "This service's own task role."
  value       = aws_iam_role.task.arn
}
