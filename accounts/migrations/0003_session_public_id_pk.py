# The session's primary key becomes a digest of the session key (never the key
# itself). Sessions are disposable: the table is recreated, which logs
# everybody out once, on SQLite and PostgreSQL alike.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_session'),
    ]

    operations = [
        migrations.DeleteModel(name='Session'),
        migrations.CreateModel(
            name='Session',
            fields=[
                ('session_data', models.TextField(verbose_name='session data')),
                ('expire_date', models.DateTimeField(db_index=True, verbose_name='expire date')),
                ('public_id', models.CharField(editable=False, max_length=32, primary_key=True, serialize=False, verbose_name='id')),
                ('session_key', models.CharField(max_length=40, unique=True, verbose_name='session key')),
                ('created_at', models.DateTimeField(verbose_name='created')),
                ('last_activity', models.DateTimeField(verbose_name='last activity')),
                ('ip', models.GenericIPAddressField(blank=True, null=True, verbose_name='IP address')),
                ('user_agent', models.CharField(blank=True, max_length=512, verbose_name='user agent')),
                ('remember_me', models.BooleanField(default=False)),
                ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='sessions', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'session',
                'verbose_name_plural': 'sessions',
                'abstract': False,
                'indexes': [models.Index(fields=['user', 'expire_date'], name='accounts_session_user_exp')],
            },
        ),
    ]
