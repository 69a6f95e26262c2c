from django.urls import path

from . import views

app_name = "labels"

urlpatterns = [
    path("<str:token>/", views.label_download, name="download"),
]
