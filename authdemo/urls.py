"""Root URLconf: the session side under /accounts/, the JWT side under /api/, the comparison at /."""

from django.contrib import admin
from django.urls import include, path

from authdemo.health import HealthView

urlpatterns = [
    path("admin/", admin.site.urls),
    # Before api.urls, whose catch-all answers any other /api/ path with a 404.
    path("api/health/", HealthView.as_view(), name="health"),
    path("accounts/", include("accounts.urls")),
    path("", include("api.urls")),
    path("", include("compare.urls")),
]

# JSON errors under /api/ (every API error has detail and code), Django's pages elsewhere.
handler400 = "api.exceptions.handler400"
handler403 = "api.exceptions.handler403"
handler404 = "api.exceptions.handler404"
handler500 = "api.exceptions.handler500"
