"""Usernames get a stored TR39 skeleton (accounts.usernames), indexed for the look-alike check.

Existing users keep their names: the column is not unique, and users that
already look alike are left as they are (only a new or changed name is
checked against the others).
"""

from django.db import migrations, models

from accounts.usernames import username_skeleton

BATCH = 1000


def username_skeleton_fill(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    batch = []
    for user in User.objects.only("pk", "username").iterator(chunk_size=BATCH):
        user.username_skeleton = username_skeleton(user.username)
        batch.append(user)
        if len(batch) == BATCH:
            User.objects.bulk_update(batch, ["username_skeleton"])
            batch = []
    User.objects.bulk_update(batch, ["username_skeleton"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_shared_cache"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="username_skeleton",
            field=models.TextField(default="", editable=False, verbose_name="username skeleton"),
            preserve_default=False,
        ),
        migrations.RunPython(username_skeleton_fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="user",
            name="username_skeleton",
            field=models.TextField(db_index=True, editable=False, verbose_name="username skeleton"),
        ),
    ]
