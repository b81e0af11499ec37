variable "instance_class" {
  description = "RDS instance class; its memory gives the default max_connections."
  type        = string
}

variable "max_connections" {
  description = "max_connections of the database when it is not the RDS default for the class (a custom parameter group or an unlisted class); null derives it."
  type        = number
  default     = null
}

variable "worker_groups" {
  description = "Per worker group: concurrency, tasks at most (max_count) and optionally each task's pool size (default concurrency + 1) and overflow (default 1)."
  type = map(object({
    concurrency     = number
    max_count       = number
    db_pool_size    = optional(number)
    db_max_overflow = optional(number, 1)
  }))
}

variable "api" {
  description = "Admin API tasks and their connections: SQLAlchemy pool size and overflow, plus extra (the jobs list's own psycopg pool, 4, and the enqueue pool, 2)."
  type = object({
    count        = number
    pool_size    = number
    max_overflow = number
    extra        = optional(number, 6)
  })
}

variable "controller" {
  description = "Controller tasks (leader and standbys all connect) and their pool size and overflow (plus the enqueue pool's 2 each)."
  type = object({
    count        = number
    pool_size    = number
    max_overflow = number
  })
}

variable "reserved" {
  description = "Connections kept free: RDS superuser slots (3), the migrate task (2) and an operator's psql or monitoring."
  type        = number
  default     = 10
}
