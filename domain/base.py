"""The base of this project's aggregates."""
from __future__ import annotations

import dataclasses
import inspect
from typing import Any
from uuid import UUID

from eventsourcing.domain import (
    Aggregate,
    BaseAggregate,
    CanInitAggregate,
    CanMutateAggregate,
    DomainEvent,
    _annotations_mention_id,
    _create_id_param_names,
    _created_event_classes,
    _init_mentions_id,
)
from eventsourcing.utils import get_topic, resolve_topic

from domain.ids import new_id


class _CreatePlan:
    """What `LedgerAggregate._create` needs to know of one aggregate class and
    its "created" event class, worked out once: the event's fields in their
    dataclass order, the names the aggregate's `__init__` and `create_id`
    take, its topic."""

    __slots__ = ("applies", "id_names", "init", "init_mentions_id", "init_names", "topic")

    def __init__(self, cls: type, event_class: type):
        # The plain function (the @event decorator hands out __init__'s own).
        self.init = cls.__init__
        fields = [f.name for f in dataclasses.fields(event_class)]
        params = inspect.signature(self.init).parameters
        # The event's fields the aggregate's __init__ takes, in the event's order.
        self.init_names = tuple(f for f in fields if f in params)
        self.id_names = frozenset(_create_id_param_names[cls])
        self.topic = get_topic(cls)
        self.init_mentions_id = cls in _init_mentions_id
        self.applies = event_class.apply is not CanMutateAggregate.apply

    @staticmethod
    def of(aggregate_class: type, event_class: type) -> _CreatePlan | None:
        """None where the library's own path must be taken: an explicit
        topic, or an event or aggregate class that changes how an event is
        made or applied."""
        if (getattr(aggregate_class, "TOPIC", None) or event_class.__post_init__ is not DomainEvent.__post_init__
                or event_class.mutate is not CanInitAggregate.mutate
                or aggregate_class.__base_init__ is not BaseAggregate.__base_init__
                or not dataclasses.is_dataclass(event_class)):
            return None
        return _CreatePlan(aggregate_class, event_class)


_plans: dict[tuple[type, type], _CreatePlan | None] = {}
_event_fields: dict[type, tuple[str, ...] | None] = {}


def _event_of(event_class: type, kwargs: dict[str, Any]) -> Any:
    """The event `event_class(**kwargs)` makes, without the frozen dataclass's
    `__init__` (an `object.__setattr__` per field: a fifth of making an
    aggregate): its `__dict__` in the fields' order, as `__init__` would
    leave it. None if `kwargs` are not exactly its fields (the caller then
    takes the library's path, which raises as it would)."""
    fields = _event_fields.get(event_class, ())
    if fields == ():
        fields = _event_fields[event_class] = (
            tuple(f.name for f in dataclasses.fields(event_class))
            if event_class.__post_init__ is DomainEvent.__post_init__ and dataclasses.is_dataclass(event_class)
            else None)
    if fields is None or len(fields) != len(kwargs) or not isinstance(kwargs.get("originator_id"), UUID):
        return None
    try:
        state = {name: kwargs[name] for name in fields}
    except KeyError:
        return None
    made = object.__new__(event_class)
    object.__setattr__(made, "__dict__", state)
    return made


class _CallSpec:
    """What `_LedgerMeta.__call__` needs of one aggregate class, worked out once."""

    __slots__ = ("defaults", "event_class", "names", "required")

    def __init__(self, event_class: type, params: list[inspect.Parameter]):
        self.event_class = event_class
        self.names = frozenset(p.name for p in params)
        self.required = frozenset(p.name for p in params if p.default is p.empty)
        self.defaults = {p.name: p.default for p in params if p.default is not p.empty}

    @staticmethod
    def of(aggregate_class: type) -> _CallSpec | None:
        """None where the library's own `__call__` must run: no single created
        event class, an `id` in the class's annotations or `__init__`, or
        parameters other than plain named ones."""
        created = _created_event_classes.get(aggregate_class, [])
        if len(created) != 1 or aggregate_class in _annotations_mention_id or aggregate_class in _init_mentions_id:
            return None
        params = list(inspect.signature(aggregate_class.__init__).parameters.values())[1:]
        if any(p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in params):
            return None
        return _CallSpec(created[0], params)


_call_specs: dict[type, _CallSpec | None] = {}


class _LedgerMeta(type(Aggregate)):  # type: ignore[misc]
    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        """What the library's `MetaAggregate.__call__` does for a class made
        with keyword arguments (as ours are): its defaults filled in and its
        created event class found once per class. Anything else (positional
        arguments, a name it does not take, one missing) goes the library's
        way, which answers as it always has."""
        spec = _call_specs.get(cls, False)
        if spec is False:
            spec = _call_specs[cls] = _CallSpec.of(cls)
        if spec is None or args or not spec.names.issuperset(kwargs) or not spec.required <= kwargs.keys():
            return super().__call__(*args, **kwargs)
        for name, default in spec.defaults.items():
            if name not in kwargs:
                kwargs[name] = default
        return cls._create(spec.event_class, **kwargs)


class LedgerAggregate(Aggregate, metaclass=_LedgerMeta):
    """An Aggregate that is made, and copies itself, cheaply.

    Made: `_LedgerMeta.__call__`, `_create`, `trigger_event` and `replayed`
    do what the library's own do (tests/domain/test_create.py compares
    them), with the per-class work done once; anything out of the ordinary
    goes the library's way.

    Copied: the repository hands out a deep copy of a cached aggregate for every
    command, so a command that fails never corrupts the cache. A generic
    `copy.deepcopy` walks every Decimal, date and UUID and cost about 0.1 ms a
    command here; this copy knows the shape of our state instead: values are
    immutable (str, int, Decimal, date, UUID, None), or lists and dicts of
    those, or lists of such dicts. Event methods replace or append; they never
    change a nested dict in place, so copying containers two levels deep is a
    full copy. tests/domain/test_copy.py checks that against `deepcopy`.
    """

    @staticmethod
    def create_id(*_: Any, **__: Any) -> UUID:
        """A new random id (the library's default, `uuid4`, made faster)."""
        return new_id()

    @classmethod
    def _create(cls, event_class: type, *, id: Any = None, **kwargs: Any) -> Any:
        """What the library's `BaseAggregate._create` does (tests/domain/
        test_create.py compares the two, event and aggregate), with the
        per-class work done once: making an aggregate this way was two thirds
        library and one third the aggregate's own `__init__`, and a
        spreadsheet import makes four per placement."""
        key = (cls, event_class)
        plan = _plans.get(key, False)
        if plan is False:
            plan = _plans[key] = _CreatePlan.of(cls, event_class)
        if plan is None or (id is not None and not isinstance(id, UUID)):
            return super()._create(event_class, id=id, **kwargs)
        if id is None:
            id_names = plan.id_names
            id = (cls.create_id(**{k: kwargs[k] for k in id_names if k in kwargs}) if id_names
                  else cls.create_id())
            if not isinstance(id, UUID):
                return super()._create(event_class, id=id, **kwargs)
        kwargs["originator_topic"] = plan.topic
        kwargs["originator_id"] = id
        kwargs["originator_version"] = cls.INITIAL_VERSION
        if kwargs.get("timestamp") is None:
            kwargs["timestamp"] = event_class.create_timestamp()
        created = _event_of(event_class, kwargs)
        if created is None:
            del kwargs["originator_topic"], kwargs["originator_id"], kwargs["originator_version"]
            return super()._create(event_class, id=id, **kwargs)
        agg = cls._initialised(created, plan)
        agg._pending_events.append(created)
        return agg

    @classmethod
    def _initialised(cls, created: Any, plan: _CreatePlan) -> Any:
        """CanInitAggregate.mutate, for this class: the aggregate its created
        event makes (a field an older event lacks: the `__init__`'s default)."""
        state = created.__dict__
        agg = object.__new__(cls)
        agg.__base_init__(state["originator_id"], state["originator_version"], state["timestamp"])
        init_kwargs = {k: state[k] for k in plan.init_names if k in state}
        if plan.init_mentions_id:
            init_kwargs["id"] = state["originator_id"]
        plan.init(agg, **init_kwargs)
        if plan.applies:
            created.apply(agg)
        return agg

    def trigger_event(self, event_class: type, **kwargs: Any) -> None:
        """What the library's `trigger_event` does, the event made without
        its dataclass `__init__` (as in `_create`)."""
        if getattr(type(self), "TOPIC", None):
            super().trigger_event(event_class, **kwargs)
            return
        kwargs["originator_id"] = self.id
        kwargs["originator_version"] = self.version + 1
        if kwargs.get("timestamp") is None:
            kwargs["timestamp"] = event_class.create_timestamp()
        new_event = _event_of(event_class, kwargs)
        if new_event is None:
            del kwargs["originator_id"], kwargs["originator_version"]
            super().trigger_event(event_class, **kwargs)
            return
        new_event.mutate(self)
        self._pending_events.append(new_event)

    def __deepcopy__(self, memo: dict[int, Any]) -> LedgerAggregate:
        clone = object.__new__(type(self))
        state = clone.__dict__
        for name, value in self.__dict__.items():
            if isinstance(value, list):
                value = [dict(v) if isinstance(v, dict) else v for v in value]
            elif isinstance(value, dict):
                value = {k: (dict(v) if isinstance(v, dict) else v) for k, v in value.items()}
            state[name] = value
        return clone


def replayed(events: list[Any]) -> Any:
    """The aggregate its stored events make, the first its created event: what
    the library's `mutate` of each in turn makes, the first (for our
    aggregates) without the library's per-event work (Ledger.preload: the
    records an import's batch refers to)."""
    first = events[0]
    topic = getattr(first, "originator_topic", None)
    cls = resolve_topic(topic) if topic else None
    plan = _plans.get((cls, type(first)), False) if isinstance(cls, type) and issubclass(cls, LedgerAggregate) else None
    if plan is False:
        plan = _plans[(cls, type(first))] = _CreatePlan.of(cls, type(first))
    aggregate = cls._initialised(first, plan) if plan is not None else first.mutate(None)
    for event in events[1:]:
        aggregate = event.mutate(aggregate)
    return aggregate
