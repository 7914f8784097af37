"""Usernames get a canonical key (username_canonical): unique, the one lookup and rate-limit key."""

from django.db import migrations, models

from usernames import username_canonical


def username_key_fill(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    seen: dict[str, str] = {}
    for pk, username in User.objects.values_list("pk", "username").iterator():
        key = username_canonical(username)
        if key in seen:
            raise RuntimeError(
                f"Usernames {seen[key]!r} and {username!r} have the same canonical form {key!r}; "
                "rename one of them, then migrate again."
            )
        seen[key] = username
        User.objects.filter(pk=pk).update(username_key=key)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_session"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="username_key",
            field=models.TextField(editable=False, null=True, verbose_name="canonical username"),
        ),
        migrations.RunPython(username_key_fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="user",
            name="username_key",
            field=models.TextField(editable=False, unique=True, verbose_name="canonical username"),
        ),
        migrations.RemoveConstraint(
            model_name="user",
            name="accounts_user_username_ci_unique",
        ),
    ]
