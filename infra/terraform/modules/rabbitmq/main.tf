# Amazon MQ for RabbitMQ: the topic exchange the outbox relay publishes events to. Events wait in
# the outbox table while the broker is down, so a single instance is an acceptable default.
resource "random_password" "this" {
  length  = 32
  special = false # Amazon MQ forbids , : = in passwords, and the password goes into an AMQP URL
}

resource "aws_mq_broker" "this" {
  # checkov:skip=CKV_AWS_209: Amazon MQ for RabbitMQ encrypts at rest with an AWS owned key only; customer managed keys exist for ActiveMQ
  broker_name                = var.name
  engine_type                = "RabbitMQ"
  engine_version             = var.engine_version
  host_instance_type         = var.instance_type
  deployment_mode            = var.deployment_mode
  subnet_ids                 = var.deployment_mode == "SINGLE_INSTANCE" ? [var.subnet_ids[0]] : var.subnet_ids
  security_groups            = var.security_group_ids
  publicly_accessible        = false
  auto_minor_version_upgrade = true
  apply_immediately          = false
  tags                       = var.tags

  user {
    username = "integramon"
    password = random_password.this.result
  }

  logs {
    general = true
  }

  maintenance_window_start_time {
    day_of_week = "SUNDAY"
    time_of_day = "03:00"
    time_zone   = "UTC"
  }
}
