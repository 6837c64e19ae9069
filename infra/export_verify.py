"""Verify a tenant export offline: no database, no project settings.

    python -m infra.export_verify EXPORT.jsonl --public-key KEY
    sroi verify-export EXPORT.jsonl --public-key KEY

Checks that the events form an unbroken hash chain from the tenant's genesis
(rule v1, then from the header's `chain.v2_from` rule v2, which covers each
event's `recorded_at`), that each event's readable `metadata` is exactly the
metadata inside its hashed state, and that the last event is the head the
platform signed (Ed25519) with the given public key. Reports the first bad
position. Needs only the standard library, `cryptography` and infra/chain.py.
Format 1 files (before chain v2) verify as before; their `recorded_at` is not
covered, and the report says so.
"""
from __future__ import annotations

import argparse
import base64
import json
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from infra.chain import ChainBreak, ChainVerifier

EXPORT_FORMAT = "sroi-ledger-export/2"
FORMATS = ("sroi-ledger-export/1", EXPORT_FORMAT)
HEAD_FORMAT = "sroi-ledger-head/1"
META_KEY = "_meta"  # where the stored state keeps who/when/why (infra.eventstore.META_KEY)


@dataclass
class ExportReport:
    ok: bool
    events: int
    head_position: int | None
    message: str
    bad_position: int | None = None


def head_message(tenant_id: str, events_table: str, position: int, hash_hex: str, signed_at: str) -> bytes:
    """The exact bytes a head signature covers (canonical JSON)."""
    return json.dumps({"format": HEAD_FORMAT, "tenant_id": tenant_id, "events_table": events_table,
                       "position": position, "hash": hash_hex, "signed_at": signed_at},
                      sort_keys=True, separators=(",", ":")).encode()


def readable_metadata(state: bytes) -> dict[str, Any] | None:
    """The metadata inside an event's stored state (JSON), or None if it has none."""
    try:
        decoded = json.loads(state)
    except ValueError:  # also bytes that are not UTF-8
        return None
    meta = decoded.get(META_KEY) if isinstance(decoded, dict) else None
    return meta if isinstance(meta, dict) else None


def load_public_key(value: str) -> bytes:
    """A raw 32-byte Ed25519 public key, base64, given inline or in a file."""
    path = Path(value)
    text = path.read_text().strip() if len(value) < 4096 and path.exists() else value.strip()
    raw = base64.b64decode(text)
    if len(raw) != 32:
        raise ValueError("the public key must be 32 bytes, base64-encoded")
    return raw


def verify_signature(public_key: bytes, message: bytes, signature: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        return True
    except InvalidSignature:
        return False


def verify_export(path: Path, public_key: bytes, progress=None) -> ExportReport:
    header = None
    verifier = None
    head = None
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                return ExportReport(False, verifier.count if verifier else 0, None,
                                    f"line {number} is not JSON")
            kind = item.get("type")
            if kind == "header":
                if header is not None:
                    return ExportReport(False, verifier.count, None, f"line {number}: a second header")
                if item.get("format") not in FORMATS:
                    return ExportReport(False, 0, None, f"unknown export format {item.get('format')!r}")
                header = item
                v2_from = (item.get("chain") or {}).get("v2_from") if item["format"] != FORMATS[0] else None
                verifier = ChainVerifier(item["events_table"], int(v2_from) if v2_from is not None else None)
            elif kind == "event":
                if verifier is None:
                    return ExportReport(False, 0, None, "events before the header")
                if head is not None:
                    return ExportReport(False, verifier.count, None, "events after the signed head",
                                        item.get("position"))
                try:
                    state = base64.b64decode(item["state"], validate=True)
                    recorded_at = datetime.fromisoformat(item["recorded_at"]) if item.get("recorded_at") else None
                    if recorded_at is not None and recorded_at.tzinfo is None:
                        raise ValueError("recorded_at has no time zone")
                    verifier.add(int(item["position"]), UUID(item["originator_id"]), int(item["version"]),
                                 item["topic"], state, bytes.fromhex(item["hash"]), recorded_at)
                except ChainBreak as e:
                    return ExportReport(False, verifier.count, None, str(e), e.position)
                except (KeyError, ValueError, TypeError) as e:
                    return ExportReport(False, verifier.count, None, f"line {number}: malformed event ({e})",
                                        item.get("position"))
                if item.get("metadata") != readable_metadata(state):
                    return ExportReport(False, verifier.count, None,
                                        f"line {number}: the readable metadata of the event at position "
                                        f"{item['position']} is not what its hashed state holds",
                                        int(item["position"]))
                if progress:
                    progress(1)
            elif kind == "head":
                head = item
            else:
                return ExportReport(False, verifier.count if verifier else 0, None,
                                    f"line {number}: unknown record type {kind!r}")
    if header is None or verifier is None:
        return ExportReport(False, 0, None, "no export header")
    if head is None:
        return ExportReport(False, verifier.count, None, "the export has no signed head")
    message = head_message(header["tenant"]["id"], header["events_table"], int(head["position"]),
                           head["hash"], head["signed_at"])
    if not verify_signature(public_key, message, base64.b64decode(head["signature"])):
        return ExportReport(False, verifier.count, head["position"],
                            "the head's signature does not verify with this public key")
    if int(head["position"]) != verifier.last_position or head["hash"] != verifier.previous.hex():
        # Events were removed from the end (or the head belongs to other events).
        return ExportReport(False, verifier.count, head["position"],
                            f"the signed head is position {head['position']}, but the events end at "
                            f"{verifier.last_position} with another hash",
                            min(int(head["position"]), verifier.last_position + 1))
    if verifier.v2_from is None:
        covered = "; recorded_at is not covered (an export from before chain v2)"
    elif verifier.v2_from > verifier.last_position and verifier.count:
        covered = (f"; recorded_at is not covered (no event from position {verifier.v2_from} on, where chain v2 "
                   "starts: export again after the next change)")
    else:
        covered = "; recorded_at and metadata covered"
    return ExportReport(True, verifier.count, int(head["position"]),
                        f"{verifier.count} events verified; chain intact up to the signed head "
                        f"at position {head['position']} (signed {head['signed_at']}){covered}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("export", type=Path)
    ap.add_argument("--public-key", required=True, help="base64 Ed25519 public key, or a file holding it")
    args = ap.parse_args(argv)
    report = verify_export(args.export, load_public_key(args.public_key))
    print(("OK: " if report.ok else "FAILED: ") + report.message)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
