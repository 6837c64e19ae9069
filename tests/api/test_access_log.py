"""Every view of special-category data is logged (who, when, whose) and
shown to auditors; views without it are not."""
from __future__ import annotations

import pytest

from tests.api.conftest import Org


@pytest.fixture
def utrecht(org: Org) -> Org:
    org.seed()
    return org


def test_reading_support_needs_is_logged_and_auditors_see_who_read_whose(utrecht: Org) -> None:
    ids = utrecht.ids
    auditor = utrecht.token_for("auditor")
    before = utrecht.get(f"/access-log?subject={ids['candidate']}", auditor).json()["entries"]

    assert "support_needs" in utrecht.get(f"/candidates/{ids['candidate']}").json()
    assert "support_needs" not in utrecht.get(f"/candidates/{ids['candidate']}", auditor).json()

    entries = utrecht.get(f"/access-log?subject={ids['candidate']}", auditor).json()["entries"]
    assert len(entries) == len(before) + 1  # the agency's view, not the auditor's (no needs shown)
    latest = entries[0]
    assert latest["role"] == "agency" and latest["subject_id"] == ids["candidate"]
    assert latest["fields"] == ["support_needs"] and latest["via"] == "GET /api/v1/candidates/{id}"


def test_reading_feedback_comments_is_logged_against_the_person(utrecht: Org) -> None:
    ids = utrecht.ids
    r = utrecht.post(f"/placements/{ids['placement']}/feedback",
                     {"score": 3, "from_role": "agency", "comment": "Rugklachten, aangepaste stoel besteld"})
    assert r.status_code == 201
    utrecht.get(f"/placements/{ids['placement']}/events")
    auditor = utrecht.token_for("auditor")
    latest = utrecht.get(f"/access-log?subject={ids['candidate']}", auditor).json()["entries"][0]
    assert latest["fields"] == ["feedback comments"]
    assert latest["via"] == "GET /api/v1/placements/{id}/events"


def test_employers_cannot_read_the_access_log(utrecht: Org) -> None:
    employer = utrecht.token_for("employer", employer_id=utrecht.ids["employer"])
    assert utrecht.get("/access-log", employer).status_code == 403
