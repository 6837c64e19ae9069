"""The unit of work a handler gets: one command's view of one tenant, as one
actor. It loads aggregates through the visibility policy (service/visibility.py:
what the actor may not see is NotFound, the same answer as for an id that does
not exist) and resolves ids given in a request (`reference`, naming the field).

A handler answers with a domain `Outcome`: the aggregates to save, whether the
command created something, and the body to answer with. What that means in
HTTP is for web/ (web/outcomes.py). Each feature module of service/handlers/
declares its handlers and the roles that may issue them in a `Handlers` table.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, project_aggregate

from domain.candidate import Candidate
from domain.contract import SocialReturnContract
from domain.contribution import Contribution
from domain.document import Document
from domain.duties import PlacementDuties, Reminder
from domain.employer import Employer
from domain.employment import Employment
from domain.matching import MatchPipeline
from domain.placement import Placement
from domain.statement import Statement
from domain.errors import UnknownRuleSet
from domain.support import PlacementSupport
from domain.valuation import HoursCap, PinnedRuleSet
from domain.values import require_text
from domain.vacancy import Vacancy
from domain.voice import EmployeeVoice
from infra.eventstore import TenantApplication
from service.actor import Actor
from service.errors import InvalidReference, NotFound
from service.ports import Accounts, Clock, ImportedFiles, Organisation, Organisations, RuleSets, SystemClock
from service.visibility import visible

A = TypeVar("A")

KIND = {
    Employer: "employer",
    SocialReturnContract: "contract",
    Candidate: "candidate",
    Vacancy: "vacancy",
    Placement: "placement",
    Employment: "employment",
    Contribution: "contribution",
    PlacementDuties: "placement duties",
    Reminder: "reminder",
    MatchPipeline: "match",
    PlacementSupport: "placement support",
    EmployeeVoice: "check-ins",
    Document: "document",
    Statement: "statement",
}


ORGANISATION_KIND = {"authority": "a contracting authority", "employer": "an employer"}


@dataclass
class Outcome:
    """What a handler decided: the aggregates to save (in one transaction),
    whether the command created something (a new record, feedback, a step
    that opened a match) or changed one, and the body to answer with."""

    saved: list[Any]
    created: bool
    body: dict[str, Any]
    # Run once the events are stored.
    after_commit: list[Callable[[TenantApplication], Any]] = field(default_factory=list)
    # Documents' bytes to store or delete with the events, in their transaction
    # (infra/documents.py StoreDocument, DeleteDocument).
    files: list[Any] = field(default_factory=list)


def created(agg: Any) -> Outcome:
    """A new aggregate: answered with its id."""
    return Outcome(saved=[agg], created=True, body={"id": str(agg.id)})


def changed(agg: Any, *, created: bool = False) -> Outcome:
    """A changed aggregate: answered with its id and new version (`created`
    when the change adds something of its own, e.g. feedback or a contact)."""
    return Outcome(saved=[agg], created=created, body={"id": str(agg.id), "version": agg.version})


@dataclass
class Unit:
    """One command's view of one tenant, as one actor."""

    app: TenantApplication
    actor: Actor
    loaded: dict[UUID, Any] = field(default_factory=dict)
    # Queries bring cached aggregates up to date with the database (another
    # process may have written); commands rely on the version check at save.
    fresh: bool = False
    # The platform's user accounts (for handlers that check or close a user).
    accounts: Accounts | None = None
    clock: Clock = field(default_factory=SystemClock)
    # The spreadsheet imports' kept files (an erasure deletes those naming the person).
    imported_files: ImportedFiles | None = None
    # The platform's organisations (for handlers that link a record to one).
    organisations: Organisations | None = None
    # People this command records something about: the save is refused if one
    # of them has been erased (service/handlers/erasure.py: refuse_if_erased).
    unerased: set[UUID] = field(default_factory=set)
    # The contributions of a contract (the ContractRecords port, bound to the tenant).
    contributions_of: Callable[[UUID], list[UUID]] | None = None
    # The platform's rule sets (a contract pins one at registration).
    rule_sets: RuleSets | None = None
    # Per placement of a contract under a cap in hours, how it applies (the ContractRecords port).
    hours_caps_of: Callable[[UUID], dict[UUID, HoursCap]] | None = None

    def today(self) -> date:
        """The day a command means when it names none."""
        return self.clock.today()

    def get(self, kind_cls: type[A], ident: UUID) -> A:
        """An aggregate of this type visible to the actor, else NotFound."""
        agg = self.loaded.get(ident)
        if agg is None:
            try:
                agg = self.load(ident)
            except AggregateNotFoundError:
                raise NotFound(KIND[kind_cls], ident) from None
            self.loaded[ident] = agg
        if not isinstance(agg, kind_cls) or not visible(self.actor, agg, self._related):
            raise NotFound(KIND[kind_cls], ident)
        return agg

    def load(self, ident: UUID) -> Any:
        """Any aggregate by id, whoever may see it (for checks a handler makes
        on the actor's behalf); AggregateNotFoundError if there is none."""
        agg = self.app.repository.get(ident)
        if self.fresh:
            newer = self.app.events.get(originator_id=ident, gt=agg.version)
            agg = project_aggregate(agg, newer)
        return agg

    def _related(self, ident: UUID) -> Any:
        try:
            return self.loaded.get(ident) or self.load(ident)
        except AggregateNotFoundError:
            return None

    def load_fresh(self, ident: UUID) -> Any:
        """Like load, read fresh from the database whatever the unit's mode."""
        fresh, self.fresh = self.fresh, True
        try:
            return self.load(ident)
        finally:
            self.fresh = fresh

    def reference(self, kind_cls: type[A], ident: UUID | None, field_name: str) -> A:
        """Like get, for an id given in a request body: names the field.

        Always read fresh: a referenced aggregate that is not saved with the
        command has no version check to catch a stale cached copy (a contract
        closed by another process must refuse new placements here too)."""
        fresh, self.fresh = self.fresh, True
        try:
            return self.get(kind_cls, ident)  # type: ignore[arg-type]
        except NotFound:
            raise InvalidReference(field_name, f"no {KIND[kind_cls]} with id {ident}") from None
        finally:
            self.fresh = fresh


    def organisation(self, org_id: UUID, kind: str, field_name: str) -> Organisation:
        """The platform organisation an id in a request names, of this kind
        ('authority' or 'employer'); else InvalidReference naming the field."""
        found = self.organisations.find(org_id) if self.organisations is not None else None
        if found is None:
            raise InvalidReference(field_name, f"no organisation with id {org_id}")
        if found.kind != kind:
            raise InvalidReference(field_name, f"organisation {org_id} is {ORGANISATION_KIND[found.kind]},"
                                               f" not {ORGANISATION_KIND[kind]}")
        return found


    def rule_set(self, name: Any, version: Any) -> PinnedRuleSet:
        """The rule set version a request names (version None: the highest of
        the name), to pin; else UnknownRuleSet naming `rule_set` (no such name)
        or `rule_set_version` (no such version of it)."""
        name = require_text(name, "rule_set", max_len=60)
        if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
            raise UnknownRuleSet("rule_set_version must be a whole number of at least 1", "rule_set_version")
        found = self.rule_sets.find(name, version) if self.rule_sets is not None else None
        if found is not None:
            return found
        if version is not None and self.rule_sets is not None and self.rule_sets.find(name, None) is not None:
            raise UnknownRuleSet("rule set {name} has no version {version}", "rule_set_version",
                                 name=name, version=version)
        raise UnknownRuleSet("no rule set named {name}: see GET /api/v1/rule-sets", "rule_set", name=name)


Handler = Callable[[Unit, Any], Outcome]


@dataclass(frozen=True)
class Entry:
    handler: Handler
    # Which roles may issue the command. Ownership (an employer acting on its
    # own placements only, a person on their own) is checked by visibility.
    roles: frozenset[str]


class Handlers:
    """One feature's table: command type -> (handler, roles), filled by
    decorating each handler where it is defined:

        handles = Handlers()

        @handles(c.GiveFeedback, roles={"agency", "employer", "employee"})
        def give_feedback(u: Unit, cmd: c.GiveFeedback) -> Outcome: ...
    """

    def __init__(self) -> None:
        self.entries: dict[type, Entry] = {}

    def __call__(self, command: type, *, roles: Iterable[str]) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            if command in self.entries:
                raise ValueError(f"{command.__name__} is handled twice")
            self.entries[command] = Entry(handler, frozenset(roles))
            return handler
        return register


def compose(*tables: Handlers) -> dict[type, Entry]:
    """One table from the features' tables; a command handled twice is an error."""
    out: dict[type, Entry] = {}
    for table in tables:
        for command, entry in table.entries.items():
            if command in out:
                raise ValueError(f"{command.__name__} is handled by two features")
            out[command] = entry
    return out
