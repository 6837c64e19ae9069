"""Period statements over HTTP: prepare, review, submit, decide per line, and
what a later change to a decided period does (a correction line, never a
moved accepted figure)."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

from tests.api.conftest import Org
from tests.projections.conftest import catch_up


def setup(org: Org) -> tuple[dict[str, str], str]:
    """The seeded contract (2025-2027, Utrecht) with a placement from
    2025-02-01 at 24 hours (doelgroepregister: 50,000 a year full time) and a
    purchase invoiced in 2025; the authority's token."""
    ids = org.seed()
    r = org.post(f"/contracts/{ids['contract']}/contributions", {
        "kind": "social_enterprise_purchase", "supplier": "Groen Doen B.V.",
        "invoice_amount_eur_excl_vat": "10000.00", "register": "registered_social_enterprise",
        "invoice_date": "2025-03-01", "description": "Groenonderhoud"})
    assert r.status_code == 201, r.text
    ids["purchase"] = r.json()["id"]
    return ids, org.token_for("authority", organisation="Gemeente Utrecht")


def field_of(r: Any) -> str:
    return r.json()["errors"][0]["field"]


def compliance(org: Org, contract: str, position: str, as_of: str = "2026-12-31") -> dict[str, Any]:
    catch_up(org.system, org.tenant)  # what the worker does
    r = org.get(f"/contracts/{contract}/compliance?as_of={as_of}&min_position={position}")
    assert r.status_code == 200 and "X-Projection-Stale" not in r.headers, r.text
    return r.json()


def test_a_statement_is_prepared_reviewed_submitted_and_decided_per_line(org: Org) -> None:
    ids, authority = setup(org)
    invoice = org.client.post(f"/api/v1/contributions/{ids['purchase']}/documents",
                              files={"file": ("factuur.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n",
                                              "application/pdf")},
                              data={"kind": "invoice"}, headers={"Authorization": f"Bearer {org.agency_token}"})
    assert invoice.status_code == 201, invoice.text
    r = org.post(f"/contracts/{ids['contract']}/statements", {"period_start": "2025-01-01",
                                                              "period_end": "2025-12-31"})
    assert r.status_code == 201, r.text
    statement = r.json()["id"]

    draft = org.get(f"/statements/{statement}").json()
    assert draft["status"] == "draft" and draft["final"] is False
    assert [line["kind"] for line in draft["lines"]] == ["placement", "social_enterprise_purchase"]
    placement_line = draft["lines"][0]
    # 2025-02-01..2025-12-31: 334 days at 24/36 of 50,000 a year (Utrecht)
    assert placement_line["value_eur"] == "30502.28"
    assert placement_line["days"] == 334
    assert placement_line["explanation"]["segments"][0]["hours_per_week"] == "24"
    assert placement_line["explanation"]["block"]["eur_per_year"] == "50000"
    assert placement_line["explanation"]["days"]["counted"] == 334
    assert draft["lines"][1]["value_eur"] == "10000.00"
    assert draft["lines"][1]["documents"] == [invoice.json()["id"]]  # the evidence, by reference
    assert draft["totals"]["reported_eur"] == "40502.28"

    # The authority cannot decide a draft, and the agency cannot decide at all.
    r = org.post(f"/statements/{statement}/decisions", [{"line_id": "L1", "decision": "accepted"}], authority)
    assert r.status_code == 409, r.text
    r = org.post(f"/statements/{statement}/submit", None)
    assert r.status_code == 200, r.text
    assert org.post(f"/statements/{statement}/submit", None).status_code == 409  # frozen once
    r = org.post(f"/statements/{statement}/decisions", [{"line_id": "L1", "decision": "accepted"}])
    assert r.status_code == 403, r.text

    r = org.post(f"/statements/{statement}/decisions", [{"line_id": "L2", "decision": "rejected"}], authority)
    assert r.status_code == 422 and field_of(r) == "reason", r.text
    r = org.post(f"/statements/{statement}/decisions", [{"line_id": "L9", "decision": "accepted"}], authority)
    assert r.status_code == 422 and field_of(r) == "line_id", r.text
    r = org.post(f"/statements/{statement}/decisions", [{"line_id": "L1", "decision": "maybe"}], authority)
    assert r.status_code == 422 and field_of(r) == "decision", r.text
    r = org.post(f"/statements/{statement}/decisions", [{"line_id": "L1", "decision": "accepted",
                                                        "reason": "Loonstroken gezien"}], authority)
    assert r.status_code == 200 and r.json()["status"] == "submitted", r.text
    r = org.post(f"/statements/{statement}/decisions", [{"line_id": "L1", "decision": "rejected",
                                                        "reason": "Toch niet"}], authority)
    assert r.status_code == 409, r.text  # decided once
    r = org.post(f"/statements/{statement}/decisions", [{"line_id": "L2", "decision": "rejected",
                                                        "reason": "Geen factuur bijgevoegd"}], authority)
    assert r.status_code == 200 and r.json()["status"] == "decided", r.text

    shown = org.get(f"/statements/{statement}", authority).json()
    assert shown["locked"] is True
    assert [(line["line_id"], line["decision"], line["reason"]) for line in shown["lines"]] == [
        ("L1", "accepted", "Loonstroken gezien"), ("L2", "rejected", "Geen factuur bijgevoegd")]
    assert shown["totals"]["accepted_eur"] == "30502.28" and shown["totals"]["rejected_eur"] == "10000.00"
    figures = compliance(org, ids["contract"], r.headers["X-Event-Position"], "2025-12-31")
    assert figures["reports_by"] == "statements"
    assert figures["accepted_eur"] == "30502.28"
    assert figures["rejected_eur"] == "10000.00"
    # A contract reporting by statements no longer takes per-contribution decisions.
    r = org.post(f"/contributions/{ids['purchase']}/accept", {"reason": "ok"}, authority)
    assert r.status_code == 409, r.text


def test_a_period_outside_the_term_or_overlapping_another_is_refused_naming_the_field(org: Org) -> None:
    ids, _ = setup(org)
    path = f"/contracts/{ids['contract']}/statements"
    before = org.event_count()
    for body, field in (({"period_start": "2024-12-01", "period_end": "2025-06-30"}, "period_start"),
                        ({"period_start": "2027-01-01", "period_end": "2028-01-31"}, "period_end"),
                        ({"period_start": "2025-06-30", "period_end": "2025-01-01"}, "period_end"),
                        ({"period_start": "2025-01-01"}, "period_end"),
                        ({"period_start": 2025, "period_end": "2025-12-31"}, "period_start")):
        r = org.post(path, body)
        assert r.status_code == 422 and field_of(r) == field, (body, r.text)
    assert org.event_count() == before
    assert org.post(path, {"period_start": "2025-01-01", "period_end": "2025-12-31"}).status_code == 201
    r = org.post(path, {"period_start": "2025-07-01", "period_end": "2026-06-30"})
    assert r.status_code == 422 and field_of(r) == "period_start", r.text
    r = org.post(path, {"period_start": "2024-01-01", "period_end": "2025-01-01"})
    assert r.status_code == 422, r.text
    listed = org.get(path).json()
    assert [s["period_start"] for s in listed["statements"]] == ["2025-01-01"]
    assert listed["open_periods"] == [{"period_start": "2026-01-01", "period_end": "2026-12-31"},
                                      {"period_start": "2027-01-01", "period_end": "2027-12-31"}]
    final = org.post(path, {"period_start": "2027-01-01", "period_end": "2027-12-31"})
    assert org.get(f"/statements/{final.json()['id']}").json()["final"] is True


def test_a_backdated_change_to_a_decided_period_is_a_correction_not_a_moved_figure(org: Org) -> None:
    """The drift of issue 12: accepted moved from 36,785 to 41,196 when hours
    were changed backwards with nobody deciding again."""
    ids, authority = setup(org)
    first = org.create(f"/contracts/{ids['contract']}/statements", {"period_start": "2025-01-01",
                                                                    "period_end": "2025-12-31"})
    assert org.post(f"/statements/{first}/submit", None).status_code == 200
    r = org.post(f"/statements/{first}/decisions", [
        {"line_id": "L1", "decision": "accepted"}, {"line_id": "L2", "decision": "accepted"}], authority)
    assert r.status_code == 200, r.text
    accepted = compliance(org, ids["contract"], r.headers["X-Event-Position"])["accepted_eur"]
    assert accepted == "40502.28"

    # Backdated: full time from 2025-07-01 (36 hours instead of 24).
    r = org.post(f"/placements/{ids['placement']}/hours", {"hours_per_week": "36", "effective_on": "2025-07-01"})
    assert r.status_code in (200, 201), r.text
    after = compliance(org, ids["contract"], r.headers["X-Event-Position"])
    assert after["accepted_eur"] == accepted  # nobody decided again
    assert Decimal(after["pending_eur"]) > 0  # the new value of 2025 and 2026, not yet decided
    assert org.get(f"/statements/{first}").json()["lines"][0]["value_eur"] == "30502.28"  # frozen

    second = org.create(f"/contracts/{ids['contract']}/statements", {"period_start": "2026-01-01",
                                                                     "period_end": "2026-12-31"})
    draft = org.get(f"/statements/{second}").json()
    corrections = [line for line in draft["lines"] if line["kind"] == "correction"]
    assert len(corrections) == 1
    correction = corrections[0]
    # 184 days (2025-07-01..12-31) at 12 more hours: 184/365 x 50,000 x 12/36
    assert correction["value_eur"] == "8401.83"
    assert correction["old_value_eur"] == "30502.28" and correction["new_value_eur"] == "38904.11"
    assert correction["corrects"]["statement_id"] == first and correction["corrects"]["line_id"] == "L1"
    assert correction["corrects"]["period_start"] == "2025-01-01"

    assert org.post(f"/statements/{second}/submit", None).status_code == 200
    frozen = org.get(f"/statements/{second}").json()["lines"]
    line = next(line for line in frozen if line["kind"] == "correction")
    r = org.post(f"/statements/{second}/decisions", [{"line_id": line["line_id"], "decision": "accepted"}],
                 authority)
    assert r.status_code == 200, r.text
    now = compliance(org, ids["contract"], r.headers["X-Event-Position"])
    assert now["accepted_eur"] == "48904.11"  # 40,502.28 + 8,401.83: moved by a decision
    # A third statement carries no second correction of the same change.
    third = org.create(f"/contracts/{ids['contract']}/statements", {"period_start": "2027-01-01",
                                                                    "period_end": "2027-12-31"})
    assert [x for x in org.get(f"/statements/{third}").json()["lines"] if x["kind"] == "correction"] == []


def test_two_decisions_on_one_line_at_once_one_wins_the_other_is_a_conflict(org: Org) -> None:
    ids, authority = setup(org)
    statement = org.create(f"/contracts/{ids['contract']}/statements", {"period_start": "2025-01-01",
                                                                        "period_end": "2025-12-31"})
    assert org.post(f"/statements/{statement}/submit", None).status_code == 200

    def decide(decision: str) -> int:
        return org.post(f"/statements/{statement}/decisions", [
            {"line_id": "L1", "decision": decision, "reason": "gezien"}], authority).status_code

    with ThreadPoolExecutor(2) as pool:
        codes = sorted(pool.map(decide, ["accepted", "rejected"]))
    assert codes == [200, 409]
    decided = org.get(f"/statements/{statement}").json()["lines"][0]
    assert decided["decision"] in ("accepted", "rejected")


def test_deciding_is_idempotent_with_a_key(org: Org) -> None:
    ids, authority = setup(org)
    statement = org.create(f"/contracts/{ids['contract']}/statements", {"period_start": "2025-01-01",
                                                                        "period_end": "2025-12-31"})
    assert org.post(f"/statements/{statement}/submit", None).status_code == 200
    body = [{"line_id": "L1", "decision": "accepted"}]
    first = org.post(f"/statements/{statement}/decisions", body, authority, **{"Idempotency-Key": "k-1"})
    events = org.event_count()
    again = org.post(f"/statements/{statement}/decisions", body, authority, **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert org.event_count() == events


def test_the_employer_of_the_contract_reads_its_statements_another_authority_does_not(org: Org) -> None:
    ids, _ = setup(org)
    statement = org.create(f"/contracts/{ids['contract']}/statements", {"period_start": "2025-01-01",
                                                                        "period_end": "2025-12-31"})
    employer = org.token_for("employer", employer_id=ids["employer"])
    assert org.get(f"/statements/{statement}", employer).status_code == 200
    other = org.token_for("authority", organisation="Gemeente Amersfoort")
    assert org.get(f"/statements/{statement}", other).status_code == 404
    r = org.post(f"/contracts/{ids['contract']}/statements", {"period_start": "2026-01-01",
                                                              "period_end": "2026-12-31"}, employer)
    assert r.status_code == 403
