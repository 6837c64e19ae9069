"""The OpenAPI is the API's contract: every operation documents a typed 2xx
body and the errors it can give in the error shape the API really answers
({detail, errors: [{field, message}]}); a route added without them fails here.
That the real answers match it is checked on every API test's answer
(tests/api/openapi_check.py, the `client` fixture)."""
from __future__ import annotations

import json
import uuid
from typing import Any

from litestar import Litestar, Response, Router, get, post
from litestar.di import Provide

from tests.api.openapi_check import OpenAPICheck, contract_problems
from web.api.auth import v1_router


def _operations(openapi: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in openapi["paths"].items() if path.startswith("/api/")
            for method, op in ops.items()]


def test_every_api_operation_documents_a_typed_answer_and_its_errors(openapi_check: OpenAPICheck) -> None:
    openapi = openapi_check.openapi
    assert len(_operations(openapi)) >= 90  # the walk saw the API
    assert contract_problems(openapi) == []
    error = openapi["components"]["schemas"]["ErrorBody"]
    assert error["required"] == ["detail"]
    assert error["properties"]["errors"]["items"] == {"$ref": "#/components/schemas/FieldError"}
    assert set(openapi["components"]["schemas"]["FieldError"]["required"]) == {"field", "message"}


def test_a_created_record_answers_its_id_and_a_read_its_fields(openapi_check: OpenAPICheck) -> None:
    paths = openapi_check.openapi["paths"]
    schemas = openapi_check.openapi["components"]["schemas"]
    created = paths["/api/v1/employers"]["post"]["responses"]["201"]
    assert created["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Created"}
    assert schemas["Created"]["properties"]["id"] == {"type": "string", "format": "uuid"}
    assert "X-Event-Position" in created["headers"]
    record = paths["/api/v1/employers/{employer_id}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert record["schema"] == {"$ref": "#/components/schemas/EmployerRecord"}
    assert {"id", "version", "name", "contact_persons"} <= set(schemas["EmployerRecord"]["required"])
    page = schemas["ContractPage"]
    assert set(page["required"]) == {"items", "next_cursor", "has_more"}
    assert page["properties"]["items"]["items"] == {"$ref": "#/components/schemas/ContractRecord"}


def test_the_figures_document_as_of_known_at_and_min_position(openapi_check: OpenAPICheck) -> None:
    paths = openapi_check.openapi["paths"]
    for path in ("/api/v1/contracts/{contract_id}/compliance", "/api/v1/compliance", "/api/v1/retention"):
        params = {p["name"]: p for p in paths[path]["get"]["parameters"] if p["in"] == "query"}
        assert {"as_of", "known_at", "min_position"} <= set(params), path
        assert params["as_of"]["schema"]["oneOf"][0] == {"type": "string", "format": "date"}
        assert params["known_at"]["schema"]["oneOf"][0] == {"type": "string", "format": "date-time"}
        assert params["min_position"]["schema"]["oneOf"][0] == {"type": "integer"}
    limit = {p["name"]: p for p in paths["/api/v1/contracts"]["get"]["parameters"]}["limit"]["schema"]
    assert (limit["minimum"], limit["maximum"]) == (1, 500)


def test_a_route_without_a_typed_answer_or_outside_the_api_router_fails_the_walk() -> None:
    @get("/things/{thing_id:str}")
    async def untyped_read(thing_id: str) -> dict[str, Any]:
        return {}

    @post("/things")
    async def untyped_command(data: dict[str, Any]) -> Response:
        return Response({})

    @get("/api/v1/loose")
    async def outside_the_router() -> dict[str, str]:
        return {}

    app = Litestar([v1_router([untyped_read, untyped_command], "test"), Router("/", route_handlers=[outside_the_router])],
                   dependencies={"pool": Provide(lambda: None, sync_to_thread=False)})
    problems = contract_problems(app.openapi_schema.to_schema())
    assert "GET /api/v1/things/{thing_id}: 200 is not typed (schema {'additionalProperties': {}, 'type': 'object'})" \
        in problems
    assert any(p.startswith("POST /api/v1/things: 201") for p in problems)
    # The API router documents the errors a route can give from what it takes ...
    assert not any(p.startswith(("GET /api/v1/things/{thing_id}: does not", "POST /api/v1/things: does not"))
                   for p in problems)
    # ... a route outside it documents none.
    assert "GET /api/v1/loose: does not document its 401" in problems


def test_an_answer_unlike_the_openapi_is_caught(openapi_check: OpenAPICheck) -> None:
    path = f"/api/v1/employers/{uuid.uuid4()}"
    record = {"id": str(uuid.uuid4()), "version": 1, "created_on": "2026-01-05T10:00:00+00:00",
              "modified_on": "2026-01-05T10:00:00+00:00", "name": "Bouwbedrijf De Vries B.V.",
              "contact_persons": [], "org_id": None, "org_name": None}
    assert openapi_check.problems("GET", path, 200, "application/json", json.dumps(record).encode()) == []
    wrong = openapi_check.problems("GET", path, 200, "application/json", json.dumps({**record, "id": 5}).encode())
    assert len(wrong) == 1 and wrong[0].endswith("id: 5 is not of type 'string'"), wrong
    record.pop("version")
    missing = openapi_check.problems("GET", path, 200, "application/json", json.dumps(record).encode())
    assert len(missing) == 1 and "'version' is a required property" in missing[0], missing
    undocumented = openapi_check.problems("GET", path, 418, "application/json", b"{}")
    assert undocumented and "does not document" in undocumented[0]
    error = openapi_check.problems("GET", path, 404, "application/json", b'{"detail": "no", "errors": [{"field": 1}]}')
    assert error and "errors/0" in error[0]
