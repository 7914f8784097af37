# The family links lose their database foreign keys (the ORM still cascades):
# why that keeps them whole is in api.models.FamilyToken and docs/operations.md.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0006_outstanding_expires_index"),
        ("token_blacklist", "0013_alter_blacklistedtoken_options_and_more"),
    ]

    operations = [
        migrations.AlterField(
            model_name="familytoken",
            name="family",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="tokens",
                to="api.tokenfamily",
            ),
        ),
        migrations.AlterField(
            model_name="familytoken",
            name="token",
            field=models.OneToOneField(
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                primary_key=True,
                related_name="family_link",
                serialize=False,
                to="token_blacklist.outstandingtoken",
            ),
        ),
    ]
