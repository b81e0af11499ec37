# One IntegraMon role as a Fargate service: task definition (the shared image with the role's
# command), its own task role (only what this role calls), its log group, the service, and optional
# target tracking on backlog per task.
data "aws_region" "current" {}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

# One role per service, so a worker group that never writes the archive cannot, and the API cannot
# publish metrics; a role without a policy may call nothing at all (e.g. the migrate task).
resource "aws_iam_role" "task" {
  name_prefix        = "${substr(var.name, 0, 30)}-"
  description        = "Task role of ${var.name}: what its code may call"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "task" {
  count = var.task_role_policy_json == null ? 0 : 1

  name_prefix = "runtime-"
  role        = aws_iam_role.task.id
  policy      = var.task_role_policy_json
}

locals {
  log_configuration = {
    logDriver = "awslogs"
    options = {
      awslogs-group         = aws_cloudwatch_log_group.this.name
      awslogs-region        = data.aws_region.current.name
      awslogs-stream-prefix = "integramon"
    }
  }
  environment = [for key in sort(keys(var.environment)) : { name = key, value = var.environment[key] }]
  secrets     = [for key in sort(keys(var.secrets)) : { name = key, valueFrom = var.secrets[key] }]
  # Read-only root file system; the data dir and /tmp are task-local scratch volumes.
  mount_points = [
    { sourceVolume = "data", containerPath = "/var/lib/integramon", readOnly = false },
    { sourceVolume = "tmp", containerPath = "/tmp", readOnly = false },
  ]

  main_definition = {
    name                   = "integramon"
    image                  = var.image
    essential              = true
    command                = var.command
    environment            = local.environment
    secrets                = local.secrets
    readonlyRootFilesystem = true
    mountPoints            = local.mount_points
    logConfiguration       = local.log_configuration
    stopTimeout            = var.stop_timeout
    linuxParameters        = { initProcessEnabled = true } # forwards SIGTERM, reaps children
    portMappings           = var.port == null ? null : [{ containerPort = var.port, protocol = "tcp" }]
    healthCheck = var.health_check_command == null ? null : {
      command     = var.health_check_command
      interval    = 30
      timeout     = 10
      retries     = 3
      startPeriod = var.health_check_start_period
    }
  }
  main_container = { for key, value in local.main_definition : key => value if value != null }

  service_tags = merge(var.tags, { Role = var.command[0] })
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/integramon/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = local.service_tags
}

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = var.execution_role_arn
  task_role_arn            = aws_iam_role.task.arn
  container_definitions    = jsonencode([local.main_container])
  tags                     = local.service_tags

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  volume {
    name = "data"
  }

  volume {
    name = "tmp"
  }
}

resource "aws_ecs_service" "this" {
  count = var.create_service && var.autoscaling == null ? 1 : 0

  name                               = var.name
  cluster                            = var.cluster_arn
  task_definition                    = aws_ecs_task_definition.this.arn
  desired_count                      = var.desired_count
  platform_version                   = "LATEST"
  propagate_tags                     = "SERVICE"
  enable_execute_command             = false
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  health_check_grace_period_seconds  = var.target_group_arn == null ? null : 60
  tags                               = local.service_tags

  capacity_provider_strategy {
    capacity_provider = var.capacity_provider
    weight            = 1
  }

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = var.security_group_ids
    assign_public_ip = false
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  dynamic "load_balancer" {
    for_each = var.target_group_arn == null ? [] : [var.target_group_arn]

    content {
      target_group_arn = load_balancer.value
      container_name   = "integramon"
      container_port   = var.port
    }
  }

}

# Same service when autoscaled: Application Auto Scaling owns the task count, so an apply must not
# reset it (Terraform cannot make ignore_changes conditional, hence the second resource).
resource "aws_ecs_service" "autoscaled" {
  count = var.create_service && var.autoscaling != null ? 1 : 0

  name                               = var.name
  cluster                            = var.cluster_arn
  task_definition                    = aws_ecs_task_definition.this.arn
  desired_count                      = var.desired_count
  platform_version                   = "LATEST"
  propagate_tags                     = "SERVICE"
  enable_execute_command             = false
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  health_check_grace_period_seconds  = var.target_group_arn == null ? null : 60
  tags                               = local.service_tags

  capacity_provider_strategy {
    capacity_provider = var.capacity_provider
    weight            = 1
  }

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = var.security_group_ids
    assign_public_ip = false
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  dynamic "load_balancer" {
    for_each = var.target_group_arn == null ? [] : [var.target_group_arn]

    content {
      target_group_arn = load_balancer.value
      container_name   = "integramon"
      container_port   = var.port
    }
  }

  lifecycle {
    ignore_changes = [desired_count]
  }
}

resource "aws_appautoscaling_target" "this" {
  count = var.create_service && var.autoscaling != null ? 1 : 0

  service_namespace  = "ecs"
  resource_id        = "service/${var.cluster_name}/${aws_ecs_service.autoscaled[0].name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.autoscaling.min_count
  max_capacity       = var.autoscaling.max_count
  tags               = local.service_tags
}

# Backlog per task = ready jobs of the group / running tasks of this service, kept near the target:
# the AWS pattern for queue workers (a plain CPU target misses I/O-bound CPI calls entirely).
resource "aws_appautoscaling_policy" "this" {
  count = var.create_service && var.autoscaling != null ? 1 : 0

  name               = "${var.name}-backlog-per-task"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this[0].service_namespace
  resource_id        = aws_appautoscaling_target.this[0].resource_id
  scalable_dimension = aws_appautoscaling_target.this[0].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.autoscaling.target_backlog_per_task
    scale_in_cooldown  = var.autoscaling.scale_in_cooldown
    scale_out_cooldown = var.autoscaling.scale_out_cooldown

    customized_metric_specification {
      metrics {
        id          = "ready"
        label       = "ready jobs"
        return_data = false

        metric_stat {
          stat = "Average"

          metric {
            namespace   = var.autoscaling.metric_namespace
            metric_name = var.autoscaling.metric_name

            dynamic "dimensions" {
              for_each = var.autoscaling.metric_dimensions

              content {
                name  = dimensions.key
                value = dimensions.value
              }
            }
          }
        }
      }

      metrics {
        id          = "tasks"
        label       = "running tasks"
        return_data = false

        metric_stat {
          stat = "Average"

          metric {
            namespace   = "ECS/ContainerInsights"
            metric_name = "RunningTaskCount"

            dimensions {
              name  = "ClusterName"
              value = var.cluster_name
            }

            dimensions {
              name  = "ServiceName"
              value = aws_ecs_service.autoscaled[0].name
            }
          }
        }
      }

      metrics {
        id          = "backlog_per_task"
        label       = "ready jobs per running task"
        expression  = "ready / IF(tasks < 1, 1, tasks)"
        return_data = true
      }
    }
  }
}
