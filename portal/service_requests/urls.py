from django.urls import path

from . import views

app_name = "suqiu"

urlpatterns = [
    path("chaxun/", views.lookup, name="lookup"),
    path("jindu/", views.status, name="status"),
    path("tuichu/", views.leave, name="leave"),
]
