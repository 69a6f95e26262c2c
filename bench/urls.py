"""The project's URLs plus the floor views (bench/floor.py)."""

from django.urls import include, path

from . import floor

urlpatterns = [
    path("bench/floor/<str:store_code>/<str:order_id>.json", floor.order_json),
    path("bench/floor/<str:store_code>/<str:order_id>.html", floor.order_html),
    path("bench/floor/<str:store_code>/<str:order_id>/write.json", floor.order_write),
    path("", include("returns_portal.urls")),
]
