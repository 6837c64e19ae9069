"""A spreadsheet row without a key is known by its values: the text its row
key is made of must stay what it was when rows were stored before (an import
of the same file again stores nothing new), json.dumps' text."""
from __future__ import annotations

import json
import random
from datetime import date
from decimal import Decimal

from service import importing


def test_a_rows_identity_is_json_dumps_text_of_its_values():
    rng = random.Random(17)
    chars = [chr(i) for i in range(0x300)] + ["\u2028", "€", "😀", "\U0010ffff", '"', "\\", "/"]
    for _ in range(2000):
        values = {}
        for field_name in rng.sample(["candidate_id", "starts_on", "hours_per_week", "permanent_contract", "supplier",
                                      "é-field", "note"], rng.randint(0, 7)):
            kind = rng.randrange(5)
            values[field_name] = ("".join(rng.choice(chars) for _ in range(rng.randint(0, 12))) if kind == 0
                                  else date(2026, 1, 1 + rng.randrange(28)) if kind == 1
                                  else Decimal(f"{rng.randint(0, 99)}.{rng.randint(0, 9)}") if kind == 2
                                  else rng.choice([True, False]) if kind == 3
                                  else ["schoonmaak", "logistiek"])
        expected = json.dumps({k: str(v) for k, v in sorted(values.items())}, sort_keys=True)
        assert importing._identity(values) == expected


def test_planning_pauses_the_cycle_collector_and_restores_it_as_it_was():
    import gc

    from infra import spreadsheet

    sheets = spreadsheet.read(b"Naam\nBouwbedrijf De Vries\n")
    assert gc.isenabled()
    seen = []
    real = importing._plan
    try:
        importing._plan = lambda *a: seen.append(gc.isenabled()) or real(*a)
        assert [r.values for r in importing.plan(sheets, "employers", {}).rows] == [{"name": "Bouwbedrijf De Vries"}]
        assert seen == [False] and gc.isenabled()
        gc.disable()
        importing.plan(sheets, "employers", {})
        assert not gc.isenabled()  # left as it was
    finally:
        gc.enable()
        importing._plan = real
