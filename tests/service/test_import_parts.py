"""A batch sent to another process (service/importing.py `_Part`) and its
result (`_PartDone`) travel by pickle with their ids packed as bytes (and a
batch's rows as tuples, without their cells): what arrives must be what was
sent."""
from __future__ import annotations

import pickle
import random
import uuid
from datetime import date

from domain.ids import id_of_int
from service import importing
from service.actor import Actor
from service.errors import InvalidInput


def test_a_batch_and_its_result_arrive_as_they_were_sent():
    rng = random.Random(19)
    ids = {f"key {n}": uuid.UUID(int=rng.getrandbits(128)) for n in range(500)}
    ids.update({"zero": uuid.UUID(int=0), "max": uuid.UUID(int=2**128 - 1), "v4": uuid.uuid4()})
    rows = [importing.Row(sheet=0, kind="placements", number=n + 2, cells=["K1", "20,5"],
                          values={"candidate_id": "K1", "starts_on": date(2026, 2, 1)}, row_key=f"r{n}", key=None)
            for n in range(3)]
    part = importing._Part(tenant=None, actor=Actor(user_id=uuid.UUID(int=7), role="agency", organisation="x"),
                           import_id=uuid.uuid4(), sheets=[{"name": "Blad1", "kind": "placements"}], rows=rows,
                           ids=ids, failed_keys={"r9": 11})
    rows[1].status, rows[1].errors = "error", [{"field": "hours_per_week", "template": "t", "params": {}}]
    arrived = pickle.loads(pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL))
    # Everything but the rows' cells (a command is built from the values).
    assert [r.cells for r in arrived.rows] == [[], [], []]
    for row in arrived.rows:
        row.cells = ["K1", "20,5"]
    assert arrived == part
    assert list(arrived.ids) == list(ids)  # in order
    assert [str(i) for i in arrived.ids.values()] == [str(i) for i in ids.values()]
    assert {hash(i) for i in arrived.ids.values()} == {hash(i) for i in ids.values()}

    done = importing._PartDone(rows=[("ok", str(ids["key 1"]), []), ("error", None, [{"field": "x"}])],
                               ids=ids, failed_keys={}, error=(InvalidInput, "bad", {"field": "hours"}), position=42)
    back = pickle.loads(pickle.dumps(done, protocol=pickle.HIGHEST_PROTOCOL))
    assert back == done and back.position == 42
    assert list(back.ids) == list(ids)
    assert back.refusal() is not None and back.refusal().field == "hours"


def test_an_id_of_an_int_is_the_uuid_of_it():
    rng = random.Random(20)
    for value in [0, 1, 2**128 - 1] + [rng.getrandbits(128) for _ in range(2000)]:
        made = id_of_int(value)
        assert made == uuid.UUID(int=value)
        assert str(made) == str(uuid.UUID(int=value)) and made.bytes == uuid.UUID(int=value).bytes
