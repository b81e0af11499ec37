output "primary_endpoint" {
  description = "Primary endpoint address (writes go here; arq needs the primary)."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "url" {
  description = "INTEGRAMON_REDIS_URL: TLS (rediss) with the auth token, database 0."
  value       = "rediss://:${random_password.auth_token.result}@${aws_elasticache_replication_group.this.primary_endpoint_address}:6379/0"
  sensitive   = true
}
