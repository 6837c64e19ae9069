"""Documents attached to a statement line itself, through the API: the
agency's, while the line is undecided (a decided line's evidence is frozen:
409); sealed under the person's key when the line is about a placement;
shown per line beside the contribution's evidence to whoever reads the
statement, the authority organisation's user included."""
from __future__ import annotations

import hashlib
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID

from tests.api.conftest import API, Org, bearer
from tests.api.document_samples import pdf, png, text_pretending
from tests.api.test_statements import field_of, setup
from tests.projections.conftest import catch_up


def attach(org: Org, statement: str, line: str, content: bytes, filename: str, kind: str = "invoice",
           token: str | None = None, **headers: str) -> Any:
    return org.client.post(
        f"{API}/statements/{statement}/lines/{line}/documents", files={"file": (filename, content, "application/pdf")},
        data={"kind": kind}, headers={**bearer(token or org.agency_token), **headers})


def submitted(org: Org) -> tuple[dict[str, str], str, str, str]:
    """setup()'s contract with an invoice on its purchase, and its 2025
    statement submitted: L1 the placement (about its candidate), L2 the purchase."""
    ids, authority = setup(org)
    invoice = org.client.post(f"{API}/contributions/{ids['purchase']}/documents",
                              files={"file": ("factuur.pdf", pdf("Factuur 2025-014"), "application/pdf")},
                              data={"kind": "invoice"}, headers=bearer(org.agency_token))
    assert invoice.status_code == 201, invoice.text
    statement = org.create(f"/contracts/{ids['contract']}/statements", {"period_start": "2025-01-01",
                                                                        "period_end": "2025-12-31"})
    assert org.post(f"/statements/{statement}/submit", None).status_code == 200
    return ids, authority, statement, invoice.json()["id"]


def line(org: Org, statement: str, line_id: str, token: str | None = None) -> dict[str, Any]:
    shown = org.get(f"/statements/{statement}", token)
    assert shown.status_code == 200, shown.text
    return next(x for x in shown.json()["lines"] if x["line_id"] == line_id)


def test_the_agency_attaches_evidence_to_a_line_and_the_statement_shows_it_beside_the_contributions(
        org: Org) -> None:
    ids, authority, statement, invoice = submitted(org)
    corrected = pdf("Gecorrigeerde factuur 2025-014")
    before = org.event_count()
    r = attach(org, statement, "L2", corrected, "Factuur 2025-014 (gecorrigeerd).pdf")
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["statement_id"], made["line_id"], made["media_type"], made["size_bytes"]) == (
        statement, "L2", "application/pdf", len(corrected))
    assert made["sha256"] == hashlib.sha256(corrected).hexdigest()
    # Two events: the document's, and the statement's record of it on the line.
    assert org.event_count() == before + 2
    history = org.system.stores.for_tenant(org.tenant).tenant_recorder.select_events(UUID(statement))
    assert history[-1].topic.endswith("StatementLineDocumentAttached") and UUID(made["id"]).hex.encode() in history[-1].state

    listed = org.get(f"/statements/{statement}/lines/L2/documents").json()
    assert listed["line_id"] == "L2"
    assert [(d["id"], d["record_kind"], d["line_id"], d["filename"], d["readable"]) for d in listed["documents"]] == [
        (made["id"], "statement_line", "L2", "Factuur 2025-014 (gecorrigeerd).pdf", True)]
    assert org.get(f"/statements/{statement}/lines/L1/documents").json()["documents"] == []

    # The statement: per line its contribution's evidence and its own, for the agency and the authority.
    for token in (None, authority):
        purchase_line = line(org, statement, "L2", token)
        assert [d["id"] for d in purchase_line["contribution_documents"]] == [invoice]
        assert [d["id"] for d in purchase_line["line_documents"]] == [made["id"]]
        assert purchase_line["documents"] == [invoice]  # the frozen references, as before
        down = org.get(f"/documents/{made['id']}", token)
        assert down.status_code == 200 and down.content == corrected
        assert down.headers["content-disposition"].startswith("attachment;")

    # A png is a png whatever its name; text posing as a PDF, a wrong kind, no file: named.
    assert attach(org, statement, "L2", png(), "scan.pdf").json()["media_type"] == "image/png"
    before = org.event_count()
    for r, field in ((attach(org, statement, "L2", text_pretending(), "x.pdf"), "file"),
                     (attach(org, statement, "L2", pdf(), "x.pdf", kind="selfie"), "kind"),
                     (org.client.post(f"{API}/statements/{statement}/lines/L2/documents", data={"kind": "invoice"},
                                      headers=bearer(org.agency_token)), "file")):
        assert r.status_code == 422 and field_of(r) == field, r.text
    assert org.event_count() == before


def test_a_line_about_a_person_seals_its_documents_and_only_the_agency_attaches(org: Org) -> None:
    ids, authority, statement, _ = submitted(org)
    payslip = pdf("Loonstrook maart Sanne Jansen")
    made = attach(org, statement, "L1", payslip, "loonstrook maart.pdf", kind="payslip")
    assert made.status_code == 201, made.text
    vault = org.system.stores.for_tenant(org.tenant).documents
    with vault.database.connection() as conn:
        row = conn.execute("SELECT record_kind, record_id, candidate_id, content FROM events.documents"
                           " WHERE document_id = %s", (UUID(made.json()["id"]),)).fetchone()
    assert (row["record_kind"], str(row["record_id"]), str(row["candidate_id"])) == (
        "statement_line", statement, ids["candidate"])
    assert b"Loonstrook" not in bytes(row["content"])  # sealed under the person's key

    # The employer reads the statement, never the payslip; nobody but the agency attaches.
    employer = org.token_for("employer", employer_id=ids["employer"])
    assert line(org, statement, "L1", employer)["line_documents"] == []
    assert org.get(f"/documents/{made.json()['id']}", employer).status_code == 404
    assert [d["id"] for d in line(org, statement, "L1", authority)["line_documents"]] == [made.json()["id"]]
    draft = org.create(f"/contracts/{ids['contract']}/statements", {"period_start": "2026-01-01",
                                                                    "period_end": "2026-12-31"})
    before = org.event_count()
    for token in (employer, authority):
        assert attach(org, statement, "L2", pdf(), "a.pdf", token=token).status_code == 403
    # A line the statement does not have, and a draft's lines (ids come with submission): 404.
    for where in (f"{statement}/lines/L9", f"{draft}/lines/L1", f"{uuid.uuid4()}/lines/L1"):
        r = org.client.post(f"{API}/statements/{where}/documents", files={"file": ("a.pdf", pdf(), "application/pdf")},
                            data={"kind": "invoice"}, headers=bearer(org.agency_token))
        assert r.status_code == 404, (where, r.text)
        assert org.get(f"/statements/{where}/documents").status_code == 404
    assert org.event_count() == before

    # Erased: unreadable (410), listed as erased, nothing more attached about them.
    assert org.post(f"/candidates/{ids['candidate']}/erase", {}).status_code == 200
    r = org.get(f"/documents/{made.json()['id']}")
    assert r.status_code == 410 and "erased" in r.json()["detail"]
    assert [(d["filename"], d["readable"]) for d in line(org, statement, "L1")["line_documents"]] == [
        ("[erased]", False)]
    r = attach(org, statement, "L1", pdf(), "nog een.pdf", kind="payslip")
    assert r.status_code == 409 and "erased" in r.json()["detail"], r.text


def test_a_decided_lines_evidence_is_frozen(org: Org) -> None:
    ids, authority, statement, _ = submitted(org)
    on_l1 = attach(org, statement, "L1", pdf("Loonstrook"), "loonstrook.pdf", kind="payslip").json()["id"]
    on_l2 = attach(org, statement, "L2", pdf("Factuur"), "factuur.pdf").json()["id"]
    r = org.post(f"/statements/{statement}/decisions", [{"line_id": "L2", "decision": "accepted"}], authority)
    assert r.status_code == 200, r.text
    before = org.event_count()
    r = attach(org, statement, "L2", pdf("Nog een"), "nog een.pdf")
    assert r.status_code == 409 and "frozen" in r.json()["detail"], r.text
    r = org.client.delete(f"{API}/documents/{on_l2}", headers=bearer(org.agency_token))
    assert r.status_code == 409, r.text
    assert org.event_count() == before
    assert org.get(f"/documents/{on_l2}").status_code == 200
    # The undecided line's evidence may still change: removed, its bytes gone.
    assert org.client.delete(f"{API}/documents/{on_l1}", headers=bearer(org.agency_token)).status_code == 200
    assert org.get(f"/statements/{statement}/lines/L1/documents").json()["documents"] == []
    assert org.get(f"/documents/{on_l1}").status_code == 410
    assert [d["id"] for d in line(org, statement, "L2")["line_documents"]] == [on_l2]


def test_an_upload_and_a_decision_at_the_same_moment_never_leave_evidence_on_a_decided_line(org: Org) -> None:
    """The upload records itself on the statement: a decision saved meanwhile
    clashes on its version, so the upload is decided again and refused (409),
    or the upload is stored first and the decision comes after it."""
    ids, authority, statement, _ = submitted(org)
    recorder = org.system.stores.for_tenant(org.tenant).tenant_recorder
    for line_id in ("L1", "L2"):
        def upload() -> int:
            return attach(org, statement, line_id, pdf(f"Bewijs {line_id}"), "bewijs.pdf").status_code

        def decide() -> int:
            return org.post(f"/statements/{statement}/decisions",
                            [{"line_id": line_id, "decision": "accepted"}], authority).status_code

        with ThreadPoolExecutor(2) as pool:
            uploaded, decided = pool.submit(upload), pool.submit(decide)
            assert decided.result() == 200 and uploaded.result() in (201, 409)
        events = [e.topic.rsplit(".", 1)[-1] for e in recorder.select_events(UUID(statement))]
        decided_at = max(i for i, topic in enumerate(events) if topic.endswith("StatementLinesDecided"))
        assert not any(topic.endswith("StatementLineDocumentAttached") for topic in events[decided_at:])
        attached = [d["id"] for d in org.get(f"/statements/{statement}/lines/{line_id}/documents").json()["documents"]]
        assert len(attached) == (1 if uploaded.result() == 201 else 0)


def test_the_authority_organisations_user_reads_and_downloads_a_lines_documents(org: Org) -> None:
    ids, _, statement, invoice = submitted(org)
    authority = org.system.registry.create_organisation("authority", "Gemeente Utrecht",
                                                        oin=f"{uuid.uuid4().int % 10**20:020d}")
    user = org.system.registry.create_org_user(authority.id, f"{uuid.uuid4().hex[:12]}@example.org", "authority")
    token = org.system.registry.issue_token(user)
    r = org.client.patch(f"{API}/contracts/{ids['contract']}", json={"authority_org_id": str(authority.id)},
                         headers=bearer(org.agency_token))
    assert r.status_code == 200, r.text
    made = attach(org, statement, "L2", pdf("Gecorrigeerde factuur"), "gecorrigeerd.pdf").json()
    catch_up(org.system, org.tenant)  # the share index, as the worker keeps it

    shown = line(org, statement, "L2", token)
    assert [d["id"] for d in shown["contribution_documents"]] == [invoice]
    assert [d["id"] for d in shown["line_documents"]] == [made["id"]]
    assert org.get(f"/statements/{statement}/lines/L2/documents", token).json()["documents"][0]["id"] == made["id"]
    down = org.get(f"/documents/{made['id']}", token)
    assert down.status_code == 200 and down.content == pdf("Gecorrigeerde factuur")
    assert attach(org, statement, "L2", pdf(), "a.pdf", token=token).status_code == 403
    # Another authority organisation's user finds nothing of it.
    other = org.system.registry.create_organisation("authority", "Gemeente Harlingen",
                                                    oin=f"{uuid.uuid4().int % 10**20:020d}")
    stranger = org.system.registry.issue_token(org.system.registry.create_org_user(
        other.id, f"{uuid.uuid4().hex[:12]}@example.org", "authority"))
    assert org.get(f"/documents/{made['id']}", stranger).status_code == 404
    assert org.get(f"/statements/{statement}/lines/L2/documents", stranger).status_code == 404
