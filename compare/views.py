"""Views of the comparison pages: session and JWT state of this browser, side by side."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.forms import LoginForm
from compare.state import jwt_user


def home(request: HttpRequest) -> HttpResponse:
    """Render the side-by-side page: this browser's session state and JWT state."""
    session_user = request.user if request.user.is_authenticated else None
    return render(
        request,
        "compare/home.html",
        {
            "session_user": session_user,
            "jwt_cookie_user": jwt_user(request),
            "login_form": LoginForm(request) if session_user is None else None,
        },
    )
