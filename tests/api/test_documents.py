"""Documents attached to contributions, through the API: upload, list,
download and removal; the type judged by the content; the size limit and
the tenant's quota; who sees what; a person's document erased with them."""
from __future__ import annotations

import dataclasses
import hashlib
import threading
from decimal import Decimal
from collections.abc import Iterator
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest
from litestar.testing import TestClient

from domain.contribution import Contribution
from service import commands as c
from service.actor import Actor
from service.errors import TooLarge
from infra.bootstrap import System, bootstrap
from infra.settings import Settings
from tests.api.conftest import API, Org, bearer
from tests.api.document_samples import jpeg, pdf, png, text_pretending
from tests.conftest import random_slug
from web.app import create_app


def upload(org: Org, contribution_id: str, content: bytes, filename: str, kind: str = "invoice",
           token: str | None = None, client: TestClient | None = None, **headers: str) -> Any:
    return (client or org.client).post(
        f"{API}/contributions/{contribution_id}/documents", files={"file": (filename, content, "application/pdf")},
        data={"kind": kind}, headers={**bearer(token or org.agency_token), **headers})


def purchase(org: Org) -> str:
    return org.create(f"/contracts/{org.ids['contract']}/contributions", {
        "kind": "social_enterprise_purchase", "supplier": "Werkbedrijf Groen", "register": "registered_social_enterprise",
        "invoice_amount_eur_excl_vat": "1200", "invoice_date": "2025-03-01", "description": "Groenonderhoud"})


def placement_contribution(org: Org) -> str:
    return str(Contribution.id_for_placement(UUID(org.ids["placement"])))


@pytest.fixture
def seeded(org: Org) -> Org:
    org.seed()
    return org


def test_a_document_goes_up_is_listed_and_comes_down_byte_for_byte(seeded: Org) -> None:
    org = seeded
    contribution = purchase(org)
    invoice = pdf("Factuur 2025-031 Werkbedrijf Groen")
    before = org.event_count()
    r = upload(org, contribution, invoice, "Factuur 2025-031.pdf")
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["media_type"] == "application/pdf" and made["size_bytes"] == len(invoice)
    assert made["sha256"] == hashlib.sha256(invoice).hexdigest()
    assert org.event_count() == before + 1

    listed = org.get(f"/contributions/{contribution}/documents").json()["documents"]
    assert [(d["id"], d["kind"], d["filename"], d["media_type"], d["size_bytes"], d["sha256"]) for d in listed] == [
        (made["id"], "invoice", "Factuur 2025-031.pdf", "application/pdf", len(invoice), made["sha256"])]
    assert listed[0]["uploaded_at"] and listed[0]["uploaded_by_role"] == "agency" and listed[0]["readable"]

    down = org.get(f"/documents/{made['id']}")
    assert down.status_code == 200 and down.content == invoice
    assert down.headers["content-type"] == "application/pdf"
    assert down.headers["content-disposition"].startswith('attachment; filename="Factuur 2025-031.pdf"')
    assert down.headers["x-content-type-options"] == "nosniff"

    # The event says what was attached, never the content.
    history = org.system.stores.for_tenant(org.tenant).tenant_recorder.select_events(UUID(made["id"]))
    assert history[0].topic.endswith("DocumentAttached") and b"Factuur 2025-031 Werkbedrijf" not in history[0].state
    assert made["sha256"].encode() in history[0].state


def test_the_type_comes_from_the_content_not_the_name(seeded: Org) -> None:
    org = seeded
    contribution = purchase(org)
    r = upload(org, contribution, png(), "scan.pdf")
    assert r.status_code == 201, r.text
    assert r.json()["media_type"] == "image/png"
    assert org.get(f"/documents/{r.json()['id']}").headers["content-type"] == "image/png"
    assert upload(org, contribution, jpeg(), "foto.png").json()["media_type"] == "image/jpeg"

    before = org.event_count()
    r = upload(org, contribution, text_pretending(), "factuur.pdf")
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "file" and "not a PDF, PNG or JPEG" in r.json()["detail"]
    assert upload(org, contribution, b"<html><script>alert(1)</script>", "x.pdf").status_code == 422
    assert org.event_count() == before


def test_missing_or_wrong_fields_are_named(seeded: Org) -> None:
    org = seeded
    contribution = purchase(org)
    r = org.client.post(f"{API}/contributions/{contribution}/documents", data={"kind": "invoice"},
                        headers=bearer(org.agency_token))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    r = upload(org, contribution, pdf(), "a.pdf", kind="selfie")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "kind"
    r = upload(org, contribution, pdf(), "../", kind="invoice")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "filename"


@pytest.fixture
def small_system(system: System, settings: Settings, database_url: str) -> Iterator[System]:
    """The same database (made by `system`), with a 4 KB limit a file and 10 KB in all per tenant."""
    system = bootstrap(dataclasses.replace(settings, document_max_bytes=4096, document_quota_bytes=10 * 1024),
                       database_url=database_url, migrate=False)
    yield system
    system.close()


def test_a_file_over_the_limit_and_a_full_quota_are_refused_with_the_numbers(small_system: System) -> None:
    with TestClient(create_app(small_system)) as client:
        tenant = small_system.registry.create_tenant(random_slug(), "Werkbedrijf Klein B.V.")
        org = Org(system=small_system, client=client, tenant=tenant, agency_token="")
        org.agency_token = org.token_for("agency")
        org.seed()
        contribution = purchase(org)
        # Just over the limit: refused by the service; far over it: by the body limit, same answer.
        for size in (4097, 200_000):
            r = upload(org, contribution, pdf() + b"%" * (size - len(pdf())), "groot.pdf", client=client)
            assert r.status_code == 413, r.text
            assert r.json()["errors"][0]["field"] == "file" and "at most 4 KB" in r.text
        third = pdf() + b"%" * (3500 - len(pdf()))
        for _ in range(2):
            assert upload(org, contribution, third, "deel.pdf", client=client).status_code == 201
        before = org.event_count()
        r = upload(org, contribution, third, "deel.pdf", client=client)
        assert r.status_code == 413
        assert "10 KB quota" in r.json()["detail"] and "6.8 KB" in r.json()["detail"], r.text
        assert org.event_count() == before
        # Removing one frees its room.
        first = org.get(f"/contributions/{contribution}/documents").json()["documents"][0]["id"]
        assert org.client.delete(f"{API}/documents/{first}", headers=bearer(org.agency_token)).status_code == 200
        assert upload(org, contribution, third, "deel.pdf", client=client).status_code == 201


def test_an_erased_persons_documents_no_longer_count_in_the_quota(small_system: System) -> None:
    """Fill the quota with a person's documents, erase the person: their room
    is free at once, while their sealed rows and their history stay (what
    was attached, its size and SHA-256)."""
    with TestClient(create_app(small_system)) as client:
        tenant = small_system.registry.create_tenant(random_slug(), "Werkbedrijf Vol B.V.")
        org = Org(system=small_system, client=client, tenant=tenant, agency_token="")
        org.agency_token = org.token_for("agency")
        org.seed()
        third = pdf() + b"%" * (3500 - len(pdf()))
        payslips = [upload(org, placement_contribution(org), third, f"loonstrook {n}.pdf", kind="payslip",
                           client=client) for n in (1, 2)]
        assert [r.status_code for r in payslips] == [201, 201]
        invoice = purchase(org)
        assert upload(org, invoice, third, "factuur.pdf", client=client).status_code == 413  # full
        vault = small_system.stores.for_tenant(tenant).documents
        assert vault.used_bytes(tenant.id) == 7000

        assert org.post(f"/candidates/{org.ids['candidate']}/erase", {}).status_code == 200
        assert vault.used_bytes(tenant.id) == 0
        r = upload(org, invoice, third, "factuur.pdf", client=client)
        assert r.status_code == 201, r.text
        assert vault.used_bytes(tenant.id) == 3500
        # The erased documents: unreadable, still in the table and in the history with their hash.
        recorder = small_system.stores.for_tenant(tenant).tenant_recorder
        for made in (p.json() for p in payslips):
            assert org.get(f"/documents/{made['id']}").status_code == 410
            assert made["sha256"].encode() in recorder.select_events(UUID(made["id"]))[0].state
        with vault.database.connection() as conn:
            kept = conn.execute("SELECT count(*) AS n FROM events.documents WHERE tenant_id = %s"
                                " AND candidate_id IS NOT NULL", (tenant.id,)).fetchone()["n"]
        assert kept == 2


def test_a_removed_document_is_gone_and_its_bytes_deleted(seeded: Org) -> None:
    org = seeded
    contribution = purchase(org)
    made = upload(org, contribution, pdf("weg"), "weg.pdf").json()
    r = org.client.delete(f"{API}/documents/{made['id']}", headers=bearer(org.agency_token))
    assert r.status_code == 200, r.text
    assert org.get(f"/contributions/{contribution}/documents").json()["documents"] == []
    r = org.get(f"/documents/{made['id']}")
    assert r.status_code == 410 and "removed" in r.json()["detail"]
    assert org.system.stores.for_tenant(org.tenant).documents.read(org.tenant.id, UUID(made["id"])) is None
    r = org.client.delete(f"{API}/documents/{made['id']}", headers=bearer(org.agency_token))
    assert r.status_code == 409


def test_who_sees_a_persons_document_and_who_does_not(seeded: Org) -> None:
    """The authority deciding and the auditor see a placement's payslip; the
    employer sees the purchase invoice of its contract, never the payslip;
    another authority and the person's colleague employer see neither."""
    org = seeded
    invoice = upload(org, purchase(org), pdf("Factuur"), "factuur.pdf").json()["id"]
    payslip = upload(org, placement_contribution(org), pdf("Loonstrook"), "loonstrook maart.pdf",
                     kind="payslip").json()["id"]
    authority = org.token_for("authority", organisation="Gemeente Utrecht")
    auditor = org.token_for("auditor")
    employer = org.token_for("employer", employer_id=UUID(org.ids["employer"]))
    other_authority = org.token_for("authority", organisation="Gemeente Zwolle")
    person = org.token_for("employee", candidate_id=UUID(org.ids["candidate"]))
    for token in (authority, auditor):
        assert org.get(f"/documents/{payslip}", token).status_code == 200
        assert org.get(f"/documents/{invoice}", token).status_code == 200
    assert org.get(f"/documents/{invoice}", employer).status_code == 200
    assert org.get(f"/documents/{payslip}", employer).status_code == 404
    listed = org.get(f"/contributions/{placement_contribution(org)}/documents", employer)
    assert listed.status_code == 200 and listed.json()["documents"] == []
    for token in (other_authority,):
        assert org.get(f"/documents/{payslip}", token).status_code == 404
        assert org.get(f"/documents/{invoice}", token).status_code == 404
    assert org.get(f"/documents/{invoice}", person).status_code == 404
    # An employer attaches an invoice to a purchase of its contract, never a payslip.
    assert upload(org, purchase(org), pdf(), "f.pdf", token=employer).status_code == 201
    assert upload(org, placement_contribution(org), pdf(), "p.pdf", kind="payslip", token=employer).status_code == 403
    # Only the agency removes.
    assert org.client.delete(f"{API}/documents/{invoice}", headers=bearer(authority)).status_code == 403
    # The authority's download of a person's document is in the access log.
    log = org.get(f"/access-log?subject={org.ids['candidate']}", auditor).json()["entries"]
    assert any("document:payslip" in e["fields"] and e["role"] == "authority" for e in log)


def test_a_persons_document_is_unreadable_once_they_are_erased(seeded: Org) -> None:
    org = seeded
    contribution = placement_contribution(org)
    declaration = pdf("Doelgroepverklaring Sanne Jansen")
    made = upload(org, contribution, declaration, "doelgroepverklaring Sanne Jansen.pdf",
                  kind="target_group_declaration").json()
    # Sealed at rest: the row holds no plain byte run of the file.
    vault = org.system.stores.for_tenant(org.tenant).documents
    with vault.database.connection() as conn:
        stored = bytes(conn.execute("SELECT content FROM events.documents WHERE document_id = %s",
                                    (UUID(made["id"]),)).fetchone()["content"])
    assert b"Doelgroepverklaring" not in stored and stored != declaration

    assert org.post(f"/candidates/{org.ids['candidate']}/erase", {}).status_code == 200
    r = org.get(f"/documents/{made['id']}")
    assert r.status_code == 410 and "erased" in r.json()["detail"]
    listed = org.get(f"/contributions/{contribution}/documents").json()["documents"]
    assert [(d["filename"], d["readable"]) for d in listed] == [("[erased]", False)]
    # Nothing more is attached about them; their bytes no longer count in the quota, removed or not.
    r = upload(org, contribution, pdf(), "nog een.pdf", kind="payslip")
    assert r.status_code == 409 and "erased" in r.json()["detail"]
    assert vault.used_bytes(org.tenant.id) == 0
    assert org.client.delete(f"{API}/documents/{made['id']}", headers=bearer(org.agency_token)).status_code == 200
    assert vault.used_bytes(org.tenant.id) == 0


def test_an_upload_retried_with_its_idempotency_key_stores_one_document(seeded: Org) -> None:
    org = seeded
    contribution = purchase(org)
    first = upload(org, contribution, pdf("een"), "een.pdf", **{"Idempotency-Key": "doc-1"})
    again = upload(org, contribution, pdf("een"), "een.pdf", **{"Idempotency-Key": "doc-1"})
    assert first.status_code == 201 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert len(org.get(f"/contributions/{contribution}/documents").json()["documents"]) == 1
    other = upload(org, contribution, pdf("twee"), "een.pdf", **{"Idempotency-Key": "doc-1"})
    assert other.status_code == 422


def test_uploads_at_the_same_moment_cannot_both_slip_past_the_quota(small_system: System) -> None:
    """Eight uploads of 3.5 KB at once against a 10 KB quota: two fit, six
    are refused with the quota; what is stored is within it."""
    tenant = small_system.registry.create_tenant(random_slug(), "Werkbedrijf Druk B.V.")
    agency = Actor(user_id=uuid4(), role="agency", organisation="quota-race")
    run = lambda cmd: small_system.ledger.execute(tenant, agency, cmd)  # noqa: E731
    employer = UUID(run(c.RegisterEmployer(name="Bouwbedrijf Druk")).body["id"])
    contract = UUID(run(c.RegisterContract(
        employer_id=employer, title="Druk", contracting_authority="Gemeente Utrecht",
        contract_value_eur=Decimal("100000"), obligation_percent=Decimal("5"), starts_on=date(2026, 1, 1),
        ends_on=date(2027, 12, 31), awarded_on=date(2025, 12, 1), rule_set="utrecht-2024")).body["id"])
    purchase = UUID(run(c.ReportOtherActivity(contract_id=contract, description="Gastles",
                                              activity_date=date(2026, 2, 1), hours=Decimal("2"))).body["id"])
    content = pdf() + b"%" * (3500 - len(pdf()))
    start, outcomes = threading.Barrier(8), []

    def attach() -> None:
        start.wait()
        try:
            run(c.AttachDocument(record_kind="contribution", record_id=purchase, kind="other",
                                 filename="deel.pdf", content=content))
            outcomes.append("stored")
        except TooLarge as e:
            outcomes.append(str(e))

    threads = [threading.Thread(target=attach) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes).count("stored") == 2 and all("quota" in o for o in outcomes if o != "stored")
    assert small_system.stores.for_tenant(tenant).documents.used_bytes(tenant.id) == 7000
    assert len(small_system.ledger.documents_of(tenant, agency, "contribution", purchase)) == 2
