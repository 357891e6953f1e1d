"""Admin forms of what every section shares."""

from django.utils.translation import gettext as _
from wagtail.admin.forms import WagtailAdminModelForm


class HolidayArrangementForm(WagtailAdminModelForm):
    """A year's arrangement: each period must belong in that year's notice."""

    def clean(self):
        from .models import notice_reaches

        cleaned = super().clean()
        year = cleaned.get("year")
        if not year:
            return cleaned
        for form in self.formsets["periods"].forms:
            if not form.is_valid():
                continue
            data = form.cleaned_data
            first, last = data.get("starts_on"), data.get("ends_on")
            if data.get("DELETE") or not (first and last):
                continue
            if not notice_reaches(year, first, last):
                form.add_error(
                    "starts_on",
                    _("日期要在 %(year)d 年内(跨年的元旦假期可以从上一年 12 月开始)。")
                    % {"year": year},
                )
        return cleaned
