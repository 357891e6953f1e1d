"""What the home page reads to route a request: the page a path leads to, with
every page on the path read in one query, loaded for serving with what its
template shows and its view restrictions. HomePage.route keeps the answer per
content generation."""

from django.http import Http404
from wagtail.contrib.routable_page.models import RoutablePageMixin
from wagtail.models import Page

from portal.core.wagtail_compat import remember_parent


def page_on_path(home, path_components):
    """The page a path leads to, loaded for serving, and how many of the
    components it took; None when the path leaves the home page at once."""
    prefixes = [home.url_path]
    for component in path_components:
        prefixes.append(f"{prefixes[-1]}{component}/")
    on_path = {page.url_path: page for page in Page.objects.filter(url_path__in=prefixes[1:])}
    parent, reached, depth = None, home, 0
    while depth < len(path_components):
        if reached is not home and _has_own_route(reached, path_components[depth:]):
            break
        child = on_path.get(prefixes[depth + 1])
        if child is None:
            break
        parent, reached, depth = reached, child, depth + 1
    if reached is home:
        return None
    page = _load_for_serving(reached)
    remember_parent(page, parent)
    # Wagtail checks them before serving; kept with the page (see BasePage).
    page.served_restrictions = list(page.get_view_restrictions())
    return page, depth


def _has_own_route(page, components):
    """Whether a live routable page answers ``components`` itself."""
    model = page.specific_class
    if not page.live or model is None or not issubclass(model, RoutablePageMixin):
        return False
    try:
        model.get_resolver().resolve("/" + "".join(f"{part}/" for part in components))
    except Http404:
        return False
    return True


def _load_for_serving(page):
    model = page.specific_class or type(page)
    return model.objects.select_related(*getattr(model, "shown_relations", ())).get(pk=page.pk)
