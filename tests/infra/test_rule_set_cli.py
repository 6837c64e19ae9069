"""`sroi rule-set import FILE [--org ORG_ID]` and `sroi rule-set list`, against the real database."""
from __future__ import annotations

import json
import uuid
from importlib import resources

from domain.valuation import rule_set_sha256
from tests.infra.test_organisations import oin, sroi  # noqa: F401  (fixture)


def utrecht() -> dict:
    return json.loads(resources.files("domain.rulesets").joinpath("utrecht-2024.json").read_text("utf-8"))


def test_import_a_platform_rule_set_then_an_authoritys_and_list_them(sroi, tmp_path) -> None:  # noqa: F811
    name = f"cli-{uuid.uuid4().hex[:8]}"
    body = {**utrecht(), "name": name}
    file = tmp_path / "rules.json"
    file.write_text(json.dumps(body), "utf-8")
    done = sroi("rule-set", "import", str(file))
    assert done.exit_code == 0, done.output
    assert done.output.strip() == f"published {name} v1 of the platform (sha256 {rule_set_sha256(body)})"
    # Immutable: importing the same version again is refused with the field at fault.
    again = sroi("rule-set", "import", str(file))
    assert again.exit_code == 1 and f"version: {name} version 1 exists already" in again.output

    created = sroi("org", "create", "--kind", "authority", "--name", "Gemeente Deventer", "--oin", oin())
    org_id = created.output.strip().splitlines()[-1]
    owned = {**utrecht(), "name": f"deventer-{uuid.uuid4().hex[:8]}"}
    file.write_text(json.dumps(owned), "utf-8")
    done = sroi("rule-set", "import", str(file), "--org", org_id)
    assert done.exit_code == 0 and f"published {owned['name']} v1 of Gemeente Deventer" in done.output
    # The platform may not add a version of the authority's name.
    file.write_text(json.dumps({**owned, "version": 2}), "utf-8")
    refused = sroi("rule-set", "import", str(file))
    assert refused.exit_code == 1 and "belongs to Gemeente Deventer" in refused.output

    listed = sroi("rule-set", "list").output.splitlines()
    assert "\t".join(["utrecht-2024", "1", "platform", rule_set_sha256(utrecht())]) in listed
    assert any(line.startswith(f"{owned['name']}\t1\tGemeente Deventer\t") for line in listed)


def test_a_bad_file_names_each_field(sroi, tmp_path) -> None:  # noqa: F811
    body = utrecht()
    body["blocks"]["ww"] = {"value_eur": 20000}
    file = tmp_path / "bad.json"
    file.write_text(json.dumps({**body, "name": f"bad-{uuid.uuid4().hex[:8]}"}), "utf-8")
    done = sroi("rule-set", "import", str(file))
    assert done.exit_code == 1 and "blocks.ww.value_eur: 20000 is not of type 'string'" in done.output
    file.write_text("{not json", "utf-8")
    assert sroi("rule-set", "import", str(file)).exit_code == 2
    file.write_text(json.dumps({**utrecht(), "name": f"x-{uuid.uuid4().hex[:8]}"}), "utf-8")
    assert sroi("rule-set", "import", str(file), "--org", str(uuid.uuid4())).exit_code == 2
