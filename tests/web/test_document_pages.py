"""Documents on the contract page: in a real browser, a file goes up through
the form (a PNG named .pdf is kept as a PNG) and comes down again through the
download link; text posing as a PDF is refused at the file field; each role
sees its share (an employer the invoice, never the payslip)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from domain.contribution import Contribution
from service import commands as c
from tests.api.document_samples import pdf, png, text_pretending
from tests.web.conftest import Agency, Browser, login

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]


def _purchase(agency: Agency, contract: UUID) -> UUID:
    return agency.run(c.ReportSocialEnterprisePurchase(
        contract_id=contract, supplier="Werkbedrijf Groen", invoice_amount_eur_excl_vat=Decimal("1250"),
        register="registered_social_enterprise", invoice_date=date.today(), description="Groenonderhoud"))


def test_a_document_goes_up_through_the_form_and_comes_down_through_the_link(
        agency: Agency, page: Any, audited_page: Any, audit: Callable[[str], None], tmp_path: Path) -> None:
    ids = agency.seed()
    purchase = _purchase(agency, ids["contract"])
    agency.project()
    user = agency.user("agency")
    login(page, user.email)
    page.goto(f"/contracts/{ids['contract']}")
    section = page.locator("#documents")
    expect(section).to_contain_text("Nog geen documenten toegevoegd.")
    scan = png(4, 3)
    section.get_by_label("Bijdrage").select_option(str(purchase))
    section.get_by_label("Soort document").select_option("invoice")
    section.get_by_label("Bestand").set_input_files({"name": "scan factuur.pdf", "mimeType": "application/pdf",
                                                     "buffer": scan})
    section.get_by_role("button", name="Document toevoegen").click()
    page.wait_for_url(f"**/contracts/{ids['contract']}**")
    row = page.locator("#documents tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Factuur")
    expect(row).to_contain_text("image/png")  # judged by its content, whatever its name says
    with page.expect_download() as info:
        row.get_by_role("link", name="scan factuur.pdf").click()
    download = info.value
    assert download.suggested_filename == "scan factuur.pdf"
    assert Path(download.path()).read_bytes() == scan

    # Text posing as a PDF: the form again, the error at the file field, nothing stored.
    stored = agency.system.ledger.documents_of(agency.tenant, agency.actor, "contribution", purchase)
    section = page.locator("#documents")
    section.get_by_label("Bijdrage").select_option(str(purchase))
    section.get_by_label("Soort document").select_option("invoice")
    section.get_by_label("Bestand").set_input_files({"name": "factuur.pdf", "mimeType": "application/pdf",
                                                     "buffer": text_pretending()})
    section.get_by_role("button", name="Document toevoegen").click()
    expect(page.locator("#document-file-error")).to_contain_text("not a PDF, PNG or JPEG")
    assert page.locator("#document-file").get_attribute("aria-invalid") == "true"
    assert agency.system.ledger.documents_of(agency.tenant, agency.actor, "contribution", purchase) == stored
    # The browser notes the 422 of the refused form; nothing else went wrong.
    assert [e for e in page.console_errors if "status of 422" not in e] == []

    login(audited_page, user.email)
    audited_page.goto(f"/contracts/{ids['contract']}")
    expect(audited_page.get_by_role("heading", name="Documenten")).to_be_visible()
    audit("the contract page with its documents")


def test_each_role_sees_its_share_of_the_documents(agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    purchase = _purchase(agency, ids["contract"])
    invoice = agency.run(c.AttachDocument(record_kind="contribution", record_id=purchase, kind="invoice",
                                          filename="factuur-groen.pdf", content=pdf("Factuur")))
    payslip = agency.run(c.AttachDocument(
        record_kind="contribution", record_id=Contribution.id_for_placement(ids["placement"]), kind="payslip",
        filename="loonstrook-maart.pdf", content=pdf("Loonstrook")))
    agency.project()
    authority = pages(agency.user("authority", organisation="Gemeente Utrecht"))
    html = authority.get(f"/contracts/{ids['contract']}").text
    assert "factuur-groen.pdf" in html and "loonstrook-maart.pdf" in html
    assert 'action="/contracts/' + str(ids["contract"]) + '/documents"' not in html  # it decides, it does not attach
    r = authority.get(f"/documents/{payslip}/download")
    assert r.status_code == 200 and r.content == pdf("Loonstrook")
    assert r.headers["content-disposition"].startswith("attachment") and r.headers["x-content-type-options"] == "nosniff"

    employer = pages(agency.user("employer", employer_id=ids["employer"]))
    html = employer.get(f"/contracts/{ids['contract']}").text
    assert "factuur-groen.pdf" in html and "loonstrook-maart.pdf" not in html
    assert employer.get(f"/documents/{invoice}/download").status_code == 200
    assert employer.get(f"/documents/{payslip}/download").status_code == 404

    # Once the person is erased their payslip cannot be read: said on the page, 410 on the link.
    agency.run(c.EraseCandidate(candidate_id=ids["candidate"]))
    html = authority.get(f"/contracts/{ids['contract']}").text
    assert "loonstrook-maart.pdf" not in html and "Gewist met de persoon over wie het ging" in html
    assert authority.get(f"/documents/{payslip}/download").status_code == 410
