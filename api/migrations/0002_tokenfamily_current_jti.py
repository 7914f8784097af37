from django.db import migrations, models


def current_jti_backfill(apps, schema_editor):
    """Record each live family's newest refresh token that is not rotated out as its current one."""
    TokenFamily = apps.get_model("api", "TokenFamily")
    FamilyToken = apps.get_model("api", "FamilyToken")
    for family in TokenFamily.objects.filter(revoked_at__isnull=True).iterator():
        jti = (
            FamilyToken.objects.filter(family=family, token__blacklistedtoken__isnull=True)
            .order_by("-token__created_at")
            .values_list("token__jti", flat=True)
            .first()
        )
        if jti:
            TokenFamily.objects.filter(pk=family.pk).update(current_jti=jti)


class Migration(migrations.Migration):

    dependencies = [
        ('api', '0001_token_families'),
    ]

    operations = [
        migrations.AddField(
            model_name='tokenfamily',
            name='current_jti',
            field=models.CharField(blank=True, default='', max_length=255),
        ),
        migrations.RunPython(current_jti_backfill, migrations.RunPython.noop),
    ]
