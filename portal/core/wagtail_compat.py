"""Where this project changes Wagtail's own behaviour rather than configuring it,
and every place it touches Wagtail's (or Django's) private attributes. Each is
checked against the installed Wagtail by tests/portal/test_wagtail_compat.py,
which fails on a Wagtail upgrade until the change has been looked at again.

The private touches serve routing from the look-ups cache (HomePage.route,
portal.core.lookups): Wagtail's own routing asks the database twice per path
segment and the site once per request, four queries more for every article
(7 instead of 11 for a warm news page, against a budget of 12)."""

import functools
import gettext
import logging

from django.db import transaction
from django.utils.text import capfirst
from wagtail.admin.views.mixins import SpreadsheetExportMixin
from wagtail.images.exceptions import InvalidFilterSpecError
from wagtail.images.models import (
    AbstractImage,
    AbstractRendition,
    Filter,
    SourceImageIOError,
)
from wagtail.images.templatetags.wagtailimages_tags import ImageNode, SrcsetImageNode

from .storage import disk_refused

logger = logging.getLogger(__name__)

# Wagtail's release these changes were checked against.
CHECKED_WITH = (8, 0)

# A spreadsheet reads a CSV cell that starts with one of these as a formula:
# `=HYPERLINK("//a.cn")` as a resident's name would become a live link in Excel
# or WPS (CWE-1236). A leading apostrophe makes it text.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

SITE_COLUMNS = {"port", "site_name", "root_page"}


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


def _with_byte_order_mark(stream_csv):
    @functools.wraps(stream_csv)
    def wrapper(self, queryset):
        yield "\ufeff"
        yield from stream_csv(self, queryset)

    return wrapper


def neutralise_csv_exports():
    """Every CSV the admin writes (our viewsets, Wagtail's reports, form
    submissions) goes through SpreadsheetExportMixin: neutralise it there. XLSX
    needs nothing: Wagtail already writes cells that look like formulas as text.

    Each CSV also starts with the UTF-8 byte order mark: without it Excel on a
    Chinese Windows reads the file as GBK and shows the names garbled."""
    SpreadsheetExportMixin.write_csv_row = write_csv_row
    SpreadsheetExportMixin.stream_csv = _with_byte_order_mark(SpreadsheetExportMixin.stream_csv)


def original_as_rendition(image, spec):
    """An unsaved rendition that points at the original file: what a page shows
    when the disk cannot take the rendition. The browser scales it."""
    filter = spec if isinstance(spec, Filter) else Filter(spec=spec)
    return image.get_rendition_model()(
        image=image,
        filter_spec=filter.spec,
        focal_point_key=filter.get_cache_key(image),
        file=image.file.name,
        width=image.width,
        height=image.height,
    )


def _or_the_original(get_renditions):
    @functools.wraps(get_renditions)
    def wrapper(image, *filters):
        try:
            return get_renditions(image, *filters)
        except OSError as error:
            if isinstance(error, SourceImageIOError) or not disk_refused(error):
                raise
            logger.error(
                "Renditions of image %s not stored (%s); pages show the original.",
                image.pk,
                error.strerror,
            )
        originals = [original_as_rendition(image, filter) for filter in filters]
        return {rendition.filter_spec: rendition for rendition in originals}

    return wrapper


def _in_a_savepoint(create):
    """Inside a transaction (a preview, a test) a rendition whose file could not
    be written would spoil it: make the attempt in a savepoint. Outside one,
    as pages run, add nothing."""

    @functools.wraps(create)
    def wrapper(image, *filters):
        # get_renditions() asks even when every rendition exists: then nothing is written.
        if not filters or not transaction.get_connection().in_atomic_block:
            return create(image, *filters)
        with transaction.atomic():
            return create(image, *filters)

    return wrapper


def renditions_fall_back_to_the_original():
    """A page whose picture still needs a rendition must not fail because the
    media disk is full or read-only: Image.get_rendition(s) hand back the
    original instead (get_rendition goes through get_renditions: see
    write_back_only_new_renditions). Nothing is stored or cached, so the
    rendition is made on the first request after the disk takes files again."""
    AbstractImage.create_rendition = _in_a_savepoint(AbstractImage.create_rendition)
    AbstractImage.create_renditions = _in_a_savepoint(AbstractImage.create_renditions)
    AbstractImage.get_renditions = _or_the_original(AbstractImage.get_renditions)


def _marked_as_read_from_the_cache(setstate):
    @functools.wraps(setstate)
    def wrapper(rendition, state):
        setstate(rendition, state)
        rendition._from_cache = True

    return wrapper


def _one_of_the_renditions(image, filter):
    """Image.get_rendition by way of get_renditions, which falls back to the
    original (above) and writes to the cache only renditions not marked
    `_from_cache`."""
    if not isinstance(filter, Filter | str):
        raise InvalidFilterSpecError(
            "Unrecognised filter format - string or Filter instance expected"
        )
    return next(iter(image.get_renditions(filter).values()))


@functools.lru_cache(maxsize=512)
def shared_filter(spec):
    """The one Filter for ``spec`` in this process. A Filter holds nothing but
    its spec and the operations parsed from it, so every picture can share it."""
    return Filter(spec=spec)


def _shared_filter(node):
    return shared_filter("|".join(node.filter_specs))


def _shared_filters(node):
    return [shared_filter(spec) for spec in Filter.expand_spec(node.filter_specs)]


def share_image_filters():
    """Wagtail's image tags make a new Filter, and parse its operations anew
    (inspect.getcallargs for each), every time a picture is drawn: twelve
    operations for a card's `{% picture %}` of three formats in two sizes,
    about a sixth of rendering a talk card. Share one Filter per spec instead."""
    ImageNode.get_filter = _shared_filter
    SrcsetImageNode.get_filters = _shared_filters


def label_site_columns():
    """Wagtail's site listing heads three columns with the attribute's name in
    English ("Site name", "Root page", "Port") rather than the field's verbose
    name: give them the fields' (translated) names."""
    from wagtail.models import Site
    from wagtail.sites.views import IndexView

    for column in IndexView.columns:
        if column.name in SITE_COLUMNS:
            column.label = capfirst(Site._meta.get_field(column.name).verbose_name)


# --- Routing from the look-ups cache ------------------------------------------


def find_site(request):
    """Wagtail's site for a request, looked up afresh (Site.find_for_request
    would answer from the request)."""
    from wagtail.models import Site

    return Site._find_for_request(request)


def site_key(request):
    """What the site for a request depends on: the raw host (ALLOWED_HOSTS is
    checked later, as Wagtail does) and the port."""
    return request._get_raw_host(), request.get_port()


def remember_site(request, site):
    """Make Site.find_for_request(request) answer ``site`` without a query."""
    request._wagtail_site = site


def remember_site_root_paths(request, paths):
    """Make page URLs built for ``request`` use ``paths`` (Site.get_site_root_paths)
    rather than read them from the cache themselves."""
    request._wagtail_cached_site_root_paths = paths


def current_site(request):
    """The site Site.find_for_request has answered for this request, if any."""
    return getattr(request, "_wagtail_site", None)


def remember_parent(page, parent):
    """Make page.get_parent() answer ``parent`` without a query (treebeard's cache)."""
    page._cached_parent_obj = parent


def read_queryset(queryset, objects):
    """``queryset`` as if it had been read and found ``objects``: iterating it
    asks nothing, narrowing it asks anew."""
    queryset._result_cache = list(objects)
    return queryset


def flatten_translations():
    """Answer each configured language's gettext from one dictionary. Django
    keeps a catalog per app and, under them, a chain of the apps' `zh` catalogs,
    and walks all of them for every string none holds, which is every Chinese
    string written in this project's own code: 12 µs a call against 3 µs, about
    0.8 ms of a booking page's 88 calls. The dictionary holds Django's own answer
    for every string any catalog knows, so what users read cannot change; a
    string no catalog knows is answered as Django would, by what lies past the
    catalogs (nothing, for the site's own language). ngettext skips the walk
    the same way for messages no catalog has plural forms of (every
    `{% blocktranslate count %}` of our own: a booking page has ten)."""
    from django.conf import settings
    from django.utils.translation import trans_real

    for code, _name in settings.LANGUAGES:
        translation = trans_real.translation(code)
        messages, plurals, rest = set(), set(), translation
        while isinstance(rest, gettext.GNUTranslations):
            catalog = rest._catalog
            for part in getattr(catalog, "_catalogs", [catalog]):
                messages.update(key if isinstance(key, str) else key[0] for key in part)
                plurals.update(key[0] for key in part if not isinstance(key, str))
            rest = rest._fallback
        answers = {message: translation.gettext(message) for message in messages}
        translation.gettext = functools.partial(_answer, answers, rest)
        translation.ngettext = functools.partial(
            _answer_plural, plurals, translation.ngettext, rest
        )


def _answer(answers, rest, message):
    try:
        return answers[message]
    except KeyError:
        return rest.gettext(message) if rest else message


def _answer_plural(plurals, ngettext, rest, singular, plural, number):
    """ngettext, asking the catalogs only for a message one of them knows; the
    others get what Django answers once every catalog has missed."""
    if singular in plurals:
        return ngettext(singular, plural, number)
    if rest:
        return rest.ngettext(singular, plural, number)
    return singular if number == 1 else plural


def write_back_only_new_renditions():
    """Wagtail writes every rendition it has found back to the renditions cache,
    including one it has just read from there: a pickled rendition and a Redis
    round trip on every render of a page with an `{% image %}` (the share image
    of an article, talk or campaign), about an eighth of rendering one.
    get_renditions skips renditions marked `_from_cache`, but marks only
    prefetched ones: mark every rendition unpickled (which is how one comes out
    of a cache), and send get_rendition, which writes whatever it found, the
    same way. A rendition now stays in the cache for the cache's TIMEOUT from
    when it was written, not from when it was last drawn; then one query finds
    it again."""
    AbstractRendition.__setstate__ = _marked_as_read_from_the_cache(AbstractRendition.__setstate__)
    AbstractImage.get_rendition = _one_of_the_renditions


def apply():
    flatten_translations()
    neutralise_csv_exports()
    renditions_fall_back_to_the_original()
    write_back_only_new_renditions()
    share_image_filters()
    label_site_columns()
