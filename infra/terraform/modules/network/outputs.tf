output "alb_security_group_id" {
  description = "Security group of the admin API load balancer."
  value       = aws_security_group.alb.id
}

output "tasks_security_group_id" {
  description = "Security group of every IntegraMon ECS task."
  value       = aws_security_group.tasks.id
}

output "data_security_group_id" {
  description = "Security group of PostgreSQL, Redis and RabbitMQ (reachable from the tasks only)."
  value       = aws_security_group.data.id
}
