output "address" {
  description = "Host name of the database."
  value       = aws_db_instance.this.address
}

output "master_user_secret_arn" {
  description = "Secrets Manager secret RDS manages with the master credentials (JSON: username, password)."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}

output "master_url" {
  description = "INTEGRAMON_DATABASE_URL of the master user WITHOUT password (INTEGRAMON_DATABASE_PASSWORD adds it), TLS verified."
  value       = "postgresql://${local.username}@${local.host}/${local.database}?${local.tls_query}"
}

output "app_url" {
  description = "INTEGRAMON_DATABASE_URL of the services' DML-only role WITHOUT password, TLS verified."
  value       = "postgresql://${var.app_role}@${local.host}/${local.database}?${local.tls_query}"
}

output "instance_id" {
  description = "DB instance identifier (CloudWatch dimension DBInstanceIdentifier)."
  value       = aws_db_instance.this.identifier
}
