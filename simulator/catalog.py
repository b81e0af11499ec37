"""Design-time content of a simulated tenant: packages, their integration flows, deployments.

Everything is derived from ``random.Random(f"{seed}:{tenant}")`` so a seed always gives the same
packages and flows. Flow versions can be bumped at run time (admin endpoint) to let tests check
that a zip is downloaded again only when its version changes.
"""

from __future__ import annotations

import io
import random
import zipfile
from dataclasses import dataclass, field

__all__ = ["Iflow", "Package", "TenantCatalog", "build_catalog"]

MAX_IFLOWS = 31  # the per-message kind byte packs the flow index in 5 bits

_PACKAGE_TOPICS = [
    ("SalesOrders", "Sales Orders"),
    ("FinanceInvoices", "Finance Invoices"),
    ("HRReplication", "HR Employee Replication"),
    ("LogisticsShipments", "Logistics Shipments"),
    ("MasterDataSync", "Master Data Sync"),
    ("ProcurementB2B", "Procurement B2B"),
]
_FLOW_VERBS = ["Sync", "Replicate", "Post", "Notify", "Import", "Export", "Route", "Enrich"]
_FLOW_OBJECTS = ["Order", "Invoice", "Employee", "Shipment", "Material", "Supplier", "Customer", "Payment"]
_SYSTEMS = ["S4HANA", "SuccessFactors", "Salesforce", "Ariba", "Concur", "EDI_Partner", "Workday", "ServiceNow"]
_HEADER_KEYS = ["po_number", "customer_id", "invoice_no", "employee_id", "shipment_id", "material_no"]
_ADAPTERS = ["HTTP Receiver", "SOAP Receiver", "OData Receiver", "AS2 Receiver", "SFTP Receiver", "IDoc Receiver"]


@dataclass(slots=True)
class Iflow:
    """One integration flow; ``index`` is its position in the tenant's flow list (message kind bits)."""

    index: int
    id: str
    name: str
    package_id: str
    package_name: str
    sender: str
    receiver: str
    adapter: str
    header_keys: tuple[str, ...]
    persists: bool
    has_app_id: bool
    weight: int
    version: str = "1.0.0"
    deployed_status: str = "STARTED"


@dataclass(slots=True)
class Package:
    id: str
    name: str
    short_text: str
    vendor: str
    mode: str
    created_ms: int
    modified_ms: int
    iflows: list[Iflow] = field(default_factory=list)


@dataclass(slots=True)
class TenantCatalog:
    packages: list[Package]
    iflows: list[Iflow]
    zips: dict[tuple[str, str], bytes] = field(default_factory=dict)

    def iflow(self, iflow_id: str) -> Iflow | None:
        return next((flow for flow in self.iflows if flow.id == iflow_id), None)

    def package(self, package_id: str) -> Package | None:
        return next((pkg for pkg in self.packages if pkg.id == package_id), None)

    def bump_version(self, iflow_id: str) -> Iflow | None:
        """Save the flow as a new patch version (what a developer does in the web UI)."""
        flow = self.iflow(iflow_id)
        if flow is not None:
            major, minor, patch = (int(part) for part in flow.version.split("."))
            flow.version = f"{major}.{minor}.{patch + 1}"
        return flow

    def zip_for(self, flow: Iflow) -> bytes:
        """The flow's content as CPI exports it (zip with manifest and .iflow), cached per version."""
        key = (flow.id, flow.version)
        if key not in self.zips:
            self.zips[key] = _build_zip(flow)
        return self.zips[key]


def build_catalog(seed: int, tenant: str, start_ms: int) -> TenantCatalog:
    rng = random.Random(f"{seed}:{tenant}:catalog")
    topics = rng.sample(_PACKAGE_TOPICS, k=rng.randint(3, 5))
    packages: list[Package] = []
    flows: list[Iflow] = []
    for pkg_id, pkg_name in topics:
        created = start_ms - rng.randint(30, 400) * 86_400_000
        package = Package(
            id=pkg_id,
            name=pkg_name,
            short_text=f"{pkg_name} integration scenarios",
            vendor=rng.choice(["SAP", "", "ACME"]),
            mode=rng.choice(["EDIT_ALLOWED", "EDIT_ALLOWED", "READ_ONLY"]),
            created_ms=created,
            modified_ms=created + rng.randint(1, 29) * 86_400_000,
        )
        for _ in range(rng.randint(2, 5)):
            if len(flows) >= MAX_IFLOWS:
                break
            flow = _new_flow(rng, len(flows), package, {f.id for f in flows})
            package.iflows.append(flow)
            flows.append(flow)
        packages.append(package)
    if len(flows) > 2:
        rng.choice(flows[1:]).deployed_status = "ERROR"
    return TenantCatalog(packages=packages, iflows=flows)


def _new_flow(rng: random.Random, index: int, package: Package, taken: set[str]) -> Iflow:
    while True:
        verb, obj = rng.choice(_FLOW_VERBS), rng.choice(_FLOW_OBJECTS)
        flow_id = f"{obj}_{verb}_{rng.randint(1, 99)}"
        if flow_id not in taken:
            break
    sender, receiver = rng.sample(_SYSTEMS, k=2)
    return Iflow(
        index=index,
        id=flow_id,
        name=f"{verb} {obj} {sender} to {receiver}",
        package_id=package.id,
        package_name=package.name,
        sender=sender,
        receiver=receiver,
        adapter=rng.choice(_ADAPTERS),
        header_keys=tuple(rng.sample(_HEADER_KEYS, k=rng.randint(0, 3))),
        persists=rng.random() < 0.4,
        has_app_id=rng.random() < 0.6,
        weight=rng.choice([1, 1, 2, 3, 5, 8]),
        version=f"1.{rng.randint(0, 4)}.{rng.randint(0, 9)}",
    )


def _build_zip(flow: Iflow) -> bytes:
    buffer = io.BytesIO()
    stamp = (2024, 1, 1, 0, 0, 0)
    manifest = (
        "Manifest-Version: 1.0\r\n"
        f"Bundle-SymbolicName: {flow.id}; singleton:=true\r\n"
        f"Bundle-Name: {flow.name}\r\n"
        f"Bundle-Version: {flow.version}\r\n"
        "SAP-BundleType: IntegrationFlow\r\n"
    )
    iflow_xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<bpmn2:definitions xmlns:bpmn2="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        f'id="Definitions_{flow.index}"><bpmn2:collaboration id="Collaboration_1" name="{flow.name}"/>'
        f'<bpmn2:process id="Process_1" name="{flow.id} {flow.version}"/></bpmn2:definitions>'
    )
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in (
            ("META-INF/MANIFEST.MF", manifest),
            (f"src/main/resources/scenarioflows/integrationflow/{flow.id}.iflow", iflow_xml),
            ("src/main/resources/parameters.prop", f"Receiver_Address=https://{flow.receiver.lower()}.example\n"),
        ):
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), text)
    return buffer.getvalue()
