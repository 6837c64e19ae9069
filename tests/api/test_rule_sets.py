"""Rule sets as versioned data (/api/v1/rule-sets): public to read, published
by an authority organisation's users, pinned by contracts at registration."""
from __future__ import annotations

import copy
import json
import uuid
from importlib import resources
from typing import Any

from eventsourcing.persistence import StoredEvent

from domain.contract import SocialReturnContract
from domain.valuation import rule_set_sha256
from infra.rule_sets import SCHEMA_PATH
from service.actor import Actor
from tests.api.conftest import Org, bearer, candidate_body, contract_body, placement_body
from tests.projections.conftest import catch_up

API = "/api/v1"


def shipped_body(file: str = "utrecht-2024.json") -> dict[str, Any]:
    return json.loads(resources.files("domain.rulesets").joinpath(file).read_text("utf-8"))


def authority_user(org: Org, name: str = "Gemeente Zwolle") -> tuple[Any, str]:
    """An authority organisation of the platform and a token of one of its users."""
    registry = org.system.registry
    authority = registry.create_organisation("authority", name, oin=f"{uuid.uuid4().int % 10**20:020d}")
    user = registry.create_org_user(authority.id, f"{uuid.uuid4().hex}@zwolle.example", "authority")
    return authority, registry.issue_token(user)


def publish(org: Org, token: str, body: Any) -> Any:
    return org.client.post(f"{API}/rule-sets", json=body, headers=bearer(token))


def fresh_name() -> str:
    return f"zwolle-{uuid.uuid4().hex[:8]}"


def test_the_shipped_rule_sets_are_platform_rule_sets_readable_by_every_signed_in_user(org: Org) -> None:
    person = org.create("/candidates", candidate_body())
    employee = org.token_for("employee", candidate_id=uuid.UUID(person))
    r = org.get("/rule-sets", employee)
    assert r.status_code == 200, r.text
    listed = {(x["name"], x["version"]): x for x in r.json()["rule_sets"]}
    for name in ("utrecht-2024", "harlingen-2024"):
        for version, file in ((1, f"{name}.json"), (2, f"{name}.v2.json")):
            assert listed[(name, version)]["owner"] == {"org_id": None, "name": "platform"}
            assert listed[(name, version)]["sha256"] == rule_set_sha256(shipped_body(file))
    one = org.get("/rule-sets/harlingen-2024/1", employee).json()
    assert one["body"] == shipped_body("harlingen-2024.json")
    assert org.get("/rule-sets/harlingen-2024/99", employee).status_code == 404
    r = org.get("/rule-sets/harlingen-2024/one", employee)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "version"


def test_the_schema_is_published_and_every_seed_validates(org: Org) -> None:
    from jsonschema import Draft202012Validator

    r = org.get("/rule-sets/schema")
    assert r.status_code == 200
    assert r.json() == json.loads(SCHEMA_PATH.read_text("utf-8"))
    assert r.json()["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    validator = Draft202012Validator(r.json())
    for entry in resources.files("domain.rulesets").iterdir():
        if entry.name.endswith(".json"):
            assert list(validator.iter_errors(json.loads(entry.read_text("utf-8")))) == [], entry.name


def test_an_authority_publishes_its_rule_set_and_its_versions_and_nobody_else_may(org: Org) -> None:
    authority, token = authority_user(org)
    name = fresh_name()
    body = {**shipped_body(), "name": name, "source": "Gemeente Zwolle, social return table 2025"}
    r = publish(org, token, body)
    assert r.status_code == 201, r.text
    stored = r.json()
    assert (stored["name"], stored["version"], stored["owner"]) == (
        name, 1, {"org_id": str(authority.id), "name": "Gemeente Zwolle"})
    assert stored["sha256"] == rule_set_sha256(body) and stored["body"] == body
    assert r.headers["location"] == f"/api/v1/rule-sets/{name}/1"

    # Immutable: the same version again is refused, naming the next one.
    r = publish(org, token, {**body, "notes": "changed"})
    assert r.status_code == 422 and r.json()["errors"] == [{"field": "version", "message": (
        f"{name} version 1 exists already: rule sets are immutable, publish version 2")}]
    assert publish(org, token, {**body, "version": 2}).status_code == 201

    # Another authority may not add a version of a name it does not own; an agency publishes none.
    _, other = authority_user(org, "Gemeente Kampen")
    r = publish(org, other, {**body, "version": 3})
    assert r.status_code == 403 and "belongs to Gemeente Zwolle" in r.text
    assert publish(org, org.agency_token, {**body, "name": fresh_name()}).status_code == 403
    assert publish(org, org.token_for("authority", organisation="Gemeente Zwolle"), {**body, "name": fresh_name()}).status_code == 403
    # Nor the platform's own.
    assert publish(org, token, {**shipped_body(), "version": 3}).status_code == 403
    assert [x["version"] for x in org.get("/rule-sets").json()["rule_sets"] if x["name"] == name] == [1, 2]


def test_a_bad_body_is_refused_naming_each_field_path(org: Org) -> None:
    _, token = authority_user(org)
    body = {**shipped_body("harlingen-2024.json"), "name": fresh_name()}
    wrong = copy.deepcopy(body)
    wrong["blocks"]["ww"]["tiers"][0]["value_eur"] = 15000  # a number, not a decimal string
    del wrong["notes"]
    r = publish(org, token, wrong)
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == "the rule set is not valid"
    assert [e["field"] for e in r.json()["errors"]] == ["blocks.ww.tiers[0].value_eur", "notes"]
    # What the schema cannot say, parse_rule_set does: tiers in ascending order.
    unordered = copy.deepcopy(body)
    unordered["blocks"]["ww"]["tiers"].reverse()
    r = publish(org, token, unordered)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "blocks.ww.tiers"
    r = publish(org, token, [body])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body"


def _placed_full_time(org: Org, contract: str, employer: str) -> None:
    person = org.create("/candidates", candidate_body(full_name="Kees Bakker", target_group="participatiewet"))
    org.create("/placements", placement_body(person, employer, contract, starts_on="2025-01-01",
                                             hours_per_week="36", planned_end_on=None))


def test_a_new_version_never_changes_a_pinned_contracts_figures(org: Org) -> None:
    _, token = authority_user(org)
    name = fresh_name()
    v1 = {**shipped_body(), "name": name}
    assert publish(org, token, v1).status_code == 201
    employer = org.create("/employers", {"name": "Bouwbedrijf De Vries"})
    # No version named: the highest there is now, 1.
    on_v1 = org.create("/contracts", {**contract_body(employer, rule_set=name), "rule_set_version": None})
    _placed_full_time(org, on_v1, employer)

    v2 = copy.deepcopy(v1)
    v2["version"] = 2
    v2["blocks"]["participatiewet"] = {"value_eur": "60000"}
    assert publish(org, token, v2).status_code == 201
    on_v2 = org.create("/contracts", {**contract_body(employer, rule_set=name), "rule_set_version": None})
    _placed_full_time(org, on_v2, employer)
    catch_up(org.system, org.tenant)

    k1, k2 = org.get(f"/contracts/{on_v1}").json(), org.get(f"/contracts/{on_v2}").json()
    assert (k1["rule_set_version"], k1["rule_set_sha256"]) == (1, rule_set_sha256(v1))
    assert (k2["rule_set_version"], k2["rule_set_sha256"]) == (2, rule_set_sha256(v2))
    # Participatiewet, 36 h from 2025-01-01, the year 2025 (365 days):
    # version 1: 40,000 x 36/36 x 365/365 = 40,000; version 2: 60,000 x 36/36 x 365/365 = 60,000.
    f1 = org.get(f"/contracts/{on_v1}/compliance?as_of=2025-12-31").json()
    f2 = org.get(f"/contracts/{on_v2}/compliance?as_of=2025-12-31").json()
    assert (f1["reported_eur"], f2["reported_eur"]) == ("40000.00", "60000.00")
    # A version named explicitly is pinned as asked, an unknown one names its field.
    r = org.post("/contracts", {**contract_body(employer, rule_set=name), "rule_set_version": 3})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "rule_set_version", r.text
    r = org.post("/contracts", {**contract_body(employer, rule_set="nowhere-2024"), "rule_set_version": None})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "rule_set", r.text
    pinned = org.create("/contracts", {**contract_body(employer, rule_set=name), "rule_set_version": 1})
    assert org.get(f"/contracts/{pinned}").json()["rule_set_version"] == 1


def test_a_contract_registered_before_pinning_is_read_as_version_1_of_its_rule_set(org: Org) -> None:
    """An old ContractRegistered names the rule set only (no class version, no
    body): the aggregate and the read model take version 1 as shipped."""
    employer = org.create("/employers", {"name": "Bouwbedrijf De Vries"})
    template = org.create("/contracts", contract_body(employer, rule_set="harlingen-2024"))
    app = org.system.stores.for_tenant(org.tenant)
    registered = next(s for s in app.tenant_recorder.select_events(uuid.UUID(template))
                      if s.topic.endswith("ContractRegistered"))
    mapper = app.metadata_mapper
    state = mapper.decode_state(registered.state, "ContractRegistered")
    for key in ("class_version", "rule_set_version", "rule_set_sha256", "rule_set_body"):
        state.pop(key)
    old = uuid.uuid4()
    app.tenant_recorder.insert_events([StoredEvent(originator_id=old, originator_version=1, topic=registered.topic,
                                                   state=mapper.transcoder.encode(state))])
    agency = Actor(user_id=uuid.uuid4(), role="agency", organisation="test-agency")
    loaded = org.system.ledger.get(org.tenant, agency, SocialReturnContract, old)
    harlingen = shipped_body("harlingen-2024.json")
    assert (loaded.rule_set_version, loaded.rule_set_sha256) == (1, rule_set_sha256(harlingen))
    assert loaded.rules.minimum_hours_per_week == 12
    _placed_full_time(org, str(old), employer)
    catch_up(org.system, org.tenant)
    # Harlingen v1, Participatiewet on benefit since 2015-01-01 (at least 24 months on the award date
    # 2024-11-15: the 40,000 tier), 36 h for the year 2025: 40,000 x 36/36 x 365/365 = 40,000.
    assert org.get(f"/contracts/{old}/compliance?as_of=2025-12-31").json()["reported_eur"] == "40000.00"
