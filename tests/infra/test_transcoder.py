"""The events' JSON transcoder (infra/eventstore.py): orjson's bytes must be
the library's encoder's bytes, for every value an event holds; a stored
event's hash covers them, and older events were written by the library."""
from __future__ import annotations

import json
import random
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum

import pytest
from eventsourcing.persistence import DecimalAsStr, Transcoding, TranscodingNotRegisteredError

from infra.eventstore import DateAsISO, FastJSONTranscoder, make_transcoder


def library_bytes(obj: object) -> bytes:
    """What eventsourcing's JSONTranscoder, with the same transcodings, gives."""
    fast = make_transcoder()
    assert isinstance(fast, FastJSONTranscoder)
    return super(FastJSONTranscoder, fast).encode(obj)


class Colour(Enum):
    RED = "red"


class Name(str):
    pass


def an_event_state(rng: random.Random) -> dict[str, object]:
    chars = [chr(i) for i in range(0, 0x250)] + ["\u2028", "\u2029", "\ufeff", "😀", "\U0010ffff", "\\", '"', "/"]
    text = "".join(rng.choice(chars) for _ in range(rng.randint(0, 20)))
    return {
        "timestamp": datetime(2026, 12, 4, 23, 4, 53, rng.randint(0, 999_999), tzinfo=timezone.utc),
        "originator_topic": "domain.placement:Placement",
        "candidate_id": uuid.UUID(int=rng.getrandbits(128)),
        "starts_on": date(2026, 2, 1) + timedelta(days=rng.randint(0, 900)),
        "hours_per_week": Decimal(f"{rng.randint(1, 40)}.{rng.randint(0, 99)}"),
        "note": text,
        text: [text, None, True, False, -rng.getrandbits(62), 2**63 - 1, 2**64 - 1],
        "items": [{"id": "tools_ready", "responsible": "employer", "due": date(2026, 3, 1)}],
        "pair": ("a", uuid.UUID(int=1)),
        "_meta": {"user_id": str(uuid.UUID(int=7)), "role": "agency", "recorded_at": "2026-12-04T23:04:53+00:00"},
    }


def test_event_states_encode_to_the_library_encoders_bytes():
    rng = random.Random(15)
    transcoder = make_transcoder()
    for _ in range(2000):
        state = an_event_state(rng)
        transcoder._plain(state)  # orjson's way, not the fallback
        assert transcoder.encode(state) == library_bytes(state)
        assert transcoder.decode(transcoder.encode(state))["candidate_id"] == state["candidate_id"]


@pytest.mark.parametrize("value", [
    1.5, 1e16, float("nan"), 2**64, -(2**63) - 1, Name("a str subclass"), True, {1: "an int key"},
    {"nested": [{"deep": [Decimal("1E+3"), 0.1]}]},
], ids=repr)
def test_values_json_writes_its_own_way_are_left_to_the_library(value):
    transcoder = make_transcoder()
    state = {"value": value}
    assert transcoder.encode(state) == library_bytes(state)
    assert json.loads(transcoder.encode(state)) == json.loads(library_bytes(state))


def test_a_type_not_registered_is_refused_as_before():
    transcoder = make_transcoder()
    for value in (Colour.RED, object(), {"at": timedelta(days=1)}):
        with pytest.raises(TranscodingNotRegisteredError):
            transcoder.encode({"value": value})


@pytest.mark.parametrize("fallback", [False, True], ids=["orjson", "a float: the library's encoder"])
def test_the_metadata_spliced_in_gives_the_bytes_of_the_state_with_it(fallback):
    """MetadataMapper encodes an event's metadata once per command or batch
    and puts it after the state's own keys: the same bytes as encoding the
    state with the metadata in it, as the library would."""
    from infra.eventstore import META_KEY, MetadataMapper

    rng = random.Random(16)
    mapper = MetadataMapper(transcoder=make_transcoder())
    metas = [{"user_id": str(uuid.UUID(int=7)), "role": "agency", "organisation": "Détachering “Noord”",
              "correlation_id": str(uuid.UUID(int=9)), "recorded_at": "2026-12-05T00:40:00+00:00"},
             {"user_id": str(uuid.UUID(int=8)), "role": "employer", "organisation": "x\u2028y"}]
    for i in range(500):
        meta = metas[i % 2]
        if i % 7 == 0:  # the same dict, changed since: encoded again, not the old bytes
            meta = metas[0]
            meta["recorded_at"] = f"2026-12-05T00:{i % 60:02d}:00+00:00"
        state = an_event_state(rng) if i % 50 else {}
        state.pop(META_KEY, None)
        if fallback:
            state["a float"] = 0.5
        spliced = mapper._with_meta(mapper.transcoder.encode(state), meta)
        assert spliced == library_bytes({**state, META_KEY: meta})
        assert json.loads(spliced)[META_KEY] == meta


def library_decoded(data: bytes) -> object:
    """What eventsourcing's JSONTranscoder, with the same transcodings, reads."""
    fast = make_transcoder()
    return super(FastJSONTranscoder, fast).decode(data)


def test_dates_and_utc_times_orjson_writes_are_isoformats_text():
    """Dates and datetimes in UTC go to orjson as they are (inside the
    library's envelope): its text must be `isoformat()`'s, at the extremes too."""
    rng = random.Random(17)
    transcoder = make_transcoder()
    moments = [datetime(1, 1, 1, tzinfo=timezone.utc), datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone.utc),
               datetime(2024, 2, 29, 0, 0, 0, 0, tzinfo=timezone.utc), datetime(2026, 12, 5, 4, 0, 0, 1, tzinfo=timezone.utc)]
    moments += [datetime(rng.randint(1, 9999), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23),
                         rng.randint(0, 59), rng.randint(0, 59), rng.choice([0, 1, 10, 999_999, rng.randint(0, 999_999)]),
                         tzinfo=timezone.utc) for _ in range(3000)]
    for moment in moments:
        state = {"timestamp": moment, "on": moment.date(), "times": [moment, moment.date()]}
        assert transcoder.encode(state) == library_bytes(state)
        assert transcoder.decode(transcoder.encode(state)) == state


@pytest.mark.parametrize("moment", [
    datetime(2026, 12, 5, 4, 0, 0),  # naive
    datetime(2026, 12, 5, 4, 0, 0, 5, tzinfo=timezone(timedelta(hours=1))),
    datetime(2026, 12, 5, 4, 0, 0, tzinfo=timezone(timedelta(hours=5, minutes=30, seconds=15))),
], ids=["naive", "CET", "an odd offset"])
def test_other_datetimes_are_written_by_the_transcoding(moment):
    transcoder = make_transcoder()
    state = {"at": moment}
    assert transcoder.encode(state) == library_bytes(state)
    assert transcoder.decode(transcoder.encode(state)) == state


def test_event_states_decode_to_what_the_library_decoder_reads():
    rng = random.Random(18)
    transcoder = make_transcoder()
    for _ in range(2000):
        data = library_bytes(an_event_state(rng))
        decoded = transcoder.decode(data)
        assert decoded == library_decoded(data)
        assert [type(v) for v in decoded.values()] == [type(v) for v in library_decoded(data).values()]


@pytest.mark.parametrize("data", [
    b'{"n":123456789012345678901234567890}',  # orjson would read a float
    b'{"n":[-9223372036854775809]}',
    b'{"x":0.1,"u":{"_type_":"uuid_hex","_data_":"' + uuid.UUID(int=5).hex.encode() + b'"}}',
    b'{"x":NaN}', b'{"x":Infinity}', b'{"x":1e400}',
    b'{"s":"\\ud800"}',  # a lone surrogate: orjson refuses it
    b'{"a":1,"a":2}',
    b'{"_type_":"decimal_str","_data_":"1.50","more":1}',  # three keys: a dict, not a value
    b'{"_type_":"decimal_str","_data_":{"_type_":"uuid_hex","_data_":"' + uuid.UUID(int=6).hex.encode() + b'"}}',
    b'[{"_type_":"date_iso","_data_":"2026-02-01"},[{"_type_":"decimal_str","_data_":"2"}]]',
    b'{}', b'[]', b'"text"', b'7',
], ids=repr)
def test_what_orjson_reads_otherwise_is_read_as_the_library_reads_it(data):
    transcoder = make_transcoder()
    try:
        expected = library_decoded(data)
    except Exception as e:
        with pytest.raises(type(e)):
            transcoder.decode(data)
        return
    decoded = transcoder.decode(data)
    assert repr(decoded) == repr(expected)


def test_an_envelope_of_an_unknown_type_is_refused_as_before():
    transcoder = make_transcoder()
    with pytest.raises(TranscodingNotRegisteredError):
        transcoder.decode(b'{"a":{"_type_":"no_such_type","_data_":"x"}}')


class UUIDAsText(Transcoding):
    """Another transcoding for ids than the library's hex one."""

    type = uuid.UUID
    name = "uuid_text"

    def encode(self, obj: uuid.UUID) -> str:
        return str(obj)

    def decode(self, data: str) -> uuid.UUID:
        return uuid.UUID(data)


def test_ids_amounts_and_dates_go_by_the_transcodings_registered_for_them():
    # The common envelopes are made in line, for the library's own
    # transcodings only: another one registered for a type is used as registered.
    transcoder = FastJSONTranscoder()
    for transcoding in (UUIDAsText(), DecimalAsStr(), DateAsISO()):
        transcoder.register(transcoding)
    ident = uuid.UUID(int=5)
    state = {"id": ident, "amount": Decimal("2.50"), "on": date(2026, 2, 1), "ids": [ident]}
    encoded = json.loads(transcoder.encode(state))
    assert encoded["id"] == {"_type_": "uuid_text", "_data_": str(ident)} == encoded["ids"][0]
    assert encoded["amount"] == {"_type_": "decimal_str", "_data_": "2.50"}
    assert encoded["on"] == {"_type_": "date_iso", "_data_": "2026-02-01"}
    assert transcoder.decode(transcoder.encode(state)) == state
    # A datetime with no transcoding registered is refused, in line or not.
    with pytest.raises(TranscodingNotRegisteredError):
        transcoder.encode({"at": datetime(2026, 1, 1, tzinfo=timezone.utc)})
