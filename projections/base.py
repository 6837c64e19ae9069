"""What a projection declares: its name, its read-model tables and its event
handlers (methods named `on_<EventName>`), and the events it is given.

Shared by the writer (projections/writer.py: batches, runner, migrations) and
the projection modules; it runs nothing and connects to nothing.

Rows of every read-model table carry (tenant_id, gen). `gen` is the
projection's generation for that tenant: `rm.live` names the generation
readers use (see projections/reader.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar
from uuid import UUID

from psycopg import sql

RM = "rm"  # the read-model schema, in every database that holds tenants


@dataclass(frozen=True)
class Table:
    """A read-model table: key columns, other columns, their SQL types."""

    name: str
    key: tuple[str, ...]
    columns: dict[str, str]  # column -> SQL type, key columns included
    indexes: tuple[tuple[str, ...], ...] = ()
    # Indexes not led by (tenant_id, gen): for the few tables read across
    # tenants (projections/shared.py, by organisation).
    cross_tenant_indexes: tuple[tuple[str, ...], ...] = ()

    @property
    def value_columns(self) -> list[str]:
        return [c for c in self.columns if c not in self.key]

    def ddl(self) -> list[sql.Composable]:
        cols = [sql.SQL("tenant_id uuid NOT NULL"), sql.SQL("gen int NOT NULL")]
        cols += [sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in self.columns.items()]
        pk = [sql.Identifier(c) for c in ("tenant_id", "gen", *self.key)]
        out: list[sql.Composable] = [sql.SQL("CREATE TABLE IF NOT EXISTS {}.{} ({}, PRIMARY KEY ({}))").format(
            sql.Identifier(RM), sql.Identifier(self.name), sql.SQL(", ").join(cols), sql.SQL(", ").join(pk))]
        # Columns added in later releases (CREATE TABLE IF NOT EXISTS keeps old tables).
        for c, t in self.columns.items():
            out.append(sql.SQL("ALTER TABLE {}.{} ADD COLUMN IF NOT EXISTS {} {}").format(
                sql.Identifier(RM), sql.Identifier(self.name), sql.Identifier(c), sql.SQL(t)))
        for index in self.indexes:
            name = f"{self.name}_{'_'.join(index)}_idx"
            out.append(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {}.{} (tenant_id, gen, {})").format(
                sql.Identifier(name), sql.Identifier(RM), sql.Identifier(self.name),
                sql.SQL(", ").join(sql.Identifier(c) for c in index)))
        for index in self.cross_tenant_indexes:
            name = f"{self.name}_x_{'_'.join(index)}_idx"
            out.append(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {}.{} ({})").format(
                sql.Identifier(name), sql.Identifier(RM), sql.Identifier(self.name),
                sql.SQL(", ").join(sql.Identifier(c) for c in index)))
        return out


@dataclass(frozen=True)
class Event:
    """A stored event as projections see it."""

    position: int
    originator_id: UUID
    version: int
    name: str  # the event class name, e.g. "PlacementStarted"
    data: dict[str, Any]

    @property
    def recorded_on(self) -> Any:
        return self.data["timestamp"].date()


HANDLER_PREFIX = "on_"  # on_<EventName>: the projection's handler of that event


class Projection:
    """Subclasses name their tables and handle an event by a method named
    `on_<EventName>(batch, event)`: those methods are the whole list of the
    events a projection reads (`handles`, derived; others are skipped without
    decoding)."""

    name: str = ""
    tables: tuple[Table, ...] = ()
    # Derived from the `on_<EventName>` methods (see __init_subclass__).
    handles: ClassVar[frozenset[str]] = frozenset()
    # Whether it reads personal fields (decrypted per person; erased people's
    # fields read as erased). Figures never do.
    needs_personal_data: bool = False
    # Narrower: only these personal fields are opened; the event's other
    # personal fields never reach the projection (matching: competences and
    # availability, never a name or support needs).
    personal_fields: frozenset[str] = frozenset()
    # Raise it when what the projection writes changes (a new column to fill,
    # a figure computed differently): generations built by an older version
    # are rebuilt by the worker (`rebuild_if_outdated`) while the old one
    # keeps serving readers, and as-of generations are built afresh.
    version: int = 1

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "handles" in vars(cls):
            raise TypeError(f"{cls.__name__}: `handles` is derived from the on_<EventName> methods;"
                            " name a method instead")
        cls.handles = frozenset(attr.removeprefix(HANDLER_PREFIX) for attr in dir(cls)
                                if attr.startswith(HANDLER_PREFIX) and callable(getattr(cls, attr)))

    def apply(self, batch: Any, event: Event) -> None:
        """Hand the event to its `on_<EventName>` method (batch: the writer's Batch)."""
        getattr(self, HANDLER_PREFIX + event.name)(batch, event)
