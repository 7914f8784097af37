# jwt_prune finds expired refresh tokens by expiry: an index on SimpleJWT's
# table, which its own model does not declare (plain SQL: both databases).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0005_family_created_index"),
        ("token_blacklist", "0013_alter_blacklistedtoken_options_and_more"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS api_outstanding_expires ON token_blacklist_outstandingtoken (expires_at)",
            reverse_sql="DROP INDEX IF EXISTS api_outstanding_expires",
        ),
    ]
