"""The employer's part in the pipeline: on its own vacancies it records the
meet and greet, the trial and its own "no" (by whom = employer, why from the
list); proposing and placing stay the agency's (403); another employer's
match is a 404, as is a candidate nobody proposed to it. It reads its own
vacancies' boards: names and steps, never a candidate's record."""
from __future__ import annotations

from datetime import date

from infra.bootstrap import System
from service import commands as c
from tests.conftest import random_slug
from tests.projections.conftest import API, Books, bearer, catch_up, token_for

SPECIAL = ("support_needs", "target_group", "date_of_birth", "benefit_since", "sickness", "health")


def test_the_employer_records_its_own_steps_and_no_others(system: System, client):
    books = Books(system, system.registry.create_tenant(random_slug("emp-pipe"), "Werkbedrijf Utrecht B.V."))
    ours, theirs = books.employer(), books.employer("Schoonmaakbedrijf Hollandia")
    vacancy, other_vacancy = books.vacancy(ours), books.vacancy(theirs)
    sanne = books.candidate(support_needs="Schriftelijke instructies; epilepsie.")
    daan = books.candidate(full_name="Daan de Vries")
    youssef, never = books.candidate(full_name="Youssef El Amrani"), books.candidate(full_name="Niet Voorgesteld")
    for v, who in ((vacancy, sanne), (vacancy, daan), (other_vacancy, youssef)):
        books.run(c.RecordMatchStep(vacancy_id=v, candidate_id=who, step="proposed"))
    boss = bearer(token_for(system, books.tenant, "employer", employer_id=ours))
    url = f"{API}/vacancies/{vacancy}/pipeline"

    def step(candidate, name, at=url, **body):
        return client.post(at, json={"candidate_id": str(candidate), "step": name, **body}, headers=boss)

    before = books.head()
    # Not the employer's to record: proposing and placing.
    assert step(never, "proposed").status_code == 403
    assert step(sanne, "placed", placement_id=str(sanne)).status_code == 403
    # Another employer's vacancy, or a candidate nobody proposed to it: as if it did not exist.
    assert step(youssef, "introduced", at=f"{API}/vacancies/{other_vacancy}/pipeline").status_code == 404
    assert step(never, "introduced").status_code == 404
    # It declines on its own behalf only, and with a reason from the list.
    r = step(daan, "declined", by="agency", reason="hours")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "by"
    r = step(daan, "declined", reason="ziek")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    assert books.head() == before  # nothing stored

    assert step(sanne, "introduced").status_code == 200
    assert step(sanne, "trial").status_code == 200
    r = step(sanne, "introduced")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "step"  # forward only, for the employer too
    assert step(daan, "declined", reason="team_fit").status_code == 200

    catch_up(system, books.tenant)
    r = client.get(url, headers=boss)
    assert r.status_code == 200, r.text
    items = {i["full_name"]: i for i in r.json()["pipeline"]}
    assert set(items) == {"Sanne Jansen", "Daan de Vries"}  # only those proposed for its vacancy
    assert [s["step"] for s in items["Sanne Jansen"]["steps"]] == ["proposed", "introduced", "trial"]
    assert items["Daan de Vries"]["steps"][-1] == {"step": "declined", "on": date.today().isoformat(),
                                                   "by": "employer", "reason": "team_fit"}
    assert not any(word in r.text for word in SPECIAL) and "epilepsie" not in r.text
    assert client.get(f"{API}/vacancies/{other_vacancy}/pipeline", headers=boss).status_code == 404
    # Who recorded it is in the history: the employer.
    app = system.stores.for_tenant(books.tenant)
    roles = [app.metadata_mapper.decode_state(n.state, n.topic.rsplit(".", 1)[-1])["_meta"]["role"]
             for n in app.recorder.select_notifications(start=before + 1, limit=10)]
    assert roles == ["employer", "employer", "employer"]
    # The agency still places.
    agency = bearer(token_for(system, books.tenant, "agency"))
    placement = books.placement(sanne, ours, None, vacancy=vacancy)
    r = client.post(url, json={"candidate_id": str(sanne), "step": "placed", "placement_id": str(placement)},
                    headers=agency)
    assert r.status_code == 200, r.text
