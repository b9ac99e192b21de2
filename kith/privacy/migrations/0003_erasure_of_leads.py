"""Erasure of people known only as leads: an ErasureRecord names a customer or a lead."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('parties', '0008_importchange_added'),
        ('privacy', '0002_default_purposes'),
        ('sales', '0003_leads_opportunities_quotes'),  # the Lead model
    ]

    operations = [
        migrations.AddField(
            model_name='erasurerecord',
            name='lead',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='sales.lead', verbose_name='lead'),
        ),
        migrations.AlterField(
            model_name='erasurerecord',
            name='customer',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='erasure', to='parties.customer', verbose_name='customer'),
        ),
    ]
