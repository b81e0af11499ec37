"""Design-time and runtime content: packages, their integration flows (and zips), deployed artifacts."""

from __future__ import annotations

import json
from typing import Any

from litestar import Response

from simulator.api_logs import ApiCall, entity_reply, list_reply
from simulator.catalog import Iflow, Package
from simulator.render import odata_date
from simulator.responses import ApiError, raw_response

__all__ = [
    "designtime_artifact",
    "package_artifacts",
    "package_entity",
    "package_list",
    "runtime_count",
    "runtime_detail",
    "runtime_list",
]


def _meta(call: ApiCall, path: str, type_name: str) -> dict[str, str]:
    uri = f"{call.base}/{path}"
    return {"id": uri, "uri": uri, "type": f"com.sap.hci.api.{type_name}"}


def _package(call: ApiCall, package: Package) -> dict[str, Any]:
    path = f"IntegrationPackages('{package.id}')"
    return {
        "__metadata": _meta(call, path, "IntegrationPackage"),
        "Id": package.id,
        "Name": package.name,
        "Description": f"<p>{package.short_text}</p>",
        "ShortText": package.short_text,
        "Version": "1.0.0",
        "Vendor": package.vendor,
        "Mode": package.mode,
        "SupportedPlatform": "[SAP Cloud Integration]",
        "ModifiedBy": "S0001234567",
        "CreationDate": str(package.created_ms),
        "ModifiedDate": str(package.modified_ms),
        "CreatedBy": "S0001234567",
        "Products": "[]",
        "Keywords": "[]",
        "Countries": "[]",
        "Industries": "[]",
        "LineOfBusiness": "[]",
        "IntegrationDesigntimeArtifacts": {"__deferred": {"uri": f"{call.base}/{path}/IntegrationDesigntimeArtifacts"}},
    }


def _designtime(call: ApiCall, flow: Iflow) -> dict[str, Any]:
    path = f"IntegrationDesigntimeArtifacts(Id='{flow.id}',Version='{flow.version}')"
    return {
        "__metadata": _meta(call, path, "IntegrationDesigntimeArtifact"),
        "Id": flow.id,
        "Version": flow.version,
        "PackageId": flow.package_id,
        "Name": flow.name,
        "Description": f"{flow.sender} to {flow.receiver}",
        "ArtifactContent": None,
        "Configurations": {"__deferred": {"uri": f"{call.base}/{path}/Configurations"}},
        "Resources": {"__deferred": {"uri": f"{call.base}/{path}/Resources"}},
    }


def _runtime(call: ApiCall, flow: Iflow) -> dict[str, Any]:
    path = f"IntegrationRuntimeArtifacts('{flow.id}')"
    deployed = call.tenant.series.start_ms - (flow.index + 1) * 3_600_000
    return {
        "__metadata": _meta(call, path, "IntegrationRuntimeArtifact"),
        "Id": flow.id,
        "Version": flow.version,
        "Name": flow.name,
        "Type": "INTEGRATION_FLOW",
        "DeployedBy": "S0001234567",
        "DeployedOn": odata_date(deployed),
        "Status": flow.deployed_status,
        "ErrorInformation": {"__deferred": {"uri": f"{call.base}/{path}/ErrorInformation"}},
    }


def package_list(call: ApiCall) -> Response[bytes]:
    skip, top = call.int_param("$skip") or 0, call.int_param("$top")
    packages = call.tenant.catalog.packages[skip:]
    if top is not None:
        packages = packages[:top]
    return list_reply(call, "IntegrationPackages", [_package(call, p) for p in packages])


def _find_package(call: ApiCall, package_id: str) -> Package:
    package = call.tenant.catalog.package(package_id)
    if package is None:
        raise ApiError(404, "Not Found", f"integration package {package_id!r} does not exist")
    return package


def package_entity(call: ApiCall, package_id: str) -> Response[bytes]:
    return entity_reply(call, "IntegrationPackages", _package(call, _find_package(call, package_id)))


def package_artifacts(call: ApiCall, package_id: str) -> Response[bytes]:
    package = _find_package(call, package_id)
    return list_reply(call, "IntegrationDesigntimeArtifacts", [_designtime(call, f) for f in package.iflows])


def designtime_artifact(call: ApiCall, artifact_id: str, version: str, value: bool) -> Response[bytes]:
    """One flow (``Version='active'`` = current); ``value`` gives its zip, as CPI's export does."""
    flow = call.tenant.catalog.iflow(artifact_id)
    if flow is None or version not in ("active", flow.version):
        raise ApiError(404, "Not Found", f"integration flow {artifact_id!r} version {version!r} does not exist")
    if not value:
        return entity_reply(call, "IntegrationDesigntimeArtifacts", _designtime(call, flow))
    headers = {"Content-Disposition": f"attachment; filename={flow.id}.zip"}
    return raw_response(call.tenant.catalog.zip_for(flow), "application/zip", call.accept, headers)


def runtime_list(call: ApiCall) -> Response[bytes]:
    flows = call.tenant.catalog.iflows
    return list_reply(call, "IntegrationRuntimeArtifacts", [_runtime(call, f) for f in flows])


def runtime_count(call: ApiCall) -> Response[bytes]:
    return raw_response(str(len(call.tenant.catalog.iflows)).encode(), "text/plain", call.accept)


def runtime_detail(call: ApiCall, artifact_id: str, error_value: bool) -> Response[bytes]:
    flow = call.tenant.catalog.iflow(artifact_id)
    if flow is None:
        raise ApiError(404, "Not Found", f"runtime artifact {artifact_id!r} is not deployed")
    if not error_value:
        return entity_reply(call, "IntegrationRuntimeArtifacts", _runtime(call, flow))
    if flow.deployed_status != "ERROR":
        return raw_response(b"", "application/json", call.accept)
    error = {
        "message": {
            "subsytemName": "IntegrationRuntime",
            "messageId": "RUNTIME_DEPLOYMENT_FAILED",
            "messageText": f"Deployment of {flow.id} failed: unresolved property Receiver_Address",
        },
        "parameter": [flow.id],
        "childInstances": [],
    }
    return raw_response(json.dumps(error).encode(), "application/json", call.accept)
