# ruff: noqa: S608, S611  -- SQL here is built from model metadata (table/column names), never from input;
# search text is always passed as a parameter.
"""Text search machinery shared by every domain, behind one interface for SQLite and PostgreSQL.

A domain registers the folded text columns it searches (``register_text_index``) and builds its queries with
``prefix_q``, ``contains_all_q`` and ``suggest_words``. The engines differ only in here:

* SQLite: an FTS5 table with the ``trigram`` tokenizer mirrors each registered column (external content,
  kept current by triggers), so "contains" queries of three or more characters use an index.
* PostgreSQL: the ``pg_trgm`` GIN index on the column serves the same queries; the column uses the "C"
  collation so that ordering and prefix ranges compare code points exactly as SQLite does.

Both engines answer "starts with" by an index range and typo-tolerant matching through a shared vocabulary of
the words that occur in the registered columns (``SearchWord``), corrected with ``rapidfuzz``. The same query
gives the same rows in the same order on both.

The upkeep (FTS tables, triggers, indexes, collation) is re-checked after every ``migrate``: a later migration
that rebuilds a table on SQLite loses its triggers, and they come back with a full re-index.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL

PREFIX_END = "\U0010ffff"  # sorts after every character: [text, text + PREFIX_END) is "starts with text"
MIN_TRIGRAM = 3
_WORD = re.compile(r"\w+", re.UNICODE)


def _column(model: type[models.Model], field: str) -> str:
    found = model._meta.get_field(field)
    assert isinstance(found, models.Field) and found.column, field
    return str(found.column)


@dataclass(frozen=True)
class TextIndex:
    model: type[models.Model]
    field: str
    scope: str  # vocabulary scope, e.g. "customer.name"

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def column(self) -> str:
        return _column(self.model, self.field)

    @property
    def fts_table(self) -> str:
        return f"{self.table}_{self.column}_fts"


_indexes: dict[tuple[str, str], TextIndex] = {}


def register_text_index(model: type[models.Model], field: str, *, scope: str) -> TextIndex:
    index = TextIndex(model=model, field=field, scope=scope)
    _indexes[(model._meta.label_lower, field)] = index
    return index


def text_index(model: type[models.Model], field: str) -> TextIndex:
    return _indexes[(model._meta.label_lower, field)]


def words(text: str) -> list[str]:
    return _WORD.findall(text or "")


# ---------------------------------------------------------------------------------------------- queries


BROAD = 1_500  # a substring matching at least this many rows is tested while walking the sort order
BROAD_MAX = 20_000  # the most a restricted reader's probe counts (see ``contains_all_q``'s ``share``)


def _is_broad(sql: str, params: list[str], broad: int = BROAD) -> bool:
    """SQLite: does ``sql`` (selecting row ids) match at least ``broad`` rows? One cheap, capped count.

    SQLite's planner cannot know; it would fetch every match and sort it. For a broad match it is far
    cheaper to walk the sort index and test each row, which stops after one page (about 1/density rows).
    """
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({sql} LIMIT {int(broad)})", params)
        row = cursor.fetchone()
    return bool(row and row[0] >= broad)


def prefix_q(field: str, text: str) -> Q:
    """Rows whose ``field`` starts with ``text``: an index range on both engines."""
    return Q(**{f"{field}__gte": text, f"{field}__lt": text + PREFIX_END})


def contains_all_q(index: TextIndex, groups: Iterable[Iterable[str]], *, share: float = 1.0) -> Q:
    """Rows whose column contains, for every group, at least one of the group's strings.

    ``[["john", "jon"], ["smith"]]`` means (john OR jon) AND smith. Strings of three or more characters use
    the trigram index; shorter ones are checked on the rows the others selected (or scanned, if alone).

    ``share`` is the part of the rows the reader may see (their visibility filter goes with the query):
    0 when they are few enough to test each one (a representative's own customers, found by their owner
    index), so the text index is left out; below 1 a walk of the sort order finds fewer of its matches
    visible, so it must be proportionally broader before walking beats reading every match.
    """
    groups = [list(g) for g in groups]
    if share <= 0:
        q = Q()
        for group in groups:
            alternative = Q()
            for s in dict.fromkeys(group):
                if s:
                    alternative |= Q(**{f"{index.field}__contains": s})
            q &= alternative
        return q
    indexed: list[list[str]] = []
    q = Q()
    for group in groups:
        options = [s for s in dict.fromkeys(group) if s]
        if not options:
            continue
        if all(len(s) >= MIN_TRIGRAM for s in options):
            indexed.append(options)
        else:
            alternative = Q()
            for s in options:
                alternative |= Q(**{f"{index.field}__contains": s})
            q &= alternative
    if not indexed:
        return q
    if connection.vendor == "sqlite":
        expression = " AND ".join(
            "(" + " OR ".join('"' + s.replace('"', '""') + '"' for s in options) + ")" for options in indexed
        )
        sql = f'SELECT rowid FROM "{index.fts_table}" WHERE "{index.fts_table}" MATCH %s'
        # Walking the order only pays when matches are spread through it: not with extra short words
        # (fewer rows pass) nor for non-Latin text, which sorts in one block at the end.
        walkable = not q and all(s.isascii() for options in indexed for s in options)
        broad = BROAD if share >= 1 else min(BROAD_MAX, int(BROAD / math.sqrt(max(share, 1e-6))))
        if not (walkable and _is_broad(sql, [expression], broad)):
            return q & Q(pk__in=RawSQL(sql, (expression,)))
    for options in indexed:
        alternative = Q()
        for s in options:
            alternative |= Q(**{f"{index.field}__contains": s})
        q &= alternative
    return q


def suggest_words(index: TextIndex, word: str, *, limit: int = 3) -> list[str]:
    """Known words within one or two edits of ``word`` (a swap of neighbours counts as one edit)."""
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    from kith.core.models import SearchWord

    if len(word) < 4:
        return []
    max_edits = 1 if len(word) < 7 else 2
    candidates = list(
        SearchWord.objects.filter(
            scope=index.scope,
            first=word[0],
            length__gte=len(word) - max_edits,
            length__lte=len(word) + max_edits,
        ).values_list("word", "uses")
    )
    if not candidates:
        return []
    uses = dict(candidates)
    found = process.extract(word, list(uses), scorer=OSA.distance, score_cutoff=max_edits, limit=limit * 4)
    found.sort(key=lambda hit: (hit[1], -uses[hit[0]], hit[0]))  # fewest edits, then most common
    return [hit[0] for hit in found[:limit]]


def known_words(index: TextIndex, candidates: Iterable[str]) -> set[str]:
    from kith.core.models import SearchWord

    return set(
        SearchWord.objects.filter(scope=index.scope, word__in=list(candidates)).values_list("word", flat=True)
    )


# ---------------------------------------------------------------------------------------------- upkeep


def add_words(index: TextIndex, texts: Iterable[str]) -> None:
    """Teach the vocabulary the words of newly saved text (words never learnt are never suggested)."""
    from kith.core.models import SearchWord

    new = {w for text in texts for w in words(text) if 2 <= len(w) <= 60}
    if new:  # known words are skipped by the unique constraint: one statement, no read first
        SearchWord.objects.bulk_create(
            [SearchWord(scope=index.scope, word=w, first=w[0], length=len(w), uses=1) for w in sorted(new)],
            ignore_conflicts=True,
        )


def rebuild_vocabulary(index: TextIndex) -> int:
    """Recount the vocabulary from the column (after bulk loads); returns the number of distinct words."""
    from kith.core.models import SearchWord

    counts: Counter[str] = Counter()
    batch: list[str] = []
    for text in index.model._default_manager.values_list(index.field, flat=True).iterator(chunk_size=20_000):
        batch.append(text or "")
        if len(batch) >= 20_000:  # one regex pass over many texts (a word never spans the newline)
            counts.update(_WORD.findall("\n".join(batch)))
            batch.clear()
    counts.update(_WORD.findall("\n".join(batch)))
    counts = Counter({w: n for w, n in counts.items() if 2 <= len(w) <= 60})
    with transaction.atomic():
        SearchWord.objects.filter(scope=index.scope).delete()
        SearchWord.objects.bulk_create(
            (
                SearchWord(scope=index.scope, word=w, first=w[0], length=len(w), uses=min(n, 2**31 - 1))
                for w, n in counts.items()
            ),
            batch_size=5_000,
        )
    return len(counts)


def _sqlite_triggers(index: TextIndex) -> dict[str, str]:
    t, c, f = index.table, index.column, index.fts_table
    return {
        f"{f}_ai": f'CREATE TRIGGER IF NOT EXISTS "{f}_ai" AFTER INSERT ON "{t}" BEGIN '
        f'INSERT INTO "{f}"(rowid, "{c}") VALUES (new.id, new."{c}"); END',
        f"{f}_ad": f'CREATE TRIGGER IF NOT EXISTS "{f}_ad" AFTER DELETE ON "{t}" BEGIN '
        f'INSERT INTO "{f}"("{f}", rowid, "{c}") VALUES (\'delete\', old.id, old."{c}"); END',
        f"{f}_au": f'CREATE TRIGGER IF NOT EXISTS "{f}_au" AFTER UPDATE OF "{c}" ON "{t}" BEGIN '
        f'INSERT INTO "{f}"("{f}", rowid, "{c}") VALUES (\'delete\', old.id, old."{c}"); '
        f'INSERT INTO "{f}"(rowid, "{c}") VALUES (new.id, new."{c}"); END',
    }


def _sqlite_names(kind: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = %s", [kind])
        return {row[0] for row in cursor.fetchall()}


def ensure_index(index: TextIndex) -> bool:
    """Create whatever the engine needs for ``index``; return True when the index was (re)built."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            triggers = _sqlite_triggers(index)
            missing = set(triggers) - _sqlite_names("trigger")
            fresh = index.fts_table not in _sqlite_names("table")
            if not (missing or fresh):
                return False
            cursor.execute(
                f'CREATE VIRTUAL TABLE IF NOT EXISTS "{index.fts_table}" USING fts5("{index.column}", '
                f"content='{index.table}', content_rowid='id', tokenize='trigram')"
            )
            for sql in triggers.values():
                cursor.execute(sql)
            cursor.execute(f'INSERT INTO "{index.fts_table}"("{index.fts_table}") VALUES (\'rebuild\')')
            return True
        if connection.vendor == "postgresql":
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            built = _pg_collate_c(index.table, index.column)
            cursor.execute(
                f'CREATE INDEX IF NOT EXISTS "{index.table}_{index.column}_trgm" ON "{index.table}" '
                f'USING gin ("{index.column}" gin_trgm_ops)'
            )
            return built
    return False


def _pg_collate_c(table: str, column: str) -> bool:
    """Give a PostgreSQL column the "C" collation (code-point order, like SQLite); True if it changed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT collation_name, character_maximum_length FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s AND column_name = %s",
            [table, column],
        )
        row = cursor.fetchone()
        if not row or row[0] == "C":
            return False
        length = f"({int(row[1])})" if row[1] else ""
        cursor.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE varchar{length} COLLATE "C"')
        return True


_prefix_columns: list[tuple[type[models.Model], str]] = []


def register_prefix_column(model: type[models.Model], field: str) -> None:
    """A column searched with ``prefix_q``: ordered by code point on both engines."""
    _prefix_columns.append((model, field))


def ensure_indexes(**kwargs: object) -> None:
    """post_migrate: every registered index exists and is current."""
    tables = set(connection.introspection.table_names())
    restore_dropped_indexes()
    for index in _indexes.values():
        if index.table in tables:
            ensure_index(index)
    if connection.vendor == "postgresql":
        for model, field in _prefix_columns:
            if model._meta.db_table in tables:
                _pg_collate_c(model._meta.db_table, _column(model, field))


@contextmanager
def bulk_loading(
    *indexes: TextIndex,
    tables: Iterable[str] = (),
    drop_indexes: bool = False,
) -> Iterator[None]:
    """Pause per-row upkeep of ``indexes`` during a bulk load and rebuild them once at the end.

    ``tables`` are the tables the load writes: their statistics are refreshed at the end. With
    ``drop_indexes`` their secondary indexes are dropped for the load too and built again afterwards (one
    sort instead of millions of B-tree inserts): worth it for loads that add a large share of the rows.
    """
    tables = list(tables)
    dropped = False
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for index in indexes:
                for name in _sqlite_triggers(index):
                    cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
        dropped = True
    try:
        with secondary_indexes_dropped(tables if drop_indexes else ()):
            yield
    finally:
        if dropped:
            for index in indexes:
                ensure_index(index)
        for index in indexes:
            rebuild_vocabulary(index)
        _analyze_after_load(tables)


# What a bulk load dropped (index and foreign-key definitions), kept in the database until it is back: a load
# killed before its ``finally`` ran leaves them here, and ``ensure_indexes`` (run by every ``migrate``)
# restores them. Each entry: [name, statement that creates it, statement that drops it].
_DROPPED_KEY = "core.search.dropped_indexes"


def _load_upkeep(tables: list[str]) -> list[tuple[str, str, str]]:
    """The secondary indexes of ``tables`` (not unique, not backing a constraint) and, on PostgreSQL, their
    foreign keys (checked row by row at every commit): (name, create statement, drop statement)."""
    if not tables:
        return []
    q = connection.ops.quote_name
    found: list[tuple[str, str, str]] = []
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            marks = ", ".join(["%s"] * len(tables))
            cursor.execute(
                f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({marks}) ORDER BY tbl_name, name",
                tables,
            )
            for name, sql in cursor.fetchall():
                if not sql.lstrip().upper().startswith("CREATE UNIQUE"):
                    found.append((name, sql, f"DROP INDEX IF EXISTS {q(name)}"))
        elif connection.vendor == "postgresql":
            cursor.execute(
                "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
                "JOIN pg_namespace n ON n.oid = t.relnamespace "
                "WHERE n.nspname = current_schema() AND t.relname = ANY(%s) "
                "AND NOT x.indisunique AND NOT x.indisprimary AND NOT x.indisexclusion "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) "
                "ORDER BY t.relname, i.relname",
                [tables],
            )
            for name, sql in cursor.fetchall():
                found.append((name, sql, f"DROP INDEX IF EXISTS {q(name)}"))
            cursor.execute(
                "SELECT t.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
                "JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
                "WHERE n.nspname = current_schema() AND t.relname = ANY(%s) AND c.contype = 'f' "
                "ORDER BY t.relname, c.conname",
                [tables],
            )
            for table, name, definition in cursor.fetchall():
                found.append(
                    (
                        name,
                        f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(name)} {definition}",
                        f"ALTER TABLE {q(table)} DROP CONSTRAINT IF EXISTS {q(name)}",
                    )
                )
    return found


def _existing(names: list[str]) -> set[str]:
    """Which of ``names`` exist as indexes (or, on PostgreSQL, constraints)."""
    if not names:
        return set()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            marks = ", ".join(["%s"] * len(names))
            cursor.execute(
                f"SELECT name FROM sqlite_master WHERE type = 'index' AND name IN ({marks})", names
            )
        else:
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexname = ANY(%s) "
                "UNION SELECT c.conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
                "WHERE n.nspname = current_schema() AND c.conname = ANY(%s)",
                [names, names],
            )
        return {row[0] for row in cursor.fetchall()}


def _remember_dropped(definitions: list[tuple[str, str, str]]) -> None:
    from kith.core.models import SiteSetting

    if definitions:
        SiteSetting.objects.update_or_create(key=_DROPPED_KEY, defaults={"value": definitions})
    else:
        SiteSetting.objects.filter(key=_DROPPED_KEY).delete()


def restore_dropped_indexes() -> int:
    """Build again what a bulk load dropped and could not restore (it was killed); return how many."""
    from kith.core.models import SiteSetting

    if connection.vendor not in ("sqlite", "postgresql"):
        return 0
    if SiteSetting._meta.db_table not in connection.introspection.table_names():
        return 0
    row = SiteSetting.objects.filter(key=_DROPPED_KEY).values_list("value", flat=True).first()
    if not row:
        return 0
    definitions = [(str(name), str(create), str(drop)) for name, create, drop in row]
    built = _restore(definitions)
    _remember_dropped([])
    return built


def _restore(definitions: list[tuple[str, str, str]]) -> int:
    """Create what is missing of ``definitions`` (indexes first); each is tried, the first error raised."""
    existing = _existing([name for name, _create, _drop in definitions])
    missing = [create for name, create, _drop in definitions if name not in existing]
    if not missing:
        return 0
    missing.sort(key=lambda create: create.startswith("ALTER TABLE"))  # indexes, then foreign keys
    failure: Exception | None = None
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW maintenance_work_mem")
            work_mem = str(cursor.fetchone()[0])
            cursor.execute("SET maintenance_work_mem = '1GB'")
        try:
            _settle_deferred_checks(cursor)
            for create in missing:
                try:
                    with transaction.atomic():
                        cursor.execute(create)
                except Exception as error:  # every one is tried; the first error is raised
                    failure = failure or error
        finally:
            if connection.vendor == "postgresql" and not connection.needs_rollback:
                cursor.execute("SELECT set_config('maintenance_work_mem', %s, false)", [work_mem])
    if failure is not None:
        raise failure
    return len(missing)


def _settle_deferred_checks(cursor: Any) -> None:
    """PostgreSQL refuses to alter a table with deferred checks pending in the transaction: run them now."""
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@contextmanager
def secondary_indexes_dropped(tables: Iterable[str]) -> Iterator[None]:
    """Drop the secondary indexes of ``tables`` for the block (and on PostgreSQL their foreign keys, which
    it checks row by row at commit); create them again afterwards, even when the block fails.

    Unique and primary-key indexes stay: they guard the data. Foreign keys come back validated, so rows
    that break one make the load fail at the end. The definitions are kept in ``SiteSetting`` until all
    is back, so a process killed mid-load loses nothing (``ensure_indexes`` restores them).
    """
    definitions = _load_upkeep(list(tables))
    if not definitions:
        yield
        return
    with transaction.atomic():
        _remember_dropped(definitions)
        with connection.cursor() as cursor:
            _settle_deferred_checks(cursor)
            for _name, _create, drop in definitions:
                cursor.execute(drop)
    try:
        yield
    finally:
        if not connection.needs_rollback:
            _restore(definitions)
            _remember_dropped([])


def _analyze_after_load(tables: Iterable[str]) -> None:
    """Fresh planner statistics for the loaded tables. Full, not sampled, on SQLite: sampled statistics
    misjudged how selective a status is and sent filtered list pages through a sort of half a million rows."""
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


def refresh_statistics() -> None:
    """Let the query planner know the data's shape (after bulk loads; daily). PostgreSQL autovacuum does it."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
