"""A statement line's documents on the statement page: the agency adds one to
an undecided line (errors at the file field, a decided line a 409 with its
message), each line lists its contribution's evidence and its own with
download links, for the agency, the in-tenant authority and the authority
organisation's user; in a real browser, up and down again, checked with
axe-core."""
from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from infra.bootstrap import System
from service import commands as c
from tests.api.document_samples import pdf, png, text_pretending
from service.handlers.documents import documents_of_line
from tests.web.conftest import Agency, Browser, login
from tests.web.world import PASSWORD

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]


def submitted_statement(agency: Agency) -> tuple[dict[str, Any], UUID, UUID]:
    """The seeded contract with a purchase carrying its invoice, and the
    statement of the purchase's period submitted: L1 the placement, L2 the purchase."""
    ids = agency.seed()
    today = date.today()
    purchase = agency.run(c.ReportSocialEnterprisePurchase(
        contract_id=ids["contract"], supplier="Werkbedrijf Groen", invoice_amount_eur_excl_vat=Decimal("1250"),
        register="registered_social_enterprise", invoice_date=today - timedelta(days=10),
        description="Groenonderhoud"))
    invoice = agency.run(c.AttachDocument(record_kind="contribution", record_id=purchase, kind="invoice",
                                          filename="factuur groen.pdf", content=pdf("Factuur groen")))
    period = agency.period_around(ids["contract"], today - timedelta(days=10))
    statement = agency.run(c.PrepareStatement(contract_id=ids["contract"], period_start=period[0],
                                              period_end=period[1]))
    agency.run(c.SubmitStatement(statement_id=statement))
    agency.project()
    return ids, statement, invoice


def test_the_agency_adds_evidence_to_a_line_and_the_deciding_authority_downloads_it(
        agency: Agency, pages: Callable[..., Browser], system: System) -> None:
    ids, statement, invoice = submitted_statement(agency)
    me = pages(agency.user("agency"))
    html = me.get(f"/statements/{statement}").text
    assert f'action="/statements/{statement}/lines/L2/documents"' in html and "Document toevoegen aan regel L2" in html
    assert f'href="/documents/{invoice}/download"' in html and "Bewijs bij de bijdrage" in html

    # No file, then text posing as a PDF: the page again, the error at the line's file field.
    bad = me.post(f"/statements/{statement}/lines/L2/documents", {"kind": "invoice"})
    assert bad.status_code == 422 and 'id="document-L2-file-error"' in bad.text
    bad = me.post(f"/statements/{statement}/lines/L2/documents", {"kind": "invoice"},
                  files={"file": ("x.pdf", text_pretending(), "application/pdf")})
    assert bad.status_code == 422 and "not a PDF, PNG or JPEG" in bad.text
    ok = me.post(f"/statements/{statement}/lines/L2/documents", {"kind": "invoice"},
                 files={"file": ("factuur gecorrigeerd.pdf", pdf("Gecorrigeerd"), "application/pdf")})
    assert ok.status_code == 303 and ok.headers["location"].endswith("#line-L2"), ok.text
    listed = agency.system.ledger.read(agency.tenant, agency.actor, lambda u: documents_of_line(u, statement, "L2"))
    assert [d["filename"] for d in listed] == ["factuur gecorrigeerd.pdf"]
    own = listed[0]["id"]

    # The in-tenant authority and the authority organisation's user see and download both.
    authority_org = system.registry.create_organisation("authority", "Gemeente Utrecht",
                                                        oin=f"{uuid.uuid4().int % 10**20:020d}")
    agency.run(c.AmendContract(contract_id=ids["contract"], authority_org_id=authority_org.id))
    agency.project()
    officer = system.registry.create_org_user(authority_org.id, f"{uuid.uuid4().hex}@example.org", "authority",
                                              password=PASSWORD)
    for reader in (pages(agency.user("authority", organisation="Gemeente Utrecht")), pages(officer)):
        html = reader.get(f"/statements/{statement}").text
        assert "Documenten bij deze regel" in html and f'href="/documents/{own}/download"' in html
        assert f'href="/documents/{invoice}/download"' in html
        assert 'action="/statements/%s/lines/L2/documents"' % statement not in html  # only the agency adds
        down = reader.get(f"/documents/{own}/download")
        assert down.status_code == 200 and down.content == pdf("Gecorrigeerd")
        assert down.headers["content-disposition"].startswith("attachment;")
    # Another authority organisation's user: nothing.
    other = system.registry.create_organisation("authority", "Gemeente Harlingen",
                                                oin=f"{uuid.uuid4().int % 10**20:020d}")
    stranger = pages(system.registry.create_org_user(other.id, f"{uuid.uuid4().hex}@example.org", "authority",
                                                     password=PASSWORD))
    assert stranger.get(f"/documents/{own}/download").status_code == 404

    # Once decided, the line takes no more: 409 with the message, no form any more.
    authority = pages(agency.user("authority", organisation="Gemeente Utrecht"))
    assert authority.post(f"/statements/{statement}/lines/L2/decide", {"decision": "accepted"}).status_code == 303
    late = me.post(f"/statements/{statement}/lines/L2/documents", {"kind": "invoice"},
                   files={"file": ("laat.pdf", pdf("Te laat"), "application/pdf")})
    assert late.status_code == 409 and "ligt vast" in late.text, late.text
    assert 'action="/statements/%s/lines/L2/documents"' % statement not in late.text
    employer = pages(agency.user("employer", employer_id=ids["employer"]))
    assert employer.post(f"/statements/{statement}/lines/L1/documents", {"kind": "invoice"}).status_code == 403


def test_a_line_document_goes_up_and_down_in_the_browser_accessibly(
        agency: Agency, audited_page: Any, audit: Callable[[str], None]) -> None:
    _, statement, _ = submitted_statement(agency)
    page = audited_page
    login(page, agency.user("agency").email)
    page.goto(f"/statements/{statement}")
    audit("a submitted statement with an upload form per line")
    line = page.locator("#line-L2")
    scan = png(5, 4)
    line.get_by_label("Soort document").select_option("invoice")
    line.get_by_label("Bestand").set_input_files({"name": "scan.pdf", "mimeType": "application/pdf", "buffer": scan})
    line.get_by_role("button", name=re.compile("Document toevoegen")).click()
    page.wait_for_url(re.compile(r"/statements/"))
    line = page.locator("#line-L2")
    expect(line).to_contain_text("Documenten bij deze regel")
    expect(line).to_contain_text("image/png")
    with page.expect_download() as info:
        line.get_by_role("link", name="scan.pdf").click()
    assert Path(info.value.path()).read_bytes() == scan
    audit("a statement line with a document of its own")
