"""Spreadsheet import through the API (docs/import.md): upload a CSV or XLSX
file, read its preview (nothing stored), confirm it (the valid rows stored as
ordinary commands with the import as correlation id), the same file again
(nothing new), stale confirms, the saved mapping, the background job's
progress, what is kept of the file, and personal data sealed and erasable."""
from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID, uuid4

import openpyxl
import pytest

from domain.candidate import Candidate
from domain.placement import Placement
from infra.bootstrap import ImportProcesses
from infra.eventstore import events_table_for
from service import importing
from service.actor import Actor
from service.ports import ProcessesLost
from tests.api.conftest import API, Org, bearer
from tests.projections.conftest import spawn, subprocess_env, wait_until  # noqa: F401  (spawn: a fixture)

EMPLOYERS_NL = "Sleutel;Naam\nW1;Bouwbedrijf De Vries\nW2;Groenbedrijf Noord\n"
CANDIDATES_NL = ("Kandidaatnummer;Naam;Geboortedatum;Doelgroep;Competenties;Ondersteuningsbehoefte\n"
                 "K1;Sanne Bakker;12-04-1994;doelgroepregister;administratie, excel;Vaste werkplek\n"
                 "K2;Jan de Boer;31-02-1990;doelgroepregister;;\n"
                 "K3;=HYPERLINK(\"http://evil\");01-01-1985;doelgroepregister;;\n")
PLACEMENTS_NL = ("Kandidaat;Werkgever;Startdatum;Uren per week;Vast contract\n"
                 "K1;W1;01-02-2025;32,5;nee\n"
                 "K2;W1;01-02-2025;24;ja\n"
                 "K3;W2;2025-03-01;abc;ja\n")


def upload(org: Org, content: bytes, filename: str = "bestand.csv", kind: str | None = None,
           token: str | None = None, mapping: dict[str, Any] | None = None) -> Any:
    data = {}
    if kind:
        data["kind"] = kind
    if mapping is not None:
        data["mapping"] = json.dumps(mapping)
    return org.client.post(f"{API}/imports", files={"file": (filename, content, "text/csv")}, data=data,
                           headers=bearer(token or org.agency_token))


def uploaded(org: Org, content: bytes, **kwargs: Any) -> dict[str, Any]:
    r = upload(org, content, **kwargs)
    assert r.status_code == 201, r.text
    return r.json()


def confirm(org: Org, made: dict[str, Any], keep_file: bool = False, token: str | None = None) -> Any:
    return org.post(f"/imports/{made['id']}/confirm", {"fingerprint": made["fingerprint"], "keep_file": keep_file},
                    token=token)


def confirmed(org: Org, made: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    r = confirm(org, made, **kwargs)
    assert r.status_code == 200, r.text
    return r.json()


def preview_rows(org: Org, import_id: str, **query: str) -> list[dict[str, Any]]:
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    r = org.get(f"/imports/{import_id}/preview?{qs}")
    assert r.status_code == 200, r.text
    return r.json()["rows"]


def xlsx(sheets: dict[str, list[list[Any]]]) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def agency(org: Org) -> Actor:
    user = org.system.registry.create_user(org.tenant, f"import-{uuid4().hex}@example.org", "agency")
    return Actor(user_id=user.id, role="agency", organisation=org.tenant.name)


def test_a_dutch_csv_is_previewed_without_storing_then_confirmed_with_the_import_as_correlation_id(org: Org) -> None:
    employers = uploaded(org, EMPLOYERS_NL.encode(), kind="werkgevers")
    assert employers["status"] == "previewed" and employers["ok"] == 2
    assert confirmed(org, employers)["new"] == 2

    before = org.event_count()
    candidates = uploaded(org, CANDIDATES_NL.encode(), kind="kandidaten")
    assert (candidates["rows"], candidates["ok"], candidates["error"]) == (3, 2, 1)
    assert org.event_count() == before, "a preview stores nothing"
    rows = preview_rows(org, candidates["id"])
    assert [r["status"] for r in rows] == ["ok", "error", "ok"]
    assert rows[0]["cells"]["Naam"] == "Sanne Bakker"
    [error] = rows[1]["errors"]
    assert (error["column"], error["field"]) == ("Geboortedatum", "date_of_birth")
    assert "31-02-1990 is not a date" in error["message"]
    assert [r["row"] for r in preview_rows(org, candidates["id"], status="error")] == [3]

    done = confirmed(org, candidates)
    assert (done["status"], done["new"]) == ("done", 2)
    assert org.event_count() == before + 2

    placements = uploaded(org, PLACEMENTS_NL.encode(), kind="plaatsingen")
    rows = preview_rows(org, placements["id"])
    assert [r["status"] for r in rows] == ["ok", "error", "error"]
    # K2 was never imported (its row had an error): the reference names the column.
    assert rows[1]["errors"][0]["column"] == "Kandidaat"
    assert "no candidate with key K2" in rows[1]["errors"][0]["message"]
    assert rows[2]["errors"][0]["column"] == "Uren per week"
    assert confirmed(org, placements)["new"] == 1

    # The stored placement is an ordinary one, its events correlated with the import.
    table = events_table_for(org.tenant.id)
    with org.system.stores.database(org.tenant.database).connection() as conn:
        row = conn.execute(f"SELECT record_id FROM events.import_rows WHERE tenant_id = %s AND import_id = %s",
                           (org.tenant.id, UUID(placements["id"]))).fetchone()
    placement_id = row["record_id"]
    history = org.system.ledger.history(org.tenant, agency(org), Placement, placement_id)
    assert history[0]["type"] == "PlacementStarted"
    assert history[0]["metadata"]["correlation_id"] == placements["id"]
    assert str(history[0]["data"]["hours_per_week"]) == "32.5"
    r = org.get(f"/placements/{placement_id}")
    assert r.status_code == 200 and r.json()["hours_per_week"] == "32.5"
    assert table  # the tenant's own table


def test_the_same_file_twice_stores_nothing_new(org: Org) -> None:
    confirmed(org, uploaded(org, EMPLOYERS_NL.encode(), kind="employers"))
    before = org.event_count()
    again = uploaded(org, EMPLOYERS_NL.encode(), kind="employers")
    assert (again["ok"], again["already"]) == (0, 2)
    done = confirmed(org, again)
    assert (done["new"], done["already"]) == (0, 2)
    assert org.event_count() == before
    # The same rows in a file saved again with other line endings and a BOM: still the same rows.
    resaved = ("\ufeff" + EMPLOYERS_NL.replace("\n", "\r\n")).encode()
    assert uploaded(org, resaved, kind="employers")["already"] == 2


def test_an_xlsx_workbook_with_english_headers_imports_each_sheet_in_order(org: Org) -> None:
    employer = org.create("/employers", {"name": "Schoonmaakbedrijf Zuid"})
    content = xlsx({
        # Placements first in the workbook: they still run after the candidates they name.
        "Placements": [["Candidate key", "Employer", "Start date", "Hours per week", "Permanent contract"],
                       ["C-1", employer, "2025-02-01", 24, "yes"],
                       ["C-2", employer, "01-03-2025", "20.5", "no"]],
        "Candidates": [["Key", "Name", "Date of birth", "Target group", "Competences"],
                       ["C-1", "Noor de Wit", "1991-01-01", "participatiewet", "Plannen"],
                       ["C-2", "+31 6 1234", "1988-05-05", "participatiewet", "Koken"]],
    })
    made = uploaded(org, content, filename="import.xlsx")
    assert (made["file_type"], made["ok"], made["error"]) == ("xlsx", 4, 0), made
    assert made["by_kind"]["candidates"]["ok"] == 2 and made["by_kind"]["placements"]["ok"] == 2
    assert confirmed(org, made)["new"] == 4
    # A cell that looks like a formula is data: stored as the text it is.
    with org.system.stores.database(org.tenant.database).connection() as conn:
        ids = [r["record_id"] for r in conn.execute(
            "SELECT record_id FROM events.import_rows WHERE tenant_id = %s AND kind = 'candidate'",
            (org.tenant.id,)).fetchall()]
    names = {org.system.ledger.get(org.tenant, agency(org), Candidate, i).full_name for i in ids}
    assert names == {"Noor de Wit", "+31 6 1234"}


def test_a_confirm_of_a_changed_preview_is_refused_and_the_mapping_is_saved_for_the_next_upload(org: Org) -> None:
    content = "Sleutel;Bedrijf\nW7;Drukkerij Oost\n".encode()
    made = uploaded(org, content, kind="werkgevers")
    # "Bedrijf" is no known header: the required name has no column.
    assert made["ok"] == 0
    preview = org.get(f"/imports/{made['id']}/preview").json()
    assert preview["file_errors"][0]["field"] == "name"
    r = org.client.post(f"{API}/imports/{made['id']}/mapping", json={"mapping": {"employers": {"Bedrijf": "name"}}},
                       headers=bearer(org.agency_token))
    assert r.status_code == 200, r.text
    remapped = r.json()
    assert remapped["ok"] == 1 and remapped["fingerprint"] != made["fingerprint"]
    before = org.event_count()
    stale = confirm(org, made)
    assert stale.status_code == 409 and "not the import's current preview" in stale.json()["detail"]
    assert org.event_count() == before
    assert confirmed(org, remapped)["new"] == 1
    assert confirm(org, remapped).status_code == 409  # confirmed once only
    # The next upload of the tenant maps "Bedrijf" itself.
    nxt = uploaded(org, "Sleutel;Bedrijf\nW8;Drukkerij West\n".encode(), kind="employers")
    assert nxt["ok"] == 1
    # A mapping to a field the kind does not have is refused, naming mapping.
    r = org.client.post(f"{API}/imports/{nxt['id']}/mapping", json={"mapping": {"employers": {"Bedrijf": "shoe"}}},
                       headers=bearer(org.agency_token))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "mapping"


def test_only_agency_users_import_and_a_tenant_never_sees_another_tenants_import(org: Org, new_org: Any) -> None:
    made = uploaded(org, EMPLOYERS_NL.encode(), kind="employers")
    employer = org.create("/employers", {"name": "Bouwbedrijf Oost"})
    for role, kwargs in (("auditor", {}), ("employer", {"employer_id": UUID(employer)})):
        token = org.token_for(role, **kwargs)
        assert upload(org, EMPLOYERS_NL.encode(), kind="employers", token=token).status_code == 403
        assert org.get(f"/imports/{made['id']}", token=token).status_code == 403
        assert confirm(org, made, token=token).status_code == 403
    other = new_org("Andere Detachering B.V.")
    for path in (f"/imports/{made['id']}", f"/imports/{made['id']}/preview"):
        r = other.get(path)
        assert r.status_code == 404 and "Bouwbedrijf" not in r.text
    r = other.post(f"/imports/{made['id']}/confirm", {"fingerprint": made["fingerprint"]})
    assert r.status_code == 404
    assert org.get(f"/imports/{made['id']}").json()["status"] == "previewed"


@pytest.mark.parametrize("content, filename, field", [
    (b"", "leeg.csv", "file"),
    (b"%PDF-1.4 not a sheet\x00\x00", "factuur.csv", "file"),
    (b"PK\x03\x04" + b"\x00" * 40, "kapot.xlsx", "file"),
    (b"Naam\nA\n", "werkgevers.csv", "kind"),
])
def test_a_bad_upload_is_refused_naming_the_field(org: Org, content: bytes, filename: str, field: str) -> None:
    r = upload(org, content, filename=filename)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field


def test_a_large_file_runs_in_the_background_with_progress_to_done_and_the_file_is_not_kept(org: Org) -> None:
    system = org.system
    actor = agency(org)
    n = importing.BACKGROUND_ROWS + 30
    content = ("Name\n" + "".join(f"Werkgever {i}\n" for i in range(n))).encode()
    import_id = importing.upload(system.ledger, system.imports, org.tenant, actor, "groot.csv", content, "employers")
    record = system.imports.get(org.tenant.id, import_id)
    queued: list[tuple[UUID, UUID]] = []
    status = importing.confirm_import(system.ledger, system.imports, org.tenant, actor, import_id,
                                      record.fingerprint, False, lambda t, i: queued.append((t, i)))
    assert status == "queued" and queued == [(org.tenant.id, import_id)]
    assert org.get(f"/imports/{import_id}").json()["status"] == "queued"
    seen: list[int] = []
    store = system.imports
    original = store.progress

    def watch(ident: UUID, done: int, status: str = "running") -> None:
        original(ident, done, status)
        seen.append(org.get(f"/imports/{ident}").json()["done"])
    store.progress = watch  # type: ignore[method-assign]
    try:
        assert importing.run_job(system.ledger, store, org.tenant, import_id, progress_every=100) == "done"
    finally:
        del store.progress
    assert seen == [0, 100, 200, n]
    final = org.get(f"/imports/{import_id}").json()
    assert (final["status"], final["done"], final["total"], final["new"]) == ("done", n, n, n)
    assert final["file_kept"] is False
    assert system.imports.file(org.tenant.id, import_id) is None
    assert system.imports.preview(org.tenant.id, import_id) is None
    # Delivered again: nothing more.
    before = org.event_count()
    assert importing.run_job(system.ledger, store, org.tenant, import_id) == "done"
    assert org.event_count() == before


def test_a_kept_file_is_sealed_and_deleted_on_request(org: Org) -> None:
    made = uploaded(org, EMPLOYERS_NL.encode(), kind="employers")
    with org.system.stores.database("default").connection() as conn:
        sealed = bytes(conn.execute("SELECT sealed_file FROM platform.imports WHERE id = %s",
                                    (UUID(made["id"]),)).fetchone()["sealed_file"])
    assert b"Bouwbedrijf" not in sealed
    done = confirmed(org, made, keep_file=True)
    assert done["file_kept"] is True
    assert org.system.imports.file(org.tenant.id, UUID(made["id"])) == EMPLOYERS_NL.encode()
    r = org.client.delete(f"{API}/imports/{made['id']}/file", headers=bearer(org.agency_token))
    assert r.status_code == 200 and r.json()["file_kept"] is False
    assert org.system.imports.file(org.tenant.id, UUID(made["id"])) is None


def test_an_imported_candidates_personal_data_is_sealed_and_erasable(org: Org) -> None:
    confirmed(org, uploaded(org, CANDIDATES_NL.encode(), kind="candidates"))
    with org.system.stores.database(org.tenant.database).connection() as conn:
        candidate = conn.execute("SELECT record_id FROM events.import_rows WHERE tenant_id = %s AND kind = 'candidate'"
                                 " ORDER BY record_id LIMIT 1", (org.tenant.id,)).fetchone()["record_id"]
        states = [bytes(r["state"]) for r in conn.execute(
            f"SELECT state FROM events.{events_table_for(org.tenant.id)} WHERE originator_id = %s", (candidate,))]
    assert states and all(b"Sanne" not in s and b"1994" not in s for s in states)
    assert org.get(f"/candidates/{candidate}").json()["full_name"] in ("Sanne Bakker", '=HYPERLINK("http://evil")')
    assert org.post(f"/candidates/{candidate}/erase", {}).status_code == 200
    assert org.get(f"/candidates/{candidate}").json()["full_name"] == "[erased]"


def test_erasing_a_person_deletes_the_kept_files_of_the_imports_about_them(org: Org) -> None:
    """The candidates file and the placements file that placed the person,
    both kept, lose their files; a kept file about other people stays."""
    employers = confirmed(org, uploaded(org, EMPLOYERS_NL.encode(), kind="employers"), keep_file=True)
    people = confirmed(org, uploaded(org, CANDIDATES_NL.encode(), kind="candidates"), keep_file=True)
    placed = confirmed(org, uploaded(org, PLACEMENTS_NL.encode(), kind="placements"), keep_file=True)
    others = ("Kandidaatnummer;Naam;Geboortedatum;Doelgroep\nK9;Pieter Smit;02-03-1980;doelgroepregister\n")
    unrelated = confirmed(org, uploaded(org, others.encode(), kind="candidates"), keep_file=True)
    assert all(d["file_kept"] for d in (employers, people, placed, unrelated))
    with org.system.stores.database(org.tenant.database).connection() as conn:
        sanne = conn.execute("SELECT record_id FROM events.import_rows WHERE tenant_id = %s AND row_key = %s",
                             (org.tenant.id, importing.key_row_key("candidates", "K1"))).fetchone()["record_id"]
    assert org.post(f"/candidates/{sanne}/erase", {}).status_code == 200
    kept = {name: org.get(f"/imports/{d['id']}").json()["file_kept"]
            for name, d in {"employers": employers, "people": people, "placed": placed, "unrelated": unrelated}.items()}
    assert kept == {"employers": True, "people": False, "placed": False, "unrelated": True}
    assert org.system.imports.file(org.tenant.id, UUID(people["id"])) is None
    assert org.system.imports.file(org.tenant.id, UUID(placed["id"])) is None
    assert b"Pieter Smit" in org.system.imports.file(org.tenant.id, UUID(unrelated["id"]))
    # Erased again (a retry): nothing more to delete, no error.
    assert org.system.ledger.imported_files.forget_person(org.tenant, sanne) == 0


def test_a_preview_nobody_confirms_expires_with_its_file(org: Org) -> None:
    made = uploaded(org, CANDIDATES_NL.encode(), kind="candidates")
    fresh = uploaded(org, EMPLOYERS_NL.encode(), kind="employers")
    with org.system.stores.database("default").connection() as conn:
        conn.execute("UPDATE platform.imports SET created_at = now() - interval '8 days' WHERE id = %s",
                     (UUID(made["id"]),))
    assert org.system.imports.expire_previews() >= 1
    assert org.system.imports.file(org.tenant.id, UUID(made["id"])) is None
    assert org.system.imports.preview(org.tenant.id, UUID(made["id"])) is None
    assert org.get(f"/imports/{made['id']}").json()["status"] == "expired"
    r = confirm(org, made)
    assert r.status_code == 409 and "expired after 7 days" in r.json()["detail"], r.text
    # A preview younger than PREVIEW_DAYS keeps its file and is confirmed as usual.
    assert org.system.imports.file(org.tenant.id, UUID(fresh["id"])) == EMPLOYERS_NL.encode()
    assert confirmed(org, fresh)["status"] == "done"


class CountingProcesses(ImportProcesses):
    """Two child processes, whatever the machine (IMPORT_PROCESSES' default
    follows the cores); counts the batches they stored."""

    def __init__(self, system: Any) -> None:
        super().__init__(system.settings, system.database_url, 2)
        self.batches = 0

    @contextmanager
    def open(self) -> Iterator[Any]:
        with super().open() as run:
            def counted(fn: Any, tasks: Any) -> Iterator[Any]:
                for done in run(fn, tasks):
                    self.batches += 1
                    yield done
            yield counted


@pytest.fixture()
def side_by_side(org: Org, monkeypatch: pytest.MonkeyPatch) -> CountingProcesses:
    """The import's kinds of 10 rows or more stored side by side, in child processes."""
    processes = CountingProcesses(org.system)
    monkeypatch.setattr(org.system.ledger, "batch_processes", processes)
    monkeypatch.setattr(importing, "PARALLEL_ROWS", 10)
    return processes


def test_a_large_import_stored_side_by_side_ends_as_one_stored_batch_by_batch(
        org: Org, new_org: Any, side_by_side: CountingProcesses, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same file into two tenants, side by side in child processes and
    here batch by batch: every row ends the same (stored, its errors, imported
    before, the same row again), the same events are stored with the import's
    id, a placement refers to a candidate a child stored, and the file again
    stores nothing."""
    n = 30
    candidates = [["Kandidaatnummer", "Naam", "Geboortedatum", "Doelgroep", "Ondersteuningsbehoefte"]]
    placements = [["Kandidaat", "Werkgever", "Startdatum", "Uren per week"]]
    for i in range(n):
        candidates.append([f"K{i}", f"Kandidaat {i}", "31-02-1990" if i == 4 else f"{1 + i % 28:02d}-03-1990",
                           "doelgroepregister", "Rustige werkplek"])
        placements.append([f"K{i}", "W1" if i % 2 else "W2", f"{1 + i % 28:02d}-02-2026",
                           "abc" if i == 7 else str(20 + i % 10)])
    candidates.append(["K3", "Kandidaat 3", "04-03-1990", "doelgroepregister", "Rustige werkplek"])  # again
    placements.append(["K99", "W1", "01-02-2026", "24"])  # no such candidate
    content = xlsx({"Werkgevers": [["Sleutel", "Naam"], ["W1", "Bouwbedrijf"], ["W2", "Groenbedrijf"]],
                    "Kandidaten": candidates, "Plaatsingen": placements})
    other = new_org("Werkbedrijf Twee")
    results, rows, stored = {}, {}, {}
    tell = org.system.ledger.on_committed
    for target, processes in ((org, side_by_side), (other, None)):
        monkeypatch.setattr(org.system.ledger, "batch_processes", processes)
        actor, import_id = agency(target), uuid4()
        the_plan = importing.plan(importing._read(content), None, {})
        before = target.event_count()
        done: list[int] = []
        told: list[tuple[UUID, int]] = []  # what the workers were told: tenant, position
        monkeypatch.setattr(org.system.ledger, "on_committed",
                            lambda tenant, position, told=told: told.append((tenant.id, position)) or tell(
                                tenant, position))
        results[target.tenant.id] = importing.confirm(org.system.ledger, target.tenant, actor, the_plan, import_id,
                                                      progress=done.append, batch_rows=7)
        # Every batch that stored something, here or in a child, was told
        # here, up to the last event the import stored.
        with org.system.stores.database(target.tenant.database).connection() as conn:
            head = conn.execute(f"SELECT max(notification_id) AS m FROM events.{events_table_for(target.tenant.id)}"
                                ).fetchone()["m"]
        assert {t for t, _ in told} == {target.tenant.id} and len(told) == 1 + 5 + 5
        assert max(p for _, p in told) == head
        assert done == sorted(done) and done[-1] == len(the_plan.rows)
        rows[target.tenant.id] = [(r.kind, r.number, r.status, [e["message"] for e in r.errors])
                                  for r in the_plan.rows]
        stored[target.tenant.id] = target.event_count() - before
        with org.system.stores.database(target.tenant.database).connection() as conn:
            metas = conn.execute(f"SELECT count(*) AS n FROM events.{events_table_for(target.tenant.id)}"
                                 " WHERE convert_from(state, 'UTF8')::jsonb -> '_meta' ->> 'correlation_id' = %s",
                                 (str(import_id),)).fetchone()["n"]
        assert metas == stored[target.tenant.id]
        if processes is not None:
            placed = next(r for r in the_plan.rows if r.kind == "placements" and r.status == "ok")
            placement = org.system.ledger.get(target.tenant, actor, Placement, UUID(placed.record_id))
            candidate = org.system.ledger.get(target.tenant, actor, Candidate, placement.candidate_id)
            assert candidate.full_name.startswith("Kandidaat ")
            again = importing.confirm(org.system.ledger, target.tenant, actor,
                                      importing.plan(importing._read(content), None, {}), uuid4(), batch_rows=7)
            assert again["new"] == 0 and again["already"] == results[target.tenant.id]["ok"]
    # Candidates and placements: 5 batches each (employers, 2 rows, here);
    # the file again: one batch, the 2 placements that failed, run again.
    assert side_by_side.batches == 2 * 5 + 1
    mine, theirs = results[org.tenant.id], results[other.tenant.id]
    assert rows[org.tenant.id] == rows[other.tenant.id]
    assert {k: mine[k] for k in ("ok", "error", "already", "duplicate", "new")} == \
        {k: theirs[k] for k in ("ok", "error", "already", "duplicate", "new")} == \
        {"ok": 2 + 29 + 28, "error": 1 + 3, "already": 0, "duplicate": 1, "new": 59}
    assert stored[org.tenant.id] == stored[other.tenant.id] > 0


def test_an_import_job_that_stops_on_an_error_of_ours_ends_failed_saying_what_to_do(
        org: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    """A child process that dies (or a lost connection) is not the file's
    fault: the job ends failed, saying the stored rows stay and the file
    uploaded again stores the rest; the error still reaches the worker's log."""
    system = org.system
    actor = agency(org)
    content = ("Name\n" + "".join(f"Werkgever {i}\n" for i in range(importing.BACKGROUND_ROWS + 1))).encode()
    import_id = importing.upload(system.ledger, system.imports, org.tenant, actor, "groot.csv", content, "employers")
    record = system.imports.get(org.tenant.id, import_id)
    assert importing.confirm_import(system.ledger, system.imports, org.tenant, actor, import_id, record.fingerprint,
                                    False, lambda t, i: None) == "queued"

    class Dying:
        @contextmanager
        def open(self) -> Iterator[Any]:
            def run(fn: Any, tasks: Any) -> Iterator[Any]:
                raise RuntimeError("A process in the process pool was terminated abruptly")
                yield
            yield run
    monkeypatch.setattr(system.ledger, "batch_processes", Dying())
    monkeypatch.setattr(importing, "PARALLEL_ROWS", 10)
    with pytest.raises(RuntimeError, match="terminated abruptly"):
        importing.run_job(system.ledger, system.imports, org.tenant, import_id)
    final = org.get(f"/imports/{import_id}").json()
    assert final["status"] == "failed", final
    assert "upload the file again to store the rest" in json.dumps(final)


def test_the_worker_stores_a_large_import_side_by_side(org: Org, spawn: Any) -> None:
    """Through the API and a real `sroi worker` with IMPORT_PROCESSES=2: the
    job's rows go to two child processes (the worker's log says so) and
    every row is stored once."""
    import sys

    n = importing.PARALLEL_ROWS + 100
    made = uploaded(org, ("Sleutel;Naam\n" + "".join(f"W{i};Werkgever {i}\n" for i in range(n))).encode(),
                    kind="employers")
    worker = spawn([sys.executable, "-m", "infra.cli", "-v", "worker", "--threads", "2"],
                   subprocess_env(org.system.database_url, IMPORT_PROCESSES="2"), name="import-worker")
    assert confirmed(org, made)["status"] == "queued"
    try:
        wait_until(lambda: org.get(f"/imports/{made['id']}").json()["status"] in ("done", "failed"), 90,
                   poll=0.3, message="the import to finish")
    except AssertionError as e:
        raise AssertionError(f"{e}; the worker's log: {worker.output()[-3000:]}") from None
    status = org.get(f"/imports/{made['id']}").json()
    assert (status["status"], status["new"]) == ("done", n), (status, worker.output()[-3000:])
    assert f"import {made['id']}: {n} employers rows in 3 batches, side by side" in worker.output()
    with org.system.stores.database(org.tenant.database).connection() as conn:
        assert conn.execute("SELECT count(*) AS n FROM events.import_rows WHERE tenant_id = %s",
                            (org.tenant.id,)).fetchone()["n"] == n


def test_import_processes_follow_the_cores_unless_set() -> None:
    import os

    from infra.settings import Settings, SettingsError

    base = {"SECRET_KEY": "x"}
    assert Settings.from_env(base).import_processes == min(os.cpu_count() or 1, 4)
    assert Settings.from_env({**base, "IMPORT_PROCESSES": "6"}).import_processes == 6
    for bad in ("0", "two"):
        with pytest.raises(SettingsError, match="IMPORT_PROCESSES"):
            Settings.from_env({**base, "IMPORT_PROCESSES": bad})


class DyingAfterStoring:
    """Processes that store the first batch and answer, store the second and
    die before answering (as a child killed right after its commit), and
    never run the rest."""

    def __init__(self, ledger: Any) -> None:
        self.ledger = ledger

    @contextmanager
    def open(self) -> Iterator[Any]:
        def run(fn: Any, tasks: Any) -> Iterator[Any]:
            taken = iter(tasks)
            yield 0, fn(self.ledger, next(taken))
            fn(self.ledger, next(taken))
            raise ProcessesLost("the import's processes stopped: BrokenProcessPool")
        yield run


def test_when_the_processes_die_the_batches_left_are_stored_here_and_none_twice(
        org: Org, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    system = org.system
    monkeypatch.setattr(system.ledger, "batch_processes", DyingAfterStoring(system.ledger))
    monkeypatch.setattr(importing, "PARALLEL_ROWS", 10)
    n = 50
    content = ("Sleutel;Naam\n" + "".join(f"W{i};Werkgever {i}\n" for i in range(n))).encode()
    before = org.event_count()
    done: list[int] = []
    with caplog.at_level("WARNING", logger="sroi.importing"):
        result = importing.confirm(system.ledger, org.tenant, agency(org), importing.plan(
            importing._read(content), "employers", {}), uuid4(), progress=done.append, batch_rows=10)
    # Batch 1 answered; batch 2 stored by the "child" that died, found stored
    # when run here (its rows: already imported); batches 3-5 stored here.
    assert (result["new"], result["already"], result["error"]) == (40, 10, 0)
    assert org.event_count() - before == n
    with system.stores.database(org.tenant.database).connection() as conn:
        assert conn.execute("SELECT count(*) AS n FROM events.import_rows WHERE tenant_id = %s",
                            (org.tenant.id,)).fetchone()["n"] == n
    assert done == [10, 20, 30, 40, 50]
    assert "the processes storing its batches stopped; 4 batches left, stored here" in caplog.text


def _die(ledger: Any, task: Any) -> None:
    """A child's task that ends its process at once (as a kill would)."""
    import os

    os._exit(3)


def test_a_child_that_dies_is_told_as_processes_lost(org: Org) -> None:
    processes = ImportProcesses(org.system.settings, org.system.database_url, 2)
    with processes.open() as run:
        with pytest.raises(ProcessesLost, match="BrokenProcessPool"):
            list(run(_die, [1, 2, 3]))
        with pytest.raises(ProcessesLost):  # and stays lost
            list(run(_die, [4]))


def test_a_batch_refused_in_a_child_process_comes_back_as_its_error() -> None:
    """A refusal travels back from a child as its class, message and fields
    (the errors' constructors take other arguments than pickle would give)."""
    import pickle

    refused = importing.ImportError_("file", "{done} rows were stored", done=3)
    back = importing._PartDone(rows=[], ids={}, failed_keys={},
                               error=(type(refused), str(refused), dict(vars(refused))))
    error = pickle.loads(pickle.dumps(back)).refusal()
    assert isinstance(error, importing.ImportError_)
    assert (str(error), error.field, error.template, error.params) == \
        ("3 rows were stored", "file", "{done} rows were stored", {"done": 3})


@pytest.mark.parametrize("where", ["here", "side by side"])
def test_two_imports_of_the_same_rows_at_once_store_each_row_once(org: Org, where: str, request: Any) -> None:
    """Two confirms of the same file racing: a batch that loses (a row stored
    meanwhile by the other) stores nothing and is decided again, its rows then
    'already imported'; every row is stored exactly once (each batch in this
    process, or each in a child process with its own retries)."""
    import threading

    if where == "side by side":
        request.getfixturevalue("side_by_side")
    system = org.system
    actor = agency(org)
    n = 120
    content = ("Sleutel;Naam\n" + "".join(f"R{i};Werkgever {i}\n" for i in range(n))).encode()
    ids = [importing.upload(system.ledger, system.imports, org.tenant, actor, f"{k}.csv", content, "employers")
           for k in ("a", "b")]
    plans = [importing.plan(importing._read(content), "employers", {}) for _ in ids]
    results: list[dict[str, Any]] = []
    start = threading.Barrier(2)

    def run(i: int) -> None:
        start.wait()
        results.append(importing.confirm(system.ledger, org.tenant, actor, plans[i], ids[i], batch_rows=20))

    before = org.event_count()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2
    assert sum(r["new"] for r in results) == n
    assert all(r["new"] + r["already"] == n for r in results)
    assert org.event_count() - before == n
    with system.stores.database(org.tenant.database).connection() as conn:
        assert conn.execute("SELECT count(*) AS n FROM events.import_rows WHERE tenant_id = %s",
                            (org.tenant.id,)).fetchone()["n"] == n



def _pid(ledger: Any, task: Any) -> int:
    import os

    return os.getpid()


def test_an_imports_children_end_with_it(org: Org) -> None:
    """The children serve one import: when it ends they have exited (none
    left waiting, holding memory or another import's data)."""
    import os

    processes = ImportProcesses(org.system.settings, org.system.database_url, 2)
    processes.warm()
    with processes.open() as run:
        pids = {pid for _, pid in run(_pid, range(6))}
    assert pids and os.getpid() not in pids
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
