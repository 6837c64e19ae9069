"""Erasure is final: once a person is erased, nothing more
is recorded about them, their accounts are closed, and everything that
mentions them still reads, pages and rebuilt read models included.

Before the fix a write after erasure made a fresh data key for the erased
person: their new text was readable again, and the older events, sealed
under the destroyed key, no longer decrypted (500s, failing rebuilds)."""
from __future__ import annotations

import uuid

from infra.personal_data import PersonErased
from projections.writer import ProjectionRunner
from projections.registry import PROJECTIONS
from tests.api.conftest import Org, bearer

import pytest

API = "/api/v1"
REFUSED = "the person was erased"


def _erased_employee(org: Org) -> tuple[dict[str, str], str, str]:
    """A seeded placement, the person's own employee login, and the person erased by the agency."""
    ids = org.seed()
    email = f"{uuid.uuid4().hex}@example.org"
    user = org.system.registry.create_user(org.tenant, email, "employee", candidate_id=uuid.UUID(ids["candidate"]),
                                           password="a long enough password")
    token = org.system.registry.issue_token(user)
    # Before erasure the person may state their needs and give feedback.
    assert org.post(f"/candidates/{ids['candidate']}/support-needs", {"support_needs": "Vaste werkplek"},
                    token).status_code == 200
    r = org.post(f"/candidates/{ids['candidate']}/erase", {})
    assert r.status_code == 200, r.text
    return ids, token, email


def _refused(response) -> None:
    assert response.status_code == 409, response.text
    assert REFUSED in response.json()["detail"]


def test_nothing_more_is_recorded_about_an_erased_person(org: Org) -> None:
    ids, token, _ = _erased_employee(org)
    candidate, placement = ids["candidate"], ids["placement"]
    secret = f"Slechthorend, wil een ringleiding {uuid.uuid4().hex[:8]}"
    before = org.event_count()

    # The agency cannot record anything about them either.
    for path, body in [
        (f"/candidates/{candidate}/support-needs", {"support_needs": secret}),
        (f"/candidates/{candidate}/availability", {"hours_per_week": "24", "available_from": "2025-03-01",
                                                   "region": "Utrecht"}),
        (f"/placements/{placement}/feedback", {"score": 2, "from_role": "coach", "comment": secret}),
        (f"/placements/{placement}/support/items", {"label": secret, "responsible": "agency"}),
        (f"/placements/{placement}/support/adjustments", {"kind": "tool", "description": secret}),
        (f"/placements/{placement}/support/check-ins", {"held_on": "2025-02-14", "with_whom": "employee",
                                                        "note": secret}),
        (f"/placements/{placement}/support/coaching", {"held_on": "2025-02-14", "hours": "1", "note": secret}),
        (f"/placements/{placement}/sickness", {"first_sick_day": "2025-03-03"}),
    ]:
        _refused(org.post(path, body))
    assert org.event_count() == before  # nothing stored
    candidate_view = org.get(f"/candidates/{candidate}").json()
    assert secret not in str(candidate_view) and candidate_view["full_name"] == "[erased]"

    # What the contract's figures need still goes on: the placement can end.
    assert org.post(f"/placements/{placement}/end", {"ends_on": "2025-06-30", "reason": "other"}).status_code == 200


def test_the_persons_own_accounts_are_closed_at_erasure(org: Org) -> None:
    ids, token, email = _erased_employee(org)
    # Their token no longer works (the API looks it up on every request, see
    # web/api/auth.py), their login neither, and their e-mail is gone from the
    # users table.
    assert org.system.registry.principal_for_token(token) is None
    assert org.system.registry.authenticate(email, "a long enough password") is None
    assert org.system.registry.user_by_email(email) is None
    with org.system.stores.database("default").connection() as conn:
        rows = conn.execute("SELECT email, password_hash FROM platform.users WHERE candidate_id = %s",
                            (uuid.UUID(ids["candidate"]),)).fetchall()
    assert rows and all(r["password_hash"] is None and email not in r["email"] for r in rows)
    # The same client that used it before the erasure is refused.
    r = org.client.post(f"{API}/placements/{ids['placement']}/feedback", json={"score": 5, "from_role": "employee"},
                        headers=bearer(token))
    assert r.status_code == 401, r.text


def test_everything_that_mentions_an_erased_person_still_reads_and_rebuilds(org: Org) -> None:
    ids, token, _ = _erased_employee(org)
    placement = ids["placement"]
    # The writes of the reproduction (refused now; before the fix they made a new key).
    org.post(f"/candidates/{ids['candidate']}/support-needs", {"support_needs": "Weer leesbaar"}, token)
    org.post(f"/placements/{placement}/feedback", {"score": 4, "from_role": "employee", "comment": "Gaat goed"},
             token)
    database = org.system.stores.database(org.tenant.database)
    for projection in PROJECTIONS:
        ProjectionRunner(database, projection).rebuild(org.tenant)
    for path in (f"/placements/{placement}", f"/placements/{placement}/events", f"/placements/{placement}/support",
                 f"/candidates/{ids['candidate']}", f"/placements/{placement}/duties",
                 f"/contracts/{ids['contract']}/compliance", f"/vacancies/{ids['vacancy']}/pipeline"):
        r = org.get(path)
        assert r.status_code == 200, (path, r.text)


def test_the_key_store_never_makes_a_key_for_an_erased_person(org: Org) -> None:
    ids, _, _ = _erased_employee(org)
    keys = org.system.stores.database(org.tenant.database).person_keys
    subject = uuid.UUID(ids["candidate"])
    keys.forget_cache()
    assert keys.key(org.tenant.id, subject, create=False) is None
    with pytest.raises(PersonErased):
        keys.key(org.tenant.id, subject, create=True)
    with org.system.stores.database(org.tenant.database).connection() as conn:
        assert conn.execute("SELECT count(*) AS n FROM events.person_keys WHERE tenant_id = %s AND subject_id = %s",
                            (org.tenant.id, subject)).fetchone()["n"] == 0


def test_a_key_an_older_version_made_after_erasure_is_never_used_and_is_destroyed(org: Org) -> None:
    ids, _, _ = _erased_employee(org)
    database = org.system.stores.database(org.tenant.database)
    keys, subject = database.person_keys, uuid.UUID(ids["candidate"])
    with database.connection() as conn:  # what a write after erasure did before erasure was final
        conn.execute("INSERT INTO events.person_keys (tenant_id, subject_id, wrapped_key) VALUES (%s, %s, %s)",
                     (org.tenant.id, subject, b"\x00" * 60))
    keys.forget_cache()
    assert keys.key(org.tenant.id, subject, create=False) is None
    keys.forget_cache()
    keys.prefetch(org.tenant.id, {subject})  # as projections load a batch's keys
    assert keys.key(org.tenant.id, subject, create=False) is None
    keys.migrate()
    with database.connection() as conn:
        assert conn.execute("SELECT count(*) AS n FROM events.person_keys WHERE tenant_id = %s AND subject_id = %s",
                            (org.tenant.id, subject)).fetchone()["n"] == 0
