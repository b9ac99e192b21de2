"""PostgreSQL refuses UPDATE and DELETE on the audit tables, whoever asks (the application refuses them too).

SQLite gets no trigger: Django's test flush empties tables with DELETE. TRUNCATE is left to the database's
privileges (it is how PostgreSQL flushes test databases); revoke it from the application's role in production.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION kith_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'kith: % on % refused: the audit trail is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
"""

TABLES = ("audit_auditentry", "audit_accesslog")


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)  # the % in RAISE are not placeholders
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION kith_audit_append_only()"
        )


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS kith_audit_append_only()")


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
