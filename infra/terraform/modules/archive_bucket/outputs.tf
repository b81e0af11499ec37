output "name" {
  description = "Bucket name (INTEGRAMON_S3_BUCKET)."
  value       = aws_s3_bucket.this.id
}

output "arn" {
  description = "Bucket ARN."
  value       = aws_s3_bucket.this.arn
}
