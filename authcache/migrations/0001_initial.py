# The two tables were created by accounts' migrations 0004 and 0005; this
# app takes them over as they are (state only, no SQL).

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("accounts", "0008_cache_models_moved"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="RevocationEpoch",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("value", models.BigIntegerField(default=0)),
                    ],
                    options={"verbose_name": "revocation epoch", "db_table": "accounts_revocationepoch"},
                ),
                migrations.CreateModel(
                    name="SharedCacheEntry",
                    fields=[
                        ("cache_key", models.CharField(max_length=255, primary_key=True, serialize=False)),
                        ("value", models.TextField()),
                        ("expires", models.DateTimeField(db_index=True)),
                    ],
                    options={
                        "verbose_name": "shared cache entry",
                        "verbose_name_plural": "shared cache entries",
                        "db_table": "authdemo_shared_cache",
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
