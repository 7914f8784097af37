"""Flash messages: the storage is made on first use (authdemo.middleware.MessageMiddleware)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.test import RequestFactory

from authdemo import middleware
from authdemo.middleware import MessageMiddleware


def _run(view, *, cookie: str | None = None):
    request = RequestFactory().get("/")
    request.session = {}  # the fallback storage's second half
    if cookie is not None:
        request.COOKIES["messages"] = cookie
    response = MessageMiddleware(lambda req: view(req))(request)
    return request, response


def test_a_request_that_never_uses_messages_builds_no_storage_and_keeps_the_cookie(monkeypatch):
    built = []
    monkeypatch.setattr(middleware, "default_storage", lambda request: built.append(request))

    def view(request):
        return HttpResponse("ok")

    _, response = _run(view, cookie="queued-for-a-later-page")
    # Nothing read the storage: it was never built, and the browser's cookie
    # (messages queued for a later page) is neither consumed nor deleted.
    assert built == []
    assert "messages" not in response.cookies


def test_the_storage_is_built_once_when_a_view_uses_it(monkeypatch):
    built = []
    real = middleware.default_storage
    monkeypatch.setattr(middleware, "default_storage", lambda request: built.append(1) or real(request))

    def view(request):
        messages.info(request, "one")
        messages.info(request, "two")
        return HttpResponse("ok")

    _, response = _run(view)
    assert built == [1] and "messages" in response.cookies


def test_a_message_added_is_stored_in_the_response():
    def view(request):
        messages.success(request, "Profile saved.")
        return HttpResponse("ok")

    _, response = _run(view)
    assert "messages" in response.cookies and response.cookies["messages"].value


def test_a_message_added_earlier_is_shown_and_then_consumed():
    def add(request):
        messages.info(request, "Ended 1 other session.")
        return HttpResponse("ok")

    _, first = _run(add)
    cookie = first.cookies["messages"].value

    def show(request):
        return HttpResponse(" ".join(str(m) for m in messages.get_messages(request)))

    _, second = _run(show, cookie=cookie)
    assert second.content.decode() == "Ended 1 other session."
    # Read once: the response clears the cookie.
    assert second.cookies["messages"].value == ""
