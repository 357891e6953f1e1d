"""回应公开's answers in /sitemap.xml: each published answer has its own page
under the 回应公开 page, which Wagtail's page sitemap lists on its own."""

from portal.core.sitemaps import ServiceSitemap

from .models import AnswersPage, PublishedAnswer


class AnswersSitemap(ServiceSitemap):
    changefreq = "monthly"

    def items(self):
        page = AnswersPage.objects.live().public().first()
        if page is None:
            return []
        self.prefix = page.get_url_parts()[2]
        return PublishedAnswer.objects.order_by("pk").only("pk", "published_at")

    def location(self, item):
        return f"{self.prefix}{item.pk}/"

    def lastmod(self, item):
        return item.published_at
