"""Login and action rate limits and device cookies: below accounts, api and compare, which all call them."""

from django.apps import AppConfig


class LimitsConfig(AppConfig):
    name = "limits"
    verbose_name = "Rate limits"

    def ready(self) -> None:
        from limits import checks, conf  # noqa: F401 (conf sets the defaults, checks registers)
