"""A document about a person is sealed under their key: once they are erased,
a dump of the database, every bytea decoded, holds nothing of its content
or its name, and the download says it is gone; a document about no one is
kept as it came (which shows the search would find a plain copy)."""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from domain.contribution import Contribution
from service import commands as c
from service.actor import Actor
from service.errors import Gone
from tests.api.document_samples import pdf
from tests.audit.dump import readable_dump

AGENCY = Actor(user_id=uuid.uuid4(), role="agency", organisation="document-erasure-test")


def test_an_erased_persons_documents_leave_nothing_readable_in_a_dump(system, tenant, database_url):
    marker = uuid.uuid4().hex[:12]
    run = lambda cmd: system.ledger.execute(tenant, AGENCY, cmd)  # noqa: E731
    employer = uuid.UUID(run(c.RegisterEmployer(name="Transport Friesland B.V.")).body["id"])
    contract = uuid.UUID(run(c.RegisterContract(
        employer_id=employer, title="Vervoer Friesland", contracting_authority="Gemeente Leeuwarden",
        contract_value_eur=Decimal("400000"), obligation_percent=Decimal("5"), starts_on=date(2026, 1, 1),
        ends_on=date(2027, 12, 31), awarded_on=date(2025, 12, 1), rule_set="utrecht-2024")).body["id"])
    candidate = uuid.UUID(run(c.RegisterCandidate(
        full_name="Fenna Bakker", date_of_birth=date(1979, 5, 4), target_group="doelgroepregister",
        competences=["logistiek"], support_needs="")).body["id"])
    placement = uuid.UUID(run(c.StartPlacement(
        candidate_id=candidate, employer_id=employer, contract_id=contract, vacancy_id=None,
        starts_on=date(2026, 3, 2), hours_per_week=Decimal("8"), permanent_contract=False)).body["id"])
    declaration = pdf(f"Doelgroepverklaring Wajong {marker}")
    personal = uuid.UUID(run(c.AttachDocument(
        record_kind="contribution", record_id=Contribution.id_for_placement(placement),
        kind="target_group_declaration", filename=f"doelgroepverklaring-{marker}-name.pdf",
        content=declaration)).body["id"])
    purchase = uuid.UUID(run(c.ReportSocialEnterprisePurchase(
        contract_id=contract, supplier="Werkbedrijf Groen", invoice_amount_eur_excl_vat=Decimal("900"),
        register="registered_social_enterprise", invoice_date=date(2026, 4, 1), description="Groen")).body["id"])
    run(c.AttachDocument(record_kind="contribution", record_id=purchase, kind="invoice",
                         filename=f"factuur-{marker}-plain.pdf", content=pdf(f"Factuur {marker} plain")))

    # Readable before, through the service; sealed at rest all along.
    assert system.ledger.document_content(tenant, AGENCY, personal)[2] == declaration
    before = readable_dump(database_url)
    assert f"Factuur {marker} plain".encode() in before and f"factuur-{marker}-plain".encode() in before
    assert f"Wajong {marker}".encode() not in before and f"{marker}-name".encode() not in before

    run(c.EraseCandidate(candidate_id=candidate))
    with pytest.raises(Gone, match="erased"):
        system.ledger.document_content(tenant, AGENCY, personal)
    listed = system.ledger.documents_of(tenant, AGENCY, "contribution", Contribution.id_for_placement(placement))
    assert [(d["filename"], d["readable"]) for d in listed] == [("[erased]", False)]
    after = readable_dump(database_url)
    assert f"Wajong {marker}".encode() not in after and f"{marker}-name".encode() not in after
    # The sealed bytes are still there (nothing rewritten), but no key opens them.
    assert system.stores.database(tenant.database).person_keys.key(tenant.id, candidate, create=False) is None
