"""The signed-in user's inbox as both the API and the pages read it: their
own rows (infra/inbox.py), of their tenant, or of their organisation and
only about contracts an agency still shares with it (projections/shared.py)."""
from __future__ import annotations

from typing import Any
from uuid import UUID

from infra import inbox
from projections import shared
from projections.reader import platform_pool
from service.actor import Actor


async def scope(pool: Any, actor: Actor, tenant_id: UUID | None) -> tuple[UUID | None, UUID | None,
                                                                         set[tuple[UUID, UUID]] | None]:
    if actor.org_id is not None:
        contracts = {(r.tenant_id, r.record_id) for r in await shared.shared_records(pool, actor.org_id, "contract")}
        return None, actor.org_id, contracts
    return tenant_id, None, None


async def notifications_of(pool: Any, actor: Actor, tenant_id: UUID | None,
                           unread_only: bool = False) -> list[dict[str, Any]]:
    tenant, org_id, contracts = await scope(pool, actor, tenant_id)
    return await inbox.for_user(platform_pool(pool), actor.user_id, tenant, org_id, unread_only=unread_only,
                                shared_contracts=contracts)


async def mark_read(pool: Any, actor: Actor, tenant_id: UUID | None, ids: list[int] | None) -> int:
    tenant, org_id, _ = await scope(pool, actor, tenant_id)
    return await inbox.mark_read(platform_pool(pool), actor.user_id, tenant, org_id, ids)
