"""Staff clients and the actions an admin change list offers them (the permission tests)."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.test import Client


def staff_client(user_factory, username: str, *codenames: str, app_label: str | None = None) -> Client:
    """Return a client logged in as a new staff user holding exactly the permissions ``codenames``."""
    staff = user_factory(username=username, is_staff=True)
    permissions = Permission.objects.filter(codename__in=codenames)
    if app_label is not None:
        permissions = permissions.filter(content_type__app_label=app_label)
    staff.user_permissions.add(*permissions)
    assert staff.user_permissions.count() == len(codenames)
    client = Client()
    client.force_login(staff)
    return client


def actions_offered(client, url: str) -> set[str]:
    """Return the names of the bulk actions the change list at ``url`` offers this client."""
    response = client.get(url)
    assert response.status_code == 200
    form = response.context["action_form"]  # None when no action is offered
    return {name for name, _ in form.fields["action"].choices if name} if form else set()
