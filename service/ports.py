"""What the service needs from outside, as protocols: the composition root
(infra/bootstrap.py) passes the implementations in, so the service imports no
adapter (infra.registry) and tests can hand it their own (a clock they move).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from datetime import date, datetime, timezone
from typing import Any, Protocol
from uuid import UUID

from domain.valuation import HoursCap, PinnedRuleSet
from infra.eventstore import Tenant


class Accounts(Protocol):
    """The platform's user accounts of a tenant."""

    def agency_user_ids(self, tenant_id: UUID) -> frozenset[UUID]:
        """The ids of the tenant's agency users (who may look after a placement)."""
        ...

    def close_accounts_of(self, tenant_id: UUID, candidate_id: UUID) -> int:
        """Close an erased person's accounts (idempotent); how many were closed."""
        ...


class Organisation(Protocol):
    """A platform organisation as the service sees it."""

    id: UUID
    kind: str  # 'authority' or 'employer'
    name: str


class Organisations(Protocol):
    """The platform's organisations (contracting authorities, employers), which
    an agency links its contracts and employer records to."""

    def find(self, org_id: UUID) -> Organisation | None:
        """The organisation with this id, or None."""
        ...


class RuleSets(Protocol):
    """The platform's rule sets (versioned, immutable): a contract pins one at
    registration, by name and version."""

    def find(self, name: str, version: int | None) -> PinnedRuleSet | None:
        """That version of the rule set named (None: its highest), or None."""
        ...


class ProcessesLost(Exception):
    """The processes of a BatchProcesses stopped (one died, or they could not
    start): a task without a result may or may not have done its work."""


# What BatchProcesses.open() gives: `run(fn, tasks)` runs `fn(ledger, task)`
# for every task elsewhere and yields (the task's index, its result).
SideBySide = Callable[[Callable[[Any, Any], Any], Iterable[Any]], Iterator[tuple[int, Any]]]


class BatchProcesses(Protocol):
    """Other processes of this machine that run a large spreadsheet import's
    batches side by side, each with a ledger of its own (the same databases,
    keys and settings); infra/bootstrap.py `ImportProcesses`."""

    def open(self) -> AbstractContextManager[SideBySide]:
        """For one import: a function that runs `fn(ledger, task)` for every
        task, each in one of the processes, and yields (the task's index,
        its result) as each finishes. Tasks are taken from `tasks` as the
        processes can start them (the caller's generator decides the next
        batch while the first are stored), each sent as it is taken; `fn`
        and the tasks travel by pickle (a
        module-level function, plain data). The processes start as the
        context opens and stop when the import leaves it. ProcessesLost
        from the function: the processes are gone."""
        ...


class ImportedFiles(Protocol):
    """The spreadsheet imports' files and previews (sealed, in the platform's
    database), which may name a person."""

    def forget_person(self, tenant: Tenant, candidate_id: UUID) -> int:
        """Delete the kept files and previews of every import that stored a
        row about this person (idempotent); how many imports lost them."""
        ...


class Clock(Protocol):
    """What time it is: `recorded_at` in each event's metadata, and the day a
    handler takes when a command names none."""

    def now(self) -> datetime:
        """An aware UTC moment."""
        ...

    def today(self) -> date:
        ...


class SystemClock:
    """The machine's clock (today in the machine's zone, as date.today())."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def today(self) -> date:
        return date.today()


class ContractRecords(Protocol):
    """What the ledger's events hold about a contract but no aggregate lists:
    its contributions (purchases, activities, placements), for statements."""

    def contribution_ids(self, tenant: Tenant, contract_id: UUID) -> list[UUID]:
        """Every contribution reported to the contract, as of now."""
        ...

    def hours_caps(self, tenant: Tenant, contract_id: UUID) -> dict[UUID, HoursCap]:
        """Per placement of the contract under a cap in hours, how the candidate's
        cap applies to it (worked out over all the candidate's placements)."""
        ...
