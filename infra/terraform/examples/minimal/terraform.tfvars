region             = "eu-central-1"
image_tag          = "0.1.0"
vpc_id             = "vpc-0a1b2c3d4e5f60718"
private_subnet_ids = ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"]
alb_ingress_cidrs  = ["10.0.0.0/8"]

# One entry per catalog group (`integramon catalog`), concurrency as in the balanced profile.
worker_groups = {
  "light"                         = { concurrency = 2, max_count = 3, archive_access = "read-write" }
  "light-cold"                    = { concurrency = 2, max_count = 2 }
  "api-details"                   = { concurrency = 3, max_count = 3, archive_access = "read-write" }
  "api-details-cold"              = { concurrency = 2, max_count = 2 }
  "alert-details"                 = { concurrency = 1, max_count = 2 }
  "alerts"                        = { concurrency = 1, max_count = 1 }
  "periodic"                      = { concurrency = 1, max_count = 1, archive_access = "read" }
  "ai"                            = { concurrency = 1, max_count = 1 }
  "messagelog-process-batch"      = { concurrency = 2, max_count = 3 }
  "messagelog-process-batch-cold" = { concurrency = 2, max_count = 2 }
  "medium"                        = { concurrency = 2, max_count = 2, memory = 1024, archive_access = "read-write" }
}
