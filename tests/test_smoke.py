import pytest

pytestmark = pytest.mark.django_db


def test_home_renders(client):
    assert client.get("/").status_code == 200


def test_the_favicon_is_served_not_a_404(client):
    from django.contrib.staticfiles import finders

    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].startswith("/static/")
    assert finders.find(response["Location"].removeprefix("/static/")) is not None
    assert 'rel="icon"' in client.get("/").content.decode()
