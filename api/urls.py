from django.urls import path

from api import schema
from api.keys import JwksView

app_name = "api"

urlpatterns: list = [
    # Keys and OpenAPI (api/keys.py, api/schema.py)
    path(".well-known/jwks.json", JwksView.as_view(), name="jwks"),
    path("api/schema/", schema.SchemaView.as_view(), name="schema"),
    path("api/docs/", schema.DocsView.as_view(), name="docs"),
]
