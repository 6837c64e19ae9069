"""What each role sees of a placement's support (data minimisation).

- agency and the person: everything, with the person's own words;
- employer: what it acts on: the checklist without the person's stated
  needs, adjustments with what they are (it delivers them at its
  workplace), and that check-ins and coaching happened, without notes;
- auditor: that things happened (items, statuses, funders, dates, hours),
  no texts at all.

Texts are read from the support record's history (sealed under the person's
key, so they read as erased after erasure).
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from domain.duties import job_coach
from domain.placement import Placement
from domain.support import STANDARD_ITEMS, PlacementSupport

FULL_READERS = frozenset({"agency", "employee"})
COACHING_WEEKS = 4


def _texts(history: list[dict[str, Any]]) -> dict[str, Any]:
    labels: dict[str, str] = {}
    adjustments: dict[str, dict[str, Any]] = {}
    check_ins: list[dict[str, Any]] = []
    coaching: list[dict[str, Any]] = []
    for e in history:
        d, kind = e["data"], e["type"]
        if kind == "SupportOpened":
            labels.update(d.get("labels") or {})
        elif kind == "ChecklistItemAdded":
            labels[d["item_id"]] = d.get("label") or ""
        elif kind == "AdjustmentRequested":
            adjustments[d["adjustment_id"]] = {"description": d.get("description") or "",
                                               "refusal_reason": None}
        elif kind == "AdjustmentRefused" and d["adjustment_id"] in adjustments:
            adjustments[d["adjustment_id"]]["refusal_reason"] = d["reason"]
        elif kind == "CheckInLogged":
            check_ins.append({"id": d["check_in_id"], "held_on": d["held_on"], "with_whom": d["with_whom"],
                              "note": d.get("note") or ""})
        elif kind == "CoachingSessionLogged":
            coaching.append({"id": d["session_id"], "held_on": d["held_on"], "with_whom": d["with_whom"],
                             "hours": d["hours"], "note": d.get("note") or ""})
    return {"labels": labels, "adjustments": adjustments, "check_ins": check_ins, "coaching": coaching}


def support_view(placement: Placement, support: PlacementSupport | None, history: list[dict[str, Any]],
                 role: str, today: date | None = None) -> dict[str, Any]:
    """`support` None: a placement from before support existed (opened on first use)."""
    today = today or date.today()
    full = role in FULL_READERS
    texts = _texts(history)
    if support is None:
        items = [{"id": k, "kind": k, "responsible": who, "done_on": None, "done_by": None}
                 for k, who in STANDARD_ITEMS]
        adjustments: dict[str, dict[str, Any]] = {}
    else:
        items, adjustments = support.items, support.adjustments
    shown_items = []
    for item in items:
        if item["kind"] == "need" and role not in FULL_READERS and role != "auditor":
            continue  # the person's stated needs: not the employer's to read
        view = dict(item)
        if item["kind"] in ("need", "custom") and (full or (role == "employer" and item["kind"] == "custom")):
            view["label"] = texts["labels"].get(item["id"], "")
        shown_items.append(view)
    shown_adjustments = []
    for ident, a in adjustments.items():
        view = {"id": ident, **a}
        if full or role == "employer":
            view["description"] = texts["adjustments"].get(ident, {}).get("description", "")
        view["refusal_reason"] = texts["adjustments"].get(ident, {}).get("refusal_reason")
        shown_adjustments.append(view)
    since = today - timedelta(days=7 * COACHING_WEEKS - 1)
    coaching = [dict(s) for s in texts["coaching"]]
    check_ins = [dict(c) for c in texts["check_ins"]]
    if not full:
        for entry in (*coaching, *check_ins):
            entry.pop("note", None)
    recent = sum((Decimal(s["hours"]) for s in coaching if since <= s["held_on"] <= today), Decimal(0))
    return {
        "placement_id": placement.id, "version": support.version if support is not None else 0,
        "opened": support is not None,
        "checklist": shown_items,
        "checklist_done": sum(1 for i in shown_items if i["done_on"] is not None),
        "adjustments": shown_adjustments,
        "check_ins": sorted(check_ins, key=lambda c: c["held_on"], reverse=True),
        "coaching_sessions": sorted(coaching, key=lambda c: c["held_on"], reverse=True),
        "coaching_hours_recent": recent, "coaching_weeks": COACHING_WEEKS,
        # UWV's job coach conditions (domain/duties.py), beside the hours actually given.
        "job_coach": job_coach(placement.hours_on(today) or placement.hours_per_week, placement.starts_on,
                               placement.planned_end_on),
    }


def special_category_fields(view: dict[str, Any]) -> list[str]:
    """Which special-category data the view shows (for the access log)."""
    fields = []
    if any(i.get("label") for i in view["checklist"] if i["kind"] == "need"):
        fields.append("support_needs")
    if any(a.get("description") for a in view["adjustments"]):
        fields.append("workplace adjustments")
    if any(e.get("note") for e in (*view["check_ins"], *view["coaching_sessions"])):
        fields.append("support notes")
    return fields
