"""Documents kept in a directory (DOCUMENT_STORE=directory:/path): real files
in a temporary folder, real PostgreSQL, through the API. The same answers
as in the database; the files content-addressed under the tenant's folder,
written before the event, checked when read, gone when no row names them."""
from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from litestar.testing import TestClient

from infra.bootstrap import System, bootstrap
from infra.documents import DirectoryDocumentStore, StoreDocument
from infra.settings import Settings, SettingsError
from tests.api.conftest import API, Org, bearer
from tests.api.document_samples import pdf, text_pretending
from tests.api.test_documents import placement_contribution, purchase, upload
from tests.conftest import random_slug
from web.app import create_app


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "documents"


@pytest.fixture
def dir_system(system: System, settings: Settings, database_url: str, folder: Path) -> Iterator[System]:
    """The same database (made by `system`), the bytes in `folder`; 4 KB a file, 10 KB a tenant."""
    made = bootstrap(dataclasses.replace(settings, document_directory=folder, document_max_bytes=4096,
                                         document_quota_bytes=10 * 1024), database_url=database_url, migrate=False)
    yield made
    made.close()


@pytest.fixture
def client(dir_system: System) -> Iterator[TestClient]:
    with TestClient(create_app(dir_system)) as c:
        yield c


def new_org(system: System, client: TestClient, name: str = "Werkbedrijf Map B.V.") -> Org:
    org = Org(system=system, client=client, tenant=system.registry.create_tenant(random_slug(), name),
              agency_token="")
    org.agency_token = org.token_for("agency")
    org.seed()
    return org


def files_of(folder: Path, org: Org) -> list[Path]:
    """The tenant's kept files (a temporary one left behind would show too)."""
    tenant_folder = folder / str(org.tenant.id)
    return sorted(tenant_folder.iterdir()) if tenant_folder.exists() else []


def row(org: Org, document_id: str) -> dict:
    with org.system.stores.for_tenant(org.tenant).documents.database.connection() as conn:
        return conn.execute("SELECT content, content_sha256 FROM events.documents WHERE document_id = %s",
                            (UUID(document_id),)).fetchone()


def test_a_document_goes_to_a_file_and_comes_back_byte_for_byte(dir_system: System, client: TestClient,
                                                                 folder: Path) -> None:
    org = new_org(dir_system, client)
    invoice, payslip = pdf("Factuur 2025-031 Werkbedrijf Groen"), pdf("Loonstrook Sanne Jansen")
    made = upload(org, purchase(org), invoice, "factuur.pdf", client=client)
    assert made.status_code == 201, made.text
    slip = upload(org, placement_contribution(org), payslip, "loonstrook.pdf", kind="payslip", client=client)
    assert slip.status_code == 201, slip.text

    # The rows name their files; no bytes in the database.
    invoice_row, slip_row = row(org, made.json()["id"]), row(org, slip.json()["id"])
    assert invoice_row["content"] is None and slip_row["content"] is None
    kept = {p.name: p.read_bytes() for p in files_of(folder, org)}
    assert set(kept) == {invoice_row["content_sha256"], slip_row["content_sha256"]}
    assert all(hashlib.sha256(data).hexdigest() == name for name, data in kept.items())
    # An invoice is about no one: kept as it came, as in the database. A payslip: sealed.
    assert kept[invoice_row["content_sha256"]] == invoice
    assert b"Sanne Jansen" not in kept[slip_row["content_sha256"]]

    for document, content in ((made.json()["id"], invoice), (slip.json()["id"], payslip)):
        down = org.get(f"/documents/{document}")
        assert down.status_code == 200 and down.content == content

    # Removed: recorded, and its file deleted once the removal is stored.
    assert client.delete(f"{API}/documents/{made.json()['id']}", headers=bearer(org.agency_token)).status_code == 200
    assert [p.name for p in files_of(folder, org)] == [slip_row["content_sha256"]]
    assert org.get(f"/documents/{made.json()['id']}").status_code == 410


def test_a_changed_or_missing_file_is_detected_and_not_served(dir_system: System, client: TestClient,
                                                              folder: Path) -> None:
    org = new_org(dir_system, client)
    contribution = purchase(org)
    changed = upload(org, contribution, pdf("Factuur een"), "een.pdf", client=client).json()["id"]
    missing = upload(org, contribution, pdf("Factuur twee"), "twee.pdf", client=client).json()["id"]
    path = folder / str(org.tenant.id) / row(org, changed)["content_sha256"]
    path.write_bytes(pdf("Factuur een, vervalst"))
    (folder / str(org.tenant.id) / row(org, missing)["content_sha256"]).unlink()
    for document in (changed, missing):
        r = org.get(f"/documents/{document}")
        assert r.status_code == 500 and "not served" in r.json()["detail"], r.text
        assert b"vervalst" not in r.content


def test_an_erased_persons_file_is_unreadable_and_answers_410(dir_system: System, client: TestClient,
                                                             folder: Path) -> None:
    org = new_org(dir_system, client)
    made = upload(org, placement_contribution(org), pdf("Doelgroepverklaring Sanne Jansen"), "verklaring.pdf",
                  kind="target_group_declaration", client=client).json()
    path = folder / str(org.tenant.id) / row(org, made["id"])["content_sha256"]
    assert path.exists()
    assert org.post(f"/candidates/{org.ids['candidate']}/erase", {}).status_code == 200
    r = org.get(f"/documents/{made['id']}")
    assert r.status_code == 410 and "erased" in r.json()["detail"]
    # The file stays as ciphertext whose key is gone (as the row did, and as every backup does).
    keys = org.system.stores.for_tenant(org.tenant).person_keys
    assert keys.key(org.tenant.id, UUID(org.ids["candidate"]), create=False) is None
    assert b"Sanne Jansen" not in path.read_bytes()
    assert org.system.stores.for_tenant(org.tenant).documents.used_bytes(org.tenant.id) == 0


def test_a_refused_upload_leaves_no_file(dir_system: System, client: TestClient, folder: Path) -> None:
    org = new_org(dir_system, client)
    contribution = purchase(org)
    assert upload(org, contribution, text_pretending(), "factuur.pdf", client=client).status_code == 422
    assert upload(org, contribution, pdf() + b"%" * 5000, "groot.pdf", client=client).status_code == 413
    assert files_of(folder, org) == []
    third = [pdf(f"deel {n}") + b"%" * (3500 - len(pdf(f"deel {n}"))) for n in range(3)]
    assert [upload(org, contribution, part, "deel.pdf", client=client).status_code for part in third[:2]] == [201, 201]
    before = files_of(folder, org)
    r = upload(org, contribution, third[2], "deel.pdf", client=client)
    assert r.status_code == 413 and "quota" in r.json()["detail"]
    assert files_of(folder, org) == before and len(before) == 2


def test_bytes_written_for_a_transaction_that_failed_are_cleaned_up(dir_system: System, client: TestClient,
                                                                    folder: Path) -> None:
    """A failure after the file was written (the event refused): the file goes; a
    file another row names (the same bytes, kept already) stays."""
    org = new_org(dir_system, client)
    kept = pdf("al bewaard")
    assert upload(org, purchase(org), kept, "oud.pdf", client=client).status_code == 201
    vault = org.system.stores.for_tenant(org.tenant).documents
    record = UUID(purchase(org))
    write = vault.prepare(org.tenant.id, [
        StoreDocument(document_id=UUID(int=n), record_kind="contribution", record_id=record, candidate_id=None,
                      content=content) for n, content in ((1, pdf("nieuw")), (2, kept))])
    with pytest.raises(RuntimeError), vault.database.connection() as conn, conn.transaction():
        write(conn)
        assert len(files_of(folder, org)) == 2  # durable before the commit
        raise RuntimeError("the event was refused")
    write.abandoned()
    assert [p.read_bytes() for p in files_of(folder, org)] == [kept]


def test_each_tenant_has_its_own_folder_and_files(dir_system: System, client: TestClient, folder: Path) -> None:
    """The same bytes in two tenants are two files, one under each tenant's id;
    one tenant's removal never touches the other's. Within a tenant the same
    bytes are one file, deleted when the last document naming it goes."""
    a, b = new_org(dir_system, client, "Werkbedrijf A B.V."), new_org(dir_system, client, "Werkbedrijf B B.V.")
    same = pdf("Zelfde factuur")
    first_a = upload(a, purchase(a), same, "a.pdf", client=client).json()["id"]
    second_a = upload(a, purchase(a), same, "a2.pdf", client=client).json()["id"]
    in_b = upload(b, purchase(b), same, "b.pdf", client=client).json()["id"]
    digest = hashlib.sha256(same).hexdigest()
    assert [p.name for p in files_of(folder, a)] == [digest] == [p.name for p in files_of(folder, b)]
    assert sorted(p.name for p in folder.iterdir()) == sorted([str(a.tenant.id), str(b.tenant.id)])

    assert client.delete(f"{API}/documents/{first_a}", headers=bearer(a.agency_token)).status_code == 200
    assert a.get(f"/documents/{second_a}").content == same  # still named by the second
    assert client.delete(f"{API}/documents/{second_a}", headers=bearer(a.agency_token)).status_code == 200
    assert files_of(folder, a) == []
    assert b.get(f"/documents/{in_b}").content == same
    # Another tenant's document is not found, whatever the folders hold.
    assert a.get(f"/documents/{in_b}").status_code == 404


def test_a_row_never_makes_a_path_outside_the_tenants_folder(folder: Path) -> None:
    store = DirectoryDocumentStore(folder)
    tenant = UUID(int=7)
    assert store.path(tenant, "a" * 64) == folder / str(tenant) / ("a" * 64)
    for name in ("../" + "a" * 61, "A" * 64, "a" * 63):
        with pytest.raises(Exception, match="not a SHA-256"):
            store.path(tenant, name)


def test_the_setting_names_the_store() -> None:
    base = {"SECRET_KEY": "x"}
    assert Settings.from_env(base).document_directory is None
    assert Settings.from_env({**base, "DOCUMENT_STORE": "database"}).document_directory is None
    assert Settings.from_env({**base, "DOCUMENT_STORE": "directory:/srv/sroi/documents"}).document_directory == Path(
        "/srv/sroi/documents")
    for bad in ("directory:", "directory:relative/path", "s3://bucket", "files"):
        with pytest.raises(SettingsError, match="DOCUMENT_STORE"):
            Settings.from_env({**base, "DOCUMENT_STORE": bad})
