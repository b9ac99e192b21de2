"""Encryption at rest: birth dates, ID-document numbers and phones become AES-GCM tokens, with keyed blind
indexes for exact lookup (kith.core.crypto). Existing values are encrypted in place; derived birthdays keep
their day and month but no longer the year."""

from django.db import migrations, models

import kith.core.crypto

BATCH = 2000


def encrypt_existing(apps, schema_editor):
    from kith.core import crypto
    from kith.parties.services.contact_points import id_number_key

    connection = schema_editor.connection
    quote = connection.ops.quote_name
    # (table, {column: label}, {index column: (purpose, source column, normaliser)})
    plans = [
        (
            "parties_customer",
            {
                "birth_date": "parties.customer.birth_date",
                "id_document_number": "parties.customer.id_document_number",
            },
            {"id_document_index": ("id_document", "id_document_number", id_number_key)},
        ),
        (
            "parties_phone",
            {"number": "parties.phone.number", "national_number": "parties.phone.national_number"},
            {
                "number_index": ("phone", "number", str),
                "national_index": ("phone_national", "national_number", str),
            },
        ),
    ]
    with connection.cursor() as cursor:
        for table, columns, indexes in plans:
            names = list(columns)
            last = 0
            while True:
                cursor.execute(
                    f"SELECT id, {', '.join(quote(c) for c in names)} FROM {quote(table)} "  # noqa: S608
                    f"WHERE id > %s ORDER BY id LIMIT {BATCH}",
                    [last],
                )
                rows = cursor.fetchall()
                if not rows:
                    break
                last = rows[-1][0]
                updates = []
                for pk, *values in rows:
                    stored = {c: (None if v is None else str(v)) for c, v in zip(names, values, strict=True)}
                    plain = {c: crypto.reveal(v, columns[c]) for c, v in stored.items()}
                    sealed = {
                        c: (crypto.seal(v, columns[c]) if v and not crypto.is_token(v) else v)
                        for c, v in stored.items()
                    }
                    indexed = {
                        column: crypto.blind_index(purpose, normalise(plain[source] or ""))
                        for column, (purpose, source, normalise) in indexes.items()
                    }
                    updates.append([*sealed.values(), *indexed.values(), pk])
                assignments = ", ".join(f"{quote(c)} = %s" for c in [*names, *indexes])
                cursor.executemany(
                    f"UPDATE {quote(table)} SET {assignments} WHERE id = %s",  # noqa: S608
                    updates,
                )
        # a derived birthday no longer keeps the year (the age comes from the encrypted birth date)
        cursor.execute("UPDATE parties_specialdate SET year = NULL WHERE kind = 'birthday'")


class Migration(migrations.Migration):

    dependencies = [
        ('parties', '0003_pinyin_index'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='phone',
            name='phone_unique_per_customer',
        ),
        migrations.RemoveIndex(
            model_name='phone',
            name='phone_e164_idx',
        ),
        migrations.RemoveIndex(
            model_name='phone',
            name='phone_national_idx',
        ),
        migrations.AddField(
            model_name='customer',
            name='id_document_index',
            field=kith.core.crypto.BlindIndexField(db_index=True, normalise='kith.parties.services.contact_points.id_number_key', purpose='id_document', source='id_document_number'),
        ),
        migrations.AddField(
            model_name='phone',
            name='national_index',
            field=kith.core.crypto.BlindIndexField(normalise='', purpose='phone_national', source='national_number'),
        ),
        migrations.AddField(
            model_name='phone',
            name='number_index',
            field=kith.core.crypto.BlindIndexField(normalise='', purpose='phone', source='number'),
        ),
        migrations.AlterField(
            model_name='customer',
            name='birth_date',
            field=kith.core.crypto.EncryptedDateField(blank=True, null=True, verbose_name='birth date'),
        ),
        migrations.AlterField(
            model_name='customer',
            name='id_document_number',
            field=kith.core.crypto.EncryptedTextField(blank=True, max_length=60, verbose_name='ID document number'),
        ),
        migrations.AlterField(
            model_name='phone',
            name='national_number',
            field=kith.core.crypto.EncryptedTextField(editable=False),
        ),
        migrations.AlterField(
            model_name='phone',
            name='number',
            field=kith.core.crypto.EncryptedTextField(verbose_name='number (E.164)'),
        ),
        # no change of the column: the values of sensitive custom fields become tokens inside the JSON
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='customer',
                    name='custom_data',
                    field=kith.core.crypto.SealedKeysJSONField(
                        blank=True,
                        default=dict,
                        sensitive='kith.parties.sensitive.sensitive_custom_keys',
                        verbose_name='custom fields',
                    ),
                ),
            ],
        ),
        migrations.RunPython(encrypt_existing, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='phone',
            index=models.Index(fields=['number_index'], name='phone_number_bidx'),
        ),
        migrations.AddIndex(
            model_name='phone',
            index=models.Index(fields=['national_index'], name='phone_national_bidx'),
        ),
        migrations.AddConstraint(
            model_name='phone',
            constraint=models.UniqueConstraint(fields=('customer', 'number_index'), name='phone_unique_per_customer'),
        ),
    ]
