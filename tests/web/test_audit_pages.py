"""The audit pages: an auditor follows who did what and when (never what was
said about a person), compares figures as known then with now, checks the
hash chain, exports it through the real worker and verifies the file
offline, and reads the access log. Nobody else opens them."""
from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from dramatiq.brokers.stub import StubBroker

from infra import export_jobs
from infra.audit import count_events
from infra.eventstore import SCHEMA
from infra.export_verify import load_public_key, verify_export
from projections.registry import QUEUE
from service import commands as c
from service.actor import Actor
from tests.web.conftest import Agency, Browser, Server
from tests.web.conftest import login
from web.pages import audit as audit_pages

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the test extra installs it
    expect = None  # type: ignore[assignment]


@pytest.fixture
def exports_removed(agency: Agency) -> Iterator[None]:
    """The tenant's export files are removed after the test, whatever happens."""
    yield
    shutil.rmtree(agency.system.settings.data_dir / "exports" / str(agency.tenant.id), ignore_errors=True)


AUDIT_PAGES = ("/audit", "/audit/events", "/audit/compliance", "/audit/export", "/audit/access-log")
POSITION_RE = re.compile(r'<th scope="row" class="num">(\d+)</th>')


def positions(html: str) -> list[int]:
    return [int(p) for p in POSITION_RE.findall(html)]


def older_link(html: str) -> str | None:
    found = re.search(r'<a href="([^"]+)"[^>]*rel="next"', html)
    return unescape(found.group(1)) if found else None


def with_feedback(agency: Agency) -> dict[str, Any]:
    """The small world, plus feedback with a comment from the employer's side."""
    ids = agency.seed()
    employer = Actor(user_id=agency.user("employer", employer_id=ids["employer"]).id, role="employer",
                     organisation="Bouwbedrijf De Vries B.V.", employer_id=ids["employer"])
    agency.run(c.GiveFeedback(placement_id=ids["placement"], score=2, from_role="employer",
                              comment="Rugklachten besproken; werkt halve dagen."), as_=employer)
    return {**ids, "employer_actor": employer}


# -- the event history -----------------------------------------------------------------

def test_an_auditor_pages_through_the_history_newest_first(
        agency: Agency, pages: Callable[..., Browser], monkeypatch: pytest.MonkeyPatch) -> None:
    with_feedback(agency)
    monkeypatch.setattr(audit_pages, "PAGE_SIZE", 3)
    me = pages(agency.user("auditor"))
    seen: list[int] = []
    path: str | None = "/audit/events?lang=en"
    while path:
        r = me.get(path)
        assert r.status_code == 200, r.text
        assert len(positions(r.text)) <= 3
        seen += positions(r.text)
        path = older_link(r.text)
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen))
    assert len(seen) >= 8 and seen[-1] == 1  # every event, once

    # With htmx, the next page is only the results block (the filter stays as it is).
    first = me.get("/audit/events")
    link = older_link(first.text)
    assert link is not None
    fragment = me.get(link, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert positions(fragment.text) == seen[3:6]


def test_the_history_filters_by_kind_record_who_and_date(agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = with_feedback(agency)
    employer: Actor = ids["employer_actor"]
    me = pages(agency.user("auditor"))

    def shown(**query: str) -> str:
        r = me.get("/audit/events", params={"lang": "en", **query})
        assert r.status_code == 200, r.text
        return r.text

    feedback = shown(type="FeedbackGiven")
    assert len(positions(feedback)) == 1 and "<strong>FeedbackGiven</strong>" in feedback
    placement = shown(record=str(ids["placement"]))
    assert set(re.findall(r"<strong>(\w+)</strong>", placement)) == {"PlacementStarted", "FeedbackGiven"}
    by_employer = shown(role="employer")
    assert positions(by_employer) == positions(shown(user=str(employer.user_id))) == positions(feedback)
    assert str(agency.actor.user_id) in shown(role="agency") and str(agency.actor.user_id) not in by_employer
    today = datetime.now(timezone.utc).date()
    assert positions(shown(**{"from": today.isoformat(), "to": today.isoformat()})) == positions(shown())
    assert positions(shown(**{"from": (today + timedelta(days=1)).isoformat()})) == []
    assert positions(shown(to=(today - timedelta(days=1)).isoformat())) == []
    assert "No events match this filter." in shown(type="ContractClosed")

    wrong = me.get("/audit/events", params={"lang": "en", "record": "not-an-id", "from": "yesterday"})
    assert wrong.status_code == 422
    assert "Please give an id as the pages show it (a UUID)." in wrong.text
    assert "Please give a date (YYYY-MM-DD)." in wrong.text


def test_the_history_never_shows_what_was_said_about_a_person(agency: Agency,
                                                              pages: Callable[..., Browser]) -> None:
    ids = with_feedback(agency)
    agency.run(c.StateSupportNeeds(candidate_id=ids["candidate"], support_needs="Prikkelarme werkplek nodig."))
    me = pages(agency.user("auditor"))
    html = "".join(me.get(path).text for path in (
        "/audit/events", f"/audit/events?record={ids['candidate']}", f"/audit/events?record={ids['placement']}",
        "/audit/events?type=CandidateRegistered", "/audit/events?type=FeedbackGiven"))
    assert "CandidateRegistered" in html and "SupportNeedsStated" in html and "FeedbackGiven" in html
    for personal in ("Sanne Jansen", "Sanne", "Jansen", "1990-06-15", "Schriftelijke instructies",
                     "Prikkelarme werkplek", "Rugklachten", "halve dagen", "doelgroepregister"):
        assert personal not in html, personal


# -- as known then, as known now ---------------------------------------------------------

def figure_row(html: str, contract_title: str, figure: str) -> tuple[str, str]:
    """(then, now) of one figure in one contract's table."""
    section = html[html.index(f">{contract_title}</h2>"):]
    row = re.search(rf'<th scope="row">{figure}</th>\s*<td class="num">([^<]*)</td>\s*<td class="num">(.*?)</td>',
                    section, re.S)
    assert row is not None, section[:2000]
    return row.group(1), re.sub(r"<[^>]+>|\(changed\)", "", row.group(2)).strip()


def test_figures_as_known_then_differ_from_now_after_a_later_correction(
        agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    agency.project()
    # Known then: what was stored up to the last event's own commit time (its
    # recorded_at, hashed in the chain); the correction is stored later.
    with agency.system.stores.database(agency.tenant.database).connection() as conn:
        known_at = conn.execute(f'SELECT max(recorded_at) AS at FROM {SCHEMA}."{agency.tenant.events_table}"'
                                ).fetchone()["at"]
    # A correction afterwards: the placement was 36 hours a week from its start, not 24.
    agency.run(c.ChangeHours(placement_id=ids["placement"], hours_per_week=Decimal("36"),
                             effective_on=date.today() - timedelta(days=60)))
    agency.project()
    me = pages(agency.user("auditor"))

    r = me.get("/audit/compliance", params={"lang": "en", "known_at": known_at.isoformat(),
                                            "as_of": date.today().isoformat()})
    assert r.status_code == 200, r.text
    then, now = figure_row(r.text, "Onderhoud openbare ruimte", "Reported")
    assert then != now and "<mark>" in r.text and "changed since" in r.text
    as_number = lambda s: Decimal(re.sub(r"[^\d.]", "", s))  # noqa: E731
    assert as_number(now) == pytest.approx(as_number(then) * Decimal("1.5"), abs=Decimal("0.05"))
    assert figure_row(r.text, "Onderhoud openbare ruimte", "Obligation")[0] == "€50,000.00"
    assert re.search(r'id="changes-since">1<', r.text)  # the correction, and only it

    # Known now: nothing differs; known before anything was recorded: nothing was known.
    same = me.get("/audit/compliance", params={"lang": "en", "known_at": datetime.now(timezone.utc).isoformat()})
    assert "The figures are the same as what was known then." in same.text and "<mark>" not in same.text
    before = me.get("/audit/compliance", params={"lang": "en", "known_at": "2000-01-01T00:00"})
    assert "nothing recorded yet" in before.text and "not known then" in before.text
    bad = me.get("/audit/compliance", params={"lang": "en", "known_at": "gisteren"})
    assert bad.status_code == 422 and "Please give a moment as YYYY-MM-DDTHH:MM (UTC)." in bad.text


# -- who may open them ----------------------------------------------------------------------

@pytest.mark.parametrize("role", ["employer", "authority", "employee"])
def test_no_one_but_auditors_and_the_agency_opens_the_audit_pages(
        role: str, agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    extra = {"employer": {"employer_id": ids["employer"]}, "employee": {"candidate_id": ids["candidate"]},
             "authority": {"organisation": "Gemeente Utrecht"}}[role]
    me = pages(agency.user(role, **extra))
    job = f"/audit/export/jobs/{ids['placement']}"
    for path in (*AUDIT_PAGES, "/audit/compliance?known_at=2026-01-01T00:00", job, job + "/download"):
        r = me.get(path)
        assert r.status_code in (403, 404), (role, path, r.status_code)
    assert me.post("/audit/export").status_code == 403
    for role_that_may in ("auditor", "agency"):
        reader = pages(agency.user(role_that_may))
        for path in AUDIT_PAGES:
            assert reader.get(path, follow_redirects=True).status_code == 200, (role_that_may, path)


# -- the access log -------------------------------------------------------------------------

def test_the_auditor_reads_who_was_shown_special_category_data(agency: Agency,
                                                                pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    viewer = agency.user("agency")
    assert pages(viewer).get(f"/candidates/{ids['candidate']}").status_code == 200  # shows support needs
    me = pages(agency.user("auditor"))
    r = me.get("/audit/access-log?lang=en")
    assert r.status_code == 200
    assert str(viewer.id) in r.text and str(ids["candidate"]) in r.text and "support_needs" in r.text
    assert "Schriftelijke instructies" not in r.text
    other = me.get("/audit/access-log", params={"subject": str(ids["employer"])})
    assert str(viewer.id) not in other.text
    assert me.get("/audit/access-log", params={"subject": "x"}).status_code == 422


def test_a_requested_export_polls_until_done_then_offers_the_file(
        agency: Agency, pages: Callable[..., Browser], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        exports_removed: None) -> None:
    """The job as the page sees it, step by step (the worker's part run here)."""
    agency.seed()
    platform = agency.system.stores.database("default")
    auditor = agency.user("auditor")
    job_id = export_jobs.request_export(platform, StubBroker(), QUEUE, agency.tenant, auditor.id)
    me = pages(auditor)
    fragment_path = f"/audit/export/jobs/{job_id}"
    queued = me.get(fragment_path + "?lang=en", headers={"HX-Request": "true"})
    assert queued.status_code == 200 and "<html" not in queued.text
    assert 'hx-trigger="every 1s"' in queued.text and "waiting" in queued.text
    assert 'hx-trigger="every 1s"' in me.get("/audit/export").text
    assert me.get(fragment_path).status_code == 303  # without htmx: the export page
    assert me.get(fragment_path + "/download").status_code == 404  # not written yet

    updates: list[tuple[int, ...]] = []
    original = export_jobs._update
    monkeypatch.setattr(export_jobs, "PROGRESS_EVERY", 3)
    monkeypatch.setattr(export_jobs, "_update", lambda db, job, sets, params: (
        updates.append(params) if sets.startswith("done") else None, original(db, job, sets, params))[1])
    export_jobs.run_export_job(platform, agency.system.stores.database(agency.tenant.database),
                               agency.system.settings, agency.tenant, job_id)
    events = count_events(agency.system.stores.database(agency.tenant.database), agency.tenant)
    assert [u[0] for u in updates] == list(range(3, events + 1, 3))  # every 3 events

    done = me.get(fragment_path + "?lang=en", headers={"HX-Request": "true"})
    assert "hx-trigger" not in done.text and "ready" in done.text  # polling stops
    public_key = re.search(r'<code id="public-key">([^<]+)</code>', done.text).group(1)  # type: ignore[union-attr]
    download = me.get(fragment_path + "/download")
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    (tmp_path / "export.jsonl").write_bytes(download.content)
    report = verify_export(tmp_path / "export.jsonl", load_public_key(public_key))
    assert report.ok and report.events == events, report.message


# -- in the browser: the export through the real worker, and accessibility -----------------------

def test_an_export_is_written_by_the_worker_and_verifies_offline(
        agency: Agency, page: Any, server: Server, new_agency: Callable[..., Agency],
        pages: Callable[..., Browser], tmp_path: Path, exports_removed: None) -> None:
    """With the Content-Security-Policy enforced: the progress polls with htmx."""
    ids = with_feedback(agency)
    login(page, agency.user("auditor").email)
    page.goto("/audit/export?lang=en")
    expect(page.locator("#chain-status")).to_contain_text("Intact")
    page.get_by_role("button", name="Request export").click()
    expect(page.locator("li[id^=job-]")).to_have_count(1)
    page.evaluate("window.notReloaded = true")
    download_link = page.get_by_role("link", name=re.compile(r"^Download the export"))
    expect(download_link).to_be_visible(timeout=30_000)
    assert page.evaluate("window.notReloaded") is True  # the fragment polled; the page stayed

    public_key = page.locator("#public-key").inner_text().strip()
    assert f"--public-key {public_key}" in page.locator(".verify-command").inner_text()
    with page.expect_download() as download:
        download_link.click()
    exported = tmp_path / "export.jsonl"
    download.value.save_as(exported)
    report = verify_export(exported, load_public_key(public_key))
    assert report.ok, report.message
    database = agency.system.stores.database(agency.tenant.database)
    assert report.events == count_events(database, agency.tenant)
    assert "Rugklachten" not in exported.read_text()  # sealed under the person's key
    assert page.console_errors == []

    platform = agency.system.stores.database("default")
    job = export_jobs.recent_jobs(platform, agency.tenant)[0]
    assert job.status == "done" and job.done == job.total == report.events and job.finished_at is not None
    # Only this tenant's auditors and agency get the file.
    download_path = f"/audit/export/jobs/{job.id}/download"
    assert pages(agency.user("auditor")).get(download_path).status_code == 200
    assert pages(agency.user("employer", employer_id=ids["employer"])).get(download_path).status_code == 403
    stranger = new_agency("Andere Detachering B.V.")
    assert pages(stranger.user("auditor")).get(download_path).status_code == 404
    assert pages(stranger.user("auditor")).get(f"/audit/export/jobs/{job.id}").status_code == 404


def test_the_audit_pages_meet_wcag_a_and_aa(agency: Agency, audited_page: Any,  # noqa: F811
                                           audit: Callable[[str], None]) -> None:  # noqa: F811
    ids = with_feedback(agency)
    agency.project()
    page = audited_page
    login(page, agency.user("auditor").email)
    page.goto("/audit/events")
    expect(page.get_by_role("heading", name="Gebeurtenissen", level=1)).to_be_visible()
    audit("the event history")
    page.goto(f"/audit/events?record={ids['placement']}&from=not-a-date")
    audit("the event history with an error in its filter")
    page.goto(f"/audit/compliance?known_at={date.today().isoformat()}T00:00")
    audit("the figures as known then and now")
    page.goto("/audit/export")
    audit("the chain and exports")
    page.goto("/audit/access-log")
    audit("the access log")
