# The PostgreSQL connection budget: the most connections every IntegraMon process can open at once
# (each task's pool size + overflow, worker groups at max_count) against the instance class's
# max_connections. No resources and no provider: the root module calls it, and the output's
# precondition fails `terraform plan` when the worst case does not fit.
locals {
  # RDS's default max_connections = LEAST(DBInstanceClassMemory / 9531392, 5000), where
  # DBInstanceClassMemory is the class memory minus what the OS and RDS keep (about 10 %).
  class_memory_gib = {
    "db.t4g.micro" = 1, "db.t4g.small" = 2, "db.t4g.medium" = 4, "db.t4g.large" = 8, "db.t4g.xlarge" = 16, "db.t4g.2xlarge" = 32,
    "db.t3.micro"  = 1, "db.t3.small" = 2, "db.t3.medium" = 4, "db.t3.large" = 8, "db.t3.xlarge" = 16, "db.t3.2xlarge" = 32,
    "db.m6g.large" = 8, "db.m6g.xlarge" = 16, "db.m6g.2xlarge" = 32, "db.m6g.4xlarge" = 64,
    "db.m7g.large" = 8, "db.m7g.xlarge" = 16, "db.m7g.2xlarge" = 32, "db.m7g.4xlarge" = 64,
    "db.r6g.large" = 16, "db.r6g.xlarge" = 32, "db.r6g.2xlarge" = 64,
    "db.r7g.large" = 16, "db.r7g.xlarge" = 32, "db.r7g.2xlarge" = 64,
  }
  derived_max_connections = try(floor(min(local.class_memory_gib[var.instance_class] * 1073741824 * 0.9 / 9531392, 5000)), null)
  max_connections         = coalesce(var.max_connections, local.derived_max_connections, 0)

  # the enqueuer's own psycopg pool (core/queues/pg_ledger.py POOL_SIZE) in the API and the controller;
  # workers enqueue through their SQLAlchemy pool
  enqueue_pool = 2

  # INTEGRAMON_DB_POOL_SIZE / _MAX_OVERFLOW per worker group: a slot per running job plus one for the
  # ledger recorder and tuning reads, one overflow; or what the group sets.
  worker_pools = { for group, cfg in var.worker_groups : group => {
    size     = coalesce(cfg.db_pool_size, cfg.concurrency + 1)
    overflow = cfg.db_max_overflow
  } }
  worker_connections     = { for group, cfg in var.worker_groups : group => cfg.max_count * (local.worker_pools[group].size + local.worker_pools[group].overflow) }
  api_connections        = var.api.count * (var.api.pool_size + var.api.max_overflow + var.api.extra)
  controller_connections = var.controller.count * (var.controller.pool_size + var.controller.max_overflow + local.enqueue_pool)
  worst_case             = sum(concat([0], values(local.worker_connections))) + local.api_connections + local.controller_connections + var.reserved
}
