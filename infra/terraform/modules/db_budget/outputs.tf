output "max_connections" {
  description = "max_connections the budget is checked against."
  value       = local.max_connections
}

output "worst_case" {
  description = "Connections IntegraMon can open at once: worker groups at max_count, the API, the controllers and the reserve."
  value       = local.worst_case

  precondition {
    condition     = local.max_connections > 0
    error_message = "unknown instance class ${var.instance_class}: set db_max_connections to its max_connections."
  }

  precondition {
    condition     = local.worst_case <= local.max_connections
    error_message = "PostgreSQL connection budget exceeded: up to ${local.worst_case} connections (workers ${jsonencode(local.worker_connections)}, api ${local.api_connections}, controller ${local.controller_connections}, reserve ${var.reserved}) but ${var.instance_class} allows ${local.max_connections}. Lower max_count or the db pool sizes, or pick a larger db_instance_class (docs/sizing.md)."
  }
}

output "by_role" {
  description = "Worst-case connections per role (worker groups by name)."
  value = merge({ for group, count in local.worker_connections : "worker-${group}" => count },
  { api = local.api_connections, controller = local.controller_connections, reserved = var.reserved })
}

output "worker_pools" {
  description = "Pool size and overflow per worker group (INTEGRAMON_DB_POOL_SIZE / INTEGRAMON_DB_MAX_OVERFLOW of its tasks)."
  value       = local.worker_pools
}
