output "primary_endpoint" {
  description = "Primary endpoint address (writes go here; arq needs the primary)."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "url" {
  description = "INTEGRAMON_REDIS_URL: TLS (rediss) with the auth token, database 0."
  value       = "rediss://:${random_password.auth_token.result}@${aws_elasticache_replication_group.this.primary_endpoint_address}:6379/0"
  sensitive   = true
}

output "replication_group_id" {
  description = "Replication group id; its nodes are <id>-001, <id>-002, ... (CloudWatch dimension CacheClusterId)."
  value       = aws_elasticache_replication_group.this.id
}

output "node_count" {
  description = "Nodes in the replication group (primary plus replicas)."
  value       = var.replicas + 1
}
