"""Where this project changes Wagtail's own behaviour rather than configuring it.
Each change here is checked against the installed Wagtail by
tests/portal/test_wagtail_compat.py, which fails on a Wagtail upgrade until the
change has been looked at again."""

from wagtail.admin.views.mixins import SpreadsheetExportMixin

# Wagtail's release these changes were checked against.
CHECKED_WITH = (8, 0)

# A spreadsheet reads a CSV cell that starts with one of these as a formula:
# `=HYPERLINK("//a.cn")` as a resident's name would become a live link in Excel
# or WPS (CWE-1236). A leading apostrophe makes it text.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value):
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def write_csv_row(self, writer, row_dict):
    """SpreadsheetExportMixin.write_csv_row, with every cell neutralised."""
    return writer.writerow(
        {
            field: neutralise_formula(self.preprocess_field_value(field, value, self.FORMAT_CSV))
            for field, value in row_dict.items()
        }
    )


def neutralise_csv_exports():
    """Every CSV the admin writes (our viewsets, Wagtail's reports, form
    submissions) goes through SpreadsheetExportMixin: neutralise it there. XLSX
    needs nothing: Wagtail already writes cells that look like formulas as text."""
    SpreadsheetExportMixin.write_csv_row = write_csv_row


def apply():
    neutralise_csv_exports()
