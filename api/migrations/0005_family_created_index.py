# Index of the admin change list at size: token families newest first.

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('api', '0004_family_previous_jti'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='tokenfamily',
            index=models.Index(fields=['-created_at'], name='api_family_created'),
        ),
    ]
