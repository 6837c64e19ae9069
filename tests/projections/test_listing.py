"""The listing read model (projections/listing.py): every event of a record
moves it to the end of the change order, and so does a change to who may see
it; a page is read through an index, not by reading the tenant's rows."""
from __future__ import annotations

import json
import uuid
from datetime import date

from projections import listing
from projections.base import RM
from projections.listing import Scope
from service import commands as c
from tests.projections.conftest import catch_up

START = (0, uuid.UUID(int=0))


async def test_every_change_moves_the_record_after_the_others(pool, books):
    first = books.employer("Bouwbedrijf De Vries")
    second = books.employer("Schoonmaak Zuid")
    contract = books.contract(second)
    catch_up(books.system, books.tenant)
    assert [r for r, _ in await listing.page(pool, books.tenant.id, "employer", START, 10, Scope())] == [first, second]
    # A contact person is no column of the listing, yet a change to sync: De Vries moves to the end.
    books.run(c.AddContactPerson(employer_id=first, name="Eva Bakker", email="eva@example.org"))
    catch_up(books.system, books.tenant)
    rows = await listing.page(pool, books.tenant.id, "employer", START, 10, Scope())
    assert [r for r, _ in rows] == [second, first]
    # After the last row: nothing, until the next change.
    assert await listing.page(pool, books.tenant.id, "employer", rows[-1][::-1], 10, Scope()) == []
    # Closing the contract: status closed, and it moves past its old position.
    (_, before), = await listing.page(pool, books.tenant.id, "contract", START, 10, Scope(), status="open")
    books.run(c.CloseContract(contract_id=contract, closed_on=date(2026, 1, 31)))
    catch_up(books.system, books.tenant)
    assert await listing.page(pool, books.tenant.id, "contract", START, 10, Scope(), status="open") == []
    (found, after), = await listing.page(pool, books.tenant.id, "contract", START, 10, Scope(), status="closed")
    assert found == contract and after > before


async def test_sharing_an_employer_record_moves_its_contracts_for_the_organisation_to_sync(pool, books):
    employer = books.employer()
    contract = books.contract(employer)
    catch_up(books.system, books.tenant)
    org = books.system.registry.create_organisation("employer", "Bouwbedrijf De Vries B.V.",
                                                    kvk=f"{uuid.uuid4().int % 10**8:08d}")
    scope = Scope(employer_org=org.id)
    assert await listing.page(pool, books.tenant.id, "contract", START, 10, scope) == []
    (_, before), = await listing.page(pool, books.tenant.id, "contract", START, 10, Scope())
    books.run(c.LinkEmployerOrganisation(employer_id=employer, org_id=org.id))
    catch_up(books.system, books.tenant)
    (found, after), = await listing.page(pool, books.tenant.id, "contract", START, 10, scope)
    assert found == contract and after > before  # newly visible: past the organisation's last cursor
    own = await listing.page(pool, books.tenant.id, "employer", START, 10, Scope(org_of_employer=org.id))
    assert [r for r, _ in own] == [employer]


async def test_a_page_reads_an_index_over_thousands_of_rows(pool, books):
    """5,000 records of each kind (rows written as the projector writes them):
    a page as the agency, by employer, as an employer organisation and as an
    authority is an index scan that stops at the page size."""
    employer = books.employer()
    catch_up(books.system, books.tenant)
    async with pool.acquire() as conn:
        gen = await conn.fetchval(f"SELECT gen FROM {RM}.live WHERE projection = $1 AND tenant_id = $2",
                                  listing.NAME, books.tenant.id)
        await conn.execute(f"""
            INSERT INTO {RM}.l_records (tenant_id, gen, record_id, kind, position, employer_id, contract_id,
                                        status, authority)
            SELECT $1, $2, gen_random_uuid(), k.kind, 1000000 + n * 5 + k.i,
                   CASE WHEN n % 50 = 0 THEN $3::uuid ELSE gen_random_uuid() END, NULL,
                   CASE WHEN n % 3 = 0 THEN 'closed' ELSE 'open' END, 'Gemeente ' || (n % 40)
            FROM generate_series(1, 5000) n,
                 (VALUES ('employer', 0), ('contract', 1), ('candidate', 2), ('vacancy', 3), ('placement', 4))
                   AS k(kind, i)""", books.tenant.id, gen, employer)
        await conn.execute(f"UPDATE {RM}.l_records SET contract_id = record_id WHERE tenant_id = $1"
                           " AND kind = 'contract'", books.tenant.id)
        await conn.execute(f"ANALYZE {RM}.l_records")
        cases = {
            "agency": Scope(), "by employer": Scope(employer_id=employer),
            "employer organisation": Scope(employer_org=uuid.uuid4()),
            "authority": Scope(contract_authority="Gemeente 7"),
            "authority organisation": Scope(authority_org=uuid.uuid4()),
        }
        for name, scope in cases.items():
            query, args = listing.page_sql("contract", START, 101, scope)
            plan = await conn.fetchval("EXPLAIN (ANALYZE, FORMAT JSON) " + query, books.tenant.id, *args[1:])
            (top,) = json.loads(plan)
            read = [n for n in nodes(top["Plan"]) if n.get("Relation Name") == "l_records"]
            scans = {(n["Node Type"], n.get("Index Name")) for n in read}
            # 5,000 contracts, yet only index scans, and the whole page well under a millisecond or so.
            # A narrow filter (an authority's 125 contracts) may be read by a bitmap over an index
            # instead, the planner's choice with these statistics: then it reads no more than the
            # rows that match, never the tenant's whole list.
            assert scans and all(t in ("Index Scan", "Index Only Scan", "Bitmap Heap Scan") for t, _ in scans), (
                name, scans)
            assert all(n["Actual Rows"] <= 5000 // 40 for n in read if n["Node Type"] == "Bitmap Heap Scan"), (
                name, [(n["Node Type"], n["Actual Rows"]) for n in read])
            assert top["Execution Time"] < 50, (name, top["Execution Time"])


def nodes(plan: dict) -> list[dict]:
    return [plan, *(n for child in plan.get("Plans", []) for n in nodes(child))]
