#!/usr/bin/env bash
# The migration gate of `terraform apply` (terraform_data.migrate): run the migrate task definition
# once on Fargate, wait for it to stop, and fail unless its container exited 0. Inputs come from the
# environment Terraform sets: CLUSTER, TASK_DEFINITION, SUBNETS (comma-separated), SECURITY_GROUP.
set -euo pipefail
: "${CLUSTER:?}" "${TASK_DEFINITION:?}" "${SUBNETS:?}" "${SECURITY_GROUP:?}"

task_arn=$(aws ecs run-task --cluster "$CLUSTER" --task-definition "$TASK_DEFINITION" --launch-type FARGATE \
  --count 1 --started-by terraform-migrate \
  --network-configuration "awsvpcConfiguration={subnets=[$SUBNETS],securityGroups=[$SECURITY_GROUP],assignPublicIp=DISABLED}" \
  --query 'tasks[0].taskArn' --output text)
if [ -z "$task_arn" ] || [ "$task_arn" = "None" ]; then
  echo "migrate: the task did not start (see aws ecs run-task failures)" >&2
  exit 1
fi
echo "migrate: started $task_arn; waiting for it to stop"
# tasks-stopped polls every 6 s for at most 10 minutes; wait up to an hour in all
for attempt in 1 2 3 4 5 6; do
  if aws ecs wait tasks-stopped --cluster "$CLUSTER" --tasks "$task_arn"; then
    break
  fi
  [ "$attempt" -lt 6 ] || { echo "migrate: $task_arn still runs after an hour; stopping the apply" >&2; exit 1; }
  echo "migrate: still running"
done
code=$(aws ecs describe-tasks --cluster "$CLUSTER" --tasks "$task_arn" \
  --query "tasks[0].containers[?name=='integramon'].exitCode | [0]" --output text)
if [ "$code" != "0" ]; then
  reason=$(aws ecs describe-tasks --cluster "$CLUSTER" --tasks "$task_arn" --query 'tasks[0].stoppedReason' --output text)
  echo "migrate: failed (exit code $code, $reason); the services were not updated. Logs: /integramon/<name>-migrate" >&2
  exit 1
fi
echo "migrate: done"
