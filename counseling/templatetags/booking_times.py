"""counseling.formatting for templates: `{% load booking_times %}`."""

from django import template

from counseling import formatting

register = template.Library()

register.filter("full_day_label", formatting.full_day_label)
register.filter("short_moment", formatting.short_moment)
register.simple_tag(formatting.time_range, name="time_range")
