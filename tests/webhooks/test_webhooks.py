"""Webhooks against a real HTTP receiver on localhost: subscriptions through
the API, deliveries recorded from each tenant's stored events (once per
subscription and event), signed, retried with backoff, logged, replayed,
paused after failing with the owner told; an organisation gets only the
events of records shared with it; no tenant sees another's subscriptions."""
from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from infra import webhooks
from infra.bootstrap import System
from tests.api.conftest import API, Org, bearer, candidate_body, contract_body
from tests.notifications.test_notifications import authority
from tests.webhooks.conftest import Receiver

SECRET_RE = r"^whsec_[A-Za-z0-9_-]{40,}$"


def subscribe(org: Org, url: str, types: list[str], token: str | None = None) -> dict[str, Any]:
    r = org.post("/webhooks", {"url": url, "event_types": types, "description": "partner sync"}, token)
    assert r.status_code == 201, r.text
    return r.json()


def deliver_all(system: System, tenant: Any, rounds: int = 1) -> list[webhooks.Attempted]:
    """What the worker does: follow the log and send each new delivery (its
    message), then send what is due (the sweep)."""
    done = [system.webhooks.attempt(delivery) for delivery in system.follow_webhooks(tenant)]
    for _ in range(rounds):
        for delivery in system.webhooks.due():
            done.append(system.webhooks.attempt(delivery))
    return done


def test_a_delivery_is_signed_and_carries_ids_only(local_hooks: System, org: Org, receiver: Receiver) -> None:
    created = subscribe(org, receiver.url(), ["CandidateRegistered", "SupportNeedsStated"])
    secret, sub = created["secret"], created["subscription"]
    assert sub["status"] == "active" and sub["event_types"] == ["CandidateRegistered", "SupportNeedsStated"]
    import re
    assert re.match(SECRET_RE, secret)
    # Events from before the subscription are not sent; these two are.
    candidate = org.create("/candidates", candidate_body(full_name="Fatima Zahra Bennani"))
    r = org.post(f"/candidates/{candidate}/support-needs", {"support_needs": "Rolstoeltoegankelijke werkplek"})
    assert r.status_code == 200, r.text
    org.create("/employers", {"name": "Niet geabonneerd B.V."})  # a type not subscribed to
    deliver_all(local_hooks, org.tenant)
    got = receiver.on("/hook")
    assert [json.loads(g.body)["type"] for g in got] == ["CandidateRegistered", "SupportNeedsStated"]
    for g in got:
        header = g.headers["Sroi-Signature"]
        assert webhooks.verify(secret, header, g.body)
        assert not webhooks.verify(secret, header, g.body + b" ")  # the body is what is signed
        assert not webhooks.verify("whsec_other", header, g.body)
        payload = json.loads(g.body)
        assert payload["record"] == {"type": "Candidate", "id": candidate, "version": payload["record"]["version"]}
        assert g.headers["Sroi-Event-Id"] == payload["id"] and g.headers["Sroi-Event-Type"] == payload["type"]
        text = g.body.decode()
        for secret_word in ("Fatima", "Bennani", "Rolstoel", "werkplek", "doelgroepregister", "1990"):
            assert secret_word not in text
        assert set(payload) == {"id", "type", "position", "occurred_at", "record", "links"}
    # The log through the API: succeeded, one attempt each, with the receiver's answer.
    log = org.get(f"/webhooks/{sub['id']}/deliveries").json()["items"]
    assert [d["status"] for d in log] == ["succeeded", "succeeded"]
    detail = org.get(f"/webhooks/{sub['id']}/deliveries/{log[0]['id']}").json()
    (attempt,) = detail["attempt_log"]
    assert attempt["status_code"] == 200 and attempt["response_body"] == "ok" and attempt["duration_ms"] >= 0
    assert "Rolstoel" not in json.dumps(detail)
    # A signature older than the tolerance is refused by a receiver that checks.
    t = int(header.split(",")[0][2:])
    assert not webhooks.verify(secret, header, got[-1].body, now=t + webhooks.TOLERANCE_SECONDS + 1)


def test_following_twice_records_each_event_once(local_hooks: System, org: Org, receiver: Receiver) -> None:
    sub = subscribe(org, receiver.url(), ["*"])["subscription"]
    org.create("/employers", {"name": "Eens B.V."})
    first = local_hooks.follow_webhooks(org.tenant)
    again = local_hooks.follow_webhooks(org.tenant)
    assert len(first) == 1 and again == []
    org.create("/employers", {"name": "Twee B.V."})
    assert len(local_hooks.follow_webhooks(org.tenant)) == 1
    assert len(org.get(f"/webhooks/{sub['id']}/deliveries").json()["items"]) == 2


def test_the_log_keeps_finished_deliveries_for_its_days_and_what_is_still_to_be_sent(
        local_hooks: System, org: Org, receiver: Receiver) -> None:
    sub = subscribe(org, receiver.url(), ["*"])["subscription"]
    for name in ("Oud Geleverd B.V.", "Oud Mislukt B.V.", "Oud Wachtend B.V.", "Recent B.V."):
        org.create("/employers", {"name": name})
    assert len(local_hooks.follow_webhooks(org.tenant)) == 4
    with local_hooks.stores.database("default").connection() as conn:
        rows = conn.execute("SELECT id FROM platform.webhook_deliveries WHERE subscription_id = %s"
                            " ORDER BY position", (uuid.UUID(sub["id"]),)).fetchall()
        ids = [r["id"] for r in rows]
        for ident, status, age in zip(ids, ("succeeded", "failed", "retrying", "succeeded"), (31, 31, 31, 29)):
            conn.execute("UPDATE platform.webhook_deliveries SET status = %s,"
                         " created_at = now() - %s * interval '1 day' WHERE id = %s", (status, age, ident))
            conn.execute("INSERT INTO platform.webhook_attempts (delivery_id, attempt, started_at, duration_ms,"
                         " status_code) VALUES (%s, 1, now(), 5, 200)", (ident,))
    assert local_hooks.webhooks.prune() == 2
    with local_hooks.stores.database("default").connection() as conn:
        left = [r["id"] for r in conn.execute("SELECT id FROM platform.webhook_deliveries WHERE subscription_id = %s"
                                             " ORDER BY position", (uuid.UUID(sub["id"]),)).fetchall()]
        attempts = conn.execute("SELECT count(*) AS n FROM platform.webhook_attempts WHERE delivery_id = ANY(%s)",
                                (ids,)).fetchone()["n"]
    assert left == ids[2:] and attempts == 2  # the old one waiting for a retry stays, and the recent one
    assert local_hooks.webhooks.prune() == 0
    assert {d["id"] for d in org.get(f"/webhooks/{sub['id']}/deliveries").json()["items"]} == set(map(str, ids[2:]))


def test_retries_back_off_then_pause_and_the_owner_is_told(local_hooks: System, org: Org,
                                                           receiver: Receiver) -> None:
    receiver.default = 500
    sub = subscribe(org, receiver.url(), ["EmployerRegistered"])["subscription"]
    org.create("/employers", {"name": "Kapot B.V."})
    org.create("/employers", {"name": "Ook kapot B.V."})
    deadline = time.monotonic() + 20
    while org.get(f"/webhooks/{sub['id']}").json()["status"] == "active" and time.monotonic() < deadline:
        deliver_all(local_hooks, org.tenant)
        time.sleep(0.05)
    now = org.get(f"/webhooks/{sub['id']}").json()
    assert now["status"] == "paused" and now["consecutive_failures"] == 4
    assert "4 failed attempts" in now["paused_reason"]
    # Backoff: the gaps between one delivery's tries grow (0.2 s, then 0.8 s).
    log = org.get(f"/webhooks/{sub['id']}/deliveries").json()["items"]
    detail = [org.get(f"/webhooks/{sub['id']}/deliveries/{d['id']}").json() for d in log]
    tried = max(detail, key=lambda d: d["attempts"])
    assert tried["attempts"] >= 2 and all(a["status_code"] == 500 for a in tried["attempt_log"])
    assert len(tried["attempt_log"][0]["response_body"]) == webhooks.RESPONSE_KEEP  # truncated
    # Paused: nothing more is sent, however often the worker looks.
    sent = len(receiver.on("/hook"))
    time.sleep(1.0)
    deliver_all(local_hooks, org.tenant)
    assert len(receiver.on("/hook")) == sent
    # The agency's users are told, in their notifications.
    told = org.get("/notifications").json()["notifications"]
    assert [(n["kind"], n["subscription_id"], n["link"]) for n in told] == [
        ("webhook_paused", sub["id"], f"/webhooks/{sub['id']}")]
    # Resumed, the receiver well again: the held deliveries go out.
    receiver.default = 200
    r = org.post(f"/webhooks/{sub['id']}/resume", None)
    assert r.status_code == 200 and r.json()["status"] == "active" and r.json()["consecutive_failures"] == 0
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        deliver_all(local_hooks, org.tenant)
        items = org.get(f"/webhooks/{sub['id']}/deliveries").json()["items"]
        if all(d["status"] in ("succeeded", "failed") for d in items):
            break
        time.sleep(0.1)
    statuses = {d["status"] for d in org.get(f"/webhooks/{sub['id']}/deliveries").json()["items"]}
    assert statuses <= {"succeeded", "failed"} and "succeeded" in statuses


def test_replay_sends_again_signed_afresh(local_hooks: System, org: Org, receiver: Receiver) -> None:
    receiver.script = [503, 503, 503]  # three tries: the delivery fails for good
    created = subscribe(org, receiver.url(), ["EmployerRegistered"])
    secret, sub = created["secret"], created["subscription"]
    org.create("/employers", {"name": "Opnieuw B.V."})
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        deliver_all(local_hooks, org.tenant)
        (d,) = org.get(f"/webhooks/{sub['id']}/deliveries").json()["items"]
        if d["status"] == "failed":
            break
        time.sleep(0.05)
    assert d["status"] == "failed" and d["attempts"] == 3 and d["last_status_code"] == 503
    failed = org.get(f"/webhooks/{sub['id']}/deliveries?status=failed").json()["items"]
    assert [f["id"] for f in failed] == [d["id"]]
    time.sleep(1.1)  # a new second: the new signature's timestamp differs
    r = org.post(f"/webhooks/{sub['id']}/replay", {"since": "2020-01-01T00:00:00Z"})
    assert r.status_code == 200 and r.json()["replayed"] == [d["id"]]
    deliver_all(local_hooks, org.tenant)
    got = receiver.on("/hook")
    assert len(got) == 4 and got[-1].body == got[0].body
    assert got[-1].headers["Sroi-Signature"] != got[0].headers["Sroi-Signature"]
    assert webhooks.verify(secret, got[-1].headers["Sroi-Signature"], got[-1].body)
    detail = org.get(f"/webhooks/{sub['id']}/deliveries/{d['id']}").json()
    assert detail["status"] == "succeeded"
    assert [(a["status_code"], a["replay"]) for a in detail["attempt_log"]] == [
        (503, False), (503, False), (503, False), (200, True)]
    # One delivery again, after a rotation: signed by the new secret and, for a day, the old.
    rotated = org.post(f"/webhooks/{sub['id']}/rotate-secret", None).json()
    assert rotated["secret"] != secret and rotated["subscription"]["previous_secret_until"]
    r = org.post(f"/webhooks/{sub['id']}/deliveries/{d['id']}/replay", None)
    assert r.status_code == 200
    deliver_all(local_hooks, org.tenant)
    last = receiver.on("/hook")[-1]
    assert webhooks.verify(rotated["secret"], last.headers["Sroi-Signature"], last.body)
    assert webhooks.verify(secret, last.headers["Sroi-Signature"], last.body)


def test_an_organisation_gets_only_what_is_shared_with_it(local_hooks: System, org: Org, new_org: Any,
                                                          receiver: Receiver) -> None:
    utrecht = authority(local_hooks, "Gemeente Utrecht")
    other = new_org("Andere Detachering B.V.")
    r = org.client.post(API + "/webhooks", json={"url": receiver.url("/utrecht"), "event_types": ["*"]},
                        headers=bearer(utrecht.token))
    assert r.status_code == 201, r.text
    sub = r.json()["subscription"]
    # An organisation may not subscribe to sickness or support events.
    r = org.client.post(API + "/webhooks", json={"url": receiver.url(), "event_types": ["SicknessReported"]},
                        headers=bearer(utrecht.token))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "event_types"
    employer = org.create("/employers", {"name": "Bouwbedrijf De Vries"})
    shared = org.create("/contracts", contract_body(employer, title="Gedeeld",
                                                    authority_org_id=str(utrecht.org_id)))
    org.create("/contracts", contract_body(employer, title="Niet gedeeld"))
    org.create("/candidates", candidate_body())
    other_employer = other.create("/employers", {"name": "Ander B.V."})
    other.create("/contracts", contract_body(other_employer, title="Ander"))
    for tenant in (org.tenant, other.tenant):
        deliver_all(local_hooks, tenant)
    got = [json.loads(g.body) for g in receiver.on("/utrecht")]
    assert got and {g["record"]["id"] for g in got} == {shared}
    assert all("links" not in g for g in got)  # an organisation's payload names only the shared record
    assert [d["status"] for d in org.client.get(
        API + f"/webhooks/{sub['id']}/deliveries", headers=bearer(utrecht.token)).json()["items"]] == \
        ["succeeded"] * len(got)
    # The agency does not see the organisation's subscription, nor it the agency's.
    assert org.get(f"/webhooks/{sub['id']}").status_code == 404
    assert org.client.get(API + "/webhooks", headers=bearer(utrecht.token)).json()["items"] == [sub | {
        "updated_at": sub["updated_at"]}]


def test_tenants_never_see_each_others_subscriptions(local_hooks: System, org: Org, new_org: Any,
                                                     receiver: Receiver) -> None:
    sub = subscribe(org, receiver.url(), ["*"])["subscription"]
    org.create("/employers", {"name": "Eigen B.V."})
    deliver_all(local_hooks, org.tenant)
    (delivery,) = org.get(f"/webhooks/{sub['id']}/deliveries").json()["items"]
    other = new_org("Andere Detachering B.V.")
    base = f"/webhooks/{sub['id']}"
    for path in (base, f"{base}/deliveries", f"{base}/deliveries/{delivery['id']}"):
        r = other.get(path)
        assert r.status_code == 404, (path, r.text)
    for path, body in ((f"{base}/pause", None), (f"{base}/rotate-secret", None),
                       (f"{base}/deliveries/{delivery['id']}/replay", None),
                       (f"{base}/replay", {"since": "2020-01-01T00:00:00Z"})):
        assert other.post(path, body).status_code == 404, path
    assert other.client.patch(API + base, json={"url": "https://93.184.216.34/x"},
                              headers=bearer(other.agency_token)).status_code == 404
    assert other.client.delete(API + base, headers=bearer(other.agency_token)).status_code == 404
    assert other.get("/webhooks").json()["items"] == []
    assert org.get(base).json()["status"] == "active"
    # Roles that do not manage webhooks: 403.
    for role in ("auditor", "employee"):
        kwargs = {"candidate_id": uuid.uuid4()} if role == "employee" else {}
        assert org.get("/webhooks", org.token_for(role, **kwargs)).status_code == 403


def test_bad_subscriptions_are_refused_naming_the_field(system: System, org: Org, receiver: Receiver) -> None:
    # Without WEBHOOK_ALLOW_PRIVATE: https only, and public addresses only.
    cases = [
        ({"url": receiver.url(), "event_types": ["*"]}, "url", "https"),
        ({"url": "https://127.0.0.1:9/hook", "event_types": ["*"]}, "url", "public address"),
        ({"url": "https://169.254.169.254/latest", "event_types": ["*"]}, "url", "public address"),
        ({"url": "https://[::1]/x", "event_types": ["*"]}, "url", "public address"),
        ({"url": "https://10.1.2.3/x", "event_types": ["*"]}, "url", "public address"),
        ({"url": "https://user:pw@example.org/x", "event_types": ["*"]}, "url", "password"),
        ({"url": "ftp://example.org/x", "event_types": ["*"]}, "url", "https"),
        ({"url": "https://93.184.216.34/x", "event_types": []}, "event_types", "at least one"),
        ({"url": "https://93.184.216.34/x", "event_types": ["NoSuchEvent"]}, "event_types", "NoSuchEvent"),
        ({"url": "https://93.184.216.34/x", "event_types": ["*"], "description": "x" * 201}, "description", "200"),
    ]
    for body, field, words in cases:
        r = org.post("/webhooks", body)
        assert r.status_code == 422, (body, r.text)
        (error,) = r.json()["errors"]
        assert error["field"] == field and words in error["message"], (body, error)
    assert org.get("/webhooks").json()["items"] == []  # nothing half-written
    r = org.post("/webhooks", {"url": "https://93.184.216.34/x", "event_types": ["*"], "secret": "mine"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "secret"


def test_concurrent_edits_one_wins(local_hooks: System, org: Org, receiver: Receiver) -> None:
    sub = subscribe(org, receiver.url(), ["*"])["subscription"]
    path = API + f"/webhooks/{sub['id']}"
    headers = {**bearer(org.agency_token), "If-Match": str(sub["version"])}
    first = org.client.patch(path, json={"event_types": ["EmployerRegistered"]}, headers=headers)
    second = org.client.patch(path, json={"url": receiver.url("/other")}, headers=headers)
    assert first.status_code == 200 and first.json()["version"] == sub["version"] + 1
    assert second.status_code == 409
    assert org.get(f"/webhooks/{sub['id']}").json()["url"] == receiver.url()


def test_a_host_that_cannot_be_reached_is_tried_once_per_back_off_not_once_per_delivery(
        local_hooks: System, org: Org, receiver: Receiver) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on: every connection is refused at once
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/hook"
    down = subscribe(org, dead, ["EmployerRegistered"])["subscription"]
    well = subscribe(org, receiver.url(), ["EmployerRegistered"])["subscription"]
    for i in range(3):
        org.create("/employers", {"name": f"Werkgever {i} B.V."})
    local_hooks.follow_webhooks(org.tenant)

    def deliveries(sub: dict[str, Any]) -> list[dict[str, Any]]:
        items = org.get(f"/webhooks/{sub['id']}/deliveries").json()["items"]
        return [org.get(f"/webhooks/{sub['id']}/deliveries/{d['id']}").json() for d in items]

    results = [local_hooks.webhooks.attempt(uuid.UUID(d["id"])) for d in deliveries(down)]
    assert [r.sent for r in results] == [True, False, False]  # one refused connection, then the host waits
    assert all(r.retry_in is not None and 0 < r.retry_in <= 0.2 for r in results)
    assert sum(d["attempts"] for d in deliveries(down)) == 1
    assert org.get(f"/webhooks/{down['id']}").json()["consecutive_failures"] == 1  # waiting is no failure
    # Another host is not held up.
    sent = [local_hooks.webhooks.attempt(uuid.UUID(d["id"])) for d in deliveries(well)]
    assert [r.succeeded for r in sent] == [True, True, True] and len(receiver.on("/hook")) == 3
    # After the back-off the host is tried again (once), and waits longer.
    time.sleep(0.25)
    again = [local_hooks.webhooks.attempt(uuid.UUID(d["id"])) for d in deliveries(down)]
    assert sum(r.sent for r in again) == 1 and sum(d["attempts"] for d in deliveries(down)) == 2
    assert min(r.retry_in for r in again if not r.sent) > 0.5  # 0.2 s x 4


def test_the_sweep_sends_one_message_per_delivery_not_one_per_sweep(
        local_hooks: System, org: Org, receiver: Receiver) -> None:
    """A sweep every few seconds must not pile up messages for deliveries
    whose message waits in the queue: each is sent once per turn."""
    subscribe(org, receiver.url(), ["EmployerRegistered"])
    org.create("/employers", {"name": "Eenmaal B.V."})
    (delivery,) = local_hooks.follow_webhooks(org.tenant)  # the follower sends its message
    hooks = local_hooks.webhooks
    assert delivery not in hooks.due()  # on its way already
    with local_hooks.stores.database("default").connection() as conn:  # that message was lost
        conn.execute("UPDATE platform.webhook_deliveries SET enqueued_until = now() - interval '1 second'"
                     " WHERE id = %s", (delivery,))
    assert delivery in hooks.due() and delivery not in hooks.due()  # sent again, once
    receiver.script = [500]
    tried = hooks.attempt(delivery)
    assert tried.sent and not tried.succeeded and tried.retry_in == pytest.approx(0.2)
    time.sleep(0.25)  # the retry is due: the sweep sends it (once), as does the worker's delayed message
    assert delivery in hooks.due() and delivery not in hooks.due()
    assert hooks.attempt(delivery).succeeded
