output "address" {
  description = "Host name of the database."
  value       = aws_db_instance.this.address
}

output "credentials_secret_arn" {
  description = "Secrets Manager secret with the master credentials."
  value       = aws_secretsmanager_secret.this.arn
}

output "url" {
  description = "INTEGRAMON_DATABASE_URL (psycopg 3, TLS required by the server)."
  value       = "postgresql://${local.username}:${random_password.this.result}@${aws_db_instance.this.address}:${aws_db_instance.this.port}/${local.database}?sslmode=require"
  sensitive   = true
}
