"""Readable page addresses (缩略名) from Chinese titles.

An editor writes a title such as “关于开展2026年度心理健康宣传月活动的通知” and
never types a Latin slug: the slug becomes its pinyin, shortened to a length an
address can bear (guanyu-kaizhan-2026-niandu-xinli-jiankang-...). A slug that a
parent page's own routes would answer (a news index's year archive takes
/news/2026/) is refused, as is one a sibling holds."""

from django.http import Http404
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from pypinyin import Style, lazy_pinyin
from wagtail.admin.forms import WagtailAdminPageForm

MAX_LENGTH = 60

TAKEN = _("缩略名“%(slug)s”已被同一栏目下的另一个页面使用,请换一个(例如在末尾加上日期)。")
ROUTED = _(
    "缩略名“%(slug)s”与栏目“%(parent)s”自身的网址冲突(例如按年份归档的 /2026/),"
    "页面会打不开。请换一个,例如在前面加上文字。"
)
NO_LETTERS = _("无法从标题生成缩略名,请在“推广”标签页填写,只能用英文字母、数字和连字符。")


def pinyin_slug(title, max_length=MAX_LENGTH):
    """The title in pinyin (other letters and digits kept), as a slug."""
    words = lazy_pinyin(title or "", style=Style.NORMAL, errors="default")
    slug = slugify("-".join(words))
    if len(slug) > max_length:
        slug = slug[:max_length].rsplit("-", 1)[0] or slug[:max_length]
    return slug.strip("-")


def has_han(text):
    return any("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in text)


def routed_by(parent, slug):
    """Whether `parent`'s own routes (RoutablePageMixin) answer /slug/ with a
    view other than the page itself."""
    resolve = getattr(parent, "resolve_subpage", None)
    if resolve is None:
        return False
    try:
        view, _args, _kwargs = resolve(f"/{slug}/")
    except Http404:
        return False
    index_view, _args, _kwargs = resolve("/")
    return view != index_view


def taken(parent, slug, page):
    siblings = parent.get_children().filter(slug=slug)
    if page.pk:
        siblings = siblings.exclude(pk=page.pk)
    return siblings.exists()


class PortalPageForm(WagtailAdminPageForm):
    """Every public page type's admin form: the slug may be left empty (the
    admin's script leaves it empty for a Chinese title) and is made from the
    title; every slug is checked against the parent's routes and siblings,
    with the reason in Chinese."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "slug" in self.fields:
            self.fields["slug"].required = False

    def clean(self):
        cleaned = super().clean()
        parent = self.parent_page.specific if self.parent_page else None
        title = cleaned.get("title") or ""
        slug = cleaned.get("slug")
        typed = (self.data.get(self.add_prefix("slug")) or "").strip()
        from_script = typed and not self.instance.pk and typed == slugify(title)
        if from_script and (
            has_han(title)
            or (parent is not None and routed_by(parent, typed))
            or "slug" in self.errors
        ):
            # The admin's script made it from the title: of a Chinese title only
            # the Latin letters and digits ("2026年度…" becomes "2026"), or an
            # address a sibling or the parent's routes hold. Made afresh.
            slug = None
        elif typed and parent is not None and taken(parent, typed, self.instance):
            self.errors["slug"] = self.error_class([TAKEN % {"slug": typed}])
            return cleaned
        if not slug:
            slug = self.free_slug(parent, pinyin_slug(title))
            if not slug:
                self.add_error("slug", NO_LETTERS)
                return cleaned
            cleaned["slug"] = slug
            self.instance.slug = slug
            self.errors.pop("slug", None)
        if slug and parent is not None and routed_by(parent, slug):
            self.add_error("slug", ROUTED % {"slug": slug, "parent": parent.title})
        return cleaned

    def free_slug(self, parent, base):
        """`base`, or base-2, base-3 … whichever no sibling holds and the parent
        does not route."""
        if not base or parent is None:
            return base
        candidate, number = base, 1
        while taken(parent, candidate, self.instance) or routed_by(parent, candidate):
            number += 1
            candidate = f"{base}-{number}"
        return candidate
