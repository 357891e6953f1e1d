from django.urls import path

from . import views

app_name = "elder"

urlpatterns = [
    path("", views.toggle, name="toggle"),
    path("style.css", views.stylesheet, name="stylesheet"),
]
