"""Period statements (service/handlers/statements.py): prepare, read, submit,
decide per line. A statement is read from the ledger, not a read model: a
draft's lines are worked out live, a submitted one's are frozen in its events."""
from __future__ import annotations

import asyncio

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from service import commands as c
from service.handlers import statements
from service.ledger import Ledger
from web.api import schemas as s
from web.api import answers as a
from web.api.auth import Principal, v1_router
from web.api.routes import run
from web.ids import parse_id


@post("/contracts/{contract_id:str}/statements", sync_to_thread=True)
def prepare_statement(contract_id: FromPath[str], data: JSONBody[s.StatementIn],
                      principal: NamedDependency[Principal], request: Request,
                      ledger: NamedDependency[Ledger]) -> Response[a.StatementPrepared]:
    """Prepare a draft statement for a period inside the term that overlaps no other statement."""
    return run(ledger, principal, request, c.PrepareStatement(
        contract_id=parse_id("contract", contract_id), period_start=data.period_start,
        period_end=data.period_end))


@get("/contracts/{contract_id:str}/statements")
async def list_statements(contract_id: FromPath[str], principal: NamedDependency[Principal],
                          ledger: NamedDependency[Ledger]) -> Response[a.ContractStatements]:
    """The contract's statements with their totals, and the reporting periods not yet taken."""
    ident = parse_id("contract", contract_id)
    body = await asyncio.to_thread(ledger.read, principal.tenant, principal.actor,
                                   lambda u: statements.contract_statements(u, ident))
    return Response(body)


@get("/statements/{statement_id:str}")
async def show_statement(statement_id: FromPath[str], principal: NamedDependency[Principal],
                         ledger: NamedDependency[Ledger]) -> Response[a.Statement]:
    """A statement with its lines, each with its explanation, decision and reason, and totals."""
    ident = parse_id("statement", statement_id)
    body = await asyncio.to_thread(ledger.read, principal.tenant, principal.actor,
                                   lambda u: statements.statement_view(u, ident))
    return Response(body)


@post("/statements/{statement_id:str}/submit", sync_to_thread=True, status_code=200)
def submit_statement(statement_id: FromPath[str], principal: NamedDependency[Principal], request: Request,
                     ledger: NamedDependency[Ledger]) -> Response[a.StatementChanged]:
    """Submit a draft: its lines are frozen as they are now."""
    return run(ledger, principal, request, c.SubmitStatement(statement_id=parse_id("statement", statement_id)))


@post("/statements/{statement_id:str}/decisions", sync_to_thread=True, status_code=200)
def decide_statement_lines(statement_id: FromPath[str], data: JSONBody[s.LineDecisions],
                           principal: NamedDependency[Principal], request: Request,
                           ledger: NamedDependency[Ledger]) -> Response[a.StatementChanged]:
    """Decide lines: `[{line_id, decision: accepted|rejected, reason}]`."""
    return run(ledger, principal, request, c.DecideStatementLines(
        statement_id=parse_id("statement", statement_id),
        decisions=tuple(c.LineDecision(line_id=d.line_id, decision=d.decision, reason=d.reason) for d in data)))


def statement_router() -> Router:
    return v1_router([prepare_statement, list_statements, show_statement, submit_statement,
                      decide_statement_lines], "statements")
