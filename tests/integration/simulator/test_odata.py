"""The simulator's OData behaviour over real HTTP: paging, filters, counts, formats, auth, faults, data."""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from simulator.config import SimulatorConfig
from simulator.server import SimulatorServer, TenantEndpoint

MPL = "MessageProcessingLogs"


def results(reply: httpx.Response) -> list[dict[str, Any]]:
    assert reply.status_code == 200, reply.text
    found: list[dict[str, Any]] = reply.json()["d"]["results"]
    return found


def follow_all(api: httpx.Client, params: dict[str, str]) -> tuple[list[dict[str, Any]], int]:
    """Every entity of a query, following ``__next`` links; also the number of pages."""
    reply = api.get(MPL, params={"$format": "json", **params})
    entities, pages = results(reply), 1
    while "__next" in reply.json()["d"]:
        assert len(reply.json()["d"]["results"]) == 1000
        reply = api.get(reply.json()["d"]["__next"])
        entities += results(reply)
        pages += 1
    return entities, pages


def count(api: httpx.Client, expression: str | None = None) -> int:
    reply = api.get(f"{MPL}/$count", params={"$filter": expression} if expression else {})
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain")
    return int(reply.text)


def test_paging_past_1000_is_complete_ordered_and_matches_count(api: httpx.Client) -> None:
    window = "LogEnd le datetime'2099-01-01T00:00:00'"
    expected = count(api, window)
    assert expected > 2000  # 2 days x 1000 history plus live messages
    entities, pages = follow_all(api, {"$filter": window, "$orderby": "LogEnd"})
    guids = [e["MessageGuid"] for e in entities]
    assert len(guids) == len(set(guids)) >= expected  # live messages may arrive while paging
    assert pages == -(-len(guids) // 1000)
    keys = [(int(e["LogEnd"][6:-2]), e["MessageGuid"]) for e in entities]
    assert keys == sorted(keys)


def test_skiptoken_pages_stay_stable_while_new_messages_arrive(api: httpx.Client) -> None:
    first = api.get(MPL, params={"$format": "json"}).json()["d"]
    time.sleep(0.3)  # 50 msg/s: ~15 new messages arrive at the end
    second = results(api.get(first["__next"]))
    again = api.get(MPL, params={"$format": "json"}).json()["d"]
    assert [e["MessageGuid"] for e in again["results"]] == [e["MessageGuid"] for e in first["results"]]
    assert second[0]["MessageGuid"] not in {e["MessageGuid"] for e in first["results"]}
    assert int(second[0]["LogEnd"][6:-2]) >= int(first["results"][-1]["LogEnd"][6:-2])


def test_filters_on_status_flow_and_time_agree_with_counts(api: httpx.Client) -> None:
    sample = results(api.get(MPL, params={"$format": "json", "$top": "50"}))
    flow = sample[0]["IntegrationArtifact"]["Id"]
    middle = int(sample[25]["LogEnd"][6:-2])
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(middle // 1000)) + f".{middle % 1000:03d}"
    cases: list[tuple[str, Callable[[dict[str, Any]], bool]]] = [
        ("Status eq 'FAILED'", lambda e: e["Status"] == "FAILED"),
        (f"IntegrationArtifact/Id eq '{flow}'", lambda e: e["IntegrationArtifact"]["Id"] == flow),
        (
            f"IntegrationFlowName eq '{flow}' and Status ne 'COMPLETED'",
            lambda e: e["IntegrationArtifact"]["Id"] == flow and e["Status"] != "COMPLETED",
        ),
        ("(Status eq 'FAILED' or Status eq 'RETRY')", lambda e: e["Status"] in ("FAILED", "RETRY")),
        (
            f"LogEnd gt datetime'{stamp}' and LogEnd le datetime'2099-01-01T00:00:00'",
            lambda e: int(e["LogEnd"][6:-2]) > middle,
        ),
        (f"LogStart ge datetime'{stamp}'", lambda e: int(e["LogStart"][6:-2]) >= middle),
    ]
    frozen = f" and LogEnd le datetime'{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(time.time() - 5))}'"
    everything, _ = follow_all(api, {"$filter": frozen[5:]})
    for expression, keep in cases:
        full = expression + frozen
        entities, _ = follow_all(api, {"$filter": full})
        expected = [e["MessageGuid"] for e in everything if keep(e)]
        assert [e["MessageGuid"] for e in entities] == expected, expression
        assert count(api, full) == len(expected), expression
        assert expected, f"no data for {expression}"


def test_inlinecount_top_skip_and_desc_order(api: httpx.Client) -> None:
    frozen = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 5))  # no arrivals inside the window
    window = {"$filter": f"Status eq 'FAILED' and LogEnd le datetime'{frozen}'", "$format": "json"}
    data = api.get(MPL, params={**window, "$inlinecount": "allpages", "$top": "5", "$skip": "2"}).json()["d"]
    assert data["__count"] == str(count(api, window["$filter"]))  # a string, as real CPI sends it
    full = results(api.get(MPL, params={**window, "$top": "7"}))
    assert [e["MessageGuid"] for e in data["results"]] == [e["MessageGuid"] for e in full[2:7]]
    assert "__next" not in data
    newest = results(api.get(MPL, params={**window, "$orderby": "LogEnd desc", "$top": "3"}))
    ends = [int(e["LogEnd"][6:-2]) for e in newest]
    assert ends == sorted(ends, reverse=True)


def test_top_above_1000_pages_with_next_and_stops_at_top(api: httpx.Client) -> None:
    entities, pages = follow_all(api, {"$top": "1500"})
    assert (len(entities), pages) == (1500, 2)


def test_formats_xml_default_json_on_request_and_406(api: httpx.Client) -> None:
    xml = api.get(MPL, params={"$top": "2"})
    assert xml.headers["content-type"].startswith("application/atom+xml")
    assert xml.text.count("<entry>") == 2
    assert "<d:MessageGuid>" in xml.text
    by_accept = api.get(MPL, params={"$top": "2"}, headers={"Accept": "application/json"})
    assert len(results(by_accept)) == 2
    refused = api.get(MPL, params={"$top": "2"}, headers={"Accept": "text/csv"})
    assert refused.status_code == 406
    assert "application/json" in refused.text


def test_bad_queries_are_400_naming_the_problem(api: httpx.Client) -> None:
    cases = {
        "Sender eq 'x'": "Sender",
        "LogEnd gt datetime'2024-01-01T00:00:00Z'": "zone",
        "Status eq": "expected",
    }
    for expression, word in cases.items():
        reply = api.get(MPL, params={"$format": "json", "$filter": expression})
        assert reply.status_code == 400, expression
        assert word in reply.json()["error"]["message"]["value"]
    assert api.get(MPL, params={"$top": "-1"}).status_code == 400
    assert api.get(MPL, params={"$orderby": "Sender"}).status_code == 400


def test_message_details_text_lists_and_bodies(api: httpx.Client) -> None:
    failed = results(api.get(MPL, params={"$format": "json", "$filter": "Status eq 'FAILED'", "$top": "1"}))[0]
    guid = failed["MessageGuid"]
    error = api.get(f"{MPL}('{guid}')/ErrorInformation/$value")
    assert error.status_code == 200
    assert error.headers["content-type"].startswith("text/plain")
    assert guid in error.text
    attachments = results(api.get(f"{MPL}('{guid}')/Attachments", params={"$format": "json"}))
    body = api.get(f"MessageProcessingLogAttachments('{attachments[0]['Id']}')/$value")
    assert body.status_code == 200
    assert len(body.content) == int(attachments[0]["PayloadSize"])
    completed = results(api.get(MPL, params={"$format": "json", "$filter": "Status eq 'COMPLETED'", "$top": "1"}))[0]
    assert api.get(f"{MPL}('{completed['MessageGuid']}')/ErrorInformation/$value").text == ""
    assert api.get(f"{MPL}('AGnotthere')", params={"$format": "json"}).status_code == 404
    assert api.get("MessageProcessingLogAttachments('sap-it-res:msg:x:y:1')/$value").status_code == 404


def test_message_store_payload(api: httpx.Client) -> None:
    logs = results(api.get(MPL, params={"$format": "json", "$top": "200", "$expand": "MessageStoreEntries"}))
    entry = next(e for log in logs for e in log["MessageStoreEntries"]["results"])
    payload = api.get(f"MessageStoreEntries('{entry['Id']}')/$value")
    assert payload.status_code == 200
    assert payload.content.startswith(b"<?xml")


def test_packages_flows_zip_and_version_bump(sim: SimulatorServer, api: httpx.Client) -> None:
    packages = results(api.get("IntegrationPackages", params={"$format": "json"}))
    assert 3 <= len(packages) <= 5
    flows = results(
        api.get(
            f"IntegrationPackages('{packages[0]['Id']}')/IntegrationDesigntimeArtifacts", params={"$format": "json"}
        )
    )
    flow = flows[0]
    first = api.get(f"IntegrationDesigntimeArtifacts(Id='{flow['Id']}',Version='active')/$value")
    assert first.headers["content-type"] == "application/zip"
    manifest = zipfile.ZipFile(io.BytesIO(first.content)).read("META-INF/MANIFEST.MF").decode()
    assert f"Bundle-Version: {flow['Version']}" in manifest
    bumped = httpx.post(f"{sim.url}/_sim/tenants/tenant1/iflows/{flow['Id']}/bump-version").json()
    assert bumped["version"] != flow["Version"]
    second = api.get(f"IntegrationDesigntimeArtifacts(Id='{flow['Id']}',Version='active')/$value")
    assert (
        f"Bundle-Version: {bumped['version']}"
        in zipfile.ZipFile(io.BytesIO(second.content)).read("META-INF/MANIFEST.MF").decode()
    )
    runtime = results(api.get("IntegrationRuntimeArtifacts", params={"$format": "json"}))
    assert api.get("IntegrationRuntimeArtifacts/$count").text == str(len(runtime))
    broken = [r for r in runtime if r["Status"] == "ERROR"]
    assert broken, "every tenant has one failed deployment"
    assert "Deployment" in api.get(f"IntegrationRuntimeArtifacts('{broken[0]['Id']}')/ErrorInformation/$value").text


def test_oauth_token_expiry_and_basic_auth(sim: SimulatorServer, t1: TenantEndpoint) -> None:
    with httpx.Client(timeout=10) as http:
        assert http.get(f"{t1.api_url}/{MPL}/$count").status_code == 401
        wrong = http.post(t1.token_url, data={"grant_type": "client_credentials"}, auth=(t1.client_id, "wrong"))
        assert wrong.status_code == 401
        token = http.post(
            t1.token_url, data={"grant_type": "client_credentials"}, auth=(t1.client_id, t1.client_secret)
        ).json()
        assert token["token_type"] == "bearer"
        assert token["expires_in"] > 0
        bearer = {"Authorization": f"Bearer {token['access_token']}"}
        assert http.get(f"{t1.api_url}/{MPL}/$count", headers=bearer).status_code == 200
        other = sim.tenant("tenant2")
        assert http.get(f"{other.api_url}/{MPL}/$count", headers=bearer).status_code == 401  # tokens are per tenant
        httpx.post(f"{sim.url}/_sim/tenants/tenant1/tokens/expire").raise_for_status()
        assert http.get(f"{t1.api_url}/{MPL}/$count", headers=bearer).status_code == 401


def test_faults_are_injected_as_configured(sim: SimulatorServer, api: httpx.Client) -> None:
    admin = f"{sim.url}/_sim/tenants/tenant1/faults"
    bad = httpx.post(admin, json={"status_429_evry": 2})
    assert bad.status_code == 400
    assert "status_429_evry" in bad.text
    httpx.post(admin, json={"script": ["429", "503", "malformed"], "retry_after_s": 2}).raise_for_status()
    limited = api.get(f"{MPL}", params={"$format": "json", "$top": "1"})
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "2")
    assert api.get(MPL, params={"$format": "json", "$top": "1"}).status_code == 503
    malformed = api.get(MPL, params={"$format": "json", "$top": "1"})
    assert malformed.status_code == 200
    with pytest.raises(ValueError):
        malformed.json()
    assert api.get(MPL, params={"$format": "json", "$top": "1"}).status_code == 200
    httpx.post(admin, json={"status_5xx_every": 2, "status_5xx_code": 500, "latency_ms": 30}).raise_for_status()
    statuses = [api.get(f"{MPL}/$count").status_code for _ in range(4)]
    assert statuses.count(500) == 2
    assert statuses.count(200) == 2
    httpx.post(admin, json={"timeout_every": 1, "hang_s": 5}).raise_for_status()
    with pytest.raises(httpx.ReadTimeout):
        api.get(f"{MPL}/$count", timeout=0.3)
    injected = httpx.get(admin).json()["injected"]
    assert injected == {"429": 1, "503": 1, "malformed": 1, "500": 2, "timeout": 1}


def test_same_seed_gives_same_data_and_new_messages_keep_arriving() -> None:
    config = SimulatorConfig(
        tenants=1,
        seed=11,
        rate=200.0,
        failure_ratio=0.5,
        history_days=1,
        history_per_day=500,
        start_ms=int(time.time() * 1000),
    )
    pages = []
    for _ in range(2):
        with (
            SimulatorServer(config) as sim,
            httpx.Client(auth=(sim.tenant().client_id, sim.tenant().client_secret)) as http,
        ):
            pages.append(results(http.get(f"{sim.tenant().api_url}/{MPL}", params={"$format": "json", "$top": "300"})))
    strip = [
        [
            {k: v for k, v in e.items() if k not in ("__metadata", "AlternateWebLink") and "__deferred" not in str(v)}
            for e in p
        ]
        for p in pages
    ]
    assert strip[0] == strip[1]
    with (
        SimulatorServer(config) as sim,
        httpx.Client(auth=(sim.tenant().client_id, sim.tenant().client_secret)) as http,
    ):
        url = f"{sim.tenant().api_url}/{MPL}/$count"
        before = int(http.get(url, params={"$filter": "Status eq 'FAILED'"}).text)
        all_before = int(http.get(url).text)
        time.sleep(0.5)
        after = int(http.get(url, params={"$filter": "Status eq 'FAILED'"}).text)
        all_after = int(http.get(url).text)
    assert all_after - all_before >= 50  # 200 msg/s for 0.5 s
    assert after > before  # half of them fail


def test_expand_inlines_navigation_in_json_and_xml(api: httpx.Client) -> None:
    params = {"$filter": "Status eq 'FAILED'", "$top": "1", "$expand": "AdapterAttributes"}
    entity = results(api.get(MPL, params={**params, "$format": "json"}))[0]
    attributes = entity["AdapterAttributes"]["results"]
    assert {a["Name"] for a in attributes} >= {"ResponseCode"}
    xml = api.get(MPL, params=params).text
    assert "<m:inline><feed>" in xml
    assert xml.count("<d:AdapterId>") == len(attributes)
