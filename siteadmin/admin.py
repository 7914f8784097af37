"""The admin's pages, registered on the project's site when Django's admin autodiscovers this module.

Each page keeps the URL and the name of its model's app
(``admin:accounts_user_changelist``, ``/admin/api/tokenfamily/``): Django
keys them by the model, not by the module that registers it.
"""

from siteadmin import sessions, tokens, users  # noqa: F401 (each registers its ModelAdmins)
