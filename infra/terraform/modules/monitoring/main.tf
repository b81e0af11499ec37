# Alarms and one dashboard per deployment. The queue alarms read what the controller publishes with
# each queue sample (controller/depth.py, controller/controller_metrics.py); the store alarms read
# the AWS namespaces of RDS, ElastiCache and the ALB. Every alarm notifies var.alarm_actions.
data "aws_region" "current" {}

locals {
  redis_nodes = [for index in range(var.redis_node_count) : format("%s-%03d", var.redis_replication_group_id, index + 1)]
}

resource "aws_cloudwatch_metric_alarm" "oldest_ready_age" {
  for_each = toset(var.worker_groups)

  alarm_name          = "${var.name}-oldest-ready-age-${each.key}"
  alarm_description   = "The oldest ready job of worker group ${each.key} waited more than ${var.oldest_ready_age_seconds} s: workers at max_count, stuck, or not running."
  namespace           = var.namespace
  metric_name         = "OldestReadyAgeSeconds"
  dimensions          = { WorkerGroup = each.key }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 5
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.oldest_ready_age_seconds
  treat_missing_data  = "notBreaching" # the leader alarm covers "no samples at all"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

# Only the leader samples queues and publishes LeaderPresent = 1: missing data means no leader.
resource "aws_cloudwatch_metric_alarm" "no_leader" {
  alarm_name          = "${var.name}-controller-no-leader"
  alarm_description   = "No controller has published LeaderPresent for 5 minutes: dispatch, schedules and reconcile are stopped."
  namespace           = var.namespace
  metric_name         = "LeaderPresent"
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 5
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "breaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "outbox_backlog" {
  alarm_name          = "${var.name}-outbox-backlog"
  alarm_description   = "More than ${var.outbox_backlog_threshold} events wait in the outbox for 15 minutes: RabbitMQ unreachable or refusing (events are kept, not lost)."
  namespace           = var.namespace
  metric_name         = "OutboxBacklog"
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.outbox_backlog_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "redis_memory" {
  for_each = toset(local.redis_nodes)

  alarm_name          = "${var.name}-redis-memory-${each.key}"
  alarm_description   = "Redis node ${each.key} uses more than ${var.redis_memory_percent} % of its memory; with noeviction, writes (enqueues) fail when it is full."
  namespace           = "AWS/ElastiCache"
  metric_name         = "DatabaseMemoryUsagePercentage"
  dimensions          = { CacheClusterId = each.key }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.redis_memory_percent
  treat_missing_data  = "missing"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "redis_evictions" {
  for_each = toset(local.redis_nodes)

  alarm_name          = "${var.name}-redis-evictions-${each.key}"
  alarm_description   = "Redis node ${each.key} evicted keys: a queued job or a lease may be gone (the parameter group should say noeviction)."
  namespace           = "AWS/ElastiCache"
  metric_name         = "Evictions"
  dimensions          = { CacheClusterId = each.key }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "db_connections" {
  alarm_name          = "${var.name}-db-connections"
  alarm_description   = "PostgreSQL holds more than ${var.db_connections_percent} % of its ${var.db_max_connections} connections."
  namespace           = "AWS/RDS"
  metric_name         = "DatabaseConnections"
  dimensions          = { DBInstanceIdentifier = var.db_instance_id }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = floor(var.db_max_connections * var.db_connections_percent / 100)
  treat_missing_data  = "missing"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "db_free_storage" {
  alarm_name          = "${var.name}-db-free-storage"
  alarm_description   = "PostgreSQL has less than ${var.db_free_storage_gib} GiB free (storage autoscaling may be at its maximum)."
  namespace           = "AWS/RDS"
  metric_name         = "FreeStorageSpace"
  dimensions          = { DBInstanceIdentifier = var.db_instance_id }
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 2
  comparison_operator = "LessThanThreshold"
  threshold           = var.db_free_storage_gib * 1073741824
  treat_missing_data  = "missing"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "alb_5xx" {
  for_each = { target = "HTTPCode_Target_5XX_Count", elb = "HTTPCode_ELB_5XX_Count" }

  alarm_name          = "${var.name}-api-5xx-${each.key}"
  alarm_description   = "More than ${var.alb_5xx_threshold} HTTP 5xx (${each.value}) in 5 minutes from the admin API load balancer."
  namespace           = "AWS/ApplicationELB"
  metric_name         = each.value
  dimensions          = { LoadBalancer = var.alb_arn_suffix }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alb_5xx_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode({
    widgets = [
      for index, widget in [
        { title = "Ready jobs per group", metrics = [for g in var.worker_groups : [var.namespace, var.ready_metric_name, "WorkerGroup", g]], stat = "Maximum" },
        { title = "Oldest ready job age (s)", metrics = [for g in var.worker_groups : [var.namespace, "OldestReadyAgeSeconds", "WorkerGroup", g]], stat = "Maximum" },
        { title = "Controller leader, outbox backlog", metrics = [[var.namespace, "LeaderPresent"], [var.namespace, "OutboxBacklog"]], stat = "Maximum" },
        { title = "Worker tasks running", metrics = [for s in var.worker_services : ["ECS/ContainerInsights", "RunningTaskCount", "ClusterName", var.cluster_name, "ServiceName", s]], stat = "Average" },
        { title = "Redis memory % and evictions", metrics = concat([for n in local.redis_nodes : ["AWS/ElastiCache", "DatabaseMemoryUsagePercentage", "CacheClusterId", n]], [for n in local.redis_nodes : ["AWS/ElastiCache", "Evictions", "CacheClusterId", n]]), stat = "Maximum" },
        { title = "PostgreSQL connections", metrics = [["AWS/RDS", "DatabaseConnections", "DBInstanceIdentifier", var.db_instance_id]], stat = "Maximum" },
        { title = "PostgreSQL free storage (bytes)", metrics = [["AWS/RDS", "FreeStorageSpace", "DBInstanceIdentifier", var.db_instance_id]], stat = "Minimum" },
        { title = "Admin API 5xx", metrics = [["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", var.alb_arn_suffix], ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", var.alb_arn_suffix]], stat = "Sum" },
        ] : {
        type   = "metric"
        x      = (index % 2) * 12
        y      = floor(index / 2) * 6
        width  = 12
        height = 6
        properties = {
          title   = widget.title
          metrics = widget.metrics
          stat    = widget.stat
          period  = 60
          region  = data.aws_region.current.name
          view    = "timeSeries"
        }
      }
    ]
  })
}
