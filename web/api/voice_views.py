"""What each role sees of a placement's progression timeline and of the
employee's own check-ins (data minimisation; docs/security.md, "Who sees what").

Check-ins:
- the person and the agency (their coach): every answer, the remark in the
  person's own words, the sharing choice and which check-ins are open;
- the employer: only if the person chose `individual` sharing: the scores and
  when, never the remark (else the visibility policy shows it nothing: figures
  from 5 or more people only, projections/voice.py);
- the auditor: which check-ins were answered and when, no scores, no remark;
- the contracting authority: nothing (404).

Progression timeline: the agency and the person everything; the employer and
the auditor the same steps without role titles or training names.

Remarks, titles and names are sealed under the person's key (they read as
erased after erasure).
"""
from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from domain.placement import Placement
from domain.voice import DEFAULT_SHARING, QUESTIONS, EmployeeVoice, moment_states

FULL_READERS = frozenset({"agency", "employee"})


def _answers(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"moment": e["data"]["moment"], "answered_on": e["data"]["answered_on"],
             "answers": {q: e["data"]["answers"][q] for q in QUESTIONS}, "remark": e["data"].get("remark") or ""}
            for e in history if e["type"] == "CheckInAnswered"]


def voice_view(placement: Placement, record: EmployeeVoice | None, history: list[dict[str, Any]], role: str,
               today: date) -> dict[str, Any]:
    answered = record.answered if record is not None else {}
    sharing = record.sharing if record is not None else DEFAULT_SHARING
    found = _answers(history)
    out: dict[str, Any] = {"placement_id": str(placement.id), "questions": list(QUESTIONS)}
    if role in FULL_READERS:
        out["sharing"] = sharing
        out["moments"] = [{**s, "due_on": s["due_on"].isoformat(),
                           "answered_on": s["answered_on"].isoformat() if s["answered_on"] else None}
                          for s in moment_states(placement.starts_on, placement.ended_on, today, answered)]
        out["check_ins"] = [{**a, "answered_on": a["answered_on"].isoformat()} for a in found]
    elif role == "employer":
        # Seen at all only when shared individually (service/visibility.py).
        shared = record is not None and record.shared_individually
        out["shared"] = shared
        out["check_ins"] = [{"moment": a["moment"], "answered_on": a["answered_on"].isoformat(),
                             "answers": a["answers"]} for a in found] if shared else []
    else:  # auditor
        out["check_ins"] = [{"moment": a["moment"], "answered_on": a["answered_on"].isoformat()} for a in found]
    return out


def progression_view(placement_id: UUID, found: dict[str, Any] | None, role: str) -> dict[str, Any]:
    if found is None:
        return {"placement_id": str(placement_id), "timeline": []}
    full = role in FULL_READERS
    steps = []
    for s in found["timeline"]:
        step = {k: v for k, v in s.items() if v is not None}
        step["on"] = s["on"].isoformat()
        if not full:
            step.pop("role", None)
            step.pop("training", None)
        steps.append(step)
    return {**found, "made_permanent_on": found["made_permanent_on"].isoformat() if found["made_permanent_on"]
            else None, "timeline": steps}
