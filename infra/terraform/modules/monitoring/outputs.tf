output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "alarm_names" {
  description = "Every alarm this module created."
  value = concat(
    [for a in aws_cloudwatch_metric_alarm.oldest_ready_age : a.alarm_name],
    [aws_cloudwatch_metric_alarm.no_leader.alarm_name, aws_cloudwatch_metric_alarm.outbox_backlog.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.redis_memory : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.redis_evictions : a.alarm_name],
    [aws_cloudwatch_metric_alarm.db_connections.alarm_name, aws_cloudwatch_metric_alarm.db_free_storage.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.alb_5xx : a.alarm_name],
  )
}
