"""The use-case layer's entry point: every entry point (API, CLI, pages,
demo) goes through `Ledger.execute` for changes and the `Ledger.get_*`
methods for aggregates.

A command arrives with (tenant, actor, command). Its handler and the roles
allowed to issue it come from the one table (service/handlers/); the
aggregates it names must be visible to the actor (service/unit.py and
service/visibility.py: otherwise NotFound, the same answer as for an id that
does not exist); then the aggregates are changed and saved in one transaction
together with the idempotency record. A concurrent change of the same
aggregate makes the save fail on the (aggregate id, version) key: the command
is decided again on the state as stored now, a bounded number of times, and
ends in a Conflict if it keeps losing; nothing of a losing attempt is stored.

The ledger answers with a domain `CommandResult` (created or changed, the
body, the position to wait for); web/outcomes.py maps it to HTTP.
"""
from __future__ import annotations

import hashlib
import json
import logging
import random
import time
import uuid
from copy import deepcopy
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import project_aggregate
from eventsourcing.persistence import IntegrityError, StoredEvent

from domain.base import replayed
from domain.candidate import Candidate
from domain.document import Document
from domain.errors import DomainError
from domain.valuation import HoursCap
from infra import import_store, personal_data
from infra.database import uuid_array
from infra.documents import DocumentDamaged, DocumentQuotaExceeded, DocumentUnreadable
from infra.eventstore import (
    IdempotencyRecord,
    Tenant,
    TenantApplication,
    TenantStores,
    event_metadata,
    events_table_for,
)
from infra.eventstore import TenantMoving as StoreMoving
from service.actor import Actor
from service.errors import (
    Conflict,
    ServiceError,
    Damaged,
    Gone,
    IdempotencyKeyReused,
    InvalidInput,
    PermissionDenied,
    PersonErased,
    TenantMoving,
    TenantSuspended,
    TooLarge,
)
from service.handlers import HANDLERS, documents
from service.handlers.erasure import refuse_erased_now
from service.ports import (
    Accounts,
    BatchProcesses,
    Clock,
    ContractRecords,
    ImportedFiles,
    Organisations,
    RuleSets,
    SystemClock,
)
from service.unit import Outcome, Unit

log = logging.getLogger("sroi.ledger")

A = TypeVar("A")
R = TypeVar("R")


@dataclass(frozen=True)
class CommandResult:
    # Whether the command created something (else it changed something).
    created: bool
    body: dict[str, Any]
    # The tenant's notification position after the command (for a replay of
    # an idempotent request, the tenant's head when it was answered: at or past
    # the first answer's): readers can wait until projections reach it.
    position: int = 0
    replayed: bool = False


def _json_default(value: Any) -> Any:
    if isinstance(value, (UUID, Decimal)):
        return str(value)
    if isinstance(value, bytes):  # a document's content: the same file is the same request
        return hashlib.sha256(value).hexdigest()
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def fingerprint(actor: Actor, command: Any) -> str:
    payload = {"command": type(command).__name__, "user": str(actor.user_id), "data": asdict(command)}
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, default=_json_default).encode()).hexdigest()


# A command that lost a race is decided again on the state as stored now.
# Each lost race means another command committed, so a burst of N concurrent
# changes to one record needs at most N-1 retries; the bound and the jittered
# pause (full jitter, growing per attempt) keep a hot record from turning into
# a thundering herd, and a record that keeps moving ends in a clear 409.
CONFLICT_ATTEMPTS = 12
CONFLICT_PAUSE_BASE = 0.002  # seconds; attempt n pauses uniform(0, base * 2**n), capped below
CONFLICT_PAUSE_MAX = 0.05


def conflict_pause(attempt: int) -> float:
    """The pause before retry `attempt` (1 = the first retry): full jitter."""
    return random.uniform(0, min(CONFLICT_PAUSE_MAX, CONFLICT_PAUSE_BASE * 2 ** attempt))


class Ledger:
    def __init__(self, stores: TenantStores,
                 on_committed: Callable[[Tenant, int], None] | None = None,
                 conflict_attempts: int = CONFLICT_ATTEMPTS, *,
                 accounts: Accounts | None = None, clock: Clock | None = None,
                 organisations: Organisations | None = None, records: ContractRecords | None = None,
                 rule_sets: RuleSets | None = None, imported_files: ImportedFiles | None = None,
                 batch_processes: BatchProcesses | None = None):
        self.stores = stores
        # Called after each command that stored events (tells the projections).
        self.on_committed = on_committed
        self.conflict_attempts = conflict_attempts
        # The ports (service/ports.py), passed in by infra/bootstrap.py.
        self.accounts = accounts
        self.organisations = organisations
        self.clock = clock or SystemClock()
        self.records = records
        self.rule_sets = rule_sets
        self.imported_files = imported_files
        # Where a large import's batches run side by side (None: here, one by one).
        self.batch_processes = batch_processes

    def _contributions_of(self, tenant: Tenant) -> Callable[[UUID], list[UUID]] | None:
        records = self.records
        if records is None:
            return None
        return lambda contract_id: records.contribution_ids(tenant, contract_id)

    def _hours_caps_of(self, tenant: Tenant) -> Callable[[UUID], dict[UUID, HoursCap]] | None:
        records = self.records
        if records is None:
            return None
        return lambda contract_id: records.hours_caps(tenant, contract_id)

    # -- commands ------------------------------------------------------------
    def execute(self, tenant: Tenant, actor: Actor, command: Any, *,
                idempotency_key: str | None = None,
                correlation_id: str | None = None,
                expected_version: int | None = None) -> CommandResult:
        if not tenant.is_active:
            raise TenantSuspended()
        entry = HANDLERS.get(type(command))
        if entry is None:
            raise TypeError(f"unknown command {type(command).__name__}")
        if actor.role not in entry.roles:
            raise PermissionDenied(f"role {actor.role!r} may not {_verb(command)}")
        app = self.stores.for_tenant(tenant)
        database = self.stores.database(tenant.database)
        record = None
        if idempotency_key is not None:
            if not (1 <= len(idempotency_key) <= 200):
                raise InvalidInput("Idempotency-Key", "must be 1-200 characters")
            fp = fingerprint(actor, command)
            earlier = self._replay(app, database, tenant, idempotency_key, fp)
            if earlier is not None:
                return earlier

        meta = {
            "user_id": str(actor.user_id),
            "role": actor.role,
            "organisation": actor.organisation,
            # An organisation's user acting in this agency's history (service/actor.py).
            **({"org_id": str(actor.org_id)} if actor.org_id is not None else {}),
            "correlation_id": correlation_id or str(uuid.uuid4()),
            "recorded_at": self.clock.now().isoformat(),
        }
        for attempt in range(1, self.conflict_attempts + 1):
            unit = Unit(app=app, actor=actor, fresh=expected_version is not None, accounts=self.accounts,
                        imported_files=self.imported_files,
                        clock=self.clock, organisations=self.organisations,
                        contributions_of=self._contributions_of(tenant), rule_sets=self.rule_sets,
                        hours_caps_of=self._hours_caps_of(tenant))
            try:
                outcome = entry.handler(unit, command)
                if expected_version is not None:
                    self._check_expected_version(outcome, expected_version)
            except Exception as e:
                refuse_erased_now(unit)  # an erased person answers before any other refusal
                if not isinstance(e, DomainError):
                    raise
                error = Conflict(str(e)) if e.is_state_conflict else InvalidInput(e.field, str(e))
                error.template, error.params = e.template, e.params
                raise error from e
            if idempotency_key is not None:
                record = IdempotencyRecord(tenant_id=tenant.id, key=idempotency_key, fingerprint=fp,
                                           created=outcome.created, response=outcome.body)
            token = event_metadata.set(meta)
            try:
                files = app.documents.prepare(tenant.id, outcome.files) if outcome.files else None
                try:
                    recordings = app.save(*outcome.saved, idempotency=record, unerased=unit.unerased,
                                          in_transaction=files)
                except BaseException:
                    if files is not None:  # no event: the bytes written for it go (infra/documents.py)
                        files.abandoned()
                    raise
                if files is not None:
                    files.committed()  # a removal's bytes go once the event is stored
            except DocumentQuotaExceeded as e:
                raise TooLarge("file", str(e)) from None
            except StoreMoving:
                # `sroi tenant move` is switching the tenant: nothing was stored (503, Retry-After).
                raise TenantMoving() from None
            except personal_data.PersonErased:
                # The key store refused to seal data of an erased person (an
                # erasure the checks above could not see yet): nothing was stored.
                raise PersonErased() from None
            except IntegrityError as e:
                constraint = getattr(getattr(e.__cause__, "diag", None), "constraint_name", None)
                if record is not None and constraint == "idempotency_keys_pkey":
                    # A concurrent retry of the same request committed first.
                    earlier = self._replay(app, database, tenant, idempotency_key or "", record.fingerprint)
                    if earlier is not None:
                        return earlier
                # Someone else changed one of these aggregates after we loaded
                # it (or our cache was stale). Nothing of ours was stored.
                # Decide again on the state as stored now: the command's
                # rules are checked again, so a change that no longer fits
                # (ending a placement twice) is refused as a conflict, while
                # one that still fits (a second feedback) is kept, not lost.
                self._refresh(app, unit)
                if attempt < self.conflict_attempts and expected_version is None:
                    time.sleep(conflict_pause(attempt))
                    continue
                raise Conflict(
                    "the record was changed by another request at the same time; "
                    "nothing was stored: reload and try again") from None
            finally:
                event_metadata.reset(token)
            position = max((r.notification.id for r in recordings), default=0)
            for action in outcome.after_commit:
                action(app)
            if self.on_committed is not None:
                self.on_committed(tenant, position)
            return CommandResult(created=outcome.created, body=outcome.body, position=position)
        raise AssertionError("unreachable")

    # -- many commands at once (a spreadsheet import) ---------------------------
    def batch_unit(self, tenant: Tenant, actor: Actor) -> Unit:
        """A unit for `execute_batch`: the rows of a batch (or a whole dry run) share it."""
        return Unit(app=self.stores.for_tenant(tenant), actor=actor, accounts=self.accounts, clock=self.clock,
                    imported_files=self.imported_files,
                    organisations=self.organisations, contributions_of=self._contributions_of(tenant),
                    rule_sets=self.rule_sets, hours_caps_of=self._hours_caps_of(tenant))

    def preload(self, tenant: Tenant, unit: Unit, ids: Iterable[UUID]) -> None:
        """Load these aggregates into the unit with one query (their events,
        read now) and their people's keys with another, rather than two
        queries each: the records a batch's rows refer to. An id that names
        nothing is left out (the handler then answers for it as usual)."""
        wanted = sorted({i for i in ids if i not in unit.loaded})
        if not wanted:
            return
        app = unit.app
        database = self.stores.database(tenant.database)
        with database.connection() as conn:
            rows = conn.execute(
                f"SELECT originator_id, originator_version, topic, state FROM events.{events_table_for(tenant.id)}"
                " WHERE originator_id = ANY (%s::uuid[]) ORDER BY originator_id, originator_version",
                # Binary answers: the states as bytes, not hex text to decode.
                (uuid_array(wanted),), binary=True).fetchall()
        if app.person_keys is not None:
            app.person_keys.prefetch(tenant.id, set(wanted))
        by_id: dict[UUID, list[Any]] = {}
        for r in rows:
            stored = StoredEvent(originator_id=r["originator_id"], originator_version=r["originator_version"],
                                 topic=r["topic"], state=bytes(r["state"]))
            by_id.setdefault(r["originator_id"], []).append(app.mapper.to_domain_event(stored))
        for ident, events in by_id.items():
            # What project_aggregate does, without its runtime Protocol
            # isinstance check (a fifth of a preload's time), the first
            # event as our aggregates make themselves (domain/base.py).
            unit.loaded[ident] = replayed(events)

    def execute_batch(self, tenant: Tenant, actor: Actor, rows: list[BatchRow], *, correlation_id: str,
                      unit: Unit | None = None, store: bool = True, preload: Iterable[UUID] = ()) -> int:
        """Run many commands, each through its handler and roles as `execute`
        runs one, and store the events of those that succeed in ONE
        transaction, with the record of which rows they were
        (infra/import_store.py: a row stored once is never stored again) and
        `correlation_id` in every event's metadata. Each row's command is built
        only when its turn comes (`row.build()`: it may name records created
        by earlier rows of the batch, which the unit holds); its answer goes
        to `row.done(body, record id)`, a refusal to `row.failed(error)`, the others go
        on. With `store=False` nothing is stored (a preview).

        Returns the position after the batch (0 if nothing was stored).
        BatchConflict if another request changed one of its records (or
        stored one of its rows) meanwhile: nothing of the batch is stored,
        and the caller runs it again on the state as stored now."""
        if not tenant.is_active:
            raise TenantSuspended()
        app = self.stores.for_tenant(tenant)
        unit = unit or self.batch_unit(tenant, actor)
        self.preload(tenant, unit, preload)
        saved: dict[int, Any] = {}
        recorded: list[tuple[str, str, UUID, UUID | None]] = []
        new_people: list[UUID] = []
        for row in rows:
            try:
                command = row.build()
                entry = HANDLERS.get(type(command))
                if entry is None:
                    raise TypeError(f"unknown command {type(command).__name__}")
                if actor.role not in entry.roles:
                    raise PermissionDenied(f"role {actor.role!r} may not {_verb(command)}")
                outcome = entry.handler(unit, command)
            except DomainError as e:
                error: ServiceError = Conflict(str(e)) if e.is_state_conflict else InvalidInput(e.field, str(e))
                error.template, error.params = e.template, e.params
                row.failed(error)
                continue
            except ServiceError as e:
                row.failed(e)
                continue
            for agg in outcome.saved:
                saved[id(agg)] = agg
                if unit.loaded.get(agg.id) is None:
                    unit.loaded[agg.id] = agg
                    if isinstance(agg, Candidate):
                        new_people.append(agg.id)
            # The record the row made (or changed): the body's id, the first
            # aggregate saved's as a rule (then not read back from its text).
            record_id = outcome.saved[0].id
            if str(record_id) != outcome.body["id"]:
                record_id = UUID(outcome.body["id"])
            # The person a row is about (a candidate's own row, a placement's candidate):
            # an erasure deletes the kept files of the imports that stored one.
            subject = record_id if isinstance(outcome.saved[0], Candidate) else getattr(command, "candidate_id", None)
            recorded.append((row.row_key, row.kind, record_id, subject))
            row.done(outcome.body, record_id)
        if not store or not saved:
            return 0
        meta = {
            "user_id": str(actor.user_id),
            "role": actor.role,
            "organisation": actor.organisation,
            **({"org_id": str(actor.org_id)} if actor.org_id is not None else {}),
            "correlation_id": correlation_id,
            "recorded_at": self.clock.now().isoformat(),
        }
        if app.person_keys is not None:
            personal_data.make_new_keys(app.person_keys, tenant.id, new_people)
        token = event_metadata.set(meta)
        try:
            position = app.save_batch(*saved.values(), unerased=unit.unerased,
                                      in_transaction=import_store.record_rows(tenant.id, UUID(correlation_id),
                                                                              recorded))
        except personal_data.PersonErased:
            raise PersonErased() from None
        except IntegrityError:
            self._refresh(app, unit)
            raise BatchConflict() from None
        finally:
            event_metadata.reset(token)
        if self.on_committed is not None:
            self.on_committed(tenant, position)
        return position

    @staticmethod
    def _refresh(app: TenantApplication, unit: Unit) -> None:
        """Bring the cached copies of the aggregates this command loaded up to
        date with the database (only the newer events are read)."""
        cache = app.repository.cache
        if cache is None:
            return
        for ident in unit.loaded:
            try:
                cached = cache.get(ident)
            except KeyError:
                continue
            try:
                newer = app.events.get(originator_id=ident, gt=cached.version)
                cache.put(ident, project_aggregate(deepcopy(cached), newer))
            except Exception:
                cache.get(ident, evict=True)

    @staticmethod
    def _check_expected_version(outcome: Outcome, expected_version: int) -> None:
        """If-Match: the command's target must still be at the version the client saw."""
        target = outcome.saved[0]
        pending = len(getattr(target, "_pending_events", []) or [])
        before = target.version - pending
        if before != expected_version:
            raise Conflict(f"the record is at version {before}, not {expected_version}: "
                           "it was changed since you read it; reload and try again")

    def _replay(self, app: Any, database: Any, tenant: Tenant, key: str, fp: str) -> CommandResult | None:
        """The first answer to a repeated request. Its position is the tenant's
        head now (the first answer's events committed with the key, so the head
        is at or past them): a client whose first answer was lost, and that
        retries with the same key, still reads its own write with min_position."""
        found = database.find_idempotent_response(tenant.id, key)
        if found is None:
            return None
        stored_fp, created, body = found
        if stored_fp != fp:
            raise IdempotencyKeyReused()
        return CommandResult(created=created, body=body, replayed=True,
                             position=app.recorder.max_notification_id() or 0)

    # -- queries -------------------------------------------------------------
    def get(self, tenant: Tenant, actor: Actor, kind_cls: type[A], ident: UUID) -> A:
        return Unit(app=self.stores.for_tenant(tenant), actor=actor, fresh=True, clock=self.clock).get(kind_cls, ident)

    def documents_of(self, tenant: Tenant, actor: Actor, record_kind: str, record_id: UUID) -> list[dict[str, Any]]:
        """The documents of a record the actor sees (NotFound if the record is
        not visible), oldest first: what is known about each, never its bytes."""
        app = self.stores.for_tenant(tenant)
        unit = Unit(app=app, actor=actor, fresh=True, clock=self.clock)
        return [documents.document_view(app, d) for d in documents.documents_of(unit, record_kind, record_id)]

    def documents_of_records(self, tenant: Tenant, actor: Actor, record_kind: str,
                             record_ids: list[UUID]) -> dict[UUID, list[dict[str, Any]]]:
        """Like documents_of for many records at once (a contract page's
        contributions), each document loaded through the visibility policy."""
        app = self.stores.for_tenant(tenant)
        unit = Unit(app=app, actor=actor, fresh=True, clock=self.clock)
        return {record: [documents.document_view(app, d) for d in found]
                for record, found in documents.documents_of_many(unit, record_kind, record_ids).items()}

    def document_content(self, tenant: Tenant, actor: Actor, document_id: UUID,
                         correlation_id: str | None = None) -> tuple[Document, str, bytes]:
        """A visible document, its file name and its bytes; Gone if it was removed
        or the person it was about was erased. A download of a document about a
        person is written to the access log."""
        app = self.stores.for_tenant(tenant)
        document = self.get(tenant, actor, Document, document_id)
        if document.is_removed:
            raise Gone(f"the document was removed on {document.removed_on.isoformat()}")  # type: ignore[union-attr]
        try:
            content = app.documents.read(tenant.id, document.id) if app.documents is not None else None
        except DocumentUnreadable:
            raise Gone("the document was about a person who was erased: it can no longer be read") from None
        except DocumentDamaged as e:
            log.error("document %s of tenant %s not served: %s", document.id, tenant.id, e)
            raise Damaged("the document's stored content is not what was stored: it is not served") from None
        if content is None:
            raise Gone("the document's content is no longer kept")
        attached = app.tenant_recorder.select_events(document.id, limit=1)[0]
        filename = app.metadata_mapper.decode_state(attached.state, "DocumentAttached").get("filename") or "document"
        if document.candidate_id is not None:
            self.record_special_category_read(tenant, actor, document.candidate_id, [f"document:{document.kind}"],
                                              via="document download", correlation_id=correlation_id)
        return document, filename, content
    def read(self, tenant: Tenant, actor: Actor, query: Callable[[Unit], R]) -> R:
        """A query the service answers from aggregates (a draft statement's
        lines, worked out live), as the actor sees them."""
        return query(Unit(app=self.stores.for_tenant(tenant), actor=actor, fresh=True, clock=self.clock,
                          contributions_of=self._contributions_of(tenant),
                          hours_caps_of=self._hours_caps_of(tenant)))

    def record_special_category_read(self, tenant: Tenant, actor: Actor, subject_id: UUID, fields: list[str],
                                     via: str, correlation_id: str | None = None) -> None:
        """Every view of special-category data (support needs, health notes) is
        logged: who, when, whose, which fields, through what. Auditors read it."""
        keys = self.stores.database(tenant.database).person_keys
        if keys is not None:
            keys.log_read(tenant.id, actor.user_id, actor.role, actor.organisation, subject_id, fields, via,
                          correlation_id)

    def history(self, tenant: Tenant, actor: Actor, kind_cls: type, ident: UUID) -> list[dict[str, Any]]:
        """The stored events of one visible aggregate, with their metadata, oldest first."""
        return self.get_with_history(tenant, actor, kind_cls, ident)[1]

    def get_with_history(self, tenant: Tenant, actor: Actor, kind_cls: type[A], ident: UUID,
                         latest: int | None = None, skip: int = 0) -> tuple[A, list[dict[str, Any]]]:
        """A visible aggregate and its history (oldest first; with `latest`, only
        that many of the newest events after skipping the `skip` newest), with
        one visibility check and load."""
        app = self.stores.for_tenant(tenant)
        aggregate = self.get(tenant, actor, kind_cls, ident)
        out = []
        stored_events = (app.tenant_recorder.select_events(ident) if latest is None else reversed(
            app.tenant_recorder.select_events(ident, desc=True, limit=latest, lte=aggregate.version - skip)))
        for stored in stored_events:
            state = app.metadata_mapper.decode_state(stored.state, stored.topic.rsplit(".", 1)[-1])
            meta = state.pop("_meta", {})
            timestamp = state.pop("timestamp", None)
            state.pop("originator_topic", None)
            out.append({
                "version": stored.originator_version,
                "type": stored.topic.rsplit(".", 1)[-1],
                "occurred_at": timestamp,
                "data": state,
                "metadata": meta,
            })
        return aggregate, out


class BatchConflict(Exception):
    """A batch lost a race: nothing of it was stored; run it again."""


@dataclass
class BatchRow:
    """One command of `Ledger.execute_batch`, with where its answer goes."""

    row_key: str  # the row's identity: stored once, never again
    kind: str
    build: Callable[[], Any]
    done: Callable[[dict[str, Any], UUID], None]  # the answer, and the id of the record it names
    failed: Callable[[ServiceError], None]


def _verb(command: Any) -> str:
    name = type(command).__name__
    words = "".join(" " + ch.lower() if ch.isupper() else ch for ch in name).strip()
    return words
