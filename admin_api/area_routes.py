"""Every route handler of the app, area by area (kept apart from ``app`` so each area stays small)."""

from __future__ import annotations

from typing import Any

from admin_api.alert_rules.routes import AlertRulesController
from admin_api.alerts.routes import AlertsController
from admin_api.audit.routes import AuditController
from admin_api.auth.routes import TokensController, whoami
from admin_api.bottlenecks.routes import get_bottlenecks
from admin_api.chat.routes import ChatController
from admin_api.console.routes import console_handlers
from admin_api.controller_status.routes import controller_status_route
from admin_api.dead_letters.routes import DeadLettersController
from admin_api.health.routes import live, ready
from admin_api.jobs.routes import CatalogController, JobsController
from admin_api.metrics.routes import MetricsController, prometheus_metrics
from admin_api.redis_metrics.routes import redis_metrics
from admin_api.schedules.routes import SchedulesController
from admin_api.seed_names.routes import seed_redirects
from admin_api.settings.routes import MetricSettingsController, SettingsController, TenantSettingsController
from admin_api.stats.routes import list_stats
from admin_api.tenants.routes import TenantsController
from admin_api.tuning.routes import TuningController
from admin_api.workers.routes import list_workers

__all__ = ["route_handlers"]


def route_handlers() -> list[Any]:
    return [
        live, ready, whoami, prometheus_metrics, redis_metrics, list_workers, get_bottlenecks,
        JobsController, CatalogController, DeadLettersController, MetricsController, TuningController,
        TenantsController, SchedulesController, AuditController, TokensController, ChatController,
        controller_status_route,
        AlertRulesController, AlertsController, SettingsController, TenantSettingsController,
        MetricSettingsController, list_stats,
        *console_handlers(), *seed_redirects(),
    ]
