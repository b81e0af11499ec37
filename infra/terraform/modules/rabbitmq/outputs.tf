output "amqp_endpoint" {
  description = "AMQPS endpoint of the broker."
  value       = aws_mq_broker.this.instances[0].endpoints[0]
}

output "url" {
  description = "INTEGRAMON_RABBITMQ_URL (amqps with the broker user)."
  value       = replace(aws_mq_broker.this.instances[0].endpoints[0], "amqps://", "amqps://integramon:${random_password.this.result}@")
  sensitive   = true
}
