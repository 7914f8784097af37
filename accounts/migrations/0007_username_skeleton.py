"""Usernames get a stored TR39 skeleton (username_skeleton), unique for every new or renamed user.

Existing users keep their names: users that already look like an earlier
user (the same skeleton) get look-alike ranks 1, 2, ... in the order they
joined, so the unique pair (skeleton, rank) holds for them too; every other
user has rank 0, and so does every new user.
"""

from django.db import migrations, models

from usernames import username_skeleton

BATCH = 1000


def username_skeleton_fill(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    ranks: dict[str, int] = {}
    batch = []
    for user in User.objects.only("pk", "username").order_by("pk").iterator(chunk_size=BATCH):
        skeleton = username_skeleton(user.username)
        user.username_skeleton = skeleton
        user.username_lookalike_rank = ranks.get(skeleton, -1) + 1
        ranks[skeleton] = user.username_lookalike_rank
        batch.append(user)
        if len(batch) == BATCH:
            User.objects.bulk_update(batch, ["username_skeleton", "username_lookalike_rank"])
            batch = []
    User.objects.bulk_update(batch, ["username_skeleton", "username_lookalike_rank"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_email_blank_not_unique"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="username_skeleton",
            field=models.TextField(default="", editable=False, verbose_name="username skeleton"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="user",
            name="username_lookalike_rank",
            field=models.PositiveSmallIntegerField(default=0, editable=False, verbose_name="look-alike rank"),
        ),
        migrations.RunPython(username_skeleton_fill, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                fields=("username_skeleton", "username_lookalike_rank"), name="accounts_user_skeleton_unique"
            ),
        ),
    ]
