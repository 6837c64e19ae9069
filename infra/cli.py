"""`sroi`: the command line. Every command builds the system from settings
(the composition root), does one thing through the registry or the service
layer, and exits with a clear message on bad input."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import click

from infra import logsafe, processes
from infra.bootstrap import System, bootstrap
from infra.registry import DEFAULT_USER_LANGUAGE, ROLES, USER_LANGUAGES, RegistryError, TenantNotFound
from infra.rule_sets import RuleSetForbidden, RuleSetInvalid
from infra.settings import Settings, SettingsError


def _system(migrate: bool = True) -> System:
    try:
        return bootstrap(Settings.from_env(), migrate=migrate)
    except SettingsError as e:
        raise click.ClickException(str(e)) from None


@contextmanager
def opened_system(migrate: bool = True, refuse: tuple[type[Exception], ...] = ()) -> Iterator[System]:
    """The system for one command, closed when the command ends, however it
    ends. The errors named in `refuse` end the command with their message
    (exit 1) instead of a traceback."""
    system = _system(migrate=migrate)
    try:
        yield system
    except refuse as e:
        raise click.ClickException(str(e)) from None
    finally:
        system.close()


def _uuid(value: str | None, option: str) -> UUID | None:
    if value is None:
        return None
    try:
        return UUID(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a UUID", param_hint=option) from None


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log at INFO level.")
def main(verbose: bool) -> None:
    """SROI Ledger: social return placements and compliance, event-sourced."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # No exception message or traceback text in any log line (infra/logsafe.py).
    logsafe.install()


@main.command()
def migrate() -> None:
    """Create or update the platform and event schemas."""
    with opened_system(migrate=True) as system:
        count = system.migrate_tenants()
    click.echo(f"schemas up to date ({count} tenants)")


@main.group()
def tenant() -> None:
    """Create, list and suspend tenants."""


@tenant.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The organisation's name.")
@click.option("--database", default="default", show_default=True,
              help="Key of the database to place the tenant on (TENANT_DATABASES).")
def tenant_create(slug: str, name: str, database: str) -> None:
    with opened_system(refuse=(RegistryError, LookupError)) as system:
        t = system.registry.create_tenant(slug, name, database)
    click.echo(f"created tenant {t.slug} ({t.id}) on database {t.database}")


@tenant.command("move")
@click.argument("slug")
@click.option("--to", "to", required=True, help="Key of the database to move the tenant to (TENANT_DATABASES).")
def tenant_move(slug: str, to: str) -> None:
    """Move a tenant's data to another database (infra/tenant_move.py).

    Copies its events (chain intact), idempotency records, personal-data keys,
    documents and logs, builds its read models there, verifies the chain and
    the counts, then switches the registry: the tenant is read-only only while
    it switches (a command then gets 503 with Retry-After). The copy on the
    old database is removed. A move that fails leaves the tenant where it
    was, writable; run it again."""
    from infra.tenant_move import MoveFailed, move_tenant
    from projections.base import RM
    from projections.registry import PROJECTIONS
    from projections.writer import ProjectionFailed, ProjectionRunner

    def project(database: Any, tenant: Any) -> None:
        for projection in PROJECTIONS:
            ProjectionRunner(database, projection, batch_size=5000).catch_up(tenant, wait=True)

    with opened_system(refuse=(TenantNotFound, RegistryError, LookupError, MoveFailed)) as system:
        try:
            report = move_tenant(system.registry, system.stores, slug, to, project, rm_schema=RM, say=click.echo)
        except ProjectionFailed as e:
            raise click.ClickException(f"the read models could not be built on {to} ({e}); the tenant"
                                       " stays where it was, writable") from None
    if report.already:
        left = f"; removed what was left on {', '.join(report.removed_from)}" if report.removed_from else ""
        click.echo(f"tenant {slug} is on database {to} already{left}")
    else:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(report.rows.items()))
        click.echo(f"moved tenant {slug} from {report.source} to {to}: {counts}")


@tenant.command("list")
def tenant_list() -> None:
    with opened_system() as system:
        for t in system.registry.list_tenants():
            click.echo(f"{t.slug}\t{t.status}\t{t.database}\t{t.name}")


def _set_status(slug: str, status: str) -> None:
    with opened_system(refuse=(TenantNotFound,)) as system:
        t = system.registry.set_status(slug, status)
    click.echo(f"tenant {t.slug} is {t.status}")


@tenant.command("suspend")
@click.argument("slug")
def tenant_suspend(slug: str) -> None:
    """Refuse every command of the tenant (its history stays intact)."""
    _set_status(slug, "suspended")


@tenant.command("activate")
@click.argument("slug")
def tenant_activate(slug: str) -> None:
    _set_status(slug, "active")


@main.group("org")
def org_group() -> None:
    """Organisations of the platform: contracting authorities and employers."""


@org_group.command("create")
@click.option("--kind", required=True, type=click.Choice(["authority", "employer"]))
@click.option("--name", required=True, help="The organisation's name.")
@click.option("--kvk", help="KvK number (8 digits).")
@click.option("--oin", help="OIN, for a government body (20 digits).")
def org_create(kind: str, name: str, kvk: str | None, oin: str | None) -> None:
    """Create an organisation; prints its id (the last line), which agencies link to."""
    with opened_system(refuse=(RegistryError,)) as system:
        try:
            o = system.registry.create_organisation(kind, name, kvk=kvk, oin=oin)
        except RegistryError as e:
            raise click.BadParameter(str(e), param_hint=f"--{e.field}" if e.field else None) from None
    click.echo(f"created {o.kind} {o.name} ({o.identifier})")
    click.echo(str(o.id))


@org_group.command("list")
@click.option("--kind", type=click.Choice(["authority", "employer"]))
def org_list(kind: str | None) -> None:
    """id, kind, identifier, name: one organisation a line."""
    with opened_system() as system:
        for o in system.registry.list_organisations(kind):
            click.echo(f"{o.id}\t{o.kind}\t{o.identifier}\t{o.name}")


@main.group("rule-set")
def rule_set_group() -> None:
    """Rule sets: the counting rules contracts pin (docs/rule-sets.md)."""


@rule_set_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--org", "org_id", help="The authority organisation (its id, `sroi org list`) that owns it; "
                                      "left out: a platform rule set.")
def rule_set_import(file: Path, org_id: str | None) -> None:
    """Publish the rule set in FILE (JSON; its name and version inside): a new
    rule set, or a new version of one the same owner has. Versions never change."""
    try:
        body = json.loads(file.read_text("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise click.BadParameter(f"{file} is not JSON: {e}", param_hint="FILE") from None
    owner = _uuid(org_id, "--org")
    with opened_system(refuse=(RuleSetForbidden,)) as system:
        if owner is not None:
            org = system.registry.organisation(owner)
            if org is None or org.kind != "authority":
                raise click.BadParameter(f"{org_id} is not an authority organisation (`sroi org list`)",
                                         param_hint="--org")
        try:
            stored = system.registry.rule_sets.publish(body, owner_org_id=owner, created_by=None)
        except RuleSetInvalid as e:
            lines = "\n".join(f"  {x['field']}: {x['message']}" for x in e.errors)
            raise click.ClickException(f"{file}: {e.detail}\n{lines}") from None
    click.echo(f"published {stored.name} v{stored.version} of {stored.owner_name or 'the platform'}"
               f" (sha256 {stored.sha256})")


@rule_set_group.command("list")
def rule_set_list() -> None:
    """name, version, owner, sha256: one rule set version a line."""
    with opened_system() as system:
        for r in system.registry.rule_sets.list():
            click.echo(f"{r.name}\t{r.version}\t{r.owner_name or 'platform'}\t{r.sha256}")


@main.group()
def user() -> None:
    """Create users and API tokens."""


@user.command("create")
@click.option("--tenant", "tenant_slug", help="The agency (tenant) of the user; or --org.")
@click.option("--org", "org_id", help="The organisation (its id, `sroi org list`) of an authority or employer user.")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--employer", "employer_id", help="Employer id (role employer).")
@click.option("--candidate", "candidate_id", help="Candidate id (role employee).")
@click.option("--organisation", help="Contracting authority name (role authority).")
@click.option("--password", is_flag=True, help="Prompt for a password (web login).")
@click.option("--lang", type=click.Choice(USER_LANGUAGES), default=DEFAULT_USER_LANGUAGE, show_default=True,
              help="The language of the user's mail (notification digests).")
@click.option("--token", "with_token", is_flag=True,
              help="Issue an API token (lasting API_TOKEN_DAYS); printed as the last line.")
def user_create(tenant_slug: str | None, org_id: str | None, email: str, role: str, employer_id: str | None,
                candidate_id: str | None, organisation: str | None, password: bool, lang: str,
                with_token: bool) -> None:
    """A user of an agency (--tenant) or of an organisation (--org: it logs in
    once and works across every agency that shares with it)."""
    if (tenant_slug is None) == (org_id is None):
        raise click.UsageError("give --tenant (a user of an agency) or --org (a user of an organisation)")
    if org_id is not None and (employer_id or candidate_id or organisation):
        raise click.UsageError("--employer, --candidate and --organisation are for users of an agency (--tenant)")
    org = _uuid(org_id, "--org")
    pw = click.prompt("Password", hide_input=True, confirmation_prompt=True) if password else None
    if org is not None:
        with opened_system() as system:
            try:
                u = system.registry.create_org_user(org, email, role, password=pw, lang=lang)
            except RegistryError as e:
                raise click.BadParameter(str(e), param_hint=f"--{e.field}" if e.field else None) from None
            click.echo(f"created {u.role} user {u.email} ({u.id}) of organisation {u.organisation}")
            if with_token:
                _echo_new_token(*system.registry.create_token(u.id))
        return
    with opened_system(refuse=(RegistryError, TenantNotFound)) as system:
        t = system.registry.tenant_by_slug(tenant_slug)
        u = system.registry.create_user(
            t, email, role, employer_id=_uuid(employer_id, "--employer"),
            candidate_id=_uuid(candidate_id, "--candidate"), organisation=organisation, password=pw, lang=lang)
        click.echo(f"created {u.role} user {u.email} ({u.id}) in tenant {t.slug}")
        if with_token:
            _echo_new_token(*system.registry.create_token(u.id))


def _when(moment) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def _echo_new_token(token, secret: str) -> None:
    click.echo(f"token {token.id} expires {_when(token.expires_at)}; it is shown only now:")
    click.echo(secret)


@main.group("token")
def token_group() -> None:
    """API tokens: create, list and revoke (listed by id, never the secret)."""


def _user_or_fail(system: System, email: str):
    found = system.registry.user_by_email(email)
    if found is None:
        raise click.BadParameter(f"no user with e-mail {email.strip().lower()!r}", param_hint="--email")
    return found


@token_group.command("create")
@click.option("--email", required=True, help="The user the token speaks for.")
@click.option("--days", type=int, help="Days it lasts (default API_TOKEN_DAYS, at most a year).")
@click.option("--label", default="", help="What it is for, to recognise it in lists.")
def token_create(email: str, days: int | None, label: str) -> None:
    """Issue a token; the secret is printed once, as the last line."""
    with opened_system() as system:
        try:
            u = _user_or_fail(system, email)
            _echo_new_token(*system.registry.create_token(u.id, days=days, label=label))
        except RegistryError as e:
            raise click.BadParameter(str(e), param_hint=f"--{e.field}" if e.field else None) from None


@token_group.command("list")
@click.option("--email", required=True)
def token_list(email: str) -> None:
    """The user's tokens: id, created, expires, last used, label."""
    with opened_system() as system:
        u = _user_or_fail(system, email)
        tokens = system.registry.tokens_of(u.id)
    if not tokens:
        click.echo(f"{u.email} has no API tokens")
    for k in tokens:
        state = "EXPIRED" if k.expired else "active"
        click.echo(f"{k.id}\t{state}\tcreated {_when(k.created_at)}\texpires {_when(k.expires_at)}"
                   f"\tlast used {_when(k.last_used_at)}\t{k.label}")


@token_group.command("revoke")
@click.argument("token_id")
def token_revoke(token_id: str) -> None:
    """Revoke a token by its id: refused by every web process from the next request on."""
    ident = _uuid(token_id, "TOKEN_ID")
    with opened_system() as system:
        revoked = system.registry.revoke_token(ident)
    if revoked is None:
        raise click.ClickException(f"no token with id {ident}")
    click.echo(f"revoked token {ident}")


@main.group()
def projections() -> None:
    """Read models: status, rebuild and retry."""


def _failure_line(slug: str, f) -> str:
    when = f"{f.next_retry_at:%Y-%m-%d %H:%M:%S %Z}" + (" (due)" if not f.backing_off else "")
    return (f"{slug}\tFAILED {f.projection} ({f.stage}) at event position {f.position}"
            f" ({f.event or 'writing the batch'}): {f.error_type} at {f.location};"
            f" {f.attempts} attempt{'s' if f.attempts != 1 else ''}, next retry {when}")


@projections.command("status")
@click.option("--tenant", "tenant_slug", help="Only this tenant.")
def projections_status(tenant_slug: str | None) -> None:
    """Each tenant's events and how far each projection has come; then every
    projection that failed on an event (where, what type of error, attempts,
    next retry)."""
    from projections.reader import positions
    from projections.registry import PROJECTIONS, failures, outdated_generations

    with opened_system(refuse=(TenantNotFound,)) as system:
        tenants = ([system.registry.tenant_by_slug(tenant_slug)] if tenant_slug
                   else system.registry.list_tenants())
        names = [p.name for p in PROJECTIONS]
        everyone = system.registry.list_tenants()
        outdated = set(outdated_generations(everyone, system.stores))
        failed: dict = {}
        for f in failures(everyone, system.stores):
            failed.setdefault(f.tenant_id, []).append(f)
        stuck = {(f.tenant_id, f.projection) for fs in failed.values() for f in fs if f.stage == "live"}
        for t in tenants:
            with system.stores.database(t.database).connection() as conn:
                head = conn.execute(f'SELECT coalesce(max(notification_id), 0) AS m FROM events."{t.events_table}"'
                                    ).fetchone()["m"]
                pos = positions(conn, t, names)
            click.echo(f"{t.slug}\tevents {head}\t" + "\t".join(
                f"{n} {pos[n]}" + (" (older version: the worker rebuilds it)" if (t.id, n) in outdated else "")
                + (" (FAILED)" if (t.id, n) in stuck else "")
                for n in names))
            for f in failed.get(t.id, []):
                click.echo(_failure_line(t.slug, f))


@projections.command("retry")
@click.argument("name", required=False)
@click.option("--tenant", "tenant_slug", help="Only this tenant (default: every tenant with a failure).")
def projections_retry(name: str | None, tenant_slug: str | None) -> None:
    """Try failed projections again now, without waiting for their backoff
    (after deploying a fix). Exits 1 if any still fails."""
    from projections.writer import ProjectionFailed, ProjectionRunner
    from projections.registry import BY_NAME, failures

    if name is not None and name not in BY_NAME:
        raise click.BadParameter(f"unknown projection {name!r}; known: {', '.join(sorted(BY_NAME))}",
                                 param_hint="NAME")
    still = 0
    with opened_system(refuse=(TenantNotFound,)) as system:
        only = system.registry.tenant_by_slug(tenant_slug) if tenant_slug else None
        todo = sorted((f.tenant_id, f.projection, f.stage) for f in failures(system.registry.list_tenants(), system.stores)
                      if (name is None or f.projection == name) and (only is None or f.tenant_id == only.id))
        if not todo:
            click.echo("no failed projections" + (f" of {name}" if name else "")
                       + (f" for {only.slug}" if only else ""))
            return
        for tenant_id, projection, stage in todo:
            t = system.registry.tenant_by_id(tenant_id)
            runner = ProjectionRunner(system.stores.database(t.database), BY_NAME[projection])
            if stage != "live":  # an automatic rebuild after an upgrade: the worker's sweep starts it
                runner.retry_soon(t, stage)
                click.echo(f"{t.slug}\t{projection} rebuild: the worker tries again within seconds")
                continue
            try:
                result = runner.catch_up(t, wait=True, retry_now=True)
            except ProjectionFailed as e:
                still += 1
                click.echo(_failure_line(t.slug, e.failure))
            else:
                click.echo(f"{t.slug}\t{projection} caught up to event position {result.position}")
    if still:
        raise SystemExit(1)


@projections.command("rebuild")
@click.argument("name")
@click.option("--tenant", "tenant_slug", help="Only this tenant (default: every tenant).")
def projections_rebuild(name: str, tenant_slug: str | None) -> None:
    """Build NAME anew beside the live version, then switch readers to it."""
    from tqdm import tqdm

    from projections.writer import ProjectionFailed, ProjectionRunner
    from projections.registry import BY_NAME

    if name not in BY_NAME:
        raise click.BadParameter(f"unknown projection {name!r}; known: {', '.join(sorted(BY_NAME))}",
                                 param_hint="NAME")
    with opened_system(refuse=(TenantNotFound,)) as system:
        tenants = ([system.registry.tenant_by_slug(tenant_slug)] if tenant_slug
                   else system.registry.list_tenants())
        for t in tenants:
            database = system.stores.database(t.database)
            with database.connection() as conn:
                total = conn.execute(f'SELECT count(*) AS n FROM events."{t.events_table}"').fetchone()["n"]
            runner = ProjectionRunner(database, BY_NAME[name], batch_size=5000)
            with tqdm(total=total, desc=f"{name} {t.slug}", unit="ev", file=sys.stderr) as bar:
                try:
                    result = runner.rebuild(t, progress=bar.update)
                except ProjectionFailed as e:
                    raise click.ClickException(f"{t.slug}: rebuild stopped, {e}; the live read model is unchanged"
                                               ) from None
            click.echo(f"{t.slug}: {name} rebuilt from {result.processed} events, live at {result.position}")


@user.command("set-lang")
@click.option("--email", required=True)
@click.option("--lang", required=True, type=click.Choice(USER_LANGUAGES))
def user_set_lang(email: str, lang: str) -> None:
    """Set the language of a user's mail (notification digests)."""
    with opened_system(refuse=(RegistryError,)) as system:
        system.registry.set_language(email, lang)
    click.echo(f"mail to {email.strip().lower()} is written in {lang}")


@user.command("set-password")
@click.option("--email", required=True)
def user_set_password(email: str) -> None:
    """Set (reset) a user's web login password."""
    pw = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    with opened_system(refuse=(RegistryError,)) as system:
        system.registry.set_password(email, pw)
    click.echo(f"password set for {email.strip().lower()}")


def _tenant_or_fail(system: System, slug: str):
    try:
        return system.registry.tenant_by_slug(slug)
    except TenantNotFound as e:
        raise click.ClickException(str(e)) from None


@main.command()
@click.option("--tenant", "tenant_slug", required=True)
def verify(tenant_slug: str) -> None:
    """Check the tenant's hash chain in the database, its latest signed head
    (signature, position, hash) and how many events no signed head covers yet.

    Exit status: 0 verified; 1 FAILED (tampering found); 3 verified with a
    WARNING (heads not signed in time, or no signing key to check them)."""
    from tqdm import tqdm

    from infra import audit

    with opened_system() as system:
        t = _tenant_or_fail(system, tenant_slug)
        db = system.stores.database(t.database)
        public = audit.platform_public_key(system.settings)
        with tqdm(total=audit.count_events(db, t), desc=f"verify {t.slug}", unit="ev", file=sys.stderr) as bar:
            report = audit.verify_tenant(system.stores.database("default"), db, t, progress=bar.update,
                                         public_key=public, sign_within=system.settings.head_sign_seconds)
    if not report.ok:
        raise click.ClickException(f"FAILED at position {report.bad_position}: {report.message}")
    click.echo("OK: " + report.message)
    warnings = [w for w in (report.warning, None if public else
                            "no signing key here: the signed heads' signatures were not checked") if w]
    for warning in warnings:
        click.echo("WARNING: " + warning, err=True)
    if warnings:
        sys.exit(3)


@main.command()
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, writable=True))
def export(tenant_slug: str, out_path: str) -> None:
    """Write the tenant's events, hashes and a signed head as JSON Lines."""
    from pathlib import Path

    from tqdm import tqdm

    from infra import audit

    with opened_system() as system:
        t = _tenant_or_fail(system, tenant_slug)
        db = system.stores.database(t.database)
        key = audit.load_signing_key(system.settings)
        with tqdm(total=audit.count_events(db, t), desc=f"export {t.slug}", unit="ev", file=sys.stderr) as bar:
            try:
                head = audit.export_tenant(system.stores.database("default"), db, t, key, Path(out_path),
                                           progress=bar.update)
            except audit.HeadNotExtending as e:
                raise click.ClickException(f"not exported: {e}") from None
    click.echo(f"exported {head.position} events to {out_path}; head signed with key {head.key_id}")
    click.echo(f"verify with: sroi verify-export {out_path} --public-key {head.public_key}")


@main.command("verify-export")
@click.argument("export_path", type=click.Path(exists=True, dir_okay=False))
@click.option("--public-key", required=True, help="base64 Ed25519 public key, or a file holding it")
def verify_export_cmd(export_path: str, public_key: str) -> None:
    """Check an export offline: no database, no settings."""
    from pathlib import Path

    from tqdm import tqdm

    from infra.export_verify import load_public_key, verify_export

    try:
        key = load_public_key(public_key)
    except (ValueError, OSError) as e:
        raise click.BadParameter(str(e), param_hint="--public-key") from None
    with tqdm(desc="verify-export", unit="ev", file=sys.stderr) as bar:
        report = verify_export(Path(export_path), key, progress=bar.update)
    if not report.ok:
        where = f" at position {report.bad_position}" if report.bad_position is not None else ""
        raise click.ClickException(f"FAILED{where}: {report.message}")
    click.echo("OK: " + report.message)


@main.command()
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--as-of", "as_of", required=True, help="A moment, ISO 8601 with time zone: 2026-06-30T23:59:59Z")
@click.option("--contract", "contract_id", help="Only this contract's compliance (with quarters).")
def replay(tenant_slug: str, as_of: str, contract_id: str | None) -> None:
    """Compliance and retention figures as they were known at a moment."""
    import asyncio
    import json
    from datetime import date

    import asyncpg

    from projections import compliance, retention
    from domain.errors import DomainError
    from domain.values import parse_moment
    from projections.reader import position_known_at
    from projections.writer import ProjectionRunner
    from projections.registry import BY_NAME

    try:
        moment = parse_moment(as_of, "--as-of")
    except DomainError as e:
        raise click.BadParameter(str(e), param_hint="--as-of") from None
    with opened_system() as system:
        t = _tenant_or_fail(system, tenant_slug)
        db = system.stores.database(t.database)
        position = position_known_at(db, t, moment)
        gens = {name: ProjectionRunner(db, BY_NAME[name]).as_of(t, position) for name in ("compliance", "retention")}
        day = min(moment.date(), date.today())

        async def figures() -> dict:
            pool = await asyncpg.create_pool(db.url, min_size=1, max_size=2)
            try:
                out = {"tenant": t.slug, "known_at": moment.isoformat(), "known_position": position}
                if contract_id:
                    out["compliance"] = await compliance.compliance_for_contract(
                        pool, t.id, _uuid(contract_id, "--contract"), day, gens["compliance"])
                else:
                    out["compliance"] = await compliance.compliance_summary(pool, t.id, day, gen=gens["compliance"])
                    out["retention"] = await retention.retention(pool, t.id, day, gen=gens["retention"])
                return out
            finally:
                await pool.close()

        click.echo(json.dumps(asyncio.run(figures()), indent=2, default=str))


@main.command("erase-person")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--candidate", "candidate_id", required=True, help="The candidate's id.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase_person(tenant_slug: str, candidate_id: str, yes: bool) -> None:
    """Erase a person (GDPR): destroy their key; their personal data in every
    event becomes unreadable. Figures and the hash chain are unaffected."""
    from service import commands as cmds
    from service.actor import Actor
    from service.errors import ServiceError

    ident = _uuid(candidate_id, "--candidate")
    if not yes:
        click.confirm(f"Erase candidate {ident}? This cannot be undone", abort=True)
    with opened_system(refuse=(ServiceError,)) as system:
        t = _tenant_or_fail(system, tenant_slug)
        system.ledger.execute(t, Actor.system(organisation=t.slug), cmds.EraseCandidate(candidate_id=ident),
                              correlation_id="cli-erase-person")
    click.echo(f"candidate {ident} erased in {tenant_slug}")


@main.group()
def keys() -> None:
    """The platform's head-signing key."""


@keys.command("public")
def keys_public() -> None:
    """Print the public key (base64) that verifies signed heads and exports."""
    from infra import audit

    settings = Settings.from_env()
    click.echo(audit.public_key_b64(audit.load_signing_key(settings)))


@main.group()
def heads() -> None:
    """Signed chain heads."""


@heads.command("sign")
@click.option("--tenant", "tenant_slug", help="Only this tenant (default: all).")
def heads_sign(tenant_slug: str | None) -> None:
    """Sign the current head of each tenant's chain and keep it."""
    from infra import audit

    with opened_system() as system:
        key = audit.load_signing_key(system.settings)
        tenants = [_tenant_or_fail(system, tenant_slug)] if tenant_slug else system.registry.list_tenants()
        refused = 0
        for t in tenants:
            try:
                head = audit.sign_head(system.stores.database("default"), system.stores.database(t.database), t,
                                       key)
            except audit.HeadNotExtending as e:
                click.echo(f"{t.slug}\tNOT SIGNED: {e}", err=True)
                refused += 1
                continue
            click.echo(f"{t.slug}\tposition {head.position}\thash {head.hash_hex}\tsigned {head.signed_at}")
    if refused:
        raise click.ClickException(f"{refused} tenant(s) not signed: their chain no longer extends the last "
                                   "signed head (run `sroi verify`)")


@main.group("notifications")
def notifications_group() -> None:
    """Notifications of period statements."""


@notifications_group.command("run")
@click.option("--tenant", "tenant_slug", help="Only this tenant (default: every active one).")
def notifications_run(tenant_slug: str | None) -> None:
    """Tell what needs telling now, once: what the worker does every minute
    (e.g. after an outage). Inbox rows, and digests if SMTP_URL is set; a
    notice already told is not told again."""
    from infra.mail import mailer_from_settings

    with opened_system() as system:
        tenants = [_tenant_or_fail(system, tenant_slug)] if tenant_slug else None
        mailer = mailer_from_settings(system.settings)
        run = system.notify(mailer, tenants=tenants)
    click.echo(f"notices told: {run.notices} ({run.told} recipients)")
    click.echo(f"mails sent: {run.mailed}" if mailer is not None else "mails sent: 0 (SMTP_URL is not set)")
    problems = []
    if run.mail_errors:
        problems.append(f"{len(run.mail_errors)} digest(s) not sent ({', '.join(sorted(set(run.mail_errors)))}):"
                        " they stay unmailed for the next run")
    if run.failed_tenants:
        problems.append(f"{run.failed_tenants} tenant(s) failed: their notices wait for the next run")
    if problems:
        raise click.ClickException("; ".join(problems))


@main.command()
def demo() -> None:
    """Create the demo tenant with realistic data (once)."""
    from infra.demo import read_credentials, seed_demo

    with opened_system() as system:
        logins = seed_demo(system)
        click.echo("demo tenant created" if logins else "demo tenant already exists")
        creds = read_credentials(system.settings.data_dir)
        if creds:
            click.echo(creds.rstrip())


def uvicorn_options(settings: Settings) -> dict:
    """Forwarded headers (X-Forwarded-For, -Proto) are believed only from the
    proxies named in TRUSTED_PROXIES; with none named they are ignored and the
    peer's address is the client's. (Uvicorn's own default believes them from
    127.0.0.1, so anything on the machine could claim any address and step
    around the login limit, which counts per address.)"""
    if not settings.trusted_proxies:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": list(settings.trusted_proxies)}


@main.command()
@click.option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="127.0.0.1")
@click.option("--port", default=lambda: int(os.environ.get("PORT", "8000")), type=int, show_default="8000")
def serve(host: str, port: int) -> None:
    """Run the web server (API and pages)."""
    import uvicorn

    from web.app import create_app

    with opened_system() as system:
        uvicorn.run(create_app(system), host=host, port=port, log_level="info", server_header=False,
                    **uvicorn_options(system.settings))


@main.command()
@click.option("--threads", default=4, show_default=True, type=int)
def worker(threads: int) -> None:
    """Run a background worker (projections, scheduled jobs)."""
    from infra.worker import run_worker

    with opened_system() as system:
        run_worker(system, threads=threads)


@main.command()
@click.option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="127.0.0.1")
@click.option("--port", default=lambda: int(os.environ.get("PORT", "8000")), type=int, show_default="8000")
def run(host: str, port: int) -> None:
    """The whole system on this machine: database, demo data, worker and web server."""
    import uvicorn

    from infra.demo import read_credentials, seed_demo
    from web.app import create_app

    # The demo on a developer's machine shows Server-Timing (off by default).
    os.environ.setdefault("SERVER_TIMING", "1")
    with opened_system() as system:
        system.migrate_tenants()
        seed_demo(system)
        env = {**os.environ, "DATABASE_URL": system.database_url}
        worker_proc = subprocess.Popen([sys.executable, "-m", "infra.cli", "worker"], env=env)
        click.echo("")
        click.echo(f"SROI Ledger is running: http://{host}:{port}/")
        click.echo(f"  API docs:  http://{host}:{port}/schema")
        click.echo(f"  database:  {'DATABASE_URL' if system.settings.database.url else 'embedded PostgreSQL under ' + str(system.settings.data_dir / 'pg')}")
        creds = read_credentials(system.settings.data_dir)
        if creds:
            click.echo("  demo logins (agency or organisation, role, email, password, API token):")
            for line in creds.splitlines()[1:]:
                click.echo("    " + line)
        click.echo("Press Ctrl-C to stop.\n")
        try:
            uvicorn.run(create_app(system), host=host, port=port, log_level="warning", server_header=False,
                        **uvicorn_options(system.settings))
        finally:
            processes.stop([worker_proc])


if __name__ == "__main__":
    main()
