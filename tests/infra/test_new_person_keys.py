"""An import's new candidates get their data keys in one statement
(infra/personal_data.py `make_new_keys`): the key cached is the key stored,
a person holding a key keeps it, an erased person gets none."""
from __future__ import annotations

import uuid

from infra.bootstrap import System
from infra.eventstore import Tenant
from infra.personal_data import make_new_keys


def test_new_keys_are_the_stored_keys_and_old_ones_stay(system: System, tenant: Tenant) -> None:
    app = system.stores.for_tenant(tenant)
    keys = app.person_keys
    held, erased = uuid.uuid4(), uuid.uuid4()
    new = [uuid.uuid4() for _ in range(50)]
    held_key = keys.key(tenant.id, held, create=True)
    with system.stores.database(tenant.database).connection() as conn:
        conn.execute("INSERT INTO events.erasures (tenant_id, subject_id, erased_by) VALUES (%s, %s, %s)",
                     (tenant.id, erased, uuid.uuid4()))
    keys.forget_cache()

    make_new_keys(keys, tenant.id, [*new, held, erased])
    cached = {s: keys.key(tenant.id, s, create=False) for s in [*new, held, erased]}
    assert all(cached[s] is not None and len(cached[s]) == 32 for s in new)
    assert len({cached[s] for s in new}) == len(new)  # one key each
    assert cached[held] == held_key
    assert cached[erased] is None

    keys.forget_cache()  # read back from the database: the same keys
    assert {s: keys.key(tenant.id, s, create=False) for s in [*new, held, erased]} == cached
