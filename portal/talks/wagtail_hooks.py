from django.utils.translation import gettext_lazy as _
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from .models import Speaker


class SpeakerViewSet(SnippetViewSet):
    model = Speaker
    icon = "user"
    menu_label = _("主讲人")
    menu_order = 300
    add_to_admin_menu = True
    list_display = ["name", "title"]
    search_fields = ["name", "title", "bio"]


register_snippet(SpeakerViewSet)
