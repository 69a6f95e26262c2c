from django.urls import path

from . import views

app_name = "labels"

urlpatterns = [
    path("<str:token>/", views.label_download, name="download"),
    path("<str:token>/qr/", views.label_qr_code, name="qr_code"),
]
