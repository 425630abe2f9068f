"""SQL helpers shared by capabilities: portable date arithmetic, inserts that skip conflicts,
affected-row counts."""

from __future__ import annotations

from datetime import date
from typing import Any
from typing import cast as type_cast

from sqlalchemy import (
    CursorResult,
    Date,
    Float,
    Integer,
    Result,
    Select,
    delete,
    literal,
    text,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import ExternallyTraversible, replacement_traverse

from portal.extensions import db


class days_between(FunctionElement):  # noqa: N801  (used like a SQL function)
    """Whole days from the second date to the first (positive when the second is earlier).

    Both arguments are SQL expressions (DATE columns, bound dates, scalar subqueries), so
    this works in column properties as well as in statements built at run time.
    """

    type = Integer()
    inherit_cache = True
    name = "days_between"


@compiles(days_between)
def _days_between_subtract(element, compiler, **kw):  # PostgreSQL: date - date is an integer
    later, earlier = list(element.clauses)
    return f"({compiler.process(later, **kw)} - {compiler.process(earlier, **kw)})"


@compiles(days_between, "sqlite")
def _days_between_julian(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return (
        f"CAST(julianday({compiler.process(later, **kw)}) - "
        f"julianday({compiler.process(earlier, **kw)}) AS INTEGER)"
    )


def days_since(as_of: date, column) -> ColumnElement[int]:
    """Whole days from ``column`` (a DATE) to ``as_of``: positive when the column is earlier."""
    return days_between(literal(as_of, Date), column)


def insert_from_select_skipping_conflicts(
    model, columns: list[str], rows: Select, *, index_elements: list, index_where=None
):
    """INSERT ... SELECT that skips rows a unique index already holds (ON CONFLICT DO NOTHING).

    The conflict clause is the guarantee. A ``WHERE NOT EXISTS`` on the table being inserted
    into may filter most rows out first, cheaply, but only as a hash anti-join (see
    ``plan_for_bulk(whole_table_join=True)``): with statistics that call that table empty (a first
    run), PostgreSQL would otherwise probe it with a sequential scan per row, each scan also
    visiting every row the statement has inserted so far: O(n²).
    """
    # SQLite needs a WHERE in the SELECT to tell the upsert's ON from a join's ON.
    rows = rows.where(true())
    statement: postgresql.Insert | sqlite.Insert
    if db.engine.dialect.name == "postgresql":
        statement = postgresql.insert(model).from_select(columns, rows)
    else:
        statement = sqlite.insert(model).from_select(columns, rows)
    if index_where is not None:
        index_where = inline_values(index_where)
    return statement.on_conflict_do_nothing(
        index_elements=index_elements, index_where=index_where
    ).execution_options(preserve_rowcount=True)


def insert_unless_present(model, values: dict):
    """INSERT one row unless its primary key is already taken: ON CONFLICT DO NOTHING.

    On PostgreSQL a concurrent insert of the same key waits for the other transaction and then
    inserts nothing, so the row is written by exactly one of them. Returns whether it was.
    """
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(model).values(**values).on_conflict_do_nothing()
    result = db.session.execute(statement.execution_options(preserve_rowcount=True))
    return rows_affected(result) == 1


def inline_values(clause: ColumnElement[bool]) -> ColumnElement[bool]:
    """``clause`` with its bound values written into the SQL text.

    PostgreSQL infers a partial unique index from ``ON CONFLICT (...) WHERE`` only when the
    predicate's values are in the text. A bound parameter works until the statement is
    prepared (psycopg does so from its sixth execution on a connection) and PostgreSQL plans it
    generically (from the sixth execution after that): then the INSERT fails with "no unique or
    exclusion constraint matching the ON CONFLICT specification", e.g. on the eleventh daily
    collections run of a long-lived worker.
    """

    def inline(element: ExternallyTraversible, **_kw: Any) -> ExternallyTraversible | None:
        if isinstance(element, BindParameter):
            return literal(element.effective_value, element.type, literal_execute=True)
        return None

    return replacement_traverse(clause, {}, inline)


def empty_table(model) -> None:
    """Remove every row of a working table the caller is about to refill.

    PostgreSQL: TRUNCATE, which leaves no dead rows or index entries behind for the refill to
    wade through (a unique index full of dead duplicates makes each insert visit the heap).
    It locks the table until commit and is not MVCC-safe, so only for tables nobody else reads.
    """
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {model.__tablename__}"))
    else:
        db.session.execute(delete(model))


BULK_WORK_MEM_MB = 64


def plan_for_bulk(*, whole_table_join: bool = False) -> None:
    """Planner settings for the rest of this transaction's set-based batch work (PostgreSQL).

    - JIT off: compiling expressions costs a fixed few hundred milliseconds per statement and
      buys nothing for hash joins and aggregates over narrow rows.
    - ``work_mem`` raised so that hashing a few hundred thousand keys (a GROUP BY, a hash join)
      stays in memory instead of spilling to disk in batches.
    - ``whole_table_join=True`` for a join or anti-join of whole tables (hundreds of thousands
      of rows on each side): no nested loop, which stale statistics could make the planner
      choose, and no index-only scan, which on a table the batch itself just updated (its
      visibility map cleared) fetches every heap row anyway, at several times a seq scan's cost.

    ``SET LOCAL`` ends with the transaction: nothing leaks into pooled connections.
    """
    if db.engine.dialect.name != "postgresql":
        return
    db.session.execute(text("SET LOCAL jit = off"))
    db.session.execute(text(f"SET LOCAL work_mem = '{BULK_WORK_MEM_MB}MB'"))
    if whole_table_join:
        db.session.execute(text("SET LOCAL enable_nestloop = off"))
        db.session.execute(text("SET LOCAL enable_indexonlyscan = off"))


def plan_for_lookups() -> None:
    """Undo ``plan_for_bulk(whole_table_join=True)`` for the rest of the transaction
    (PostgreSQL): for a statement that touches a few tens of thousands of rows of a big table
    by primary key (an ``UPDATE ... FROM`` a small set), where a nested loop of index lookups
    beats hashing a sequential scan of the whole table."""
    if db.engine.dialect.name != "postgresql":
        return
    db.session.execute(text("SET LOCAL enable_nestloop = on"))
    db.session.execute(text("SET LOCAL enable_indexonlyscan = on"))


def analyze(model) -> None:
    """Refresh the planner's statistics of a table a batch has just filled (PostgreSQL only).

    Autovacuum would get there, but only after the statements that follow in the same batch
    were planned as if the table were still empty (a nested loop over hundreds of thousands
    of rows instead of a hash join).
    """
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"ANALYZE {model.__tablename__}"))


def rows_affected(result: Result) -> int:
    """How many rows an INSERT, UPDATE or DELETE touched.

    SQLAlchemy keeps the count of an INSERT only when it ran with
    ``execution_options(preserve_rowcount=True)``; without it PostgreSQL reports -1, which is
    refused here rather than counted.
    """
    count = type_cast(CursorResult, result).rowcount
    if count < 0:
        raise ValueError("row count unavailable: execute with preserve_rowcount=True")
    return count


class days_elapsed(FunctionElement):  # noqa: N801  (used like a SQL function)
    """Days, with their fraction, from the second timestamp to the first (calendar time)."""

    type = Float()
    inherit_cache = True
    name = "days_elapsed"


@compiles(days_elapsed)
def _days_elapsed_epoch(element, compiler, **kw):  # PostgreSQL: timestamptz - timestamptz
    later, earlier = list(element.clauses)
    return (
        f"(EXTRACT(EPOCH FROM ({compiler.process(later, **kw)} - "
        f"{compiler.process(earlier, **kw)})) / 86400.0)"
    )


@compiles(days_elapsed, "sqlite")
def _days_elapsed_julian(element, compiler, **kw):
    later, earlier = list(element.clauses)
    later_sql, earlier_sql = compiler.process(later, **kw), compiler.process(earlier, **kw)
    return f"(julianday({later_sql}) - julianday({earlier_sql}))"
