"""The personal-data codec keeps each data key's cipher (infra/personal_data.py
PersonalDataCodec._cipher): a bounded cache that never changes what is
sealed or opened, and that an erased person's data does not get past."""
from __future__ import annotations

import uuid
from datetime import date

from infra import personal_data
from service import commands as c


def test_sealed_data_reads_back_across_a_full_cipher_cache_and_erasure_still_holds(
        system, tenant, agency, monkeypatch):
    monkeypatch.setattr(personal_data, "CIPHERS_KEPT", 2)
    ledger = system.ledger
    names = {}
    for i in range(5):
        name = f"Persoon {i} {uuid.uuid4().hex[:6]}"
        ident = uuid.UUID(ledger.execute(tenant, agency, c.RegisterCandidate(
            full_name=name, date_of_birth=date(1990, 1, 1 + i), target_group="doelgroepregister",
            competences=["schoonmaak"], support_needs=f"behoefte {i}")).body["id"])
        names[ident] = name
    app = system.stores.for_tenant(tenant)
    codec = app.mapper.personal
    assert 0 < len(codec._ciphers) <= 2

    def stored_name(ident):  # read from the stored event, opened now
        return next(iter(app.events.get(originator_id=ident))).full_name

    for ident, name in names.items():
        assert stored_name(ident) == name
    assert len(codec._ciphers) <= 2

    erased = next(iter(names))
    ledger.execute(tenant, agency, c.EraseCandidate(candidate_id=erased))
    system.stores.database(tenant.database).person_keys.forget_cache()
    assert stored_name(erased) == personal_data.ERASED
    others = [i for i in names if i != erased]
    assert [stored_name(i) for i in others] == [names[i] for i in others]
