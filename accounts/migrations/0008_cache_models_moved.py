# The cache layer's tables now belong to the authcache app (its migration
# 0001 takes them over); state only, the tables stay.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_username_skeleton"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="RevocationEpoch"),
                migrations.DeleteModel(name="SharedCacheEntry"),
            ],
            database_operations=[],
        ),
    ]
