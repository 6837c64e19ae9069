"""Support that follows the person into the placement.

Ask The Person: what the candidate stated they need becomes, when the
placement starts, an onboarding checklist beside the standard items (tools
ready on day one, team informed, a named contact person, the first check-in
planned). Workplace adjustments and tools are requested, get a funder (UWV's
werkvoorzieningen, the employer or the agency) and are delivered or refused.
Check-ins and job-coach sessions are logged.

`PlacementSupport` is one aggregate per placement (id derived from it), apart
from `Placement`: the placement stays small to copy, and its history (which
the employer reads) holds no support notes. Every free text here (the
person's needs, item labels, adjustment descriptions, notes) is personal or
special-category data: each event names the candidate, and
infra/personal_data.py seals those fields under the candidate's key, so
erasing the person erases them. The aggregate's state keeps no text at all,
only what its rules need (ids, who acts, statuses, dates, counts): views read
texts from the history, which opens them (or reads them as erased).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.base import LedgerAggregate
from domain.errors import DomainError, InvalidValue, PlacementAlreadyEnded
from domain.ids import name_id
from domain.values import free_text, require_choice, require_date, require_decimal, require_id, require_text

SUPPORT_NAMESPACE = UUID("b3d0e8a4-52c1-4f7e-8a96-0d4c1e7f2a53")

# Standard onboarding items: (kind, who acts on it).
STANDARD_ITEMS = (
    ("tools_ready", "employer"),
    ("team_informed", "employer"),
    ("contact_person", "employer"),
    ("first_check_in", "agency"),
)
ITEM_KINDS = tuple(k for k, _ in STANDARD_ITEMS) + ("need", "custom")
RESPONSIBLE = ("employer", "agency")
ADJUSTMENT_KINDS = ("tool", "workplace", "interpreter", "working_hours", "other")
FUNDERS = ("uwv", "employer", "agency")
REFUSAL_REASONS = ("not_needed", "not_funded", "not_feasible", "withdrawn")
CHECK_IN_WITH = ("employee", "employer", "employee_and_employer", "team")
LABEL_MAX_LEN = 500
NOTE_MAX_LEN = 2000
MAX_NEED_ITEMS = 20
COACHING_MAX_HOURS = Decimal(12)


class UnknownChecklistItem(DomainError):
    default_field = "item_id"


class ChecklistItemAlreadyDone(DomainError):
    is_state_conflict = True


class UnknownAdjustment(DomainError):
    default_field = "adjustment_id"


class AdjustmentAlreadyDecided(DomainError):
    """Delivered or refused is final."""

    is_state_conflict = True


class AdjustmentWithoutFunder(DomainError):
    is_state_conflict = True
    default_field = "funder"


def needs_as_items(stated_needs: str) -> list[str]:
    """The person's statement, one item per line (bullets stripped)."""
    lines = [line.strip().lstrip("-*•").strip() for line in (stated_needs or "").splitlines()]
    lines = [line[:LABEL_MAX_LEN] for line in lines if line]
    if len(lines) > MAX_NEED_ITEMS:  # a long text stays one item rather than being cut off
        return [stated_needs.strip()[:LABEL_MAX_LEN]]
    return lines


def _not_future(day: date, today: date | None, field: str) -> date:
    if day > (today or date.today()):
        raise InvalidValue("{name} must not be in the future", field, name=field)
    return day


def _within_placement(day: date, starts_on: date, ended_on: date | None, field: str) -> date:
    if day < starts_on:
        raise InvalidValue("{name} must not be before the placement starts ({day})", field, name=field, day=starts_on)
    if ended_on is not None and day > ended_on:
        raise InvalidValue("{name} must not be after the placement ended ({day})", field, name=field, day=ended_on)
    return day


class PlacementSupport(LedgerAggregate):
    """The onboarding checklist, adjustments, check-ins and coaching of one placement."""

    @staticmethod
    def create_id(placement_id: UUID, **_: Any) -> UUID:
        return PlacementSupport.id_for(placement_id)

    @staticmethod
    def id_for(placement_id: UUID) -> UUID:
        return name_id(SUPPORT_NAMESPACE, "support|" + str(placement_id))

    @classmethod
    def open(cls, placement_id: UUID, candidate_id: UUID, employer_id: UUID, stated_needs: str,
             opened_on: date) -> PlacementSupport:
        items = [{"id": kind, "kind": kind, "responsible": who} for kind, who in STANDARD_ITEMS]
        labels: dict[str, str] = {}
        for n, text in enumerate(needs_as_items(free_text(stated_needs, "support_needs")), start=1):
            items.append({"id": "need-" + str(n), "kind": "need", "responsible": "agency"})
            labels["need-" + str(n)] = text
        return cls(placement_id=require_id(placement_id, "placement_id"),
                   candidate_id=require_id(candidate_id, "candidate_id"),
                   employer_id=require_id(employer_id, "employer_id"),
                   opened_on=require_date(opened_on, "opened_on"), items=items, labels=labels)

    @event("SupportOpened")
    def __init__(self, placement_id: UUID, candidate_id: UUID, employer_id: UUID, opened_on: date,
                 items: list[dict[str, Any]], labels: dict[str, str]) -> None:
        # `labels` (sealed) are not kept: see the module docstring.
        self.placement_id = placement_id
        self.candidate_id = candidate_id
        self.employer_id = employer_id
        self.opened_on = opened_on
        self.items: list[dict[str, Any]] = [{**i, "done_on": None, "done_by": None} for i in items]
        self.adjustments: dict[str, dict[str, Any]] = {}
        self.check_ins = 0
        self.last_check_in_on: date | None = None
        self.coaching_sessions = 0

    # -- checklist --------------------------------------------------------------------
    def item(self, item_id: str) -> dict[str, Any]:
        for item in self.items:
            if item["id"] == item_id:
                return item
        raise UnknownChecklistItem("the checklist has no item {item}", item=item_id)

    def add_item(self, label: str, responsible: str, placement_ended_on: date | None) -> str:
        if placement_ended_on is not None:
            raise PlacementAlreadyEnded("the placement ended on {day}", day=placement_ended_on)
        item_id = "item-" + str(len(self.items) + 1)
        self._item_added(placement_id=self.placement_id, candidate_id=self.candidate_id, item_id=item_id,
                         responsible=require_choice(responsible, RESPONSIBLE, InvalidValue, "responsible"),
                         label=require_text(label, "label", max_len=LABEL_MAX_LEN))
        return item_id

    @event("ChecklistItemAdded")
    def _item_added(self, placement_id: UUID, candidate_id: UUID, item_id: str, responsible: str, label: str) -> None:
        self.items = [*self.items, {"id": item_id, "kind": "custom", "responsible": responsible,
                                    "done_on": None, "done_by": None}]

    def tick(self, item_id: str, done_on: date, done_by: str, placement_ended_on: date | None,
             today: date | None = None) -> None:
        """Onboarding is done while the placement runs: ticking after its end is refused."""
        item = self.item(item_id)
        if placement_ended_on is not None:
            raise PlacementAlreadyEnded("the placement ended on {day}", day=placement_ended_on)
        if item["done_on"] is not None:
            raise ChecklistItemAlreadyDone("this item was already done on {day}", day=item["done_on"])
        day = _not_future(require_date(done_on, "done_on"), today, "done_on")
        # Things are made ready before day one: only the placement's existence bounds it.
        self._item_done(placement_id=self.placement_id, item_id=item_id, done_on=day, done_by=done_by)

    @event("ChecklistItemDone")
    def _item_done(self, placement_id: UUID, item_id: str, done_on: date, done_by: str) -> None:
        self.items = [{**i, "done_on": done_on, "done_by": done_by} if i["id"] == item_id else i
                      for i in self.items]

    # -- adjustments and tools ------------------------------------------------------------
    def adjustment(self, adjustment_id: str) -> dict[str, Any]:
        found = self.adjustments.get(adjustment_id)
        if found is None:
            raise UnknownAdjustment("no adjustment {item} on this placement", item=adjustment_id)
        return found

    def request_adjustment(self, kind: str, description: str, requested_on: date, funder: str | None,
                           placement_ended_on: date | None, today: date | None = None) -> str:
        if placement_ended_on is not None:
            raise PlacementAlreadyEnded("the placement ended on {day}", day=placement_ended_on)
        adjustment_id = "adj-" + str(len(self.adjustments) + 1)
        self._adjustment_requested(
            placement_id=self.placement_id, candidate_id=self.candidate_id, adjustment_id=adjustment_id,
            kind=require_choice(kind, ADJUSTMENT_KINDS, InvalidValue, "kind"),
            description=require_text(description, "description", max_len=LABEL_MAX_LEN),
            requested_on=_not_future(require_date(requested_on, "requested_on"), today, "requested_on"),
            funder=None if funder is None else require_choice(funder, FUNDERS, InvalidValue, "funder"))
        return adjustment_id

    @event("AdjustmentRequested")
    def _adjustment_requested(self, placement_id: UUID, candidate_id: UUID, adjustment_id: str, kind: str, description: str,
                              requested_on: date, funder: str | None) -> None:
        self.adjustments = {**self.adjustments, adjustment_id: {
            "kind": kind, "requested_on": requested_on, "funder": funder, "status": "requested",
            "decided_on": None}}

    def _open_adjustment(self, adjustment_id: str) -> dict[str, Any]:
        found = self.adjustment(adjustment_id)
        if found["status"] != "requested":
            raise AdjustmentAlreadyDecided("this adjustment was already delivered or refused on {day}",
                                           day=found["decided_on"])
        return found

    def set_funder(self, adjustment_id: str, funder: str) -> None:
        found = self._open_adjustment(adjustment_id)
        funder = require_choice(funder, FUNDERS, InvalidValue, "funder")
        if found["funder"] != funder:
            self._funder_set(placement_id=self.placement_id, adjustment_id=adjustment_id, funder=funder)

    @event("AdjustmentFunderSet")
    def _funder_set(self, placement_id: UUID, adjustment_id: str, funder: str) -> None:
        self._replace_adjustment(adjustment_id, funder=funder)

    def deliver(self, adjustment_id: str, delivered_on: date, today: date | None = None) -> None:
        found = self._open_adjustment(adjustment_id)
        if found["funder"] is None:
            raise AdjustmentWithoutFunder("name who funds it (UWV, employer or agency) before delivery")
        day = _not_future(require_date(delivered_on, "delivered_on"), today, "delivered_on")
        if day < found["requested_on"]:
            raise InvalidValue("{name} must not be before it was requested ({day})", "delivered_on",
                               name="delivered_on", day=found["requested_on"])
        self._delivered(placement_id=self.placement_id, adjustment_id=adjustment_id, delivered_on=day)

    @event("AdjustmentDelivered")
    def _delivered(self, placement_id: UUID, adjustment_id: str, delivered_on: date) -> None:
        self._replace_adjustment(adjustment_id, status="delivered", decided_on=delivered_on)

    def refuse(self, adjustment_id: str, reason: str, refused_on: date, today: date | None = None) -> None:
        """No free-text reason: it would invite health details."""
        found = self._open_adjustment(adjustment_id)
        day = _not_future(require_date(refused_on, "refused_on"), today, "refused_on")
        if day < found["requested_on"]:
            raise InvalidValue("{name} must not be before it was requested ({day})", "refused_on",
                               name="refused_on", day=found["requested_on"])
        self._refused(placement_id=self.placement_id, adjustment_id=adjustment_id, reason=require_choice(
            reason, REFUSAL_REASONS, InvalidValue, "reason"), refused_on=day)

    @event("AdjustmentRefused")
    def _refused(self, placement_id: UUID, adjustment_id: str, reason: str, refused_on: date) -> None:
        self._replace_adjustment(adjustment_id, status="refused", decided_on=refused_on)

    def _replace_adjustment(self, adjustment_id: str, **changes: Any) -> None:
        self.adjustments = {**self.adjustments,
                            adjustment_id: {**self.adjustments[adjustment_id], **changes}}

    # -- check-ins and job coaching ------------------------------------------------------
    def log_check_in(self, held_on: date, with_whom: str, note: str, placement_starts_on: date,
                     placement_ended_on: date | None, today: date | None = None) -> str:
        """Allowed after the end too, for a check-in held while it ran."""
        day = _within_placement(_not_future(require_date(held_on, "held_on"), today, "held_on"),
                                placement_starts_on, placement_ended_on, "held_on")
        check_in_id = "check-in-" + str(self.check_ins + 1)
        self._check_in_logged(placement_id=self.placement_id, candidate_id=self.candidate_id, check_in_id=check_in_id, held_on=day,
                              with_whom=require_choice(with_whom, CHECK_IN_WITH, InvalidValue, "with_whom"),
                              note=free_text(note, "note", NOTE_MAX_LEN))
        return check_in_id

    @event("CheckInLogged")
    def _check_in_logged(self, placement_id: UUID, candidate_id: UUID, check_in_id: str, held_on: date, with_whom: str,
                         note: str) -> None:
        self.check_ins += 1
        if self.last_check_in_on is None or held_on > self.last_check_in_on:
            self.last_check_in_on = held_on

    def log_coaching(self, held_on: date, hours: Decimal, with_whom: str, note: str, placement_starts_on: date,
                     placement_ended_on: date | None, today: date | None = None) -> str:
        day = _within_placement(_not_future(require_date(held_on, "held_on"), today, "held_on"),
                                placement_starts_on, placement_ended_on, "held_on")
        duration = require_decimal(hours, "hours")
        if not Decimal("0.25") <= duration <= COACHING_MAX_HOURS:
            raise InvalidValue("hours must be between 0.25 and 12", "hours")
        session_id = "coaching-" + str(self.coaching_sessions + 1)
        self._coaching_logged(placement_id=self.placement_id, candidate_id=self.candidate_id, session_id=session_id, held_on=day, hours=duration,
                              with_whom=require_choice(with_whom, CHECK_IN_WITH, InvalidValue, "with_whom"),
                              note=free_text(note, "note", NOTE_MAX_LEN))
        return session_id

    @event("CoachingSessionLogged")
    def _coaching_logged(self, placement_id: UUID, candidate_id: UUID, session_id: str, held_on: date, hours: Decimal,
                         with_whom: str, note: str) -> None:
        self.coaching_sessions += 1
