"""An organisation's user on the pages: signs in once, sees what each agency
shares with its organisation, and no agency page."""
from __future__ import annotations

import uuid
from collections.abc import Callable

from domain.contract import SocialReturnContract
from infra.bootstrap import System
from service import commands as c
from tests.web.world import PASSWORD, Agency, Browser


def test_an_authority_signs_in_and_sees_the_contracts_each_agency_shares(
        system: System, new_agency: Callable[..., Agency], pages: Callable[..., Browser]) -> None:
    first, second, other = new_agency(), new_agency(), new_agency()
    number = uuid.uuid4().int
    harlingen = system.registry.create_organisation("authority", "Gemeente Harlingen",
                                                    oin=f"{number % 10**20:020d}")
    shared = []
    for agency in (first, second):
        ids = agency.seed()
        agency.run(c.AmendContract(contract_id=ids["contract"], authority_org_id=harlingen.id))
        shared.append(ids["contract"])
    hidden = other.seed()["contract"]  # "Gemeente Utrecht" in free text, linked to nobody
    for agency in (first, second, other):
        agency.project()
    officer = system.registry.create_org_user(harlingen.id, f"{uuid.uuid4().hex}@example.org", "authority",
                                              password=PASSWORD)
    me = pages()
    assert me.login(officer.email).status_code == 303
    home = me.get("/?lang=en")
    assert home.status_code == 200, home.text
    assert "Gemeente Harlingen" in home.text
    assert len(shared) == 2 and all(str(contract) in home.text for contract in shared)
    assert str(hidden) not in home.text
    # No agency page: they would need a tenant.
    for path in ("/contracts", f"/contracts/{hidden}", "/employers", "/retention", "/audit/events"):
        assert me.get(path).status_code in (403, 404), path
    assert me.get("/tokens").status_code == 200


def test_an_employer_organisation_with_nothing_shared_sees_an_empty_list(
        system: System, new_agency: Callable[..., Agency], pages: Callable[..., Browser]) -> None:
    org = system.registry.create_organisation("employer", "Nieuw B.V.", kvk=f"{uuid.uuid4().int % 10**8:08d}")
    user = system.registry.create_org_user(org.id, f"{uuid.uuid4().hex}@example.org", "employer",
                                           password=PASSWORD)
    me = pages(user)
    home = me.get("/?lang=nl")
    assert home.status_code == 200
    assert "Nog geen detacheringsbureau deelt iets met uw organisatie." in home.text


def test_the_agency_shares_through_its_forms_and_a_wrong_id_is_shown_at_the_field(
        system: System, agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    number = uuid.uuid4().int
    harlingen = system.registry.create_organisation("authority", "Gemeente Harlingen", oin=f"{number % 10**20:020d}")
    devries = system.registry.create_organisation("employer", "De Vries B.V.", kvk=f"{number % 10**8:08d}")
    me = pages(agency.user("agency"))
    employer, contract = ids["employer"], ids["contract"]

    # A link to an organisation of the other kind: the form again, the error at the field, nothing stored.
    before = agency.system.stores.for_tenant(agency.tenant).recorder.max_notification_id()
    wrong = me.post(f"/employers/{employer}/organisation?lang=en", {"org_id": str(harlingen.id)})
    assert wrong.status_code == 422
    assert 'id="link-org_id-error"' in wrong.text and "not an employer" in wrong.text
    not_an_id = me.post(f"/employers/{employer}/organisation?lang=en", {"org_id": "12345678"})
    assert not_an_id.status_code == 422 and 'id="link-org_id-error"' in not_an_id.text
    assert agency.system.stores.for_tenant(agency.tenant).recorder.max_notification_id() == before

    assert me.post(f"/employers/{employer}/organisation", {"org_id": str(devries.id)}).status_code == 303
    page = me.get(f"/employers/{employer}?lang=en")
    assert "Shared with De Vries B.V." in page.text

    terms = {"title": "Groen", "contracting_authority": "Gem. Harlingen", "contract_value_eur": "1000000",
             "obligation_percent": "5", "starts_on": "2025-01-01", "ends_on": "2027-12-31",
             "authority_org_id": str(harlingen.id)}
    assert me.post(f"/contracts/{contract}/amend", terms).status_code == 303
    linked = agency.system.ledger.get(agency.tenant, agency.actor, SocialReturnContract, contract)
    assert (linked.authority_org_id, linked.authority_name) == (harlingen.id, "Gemeente Harlingen")

    registered = me.post("/employers", {"name": "Visserij", "org_id": str(devries.id)})
    assert registered.status_code == 303
    refused = me.post("/employers?lang=en", {"name": "Visserij", "org_id": str(uuid.uuid4())})
    assert refused.status_code == 422 and "no organisation with id" in refused.text
