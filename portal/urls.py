from django.conf import settings
from django.urls import include, path
from django.views.generic import TemplateView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.contrib.sitemaps.views import sitemap
from wagtail.documents import urls as wagtaildocs_urls

from portal.core.sitemaps import SITEMAPS, site_map
from portal.search import views as search_views
from portal.service_requests.sitemaps import AnswersSitemap

handler500 = "portal.core.outages.server_error"

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("search/", search_views.search, name="search"),
    path("counseling/", include("counseling.urls")),
    path("yuyue/", include("counseling.manage_urls")),
    path("suqiu/", include("portal.service_requests.urls")),
    path("open311/v2/", include("portal.service_requests.open311_urls")),
    path("zhangbei/", include("portal.core.urls")),
    # Wagtail's view passes the request to the sitemap, so page URLs use the
    # site that served the request.
    path(
        "sitemap.xml",
        sitemap,
        {"sitemaps": {**SITEMAPS, "answers": AnswersSitemap}},
        name="sitemap",
    ),
    path("sitemap/", site_map, name="site_map"),
    path(
        "robots.txt",
        TemplateView.as_view(template_name="robots.txt", content_type="text/plain"),
        name="robots",
    ),
]

if settings.DEBUG:
    from portal.core.media import development_urlpatterns

    urlpatterns += development_urlpatterns()

urlpatterns += [path("", include(wagtail_urls))]
