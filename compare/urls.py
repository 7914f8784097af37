"""URLs of the comparison pages, at the root (included by authdemo/urls.py)."""

from django.urls import path

from compare import views

urlpatterns = [
    path("", views.home, name="home"),
]
