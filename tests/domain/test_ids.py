"""domain/ids.py makes what the standard library's uuid4 and uuid5 make."""
from __future__ import annotations

import copy
import os
import pickle
import random
import threading
import uuid
from datetime import date
from decimal import Decimal

from domain.base import LedgerAggregate
from domain import ids
from domain.ids import name_id, new_id, random_bytes
from domain.placement import Placement
from domain.support import SUPPORT_NAMESPACE, PlacementSupport


def test_a_name_id_is_uuid5():
    rng = random.Random(18)
    chars = [chr(i) for i in range(0x20, 0x300)] + ["€", "😀", "|", "\U0010ffff"]
    for _ in range(3000):
        namespace = uuid.UUID(int=rng.getrandbits(128))
        name = "".join(rng.choice(chars) for _ in range(rng.randint(0, 60)))
        made, expected = name_id(namespace, name), uuid.uuid5(namespace, name)
        assert made == expected and str(made) == str(expected) and hash(made) == hash(expected)
        assert (made.version, made.variant, made.is_safe) == (expected.version, expected.variant, expected.is_safe)


def test_a_new_id_is_a_version_4_uuid_like_any_other():
    made = {new_id() for _ in range(5000)}
    assert len(made) == 5000
    for ident in list(made)[:500]:
        assert ident.version == 4 and ident.variant == uuid.RFC_4122
        assert uuid.UUID(str(ident)) == ident and uuid.UUID(bytes=ident.bytes) == ident
        assert pickle.loads(pickle.dumps(ident)) == ident and copy.deepcopy(ident) == ident
        assert ident.is_safe is uuid.SafeUUID.unknown
    # Every random bit is used: each of the 122 varies across the ids.
    varying = 0
    for ident in made:
        varying |= ident.int ^ next(iter(made)).int
    assert bin(varying).count("1") == 122


def test_aggregates_get_such_ids():
    placement = Placement.start(candidate_id=new_id(), employer_id=new_id(), contract_id=None, vacancy_id=None,
                                starts_on=date(2026, 2, 1), hours_per_week=Decimal(24), permanent_contract=False)
    assert placement.id.version == 4 and LedgerAggregate.create_id().version == 4
    assert PlacementSupport.id_for(placement.id) == uuid.uuid5(SUPPORT_NAMESPACE, "support|" + str(placement.id))


def test_random_bytes_are_as_many_as_asked_and_never_given_twice():
    given = [random_bytes(n) for n in (1, 12, 16, 4095, 5000, 3) * 50]
    assert [len(b) for b in given] == [1, 12, 16, 4095, 5000, 3] * 50
    # 16 bytes at a time, over many refills of the pool: no repeat.
    sixteens = {random_bytes(16) for _ in range(20_000)}
    assert len(sixteens) == 20_000


def test_each_thread_draws_from_its_own_random_bytes():
    random_bytes(1)  # this thread's pool holds bytes now
    seen: list[bytes] = []

    def draw() -> None:
        seen.append(ids._pool.data)  # nothing yet in a new thread
        seen.append(random_bytes(16))

    thread = threading.Thread(target=draw)
    thread.start()
    thread.join()
    assert seen[0] == b"" and ids._pool.data != b""
    assert seen[1] not in ids._pool.data


def test_a_forked_child_never_repeats_its_parents_random_bytes():
    random_bytes(1)  # the parent's pool holds the bytes it gives next
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next 16 bytes, to the parent
        try:
            os.write(write, random_bytes(16))
        finally:
            os._exit(0)
    os.close(write)
    child = os.read(read, 16)
    os.close(read)
    os.waitpid(pid, 0)
    assert len(child) == 16 and child != random_bytes(16)
