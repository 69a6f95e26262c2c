from django.urls import path

from . import views

urlpatterns = [
    path("floor/<str:store_code>/<str:order_id>.json", views.order_json),
    path("floor/<str:store_code>/<str:order_id>.html", views.order_html),
    path("floor/<str:store_code>/<str:order_id>/write.json", views.order_write),
    path("floor/lookup", views.lookup),
]
