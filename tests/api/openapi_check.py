"""Every answer the API tests get is checked against the app's own OpenAPI
(the choice, over sampling with schemathesis: docs/architecture.md, "The
API's contract"). The check runs as an httpx response hook on the tests'
TestClient: an /api/v1 answer with a status its operation does not document,
or a JSON body that does not validate against the documented schema
(jsonschema, Draft 2020-12, with formats), fails the test that got it."""
from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import httpx
from jsonschema import Draft202012Validator, FormatChecker

API_PREFIX = "/api/v1/"


class OpenAPICheck:
    def __init__(self, openapi: dict[str, Any]):
        self.openapi = openapi
        self.components = openapi.get("components", {})
        # Literal paths before templated ones (/rule-sets/schema before /rule-sets/{name}/{version}).
        self.routes = sorted(
            ((re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path, ops)
             for path, ops in openapi["paths"].items() if path.startswith(API_PREFIX)),
            key=lambda r: (r[1].count("{"), r[1]))
        self.validators: dict[tuple[str, str, str], Draft202012Validator] = {}
        self.checked: Counter[str] = Counter()

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        for pattern, template, ops in self.routes:
            if pattern.match(path) and method.lower() in ops:
                return template, ops[method.lower()]
        return None

    def validator(self, template: str, method: str, status: str, schema: dict[str, Any]) -> Draft202012Validator:
        key = (template, method, status)
        if key not in self.validators:
            self.validators[key] = Draft202012Validator({**schema, "components": self.components},
                                                        format_checker=FormatChecker())
        return self.validators[key]

    def problems(self, method: str, path: str, status: int, content_type: str, body: bytes) -> list[str]:
        """What is wrong with one answer (empty: it is as documented)."""
        found = self.operation(method, path)
        if found is None:
            return []  # not an API operation (an unknown path's 404, a method not allowed)
        template, op = found
        responses = op.get("responses", {})
        documented = responses.get(str(status))
        if documented is None:
            return [f"{method} {template} answered {status}, which its OpenAPI does not document "
                    f"(documented: {sorted(responses)})"]
        self.checked[f"{method} {template} {status}"] += 1
        media = (content_type or "").split(";")[0].strip()
        content = documented.get("content") or {}
        if media != "application/json":
            if media and content and media not in content and "application/octet-stream" not in content:
                return [f"{method} {template} {status}: answered {media}, documented {sorted(content)}"]
            return []
        schema = (content.get("application/json") or {}).get("schema")
        if schema is None:
            return [f"{method} {template} {status}: a JSON body, but no JSON schema documented"]
        data = json.loads(body) if body else None
        errors = sorted(self.validator(template, method, str(status), schema).iter_errors(data),
                        key=lambda e: list(e.absolute_path))
        return [f"{method} {template} {status}: {'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message[:300]}"
                for e in errors[:5]]

    def hook(self, response: httpx.Response) -> None:
        request = response.request
        if not request.url.path.startswith(API_PREFIX):
            return
        response.read()
        problems = self.problems(request.method, request.url.path, response.status_code,
                                 response.headers.get("content-type", ""), response.content)
        assert not problems, "the answer is not as the OpenAPI documents it:\n" + "\n".join(problems)


# -- the contract every operation keeps ---------------------------------------------------------

ERROR_REF = "#/components/schemas/ErrorBody"


def _schema_of(response: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    content = response.get("content") or {}
    for media, body in content.items():
        if body.get("schema") is not None:
            return media, body["schema"]
    return None


def _typed(schema: dict[str, Any], components: dict[str, Any]) -> bool:
    """An object with named fields (through its $ref), or a list of them."""
    if "$ref" in schema:
        target = components.get("schemas", {}).get(schema["$ref"].split("/")[-1], {})
        return _typed(target, components)
    if schema.get("type") == "array":
        return _typed(schema.get("items") or {}, components)
    return bool(schema.get("properties"))


def contract_problems(openapi: dict[str, Any]) -> list[str]:
    """Each API operation's missing piece of its contract: a typed 2xx body, and
    the errors it can give in the API's error shape (401 always, 404 with an id
    in its path, 422 with parameters or a body, 400 and 413 with a JSON body),
    and a type for each parameter."""
    problems = []
    components = openapi.get("components", {})
    ids = [op.get("operationId") for ops in openapi["paths"].values() for op in ops.values()]
    problems += [f"operationId {i!r} is not unique" for i in sorted({i for i in ids if ids.count(i) > 1})]
    for path, ops in openapi["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, op in ops.items():
            name = f"{method.upper()} {path}"
            responses = op.get("responses", {})
            ok = [code for code in responses if code.startswith("2")]
            if not ok:
                problems.append(f"{name}: no 2xx response")
            for code in ok:
                found = _schema_of(responses[code])
                if found is None:
                    problems.append(f"{name}: {code} has no schema")
                elif found[0] == "application/json" and not _typed(found[1], components):
                    problems.append(f"{name}: {code} is not typed (schema {found[1]})")
                elif found[0] != "application/json" and not found[1].get("type"):
                    problems.append(f"{name}: {code} {found[0]} has no type")
            needed = {"401"}
            params = op.get("parameters", [])
            body = op.get("requestBody")
            if "{" in path:
                needed.add("404")
            if body or any(p["in"] == "query" for p in params):
                needed.add("422")
            if body and "application/json" in body.get("content", {}):
                needed |= {"400", "413"}
            for code in sorted(needed - set(responses)):
                problems.append(f"{name}: does not document its {code}")
            for code, response in responses.items():
                if code[0] in "45":
                    found = _schema_of(response)
                    if found is None or found[1].get("$ref") != ERROR_REF:
                        problems.append(f"{name}: {code} is not documented as ErrorBody")
            for p in params:
                schema = p.get("schema") or {}
                if not (schema.get("type") or schema.get("oneOf") or schema.get("enum") or schema.get("$ref")):
                    problems.append(f"{name}: parameter {p['name']} has no type")
                if not p.get("description") and p["in"] == "query":
                    problems.append(f"{name}: parameter {p['name']} has no description")
    return problems
