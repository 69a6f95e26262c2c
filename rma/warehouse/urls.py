"""Warehouse screens, mounted at `warehouse/`; the admin links here by these names."""

from django.urls import path

from . import views

app_name = "warehouse"

urlpatterns = [
    path("receive/", views.receive_scan, name="receive_scan"),
    path("receive/<str:rma_number>/", views.receive, name="receive"),
    path("resolve/<str:rma_number>/", views.resolve, name="resolve"),
]
