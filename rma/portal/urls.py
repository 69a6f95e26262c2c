from django.urls import path
from django.views.i18n import set_language

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.lookup, name="lookup"),
    path("s/<str:store_code>/", views.lookup, name="store_lookup"),
    path("orders/", views.choose, name="choose"),
    path("order/<str:store_code>/<path:order_id>/estimate/", views.estimate, name="estimate"),
    path("order/<str:store_code>/<path:order_id>/", views.order_detail, name="order"),
    path("confirmation/<uuid:group>/", views.confirmation, name="confirmation"),
    path("returns/<str:token>/", views.status, name="status"),
    path("returns/<str:token>/cancel/", views.status_cancel, name="cancel"),
    path("language/", set_language, name="set_language"),
]
