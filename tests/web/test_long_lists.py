"""Long lists stay short on the page: a placement shows its newest events and
feedback with a way to see all of them (an htmx fragment, or the whole page
without JavaScript), and the candidate search answers a page of 50 with the
number of matches and links to the next page."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from service import commands as c
from tests.web.conftest import Agency, Browser
from tests.web.world import login_as
from web.pages.candidates import PAGE_SIZE
from web.pages.placements import HISTORY_SHOWN

HX = {"HX-Request": "true"}


def feedback_items(html: str) -> int:
    section = re.search(r'<section id="feedback".*?</section>', html, re.S)
    assert section is not None
    return section.group(0).count('<p class="quote">')


def timeline_items(html: str) -> int:
    section = re.search(r'<section id="timeline".*?</section>', html, re.S)
    assert section is not None
    return section.group(0).count("<li>")


def test_a_placement_shows_its_newest_events_and_feedback_and_earlier_ones_a_page_at_a_time(
        agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    given = 2 * HISTORY_SHOWN + 5
    for i in range(given):
        agency.run(c.GiveFeedback(placement_id=ids["placement"], score=1 + i % 5, from_role="coach",
                                  comment=f"Gesprek {i}."))
    agency.project()
    me = login_as(agency, pages, "agency", ids)
    events = 1 + given  # started, then the feedback: versions 1..events
    path = f"/placements/{ids['placement']}"

    page = me.get(f"{path}?lang=en")
    assert page.status_code == 200
    assert feedback_items(page.text) == HISTORY_SHOWN and timeline_items(page.text) == HISTORY_SHOWN
    assert f"Events {events - HISTORY_SHOWN + 1}–{events} of {events}." in page.text
    assert f"Gesprek {given - 1}." in page.text and f"Gesprek {given - HISTORY_SHOWN - 1}." not in page.text
    assert f'<ol class="timeline" start="{events - HISTORY_SHOWN + 1}">' in page.text
    assert f'<ol class="feedback-list" reversed start="{given}">' in page.text
    assert f"{given} feedback entries in all." in page.text
    assert f'href="{path}/timeline?page=2#timeline"' in page.text and 'Later events' not in page.text
    assert f'href="{path}/feedback?page=2#feedback"' in page.text

    # htmx: the block alone, the next page of the history, with links both ways.
    second = me.get(f"{path}/timeline?page=2&lang=en", headers=HX)
    assert second.status_code == 200 and second.text.lstrip().startswith('<section id="timeline"')
    assert timeline_items(second.text) == HISTORY_SHOWN
    assert f"Events {events - 2 * HISTORY_SHOWN + 1}–{events - HISTORY_SHOWN} of {events}." in second.text
    assert f'hx-get="{path}/timeline?page=3"' in second.text and f'hx-get="{path}/timeline?page=1"' in second.text
    last = me.get(f"{path}/timeline?page=3&lang=en", headers=HX)
    assert timeline_items(last.text) == events - 2 * HISTORY_SHOWN  # the rest, from the start
    assert '<ol class="timeline" start="1">' in last.text and "hours a week." in last.text  # PlacementStarted
    assert 'Earlier events' not in last.text and f'hx-get="{path}/timeline?page=2"' in last.text
    feedback = me.get(f"{path}/feedback?page=3&lang=en", headers=HX)
    assert feedback.text.lstrip().startswith('<section id="feedback"')
    assert feedback_items(feedback.text) == given - 2 * HISTORY_SHOWN and "Gesprek 0." in feedback.text
    assert "Earlier feedback" not in feedback.text and "Later feedback" in feedback.text

    # Without JavaScript the link opens the placement's page at that part of its history.
    whole = me.get(f"{path}/timeline?page=2&lang=en")
    assert "<html" in whole.text and timeline_items(whole.text) == HISTORY_SHOWN
    assert f"Gesprek {given - HISTORY_SHOWN - 1}." in whole.text


def test_the_whole_history_is_404_for_whoever_may_not_see_the_placement(
        agency: Agency, pages: Callable[..., Browser]) -> None:
    ours = agency.seed(employer_name="Bouwbedrijf De Vries B.V.", candidate_name="Sanne Jansen")
    theirs = agency.seed(employer_name="Schoonmaakbedrijf Hollandia", candidate_name="Youssef El Amrani")
    agency.project()
    me = login_as(agency, pages, "employer", ours)
    for path in ("timeline", "feedback"):
        assert me.get(f"/placements/{ours['placement']}/{path}", headers=HX).status_code == 200
        assert me.get(f"/placements/{theirs['placement']}/{path}", headers=HX).status_code == 404
        assert me.get(f"/placements/{theirs['placement']}/{path}").status_code == 404
    # The POSTs have no check of their own before the command: still 404, valid form or not.
    assert me.post(f"/placements/{theirs['placement']}/feedback", {"score": "4", "comment": ""}).status_code == 404
    assert me.post(f"/placements/{theirs['placement']}/feedback", {"score": "9"}).status_code == 404
    assert me.post(f"/placements/{ours['placement']}/feedback", {"score": "9"}).status_code == 422


def test_a_broad_search_answers_one_page_with_the_number_found_and_a_next_page(
        agency: Agency, pages: Callable[..., Browser]) -> None:
    for i in range(PAGE_SIZE + 3):
        agency.run(c.RegisterCandidate(full_name=f"Kandidaat {i:03d}", date_of_birth=date(1990, 1, 1),
                                       target_group="no_benefit", competences=["Schoonmaak"], support_needs=""))
    agency.project()
    me = pages(agency.user("agency"))

    first = me.get("/candidates?q=kandidaat&lang=en", headers=HX)
    assert first.status_code == 200 and "<html" not in first.text
    assert first.text.count('<a href="/candidates/') == PAGE_SIZE
    assert f"Showing 1–{PAGE_SIZE} of {PAGE_SIZE + 3} candidates" in first.text
    assert "Type more of a name or competence to narrow the list." in first.text
    assert 'href="/candidates?q=kandidaat&amp;page=2"' in first.text and 'rel="prev"' not in first.text

    second = me.get("/candidates?q=kandidaat&page=2&lang=en")
    assert "<html" in second.text and second.text.count('<a href="/candidates/') == 3
    assert f"Showing {PAGE_SIZE + 1}–{PAGE_SIZE + 3} of {PAGE_SIZE + 3} candidates" in second.text
    assert 'rel="next"' not in second.text and 'href="/candidates?q=kandidaat&amp;page=1"' in second.text

    narrow = me.get("/candidates?q=kandidaat 007&lang=en", headers=HX)
    assert narrow.text.count('<a href="/candidates/') == 1 and "1 candidate" in narrow.text
    assert 'rel="next"' not in narrow.text
    assert me.get("/candidates?q=kandidaat&page=x").status_code == 200  # a bad page number is page 1


def test_the_dashboard_lists_the_first_ten_warnings_of_a_kind_and_the_retention_page_more(
        agency: Agency, pages: Callable[..., Browser]) -> None:
    from web.pages.dashboard import DASHBOARD_WARNINGS

    for i in range(DASHBOARD_WARNINGS + 2):  # each placement started 60 days ago, no feedback yet
        agency.seed(candidate_name=f"Stille Kandidaat {i:02d}")
    agency.project()
    me = pages(agency.user("agency"))

    def listed(html: str) -> int:
        section = re.search(r'<section id="warnings".*?</section>', html, re.S)
        assert section is not None
        return section.group(0).count('<a href="/placements/')

    dashboard = me.get("/?lang=en").text
    assert listed(dashboard) == DASHBOARD_WARNINGS
    assert (f"{DASHBOARD_WARNINGS + 2} active placements without feedback for over six weeks; 0 with a falling "
            "score.") in dashboard
    assert f"The first {DASHBOARD_WARNINGS} of each are listed." in dashboard
    assert '<a href="/retention#warnings">See more early warnings</a>' in dashboard
    # Each listed warning is named, as on the placement page (which ten of the
    # twelve equally silent placements are listed depends on their ids).
    section = re.search(r'<section id="warnings".*?</section>', dashboard, re.S)
    assert section is not None
    assert len(re.findall(r'<a href="/placements/[^"]+">Stille Kandidaat \d\d · ', section.group(0))) == \
        DASHBOARD_WARNINGS
    retention = me.get("/retention?lang=en").text
    assert listed(retention) == DASHBOARD_WARNINGS + 2 and "See more early warnings" not in retention
