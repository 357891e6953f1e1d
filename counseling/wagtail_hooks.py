from django.utils.translation import gettext_lazy as _
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from .models import Room


class RoomViewSet(SnippetViewSet):
    model = Room
    icon = "home"
    menu_label = _("心理咨询室")
    add_to_admin_menu = True
    menu_order = 300
    list_display = ["name", "district", "address", "is_active"]
    list_filter = ["location", "is_active"]


register_snippet(RoomViewSet)
