"""The project's routes plus one portal page that fails, to see the 500 page."""

from django.urls import path

from returns_portal.urls import urlpatterns as project_urlpatterns


def crash(request):
    raise RuntimeError("a bug")


urlpatterns = [path("crash/", crash), *project_urlpatterns]
