"""The spreadsheet import pages (docs/import.md): upload, the preview with
errors per row and column in Dutch, mapping again, a stale confirm refused,
confirm, keep and delete the file; only agency users; and in a real browser
(Chromium, a real server and worker) a large file from upload through the
preview to the background job's progress bar and done, checked with axe."""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

from tests.web.conftest import Agency, Browser, login
from tests.web.world import events_stored

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the test extra installs it
    expect = None  # type: ignore[assignment]

CANDIDATES = ("Kandidaatnummer;Naam;Geboortedatum;Doelgroep\n"
              "K1;Sanne Bakker;12-04-1994;doelgroepregister\n"
              "K2;Jan de Boer;31-02-1990;doelgroepregister\n")


def upload(me: Browser, content: bytes, kind: str = "kandidaten", name: str = "kandidaten.csv") -> Any:
    return me.post("/imports", {"kind": kind}, files={"file": (name, content, "text/csv")})


def test_an_upload_is_previewed_in_dutch_then_confirmed_and_its_file_kept_and_deleted(
        agency: Agency, pages: Callable[..., Browser]) -> None:
    me = pages(agency.user("agency"))
    assert 'href="/imports"' in me.get("/").text  # in the menu
    assert "Een spreadsheet importeren" in me.get("/imports").text
    before = events_stored(agency)
    r = upload(me, CANDIDATES.encode())
    assert r.status_code == 303, r.text
    path = r.headers["location"]
    html = me.get(path).text
    assert "1 van de 2 rijen kunnen worden opgeslagen" in html
    assert "31-02-1990 is geen datum" in html and "<strong>Geboortedatum</strong>" in html
    assert events_stored(agency) == before, "a preview stores nothing"
    only_errors = me.get(path + "?status=error").text
    assert "Jan de Boer" in only_errors and "Sanne Bakker" not in only_errors

    # A confirm of another preview than the current one: refused, nothing stored.
    stale = me.post(path + "/confirm", {"fingerprint": "0" * 32})
    assert stale.status_code == 409 and "niet meer het huidige" in stale.text
    assert events_stored(agency) == before
    fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]+)"', html).group(1)
    done = me.post(path + "/confirm", {"fingerprint": fingerprint, "keep_file": "yes"})
    assert done.status_code == 303
    html = me.get(path).text
    assert "Klaar: 1 nieuw, 0 al eerder geïmporteerd, 1 met fouten." in html
    assert "Het geüploade bestand wordt bewaard" in html
    assert events_stored(agency) > before
    assert me.post(path + "/forget-file").status_code == 303
    assert "Het geüploade bestand wordt niet bewaard." in me.get(path).text
    import_id = UUID(path.rsplit("/", 1)[1])
    assert agency.system.imports.file(agency.tenant.id, import_id) is None


def test_an_expired_preview_says_so_in_dutch_and_its_confirm_is_refused(
        agency: Agency, pages: Callable[..., Browser]) -> None:
    me = pages(agency.user("agency"))
    path = upload(me, CANDIDATES.encode()).headers["location"]
    fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]+)"', me.get(path).text).group(1)
    with agency.system.stores.database("default").connection() as conn:
        conn.execute("UPDATE platform.imports SET created_at = now() - interval '8 days' WHERE id = %s",
                     (UUID(path.rsplit("/", 1)[1]),))
    assert agency.system.imports.expire_previews() >= 1
    html = me.get(path).text
    assert "verlopen, bestand verwijderd" in html
    assert "Niemand heeft deze voorvertoning binnen 7 dagen bevestigd" in html
    assert "Sanne Bakker" not in html and 'action="' + path + '/confirm"' not in html
    before = events_stored(agency)
    refused = me.post(path + "/confirm", {"fingerprint": fingerprint})
    assert refused.status_code == 409 and "na 7 dagen zonder bevestiging verlopen" in refused.text
    assert events_stored(agency) == before


def test_columns_are_mapped_again_on_the_page_and_the_choice_is_remembered(
        agency: Agency, pages: Callable[..., Browser]) -> None:
    me = pages(agency.user("agency"))
    r = upload(me, "Bedrijf\nDrukkerij Oost\n".encode(), kind="werkgevers", name="w.csv")
    path = r.headers["location"]
    html = me.get(path).text
    assert "geen kolom voor name in employers" in html
    assert me.post(path + "/mapping", {"map-0-0": "name"}).status_code == 303
    html = me.get(path).text
    assert "1 van de 1 rijen kunnen worden opgeslagen" in html
    fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]+)"', html).group(1)
    assert me.post(path + "/confirm", {"fingerprint": fingerprint}).status_code == 303
    again = upload(me, "Bedrijf\nDrukkerij West\n".encode(), kind="werkgevers", name="w2.csv").headers["location"]
    assert "1 van de 1 rijen kunnen worden opgeslagen" in me.get(again).text
    bad = me.post(again + "/mapping", {"map-0-0": "schoen"})
    assert bad.status_code == 422 and "schoen is geen kolom van employers" in bad.text


def test_why_an_import_stopped_is_told_in_dutch(agency: Agency, pages: Callable[..., Browser],
                                               monkeypatch: Any) -> None:
    """A job that fails (its file gone; the processes lost on an error of
    ours) tells why on the Dutch page, not in the service's English."""
    from contextlib import contextmanager

    import pytest

    from service import importing

    me = pages(agency.user("agency"))
    system, actor = agency.system, agency.actor
    rows = "Naam\n" + "".join(f"Werkgever {i}\n" for i in range(importing.BACKGROUND_ROWS + 1))

    def queued() -> tuple[str, UUID]:
        path = upload(me, rows.encode(), kind="werkgevers", name="w.csv").headers["location"]
        import_id = UUID(path.rsplit("/", 1)[1])
        record = system.imports.get(agency.tenant.id, import_id)
        assert importing.confirm_import(system.ledger, system.imports, agency.tenant, actor, import_id,
                                        record.fingerprint, False, lambda t, i: None) == "queued"
        return path, import_id

    path, import_id = queued()
    with system.stores.database("default").connection() as conn:
        conn.execute("UPDATE platform.imports SET sealed_file = NULL WHERE id = %s", (import_id,))
    assert importing.run_job(system.ledger, system.imports, agency.tenant, import_id) == "failed"
    html = me.get(path).text
    assert "De import is gestopt: het bestand wordt niet meer bewaard" in html, html
    assert "no longer kept" not in html

    class Dying:
        @contextmanager
        def open(self) -> Any:
            def run(fn: Any, tasks: Any) -> Any:
                raise RuntimeError("A process in the process pool was terminated abruptly")
                yield
            yield run
    path, import_id = queued()
    monkeypatch.setattr(system.ledger, "batch_processes", Dying())
    monkeypatch.setattr(importing, "PARALLEL_ROWS", 10)
    with pytest.raises(RuntimeError):
        importing.run_job(system.ledger, system.imports, agency.tenant, import_id)
    html = me.get(path).text
    assert "de import is gestopt door een fout aan onze kant" in html and "upload het bestand opnieuw" in html
    assert "an error of ours" not in html
    # The progress fragment the page polls says the same.
    fragment = me.get(path + "/progress", headers={"HX-Request": "true"}).text
    assert "door een fout aan onze kant" in fragment


def test_a_bad_file_is_answered_on_the_form_and_other_roles_may_not_import(
        agency: Agency, pages: Callable[..., Browser]) -> None:
    me = pages(agency.user("agency"))
    bad = upload(me, b"\x89PNG\r\n\x1a\n\x00\x00", name="foto.csv")
    assert bad.status_code == 422 and 'id="import-file-error"' in bad.text and "geen spreadsheet" in bad.text
    none = me.post("/imports", {"kind": "werkgevers"})
    assert none.status_code == 422 and 'id="import-file-error"' in none.text
    auditor = pages(agency.user("auditor"))
    assert auditor.get("/imports").status_code == 403
    assert upload(auditor, CANDIDATES.encode()).status_code == 403


def test_a_large_file_goes_from_upload_through_the_preview_to_the_progress_bar_and_done(
        agency: Agency, audited_page: Any, audit: Callable[[str], None], tmp_path: Path) -> None:
    page = audited_page
    n = 260  # over BACKGROUND_ROWS: stored by the worker, with a progress bar
    csv_file = tmp_path / "werkgevers.csv"
    csv_file.write_text("Sleutel;Naam\nX1;\n" + "".join(f"W{i};Werkgever {i}\n" for i in range(n)))
    login(page, agency.user("agency").email)
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Importeren").click()
    expect(page.get_by_role("heading", name="Een spreadsheet importeren", level=1)).to_be_visible()
    audit("the import page")
    page.get_by_label("Bestand (CSV of XLSX)").set_input_files(str(csv_file))
    page.get_by_label("Wat het bestand bevat").select_option("employers")
    page.get_by_role("button", name="Bestand controleren").click()
    expect(page.get_by_text(f"{n} van de {n + 1} rijen kunnen worden opgeslagen")).to_be_visible()
    expect(page.get_by_text("name moet ingevuld zijn")).to_be_visible()
    audit("the preview")
    page.get_by_role("button", name=f"De {n} juiste rijen opslaan").click()
    # The worker stores it; the page polls its progress until done.
    expect(page.get_by_text(f"Klaar: {n} nieuw", exact=False)).to_be_visible(timeout=60_000)
    audit("the import done")
    with agency.system.stores.database(agency.tenant.database).connection() as conn:
        stored = conn.execute("SELECT count(*) AS n FROM events.import_rows WHERE tenant_id = %s",
                              (agency.tenant.id,)).fetchone()["n"]
    assert stored == n
