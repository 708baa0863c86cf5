"""The read model: SQLAlchemy tables beside the events, in the same database.

Instants are stored as integer microseconds since the Unix epoch (UTC): they compare
and index the same way on SQLite and PostgreSQL, and bulk inserts skip datetime
formatting. Amounts are stored as integer cents so that sums stay exact on both.
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

metadata = MetaData()

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
    Column("has_proposal", Boolean, nullable=False),
)

# One row per lead event, with what flow and cohort counts group and filter by.
event = Table(
    "read_event",
    metadata,
    Column("notification_id", BigInteger, primary_key=True),
    Column("lead_ref", BigInteger, nullable=False),
    Column("event", String(10), nullable=False),
    Column("occurred_us", BigInteger, nullable=False),
    Column("recorded_us", BigInteger, nullable=False),
    Column("captured_us", BigInteger, nullable=False),
    Column("source", Text, nullable=False),
    Column("owner", Text),  # owner of the lead's latest handoff at or before this event
    Column("amount_cents", BigInteger),
    Column("first_proposal", Boolean, nullable=False),
)
# Covering indexes: a report reads only the index, never the table (3-4x faster).
Index(
    "read_event_flow",
    event.c.occurred_us, event.c.event, event.c.first_proposal, event.c.recorded_us,
    event.c.amount_cents,
)
Index(
    "read_event_cohort",
    event.c.captured_us, event.c.event, event.c.lead_ref, event.c.recorded_us,
    event.c.amount_cents,
)

# One row per handoff, with its decision and its due instant under the agreement
# version that applies now (the latest-applied version covering the handed instant).
handoff = Table(
    "read_handoff",
    metadata,
    Column("handoff_id", BigInteger, primary_key=True),  # notification id of handed
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
)
_OUTCOME = (
    handoff.c.handed_recorded_us, handoff.c.due_us, handoff.c.decided_recorded_us,
    handoff.c.decided_us, handoff.c.response_hours,
)
Index("read_handoff_flow", handoff.c.handed_us, *_OUTCOME)
Index("read_handoff_cohort", handoff.c.captured_us, *_OUTCOME, handoff.c.lead_ref)

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
)

agreement = Table(
    "read_agreement",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("notification_id", BigInteger, nullable=False, unique=True),
    Column("applied_us", BigInteger, nullable=False),
    Column("document", Text, nullable=False),  # JSON
)

# Every traffic record; the latest one recorded (by the report's as-of) counts for its day.
visits = Table(
    "read_visits",
    metadata,
    Column("notification_id", BigInteger, primary_key=True),
    Column("day", String(10), nullable=False),
    Column("visits", BigInteger, nullable=False),
    Column("recorded_us", BigInteger, nullable=False),
)
Index("read_visits_day", visits.c.day)

PROJECTED_TABLES = (lead, event, handoff, handoff_terms, agreement, visits)

# Built once at the end of a rebuild rather than kept up to date row by row.
SECONDARY_INDEXES = tuple(
    index
    for table in (event, handoff)
    for index in sorted(table.indexes, key=lambda index: str(index.name))
)
