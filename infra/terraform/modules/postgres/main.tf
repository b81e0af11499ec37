# RDS PostgreSQL for the run ledger, tenants and message logs. RDS itself generates the master
# password and keeps it in a Secrets Manager secret it manages (manage_master_user_password), so the
# password is never in the Terraform state. Only the one-off migrate task logs in as the master user;
# the services use a DML-only role that `integramon migrate` creates (INTEGRAMON_DB_APP_ROLE).
data "aws_partition" "current" {}

locals {
  database = "integramon"
  username = "integramon_admin"
  # sslmode=verify-full checks the server certificate against the RDS CA bundle the image carries
  # (Dockerfile: infra/image/certs/ -> /etc/integramon/certs/; docs/aws.md says how to fetch it).
  tls_query = "sslmode=verify-full&sslrootcert=${var.ca_bundle_path}"
  host      = "${aws_db_instance.this.address}:${aws_db_instance.this.port}"
}

resource "aws_db_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

resource "aws_db_parameter_group" "this" {
  name_prefix = "${var.name}-"
  family      = "postgres${var.engine_version}"
  description = "IntegraMon PostgreSQL: TLS only, slow statements logged"
  tags        = var.tags

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }

  lifecycle {
    create_before_destroy = true
  }
}

data "aws_iam_policy_document" "monitoring_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "monitoring" {
  name_prefix        = "${var.name}-rds-mon-"
  description        = "RDS enhanced monitoring of ${var.name}"
  assume_role_policy = data.aws_iam_policy_document.monitoring_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "monitoring" {
  role       = aws_iam_role.monitoring.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

resource "aws_db_instance" "this" {
  # checkov:skip=CKV_AWS_161: the runtime connects with a password URL (psycopg); IAM auth tokens expire every 15 minutes
  identifier                            = var.name
  engine                                = "postgres"
  engine_version                        = var.engine_version
  instance_class                        = var.instance_class
  db_name                               = local.database
  username                              = local.username
  manage_master_user_password           = true
  master_user_secret_kms_key_id         = var.kms_key_arn
  port                                  = 5432
  allocated_storage                     = var.allocated_storage_gb
  max_allocated_storage                 = var.max_allocated_storage_gb
  storage_type                          = "gp3"
  storage_encrypted                     = true
  kms_key_id                            = var.kms_key_arn
  multi_az                              = var.multi_az
  db_subnet_group_name                  = aws_db_subnet_group.this.name
  vpc_security_group_ids                = var.security_group_ids
  parameter_group_name                  = aws_db_parameter_group.this.name
  publicly_accessible                   = false
  backup_retention_period               = var.backup_retention_days
  backup_window                         = var.backup_window
  maintenance_window                    = var.maintenance_window
  copy_tags_to_snapshot                 = true
  deletion_protection                   = var.deletion_protection
  skip_final_snapshot                   = false
  final_snapshot_identifier             = "${var.name}-final-${formatdate("YYYYMMDDhhmmss", timestamp())}"
  auto_minor_version_upgrade            = true
  enabled_cloudwatch_logs_exports       = ["postgresql", "upgrade"]
  performance_insights_enabled          = true
  performance_insights_kms_key_id       = var.kms_key_arn
  performance_insights_retention_period = 7
  monitoring_interval                   = 60
  monitoring_role_arn                   = aws_iam_role.monitoring.arn
  iam_database_authentication_enabled   = false
  tags                                  = var.tags

  lifecycle {
    # The snapshot name carries the creation time, so a re-created instance never collides with the
    # final snapshot of its predecessor; it is fixed at creation, not recomputed on every plan.
    ignore_changes = [final_snapshot_identifier]
  }
}
