"""A catalogue of bad input, as an outsider would send it: each case is refused
with a 4xx (never a 5xx), the error names the field at fault, and nothing is
stored (the tenant's event position does not move).

The API cases cover every POST/PATCH route and the query parameters of the
figures, duties and matching routes: wrong JSON types (the OpenAPI's, with no
coercion), missing and unknown fields, numbers out of range, dates outside
1900-01-01..2100-12-31, malformed ids, empty, over-long and control-character
text, invalid choices, ends before starts, deep JSON, a huge body, the wrong
content type. The page cases post bad forms: the page answers with the form
and the error next to the field.
"""
from __future__ import annotations

import io
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from dataclasses import field as default
from datetime import date, timedelta
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest
from litestar.testing import TestClient

from infra.bootstrap import System
from service import commands
from tests.api.openapi_check import OpenAPICheck
from tests.api import document_samples
from tests.api.conftest import (
    API,
    Org,
    bearer,
    candidate_body,
    contract_body,
    placement_body,
    vacancy_body,
)
from tests.conftest import random_slug
from tests.web.conftest import PASSWORD, Agency, Browser, pages  # noqa: F401  (fixture)
from web.app import create_app

DEEP = b'{"name": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"
DEEP_ARRAY = b"[" * 20_000 + b"]" * 20_000
TODAY = date.today().isoformat()
# A week ahead, not tomorrow: the cases are built at collection, and a run
# that crosses midnight would make "tomorrow" today.
NEXT_WEEK = (date.today() + timedelta(days=7)).isoformat()


@dataclass(frozen=True)
class Bad:
    """One bad request. `path` and `body` may name the seeded records as
    {employer}, {contract}, {candidate}, {vacancy}, {placement}, {contribution}, {employment}."""

    name: str
    method: str
    path: str  # {open_vacancy}: a vacancy nobody fills; {contribution}: one the agency decides
    body: Any = None
    field: str | None = None  # the field the error must name (None: a 404 names none)
    status: int | None = None  # the exact status, when it matters
    raw: bytes | None = None  # sent as is instead of `body`
    headers: dict[str, str] = default(default_factory=dict)
    who: str = "agency"  # whose token: agency, authority (in-tenant), org authority, org employer


def over(n: int) -> str:
    return "x" * n


def bad_json_bodies() -> list[Bad]:
    e, c, k, v, p = "{employer}", "{contract}", "{candidate}", "{vacancy}", "{placement}"
    contract = contract_body(e)
    vacancy = vacancy_body(e)
    placement = placement_body(k, e, c, None)
    feedback = {"score": 4, "from_role": "coach", "comment": ""}
    employment = {"candidate_id": k, "starts_on": "2025-02-01", "kind": "fixed_term", "ends_on": "2026-01-31"}
    scores = {"supported": 4, "work_suits": 4, "can_ask": 3, "want_to_stay": 5}
    purchase = {"kind": "social_enterprise_purchase", "supplier": "Groen & Co", "invoice_amount_eur_excl_vat": "100.00",
                "register": "registered_social_enterprise", "invoice_date": "2025-03-01", "description": "Groenonderhoud"}
    other = {"kind": "other_activity", "description": "Gastles", "activity_date": "2025-03-01", "hours": "2"}
    activity = {"kind": "workshop", "topic": "accessibility", "held_on": "2025-03-01", "participants": 3,
                "given_by": "agency"}

    def without(body: dict[str, Any], name: str) -> dict[str, Any]:
        return {key: value for key, value in body.items() if key != name}

    return [
        # -- the body itself ------------------------------------------------------------
        Bad("employer-name-missing", "POST", "/employers", {}, "name", 422),
        Bad("employer-name-empty", "POST", "/employers", {"name": ""}, "name", 422),
        Bad("employer-name-blank", "POST", "/employers", {"name": "   "}, "name", 422),
        Bad("employer-name-too-long", "POST", "/employers", {"name": over(201)}, "name", 422),
        Bad("employer-name-nul", "POST", "/employers", {"name": "De Vries\x00B.V."}, "name", 422),
        Bad("employer-name-bell", "POST", "/employers", {"name": "De Vries\x07"}, "name", 422),
        Bad("employer-name-number", "POST", "/employers", {"name": 42}, "name", 422),
        Bad("employer-name-null", "POST", "/employers", {"name": None}, "name", 422),
        Bad("employer-name-list", "POST", "/employers", {"name": ["De Vries"]}, "name", 422),
        Bad("employer-unknown-field", "POST", "/employers", {"name": "De Vries", "tenant_id": "x"}, "tenant_id", 422),
        Bad("body-is-array", "POST", "/employers", [], "body", 422),
        Bad("body-is-null", "POST", "/employers", None, "body", 422, raw=b"null"),
        Bad("body-is-string", "POST", "/employers", None, "body", 422, raw=b'"De Vries"'),
        Bad("body-empty", "POST", "/employers", None, "body", 422, raw=b""),
        Bad("body-malformed", "POST", "/employers", None, "body", 400, raw=b'{"name": '),
        Bad("body-trailing-garbage", "POST", "/employers", None, "body", 400, raw=b'{"name": "x"} {}'),
        Bad("body-invalid-utf8", "POST", "/employers", None, "body", 400, raw=b'{"name": "\xff\xfe"}'),
        Bad("body-deep-json-in-field", "POST", "/employers", None, "name", None, raw=DEEP),
        Bad("body-deep-json-array", "POST", "/employers", None, "body", None, raw=DEEP_ARRAY),
        Bad("body-deep-json-placement", "POST", "/placements", None, "body", None, raw=DEEP_ARRAY),
        Bad("body-huge", "POST", "/employers", None, "body", 413,
            raw=b'{"name": "' + b"x" * (5 * 1024 * 1024) + b'"}'),
        Bad("content-type-text", "POST", "/employers", None, "Content-Type", 415, raw=b'{"name": "De Vries"}',
            headers={"Content-Type": "text/plain"}),
        Bad("content-type-form", "POST", "/employers", None, "Content-Type", 415, raw=b"name=De+Vries",
            headers={"Content-Type": "application/x-www-form-urlencoded"}),
        Bad("idempotency-key-too-long", "POST", "/employers", {"name": "De Vries"}, "Idempotency-Key", 422,
            headers={"Idempotency-Key": over(201)}),
        # -- contact persons --------------------------------------------------------------
        Bad("contact-email-missing", "POST", f"/employers/{e}/contact-persons", {"name": "Jan"}, "email", 422),
        Bad("contact-phone-too-long", "POST", f"/employers/{e}/contact-persons",
            {"name": "Jan", "email": "jan@example.org", "phone": over(41)}, "phone", 422),
        Bad("contact-employer-id-malformed", "POST", "/employers/not-a-uuid/contact-persons",
            {"name": "Jan", "email": "jan@example.org"}, None, 404),
        # -- contracts ----------------------------------------------------------------------
        Bad("contract-title-missing", "POST", "/contracts", without(contract, "title"), "title", 422),
        Bad("contract-value-number", "POST", "/contracts", {**contract, "contract_value_eur": 1000000},
            "contract_value_eur", 422),
        Bad("contract-value-text", "POST", "/contracts", {**contract, "contract_value_eur": "a million"},
            "contract_value_eur", 422),
        Bad("contract-value-negative", "POST", "/contracts", {**contract, "contract_value_eur": "-5"},
            "contract_value_eur", 422),
        Bad("contract-value-nan", "POST", "/contracts", {**contract, "contract_value_eur": "NaN"},
            "contract_value_eur", 422),
        Bad("contract-value-huge", "POST", "/contracts", {**contract, "contract_value_eur": "1e400"},
            "contract_value_eur", 422),
        Bad("contract-percent-over-100", "POST", "/contracts", {**contract, "obligation_percent": "150"},
            "obligation_percent", 422),
        Bad("contract-percent-negative", "POST", "/contracts", {**contract, "obligation_percent": "-1"},
            "obligation_percent", 422),
        Bad("contract-starts-year-9999", "POST", "/contracts", {**contract, "starts_on": "9999-12-01"},
            "starts_on", 422),
        Bad("contract-starts-year-1", "POST", "/contracts", {**contract, "starts_on": "0001-01-01"}, "starts_on", 422),
        Bad("contract-ends-before-start", "POST", "/contracts", {**contract, "ends_on": "2024-12-31"}, "ends_on", 422),
        Bad("contract-awarded-feb-30", "POST", "/contracts", {**contract, "awarded_on": "2025-02-30"},
            "awarded_on", 422),
        Bad("contract-awarded-number", "POST", "/contracts", {**contract, "awarded_on": 20241115}, "awarded_on", 422),
        Bad("contract-rule-set-unknown", "POST", "/contracts", {**contract, "rule_set": "atlantis-2099"},
            "rule_set", 422),
        Bad("contract-rule-set-version-unknown", "POST", "/contracts", {**contract, "rule_set_version": 99},
            "rule_set_version", 422),
        Bad("contract-rule-set-version-zero", "POST", "/contracts", {**contract, "rule_set_version": 0},
            "rule_set_version", 422),
        Bad("contract-rule-set-version-string", "POST", "/contracts", {**contract, "rule_set_version": "1"},
            "rule_set_version", 422),
        Bad("contract-employer-id-malformed", "POST", "/contracts", {**contract, "employer_id": "not-a-uuid"},
            "employer_id", 422),
        Bad("contract-employer-id-unknown", "POST", "/contracts", {**contract, "employer_id": str(uuid.uuid4())},
            "employer_id", 422),
        Bad("contract-target-placements-string", "POST", "/contracts", {**contract, "target_placements": "5"},
            "target_placements", 422),
        Bad("contract-target-placements-negative", "POST", "/contracts", {**contract, "target_placements": -1},
            "target_placements", 422),
        Bad("contract-target-retention-over-100", "POST", "/contracts",
            {**contract, "target_retention_12m_percent": "101"}, "target_retention_12m_percent", 422),
        Bad("contract-accepted-by-invalid", "POST", "/contracts", {**contract, "accepted_by": "nobody"},
            "accepted_by", 422),
        Bad("amend-starts-2101", "PATCH", f"/contracts/{c}", {"starts_on": "2101-01-01"}, "starts_on", 422),
        Bad("amend-percent-number", "PATCH", f"/contracts/{c}", {"obligation_percent": 5}, "obligation_percent", 422),
        Bad("amend-fixed-term", "PATCH", f"/contracts/{c}", {"rule_set": "harlingen-2024"}, "rule_set", 422),
        Bad("amend-if-match-not-a-number", "PATCH", f"/contracts/{c}", {"title": "Nieuw"}, "If-Match", 422,
            headers={"If-Match": "abc"}),
        Bad("amend-if-match-superscript", "PATCH", f"/contracts/{c}", {"title": "Nieuw"}, "If-Match", 422,
            headers={"If-Match": b"\xb2"}),  # type: ignore[dict-item]  (latin-1: a superscript two)
        Bad("close-contract-date-missing", "POST", f"/contracts/{c}/close", {}, "closed_on", 422),
        Bad("contract-obligation-basis-unknown", "POST", "/contracts", {**contract, "obligation_basis": "revenue"},
            "obligation_basis", 422),
        Bad("contract-wage-bill-missing", "POST", "/contracts", {**contract, "obligation_basis": "wage_bill"},
            "wage_bill_eur", 422),
        Bad("contract-fixed-amount-missing", "POST", "/contracts", {**contract, "obligation_basis": "fixed"},
            "obligation_fixed_eur", 422),
        Bad("contract-bid-below-minimum", "POST", "/contracts", {**contract, "bid_percent": "0.5"},
            "bid_percent", 422),
        Bad("contract-cap-number", "POST", "/contracts", {**contract, "obligation_cap_eur": 300000},
            "obligation_cap_eur", 422),
        Bad("contract-cap-negative", "POST", "/contracts", {**contract, "obligation_cap_eur": "-1"},
            "obligation_cap_eur", 422),
        Bad("contract-pso-step-unknown", "POST", "/contracts",
            {**contract, "pso_step": "step_9", "pso_valid_until": "2030-01-01"}, "pso_step", 422),
        Bad("contract-pso-without-valid-until", "POST", "/contracts", {**contract, "pso_step": "step_1"},
            "pso_valid_until", 422),
        Bad("amend-wage-basis-without-wage-bill", "PATCH", f"/contracts/{c}", {"obligation_basis": "wage_bill"},
            "wage_bill_eur", 422),
        Bad("turnover-amount-number", "POST", f"/contracts/{c}/turnover",
            {"period_start": "2025-02-01", "period_end": "2025-12-31", "amount_eur": 1000}, "amount_eur", 422),
        Bad("turnover-period-missing", "POST", f"/contracts/{c}/turnover",
            {"period_end": "2025-12-31", "amount_eur": "1000.00"}, "period_start", 422),
        Bad("turnover-not-on-turnover", "POST", f"/contracts/{c}/turnover",
            {"period_start": "2025-02-01", "period_end": "2025-12-31", "amount_eur": "1000.00"},
            None, 409),  # a conflict with the contract's state: no field in error
        Bad("close-contract-year-2200", "POST", f"/contracts/{c}/close", {"closed_on": "2200-01-01"},
            "closed_on", 422),
        Bad("contract-targets-string", "POST", f"/contracts/{c}/targets", {"target_placements": "10"},
            "target_placements", 422),
        Bad("contract-targets-percent-number", "POST", f"/contracts/{c}/targets",
            {"target_retention_12m_percent": 80}, "target_retention_12m_percent", 422),
        Bad("contract-targets-permanent-number", "POST", f"/contracts/{c}/targets",
            {"target_permanent_percent": 40}, "target_permanent_percent", 422),
        Bad("contract-targets-adjustments-over-100", "POST", f"/contracts/{c}/targets",
            {"target_adjustments_30d_percent": "100.5"}, "target_adjustments_30d_percent", 422),
        Bad("contract-targets-satisfaction-6", "POST", f"/contracts/{c}/targets",
            {"target_satisfaction_min": "6"}, "target_satisfaction_min", 422),
        Bad("contract-owner-side-invalid", "POST", f"/contracts/{c}/owners",
            {"side": "both", "name": "Jan", "email": "jan@example.org"}, "side", 422),
        # -- candidates ------------------------------------------------------------------------
        Bad("candidate-born-1899", "POST", "/candidates", candidate_body(date_of_birth="1899-12-31"),
            "date_of_birth", 422),
        Bad("candidate-born-tomorrow-text", "POST", "/candidates", candidate_body(date_of_birth="tomorrow"),
            "date_of_birth", 422),
        Bad("candidate-target-group-invalid", "POST", "/candidates", candidate_body(target_group="astronaut"),
            "target_group", 422),
        Bad("candidate-competences-string", "POST", "/candidates", candidate_body(competences="Excel"),
            "competences", 422),
        Bad("candidate-competences-too-many", "POST", "/candidates",
            candidate_body(competences=[f"c{i}" for i in range(51)]), "competences", 422),
        Bad("candidate-competence-too-long", "POST", "/candidates", candidate_body(competences=[over(101)]),
            "competences", 422),
        Bad("candidate-competence-empty", "POST", "/candidates", candidate_body(competences=[" "]),
            "competences", 422),
        Bad("candidate-status-holder-string", "POST", "/candidates", candidate_body(status_holder="true"),
            "status_holder", 422),
        Bad("candidate-support-needs-too-long", "POST", "/candidates", candidate_body(support_needs=over(4001)),
            "support_needs", 422),
        Bad("candidate-name-control", "POST", "/candidates", candidate_body(full_name="Sanne\x1bJansen"),
            "full_name", 422),
        Bad("candidate-benefit-before-birth", "POST", "/candidates", candidate_body(benefit_since="1980-01-01"),
            "benefit_since", 422),
        Bad("candidate-name-null", "POST", "/candidates", candidate_body(full_name=None), "full_name", 422),
        Bad("support-needs-number", "POST", f"/candidates/{k}/support-needs", {"support_needs": 7},
            "support_needs", 422),
        Bad("support-needs-missing", "POST", f"/candidates/{k}/support-needs", {}, "support_needs", 422),
        Bad("availability-hours-number", "POST", f"/candidates/{k}/availability",
            {"hours_per_week": 24, "available_from": "2025-03-01", "region": "Utrecht"}, "hours_per_week", 422),
        Bad("availability-from-9999", "POST", f"/candidates/{k}/availability",
            {"hours_per_week": "24", "available_from": "9999-01-01", "region": "Utrecht"}, "available_from", 422),
        Bad("availability-region-missing", "POST", f"/candidates/{k}/availability",
            {"hours_per_week": "24", "available_from": "2025-03-01"}, "region", 422),
        # -- vacancies ----------------------------------------------------------------------------
        Bad("vacancy-hours-number", "POST", "/vacancies", {**vacancy, "hours_per_week": 32}, "hours_per_week", 422),
        Bad("vacancy-hours-zero", "POST", "/vacancies", {**vacancy, "hours_per_week": "0"}, "hours_per_week", 422),
        Bad("vacancy-hours-negative", "POST", "/vacancies", {**vacancy, "hours_per_week": "-8"}, "hours_per_week", 422),
        Bad("vacancy-hours-over-168", "POST", "/vacancies", {**vacancy, "hours_per_week": "169"},
            "hours_per_week", 422),
        Bad("vacancy-hours-words", "POST", "/vacancies", {**vacancy, "hours_per_week": "twenty"},
            "hours_per_week", 422),
        Bad("vacancy-opened-9999", "POST", "/vacancies", {**vacancy, "opened_on": "9999-12-31"}, "opened_on", 422),
        Bad("vacancy-region-too-long", "POST", "/vacancies", {**vacancy, "region": over(101)}, "region", 422),
        Bad("vacancy-competence-empty", "POST", "/vacancies", {**vacancy, "required_competences": [""]},
            "required_competences", 422),
        Bad("vacancy-edit-hours-61", "PATCH", "/vacancies/{open_vacancy}", {"hours_per_week": "61"}, "hours_per_week", 422),
        Bad("vacancy-edit-title-empty", "PATCH", "/vacancies/{open_vacancy}", {"title": ""}, "title", 422),
        Bad("vacancy-edit-unknown-field", "PATCH", "/vacancies/{open_vacancy}", {"employer_id": str(uuid.uuid4())},
            "employer_id", 422),
        Bad("vacancy-close-reason-too-long", "POST", "/vacancies/{open_vacancy}/close", {"reason": over(501)}, "reason", 422),
        Bad("match-candidate-id-malformed", "POST", f"/vacancies/{v}/matches", {"candidate_id": "123"},
            "candidate_id", 422),
        Bad("match-candidate-id-number", "POST", f"/vacancies/{v}/matches", {"candidate_id": 123},
            "candidate_id", 422),
        Bad("pipeline-step-invalid", "POST", f"/vacancies/{v}/pipeline", {"candidate_id": k, "step": "hired"},
            "step", 422),
        Bad("pipeline-on-2200", "POST", f"/vacancies/{v}/pipeline",
            {"candidate_id": k, "step": "proposed", "on": "2200-01-01"}, "on", 422),
        # -- placements ------------------------------------------------------------------------------
        Bad("placement-starts-9999", "POST", "/placements", {**placement, "starts_on": "9999-12-01"},
            "starts_on", 422),
        Bad("placement-starts-1800", "POST", "/placements", {**placement, "starts_on": "1800-01-01"},
            "starts_on", 422),
        Bad("placement-planned-end-before-start", "POST", "/placements",
            {**placement, "planned_end_on": "2025-01-01"}, "planned_end_on", 422),
        Bad("placement-hours-number", "POST", "/placements", {**placement, "hours_per_week": 24},
            "hours_per_week", 422),
        Bad("placement-hours-200", "POST", "/placements", {**placement, "hours_per_week": "200"},
            "hours_per_week", 422),
        Bad("placement-permanent-yes", "POST", "/placements", {**placement, "permanent_contract": "yes"},
            "permanent_contract", 422),
        Bad("placement-candidate-unknown", "POST", "/placements", {**placement, "candidate_id": str(uuid.uuid4())},
            "candidate_id", 422),
        Bad("placement-responsible-malformed", "POST", "/placements", {**placement, "responsible_user_id": "x"},
            "responsible_user_id", 422),
        Bad("placement-arrangement-unknown", "POST", "/placements", {**placement, "arrangement": "volunteering"},
            "arrangement", 422),
        Bad("placement-arrangement-number", "POST", "/placements", {**placement, "arrangement": 2}, "arrangement", 422),
        Bad("placement-arrangement-too-long", "POST", "/placements", {**placement, "arrangement": over(41)},
            "arrangement", 422),
        Bad("placement-employment-unknown", "POST", "/placements", {**placement, "employment_id": str(uuid.uuid4())},
            "employment_id", 422),
        Bad("placement-employment-malformed", "POST", "/placements", {**placement, "employment_id": "x"},
            "employment_id", 422),
        # -- employments (the person's contract with the agency) --------------------------------
        Bad("employment-kind-invalid", "POST", "/employments", {**employment, "kind": "temporary"}, "kind", 422),
        Bad("employment-fixed-term-without-end", "POST", "/employments", without(employment, "ends_on"),
            "ends_on", 422),
        Bad("employment-permanent-with-end", "POST", "/employments", {**employment, "kind": "permanent"},
            "ends_on", 422),
        Bad("employment-ends-before-start", "POST", "/employments", {**employment, "ends_on": "2025-01-31"},
            "ends_on", 422),
        Bad("employment-starts-9999", "POST", "/employments", {**employment, "starts_on": "9999-12-01"},
            "starts_on", 422),
        Bad("employment-candidate-unknown", "POST", "/employments",
            {**employment, "candidate_id": str(uuid.uuid4())}, "candidate_id", 422),
        Bad("employment-candidate-missing", "POST", "/employments", without(employment, "candidate_id"),
            "candidate_id", 422),
        Bad("employment-end-reason-invalid", "POST", "/employments/{employment}/end",
            {"ends_on": "2025-06-30", "reason": "bored"}, "reason", 422),
        Bad("employment-end-before-start", "POST", "/employments/{employment}/end",
            {"ends_on": "2025-01-31", "reason": "resigned"}, "ends_on", 422),
        Bad("employment-end-malformed-id", "POST", "/employments/nope/end",
            {"ends_on": "2025-06-30", "reason": "resigned"}, None, 404),
        # Outcomes beyond euros: progression (agency) and the employee's own check-in.
        Bad("role-scale-money", "POST", f"/placements/{p}/role", {"scale": "€ 2.800", "effective_on": "2025-03-01"},
            "scale", 422),
        Bad("role-scale-amount", "POST", f"/placements/{p}/role", {"scale": "schaal 2800",
                                                                   "effective_on": "2025-03-01"}, "scale", 422),
        Bad("role-scale-number", "POST", f"/placements/{p}/role", {"scale": 6, "effective_on": "2025-03-01"},
            "scale", 422),
        Bad("role-before-start", "POST", f"/placements/{p}/role", {"scale": "schaal 6", "effective_on": "2024-01-01"},
            "effective_on", 422),
        Bad("role-future", "POST", f"/placements/{p}/role", {"scale": "schaal 6", "effective_on": NEXT_WEEK},
            "effective_on", 422),
        Bad("role-title-long", "POST", f"/placements/{p}/role", {"scale": "schaal 6", "effective_on": "2025-03-01",
                                                                 "role": over(81)}, "role", 422),
        Bad("role-unknown-field", "POST", f"/placements/{p}/role", {"scale": "schaal 6", "effective_on": "2025-03-01",
                                                                    "salary": 2800}, "salary", 422),
        Bad("training-empty", "POST", f"/placements/{p}/trainings", {"training": " ", "completed_on": "2025-03-01"},
            "training", 422),
        Bad("training-long", "POST", f"/placements/{p}/trainings", {"training": over(101),
                                                                    "completed_on": "2025-03-01"}, "training", 422),
        Bad("training-control", "POST", f"/placements/{p}/trainings", {"training": "VCA\u0000",
                                                                       "completed_on": "2025-03-01"}, "training", 422),
        Bad("training-not-a-date", "POST", f"/placements/{p}/trainings", {"training": "VCA", "completed_on": "x"},
            "completed_on", 422),
        Bad("permanent-before-start", "POST", f"/placements/{p}/permanent", {"on": "2024-01-01"}, "on", 422),
        Bad("permanent-missing", "POST", f"/placements/{p}/permanent", {}, "on", 422),
        Bad("employment-permanent-already", "POST", "/employments/{employment}/permanent", {"on": "2025-03-01"},
            None, 409),
        Bad("employment-permanent-malformed-id", "POST", "/employments/nope/permanent", {"on": "2025-03-01"},
            None, 404),
        Bad("check-in-moment-2", "POST", f"/placements/{p}/check-ins", {"moment": 2, "answers": scores}, "moment",
            422, who="employee"),
        Bad("check-in-moment-string", "POST", f"/placements/{p}/check-ins", {"moment": "1", "answers": scores},
            "moment", 422, who="employee"),
        Bad("check-in-score-6", "POST", f"/placements/{p}/check-ins", {"moment": 1,
            "answers": {**scores, "supported": 6}}, "supported", 422, who="employee"),
        Bad("check-in-score-0", "POST", f"/placements/{p}/check-ins", {"moment": 1,
            "answers": {**scores, "want_to_stay": 0}}, "want_to_stay", 422, who="employee"),
        Bad("check-in-score-string", "POST", f"/placements/{p}/check-ins", {"moment": 1,
            "answers": {**scores, "can_ask": "3"}}, "answers.can_ask", 422, who="employee"),
        Bad("check-in-score-missing", "POST", f"/placements/{p}/check-ins", {"moment": 1,
            "answers": without(scores, "work_suits")}, "answers.work_suits", 422, who="employee"),
        Bad("check-in-question-unknown", "POST", f"/placements/{p}/check-ins", {"moment": 1,
            "answers": {**scores, "salary": 3}}, "answers.salary", 422, who="employee"),
        Bad("check-in-remark-long", "POST", f"/placements/{p}/check-ins", {"moment": 1, "answers": scores,
                                                                          "remark": over(1001)}, "remark", 422,
            who="employee"),
        Bad("check-in-by-the-agency", "POST", f"/placements/{p}/check-ins", {"moment": 1, "answers": scores},
            None, 403),
        Bad("check-in-sharing-invalid", "POST", f"/placements/{p}/check-ins/sharing", {"sharing": "everyone"},
            "sharing", 422, who="employee"),
        Bad("placement-employer-missing", "POST", "/placements", without(placement, "employer_id"),
            "employer_id", 422),
        Bad("feedback-score-string", "POST", f"/placements/{p}/feedback", {**feedback, "score": "5"}, "score", 422),
        Bad("feedback-score-0", "POST", f"/placements/{p}/feedback", {**feedback, "score": 0}, "score", 422),
        Bad("feedback-score-6", "POST", f"/placements/{p}/feedback", {**feedback, "score": 6}, "score", 422),
        Bad("feedback-score-fraction", "POST", f"/placements/{p}/feedback", {**feedback, "score": 4.5}, "score", 422),
        Bad("feedback-score-bool", "POST", f"/placements/{p}/feedback", {**feedback, "score": True}, "score", 422),
        Bad("feedback-score-huge", "POST", f"/placements/{p}/feedback", {**feedback, "score": 10**30}, "score", 422),
        Bad("feedback-role-invalid", "POST", f"/placements/{p}/feedback", {**feedback, "from_role": "boss"},
            "from_role", 422),
        Bad("feedback-comment-too-long", "POST", f"/placements/{p}/feedback", {**feedback, "comment": over(4001)},
            "comment", 422),
        Bad("feedback-comment-nul", "POST", f"/placements/{p}/feedback", {**feedback, "comment": "goed\x00"},
            "comment", 422),
        Bad("feedback-placement-malformed", "POST", "/placements/../feedback", feedback, None, 404),
        Bad("hours-negative", "POST", f"/placements/{p}/hours", {"hours_per_week": "-1", "effective_on": "2025-03-01"},
            "hours_per_week", 422),
        Bad("hours-month-13", "POST", f"/placements/{p}/hours", {"hours_per_week": "20", "effective_on": "2100-13-01"},
            "effective_on", 422),
        Bad("hours-effective-2101", "POST", f"/placements/{p}/hours",
            {"hours_per_week": "20", "effective_on": "2101-01-01"}, "effective_on", 422),
        Bad("extend-until-9999", "POST", f"/placements/{p}/extend", {"until": "9999-12-31"}, "until", 422),
        Bad("extend-until-before-start", "POST", f"/placements/{p}/extend", {"until": "2025-01-15"}, "until", 422),
        Bad("end-reason-invalid", "POST", f"/placements/{p}/end", {"ends_on": "2025-06-01", "reason": "bored"},
            "reason", 422),
        Bad("end-before-start", "POST", f"/placements/{p}/end", {"ends_on": "2025-01-01", "reason": "resigned"},
            "ends_on", 422),
        Bad("end-year-1", "POST", f"/placements/{p}/end", {"ends_on": "0001-01-01", "reason": "resigned"},
            "ends_on", 422),
        Bad("sickness-9999", "POST", f"/placements/{p}/sickness", {"first_sick_day": "9999-12-31"},
            "first_sick_day", 422),
        Bad("sickness-in-future", "POST", f"/placements/{p}/sickness", {"first_sick_day": NEXT_WEEK},
            "first_sick_day", 422),
        Bad("recovery-not-a-date", "POST", f"/placements/{p}/recovery", {"recovered_on": "x"}, "recovered_on", 422),
        Bad("responsible-malformed", "POST", f"/placements/{p}/responsible", {"responsible_user_id": "nobody"},
            "responsible_user_id", 422),
        Bad("checklist-label-empty", "POST", f"/placements/{p}/support/items", {"label": ""}, "label", 422),
        Bad("checklist-responsible-invalid", "POST", f"/placements/{p}/support/items",
            {"label": "Werkplek", "responsible": "ceo"}, "responsible", 422),
        Bad("adjustment-kind-invalid", "POST", f"/placements/{p}/support/adjustments",
            {"kind": "spaceship", "description": "x"}, "kind", 422),
        Bad("coaching-hours-number", "POST", f"/placements/{p}/support/coaching",
            {"held_on": "2025-03-01", "hours": 2}, "hours", 422),
        Bad("coaching-hours-13", "POST", f"/placements/{p}/support/coaching",
            {"held_on": "2025-03-01", "hours": "13"}, "hours", 422),
        Bad("coaching-held-2101", "POST", f"/placements/{p}/support/coaching",
            {"held_on": "2101-01-01", "hours": "1"}, "held_on", 422),
        Bad("check-in-with-whom-missing", "POST", f"/placements/{p}/support/check-ins", {"held_on": "2025-03-01"},
            "with_whom", 422),
        # -- employers' support, contributions ------------------------------------------------------
        Bad("activity-participants-string", "POST", f"/employers/{e}/support-activities",
            {**activity, "participants": "3"}, "participants", 422),
        Bad("activity-participants-negative", "POST", f"/employers/{e}/support-activities",
            {**activity, "participants": -1}, "participants", 422),
        # -- team sessions and the managers' survey (issue 16) ------------------------------------
        Bad("team-session-managers-string", "POST", f"/employers/{e}/team-sessions",
            {"kind": "workshop", "held_on": "2025-03-01", "managers": "5"}, "managers", 422),
        Bad("team-session-managers-100000", "POST", f"/employers/{e}/team-sessions",
            {"kind": "workshop", "held_on": "2025-03-01", "managers": 100000}, "managers", 422),
        Bad("team-session-kind-invalid", "POST", f"/employers/{e}/team-sessions",
            {"kind": "borrel", "held_on": "2025-03-01", "managers": 5}, "kind", 422),
        Bad("team-session-held-2101", "POST", f"/employers/{e}/team-sessions",
            {"kind": "workshop", "held_on": "2101-03-01", "managers": 5}, "held_on", 422),
        Bad("survey-knowledge-string", "POST", f"/employers/{e}/team-sessions/session-1/answers",
            {"knowledge": "4", "confidence": 3, "would_hire_again": "yes"}, "knowledge", 422),
        Bad("survey-hire-missing", "POST", f"/employers/{e}/team-sessions/session-1/answers",
            {"knowledge": 4, "confidence": 3}, "would_hire_again", 422),
        Bad("survey-unknown-session", "POST", f"/employers/{e}/team-sessions/session-99/answers",
            {"knowledge": 4, "confidence": 3, "would_hire_again": "yes"}, "session_id", 422),
        Bad("contribution-kind-invalid", "POST", f"/contracts/{c}/contributions", {**purchase, "kind": "gift"},
            "kind", 422),
        Bad("contribution-kind-missing", "POST", f"/contracts/{c}/contributions", without(purchase, "kind"),
            "kind", 422),
        Bad("purchase-amount-number", "POST", f"/contracts/{c}/contributions",
            {**purchase, "invoice_amount_eur_excl_vat": 100}, "invoice_amount_eur_excl_vat", 422),
        Bad("purchase-register-invalid", "POST", f"/contracts/{c}/contributions", {**purchase, "register": "none"},
            "register", 422),
        Bad("purchase-invoice-2150", "POST", f"/contracts/{c}/contributions", {**purchase, "invoice_date": "2150-01-01"},
            "invoice_date", 422),
        Bad("other-costs-negative", "POST", f"/contracts/{c}/contributions",
            {**without(other, "hours"), "costs_eur": "-3"}, "costs_eur", 422),
        Bad("other-hours-number", "POST", f"/contracts/{c}/contributions", {**other, "hours": 2}, "hours", 422),
        Bad("accept-decided-3000", "POST", "/contributions/{contribution}/accept", {"decided_on": "3000-01-01"},
            "decided_on", 422),
        Bad("reject-reason-too-long", "POST", "/contributions/{contribution}/reject", {"reason": over(4001)},
            "reason", 422),
        Bad("accept-contribution-malformed", "POST", "/contributions/%00/accept", {}, None, 404),
    ]


def bad_statement_bodies() -> list[Bad]:
    """Period statements: prepare, submit, decide (issue 12). {statement} is a
    submitted statement of {stmt_contract} (2025, one line L1, decided by the
    agency), {draft} a draft of it (2026); {contract} runs 2025-2027."""
    c, sc, st, d = "{contract}", "{stmt_contract}", "{statement}", "{draft}"
    period = {"period_start": "2026-01-01", "period_end": "2026-12-31"}
    ok = {"line_id": "L1", "decision": "accepted"}
    nobody = str(uuid.uuid4())
    return [
        Bad("prepare-start-missing", "POST", f"/contracts/{c}/statements", {"period_end": "2025-12-31"},
            "period_start", 422),
        Bad("prepare-end-missing", "POST", f"/contracts/{c}/statements", {"period_start": "2025-01-01"},
            "period_end", 422),
        Bad("prepare-start-month-13", "POST", f"/contracts/{c}/statements", {**period, "period_start": "2026-13-01"},
            "period_start", 422),
        Bad("prepare-end-feb-30", "POST", f"/contracts/{c}/statements", {**period, "period_end": "2026-02-30"},
            "period_end", 422),
        Bad("prepare-start-number", "POST", f"/contracts/{c}/statements", {**period, "period_start": 20260101},
            "period_start", 422),
        Bad("prepare-end-null", "POST", f"/contracts/{c}/statements", {**period, "period_end": None},
            "period_end", 422),
        Bad("prepare-start-year-1", "POST", f"/contracts/{c}/statements", {**period, "period_start": "0001-01-01"},
            "period_start", 422),
        Bad("prepare-end-9999", "POST", f"/contracts/{c}/statements", {**period, "period_end": "9999-12-31"},
            "period_end", 422),
        Bad("prepare-reversed", "POST", f"/contracts/{c}/statements",
            {"period_start": "2026-12-31", "period_end": "2026-01-01"}, "period_end", 422),
        Bad("prepare-before-the-term", "POST", f"/contracts/{c}/statements",
            {"period_start": "2024-01-01", "period_end": "2024-12-31"}, "period_start", 422),
        Bad("prepare-after-the-term", "POST", f"/contracts/{c}/statements",
            {"period_start": "2028-01-01", "period_end": "2028-12-31"}, "period_end", 422),
        Bad("prepare-overlaps-a-submitted-one", "POST", f"/contracts/{sc}/statements",
            {"period_start": "2025-06-01", "period_end": "2025-12-31"}, "period_start", 422),
        Bad("prepare-overlaps-a-draft", "POST", f"/contracts/{sc}/statements",
            {"period_start": "2026-06-01", "period_end": "2026-09-30"}, "period_start", 422),
        Bad("prepare-not-a-reporting-period", "POST", f"/contracts/{c}/statements",
            {"period_start": "2026-02-01", "period_end": "2026-12-31"}, "period_start", 422),
        Bad("prepare-ends-mid-period", "POST", f"/contracts/{c}/statements",
            {"period_start": "2026-01-01", "period_end": "2026-06-30"}, "period_end", 422),
        Bad("prepare-unknown-field", "POST", f"/contracts/{c}/statements", {**period, "final": True}, "final", 422),
        Bad("prepare-body-array", "POST", f"/contracts/{c}/statements", [period], "body", 422),
        Bad("prepare-contract-malformed", "POST", "/contracts/not-a-uuid/statements", period, None, 404),
        Bad("prepare-contract-unknown", "POST", f"/contracts/{nobody}/statements", period, None, 404),
        Bad("submit-statement-malformed", "POST", "/statements/not-a-uuid/submit", None, None, 404),
        Bad("submit-statement-unknown", "POST", f"/statements/{nobody}/submit", None, None, 404),
        Bad("submit-twice", "POST", f"/statements/{st}/submit", None, None, 409),
        Bad("decisions-not-a-list", "POST", f"/statements/{st}/decisions", ok, "body", 422),
        Bad("decisions-empty", "POST", f"/statements/{st}/decisions", [], "body", 422),
        Bad("decisions-list-of-strings", "POST", f"/statements/{st}/decisions", ["L1"], "0", 422),
        Bad("decisions-line-unknown", "POST", f"/statements/{st}/decisions", [{**ok, "line_id": "L99"}],
            "line_id", 422),
        Bad("decisions-line-missing", "POST", f"/statements/{st}/decisions", [{"decision": "accepted"}],
            "0.line_id", 422),
        Bad("decisions-line-number", "POST", f"/statements/{st}/decisions", [{**ok, "line_id": 1}],
            "0.line_id", 422),
        Bad("decisions-line-too-long", "POST", f"/statements/{st}/decisions", [{**ok, "line_id": over(21)}],
            "0.line_id", 422),
        Bad("decisions-decision-invalid", "POST", f"/statements/{st}/decisions", [{**ok, "decision": "maybe"}],
            "decision", 422),
        Bad("decisions-decision-missing", "POST", f"/statements/{st}/decisions", [{"line_id": "L1"}],
            "0.decision", 422),
        Bad("decisions-decision-bool", "POST", f"/statements/{st}/decisions", [{**ok, "decision": True}],
            "0.decision", 422),
        Bad("decisions-rejected-without-reason", "POST", f"/statements/{st}/decisions",
            [{"line_id": "L1", "decision": "rejected"}], "reason", 422),
        Bad("decisions-rejected-blank-reason", "POST", f"/statements/{st}/decisions",
            [{"line_id": "L1", "decision": "rejected", "reason": "   "}], "reason", 422),
        Bad("decisions-reason-too-long", "POST", f"/statements/{st}/decisions",
            [{"line_id": "L1", "decision": "rejected", "reason": over(4001)}], "0.reason", 422),
        Bad("decisions-reason-nul", "POST", f"/statements/{st}/decisions",
            [{"line_id": "L1", "decision": "rejected", "reason": "geen\x00factuur"}], "reason", 422),
        Bad("decisions-duplicate-line", "POST", f"/statements/{st}/decisions",
            [ok, {"line_id": "L1", "decision": "rejected", "reason": "toch niet"}], "line_id", 422),
        Bad("decisions-one-good-one-unknown", "POST", f"/statements/{st}/decisions",
            [ok, {**ok, "line_id": "L2"}], "line_id", 422),
        Bad("decisions-unknown-field", "POST", f"/statements/{st}/decisions", [{**ok, "decided_on": "2025-01-01"}],
            "0.decided_on", 422),
        Bad("decisions-huge-list", "POST", f"/statements/{st}/decisions",
            [{**ok, "line_id": f"L{i}"} for i in range(1001)], "body", 422),
        Bad("decisions-statement-malformed", "POST", "/statements/not-a-uuid/decisions", [ok], None, 404),
        Bad("decisions-statement-unknown", "POST", f"/statements/{nobody}/decisions", [ok], None, 404),
        Bad("decisions-on-a-draft", "POST", f"/statements/{d}/decisions", [ok], None, 409),
    ]


def bad_link_bodies() -> list[Bad]:
    """Links to platform organisations: a contract's authority, an employer
    record's employer organisation ({authority_org} and {employer_org} exist;
    `null` unlinks, a valid request), and the contract's reporting period."""
    e, c = "{employer}", "{contract}"
    contract = contract_body(e)
    nobody = str(uuid.uuid4())
    return [
        Bad("contract-reporting-period-month", "POST", "/contracts", {**contract, "reporting_period": "month"},
            "reporting_period", 422),
        Bad("amend-reporting-period-number", "PATCH", f"/contracts/{c}", {"reporting_period": 4},
            "reporting_period", 422),
        Bad("contract-authority-org-malformed", "POST", "/contracts", {**contract, "authority_org_id": "utrecht"},
            "authority_org_id", 422),
        Bad("contract-authority-org-number", "POST", "/contracts", {**contract, "authority_org_id": 7},
            "authority_org_id", 422),
        Bad("contract-authority-org-unknown", "POST", "/contracts", {**contract, "authority_org_id": nobody},
            "authority_org_id", 422),
        Bad("contract-authority-org-an-employer", "POST", "/contracts",
            {**contract, "authority_org_id": "{employer_org}"}, "authority_org_id", 422),
        Bad("amend-authority-org-malformed", "PATCH", f"/contracts/{c}", {"authority_org_id": "x"},
            "authority_org_id", 422),
        Bad("amend-authority-org-unknown", "PATCH", f"/contracts/{c}", {"authority_org_id": nobody},
            "authority_org_id", 422),
        Bad("amend-authority-org-an-employer", "PATCH", f"/contracts/{c}", {"authority_org_id": "{employer_org}"},
            "authority_org_id", 422),
        Bad("employer-org-malformed", "POST", "/employers", {"name": "De Vries", "org_id": "de-vries"}, "org_id", 422),
        Bad("employer-org-unknown", "POST", "/employers", {"name": "De Vries", "org_id": nobody}, "org_id", 422),
        Bad("employer-org-an-authority", "POST", "/employers", {"name": "De Vries", "org_id": "{authority_org}"},
            "org_id", 422),
        Bad("employer-link-org-missing", "PATCH", f"/employers/{e}", {}, "org_id", 422),
        Bad("employer-link-org-list", "PATCH", f"/employers/{e}", {"org_id": ["{employer_org}"]}, "org_id", 422),
        Bad("employer-link-org-malformed", "PATCH", f"/employers/{e}", {"org_id": "1234"}, "org_id", 422),
        Bad("employer-link-org-unknown", "PATCH", f"/employers/{e}", {"org_id": nobody}, "org_id", 422),
        Bad("employer-link-org-an-authority", "PATCH", f"/employers/{e}", {"org_id": "{authority_org}"},
            "org_id", 422),
        Bad("employer-link-unknown-field", "PATCH", f"/employers/{e}", {"org_id": "{employer_org}", "name": "X"},
            "name", 422),
    ]


def bad_notification_bodies() -> list[Bad]:
    """Marking notifications read (the in-tenant authority user has one unread)."""
    path = "/notifications/read"
    return [
        Bad("read-ids-string", "POST", path, {"ids": "all"}, "ids", 422, who="authority"),
        Bad("read-ids-empty", "POST", path, {"ids": []}, "ids", 422, who="authority"),
        Bad("read-ids-zero", "POST", path, {"ids": [0]}, "ids", 422, who="authority"),
        Bad("read-ids-negative", "POST", path, {"ids": [-1]}, "ids", 422, who="authority"),
        Bad("read-ids-huge", "POST", path, {"ids": [2**63]}, "ids", 422, who="authority"),
        Bad("read-ids-fraction", "POST", path, {"ids": [1.5]}, "ids", 422, who="authority"),
        Bad("read-ids-text-numbers", "POST", path, {"ids": ["1"]}, "ids", 422, who="authority"),
        Bad("read-ids-too-many", "POST", path, {"ids": list(range(1, 502))}, "ids", 422, who="authority"),
        Bad("read-body-array", "POST", path, [1], "body", 422, who="authority"),
        Bad("read-unknown-field", "POST", path, {"all": True}, "all", 422, who="authority"),
    ]


def bad_webhook_bodies() -> list[Bad]:
    """Webhook subscriptions ({webhook}: one of the agency's)."""
    good = {"url": "https://93.184.216.34/hook", "event_types": ["*"]}
    w = "/webhooks/{webhook}"
    return [
        Bad("webhook-url-missing", "POST", "/webhooks", {"event_types": ["*"]}, "url", 422),
        Bad("webhook-url-number", "POST", "/webhooks", {**good, "url": 443}, "url", 422),
        Bad("webhook-url-empty", "POST", "/webhooks", {**good, "url": ""}, "url", 422),
        Bad("webhook-url-http", "POST", "/webhooks", {**good, "url": "http://93.184.216.34/hook"}, "url", 422),
        Bad("webhook-url-loopback", "POST", "/webhooks", {**good, "url": "https://127.0.0.1/hook"}, "url", 422),
        Bad("webhook-url-metadata", "POST", "/webhooks", {**good, "url": "https://169.254.169.254/"}, "url", 422),
        Bad("webhook-url-private", "POST", "/webhooks", {**good, "url": "https://192.168.1.1/"}, "url", 422),
        Bad("webhook-url-mapped-loopback", "POST", "/webhooks", {**good, "url": "https://[::ffff:127.0.0.1]/"},
            "url", 422),
        Bad("webhook-url-credentials", "POST", "/webhooks", {**good, "url": "https://a:b@93.184.216.34/"}, "url", 422),
        Bad("webhook-url-no-host", "POST", "/webhooks", {**good, "url": "https:///hook"}, "url", 422),
        Bad("webhook-url-bad-port", "POST", "/webhooks", {**good, "url": "https://93.184.216.34:99999/"}, "url", 422),
        Bad("webhook-url-javascript", "POST", "/webhooks", {**good, "url": "javascript:alert(1)"}, "url", 422),
        Bad("webhook-url-too-long", "POST", "/webhooks", {**good, "url": "https://93.184.216.34/" + over(2001)},
            "url", 422),
        Bad("webhook-types-missing", "POST", "/webhooks", {"url": good["url"]}, "event_types", 422),
        Bad("webhook-types-empty", "POST", "/webhooks", {**good, "event_types": []}, "event_types", 422),
        Bad("webhook-types-string", "POST", "/webhooks", {**good, "event_types": "*"}, "event_types", 422),
        Bad("webhook-types-unknown", "POST", "/webhooks", {**good, "event_types": ["Nope"]}, "event_types", 422),
        Bad("webhook-types-number", "POST", "/webhooks", {**good, "event_types": [1]}, "event_types", 422),
        Bad("webhook-org-sickness", "POST", "/webhooks", {**good, "event_types": ["SicknessReported"]},
            "event_types", 422, who="org employer"),
        Bad("webhook-description-long", "POST", "/webhooks", {**good, "description": over(201)}, "description", 422),
        Bad("webhook-secret-given", "POST", "/webhooks", {**good, "secret": "mine"}, "secret", 422),
        Bad("webhook-by-in-tenant-authority", "POST", "/webhooks", good, None, 403, who="authority"),
        Bad("webhook-patch-url", "PATCH", w, {"url": "ftp://93.184.216.34/"}, "url", 422),
        Bad("webhook-patch-types", "PATCH", w, {"event_types": []}, "event_types", 422),
        Bad("webhook-patch-status", "PATCH", w, {"status": "active"}, "status", 422),
        Bad("webhook-patch-if-match", "PATCH", w, {"description": "x"}, "If-Match", 422,
            headers={"If-Match": "latest"}),
        Bad("webhook-patch-stale", "PATCH", w, {"description": "x"}, None, 409, headers={"If-Match": "99"}),
        Bad("webhook-bad-id", "PATCH", "/webhooks/not-an-id", {"description": "x"}, None, 404),
        Bad("webhook-replay-since-missing", "POST", w + "/replay", {}, "since", 422),
        Bad("webhook-replay-since-words", "POST", w + "/replay", {"since": "yesterday"}, "since", 422),
        Bad("webhook-replay-since-no-zone", "POST", w + "/replay", {"since": "2026-01-01T00:00:00"}, "since", 422),
        Bad("webhook-replay-since-number", "POST", w + "/replay", {"since": 0}, "since", 422),
        Bad("webhook-replay-unknown-delivery", "POST", w + "/deliveries/" + str(uuid.uuid4()) + "/replay", None,
            None, 404),
    ]


def bad_queries() -> list[Bad]:
    c, e, v, p = "{contract}", "{employer}", "{vacancy}", "{placement}"
    return [
        Bad("compliance-contract-as-of-year-1", "GET", f"/contracts/{c}/compliance?as_of=0001-01-01", field="as_of"),
        Bad("compliance-contract-as-of-9999", "GET", f"/contracts/{c}/compliance?as_of=9999-12-31", field="as_of"),
        Bad("compliance-as-of-year-1", "GET", "/compliance?as_of=0001-01-01", field="as_of"),
        Bad("compliance-as-of-9999", "GET", "/compliance?as_of=9999-12-31", field="as_of"),
        Bad("compliance-as-of-words", "GET", "/compliance?as_of=yesterday", field="as_of"),
        Bad("compliance-known-at-year-1", "GET", "/compliance?known_at=0001-01-01T00:00:00Z", field="known_at"),
        Bad("compliance-known-at-no-zone", "GET", "/compliance?known_at=2026-01-01T00:00:00", field="known_at"),
        Bad("compliance-min-position-negative", "GET", "/compliance?min_position=-1", field="min_position"),
        Bad("compliance-min-position-huge", "GET", "/compliance?min_position=99999999999999999999",
            field="min_position"),
        Bad("compliance-min-position-superscript", "GET", "/compliance?min_position=%C2%B2", field="min_position"),
        Bad("access-log-limit-superscript", "GET", "/access-log?limit=%C2%B9", field="limit"),
        Bad("duties-within-days-superscript", "GET", "/duties?within_days=%C2%B9", field="within_days"),
        Bad("contributions-as-of-year-1", "GET", f"/contracts/{c}/contributions?as_of=0001-01-01", field="as_of"),
        Bad("retention-as-of-2101", "GET", "/retention?as_of=2101-01-01", field="as_of"),
        Bad("employer-retention-as-of-9999", "GET", f"/employers/{e}/retention?as_of=9999-12-31", field="as_of"),
        Bad("duties-as-of-9999", "GET", "/duties?as_of=9999-12-31", field="as_of"),
        Bad("duties-within-days-huge", "GET", "/duties?within_days=99999", field="within_days"),
        Bad("duties-status-invalid", "GET", "/duties?status=bogus", field="status"),
        Bad("placement-duties-as-of-year-1", "GET", f"/placements/{p}/duties?as_of=0001-01-01", field="as_of"),
        Bad("suggestions-starts-on-year-1", "GET", f"/vacancies/{v}/suggestions?starts_on=0001-01-01",
            field="starts_on"),
        Bad("suggestions-limit-0", "GET", f"/vacancies/{v}/suggestions?limit=0", field="limit"),
        Bad("suggestions-region-too-long", "GET", f"/vacancies/{v}/suggestions?region={over(101)}", field="region"),
        Bad("reminders-since-9999", "GET", "/reminders?since=9999-12-31", field="since"),
        Bad("reminders-mine-maybe", "GET", "/reminders?mine=maybe", field="mine"),
        Bad("access-log-limit-0", "GET", "/access-log?limit=0", field="limit"),
        Bad("access-log-since-year-1", "GET", "/access-log?since=0001-01-01T00:00:00Z", field="since"),
        Bad("access-log-subject-malformed", "GET", "/access-log?subject=not-a-uuid", status=404),
    ]


def bad_portfolio_queries() -> list[Bad]:
    """The organisations' cross-agency lists (issue 12) and the notifications list."""
    out = []
    for path, who in (("/authority/contracts", "org authority"), ("/employer/contracts", "org employer"),
                      ("/employer/placements", "org employer")):
        tag = path.strip("/").replace("/", "-")
        out += [
            Bad(f"{tag}-status-bogus", "GET", f"{path}?status=bogus", field="status", status=422, who=who),
            Bad(f"{tag}-agency-malformed", "GET", f"{path}?agency=kansrijk", field="agency", status=422, who=who),
            Bad(f"{tag}-from-feb-30", "GET", f"{path}?from=2026-02-30", field="from", status=422, who=who),
            Bad(f"{tag}-to-9999", "GET", f"{path}?to=9999-12-31", field="to", status=422, who=who),
            Bad(f"{tag}-from-after-to", "GET", f"{path}?from=2026-12-31&to=2026-01-01", field="to", status=422,
                who=who),
            Bad(f"{tag}-as-of-year-1", "GET", f"{path}?as_of=0001-01-01", field="as_of", status=422, who=who),
            Bad(f"{tag}-as-of-words", "GET", f"{path}?as_of=today", field="as_of", status=422, who=who),
            Bad(f"{tag}-supplier-too-long", "GET", f"{path}?supplier={over(201)}", field="supplier", status=422,
                who=who),
            Bad(f"{tag}-format-xml", "GET", f"{path}?format=xml", field="format", status=422, who=who),
        ]
    return out + [
        Bad("employer-placements-contract-status", "GET", "/employer/placements?status=not_met", field="status",
            status=422, who="org employer"),
        Bad("authority-statements-status-bogus", "GET", "/authority/statements?status=open", field="status",
            status=422, who="org authority"),
        Bad("authority-statements-status-draft", "GET", "/authority/statements?status=draft", field="status",
            status=422, who="org authority"),
        Bad("notifications-unread-maybe", "GET", "/notifications?unread=maybe", field="unread", status=422,
            who="authority"),
        Bad("notifications-unread-1", "GET", "/notifications?unread=1", field="unread", status=422, who="authority"),
        Bad("notifications-unread-upper", "GET", "/notifications?unread=TRUE", field="unread", status=422,
            who="authority"),
    ]


def bad_list_queries() -> list[Bad]:
    """The list endpoints (web/api/list_routes.py): page size, cursor, filters."""
    out = []
    for path in ("/employers", "/contracts", "/candidates", "/vacancies", "/placements"):
        tag = "list-" + path.strip("/")
        out += [
            Bad(f"{tag}-limit-0", "GET", f"{path}?limit=0", field="limit", status=422),
            Bad(f"{tag}-limit-501", "GET", f"{path}?limit=501", field="limit", status=422),
            Bad(f"{tag}-limit-words", "GET", f"{path}?limit=ten", field="limit", status=422),
            Bad(f"{tag}-cursor-made-up", "GET", f"{path}?cursor=bm90LWEtY3Vyc29y", field="cursor", status=422),
            Bad(f"{tag}-cursor-too-long", "GET", f"{path}?cursor={over(201)}", field="cursor", status=422),
            Bad(f"{tag}-updated-since-words", "GET", f"{path}?updated_since=yesterday", field="updated_since",
                status=422),
            Bad(f"{tag}-min-position-negative", "GET", f"{path}?min_position=-1", field="min_position",
                status=422),
        ]
    return out + [
        Bad("list-contracts-status-bogus", "GET", "/contracts?status=bogus", field="status", status=422),
        Bad("list-vacancies-status-active", "GET", "/vacancies?status=active", field="status", status=422),
        Bad("list-placements-status-open", "GET", "/placements?status=open", field="status", status=422),
        Bad("list-contracts-employer-malformed", "GET", "/contracts?employer_id=not-a-uuid", field="employer_id",
            status=422),
        Bad("list-placements-contract-malformed", "GET", "/placements?contract_id=42", field="contract_id",
            status=422),
        Bad("list-placements-vacancy-malformed", "GET", "/placements?vacancy_id=x", field="vacancy_id", status=422),
        Bad("list-placements-candidate-malformed", "GET", "/placements?candidate_id=x", field="candidate_id",
            status=422),
        # A cursor of another list (the employers') is not one of the contracts list.
        Bad("list-contracts-cursor-of-employers", "GET", "/contracts?cursor=ZW1wbG95ZXI6MTowMDAwMDAwMC0wMDAwLTAw"
            "MDAtMDAwMC0wMDAwMDAwMDAwMDA", field="cursor", status=422),
        Bad("list-employers-cursor-and-since", "GET", "/employers?cursor=ZW1wbG95ZXI6MTowMDAwMDAwMC0wMDAwLTAw"
            "MDAtMDAwMC0wMDAwMDAwMDAwMDA&updated_since=2026-01-01T00:00:00Z", field="updated_since", status=422),
    ]


def bad_rule_set_bodies() -> list[Bad]:
    """Rule sets published by an authority organisation's user (docs/rule-sets.md): each
    refused naming the field path; agencies may publish none."""
    utrecht = json.loads(resources.files("domain.rulesets").joinpath("utrecht-2024.json").read_text("utf-8"))
    good = {**utrecht, "name": "bad-input-catalogue"}

    def but(**changes: Any) -> dict[str, Any]:
        return {**good, **changes}

    blocks = good["blocks"]
    return [
        Bad("rule-set-value-a-number", "POST", "/rule-sets", but(blocks={**blocks, "ww": {"value_eur": 20000}}),
            "blocks.ww.value_eur", 422, who="org authority"),
        Bad("rule-set-tier-without-bound", "POST", "/rule-sets",
            but(blocks={**blocks, "ww": {"tiers": [{"value_eur": "1"}]}}), "blocks.ww.tiers[0]", 422,
            who="org authority"),
        Bad("rule-set-tiers-descending", "POST", "/rule-sets", but(blocks={**blocks, "ww": {"tiers": [
            {"at_least_months_on_benefit": 12, "value_eur": "2"}, {"at_least_months_on_benefit": 0, "value_eur": "1"}]}}),
            "blocks.ww.tiers", 422, who="org authority"),
        Bad("rule-set-unknown-group", "POST", "/rule-sets", but(blocks={**blocks, "martians": {"value_eur": "1"}}),
            "blocks.martians", 422, who="org authority"),
        Bad("rule-set-missing-notes", "POST", "/rule-sets", {k: v for k, v in good.items() if k != "notes"},
            "notes", 422, who="org authority"),
        Bad("rule-set-unknown-key", "POST", "/rule-sets", but(bonus_for_everyone="1000000"),
            "bonus_for_everyone", 422, who="org authority"),
        Bad("rule-set-version-zero", "POST", "/rule-sets", but(version=0), "version", 422, who="org authority"),
        Bad("rule-set-name-upper-case", "POST", "/rule-sets", but(name="Zwolle 2025"), "name", 422,
            who="org authority"),
        Bad("rule-set-basis-zero", "POST", "/rule-sets", but(basis_hours="0"), "basis_hours", 422,
            who="org authority"),
        Bad("rule-set-actual-actual-366", "POST", "/rule-sets", but(day_count="actual/actual", days_per_year=366),
            "days_per_year", 422, who="org authority"),
        Bad("rule-set-by-an-agency", "POST", "/rule-sets", good, None, 403),
    ]


def bad_import_bodies() -> list[Bad]:
    """Confirming and mapping a spreadsheet import (docs/import.md)."""
    path = "/imports/{import}"
    return [
        Bad("import-confirm-no-fingerprint", "POST", path + "/confirm", {}, "fingerprint", 422),
        Bad("import-confirm-fingerprint-number", "POST", path + "/confirm", {"fingerprint": 7}, "fingerprint", 422),
        Bad("import-confirm-fingerprint-too-long", "POST", path + "/confirm", {"fingerprint": over(65)},
            "fingerprint", 422),
        Bad("import-confirm-keep-file-text", "POST", path + "/confirm", {"fingerprint": "x", "keep_file": "yes"},
            "keep_file", 422),
        Bad("import-confirm-stale", "POST", path + "/confirm", {"fingerprint": "0" * 32}, None, 409),
        Bad("import-confirm-unknown-field", "POST", path + "/confirm", {"fingerprint": "x", "tenant_id": "x"},
            "tenant_id", 422),
        Bad("import-mapping-not-a-dict", "POST", path + "/mapping", {"mapping": {"employers": "name"}},
            "mapping", 422),
        Bad("import-mapping-unknown-kind", "POST", path + "/mapping", {"mapping": {"shoes": {"Naam": "name"}}},
            "kind", 422),
        Bad("import-mapping-unknown-field", "POST", path + "/mapping", {"mapping": {"employers": {"Naam": "shoe"}}},
            "mapping", 422),
        Bad("import-mapping-twice", "POST", path + "/mapping",
            {"mapping": {"employers": {"Naam": "name", "Sleutel": "name"}}}, "mapping", 422),
        Bad("import-mapping-json-text", "POST", path + "/mapping", None, "Content-Type", 415, raw=b"mapping=x",
            headers={"Content-Type": "text/plain"}),
    ]


BODIES = (bad_json_bodies() + bad_statement_bodies() + bad_import_bodies() + bad_link_bodies() + bad_notification_bodies()
          + bad_rule_set_bodies() + bad_webhook_bodies())
QUERIES = bad_queries() + bad_portfolio_queries() + bad_list_queries() + [
    Bad("webhook-log-status", "GET", "/webhooks/{webhook}/deliveries?status=lost", field="status"),
    Bad("webhook-log-limit", "GET", "/webhooks/{webhook}/deliveries?limit=0", field="limit"),
    Bad("webhook-log-limit-words", "GET", "/webhooks/{webhook}/deliveries?limit=all", field="limit"),
]


@dataclass
class Seeded(Org):
    """The attacked tenant, with a token per kind of user (Bad.who)."""

    tokens: dict[str, str] = default(default_factory=dict)

    def create_webhook(self) -> str:
        r = self.post("/webhooks", {"url": "https://93.184.216.34/hook", "event_types": ["*"]})
        assert r.status_code == 201, r.text
        return r.json()["subscription"]["id"]

    def stored(self) -> tuple[int, int]:
        """What a refusal must leave as it was: the tenant's event position, and
        how many of its notifications are marked read (platform.notifications)."""
        with self.system.stores.database("default").connection() as conn:
            read = conn.execute("SELECT count(*) AS n FROM platform.notifications WHERE tenant_id = %s"
                                " AND read_at IS NOT NULL", (self.tenant.id,)).fetchone()["n"]
            # Webhook subscriptions: how many, and their versions (a change raises one).
            hooks = conn.execute("SELECT count(*) AS n, coalesce(sum(version), 0) AS v FROM"
                                 " platform.webhook_subscriptions WHERE tenant_id = %s OR org_id = ANY(%s)",
                                 (self.tenant.id, [uuid.UUID(self.ids[k]) for k in ("authority_org", "employer_org")
                                                   if k in self.ids])).fetchone()
        return self.event_count(), read, hooks["n"], hooks["v"]

    def unread(self) -> int:
        with self.system.stores.database("default").connection() as conn:
            return conn.execute("SELECT count(*) AS n FROM platform.notifications WHERE tenant_id = %s"
                                " AND read_at IS NULL", (self.tenant.id,)).fetchone()["n"]


def purchase_on(org: Org, contract: str, day: str = "2025-03-01") -> str:
    return org.create(f"/contracts/{contract}/contributions", {
        "kind": "social_enterprise_purchase", "supplier": "Groen & Co", "invoice_amount_eur_excl_vat": "100.00",
        "register": "registered_social_enterprise", "invoice_date": day, "description": "Groen"})


@pytest.fixture(scope="module")
def seeded(system: System, openapi_check: OpenAPICheck) -> Iterator[Seeded]:
    """One tenant with an employer, a contract, a candidate, a vacancy, a
    placement and a reported contribution; a contract the agency decides with
    a submitted 2025 statement (one line) and a 2026 draft; an authority and
    an employer organisation with a user each; an in-tenant authority user
    told of the submitted statement (one unread notification). The bad
    requests go at them; each answer is checked against the OpenAPI too
    (tests/api/openapi_check.py): every refusal is a documented one."""
    with TestClient(create_app(system)) as client:
        client.event_hooks["response"].append(openapi_check.hook)
        tenant = system.registry.create_tenant(random_slug("attack"), "Werkbedrijf Utrecht B.V.")
        org = Seeded(system=system, client=client, tenant=tenant, agency_token="")
        org.agency_token = org.token_for("agency")
        org.tokens = {"agency": org.agency_token,
                      "authority": org.token_for("authority", organisation="Gemeente Utrecht")}
        number = uuid.uuid4().int
        orgs = {"authority": system.registry.create_organisation(
                    "authority", "Gemeente Utrecht", oin=f"{number % 10**20:020d}"),
                "employer": system.registry.create_organisation(
                    "employer", "Bouwbedrijf De Vries", kvk=f"{number % 10**8:08d}")}
        for kind, o in orgs.items():
            org.ids[f"{kind}_org"] = str(o.id)
            org.tokens[f"org {kind}"] = system.registry.issue_token(
                system.registry.create_org_user(o.id, f"{uuid.uuid4().hex}@example.org", kind))
        org.seed()
        org.ids["open_vacancy"] = org.create("/vacancies", vacancy_body(org.ids["employer"]))
        org.tokens["employee"] = org.token_for("employee", candidate_id=org.ids["candidate"])
        org.ids["employment"] = org.create("/employments", {"candidate_id": org.ids["candidate"],
                                                            "starts_on": "2025-02-01", "kind": "permanent"})
        decided_by_agency = org.create("/contracts", contract_body(org.ids["employer"], accepted_by="agency"))
        org.ids["contribution"] = purchase_on(org, decided_by_agency)
        stmt_contract = org.create("/contracts", contract_body(org.ids["employer"], accepted_by="agency"))
        purchase_on(org, stmt_contract)
        org.ids["stmt_contract"] = stmt_contract
        org.ids["statement"] = org.create(f"/contracts/{stmt_contract}/statements",
                                          {"period_start": "2025-01-01", "period_end": "2025-12-31"})
        r = org.post(f"/statements/{org.ids['statement']}/submit", None)
        assert r.status_code == 200 and r.json()["lines"] == 1, r.text
        org.ids["draft"] = org.create(f"/contracts/{stmt_contract}/statements",
                                      {"period_start": "2026-01-01", "period_end": "2026-12-31"})
        org.ids["webhook"] = org.create_webhook()
        r = org.client.post(f"{API}/imports", files={"file": ("w.csv", b"Sleutel;Naam\nW1;Drukkerij\n", "text/csv")},
                            data={"kind": "employers"}, headers=bearer(org.agency_token))
        assert r.status_code == 201, r.text
        org.ids["import"] = r.json()["id"]
        assert system.notify(tenants=[tenant]).told >= 1
        assert org.unread() == 1
        yield org


def fill(text: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), m.group(0)), text)


def send(org: Seeded, case: Bad) -> Any:
    headers = {**bearer(org.tokens[case.who]), **case.headers}
    if case.raw is not None:
        content = case.raw
        headers.setdefault("Content-Type", "application/json")
    elif case.body is None and case.method == "POST":
        content = b""
    else:
        content = json.dumps(json.loads(fill(json.dumps(case.body), org.ids))).encode()
        headers.setdefault("Content-Type", "application/json")
    return org.client.request(case.method, API + fill(case.path, org.ids), content=content, headers=headers)


def assert_refused(response: Any, case: Bad) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    if case.status is not None:
        assert response.status_code == case.status, response.text[:500]
    body = response.json()
    assert body["detail"], body
    if case.field is not None:
        named = [e["field"] for e in body.get("errors", [])]
        assert any(f == case.field or f.startswith(case.field + ".") for f in named), (case.field, body)


@pytest.mark.parametrize("case", BODIES, ids=[b.name for b in BODIES])
def test_a_bad_request_body_is_refused_naming_the_field_and_nothing_is_stored(seeded: Seeded, case: Bad) -> None:
    before = seeded.stored()
    assert_refused(send(seeded, case), case)
    assert seeded.stored() == before


@pytest.mark.parametrize("case", QUERIES, ids=[q.name for q in QUERIES])
def test_a_bad_query_parameter_is_refused_naming_it(seeded: Seeded, case: Bad) -> None:
    before = seeded.stored()
    assert_refused(send(seeded, case), case)
    assert seeded.stored() == before


def test_the_statement_and_notification_cases_start_from_a_state_they_could_change(seeded: Seeded) -> None:
    """The decisions and mark-read cases are refused, not idle: the same
    requests done right decide the line and mark the notification read."""
    st = seeded.ids["statement"]
    before = seeded.stored()
    r = seeded.post("/notifications/read", {"ids": None}, token=seeded.tokens["authority"])
    assert r.status_code == 200 and r.json() == {"marked_read": 1}, r.text
    assert seeded.stored()[1] == before[1] + 1
    r = seeded.post(f"/statements/{st}/decisions", [{"line_id": "L1", "decision": "accepted"}])
    assert r.status_code == 200 and r.json()["status"] == "decided", r.text
    assert seeded.stored()[0] > before[0]


def test_deep_json_is_refused_without_an_error_in_the_log(seeded: Org, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        for path, raw in (("/employers", DEEP), ("/placements", DEEP_ARRAY), ("/contracts/{contract}/contributions",
                                                                              DEEP_ARRAY)):
            r = seeded.client.post(API + fill(path, seeded.ids), content=raw,
                                   headers={**bearer(seeded.agency_token), "Content-Type": "application/json"})
            assert r.status_code in (400, 422), r.text[:300]
            assert r.json()["errors"][0]["field"] in ("body", "name")
    assert [rec.getMessage() for rec in caplog.records if rec.levelno >= logging.ERROR] == []
    assert "RecursionError" not in caplog.text


# -- document uploads (multipart) ----------------------------------------------------------------

@dataclass(frozen=True)
class BadUpload:
    """A bad upload to a contribution's or a statement line's documents: `file` as (name, bytes) or
    None for no file part; `raw` (with its Content-Type) sent as is instead."""

    name: str
    field: str | None
    file: tuple[str, bytes] | None = ("factuur.pdf", document_samples.pdf())
    kind: str | None = "invoice"
    raw: tuple[bytes, str] | None = None


BOUNDARY = "sweepboundary"
UPLOADS = [
    BadUpload("text-named-pdf", "file", file=("factuur.pdf", document_samples.text_pretending())),
    BadUpload("html-named-pdf", "file", file=("factuur.pdf", b"<html><script>alert(1)</script></html>")),
    BadUpload("gif-named-png", "file", file=("scan.png", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")),
    BadUpload("zip-named-pdf", "file", file=("factuur.pdf", b"PK\x03\x04" + b"\x00" * 40)),
    BadUpload("svg-named-png", "file", file=("logo.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>')),
    BadUpload("empty-file", "file", file=("leeg.pdf", b"")),
    BadUpload("no-file-part", "file", file=None),
    BadUpload("kind-missing", "kind", kind=None),
    BadUpload("kind-unknown", "kind", kind="selfie"),
    BadUpload("kind-too-long", "kind", kind=over(10_000)),
    BadUpload("filename-only-a-folder", "filename", file=("../", document_samples.pdf())),
    BadUpload("filename-too-long", "filename", file=(over(300) + ".pdf", document_samples.pdf())),
    BadUpload("json-instead-of-a-form", "file", raw=(b'{"kind": "invoice"}', "application/json")),
    BadUpload("no-boundary", None, raw=(b"--x\r\n", "multipart/form-data")),
    BadUpload("truncated-form", None, raw=(
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.4"
        .encode(), f"multipart/form-data; boundary={BOUNDARY}")),
]


@pytest.fixture(scope="module")
def open_line(seeded: Org) -> str:
    """The documents path of an undecided line: a contract of its own (the
    others keep deciding per contribution) with an activity, its 2025 statement submitted."""
    contract = seeded.create("/contracts", contract_body(seeded.ids["employer"]))
    seeded.create(f"/contracts/{contract}/contributions", {
        "kind": "other_activity", "description": "Gastles", "activity_date": "2025-03-01", "hours": "2"})
    statement = seeded.create(f"/contracts/{contract}/statements",
                              {"period_start": "2025-01-01", "period_end": "2025-12-31"})
    assert seeded.post(f"/statements/{statement}/submit", None).status_code == 200
    return f"{API}/statements/{statement}/lines/L1/documents"


@pytest.mark.parametrize("case", UPLOADS, ids=[u.name for u in UPLOADS])
def test_a_bad_upload_is_refused_naming_the_field_and_nothing_is_stored(seeded: Org, case: BadUpload) -> None:
    upload_refused(seeded, case, f"{API}/contributions/{seeded.ids['contribution']}/documents")


@pytest.mark.parametrize("case", UPLOADS, ids=[u.name for u in UPLOADS])
def test_a_bad_upload_to_a_statement_line_is_refused_naming_the_field_and_nothing_is_stored(
        seeded: Org, open_line: str, case: BadUpload) -> None:
    upload_refused(seeded, case, open_line)


@pytest.mark.parametrize("path, field, status", [
    ("/statements/{statement}/lines/L99/documents", None, 404),  # named in the path: not found, as an unknown id
    ("/statements/not-a-uuid/lines/L1/documents", None, 404),
    ("/statements/{draft}/lines/L1/documents", None, None)], ids=["unknown-line", "statement-malformed", "a-draft"])
def test_a_good_document_for_a_line_that_cannot_take_it_is_refused(seeded: Seeded, path: str, field: str | None,
                                                                   status: int | None) -> None:
    """A good PDF, to a line the statement does not have, or of a statement
    that is no statement or not submitted (a draft's lines have no ids yet)."""
    before = seeded.stored()
    r = seeded.client.post(API + fill(path, seeded.ids), headers=bearer(seeded.agency_token),
                           files={"file": ("factuur.pdf", document_samples.pdf(), "application/pdf")},
                           data={"kind": "invoice"})
    assert_refused(r, Bad("line-upload", "POST", path, field=field, status=status))
    assert seeded.stored() == before


def upload_refused(seeded: Seeded, case: BadUpload, path: str) -> None:
    before = seeded.stored()
    if case.raw is not None:
        r = seeded.client.post(path, content=case.raw[0],
                               headers={**bearer(seeded.agency_token), "Content-Type": case.raw[1]})
    else:
        r = seeded.client.post(path, files={"file": (*case.file, "application/pdf")} if case.file else None,
                               data={"kind": case.kind} if case.kind is not None else {"other": "x"},
                               headers=bearer(seeded.agency_token))
    assert_refused(r, Bad(case.name, "POST", path, field=case.field))
    assert seeded.stored() == before


# -- spreadsheet uploads (multipart) -------------------------------------------------------------

def _zip_of(files: dict[str, bytes]) -> bytes:
    import zipfile
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return out.getvalue()


IMPORT_UPLOADS = [
    BadUpload("import-empty-file", "file", file=("leeg.csv", b""), kind="employers"),
    BadUpload("import-no-file-part", "file", file=None, kind="employers"),
    BadUpload("import-png-named-csv", "file", file=("werkgevers.csv", document_samples.png()), kind="employers"),
    BadUpload("import-zip-named-xlsx", "file", file=("werkgevers.xlsx", b"PK\x03\x04" + b"\x00" * 40),
              kind="employers"),
    BadUpload("import-docx-named-xlsx", "file", file=("brief.xlsx", _zip_of(
        {"word/document.xml": b"<w:document/>"})), kind="employers"),
    BadUpload("import-kind-unknown", "kind", file=("werkgevers.csv", b"Naam\nDe Vries\n"), kind="shoes"),
    BadUpload("import-kind-missing", "kind", file=("werkgevers.csv", b"Naam\nDe Vries\n"), kind=None),
    BadUpload("import-too-many-columns", "file", file=("breed.csv", (";".join(f"k{i}" for i in range(61)) + "\n1\n")
                                                      .encode()), kind="employers"),
    BadUpload("import-json-instead-of-a-form", "file", raw=(b'{"kind": "employers"}', "application/json")),
]


@pytest.mark.parametrize("case", IMPORT_UPLOADS, ids=[u.name for u in IMPORT_UPLOADS])
def test_a_bad_spreadsheet_upload_is_refused_naming_the_field_and_nothing_is_kept(seeded: Seeded,
                                                                                  case: BadUpload) -> None:
    before = imports_of(seeded)
    upload_refused(seeded, case, f"{API}/imports")
    assert imports_of(seeded) == before


def test_a_spreadsheet_over_the_size_limit_is_refused_naming_the_file(seeded: Seeded) -> None:
    from service.importing import MAX_FILE_BYTES
    before = imports_of(seeded)
    upload_refused(seeded, BadUpload("import-too-large", "file", kind="employers",
                                     file=("groot.csv", b"Naam\n" + b"a" * MAX_FILE_BYTES)), f"{API}/imports")
    assert imports_of(seeded) == before


def test_formula_looking_cells_are_data_never_formulas(seeded: Seeded) -> None:
    """A cell that starts with = + - @ is read as the text it is (CSV and XLSX),
    shown as such in the preview, and nothing is stored before a confirm."""
    import openpyxl
    cells = ["=cmd|' /C calc'!A0", "+31 30 123", "-2+3", "@SUM(A1)"]
    wb = openpyxl.Workbook()
    wb.active.title = "Werkgevers"
    wb.active.append(["Naam"])
    for cell in cells:
        wb.active.cell(row=wb.active.max_row + 1, column=1).value = cell
        wb.active.cell(row=wb.active.max_row, column=1).data_type = "s"
    out = io.BytesIO()
    wb.save(out)
    for name, content in (("w.csv", ("Naam\n" + "\n".join(cells) + "\n").encode()), ("w.xlsx", out.getvalue())):
        before = seeded.stored()
        r = seeded.client.post(f"{API}/imports", files={"file": (name, content, "text/csv")},
                               data={"kind": "employers"}, headers=bearer(seeded.agency_token))
        assert r.status_code == 201, r.text
        rows = seeded.get(f"/imports/{r.json()['id']}/preview").json()["rows"]
        assert [row["cells"]["Naam"] for row in rows] == cells, name
        assert seeded.stored() == before


def imports_of(seeded: Seeded) -> int:
    with seeded.system.stores.database("default").connection() as conn:
        return conn.execute("SELECT count(*) AS n FROM platform.imports WHERE tenant_id = %s",
                            (seeded.tenant.id,)).fetchone()["n"]


def test_the_catalogue_is_large_enough() -> None:
    assert len(BODIES) + len(QUERIES) >= 80


# -- page forms ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class BadForm:
    name: str
    path: str
    form: dict[str, str]
    field: str  # the input whose error the page shows (its id is f-<field>, or prefix-<field>)
    who: str = "agency"  # or authority (decides, told of the statement), or employee (the placed person)


def bad_forms() -> list[BadForm]:
    p, c = "{placement}", "{contract}"
    contract = {"employer_id": "{employer}", "title": "Groenonderhoud", "contracting_authority": "Gemeente Utrecht",
                "contract_value_eur": "1000000", "obligation_percent": "5", "starts_on": "2025-01-01",
                "ends_on": "2027-12-31", "awarded_on": "2024-11-15", "rule_set": "utrecht-2024",
                "accepted_by": "authority"}
    candidate = {"full_name": "Sanne Jansen", "date_of_birth": "1990-06-15", "target_group": "doelgroepregister",
                 "competences": "Administratie"}
    return [
        BadForm("page-employer-name-empty", "/employers", {"name": ""}, "name"),
        BadForm("page-contract-starts-9999", "/contracts", {**contract, "starts_on": "9999-12-01"}, "starts_on"),
        BadForm("page-contract-awarded-year-1", "/contracts", {**contract, "awarded_on": "0001-01-01"}, "awarded_on"),
        BadForm("page-contract-value-words", "/contracts", {**contract, "contract_value_eur": "veel"},
                "contract_value_eur"),
        BadForm("page-contract-percent-150", "/contracts", {**contract, "obligation_percent": "150"},
                "obligation_percent"),
        BadForm("page-candidate-born-1899", "/candidates", {**candidate, "date_of_birth": "1899-12-31"},
                "date_of_birth"),
        BadForm("page-candidate-group-invalid", "/candidates", {**candidate, "target_group": "astronaut"},
                "target_group"),
        BadForm("page-placement-arrangement-invalid", "/placements",
                {"employer_id": "{employer}", "candidate_id": "{candidate}", "starts_on": TODAY,
                 "hours_per_week": "24", "arrangement": "volunteering"}, "arrangement"),
        BadForm("page-hours-200", f"/placements/{p}/hours", {"hours_per_week": "200", "effective_on": TODAY},
                "hours_per_week"),
        BadForm("page-extend-9999", f"/placements/{p}/extend", {"until": "9999-12-31"}, "until"),
        BadForm("page-end-reason-invalid", f"/placements/{p}/end", {"ends_on": TODAY, "reason": "bored"},
                "reason"),
        BadForm("page-feedback-score-9", f"/placements/{p}/feedback", {"score": "9", "from_role": "coach"}, "score"),
        BadForm("page-close-contract-2200", f"/contracts/{c}/close", {"closed_on": "2200-01-01", "confirm": "on"},
                "closed_on"),
        BadForm("page-contract-wage-bill-missing", "/contracts", {**contract, "obligation_basis": "wage_bill"},
                "wage_bill_eur"),
        BadForm("page-contract-bid-text", "/contracts", {**contract, "bid_percent": "veel"}, "bid_percent"),
        # -- outcomes beyond euros (issue 16): progression and the person's own check-in --
        BadForm("page-role-salary", f"/placements/{p}/role", {"scale": "2800 euro", "effective_on": TODAY}, "scale"),
        BadForm("page-role-scale-missing", f"/placements/{p}/role", {"effective_on": TODAY}, "scale"),
        BadForm("page-training-empty", f"/placements/{p}/trainings", {"training": "", "completed_on": TODAY},
                "training"),
        BadForm("page-permanent-1899", f"/placements/{p}/permanent", {"on": "1899-12-31"}, "on"),
        BadForm("page-check-in-score-missing", f"/placements/{p}/check-ins",
                {"moment": "1", "work_suits": "4", "can_ask": "4", "want_to_stay": "4"}, "supported", who="employee"),
        BadForm("page-check-in-score-9", f"/placements/{p}/check-ins",
                {"moment": "1", "supported": "4", "work_suits": "4", "can_ask": "4", "want_to_stay": "9"},
                "want_to_stay", who="employee"),
        BadForm("page-sharing-invalid", f"/placements/{p}/check-ins/sharing", {"sharing": "everyone"}, "sharing",
                who="employee"),
        # -- period statements and notifications (issue 12) --
        BadForm("page-prepare-start-missing", f"/contracts/{c}/statements", {"period_end": "{term_end}"},
                "period_start"),
        BadForm("page-prepare-start-month-13", f"/contracts/{c}/statements",
                {"period_start": "2026-13-01", "period_end": "{term_end}"}, "period_start"),
        BadForm("page-prepare-end-year-1", f"/contracts/{c}/statements",
                {"period_start": "{free_start}", "period_end": "0001-01-01"}, "period_end"),
        BadForm("page-prepare-reversed", f"/contracts/{c}/statements",
                {"period_start": "{term_end}", "period_end": "{free_start}"}, "period_end"),
        BadForm("page-prepare-before-the-term", f"/contracts/{c}/statements",
                {"period_start": "{before_term}", "period_end": "{free_start}"}, "period_start"),
        BadForm("page-prepare-overlapping", f"/contracts/{c}/statements",
                {"period_start": "{in_statement}", "period_end": "{term_end}"}, "period_start"),
        BadForm("page-decide-invalid", "/statements/{statement}/lines/L1/decide", {"decision": "maybe"}, "decision",
                who="authority"),
        BadForm("page-decide-missing", "/statements/{statement}/lines/L1/decide", {"reason": "x"}, "decision",
                who="authority"),
        BadForm("page-reject-without-reason", "/statements/{statement}/lines/L1/decide", {"decision": "rejected"},
                "reason", who="authority"),
        BadForm("page-reject-reason-too-long", "/statements/{statement}/lines/L1/decide",
                {"decision": "rejected", "reason": over(4001)}, "reason", who="authority"),
        BadForm("page-decide-unknown-line", "/statements/{statement}/lines/L99/decide", {"decision": "accepted"},
                "line_id", who="authority"),
        BadForm("page-notification-read-words", "/notifications/read", {"id": "all"}, "id", who="authority"),
        BadForm("page-notification-read-zero", "/notifications/read", {"id": "0"}, "id", who="authority"),
        BadForm("page-notification-read-huge", "/notifications/read", {"id": "9" * 30}, "id", who="authority"),
    ]


FORMS = bad_forms()


def read_notifications(system: System, tenant_id: Any) -> int:
    with system.stores.database("default").connection() as conn:
        return conn.execute("SELECT count(*) AS n FROM platform.notifications WHERE tenant_id = %s"
                            " AND read_at IS NOT NULL", (tenant_id,)).fetchone()["n"]


@pytest.fixture(scope="module")
def page_world(system: System) -> Agency:
    """The page world: its contract (a year ago to two years ahead) has a
    purchase and a submitted statement over its first reporting period (one
    line, L1); an in-tenant authority user decides it and was told of it."""
    world = Agency(system=system, tenant=system.registry.create_tenant(random_slug("attack-web"), "Werkbedrijf B.V."))
    ids = {k: str(v) for k, v in world.seed().items()}
    starts = date.today() - timedelta(days=365)
    authority = world.user("authority", organisation="Gemeente Utrecht")
    contract = uuid.UUID(ids["contract"])
    first = world.period_around(contract, starts)  # the first reporting period (cut by the term)
    world.run(commands.ReportSocialEnterprisePurchase(
        contract_id=contract, supplier="Groen & Co", invoice_amount_eur_excl_vat=Decimal("100.00"),
        register="registered_social_enterprise", invoice_date=first[0], description="Groen"))
    ids["statement"] = str(world.run(commands.PrepareStatement(
        contract_id=contract, period_start=first[0], period_end=first[1])))
    world.run(commands.SubmitStatement(statement_id=uuid.UUID(ids["statement"])))
    assert system.notify(tenants=[world.tenant]).told >= 1
    ids.update(term_end=(date.today() + timedelta(days=700)).isoformat(),
               free_start=(first[1] + timedelta(days=1)).isoformat(),
               before_term=(starts - timedelta(days=30)).isoformat(),
               in_statement=first[0].isoformat())
    world.ids = ids  # type: ignore[attr-defined]
    world.people = {"agency": world.user("agency"), "authority": authority,  # type: ignore[attr-defined]
                    "employee": world.user("employee", candidate_id=uuid.UUID(ids["candidate"]))}
    return world


@pytest.mark.parametrize("case", FORMS, ids=[f.name for f in FORMS])
def test_a_bad_form_is_answered_with_the_form_and_the_error_at_the_field(
        page_world: Agency, pages: Callable[..., Browser], case: BadForm) -> None:  # noqa: F811
    me = pages(page_world.people[case.who])  # type: ignore[attr-defined]
    system, tenant = page_world.system, page_world.tenant
    before = (system.stores.for_tenant(tenant).recorder.max_notification_id(), read_notifications(system, tenant.id))
    r = me.post(fill(case.path, page_world.ids) + "?lang=en",  # type: ignore[attr-defined]
                {k: fill(v, page_world.ids) for k, v in case.form.items()})  # type: ignore[attr-defined]
    assert r.status_code < 500, r.text[:500]
    assert r.status_code in (200, 400, 409, 422), (r.status_code, r.headers.get("location"))
    shown = re.findall(r'<p class="error" id="[\w-]*?-?(\w+)-error"', r.text)
    assert case.field in shown, (case.field, shown)
    after = (system.stores.for_tenant(tenant).recorder.max_notification_id(), read_notifications(system, tenant.id))
    assert after == before


ODD_NUMBERS = ["%C2%B2", "1" * 5000, "-1", "1e3"]  # a superscript two ('²'.isdigit() is true), 5000 digits


@pytest.mark.parametrize("path", ["/?min_position={n}", "/candidates?page={n}", "/placements/{placement}?page={n}",
                                  "/audit/events?before={n}"])
def test_a_page_reads_an_oddly_written_number_in_its_query_as_not_given(
        page_world: Agency, pages: Callable[..., Browser], path: str) -> None:  # noqa: F811
    me = pages(page_world.user("agency"))
    for n in ODD_NUMBERS:
        r = me.get(fill(path.replace("{n}", n), page_world.ids))  # type: ignore[attr-defined]
        assert r.status_code == 200, (n[:10], r.status_code)
