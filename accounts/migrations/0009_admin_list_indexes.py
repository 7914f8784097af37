# Indexes of the admin change lists at size: sessions by last activity, users by username prefix.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0008_cache_models_moved'),
        ('auth', '0012_alter_user_first_name_max_length'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='session',
            index=models.Index(fields=['-last_activity'], name='accounts_session_activity'),
        ),
        migrations.AddIndex(
            model_name='user',
            index=models.Index(fields=['username_key'], name='accounts_user_key_prefix', opclasses=['text_pattern_ops']),
        ),
    ]
