"""The project's changes to Wagtail's own behaviour (portal/core/wagtail_compat.py):
each works through the admin as staff use it, and the list is looked at again
whenever Wagtail is upgraded."""

import csv
import io

import pytest
import wagtail
from django.urls import reverse

from portal.core import wagtail_compat
from portal.core.models import StandardPage

FORMULAS = ['=HYPERLINK("//a.cn","点我")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


def csv_rows(response):
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(content)))


def test_the_changes_were_checked_against_the_installed_wagtail():
    assert wagtail.VERSION[:2] == wagtail_compat.CHECKED_WITH, (
        "Wagtail was upgraded: check each change in portal/core/wagtail_compat.py "
        "against the new SpreadsheetExportMixin, AbstractImage.get_rendition(s) / "
        "create_rendition(s) and wagtail.sites.views.IndexView.columns, then update "
        "CHECKED_WITH."
    )


@pytest.mark.parametrize("value", FORMULAS)
def test_cells_a_spreadsheet_would_run_become_text(value):
    assert wagtail_compat.neutralise_formula(value) == "'" + value


@pytest.mark.parametrize("value", ["张阿姨", "2025-03-10 10:00", "13800000001", " =1", "", None, 3])
def test_other_cells_are_left_alone(value):
    assert wagtail_compat.neutralise_formula(value) == value


@pytest.mark.django_db
def test_wagtails_own_report_exports_are_neutralised_too(admin_client, home):
    for title in FORMULAS:
        page = home.add_child(
            instance=StandardPage(title=title, slug=f"p{len(title)}{ord(title[0])}")
        )
        page.save_revision().publish()

    response = admin_client.get(reverse("wagtailadmin_reports:aging_pages"), {"export": "csv"})

    assert response.status_code == 200
    titles = {row[0] for row in csv_rows(response)[1:]}
    assert {"'" + title for title in FORMULAS} <= titles
    assert not titles & set(FORMULAS)
