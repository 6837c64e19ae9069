"""Contributions to a contract: purchases from social enterprises and other
activities reported, and the decision on them by the party the contract names
(`accepted_by`)."""
from __future__ import annotations

from uuid import UUID

from domain.contract import SocialReturnContract
from domain.contribution import Contribution
from service import commands as c
from service.errors import Conflict, InvalidInput, PermissionDenied
from service.handlers.statements import reports_by_statements
from service.unit import Handlers, Outcome, Unit, changed, created

handles = Handlers()


def _open_contract(u: Unit, contract_id: UUID) -> SocialReturnContract:
    contract = u.get(SocialReturnContract, contract_id)
    if contract.is_closed:
        raise InvalidInput("contract_id", "the contract is closed")
    return contract


@handles(c.ReportSocialEnterprisePurchase, roles={"agency", "employer"})
def report_purchase(u: Unit, cmd: c.ReportSocialEnterprisePurchase) -> Outcome:
    contract = _open_contract(u, cmd.contract_id)
    return created(Contribution.purchase_from_social_enterprise(
        contract_id=cmd.contract_id, supplier=cmd.supplier,
        invoice_amount_eur_excl_vat=cmd.invoice_amount_eur_excl_vat, register=cmd.register,
        invoice_date=cmd.invoice_date, description=cmd.description, rules=contract.rules,
        reported_on=u.today()))


@handles(c.ReportOtherActivity, roles={"agency", "employer"})
def report_other_activity(u: Unit, cmd: c.ReportOtherActivity) -> Outcome:
    contract = _open_contract(u, cmd.contract_id)
    return created(Contribution.other_activity(
        contract_id=cmd.contract_id, description=cmd.description, costs_eur=cmd.costs_eur,
        hours=cmd.hours, activity_date=cmd.activity_date, rules=contract.rules,
        reported_on=u.today()))


def _decider(u: Unit, contribution: Contribution) -> None:
    """Only the party the contract names decides on its contributions, and
    only while the contract does not report by period statements."""
    contract = u.get(SocialReturnContract, contribution.contract_id)
    if u.actor.role != contract.accepted_by:
        raise PermissionDenied(f"contributions to this contract are decided by the {contract.accepted_by}")
    if reports_by_statements(u, contract):
        raise Conflict("this contract reports by period statements: decide the lines of its statements")


# Further narrowed per contract by its `accepted_by` setting (_decider).
@handles(c.AcceptContribution, roles={"agency", "authority"})
def accept_contribution(u: Unit, cmd: c.AcceptContribution) -> Outcome:
    contribution = u.get(Contribution, cmd.contribution_id)
    _decider(u, contribution)
    contribution.accept(cmd.decided_on or u.today(), cmd.reason)
    return changed(contribution)


@handles(c.RejectContribution, roles={"agency", "authority"})
def reject_contribution(u: Unit, cmd: c.RejectContribution) -> Outcome:
    contribution = u.get(Contribution, cmd.contribution_id)
    _decider(u, contribution)
    contribution.reject(cmd.decided_on or u.today(), cmd.reason)
    return changed(contribution)
