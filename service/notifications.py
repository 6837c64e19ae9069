"""The notifications process manager: period statements someone must be
told about become inbox rows (read in the app) and e-mail digests.

Like the reminders (service/reminders.py) it reacts to a read model and lives
with the commands; what it reads and writes comes in through ports wired by
the composition root (infra/bootstrap.py, `System.notify`): the notices read
model (projections/notices.py) as `Notices`, the platform's users as
`People`, the inbox (infra/inbox.py) as `Inbox`.

Who is told:
- a statement SUBMITTED: the users of the authority organisation the contract
  is linked to (or, for a contract not linked, the tenant's in-tenant
  authority users named by its `contracting_authority`), and the contract's
  owners (agency and employer side) by mail;
- a statement DECIDED (every line): the agency's users, and the owners.

Each (notice, recipient) is one inbox row (a unique key), and a notice is
fanned out once, in one transaction with its rows: running twice, after a
restart or in two workers at once, tells nobody twice. Mail: every row not
mailed yet (of the last `RECENT_DAYS`) goes into one digest per e-mail
address per run (a user's address, or an owner's, looked up in the agency's
history when mailing); the rows of a digest sent are marked mailed, those of
a failed send stay for the next run. The rows being mailed are locked, so a
concurrent run skips them. A digest names the contract, the period and the
line counts, with a link: no person, nothing of special category.

A digest is written in its recipient's language: a user's own (`lang` of
platform.users, `sroi user create --lang`), Dutch for a contract's owner
(who has no account). The texts are the English msgids below (`MESSAGES`),
translated through the same catalogue as the pages (web/i18n/nl.po), which
comes in as `texts` (language -> gettext), wired by the composition root.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Protocol
from uuid import UUID

from domain.contract import SocialReturnContract
from service.actor import Actor

log = logging.getLogger("sroi.notifications")

RECENT_DAYS = 14  # notices (and unmailed rows) older than this are not told any more
SUBMITTED, DECIDED = "statement_submitted", "statement_decided"


class Notices(Protocol):
    def pending(self, tenant: Any, since: date) -> list[Mapping[str, Any]]:
        """The tenant's notices on or after `since` (caught up first): notice_id,
        kind, statement_id, contract_id, period_start, period_end, lines,
        accepted, rejected."""


class People(Protocol):
    def org_users(self, org_id: UUID) -> dict[UUID, str]:
        """An organisation's users: id -> e-mail."""

    def tenant_users(self, tenant_id: UUID, role: str, organisation: str | None = None) -> dict[UUID, str]:
        """A tenant's users of a role (and, given, of that free-text organisation)."""


class Inbox(Protocol):
    def fanned_out(self, tenant_id: UUID, notice_ids: Sequence[UUID]) -> set[UUID]: ...

    def fan_out(self, tenant_id: UUID, notice_id: UUID, rows: Sequence[Mapping[str, Any]]) -> int | None: ...

    def unmailed(self, since: datetime) -> AbstractContextManager[
            tuple[list[dict[str, Any]], Callable[[list[int]], None]]]: ...


class Texts(Protocol):
    def gettext(self, message: str) -> str: ...


class _English:
    """The msgids as they are: English."""

    def gettext(self, message: str) -> str:
        return message


DEFAULT_LANGUAGE = "nl"  # the product's; an owner (no account) gets Dutch

# The digest's texts (msgids of web/i18n/nl.po). Values are put in after translating.
SUBJECT_AWAITING = "SROI Ledger: period statements, %(awaiting)s awaiting a decision"
SUBJECT_DECIDED = "SROI Ledger: period statements, %(decided)s decided"
SUBJECT_BOTH = "SROI Ledger: period statements, %(awaiting)s awaiting a decision and %(decided)s decided"
INTRO = "News about period statements in SROI Ledger:"
SUBMITTED_LINE = ("%(contract)s, %(start)s to %(end)s: statement submitted, awaiting the contracting authority's"
                  " decision (%(lines)s lines)")
DECIDED_LINE = "%(contract)s, %(start)s to %(end)s: statement decided (%(accepted)s lines accepted, %(rejected)s rejected)"
OUTRO = "Your notifications in SROI Ledger list them too."
MESSAGES = (SUBJECT_AWAITING, SUBJECT_DECIDED, SUBJECT_BOTH, INTRO, SUBMITTED_LINE, DECIDED_LINE, OUTRO)


class Mailer(Protocol):
    def send(self, to: list[str], subject: str, text: str) -> None: ...


class Ledger(Protocol):
    def get(self, tenant: Any, actor: Actor, kind_cls: type, ident: UUID) -> Any: ...


@dataclass
class NotificationRun:
    notices: int = 0
    told: int = 0
    mailed: int = 0
    mail_errors: list[str] = field(default_factory=list)
    failed_tenants: int = 0


ACTOR = Actor.system("notifications")


def notify(ledger: Ledger, tenants: Iterable[Any], notices: Notices, people: People, inbox: Inbox,
           mailer: Mailer | None = None, today: date | None = None, base_url: str = "",
           texts: Callable[[str], Texts] | None = None) -> NotificationRun:
    """One run over the active ones of `tenants` (see the module docstring);
    `texts(language)`: the digest's texts in a language (default: English)."""
    today = today or date.today()
    run = NotificationRun()
    active = {t.id: t for t in tenants if t.is_active}
    for tenant in active.values():
        try:
            _fan_out(ledger, tenant, notices, people, inbox, today, run)
        except Exception as e:  # one tenant's trouble must not stop the others' notifications
            log.warning("notifications for tenant %s failed: %s", tenant.id, type(e).__name__)
            run.failed_tenants += 1
    if mailer is not None:
        _mail(ledger, active, inbox, mailer, today, base_url, run, texts or (lambda _language: _English()))
    return run


def recipients(contract: Any, kind: str, tenant_id: UUID, people: People) -> list[dict[str, Any]]:
    """Who is told of a notice of this kind about this contract."""
    out: list[dict[str, Any]] = []
    if kind == SUBMITTED:
        org_id = contract.authority_org_id
        if org_id is not None:
            out += [{"recipient": f"user:{u}", "user_id": u, "org_id": org_id} for u in people.org_users(org_id)]
        else:
            out += [{"recipient": f"user:{u}", "user_id": u, "org_id": None}
                    for u in people.tenant_users(tenant_id, "authority", contract.contracting_authority)]
    else:
        out += [{"recipient": f"user:{u}", "user_id": u, "org_id": None}
                for u in people.tenant_users(tenant_id, "agency")]
    out += [{"recipient": f"owner:{side}", "user_id": None, "org_id": None} for side in sorted(contract.owners)]
    return out


def _fan_out(ledger: Ledger, tenant: Any, notices: Notices, people: People, inbox: Inbox, today: date,
             run: NotificationRun) -> None:
    pending = notices.pending(tenant, today - timedelta(days=RECENT_DAYS))
    done = inbox.fanned_out(tenant.id, [n["notice_id"] for n in pending]) if pending else set()
    for n in pending:
        if n["notice_id"] in done:
            continue
        contract = ledger.get(tenant, ACTOR, SocialReturnContract, n["contract_id"])
        rows = [{**r, "notice_id": n["notice_id"], "tenant_id": tenant.id, "kind": n["kind"],
                 "statement_id": n["statement_id"], "contract_id": n["contract_id"],
                 "contract_title": contract.title, "period_start": n["period_start"],
                 "period_end": n["period_end"], "lines": n["lines"], "accepted": n["accepted"],
                 "rejected": n["rejected"]} for r in recipients(contract, n["kind"], tenant.id, people)]
        added = inbox.fan_out(tenant.id, n["notice_id"], rows)
        if added is not None:
            run.notices += 1
            run.told += added


def _mail(ledger: Ledger, tenants: dict[UUID, Any], inbox: Inbox, mailer: Mailer, today: date, base_url: str,
          run: NotificationRun, texts: Callable[[str], Texts]) -> None:
    since = datetime.combine(today - timedelta(days=RECENT_DAYS), time(), tzinfo=timezone.utc)
    owners: dict[tuple[UUID, UUID], dict[str, dict[str, str]]] = {}
    with inbox.unmailed(since) as (rows, mark):
        by_address: dict[str, list[dict[str, Any]]] = {}
        language: dict[str, str] = {}  # a user's own; an owner's (no account) the product's
        for r in rows:
            tenant = tenants.get(r["tenant_id"])
            if tenant is None:
                continue  # a suspended agency's notices wait
            address = r["user_email"]
            lang = r.get("user_lang") if address else None
            if r["recipient"].startswith("owner:"):
                key = (r["tenant_id"], r["contract_id"])
                if key not in owners:
                    try:
                        owners[key] = ledger.get(tenant, ACTOR, SocialReturnContract, r["contract_id"]).owners
                    except Exception as e:
                        log.warning("notification owners of a contract unreadable: %s", type(e).__name__)
                        owners[key] = {}
                address = owners[key].get(r["recipient"].removeprefix("owner:"), {}).get("email")
            if address:
                by_address.setdefault(address.lower(), []).append(r)
                if lang or address.lower() not in language:
                    language[address.lower()] = lang or DEFAULT_LANGUAGE
        for address, items in sorted(by_address.items()):
            subject, text = digest(items, base_url, texts(language[address]))
            try:
                mailer.send([address], subject, text)
            except Exception as e:  # left unmailed: the next run tries again
                log.warning("notification mail failed: %s", type(e).__name__)
                run.mail_errors.append(type(e).__name__)
                continue
            mark([r["id"] for r in items])
            run.mailed += 1


def describe(item: Mapping[str, Any], texts: Texts | None = None) -> str:
    t = texts or _English()
    values = {"contract": item["contract_title"], "start": item["period_start"], "end": item["period_end"],
              "lines": item["lines"], "accepted": item["accepted"], "rejected": item["rejected"]}
    return t.gettext(SUBMITTED_LINE if item["kind"] == SUBMITTED else DECIDED_LINE) % values


def digest(items: list[Mapping[str, Any]], base_url: str = "", texts: Texts | None = None) -> tuple[str, str]:
    """Subject and text of one recipient's digest, in the language of `texts`
    (default English): contracts, periods, counts and links only (a notice
    never names a person)."""
    t = texts or _English()
    seen: set[UUID] = set()
    unique = [i for i in items if not (i["notice_id"] in seen or seen.add(i["notice_id"]))]
    awaiting = sum(1 for i in unique if i["kind"] == SUBMITTED)
    decided = len(unique) - awaiting
    subject = t.gettext(SUBJECT_BOTH if awaiting and decided else SUBJECT_AWAITING if awaiting
                        else SUBJECT_DECIDED) % {"awaiting": awaiting, "decided": decided}
    lines = [t.gettext(INTRO), ""]
    for i in unique:
        lines.append(f"- {describe(i, t)}")
        lines.append(f"  {base_url}/statements/{i['statement_id']}")
    lines += ["", t.gettext(OUTRO)]
    return subject, "\n".join(lines) + "\n"
