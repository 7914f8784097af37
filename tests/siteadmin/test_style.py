"""The admin's own stylesheet: the revoke buttons styled like the tools beside them, long lists that wrap."""

from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_every_admin_page_loads_the_project_admin_stylesheet(admin_client, django_user_model):
    user = django_user_model.objects.create_user(username="styled", password="x-long-password-1")
    for url in ("/admin/", f"/admin/accounts/user/{user.pk}/change/", "/admin/api/tokenfamily/"):
        body = admin_client.get(url).content.decode()
        assert "css/admin.css" in body, url
        assert "admin/css/base.css" in body, url  # Django's own styles are kept
    css = Path(finders.find("css/admin.css")).read_text()
    assert ".object-tools form button" in css and "#result_list td" in css
