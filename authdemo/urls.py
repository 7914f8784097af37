"""Root URLconf: accounts and mfa under /accounts/, the JWT side under /api/, the comparison at /."""

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from authdemo.health import HealthView
from compare.hooks import instrumented


class FaviconView(RedirectView):
    """Send /favicon.ico to the icon's static URL, resolved per request (production's manifest names it)."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs) -> str:
        return static("img/favicon.svg")


urlpatterns = [
    path("admin/", admin.site.urls),
    # Browsers and tools that ask for /favicon.ico by habit get the site's icon.
    path("favicon.ico", FaviconView.as_view(), name="favicon"),
    # Before api.urls, whose catch-all answers any other /api/ path with a 404.
    path("api/health/", HealthView.as_view(), name="health"),
    # The login views metered and the CSRF lab's targets observed, nothing else (compare.hooks).
    path("accounts/", include(instrumented("accounts.urls"))),
    # Second factors on the session side: no view of theirs is metered or attacked.
    path("accounts/", include("mfa.urls")),
    path("", include(instrumented("api.urls"))),
    path("", include("compare.urls")),
]

# JSON errors under /api/ (every API error has detail and code), Django's pages elsewhere.
handler400 = "api.exceptions.handler400"
handler403 = "api.exceptions.handler403"
handler404 = "api.exceptions.handler404"
handler500 = "api.exceptions.handler500"
