from django.urls import path

from . import views

app_name = "tracking"

urlpatterns = [
    path("easypost", views.easypost_tracking, name="easypost"),
    path("shippo", views.shippo_tracking, name="shippo"),
]
