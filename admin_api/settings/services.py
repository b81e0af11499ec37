"""Settings reads and changes, each change audited. Validation uses the registry's own
``validate_value``, so the API accepts exactly what the readers accept."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from admin_api.audit.services import audit
from admin_api.context import Principal
from admin_api.errors import BadInput, NotFound
from admin_api.settings.schemas import (
    ConfigKeyView,
    MetricSettingUpdate,
    MetricSettingView,
    SettingsView,
    TenantOverride,
    TenantSettingsView,
    TenantSettingView,
)
from core.config_keys import REGISTRY, ConfigKey, ConfigValueError, read_config, validate_value
from core.db.models.scheduling import ConfigExt
from core.db.models.tenants import Tenant
from core.db.models.tuning import MetricSettings
from core.metric_settings import METRICS

__all__ = [
    "all_settings",
    "clear_global",
    "clear_tenant",
    "list_metrics",
    "metric_view",
    "set_global",
    "set_metric",
    "set_tenant",
    "show_metric",
    "tenant_settings",
]


def _key(name: str) -> ConfigKey:
    key = REGISTRY.get(name)
    if key is None:
        raise NotFound(f"no setting called {name!r}")
    return key


def _valid(key: ConfigKey, value: Any) -> bool:
    try:
        validate_value(key, value)
    except ConfigValueError:
        return False
    return True


def _checked(key: ConfigKey, value: Any) -> Any:
    try:
        return validate_value(key, value)
    except ConfigValueError as exc:
        raise BadInput("value", str(exc)) from exc


def _key_view(key: ConfigKey, rows: list[ConfigExt]) -> ConfigKeyView:
    glob = next((r for r in rows if r.tenant_id is None), None)
    value = glob.value if glob is not None and _valid(key, glob.value) else key.default
    overrides = [TenantOverride(tenant_id=r.tenant_id, value=r.value, valid=_valid(key, r.value))
                 for r in rows if r.tenant_id is not None]
    return ConfigKeyView(key=key.name, type=key.type, default=key.default, minimum=key.minimum,
                         maximum=key.maximum, scope=key.scope, unit=key.unit, meaning=key.meaning, value=value,
                         stored=glob is not None, updated_at=glob.updated_at if glob else None,
                         overrides=sorted(overrides, key=lambda o: o.tenant_id))


def metric_view(name: str, row: MetricSettings | None) -> MetricSettingView:
    spec = METRICS[name]
    return MetricSettingView(
        metric=name, meaning=spec.meaning, enabled=row.enabled if row else True,
        interval_seconds=row.interval_seconds if row else spec.default_interval_s,
        default_interval_seconds=spec.default_interval_s,
        last_dispatched_at=row.last_dispatched_at if row else None, stored=row is not None)


def _metric_rows(session: Session) -> dict[str, MetricSettings]:
    return {r.metric: r for r in session.scalars(select(MetricSettings))}


def all_settings(session: Session) -> SettingsView:
    rows: dict[str, list[ConfigExt]] = {}
    for row in session.scalars(select(ConfigExt).where(ConfigExt.key.in_(list(REGISTRY)))):
        rows.setdefault(row.key, []).append(row)
    metrics = _metric_rows(session)
    return SettingsView(keys=[_key_view(k, rows.get(k.name, [])) for k in sorted(REGISTRY.values(),
                                                                                key=lambda k: k.name)],
                        metric_settings=[metric_view(m, metrics.get(m)) for m in METRICS])


def _row(session: Session, name: str, tenant_id: int | None) -> ConfigExt | None:
    tenant = ConfigExt.tenant_id.is_(None) if tenant_id is None else ConfigExt.tenant_id == tenant_id
    return session.scalar(select(ConfigExt).where(ConfigExt.key == name, tenant).with_for_update())


def _store(session: Session, name: str, tenant_id: int | None, value: Any) -> Any:
    row = _row(session, name, tenant_id)
    old = row.value if row is not None else None
    if row is None:
        session.add(ConfigExt(key=name, tenant_id=tenant_id, value=value))
    else:
        row.value = value
    session.flush()
    return old


def set_global(session: Session, who: Principal, name: str, value: Any) -> ConfigKeyView:
    key = _key(name)
    checked = _checked(key, value)
    old = _store(session, name, None, checked)
    audit(session, who, "setting.set", f"setting:{name}", {"old": old, "new": checked})
    return _key_view(key, list(session.scalars(select(ConfigExt).where(ConfigExt.key == name))))


def clear_global(session: Session, who: Principal, name: str) -> ConfigKeyView:
    """Back to the registered default."""
    key = _key(name)
    row = _row(session, name, None)
    if row is not None:
        audit(session, who, "setting.reset", f"setting:{name}", {"old": row.value})
        session.delete(row)
        session.flush()
    return _key_view(key, list(session.scalars(select(ConfigExt).where(ConfigExt.key == name))))


def _tenant(session: Session, tenant_id: int) -> None:
    if session.get(Tenant, tenant_id) is None:
        raise NotFound(f"no tenant with id {tenant_id}")


def _tenant_key(name: str) -> ConfigKey:
    key = _key(name)
    if key.scope != "tenant":
        raise BadInput("key", f"{name} is a global setting; it cannot be set per tenant")
    return key


def _tenant_view(session: Session, key: ConfigKey, tenant_id: int) -> TenantSettingView:
    row = session.scalar(select(ConfigExt).where(ConfigExt.key == key.name, ConfigExt.tenant_id == tenant_id))
    return TenantSettingView(tenant_id=tenant_id, key=key.name, type=key.type, default=key.default,
                             minimum=key.minimum, maximum=key.maximum, unit=key.unit, meaning=key.meaning,
                             override=row.value if row else None, overridden=row is not None,
                             value=read_config(session, key.name, tenant_id))


def tenant_settings(session: Session, tenant_id: int) -> TenantSettingsView:
    _tenant(session, tenant_id)
    keys = sorted((k for k in REGISTRY.values() if k.scope == "tenant"), key=lambda k: k.name)
    return TenantSettingsView(tenant_id=tenant_id, items=[_tenant_view(session, k, tenant_id) for k in keys])


def set_tenant(session: Session, who: Principal, tenant_id: int, name: str, value: Any) -> TenantSettingView:
    _tenant(session, tenant_id)
    key = _tenant_key(name)
    checked = _checked(key, value)
    old = _store(session, name, tenant_id, checked)
    audit(session, who, "setting.set_tenant", f"tenant:{tenant_id}:setting:{name}", {"old": old, "new": checked})
    return _tenant_view(session, key, tenant_id)


def clear_tenant(session: Session, who: Principal, tenant_id: int, name: str) -> None:
    _tenant(session, tenant_id)
    _tenant_key(name)
    removed = session.execute(delete(ConfigExt).where(ConfigExt.key == name, ConfigExt.tenant_id == tenant_id))
    if not getattr(removed, "rowcount", 0):
        raise NotFound(f"tenant {tenant_id} has no override of {name}")
    audit(session, who, "setting.clear_tenant", f"tenant:{tenant_id}:setting:{name}", {})


def _metric(name: str) -> None:
    if name not in METRICS:
        raise NotFound(f"no metric called {name!r}; known: {', '.join(METRICS)}")


def show_metric(session: Session, name: str) -> MetricSettingView:
    _metric(name)
    return metric_view(name, _metric_rows(session).get(name))


def list_metrics(session: Session) -> list[MetricSettingView]:
    rows = _metric_rows(session)
    return [metric_view(m, rows.get(m)) for m in METRICS]


def set_metric(session: Session, who: Principal, name: str, body: MetricSettingUpdate) -> MetricSettingView:
    _metric(name)
    row = session.scalar(select(MetricSettings).where(MetricSettings.metric == name).with_for_update())
    if row is None:
        row = MetricSettings(metric=name, enabled=True, interval_seconds=METRICS[name].default_interval_s)
        session.add(row)
    changes = {k: v for k, v in (("enabled", body.enabled), ("interval_seconds", body.interval_seconds))
               if v is not None}
    for field, value in changes.items():
        setattr(row, field, value)
    session.flush()
    audit(session, who, "metric_setting.update", f"metric:{name}", changes)
    return metric_view(name, row)
