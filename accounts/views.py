from django.shortcuts import render


def home(request):
    """Render the side-by-side page."""
    return render(request, "home.html")
