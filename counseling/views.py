from django.shortcuts import render
from django.utils.translation import gettext as _

from .models import Room


def room_list(request):
    """The six counselling rooms, with how to reach them."""
    return render(
        request,
        "counseling/room_list.html",
        {"rooms": Room.objects.for_listing(), "page_title": _("心理咨询室")},
    )
