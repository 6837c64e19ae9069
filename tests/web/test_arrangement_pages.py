"""A placement's arrangement on its pages (no JavaScript): chosen on the start
form (employment by default), shown on the placement's page."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from tests.web.conftest import Agency, Browser


def test_the_start_form_offers_the_arrangements_and_the_page_shows_the_one_chosen(
        agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    agency.project()
    me = pages(agency.user("agency"))
    form = me.get("/placements/new?lang=en")
    assert form.status_code == 200
    # Employment (a regular job) is chosen unless another arrangement is.
    assert '<option value="employment" selected>Regular job</option>' in form.text
    for value, words in (("work_experience", "Work-experience place"), ("internship", "Internship"),
                         ("trial", "Trial placement"), ("bbl_new", "BBL place, new"),
                         ("bbl_existing", "BBL place, existing")):
        assert f'<option value="{value}">{words}</option>' in form.text

    r = me.post("/placements", {"employer_id": str(ids["employer"]), "candidate_id": str(ids["candidate"]),
                                "contract_id": str(ids["contract"]),
                                "starts_on": (date.today() - timedelta(days=10)).isoformat(),
                                "hours_per_week": "24", "arrangement": "bbl_existing"})
    assert r.status_code == 303, r.text[:500]
    placed = me.get(r.headers["location"])
    assert "<dt>Arrangement</dt><dd>BBL place, existing</dd>" in placed.text
    dutch = me.get(r.headers["location"].split("?")[0] + "?lang=nl")
    assert "<dt>Soort plaatsing</dt><dd>BBL-plaats, bestaand</dd>" in dutch.text
    seeded = me.get(f"/placements/{ids['placement']}?lang=en")  # started without one: employment
    assert "<dt>Arrangement</dt><dd>Regular job</dd>" in seeded.text
