"""The vocabulary of sink declarations: plain, frozen data classes.

A declaration says what a sink is; the sink app's dumpers (``tutoraspects_sink.sink.dumpers``)
and the Tutor plugin decide what to do with it. Nothing here imports Django, Tutor or a
ClickHouse client, so that both sides can read the same declarations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

# Every dump stamps its rows with these columns (the dump's id and time): "latest snapshot
# wins" is resolved on them.
STAMP_COLUMNS = ("dump_id", "time_last_dumped")

# The column marking a row as the last one of an object gone from the platform.
TOMBSTONE_COLUMN = "deleted"

# How a model sink's column reads a field of the user its row belongs to.
_USER_LOOKUP = "user__"


@dataclass(frozen=True)
class Column:
    """One ClickHouse column of a model sink, and where its value comes from."""

    name: str
    source: str = ""  # ORM lookup path on the sink's model; default: the column name
    convert: Callable[..., Any] | None = None  # applied to each value (see .values)
    pii: bool = False  # written empty unless PII is enabled
    # More lookups whose values ``convert`` receives after the column's own (a value that
    # falls back on another field: an object tag's lineage is its tag's, else its own value).
    also: tuple[str, ...] = ()

    @property
    def lookup(self) -> str:
        return self.source or self.name

    @property
    def copied_user_field(self) -> str:
        """The user field this column copies (``user__email``: ``email``), else "".

        A change of that field on the user re-writes the row."""
        return (
            self.lookup.removeprefix(_USER_LOOKUP) if self.lookup.startswith(_USER_LOOKUP) else ""
        )


@dataclass(frozen=True)
class PlatformModel:
    """A model of edx-platform, as a key of ``EVENT_SINK_CLICKHOUSE_MODEL_CONFIG`` and the
    place where the platform keeps it (the default of that key)."""

    key: str
    module: str
    name: str

    def config(self) -> dict[str, str]:
        return {"module": self.module, "model": self.name}


@dataclass(frozen=True)
class Trigger:
    """A platform signal that makes a sink dump some of its objects.

    ``signal`` is the dotted path of a Django signal or of an openedx-events signal; a
    platform without it leaves the trigger unconnected (with a warning), not the app broken.
    ``key`` says where the key is in the receiver's arguments: a keyword argument, then
    attributes (``"enrollment.user.id"``). ``by`` says what the keys select: ``"key"`` the
    sink's own keys, ``"user"`` every object of these user ids, another name one of the
    sink's ``selections``. ``own_model`` connects the receiver for the sink's own model only
    (``post_save``); ``sender`` for another model (a key of
    ``EVENT_SINK_CLICKHOUSE_MODEL_CONFIG``). ``now`` selects the objects when the signal is
    sent rather than when the dump runs: before a delete, the objects it is about to unlink
    (``SET_NULL`` is a bulk UPDATE, which sends no signal). ``payload`` names an argument
    whose data the dump needs besides the key (an openedx-events data class), which the
    sink's dumper turns into plain values before it is queued.
    """

    signal: str
    key: str
    by: str = "key"
    own_model: bool = False
    sender: str = ""
    now: bool = False
    payload: str = ""


POST_SAVE = "django.db.models.signals.post_save"
POST_DELETE = "django.db.models.signals.post_delete"
PRE_DELETE = "django.db.models.signals.pre_delete"


def saved(key: str = "instance.pk", by: str = "key") -> Trigger:
    """``post_save`` of the sink's own model: the saved object is dumped."""
    return Trigger(POST_SAVE, key=key, by=by, own_model=True)


def deleted(key: str = "instance.pk") -> Trigger:
    """``post_delete`` of the sink's own model: the object is dumped as gone (a sink that
    keeps ``tombstones`` then hides it from its current view)."""
    return Trigger(POST_DELETE, key=key, own_model=True)


@dataclass(frozen=True)
class Table:
    """A ClickHouse table a sink writes, with every column its inserts may name."""

    name: str
    columns: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Sink:
    """What every sink declares.

    ``personal``: its rows identify people (names, emails, usernames): it runs only when PII
    is enabled. ``toggled``: switched on by ``EVENT_SINK_CLICKHOUSE_<NAME>_ENABLED`` or the
    waffle flag ``event_sink_clickhouse.<name>.enabled`` (the switches operators know).
    """

    name: str
    model: PlatformModel | None = None
    triggers: tuple[Trigger, ...] = ()
    personal: bool = False
    toggled: bool = True
    # Whether dump_data_to_clickhouse can bring its tables up to date from the platform.
    backfilled: ClassVar[bool] = False

    @property
    def tables(self) -> tuple[Table, ...]:
        raise NotImplementedError

    @property
    def user_tables(self) -> tuple[tuple[str, str], ...]:
        """``(table, column)`` of each table holding a user id: retirement deletes there."""
        return ()

    @property
    def copied_user_fields(self) -> tuple[str, ...]:
        """Fields of the user that the sink's rows copy (a change re-writes them)."""
        return ()

    @property
    def setting(self) -> str:
        """The Django setting that switches the sink on."""
        return f"EVENT_SINK_CLICKHOUSE_{self.name.upper()}_ENABLED"

    @property
    def waffle_flag(self) -> str:
        return f"event_sink_clickhouse.{self.name}.enabled"


@dataclass(frozen=True)
class Backfill:
    """How ``dump_data_to_clickhouse`` pages through a model sink's source.

    The source is read in ``order`` (keyset pagination) and compared page by page with one
    sorted stream of what ClickHouse holds, joined on ``merge_column`` (default: the sink's
    key column): the ClickHouse column holding the first field of ``order``, which must be
    an integer so that both databases sort it alike.
    """

    order: tuple[str, ...] = ("pk",)
    merge_column: str = ""


@dataclass(frozen=True, kw_only=True)
class ModelSink(Sink):
    """One row per object of one platform model, in one table, re-written on each change."""

    model: PlatformModel
    table: str
    columns: tuple[Column, ...]
    key_field: str = "pk"  # the model field that identifies an object
    key_column: str = "id"  # the ClickHouse column holding that key
    user_field: str | None = "user_id"  # the model field holding the user id, if any
    backfill: Backfill = field(default_factory=Backfill)
    # An object gone from the platform gets one more row, marked ``deleted`` (its key and
    # defaults otherwise): the latest row wins, so the current view hides it.
    tombstones: bool = False
    # Selections of a trigger's ``by`` beyond "key" and "user": name -> function of (the
    # sink's queryset, the keys) returning the objects to dump, e.g. a tag and its subtree.
    selections: Mapping[str, Callable[[Any, list[Any]], Any]] = field(default_factory=dict)
    backfilled: ClassVar[bool] = True

    @property
    def column_names(self) -> tuple[str, ...]:
        return (*(column.name for column in self.columns), *STAMP_COLUMNS)

    @property
    def tombstone_columns(self) -> tuple[str, ...]:
        """What a tombstone row names: the key, the mark and the stamp."""
        return (self.key_column, TOMBSTONE_COLUMN, *STAMP_COLUMNS)

    @property
    def merge_column(self) -> str:
        return self.backfill.merge_column or self.key_column

    @property
    def tables(self) -> tuple[Table, ...]:
        extra = (TOMBSTONE_COLUMN,) if self.tombstones else ()
        return (Table(self.table, (*self.column_names, *extra)),)

    @property
    def user_tables(self) -> tuple[tuple[str, str], ...]:
        return tuple(
            (self.table, column.name) for column in self.columns if column.lookup == self.user_field
        )

    @property
    def copied_user_fields(self) -> tuple[str, ...]:
        return tuple(
            column.copied_user_field for column in self.columns if column.copied_user_field
        )


@dataclass(frozen=True, kw_only=True)
class CourseSink(Sink):
    """A published course: its outline, one row per block, then its overview row (which
    marks the snapshot complete)."""

    model: PlatformModel
    course_table: Table
    blocks_table: Table
    # Selections of a trigger's ``by`` beyond "key" (course or block keys): names of the
    # courses that tag or taxonomy ids pick (the sink app's ``content_tags.courses_tagged``).
    selections: tuple[str, ...] = ()
    backfilled: ClassVar[bool] = True  # courses whose last publish is newer than their dump

    @property
    def tables(self) -> tuple[Table, ...]:
        return (self.course_table, self.blocks_table)


@dataclass(frozen=True, kw_only=True)
class TrackingSink(Sink):
    """Tracking events, written by an event-tracking backend through a transport."""

    table: str
    column_types: Mapping[str, str]  # every column the rows hold, in row order, with its type
    personal_columns: tuple[str, ...]  # empty unless PII is enabled
    user_column: str
    transports: tuple[str, ...]
    # Where events the table refused are set aside (with their user id, in user_column).
    quarantine_table: str = ""
    toggled: bool = False  # switched by ASPECTS_SINK_TRACKING_ENABLED and its own settings

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.column_types)

    @property
    def tables(self) -> tuple[Table, ...]:
        return (Table(self.table, self.columns),)

    @property
    def user_tables(self) -> tuple[tuple[str, str], ...]:
        tables = (self.table, self.quarantine_table) if self.quarantine_table else (self.table,)
        return tuple((table, self.user_column) for table in tables)
