# The admin API and console behind an Application Load Balancer (the API is stateless: any task).
resource "aws_lb" "this" {
  # checkov:skip=CKV2_AWS_28: WAF is left to the operator; the default ALB is internal and the API requires bearer tokens
  # checkov:skip=CKV2_AWS_20: HTTP redirects to HTTPS whenever certificate_arn is set; without a certificate the (internal) ALB serves HTTP
  # checkov:skip=CKV_AWS_91: access logs are optional (access_logs_bucket), the bucket needs an ELB delivery policy the operator owns
  name                       = var.name
  load_balancer_type         = "application"
  internal                   = var.internal
  subnets                    = var.subnet_ids
  security_groups            = var.security_group_ids
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection
  tags                       = var.tags

  dynamic "access_logs" {
    for_each = var.access_logs_bucket == null ? [] : [var.access_logs_bucket]

    content {
      bucket  = access_logs.value
      prefix  = var.name
      enabled = true
    }
  }
}

resource "aws_lb_target_group" "this" {
  # checkov:skip=CKV_AWS_378: TLS ends at the ALB; ALB to task traffic stays inside the VPC, limited by security groups to the API port
  name_prefix          = "imapi-"
  port                 = var.target_port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = 30
  tags                 = var.tags

  health_check {
    path                = var.health_check_path
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_lb_listener" "https" {
  count = var.certificate_arn == null ? 0 : 1

  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn
  tags              = var.tags

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this.arn
  }
}

# With a certificate: redirect to HTTPS. Without one (internal ALB, e.g. a first try): serve HTTP.
resource "aws_lb_listener" "http" {
  # checkov:skip=CKV_AWS_2: port 80 redirects to HTTPS whenever certificate_arn is set; plain HTTP only without a certificate
  # checkov:skip=CKV_AWS_103: TLS is configured on the HTTPS listener (TLS 1.2+ policy); this listener redirects or serves HTTP
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"
  tags              = var.tags

  default_action {
    type             = var.certificate_arn == null ? "forward" : "redirect"
    target_group_arn = var.certificate_arn == null ? aws_lb_target_group.this.arn : null

    dynamic "redirect" {
      for_each = var.certificate_arn == null ? [] : [443]

      content {
        port        = tostring(redirect.value)
        protocol    = "HTTPS"
        status_code = "HTTP_301"
      }
    }
  }
}
