"""Every page still opens after the person it mentions is erased, for every
role, and shows nothing of them; the person's own page session ends with
the erasure."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from service import commands as c
from tests.web.conftest import Browser
from tests.web.world import ROLES, World, build_world, events_stored, new_tenant, page_routes

# What the world records about the person who is erased (tests/web/world.py).
THEIRS = ("Sanne Jansen", "Schriftelijke instructies", "Sleutel van de werkplaats", "Brailleleesregel",
          "Vermoeid na lange dagen", "Planning geoefend")


@pytest.fixture(scope="module")
def world(system: Any) -> World:
    """The sweep's world, whose placed person (with support, sickness, feedback) is erased."""
    return build_world(new_tenant(system))


def test_the_persons_own_session_ends_and_every_page_still_opens(world: World, signed_in: Callable[[str], Browser],
                                                                  pages: Callable[..., Browser]) -> None:
    person = pages(world.user("employee"))
    assert person.get(f"/candidates/{world.ids['candidate']}").status_code == 200
    world.agency.run(c.EraseCandidate(candidate_id=world.ids["candidate"]))
    world.agency.project()

    r = person.get(f"/candidates/{world.ids['candidate']}")
    assert r.status_code in (302, 303) and "/login" in r.headers["location"]

    urls = [world.fill(route) for route in page_routes("GET")]
    failed = []
    for role in ROLES:
        if role == "employee":
            continue  # the person's accounts are closed; another employee sees only 404s
        browser = signed_in(role)
        for url in urls:
            response = browser.get(url)
            if response.status_code >= 500 or any(text in response.text for text in THEIRS):
                failed.append((role, url, response.status_code))
    assert failed == []
    assert len(urls) > 30  # the sweep covered the page table

    # A form that would record something about them is refused, in the page's language.
    before = events_stored(world.agency)
    r = signed_in("agency").post(f"/placements/{world.ids['placement']}/feedback",
                                 {"score": "4", "from_role": "coach", "comment": "Gaat goed"})
    assert r.status_code == 409 and "De gegevens van deze persoon zijn gewist" in r.text  # the page again, with why
    assert events_stored(world.agency) == before
