"""Flash messages: stored in the response, shown once on a later page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.messages.middleware import MessageMiddleware
from django.http import HttpResponse
from django.test import RequestFactory


def _run(view, *, cookie: str | None = None):
    request = RequestFactory().get("/")
    request.session = {}  # the fallback storage's second half
    if cookie is not None:
        request.COOKIES["messages"] = cookie
    response = MessageMiddleware(lambda req: view(req))(request)
    return request, response


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
