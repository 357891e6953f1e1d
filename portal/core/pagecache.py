"""Full-page caching of anonymous visitors' pages.

A page is stored only when nothing about it is personal: the visitor carries no
session cookie (so is not logged in and has unlocked nothing), and the response
sets no cookie (Django sets the CSRF cookie whenever a page carries a form token,
and messages set theirs) and is not marked private or no-store (booking and
manage pages are). Admin, previews and the elder mode switch are never looked at.

Nor is a page whose template used the Content-Security-Policy nonce: a nonce is
good for one response only. Public pages need none (portal/core/security.py),
and the CSP middleware sits outside this one, so every response, stored or
fresh, gets its header when it is sent.

Every stored page holds the site-wide generation number it was made under.
Publishing, unpublishing, moving or deleting a page, or saving or deleting
anything else but what NOT_SHOWN_ON_PAGES lists (drafts, staff accounts, logs),
moves the generation on, so every process (they share the cache in production)
stops using old copies at once. Fragments, cards and look-ups are keyed by the
same generation, which a request reads once, however many keys it builds from
it, in the same round trip as the stored page.
"""

import contextvars
import hashlib
import pickle
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.utils.cache import patch_cache_control

GENERATION_KEY = "pagecache:generation"
# Booking pages mark themselves never_cache: they show free times.
NEVER_CACHED_PREFIXES = (
    "/admin/",
    "/zhangbei/",
    "/_util/",
    "/django-admin/",
)
# text/xml is the Open311 API's XML (portal.service_requests.open311).
CACHEABLE_TYPES = ("text/html", "application/rss+xml", "application/xml", "text/xml", "text/plain")
# The query parameters public pages read: search (q), listings (page, tag,
# category; 回应公开 also district and month), the XML sitemap's pages (p) and
# the Open311 API's filters and partner key (an answer to a key is never kept,
# but must not come from the public copy either). Only these make one cached
# copy differ from another.
READ_PARAMETERS = (
    "q",
    "page",
    "tag",
    "category",
    "district",
    "month",
    "p",
    "service_code",
    "status",
    "start_date",
    "end_date",
    "service_request_id",
    "api_key",
)


def page_cache():
    return caches[settings.PAGE_CACHE_ALIAS]


def timeout():
    return settings.PAGE_CACHE_SECONDS


class _RequestReads:
    """What one request reads from the cache under the content generation.

    The generation, the stored copy of the page and the keys the last render
    of the same address read (fragments, cards, look-ups) come in one
    ``get_many`` before the view runs: one round trip to Redis costs about as
    much CPU as a fragment saves, and a page served from the cache needs no
    other. The values of those keys come in a second ``get_many`` when the page
    has to be drawn. What the render keeps, and the keys it read for the next
    render of the address, are written in one ``set_many`` once it is done:
    the first render after a publish keeps some 25 values. The stored page and
    the list of keys hold the generation they were made under and count only
    while it is current, so a publish needs no key of theirs to change."""

    def __init__(self):
        self.value = None  # the generation, once read
        self.started = None  # the generation when the request started: what it keeps is of it
        self.address = None  # the key of the keys this address reads
        self.known = []  # the keys the last render of this address read
        self.ahead = {}  # key → value, read ahead
        self.read = []  # keys read, in order
        self.kept = {}  # key → value kept by this render, not yet written

    def start(self, address, page_key=None, visitor="anonymous"):
        """Read the generation, the keys the last render of ``address`` for the
        same kind of ``visitor`` read and (given ``page_key``) the stored page,
        in one round trip; the page, if it is current. Signed-in staff see more
        than anonymous visitors (the staff talks), so each kind keeps its list."""
        self.address = f"reads:{visitor}:{address}"
        keys = [GENERATION_KEY, self.address] + ([page_key] if page_key else [])
        found = page_cache().get_many(keys)
        self.value = self.started = found.get(GENERATION_KEY) or _read_generation()
        made_under, known = found.get(self.address) or (None, [])
        self.known = known if made_under == self.value else []
        made_under, page = found.get(page_key) or (None, None)
        return page if made_under == self.value else None

    def read_ahead(self):
        if self.known:
            self.ahead = page_cache().get_many(self.known)

    def remember(self):
        """Keep the keys this render read for the next render of this address:
        only those, so what a kept fragment was drawn from is not read ahead
        (and unpickled) for nothing once the fragment is kept."""
        read = list(dict.fromkeys(self.read))
        if self.address and read and read != self.known:
            self.kept[self.address] = (self.started, read)

    def write(self):
        if self.kept:
            page_cache().set_many(self.kept, timeout())
            self.kept = {}


_request_reads = contextvars.ContextVar("content_reads", default=None)


def generation():
    """The current content generation. A request reads it from the shared cache
    once, whatever the number of keys built from it; outside a request (a
    command, a task) every call reads it."""
    seen = _request_reads.get()
    if seen is not None and seen.value is not None:
        return seen.value
    value = _read_generation()
    if seen is not None:
        seen.value = value
    return value


def kept(key, default=None):
    """The value kept under ``key`` (built from the generation), or ``default``."""
    reads = _request_reads.get()
    if reads is None:
        return page_cache().get(key, default)
    reads.read.append(key)
    if key in reads.kept:
        return _as_now(reads.kept[key])
    if key in reads.ahead:
        return reads.ahead[key]
    return page_cache().get(key, default)


def kept_many(keys):
    """The values kept under any of ``keys``, by key."""
    keys = list(keys)
    reads = _request_reads.get()
    if reads is None:
        return page_cache().get_many(keys)
    reads.read.extend(keys)
    found = {key: reads.ahead[key] for key in keys if key in reads.ahead}
    found.update((key, _as_now(reads.kept[key])) for key in keys if key in reads.kept)
    if len(found) < len(keys):
        found.update(page_cache().get_many([key for key in keys if key not in found]))
    return found


def keep(key, value):
    """Keep ``value`` under ``key``: at the end of the request, if in one."""
    keep_many({key: value})


def forget(key):
    reads = _request_reads.get()
    if reads is not None:
        reads.kept.pop(key, None)
        reads.ahead.pop(key, None)
    page_cache().delete(key)


def keep_many(values):
    reads = _request_reads.get()
    if reads is None:
        page_cache().set_many(values, timeout())
    else:
        # Written after the render, which may change an object it was handed
        # back: keep a copy as it is now, as an immediate write would have.
        reads.kept.update((key, _as_now(value)) for key, value in values.items())


def _as_now(value):
    if isinstance(value, (str, bytes, int, float, bool, type(None))):
        return value
    return pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))


def _read_generation():
    cache = page_cache()
    value = cache.get(GENERATION_KEY)
    if value is None:
        cache.add(GENERATION_KEY, 1, None)
        value = cache.get(GENERATION_KEY, 1)
    return value


def invalidate(**_kwargs):
    """Drop every cached page, in every process sharing the cache: now, and again
    once the change is committed, since a page another request renders from the
    old data before the commit would otherwise be stored under the new generation."""
    _next_generation()
    transaction.on_commit(_next_generation)


def _next_generation():
    cache = page_cache()
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 2, None)
    # The request that changed content reads the new generation afresh.
    seen = _request_reads.get()
    if seen is not None:
        seen.value = None
        seen.ahead = {}


def _address(request):
    """The page's address with only the parameters pages read, in one order: a
    link with ?utm_source=… or ?page=2&tag=x vs ?tag=x&page=2 finds the same copy."""
    read = urlencode(
        [(name, request.GET.getlist(name)) for name in READ_PARAMETERS if name in request.GET],
        doseq=True,
    )
    address = f"{request.scheme}://{request.get_host()}{request.path}?{read}"
    return hashlib.sha256(address.encode()).hexdigest()


def _reads_every_parameter(request):
    """Whether the address holds only parameters pages read, once each. A page is
    stored only then: junk in a query string (a flood of ?x=1, ?x=2, …) never
    fills the cache, and no stored copy repeats a stranger's junk in its links."""
    return all(
        name in READ_PARAMETERS and len(request.GET.getlist(name)) == 1 for name in request.GET
    )


def _may_use_cache(request):
    return (
        settings.PAGE_CACHE_ENABLED
        and request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and not request.path.startswith(NEVER_CACHED_PREFIXES)
    )


def _rendered_with_nonce(request):
    # django-csp's lazy request.csp_nonce is truthy once a template has read it.
    return bool(getattr(request, "csp_nonce", None))


def _may_store(request, response):
    cache_control = response.get("Cache-Control", "").lower()
    return (
        response.status_code == 200
        and not _rendered_with_nonce(request)
        and not response.streaming
        and not response.cookies
        and not any(word in cache_control for word in ("private", "no-store", "no-cache"))
        and response.get("Content-Type", "").split(";")[0] in CACHEABLE_TYPES
    )


class AnonymousPageCacheMiddleware:
    """Serve anonymous pages from the cache and store them. Every request under
    it, cached or not, reads the content generation at most once."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        reads = _RequestReads()
        token = _request_reads.set(reads)
        try:
            response = self._respond(request, reads)
            # Addresses that exist only: a flood of made-up paths keeps nothing.
            if response.status_code == 200:
                reads.remember()
            reads.write()
            return response
        finally:
            _request_reads.reset(token)

    def _respond(self, request, reads):
        if not _may_use_cache(request):
            if request.method in ("GET", "HEAD") and not request.path.startswith(
                NEVER_CACHED_PREFIXES
            ):
                visitor = (
                    "session" if settings.SESSION_COOKIE_NAME in request.COOKIES else "anonymous"
                )
                reads.start(_address(request), visitor=visitor)
                reads.read_ahead()
            return self.get_response(request)
        address = _address(request)
        key = f"page:{address}"
        cached = reads.start(address, key)
        if cached is not None:
            cached["X-Page-Cache"] = "hit"
            return cached
        reads.read_ahead()
        response = self.get_response(request)
        if _may_store(request, response) and _reads_every_parameter(request):
            patch_cache_control(response, public=True, max_age=60)
            response["X-Page-Cache"] = "miss"
            reads.kept[key] = (reads.started, response)
        return response


# Saving or deleting anything changes what public pages may show, except what
# is listed here or declares ``shown_on_pages = False`` on its model class: a
# model a new section adds moves the generation on without being named.
NOT_SHOWN_ON_PAGES = {
    # Written while pages are viewed: made from content, not content.
    "wagtailimages.rendition",
    "wagtailembeds.embed",
    # Drafts, their history and the review workflow: nothing public until published.
    "wagtailcore.revision",
    "wagtailcore.pagelogentry",
    "wagtailcore.modellogentry",
    "wagtailcore.referenceindex",
    "wagtailcore.comment",
    "wagtailcore.commentreply",
    "wagtailcore.pagesubscription",
    "wagtailcore.workflow",
    "wagtailcore.workflowpage",
    "wagtailcore.workflowcontenttype",
    "wagtailcore.workflowtask",
    "wagtailcore.workflowstate",
    "wagtailcore.task",
    "wagtailcore.taskstate",
    "wagtailcore.groupapprovaltask",
    "wagtailcore.uploadedfile",
    "wagtailadmin.admin",
    "wagtailadmin.editingsession",
    "wagtailadmin.formstate",
    "wagtailsearch.indexentry",
    "wagtailsearch.sqliteftsindexentry",
    "wagtailforms.formsubmission",
    # Staff accounts, their permissions and sign-ins: no page shows a user.
    "auth.user",
    "auth.group",
    "auth.permission",
    "wagtailusers.userprofile",
    "wagtailcore.apitoken",
    "wagtailcore.grouppagepermission",
    "wagtailcore.groupsitepermission",
    "wagtailcore.groupcollectionpermission",
    "otp_totp.totpdevice",
    "axes.accessattempt",
    "axes.accessattemptexpiration",
    "axes.accessfailurelog",
    "axes.accesslog",
    "sessions.session",
    "admin.logentry",
    "contenttypes.contenttype",
    # The task queue.
    "django_tasks_database.dbtaskresult",
}


def shown_on_pages(model):
    """Whether saving or deleting a ``model`` object may change a public page."""
    return model._meta.label_lower not in NOT_SHOWN_ON_PAGES and getattr(
        model, "shown_on_pages", True
    )


def content_saved(sender, **kwargs):
    from wagtail.models import Page

    # Pages count when published, unpublished or moved, not on every draft save.
    if shown_on_pages(sender) and not issubclass(sender, Page):
        invalidate()


def content_deleted(sender, **kwargs):
    from wagtail.models import Page

    if shown_on_pages(sender) or issubclass(sender, Page):
        invalidate()


def connect_signals():
    from django.db.models.signals import post_delete, post_save
    from wagtail.signals import page_published, page_unpublished, post_page_move

    post_save.connect(content_saved, dispatch_uid="pagecache-saved")
    post_delete.connect(content_deleted, dispatch_uid="pagecache-deleted")
    for signal in (page_published, page_unpublished, post_page_move):
        signal.connect(invalidate, dispatch_uid=f"pagecache-{id(signal)}")
