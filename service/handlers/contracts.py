"""Social return contracts: registration (with owners and targets), amendment
and closing. Owners and targets named later: service/handlers/support.py."""
from __future__ import annotations

from datetime import date

from domain.contract import SocialReturnContract
from domain.employer import Employer
from domain.errors import DomainError, InvalidValue
from service import commands as c
from service.handlers.statements import statements_of
from service.unit import Handlers, Outcome, Unit, changed, created

handles = Handlers()


@handles(c.RegisterContract, roles={"agency"})
def register_contract(u: Unit, cmd: c.RegisterContract) -> Outcome:
    u.reference(Employer, cmd.employer_id, "employer_id")
    rule_set = u.rule_set(cmd.rule_set, cmd.rule_set_version)  # pinned: its figures never change
    authority = (u.organisation(cmd.authority_org_id, "authority", "authority_org_id")
                 if cmd.authority_org_id is not None else None)
    outcome = created(SocialReturnContract.register(
        employer_id=cmd.employer_id, title=cmd.title,
        # The free text may be left out when the authority organisation is named.
        contracting_authority=cmd.contracting_authority or (authority.name if authority else None),
        contract_value_eur=cmd.contract_value_eur, obligation_percent=cmd.obligation_percent,
        starts_on=cmd.starts_on, ends_on=cmd.ends_on, awarded_on=cmd.awarded_on,
        rule_set=rule_set, accepted_by=cmd.accepted_by, reporting_period=cmd.reporting_period,
        obligation_basis=cmd.obligation_basis, wage_bill_eur=cmd.wage_bill_eur,
        obligation_fixed_eur=cmd.obligation_fixed_eur, bid_percent=cmd.bid_percent,
        obligation_cap_eur=cmd.obligation_cap_eur, pso_step=cmd.pso_step, pso_valid_until=cmd.pso_valid_until))
    contract = outcome.saved[0]
    for side, name, email in (("employer", cmd.employer_owner_name, cmd.employer_owner_email),
                              ("agency", cmd.agency_owner_name, cmd.agency_owner_email)):
        if name or email:
            try:
                contract.name_owner(side, name or "", email or "")
            except DomainError as e:  # name the registration's own field (employer_owner_email, ...)
                field_name = f"{side}_owner_{e.field}"
                raise InvalidValue(e.template, field_name,
                                   **{**e.params, **({"name": field_name} if "name" in e.params else {})}) from e
    if cmd.target_placements is not None or cmd.target_retention_12m_percent is not None:
        contract.set_targets(cmd.target_placements, cmd.target_retention_12m_percent)
    if authority is not None:
        contract.link_authority(authority.id, authority.name)
    return outcome


@handles(c.AmendContract, roles={"agency"})
def amend_contract(u: Unit, cmd: c.AmendContract) -> Outcome:
    contract = u.get(SocialReturnContract, cmd.contract_id)
    if cmd.changes or (cmd.authority_org_id is None and not cmd.unlink_authority):
        contract.amend(**cmd.changes)
    # A closed contract may still be linked or unlinked: its history is the authority's too.
    if cmd.unlink_authority:
        contract.unlink_authority(awaiting_authority(u, contract))
    elif cmd.authority_org_id is not None:
        authority = u.organisation(cmd.authority_org_id, "authority", "authority_org_id")
        if authority.id != contract.authority_org_id:
            contract.link_authority(authority.id, authority.name, awaiting_authority(u, contract))
    return changed(contract)


def awaiting_authority(u: Unit, contract: SocialReturnContract) -> list[tuple[date, date]]:
    """The periods of the statements submitted to the linked authority that
    await its decision: while there is one, the link neither moves nor goes
    (the authority would lose a statement it is deciding, half-decided)."""
    if contract.authority_org_id is None or contract.accepted_by != "authority":
        return []
    return [s.period for s in statements_of(u, contract) if s.status == "submitted"]


@handles(c.ReportTurnover, roles={"agency"})
def report_turnover(u: Unit, cmd: c.ReportTurnover) -> Outcome:
    contract = u.get(SocialReturnContract, cmd.contract_id)
    contract.report_turnover(cmd.period_start, cmd.period_end, cmd.amount_eur)
    return changed(contract)


@handles(c.CloseContract, roles={"agency"})
def close_contract(u: Unit, cmd: c.CloseContract) -> Outcome:
    contract = u.get(SocialReturnContract, cmd.contract_id)
    contract.close(cmd.closed_on, cmd.reason)
    return changed(contract)
