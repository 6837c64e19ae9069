"""A partner's client, generated from the OpenAPI with openapi-python-client,
against a real `sroi serve` process: it registers an employer and a contract
and reads their ids from the typed answers, reads the contract back, syncs the
contract list by its cursor, and reads a 422's field errors and a 401 as typed
objects. The generator must leave nothing out: no warning, no skipped
endpoint or response."""
from __future__ import annotations

import importlib
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.bootstrap import System
from tests.api.conftest import contract_body
from tests.conftest import random_slug
from tests.projections.conftest import catch_up
from tests.web.conftest import Server, web_process

PACKAGE = "sroi_partner_client"


@pytest.fixture(scope="module")
def served(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with web_process(database_url, tmp_path_factory.mktemp("client-web") / "web.log") as server:
        yield server


@pytest.fixture(scope="module")
def generated(served: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    """(the generated package, the generator's output), imported from a temp dir."""
    where = tmp_path_factory.mktemp("client")
    spec = where / "openapi.json"
    spec.write_bytes(httpx.get(served.url + "/schema/openapi.json").raise_for_status().content)
    config = where / "config.yaml"
    config.write_text("post_hooks: []\n")  # no formatter run: the code is imported, not read
    run = subprocess.run([sys.executable, "-m", "openapi_python_client", "generate", "--path", str(spec),
                          "--config", str(config), "--meta", "none", "--output-path", str(where / PACKAGE)],
                         capture_output=True, text=True, timeout=300)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module(PACKAGE), output
    finally:
        sys.path.remove(str(where))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def test_the_generator_leaves_out_no_endpoint_and_no_response(generated: tuple[Any, str]) -> None:
    package, output = generated
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines[0].startswith("Generating"), output
    noise = [line for line in lines[1:] if not line.startswith("If you believe this was a mistake")]
    assert noise == [], output  # e.g. "Warning(s) encountered", "Cannot parse response", "Skipping"
    api = importlib.import_module(f"{PACKAGE}.api")
    assert api is not None


def _module(kind: str, operation: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.api.{kind}.{operation}")


def test_a_partner_registers_reads_syncs_and_reads_errors_through_the_generated_client(
        generated: tuple[Any, str], served: Server, system: System) -> None:
    package, _ = generated
    models = importlib.import_module(f"{PACKAGE}.models")
    tenant = system.registry.create_tenant(random_slug("client"), "Client Detachering B.V.")
    token = system.registry.issue_token(system.registry.create_user(tenant, f"{uuid.uuid4().hex}@example.org", "agency"))
    client = package.AuthenticatedClient(base_url=served.url, token=token, raise_on_unexpected_status=True)

    # Register an employer: 201 and its id, typed.
    answer = _module("api_v1", "register_employer").sync_detailed(
        client=client, body=models.EmployerIn(name="Bouwbedrijf De Vries B.V."))
    assert answer.status_code == 201
    assert isinstance(answer.parsed, models.Created)
    employer_id = answer.parsed.id
    assert isinstance(employer_id, uuid.UUID)
    position = int(answer.headers["X-Event-Position"])
    assert position > 0

    # A contract for it, from the typed request body.
    body = models.ContractIn.from_dict(contract_body(str(employer_id)))
    created = _module("api_v1", "register_contract").sync(client=client, body=body)
    assert isinstance(created, models.Created)
    contract_id = created.id

    # Read it back: a typed record.
    contract = _module("api_v1", "get_contract").sync(client=client, contract_id=str(contract_id))
    assert isinstance(contract, models.ContractRecord)
    assert (contract.id, contract.employer_id, contract.title) == (contract_id, employer_id, body.title)
    assert contract.version == 1 and contract.closed is False

    # Sync the contract list: the first walk, then only what changed since its cursor
    # (the lists are read models: projected here, as the worker does).
    catch_up(system, tenant)
    list_contracts = _module("api_v1", "list_contracts")
    page = list_contracts.sync(client=client, limit=100, min_position=position)
    assert isinstance(page, models.ContractPage)
    assert [item.id for item in page.items] == [contract_id]
    assert page.has_more is False and isinstance(page.next_cursor, str)
    amended = _module("api_v1", "amend_contract").sync_detailed(
        client=client, contract_id=str(contract_id), body=models.ContractAmendIn(title="Groenonderhoud Utrecht"))
    assert isinstance(amended.parsed, models.Changed) and amended.parsed.version == 2
    catch_up(system, tenant)
    since = list_contracts.sync_detailed(client=client, cursor=page.next_cursor,
                                         min_position=int(amended.headers["X-Event-Position"]))
    assert since.status_code == 200
    assert [(item.id, item.version, item.title) for item in since.parsed.items] == [
        (contract_id, 2, "Groenonderhoud Utrecht")]

    # A 422: the field errors as typed objects.
    refused = _module("api_v1", "register_contract").sync_detailed(
        client=client, body=models.ContractIn.from_dict(contract_body(str(employer_id), ends_on="2024-01-01")))
    assert refused.status_code == 422
    assert isinstance(refused.parsed, models.ErrorBody)
    assert all(isinstance(e, models.FieldError) for e in refused.parsed.errors)
    assert [e.field for e in refused.parsed.errors] == ["ends_on"]

    # A query parameter out of range is a 422 naming it, typed the same way.
    bad = list_contracts.sync_detailed(client=client, limit=501)
    assert bad.status_code == 422 and [e.field for e in bad.parsed.errors] == ["limit"]

    # Another agency's contract is a 404, and a wrong token a 401, both typed.
    stranger = package.AuthenticatedClient(base_url=served.url, token="not-a-token")
    unknown = _module("api_v1", "get_contract").sync_detailed(client=client, contract_id=str(uuid.uuid4()))
    assert unknown.status_code == 404 and isinstance(unknown.parsed, models.ErrorBody)
    refused_token = _module("api_v1", "get_contract").sync_detailed(client=stranger, contract_id=str(contract_id))
    assert refused_token.status_code == 401 and isinstance(refused_token.parsed, models.ErrorBody)
    assert "token" in refused_token.parsed.detail
