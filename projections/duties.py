"""Duties read model: the legal employer's duties per placement, their status
on a given day, and the reminders recorded for them.

Rows: one per placement (dates and hours, for the job coach flag), one per
duty (from the placement's start and planned end, and the Wet verbetering
poortwachter duties of each sickness; ids and due dates from
`domain.duties`), one per sickness, one per reminder, and one per person
with the agency's placements of them (the wage-cost benefit's 6-month
rule: no declaration for a placement starting less than 6 months after an
earlier one ended, or while one runs). A duty's status on a
day is worked out in the query:

- `done`: marked done on or before the day;
- `closed`: no longer needed (recovered, or the placement ended, before its
  due date) on or before the day;
- `overdue`: its due date is before the day;
- `due`: otherwise (its due date is the day or later).

Recovery closes the sickness's open duties due after the recovery day;
those due on or before it stay as they were (done, or overdue: missed). An
ending closes the placement's open duties due after the end. The no-risk
report stays open through both (STAYS_OPEN). Erasing the person removes
the duties that followed from their judged schemes (SCHEME_KINDS), as a
rebuild, reading the schemes as erased, never has them. An ending while the last
sickness is open raises "sick out of service", due on the last day; a
recovery on or before that day, reported later, closes it. Sickness duties
show from their first sick day on.

Reminders are recorded by the reminders process manager (service/
reminders.py), which reads `coming_due` and `unmailed` here through the port
the composition root gives it; this module only projects and answers queries.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.duties import (
    KIND_LABELS,
    RETIRED_KINDS,
    Schemes,
    duty_id,
    employed_before,
    job_coach,
    placement_deadlines,
    poortwachter_deadlines,
    sick_out_of_service,
)
from projections.base import RM, Event, Projection, Table
from projections.reader import live_gen_sql
from projections.writer import Batch

NAME = "duties"
LIST_LIMIT = 500
STATUSES = ("due", "overdue", "done", "closed")
# Duties neither a recovery nor an ending closes: a covered worker's sickness
# is reported to UWV also when they recovered (or left) within the 6 weeks,
# since UWV pays the sickness benefit on that report.
STAYS_OPEN = frozenset({"no_risk_report"})
# Duties that follow from the schemes judged from the person's target group.
SCHEME_KINDS = frozenset({"target_group_declaration", "no_risk_report"})


class DutiesProjection(Projection):
    name = NAME
    # 2: the placement's responsible user, and whom each reminder is addressed to;
    # 3: the declaration only for the LKV groups, the no-risk report, weeks 91/93.
    # 4: sick out of service when the placement (the employment) ends during sickness.
    # 5: employments: the sickness duties, the declaration and sick out of
    #    service follow the employment, not each secondment.
    # 6: fixed-term to permanent (EmploymentMadePermanent): the kind, no planned end.
    version = 6
    # The schemes judged at a placement's start (sealed: they tell the target group).
    personal_fields = frozenset({"lkv_scheme", "no_risk_scheme", "no_risk_until"})
    tables = (
        Table("du_placements", ("placement_id",), {
            "placement_id": "uuid", "candidate_id": "uuid", "employer_id": "uuid", "starts_on": "date",
            "planned_end_on": "date", "ended_on": "date", "hours": "numeric", "hours_effective_on": "date",
            "responsible_user_id": "uuid", "no_risk": "text", "no_risk_until": "date",
            "sick_since": "date", "sick_until": "date",  # the last sickness: first sick day, recovery
            "schemes_judged": "boolean",  # PlacementDutiesOpened carried the judged schemes
            # The employment the sickness duties follow: an explicit one, or the placement itself.
            "employment_id": "uuid",
        }, indexes=(("candidate_id",), ("employment_id",))),
        # Explicit employments (domain/employment.py), with the same columns for
        # the duties they own as a placement that is its own employment;
        # `responsible_user_id`: of its latest secondment (reminders go to them).
        Table("du_employments", ("employment_id",), {
            "employment_id": "uuid", "candidate_id": "uuid", "kind": "text", "starts_on": "date",
            "planned_end_on": "date", "ended_on": "date", "end_reason": "text", "responsible_user_id": "uuid",
            "no_risk": "text", "no_risk_until": "date", "sick_since": "date", "sick_until": "date",
            "schemes_judged": "boolean",
        }, indexes=(("candidate_id",),)),
        # Per person, the agency's employments of them (employment or placement id
        # -> [starts_on, ended_on or None]): whether it employed them in the 6
        # months before a start.
        Table("du_candidates", ("candidate_id",), {"candidate_id": "uuid", "employments": "jsonb"}),
        Table("du_duties", ("duty_id",), {
            "duty_id": "uuid", "placement_id": "uuid", "kind": "text", "due_on": "date",
            "sickness_starts_on": "date", "done_on": "date", "closed_on": "date", "closed_reason": "text",
        }, indexes=(("placement_id",), ("due_on",))),
        Table("du_sickness", ("placement_id", "first_sick_day"), {
            "placement_id": "uuid", "first_sick_day": "date", "recovered_on": "date", "counted_from": "date",
        }),
        Table("du_reminders", ("reminder_id",), {
            "reminder_id": "uuid", "duty_id": "uuid", "placement_id": "uuid", "kind": "text", "due_on": "date",
            "reminded_on": "date", "mailed_on": "date", "addressed_to": "uuid",
        }, indexes=(("duty_id",), ("reminded_on",))),
    )

    @staticmethod
    def _duty(b: Batch, placement_id: UUID, kind: str, due_on: date, first_sick_day: date | None,
              ident: UUID) -> None:
        b.put("du_duties", {"duty_id": ident, "placement_id": placement_id, "kind": kind, "due_on": due_on,
                            "sickness_starts_on": first_sick_day, "done_on": None, "closed_on": None,
                            "closed_reason": None})

    @staticmethod
    def _close(b: Batch, placement_id: UUID, after: date, on: date, reason: str,
               sickness_starts_on: date | None = None) -> None:
        for row in b.select("du_duties", "placement_id", placement_id):
            if sickness_starts_on is not None and row["sickness_starts_on"] != sickness_starts_on:
                continue
            if row["kind"] in STAYS_OPEN:
                continue
            if row["done_on"] is None and row["closed_on"] is None and row["due_on"] > after:
                row["closed_on"], row["closed_reason"] = on, reason
                b.put("du_duties", row)

    @staticmethod
    def _owner(b: Batch, ident: UUID) -> tuple[str, dict[str, Any]] | None:
        """The row of whoever the sickness duties belong to (the id on the
        duties record's events): an explicit employment, or a placement that
        is its own employment."""
        # Placements first: most are their own employment, and their row is
        # cached by then (a miss is a query).
        row = b.get("du_placements", ident)
        if row is not None:
            return "du_placements", row
        row = b.get("du_employments", ident)
        return ("du_employments", row) if row is not None else None

    @staticmethod
    def _employed(b: Batch, candidate_id: UUID, ident: UUID, starts_on: date) -> bool:
        """Records the employment's start for the person, and answers whether
        the agency employed them in the 6 months before it (no wage-cost
        benefit then)."""
        person = b.get("du_candidates", candidate_id) or {"candidate_id": candidate_id, "employments": {}}
        earlier = [(date.fromisoformat(start), date.fromisoformat(ended) if ended else None)
                   for key, (start, ended) in person["employments"].items() if key != str(ident)]
        person["employments"] = {**person["employments"], str(ident): [starts_on.isoformat(), None]}
        b.put("du_candidates", person)
        return employed_before(starts_on, earlier)

    @staticmethod
    def _employment_ended(b: Batch, candidate_id: UUID, ident: UUID, ended_on: date) -> None:
        person = b.get("du_candidates", candidate_id)
        if person is not None and str(ident) in person["employments"]:
            start = person["employments"][str(ident)][0]
            person["employments"] = {**person["employments"], str(ident): [start, ended_on.isoformat()]}
            b.put("du_candidates", person)

    # -- placements -------------------------------------------------------------
    def on_PlacementStarted(self, b: Batch, e: Event) -> None:
        d, pid = e.data, e.originator_id
        employment = d.get("employment_id")  # None: the placement is its own employment
        b.put("du_placements", {
            "placement_id": pid, "candidate_id": d["candidate_id"], "employer_id": d["employer_id"],
            "starts_on": d["starts_on"], "planned_end_on": d.get("planned_end_on"), "ended_on": None,
            "hours": d["hours_per_week"], "hours_effective_on": d["starts_on"],
            "responsible_user_id": d.get("responsible_user_id"), "no_risk": None, "no_risk_until": None,
            "sick_since": None, "sick_until": None, "schemes_judged": False, "employment_id": employment or pid})
        if employment is not None:
            # A secondment: its planned end is its own; the rest is the employment's,
            # whose reminders now go to whoever looks after this latest secondment.
            row = b.get("du_employments", employment)
            if row is not None:
                row["responsible_user_id"] = d.get("responsible_user_id")
                b.put("du_employments", row)
            for duty in placement_deadlines(d["starts_on"], d.get("planned_end_on"), lkv=False):
                self._duty(b, pid, duty.kind, duty.due_on, None, duty_id(pid, duty))
            return
        # The wage-cost benefit is not for someone the agency employed in the
        # 6 months before: judged on its earlier employments of the person.
        lkv = not self._employed(b, d["candidate_id"], pid, d["starts_on"])
        for duty in placement_deadlines(d["starts_on"], d.get("planned_end_on"), lkv=lkv):
            self._duty(b, pid, duty.kind, duty.due_on, None, duty_id(pid, duty))

    # -- employments ------------------------------------------------------------
    def on_EmploymentStarted(self, b: Batch, e: Event) -> None:
        """The declaration is requested once, within 3 months of the start of
        employment; the employment's planned end is no duty (its secondments' are)."""
        d, eid = e.data, e.originator_id
        b.put("du_employments", {
            "employment_id": eid, "candidate_id": d["candidate_id"], "kind": d["kind"], "starts_on": d["starts_on"],
            "planned_end_on": d.get("ends_on"), "ended_on": None, "end_reason": None, "responsible_user_id": None,
            "no_risk": None, "no_risk_until": None, "sick_since": None, "sick_until": None,
            "schemes_judged": False})
        lkv = not self._employed(b, d["candidate_id"], eid, d["starts_on"])
        for duty in placement_deadlines(d["starts_on"], None, lkv=lkv):
            self._duty(b, eid, duty.kind, duty.due_on, None, duty_id(eid, duty))

    def on_EmploymentMadePermanent(self, b: Batch, e: Event) -> None:
        row = b.get("du_employments", e.originator_id)
        if row is not None:
            row["kind"], row["planned_end_on"] = "permanent", None
            b.put("du_employments", row)

    def on_EmploymentEnded(self, b: Batch, e: Event) -> None:
        row = b.get("du_employments", e.originator_id)
        if row is None:
            return
        row["ended_on"], row["end_reason"] = e.data["on"], e.data["reason"]
        b.put("du_employments", row)
        self._employment_ended(b, row["candidate_id"], e.originator_id, row["ended_on"])
        self._close(b, e.originator_id, after=row["ended_on"], on=row["ended_on"], reason="employment ended")
        self._sick_out_of_service(b, e.originator_id, row)

    def on_PlacementDutiesOpened(self, b: Batch, e: Event) -> None:
        """With the schemes judged at the start (stored in the same save as
        PlacementStarted): no declaration outside the LKV groups; the no-risk
        coverage for the sickness reports. Opened without them (a placement
        from before): the declaration stays listed, no no-risk report."""
        d, pid = e.data, e.data["placement_id"]  # the employment's id (a placement's, when implicit)
        owner = self._owner(b, pid)
        if owner is None or d.get("judged_on") is None:
            return
        table, row = owner
        row["no_risk"], row["no_risk_until"] = d.get("no_risk_scheme"), d.get("no_risk_until")
        row["schemes_judged"] = True
        b.put(table, row)
        if d.get("lkv_scheme") is None:
            for duty in placement_deadlines(row["starts_on"], None):
                existing = b.get("du_duties", duty_id(pid, duty))
                if existing is not None and existing["done_on"] is None:
                    b.delete("du_duties", existing["duty_id"])

    def on_CandidateErased(self, b: Batch, e: Event) -> None:
        """The read model keeps no coverage of an erased person (it tells their
        group), nor the duties that followed from it: a rebuild reads the
        judged schemes as erased from the start, so it has neither."""
        for table, key in (("du_placements", "placement_id"), ("du_employments", "employment_id")):
            for row in b.select(table, "candidate_id", e.originator_id):
                if not row["schemes_judged"]:
                    continue
                row["no_risk"], row["no_risk_until"] = None, None
                b.put(table, row)
                for duty in b.select("du_duties", "placement_id", row[key]):
                    if duty["kind"] in SCHEME_KINDS:
                        b.delete("du_duties", duty["duty_id"])

    def on_PlacementResponsibleAssigned(self, b: Batch, e: Event) -> None:
        row = b.get("du_placements", e.originator_id)
        if row is not None:
            row["responsible_user_id"] = e.data["user_id"]
            b.put("du_placements", row)
            own = row["employment_id"] in (None, e.originator_id)
            employment = None if own else b.get("du_employments", row["employment_id"])
            if employment is not None:  # its sickness duties are reminded to the same person
                employment["responsible_user_id"] = e.data["user_id"]
                b.put("du_employments", employment)

    def on_HoursChanged(self, b: Batch, e: Event) -> None:
        row = b.get("du_placements", e.originator_id)
        if row is not None and e.data["effective_on"] >= row["hours_effective_on"]:
            row["hours"], row["hours_effective_on"] = e.data["hours_per_week"], e.data["effective_on"]
            b.put("du_placements", row)

    def on_PlacementExtended(self, b: Batch, e: Event) -> None:
        pid = e.originator_id
        row = b.get("du_placements", pid)
        if row is None:
            return
        old = [d for d in placement_deadlines(row["starts_on"], row["planned_end_on"]) if d.kind == "planned_end"]
        for duty in old:  # the old planned end is no duty any more, unless it was done
            existing = b.get("du_duties", duty_id(pid, duty))
            if existing is not None and existing["done_on"] is None:
                b.delete("du_duties", existing["duty_id"])
        row["planned_end_on"] = e.data["until"]
        b.put("du_placements", row)
        for duty in placement_deadlines(row["starts_on"], row["planned_end_on"]):
            if duty.kind == "planned_end":
                self._duty(b, pid, duty.kind, duty.due_on, None, duty_id(pid, duty))

    def on_PlacementEnded(self, b: Batch, e: Event) -> None:
        row = b.get("du_placements", e.originator_id)
        if row is None:
            return
        row["ended_on"] = e.data["ends_on"]
        b.put("du_placements", row)
        # A secondment ending while its employment runs closes only its own duties
        # (its planned end): the employment's sickness duties keep running.
        self._close(b, e.originator_id, after=row["ended_on"], on=row["ended_on"], reason="placement ended")
        if row["employment_id"] in (None, e.originator_id):  # its own employment: that ends too
            self._employment_ended(b, row["candidate_id"], e.originator_id, row["ended_on"])
            self._sick_out_of_service(b, e.originator_id, row)

    def _sick_out_of_service(self, b: Batch, owner: UUID, row: dict[str, Any]) -> None:
        """The employment ended while sick (the last sickness open on the last
        day: only the last can be, as none starts after the end): reported on that day."""
        end, since, until = row["ended_on"], row["sick_since"], row["sick_until"]
        if end is None or since is None or since > end or (until is not None and until <= end):
            return
        duty = sick_out_of_service(owner, end, since)
        if b.get("du_duties", duty.id) is None:
            self._duty(b, duty.placement_id, duty.kind, duty.due_on, since, duty.id)

    # -- sickness and duties done ---------------------------------------------------
    def on_SicknessReported(self, b: Batch, e: Event) -> None:
        pid, first = e.data["placement_id"], e.data["first_sick_day"]
        counted = e.data.get("counted_from") or first  # later than first: continues the last spell's timeline
        b.put("du_sickness", {"placement_id": pid, "first_sick_day": first, "recovered_on": None,
                              "counted_from": counted})
        owner = self._owner(b, pid)
        covered = owner is not None and Schemes(no_risk=owner[1]["no_risk"],
                                                no_risk_until=owner[1]["no_risk_until"]).no_risk_covers(first)
        for duty in poortwachter_deadlines(first, counted, no_risk=covered):
            self._duty(b, pid, duty.kind, duty.due_on, first, duty_id(pid, duty, first))
        if owner is not None:
            table, row = owner
            row["sick_since"], row["sick_until"] = first, None
            b.put(table, row)
            if row["ended_on"] is not None:  # reported after the end: sick on the last day
                end = row["ended_on"]
                reason = "employment ended" if table == "du_employments" else "placement ended"
                self._close(b, pid, after=end, on=end, reason=reason, sickness_starts_on=first)
                self._sick_out_of_service(b, pid, row)

    def on_Recovered(self, b: Batch, e: Event) -> None:
        pid, first, on = e.data["placement_id"], e.data["first_sick_day"], e.data["recovered_on"]
        row = b.get("du_sickness", pid, first)
        b.put("du_sickness", {"placement_id": pid, "first_sick_day": first, "recovered_on": on,
                              "counted_from": row["counted_from"] if row else first})
        self._close(b, pid, after=on, on=on, reason="recovered", sickness_starts_on=first)
        owner = self._owner(b, pid)
        if owner is not None and owner[1]["sick_since"] == first:
            table, row = owner
            row["sick_until"] = on
            b.put(table, row)
            end = row["ended_on"]
            if end is not None and on <= end:  # at work again on the last day: not sick out of service
                duty = b.get("du_duties", sick_out_of_service(pid, end, first).id)
                if duty is not None and duty["done_on"] is None and duty["closed_on"] is None:
                    duty["closed_on"], duty["closed_reason"] = on, "recovered"
                    b.put("du_duties", duty)

    def on_DutyCompleted(self, b: Batch, e: Event) -> None:
        d = e.data
        row = b.get("du_duties", d["duty_id"])
        if row is not None:
            row["done_on"] = d["done_on"]
            b.put("du_duties", row)
        elif d["kind"] in RETIRED_KINDS and self._owner(b, d["placement_id"]) is not None:
            # A duty that is no duty any more (the no-risk policy request): one
            # done before stays listed as done; an open one is not listed.
            self._duty(b, d["placement_id"], d["kind"], d["due_on"], None, d["duty_id"])
            row = b.get("du_duties", d["duty_id"])
            row["done_on"] = d["done_on"]
            b.put("du_duties", row)

    # -- reminders ----------------------------------------------------------------
    def on_ReminderRecorded(self, b: Batch, e: Event) -> None:
        d = e.data
        b.put("du_reminders", {"reminder_id": e.originator_id, "duty_id": d["duty_id"],
                               "placement_id": d["placement_id"], "kind": d["kind"], "due_on": d["due_on"],
                               "reminded_on": d["reminded_on"], "mailed_on": None,
                               "addressed_to": d.get("addressed_to")})

    def on_ReminderMailed(self, b: Batch, e: Event) -> None:
        row = b.get("du_reminders", e.originator_id)
        if row is not None:
            row["mailed_on"] = e.data["on"]
            b.put("du_reminders", row)


# ---------------------------------------------------------------------------
# Queries (asyncpg for the web; psycopg for the reminders process manager)

LIVE = f"({live_gen_sql(NAME)})"

STATUS_SQL = """CASE WHEN d.done_on IS NOT NULL AND d.done_on <= $2 THEN 'done'
     WHEN d.closed_on IS NOT NULL AND d.closed_on <= $2 THEN 'closed'
     WHEN d.due_on < $2 THEN 'overdue' ELSE 'due' END"""

# A duty belongs to a placement (its own employment, or a secondment's planned
# end) or to an explicit employment (`em`): `owner` says which.
OWNERS_SQL = f"""
  LEFT JOIN {RM}.du_placements p ON p.tenant_id = d.tenant_id AND p.gen = d.gen AND p.placement_id = d.placement_id
  LEFT JOIN {RM}.du_employments em ON em.tenant_id = d.tenant_id AND em.gen = d.gen
                                  AND em.employment_id = d.placement_id"""

DUTIES_SQL = f"""
SELECT * FROM (
  SELECT d.duty_id, d.placement_id, COALESCE(p.candidate_id, em.candidate_id) AS candidate_id, p.employer_id,
         CASE WHEN em.employment_id IS NULL THEN 'placement' ELSE 'employment' END AS owner,
         d.kind, d.due_on, d.sickness_starts_on, d.done_on, d.closed_on, d.closed_reason, {STATUS_SQL} AS status
  FROM {RM}.du_duties d {OWNERS_SQL}
  WHERE d.tenant_id = $1 AND d.gen = {LIVE} AND (p.placement_id IS NOT NULL OR em.employment_id IS NOT NULL)
    AND (d.sickness_starts_on IS NULL OR d.sickness_starts_on <= $2)
    AND ($3::uuid[] IS NULL OR d.placement_id = ANY($3::uuid[]))
    AND ($5::date IS NULL OR d.due_on <= $5)
    AND ($6::text IS NULL OR d.kind = $6)
) x
WHERE x.status = ANY($4::text[])
ORDER BY x.due_on, x.kind, x.duty_id
LIMIT {LIST_LIMIT}
"""

PLACEMENT_SQL = f"""
SELECT placement_id, candidate_id, employer_id, starts_on, planned_end_on, ended_on, hours, employment_id
FROM {RM}.du_placements WHERE tenant_id = $1 AND gen = {LIVE} AND placement_id = $2
"""

EMPLOYMENT_SQL = f"""
SELECT employment_id, candidate_id, kind, starts_on, planned_end_on, ended_on, end_reason,
       ARRAY(SELECT p.placement_id FROM {RM}.du_placements p WHERE p.tenant_id = em.tenant_id AND p.gen = em.gen
             AND p.employment_id = em.employment_id ORDER BY p.starts_on, p.placement_id) AS secondments
FROM {RM}.du_employments em WHERE tenant_id = $1 AND gen = {LIVE} AND {{where}}
ORDER BY starts_on DESC, employment_id
LIMIT {LIST_LIMIT}
"""

SICKNESS_SQL = f"""
SELECT first_sick_day, recovered_on, counted_from FROM {RM}.du_sickness
WHERE tenant_id = $1 AND gen = {LIVE} AND placement_id = $2 ORDER BY first_sick_day
"""

DUTY_PLACEMENT_SQL = f"""
SELECT placement_id FROM {RM}.du_duties WHERE tenant_id = $1 AND gen = {LIVE} AND duty_id = $2
"""

REMINDERS_SQL = f"""
SELECT r.reminder_id, r.duty_id, r.placement_id, r.kind, r.due_on, r.reminded_on, r.mailed_on,
       r.addressed_to, d.done_on, d.closed_on, em.candidate_id AS employment_candidate_id
FROM {RM}.du_reminders r
LEFT JOIN {RM}.du_duties d ON d.tenant_id = r.tenant_id AND d.gen = r.gen AND d.duty_id = r.duty_id
LEFT JOIN {RM}.du_employments em ON em.tenant_id = r.tenant_id AND em.gen = r.gen
                                AND em.employment_id = r.placement_id
WHERE r.tenant_id = $1 AND r.gen = {LIVE} AND ($2::date IS NULL OR r.reminded_on >= $2)
  AND ($3::uuid IS NULL OR r.addressed_to IS NULL OR r.addressed_to = $3
       OR NOT (r.addressed_to = ANY($4::uuid[])))
ORDER BY r.reminded_on DESC, r.due_on, r.kind, r.reminder_id
LIMIT {LIST_LIMIT}
"""


def _duty(row: Any) -> dict[str, Any]:
    out = {"duty_id": str(row["duty_id"]), "placement_id": str(row["placement_id"]), "owner": row["owner"],
           "kind": row["kind"],
           "label": KIND_LABELS.get(row["kind"], row["kind"]), "due_on": row["due_on"].isoformat(),
           "status": row["status"],
           "sickness_starts_on": row["sickness_starts_on"].isoformat() if row["sickness_starts_on"] else None,
           "done_on": row["done_on"].isoformat() if row["done_on"] else None}
    if row["status"] == "closed":
        out["closed_on"], out["closed_reason"] = row["closed_on"].isoformat(), row["closed_reason"]
    return out


async def duties(pool: Any, tenant_id: UUID, as_of: date, *, statuses: tuple[str, ...] = ("due", "overdue"),
                 placement_id: UUID | None = None, due_by: date | None = None,
                 kind: str | None = None) -> list[dict[str, Any]]:
    rows = await pool.fetch(DUTIES_SQL, tenant_id, as_of, None if placement_id is None else [placement_id],
                            list(statuses), due_by, kind)
    return [{**_duty(r), "candidate_id": str(r["candidate_id"]),
             "employer_id": str(r["employer_id"]) if r["employer_id"] else None} for r in rows]


async def placement_duties(pool: Any, tenant_id: UUID, placement_id: UUID, as_of: date) -> dict[str, Any] | None:
    """Every duty of one placement (with those of its employment: the sickness
    duties follow the employment), its employment's sicknesses and the job
    coach flag; None if not projected. `employment_id`: the explicit
    employment it is a secondment of, None when it is its own."""
    p = await pool.fetchrow(PLACEMENT_SQL, tenant_id, placement_id)
    if p is None:
        return None
    employment = p["employment_id"] or placement_id
    rows = await pool.fetch(DUTIES_SQL, tenant_id, as_of, list({placement_id, employment}), list(STATUSES),
                            None, None)
    spells = await pool.fetch(SICKNESS_SQL, tenant_id, employment)
    return {
        "placement_id": str(placement_id),
        "employment_id": str(employment) if employment != placement_id else None, "as_of": as_of.isoformat(),
        "starts_on": p["starts_on"].isoformat(),
        "planned_end_on": p["planned_end_on"].isoformat() if p["planned_end_on"] else None,
        "ended_on": p["ended_on"].isoformat() if p["ended_on"] else None,
        "job_coach": job_coach(Decimal(p["hours"]), p["starts_on"], p["planned_end_on"]),
        "sickness": _spells(spells),
        "duties": [_duty(r) for r in rows],
    }


def _spells(spells: Any) -> list[dict[str, Any]]:
    return [{"first_sick_day": s["first_sick_day"].isoformat(),
             "recovered_on": s["recovered_on"].isoformat() if s["recovered_on"] else None,
             "counted_from": (s["counted_from"] or s["first_sick_day"]).isoformat()} for s in spells]


def _employment(row: Any) -> dict[str, Any]:
    def day(value: date | None) -> str | None:
        return value.isoformat() if value else None
    return {"employment_id": str(row["employment_id"]), "candidate_id": str(row["candidate_id"]),
            "kind": row["kind"], "starts_on": day(row["starts_on"]), "planned_end_on": day(row["planned_end_on"]),
            "ended_on": day(row["ended_on"]), "end_reason": row["end_reason"],
            "secondments": [str(s) for s in row["secondments"]]}


async def employment_duties(pool: Any, tenant_id: UUID, employment_id: UUID, as_of: date) -> dict[str, Any] | None:
    """Every duty of one employment (its own, and its secondments' planned
    ends) with its status on `as_of`, and its sicknesses; None if not projected."""
    row = await pool.fetchrow(EMPLOYMENT_SQL.format(where="employment_id = $2"), tenant_id, employment_id)
    if row is None:
        return None
    owners = [employment_id, *row["secondments"]]
    rows = await pool.fetch(DUTIES_SQL, tenant_id, as_of, owners, list(STATUSES), None, None)
    spells = await pool.fetch(SICKNESS_SQL, tenant_id, employment_id)
    return {**_employment(row), "as_of": as_of.isoformat(), "sickness": _spells(spells),
            "duties": [_duty(r) for r in rows]}


async def employments_of(pool: Any, tenant_id: UUID, candidate_id: UUID) -> list[dict[str, Any]]:
    """The person's explicit employments with the agency, latest first."""
    rows = await pool.fetch(EMPLOYMENT_SQL.format(where="candidate_id = $2"), tenant_id, candidate_id)
    return [_employment(r) for r in rows]


async def placement_of_duty(pool: Any, tenant_id: UUID, ident: UUID) -> UUID | None:
    return await pool.fetchval(DUTY_PLACEMENT_SQL, tenant_id, ident)


async def reminders(pool: Any, tenant_id: UUID, since: date | None = None, addressed_to: UUID | None = None,
                    agency_user_ids: Any = ()) -> list[dict[str, Any]]:
    """Newest first. With `addressed_to` (a user's "mine"): that user's own, and
    those of the whole agency: addressed to nobody, or to someone not among
    `agency_user_ids` (no longer an agency user), as the digest mail does."""
    out = []
    for r in await pool.fetch(REMINDERS_SQL, tenant_id, since, addressed_to, list(agency_user_ids)):
        out.append({"reminder_id": str(r["reminder_id"]), "duty_id": str(r["duty_id"]),
                    "placement_id": str(r["placement_id"]), "kind": r["kind"],
                    "label": KIND_LABELS.get(r["kind"], r["kind"]), "due_on": r["due_on"].isoformat(),
                    "reminded_on": r["reminded_on"].isoformat(),
                    "overdue_when_reminded": r["due_on"] < r["reminded_on"],
                    "mailed_on": r["mailed_on"].isoformat() if r["mailed_on"] else None,
                    "addressed_to": str(r["addressed_to"]) if r["addressed_to"] else None,
                    # Set when the duty is an employment's (its page is the person's).
                    "employment_candidate_id": (str(r["employment_candidate_id"])
                                                if r["employment_candidate_id"] else None),
                    "duty_done_on": r["done_on"].isoformat() if r["done_on"] else None})
    return out


# -- for the reminders process manager (psycopg, in the worker) -------------------------

COMING_DUE_SQL = f"""
SELECT d.duty_id, d.placement_id, d.kind, d.due_on,
       COALESCE(p.responsible_user_id, em.responsible_user_id) AS responsible_user_id
FROM {RM}.du_duties d {OWNERS_SQL}
WHERE d.tenant_id = %(tenant)s AND (p.placement_id IS NOT NULL OR em.employment_id IS NOT NULL)
  AND d.gen = (SELECT gen FROM {RM}.live WHERE projection = '{NAME}' AND tenant_id = %(tenant)s)
  AND d.done_on IS NULL AND (d.closed_on IS NULL OR d.closed_on > %(today)s)
  AND d.due_on <= %(horizon)s AND (d.sickness_starts_on IS NULL OR d.sickness_starts_on <= %(today)s)
  AND NOT EXISTS (SELECT 1 FROM {RM}.du_reminders r WHERE r.tenant_id = d.tenant_id AND r.gen = d.gen
                  AND r.duty_id = d.duty_id AND r.due_on = d.due_on)
ORDER BY d.due_on, d.kind, d.duty_id
"""

UNMAILED_SQL = f"""
SELECT r.reminder_id, r.kind, r.due_on, r.reminded_on, r.addressed_to FROM {RM}.du_reminders r
WHERE r.tenant_id = %(tenant)s
  AND r.gen = (SELECT gen FROM {RM}.live WHERE projection = '{NAME}' AND tenant_id = %(tenant)s)
  AND r.mailed_on IS NULL AND r.reminded_on >= %(since)s
ORDER BY r.due_on, r.kind, r.reminder_id
"""


def coming_due(conn: Any, tenant_id: UUID, today: date, horizon: date) -> list[dict[str, Any]]:
    """Open duties due by `horizon` (or overdue) that have no reminder for their due date."""
    return [dict(r) for r in conn.execute(COMING_DUE_SQL, {"tenant": tenant_id, "today": today,
                                                            "horizon": horizon}).fetchall()]


def unmailed(conn: Any, tenant_id: UUID, since: date) -> list[dict[str, Any]]:
    """Reminders recorded on or after `since` that no digest carried yet."""
    return [dict(r) for r in conn.execute(UNMAILED_SQL, {"tenant": tenant_id, "since": since}).fetchall()]
