"""Organisations of the platform and their users: the registry and `sroi org`
/ `sroi user create --org`, against the real database."""
from __future__ import annotations

import random
import uuid

import psycopg
import pytest
from click.testing import CliRunner

from infra.bootstrap import System
from infra.cli import main
from infra.database import drop_database, ensure_database_exists, with_database
from infra.eventstore import EventStoreDatabase
from infra.registry import RegistryError, TenantRegistry


def kvk() -> str:
    return f"{random.randrange(10**7, 10**8)}"


def oin() -> str:
    return "0000000" + f"{random.randrange(10**12, 10**13)}"


def email() -> str:
    return f"{uuid.uuid4().hex[:12]}@example.org"


@pytest.fixture
def sroi(database_url: str):
    runner = CliRunner()
    env = {"DATABASE_URL": database_url, "SECRET_KEY": "test-secret-key-not-for-production", "BROKER_URL": ""}

    def invoke(*args: str):
        return runner.invoke(main, list(args), env=env, catch_exceptions=False)
    return invoke


def test_an_authority_is_created_with_its_oin_and_listed(sroi) -> None:
    number = oin()
    created = sroi("org", "create", "--kind", "authority", "--name", "Gemeente Harlingen", "--oin", number)
    assert created.exit_code == 0, created.output
    org_id = uuid.UUID(created.output.strip().splitlines()[-1])
    listed = sroi("org", "list", "--kind", "authority")
    assert f"{org_id}\tauthority\tOIN {number}\tGemeente Harlingen" in listed.output.splitlines()
    assert str(org_id) not in sroi("org", "list", "--kind", "employer").output


def test_a_seven_digit_kvk_is_refused_naming_the_field(sroi) -> None:
    r = sroi("org", "create", "--kind", "employer", "--name", "Bouwbedrijf De Vries", "--kvk", "1234567")
    assert r.exit_code == 2
    assert "--kvk" in r.output and "8 digits" in r.output


def test_an_organisation_needs_exactly_one_identifier(system: System) -> None:
    with pytest.raises(RegistryError) as neither:
        system.registry.create_organisation("employer", "De Vries")
    assert neither.value.field == "kvk"
    with pytest.raises(RegistryError) as both:
        system.registry.create_organisation("employer", "De Vries", kvk=kvk(), oin=oin())
    assert both.value.field == "kvk"
    with pytest.raises(RegistryError) as short_oin:
        system.registry.create_organisation("authority", "Gemeente", oin="123")
    assert short_oin.value.field == "oin"
    with pytest.raises(RegistryError) as kind:
        system.registry.create_organisation("agency", "Kansrijk", kvk=kvk())
    assert kind.value.field == "kind"


def test_an_identifier_belongs_to_one_organisation(system: System) -> None:
    number = kvk()
    system.registry.create_organisation("employer", "De Vries", kvk=number)
    with pytest.raises(RegistryError) as twice:
        system.registry.create_organisation("employer", "De Vries B.V.", kvk=number)
    assert twice.value.field == "kvk"


def test_an_organisation_user_gets_a_token_and_no_tenant(sroi, system: System) -> None:
    org = system.registry.create_organisation("authority", "Gemeente Utrecht", oin=oin())
    address = email()
    r = sroi("user", "create", "--org", str(org.id), "--email", address, "--role", "authority", "--token")
    assert r.exit_code == 0, r.output
    secret = r.output.strip().splitlines()[-1]
    found = system.registry.principal_for_token(secret)
    assert found is not None and found.tenant is None
    assert (found.user.org_id, found.user.role, found.user.tenant_id) == (org.id, "authority", None)
    assert found.user.organisation == "Gemeente Utrecht"


def test_an_organisation_users_role_is_its_kind(sroi, system: System) -> None:
    org = system.registry.create_organisation("employer", "De Vries", kvk=kvk())
    r = sroi("user", "create", "--org", str(org.id), "--email", email(), "--role", "authority")
    assert r.exit_code == 2 and "--role" in r.output and "'employer'" in r.output
    unknown = sroi("user", "create", "--org", str(uuid.uuid4()), "--email", email(), "--role", "employer")
    assert unknown.exit_code == 2 and "no organisation" in unknown.output


def test_a_user_belongs_to_a_tenant_or_an_organisation_never_both(sroi, system: System, tenant) -> None:
    r = sroi("user", "create", "--email", email(), "--role", "agency")
    assert r.exit_code == 2 and "--tenant" in r.output and "--org" in r.output
    org = system.registry.create_organisation("employer", "De Vries", kvk=kvk())
    with system.stores.database("default").connection() as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("INSERT INTO platform.users (id, tenant_id, org_id, email, role, organisation)"
                     " VALUES (%s, %s, %s, %s, 'employer', 'x')", (uuid.uuid4(), tenant.id, org.id, email()))


def test_an_organisation_user_logs_in_with_a_password(system: System) -> None:
    org = system.registry.create_organisation("employer", "De Vries", kvk=kvk())
    user = system.registry.create_org_user(org.id, email(), "employer", password="a long password")
    found = system.registry.authenticate(user.email, "a long password")
    assert found is not None
    tenant, who = found
    assert tenant is None and who.org_id == org.id


OLD_PLATFORM = """
CREATE SCHEMA platform;
CREATE TABLE platform.tenants (id uuid PRIMARY KEY, slug text NOT NULL UNIQUE, name text NOT NULL,
    status text NOT NULL DEFAULT 'active', database text NOT NULL DEFAULT 'default',
    events_table text NOT NULL UNIQUE, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE platform.users (id uuid PRIMARY KEY, tenant_id uuid NOT NULL REFERENCES platform.tenants(id),
    email text NOT NULL UNIQUE, role text NOT NULL, organisation text NOT NULL, employer_id uuid,
    candidate_id uuid, password_hash text, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE platform.api_tokens (token_hash bytea PRIMARY KEY, id uuid NOT NULL UNIQUE,
    user_id uuid NOT NULL REFERENCES platform.users(id), label text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(), expires_at timestamptz NOT NULL, last_used_at timestamptz);
"""


def test_a_database_from_before_organisations_is_upgraded(database_url: str, system: System) -> None:
    """platform.users had tenant_id NOT NULL and no org_id: the migration
    (`sroi migrate`, every release) adds organisations, keeps the agency's
    users, and runs again without harm."""
    url = with_database(database_url, f"sroi_upgrade_{uuid.uuid4().hex[:8]}")
    ensure_database_exists(url)
    db = EventStoreDatabase(url, 2)
    try:
        tenant_id, user_id = uuid.uuid4(), uuid.uuid4()
        with db.connection() as conn:
            conn.execute(OLD_PLATFORM)
            conn.execute("INSERT INTO platform.tenants (id, slug, name, events_table) VALUES (%s, 'old', 'Old', 't')",
                         (tenant_id,))
            conn.execute("INSERT INTO platform.users (id, tenant_id, email, role, organisation)"
                         " VALUES (%s, %s, 'coach@example.org', 'agency', 'old')", (user_id, tenant_id))
        registry = TenantRegistry(db, system.stores)
        registry.migrate()
        registry.migrate()
        assert registry.user_by_email("coach@example.org").tenant_id == tenant_id
        assert registry.user_by_email("coach@example.org").lang == "nl"  # mail in Dutch unless chosen
        org = registry.create_organisation("employer", "De Vries", kvk=kvk())
        assert registry.create_org_user(org.id, "hr@example.org", "employer").tenant_id is None
        with db.connection() as conn, pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("INSERT INTO platform.users (id, email, role, organisation)"
                         " VALUES (%s, 'nobody@example.org', 'employer', 'x')", (uuid.uuid4(),))
    finally:
        db.close()
        drop_database(url)
