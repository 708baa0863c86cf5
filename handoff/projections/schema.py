"""The read model: SQLAlchemy tables beside the events, in the same database.

Instants are stored as integer microseconds since the Unix epoch (UTC): they compare
and index the same way on SQLite and PostgreSQL, and bulk inserts skip datetime
formatting. Amounts are stored as integer cents so that sums stay exact on both (summed
in two parts so that no sum overflows: see `amounts`).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from handoff.domain.steps import EVENT_NAMES

metadata = MetaData()

# A key that is a notification id. On SQLite, only a column declared INTEGER is the rowid
# itself: declared BIGINT it would be a second B-tree beside the rowid, which every
# inserted row pays for (a rebuild writes a million of them).
NotificationId = BigInteger().with_variant(Integer(), "sqlite")

# The bit of each lifecycle event in `read_lead.stages` (the order of EVENT_NAMES; a
# change of it changes the column's meaning, so `versions.SCHEMA_VERSION` with it).
STAGE_BITS = {name: 1 << number for number, name in enumerate(EVENT_NAMES)}

# One row per projection: the last notification id whose effects are in the tables.
# It is advanced with a compare-and-set in the same transaction as the rows.
position = Table(
    "read_position",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

# A lead as the projection needs it to place its next event.
lead = Table(
    "read_lead",
    metadata,
    Column("lead_id", String(32), primary_key=True),  # the aggregate id, as hex
    Column("lead_ref", BigInteger, nullable=False, unique=True),  # notification id of captured
    Column("key", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("captured_us", BigInteger, nullable=False),
    Column("owner", Text),  # owner of the latest handoff
    Column("last_handoff", BigInteger),  # notification id of the latest handed
    Column("last_handed_us", BigInteger),
    # When the latest handoff's entry was recorded: the versions that may judge it are
    # those in force then, and later restatements (service_level.judging_versions).
    Column("last_handed_entry_us", BigInteger),
    Column("stages", Integer, nullable=False),  # bit set of the lifecycle events it has had
    # Whether the latest handoff still waits for its first contact (service_level.
    # first_contact: until the lead is contacted, rejected or handed again).
    Column("awaiting_contact", Boolean, nullable=False),
    sqlite_with_rowid=False,  # found by lead_id only: one B-tree fewer to write
)

# One row per lead event, with what flow and cohort counts group and filter by.
event = Table(
    "read_event",
    metadata,
    Column("notification_id", NotificationId, primary_key=True),
    Column("lead_ref", BigInteger, nullable=False),
    Column("event", String(10), nullable=False),
    Column("occurred_us", BigInteger, nullable=False),
    Column("recorded_us", BigInteger, nullable=False),
    Column("captured_us", BigInteger, nullable=False),
    Column("source", Text, nullable=False),
    Column("owner", Text),  # owner of the lead's latest handoff at or before this event
    Column("amount_cents", BigInteger),
    # Whether flow and cohort count the event (service_level.counts_in_flow and
    # counts_in_cohort, judged once as it is projected).
    Column("in_flow", Boolean, nullable=False),
    Column("in_cohort", Boolean, nullable=False),
    # When the event's entry was recorded: recorded_us itself, unless a correction made the
    # row known only later. The versions that may judge the step are those in force then
    # (service_level.judging_versions), as for the SLA: follow-up reads it.
    Column("entry_us", BigInteger, nullable=False),
)
# Covering indexes: a report reads only the index, never the table (3-4x faster).
Index(
    "read_event_flow",
    event.c.occurred_us, event.c.event, event.c.in_flow, event.c.recorded_us,
    event.c.amount_cents,
)
Index(
    "read_event_cohort",
    event.c.captured_us, event.c.event, event.c.lead_ref, event.c.recorded_us,
    event.c.amount_cents, event.c.in_cohort,
)
# A lead's events in order (follow-up and speed to lead read the leads in scope).
Index(
    "read_event_lead",
    event.c.lead_ref, event.c.occurred_us, event.c.event, event.c.recorded_us,
    event.c.notification_id, event.c.entry_us,
)

# One row per handoff, with its decision and its due instant under the agreement
# version that applies now (the latest-applied version covering the handed instant).
handoff = Table(
    "read_handoff",
    metadata,
    Column("handoff_id", NotificationId, primary_key=True),  # notification id of handed
    Column("lead_ref", BigInteger, nullable=False),
    Column("owner", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("captured_us", BigInteger, nullable=False),
    Column("handed_us", BigInteger, nullable=False),
    Column("handed_recorded_us", BigInteger, nullable=False),
    Column("decision", String(10)),
    Column("decided_us", BigInteger),
    Column("decided_recorded_us", BigInteger),
    Column("agreement_version", Integer),
    Column("due_us", BigInteger),
    Column("response_hours", Float),
    Column("in_time", Boolean),  # service_level.decided_in_time, once decided
    # Its first contact (service_level.first_contact), and when that was recorded: speed
    # to lead reads these rather than every event of the leads in scope.
    Column("contact_us", BigInteger),
    Column("contact_recorded_us", BigInteger),
    # When the handed entry was recorded (handed_recorded_us, unless a correction made the
    # row known later): the versions that may judge the handoff are those in force then,
    # and later restatements (service_level.judging_versions); speed to lead reads it.
    Column("handed_entry_us", BigInteger, nullable=False),
)
_OUTCOME = (
    handoff.c.handed_recorded_us, handoff.c.due_us, handoff.c.decided_recorded_us,
    handoff.c.decided_us, handoff.c.response_hours, handoff.c.in_time,
)
Index("read_handoff_flow", handoff.c.handed_us, *_OUTCOME)
Index("read_handoff_cohort", handoff.c.captured_us, *_OUTCOME, handoff.c.lead_ref)
# For reports as of now: the few undecided handoffs (pending or overdue depends on the
# instant, so they cannot be pre-aggregated), and the decided ones in order of response
# time, so that a median is found by walking an index rather than sorting a year of them.
_WAITING = handoff.c.decision.is_(None)
Index(
    "read_handoff_waiting", handoff.c.handed_us, handoff.c.captured_us, handoff.c.due_us,
    handoff.c.source, handoff.c.owner,
    sqlite_where=_WAITING, postgresql_where=_WAITING,
)
_RESPONDED = handoff.c.response_hours.is_not(None)
Index(
    "read_handoff_response", handoff.c.response_hours, handoff.c.handed_us,
    handoff.c.captured_us, handoff.c.decision, handoff.c.source, handoff.c.owner,
    sqlite_where=_RESPONDED, postgresql_where=_RESPONDED,
)
# Speed to lead reads only the contacted handoffs of a period, from the index alone.
_CONTACTED = handoff.c.contact_us.is_not(None)
_CONTACT = (handoff.c.handed_recorded_us, handoff.c.contact_us, handoff.c.contact_recorded_us,
            handoff.c.handed_entry_us)
Index("read_handoff_contact_flow", handoff.c.handed_us, *_CONTACT,
      sqlite_where=_CONTACTED, postgresql_where=_CONTACTED)
Index("read_handoff_contact_cohort", handoff.c.captured_us, handoff.c.handed_us, *_CONTACT,
      sqlite_where=_CONTACTED, postgresql_where=_CONTACTED)

# The due instant of a handoff under every agreement version that covers it, so that a
# report as of an earlier instant uses the version that was known then.
handoff_terms = Table(
    "read_handoff_terms",
    metadata,
    Column("handoff_id", BigInteger, primary_key=True),
    Column("agreement_version", Integer, primary_key=True),
    Column("applied_us", BigInteger, nullable=False),
    Column("due_us", BigInteger, nullable=False),
    Column("response_hours", Float),
    Column("in_time", Boolean),
    sqlite_with_rowid=False,  # found by its key only: one B-tree fewer to write
)

agreement = Table(
    "read_agreement",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("notification_id", BigInteger, nullable=False, unique=True),
    Column("applied_us", BigInteger, nullable=False),
    Column("document", Text, nullable=False),  # JSON
    Column("restates", Text),  # why it was signed as a restatement of the past, if it was
)

# Every traffic record; the latest one recorded (by the report's as-of) counts for its day.
visits = Table(
    "read_visits",
    metadata,
    Column("notification_id", NotificationId, primary_key=True),
    Column("day", String(10), nullable=False),
    Column("visits", BigInteger, nullable=False),
    Column("recorded_us", BigInteger, nullable=False),
)
Index("read_visits_day", visits.c.day)

# Pre-aggregated by UTC day, for reports as of now (see summaries.py). `basis` is flow
# (the day an event occurred, or a handoff was made) or cohort (the day its lead was
# captured); `dim` is "" (one group, "") or the name of the grouping, `grp` its value.
stage_day = Table(
    "read_stage_day",
    metadata,
    Column("basis", String(6), primary_key=True),
    Column("dim", String(6), primary_key=True),
    Column("day_us", BigInteger, primary_key=True),
    Column("grp", Text, primary_key=True),
    Column("event", String(10), primary_key=True),
    Column("events", BigInteger, nullable=False),
    # The sum of the events' amounts in cents, in two parts that cannot overflow (see
    # projections.amounts): amount_high * 10^9 + amount_low.
    Column("amount_high", BigInteger, nullable=False),
    Column("amount_low", BigInteger, nullable=False),
    sqlite_with_rowid=False,  # clustered on the key: a report reads a range of it
)
# Decided handoffs only: whether a decision was in time never changes once made (until
# an agreement version is applied, which refreshes the summaries).
sla_day = Table(
    "read_sla_day",
    metadata,
    Column("basis", String(6), primary_key=True),
    Column("dim", String(6), primary_key=True),
    Column("day_us", BigInteger, primary_key=True),
    Column("grp", Text, primary_key=True),
    Column("in_time", BigInteger, nullable=False),
    Column("late", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)
# The summaries hold every event up to `position`; they are in use only while that is
# the projection's own position. `recorded_us`: the latest recorded_at of a lead event,
# since a report as of an earlier instant must leave later events out.
summary = Table(
    "read_summary",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("recorded_us", BigInteger, nullable=False),
)



def _superseded(table: Table, *key: str) -> Table:
    """The rows of `table` that a correction replaced (SPEC §2): the same columns, and
    `superseded_us`, when the correction was recorded. A report as of an earlier instant
    reads them in place of the rows that replaced them (`report_as_of.known_rows`)."""
    columns = [
        Column(c.name, c.type, nullable=c.nullable, primary_key=c.name in key)
        for c in table.columns
    ]
    return Table(
        f"{table.name}_past", metadata, *columns,
        Column("superseded_us", BigInteger, primary_key=True),
    )


event_past = _superseded(event, "notification_id")
handoff_past = _superseded(handoff, "handoff_id")
handoff_terms_past = _superseded(handoff_terms, "handoff_id", "agreement_version")
Index("read_event_past_lead", event_past.c.lead_ref)
Index("read_handoff_past_lead", handoff_past.c.lead_ref)
# Each table with the table of its superseded rows.
SUPERSEDED = {event: event_past, handoff: handoff_past, handoff_terms: handoff_terms_past}

PROJECTED_TABLES = (
    lead, event, handoff, handoff_terms, agreement, visits, event_past, handoff_past,
    handoff_terms_past,
)
SUMMARY_TABLES = (stage_day, sla_day)

# Built once at the end of a rebuild rather than kept up to date row by row.
INDEXED_TABLES = (event, handoff)
SECONDARY_INDEXES = tuple(
    index
    for table in INDEXED_TABLES
    for index in sorted(table.indexes, key=lambda index: str(index.name))
)
