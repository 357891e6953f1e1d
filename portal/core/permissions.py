"""Permission names in Chinese, as Wagtail's group screens show them.

Django writes a permission's name once, when it creates the permission: in
English ("Can add news category"), or as the bare codename for those our own
migrations create ahead of it. After each migrate the permissions of models with
a Chinese name are named in Chinese: the four standard ones from the model's
verbose name, the ones a model declares (Wagtail's "Can access Wagtail admin",
"Publish any page", …) by their translation. Models nobody translated (library
internals no screen shows) keep their names rather than get half-English ones."""

import re

from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import router
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

STANDARD = {
    "add": gettext_noop("可以添加%(model)s"),
    "change": gettext_noop("可以修改%(model)s"),
    "delete": gettext_noop("可以删除%(model)s"),
    "view": gettext_noop("可以查看%(model)s"),
}
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def chinese_name(model, codename):
    """The Chinese name of `model`'s permission `codename`, or None when there
    is none to give."""
    action, _, model_name = codename.partition("_")
    if action in STANDARD and model_name == model._meta.model_name:
        verbose_name = str(model._meta.verbose_name)
        if CHINESE.search(verbose_name):
            return gettext(STANDARD[action]) % {"model": verbose_name}
        return None
    declared = dict(model._meta.permissions).get(codename)
    name = gettext(str(declared)) if declared else ""
    return name if CHINESE.search(name) else None


def name_permissions(app_config, using="default", apps=None, **kwargs):
    """post_migrate: name the permissions of `app_config`'s models in Chinese,
    after making sure Django has created them."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    if not app_config.models_module or not router.allow_migrate_model(using, Permission):
        return
    if apps is not None:
        try:  # a migrate that left auth or contenttypes without tables
            apps.get_model("auth", "Permission")
            apps.get_model("contenttypes", "ContentType")
        except LookupError:
            return
        create_permissions(app_config, verbosity=0, using=using, apps=apps)
    models = {
        content_type.pk: model
        for model, content_type in ContentType.objects.db_manager(using)
        .get_for_models(*app_config.get_models(), for_concrete_models=False)
        .items()
    }
    renamed = []
    with translation.override(settings.LANGUAGE_CODE):
        for permission in Permission.objects.using(using).filter(content_type__in=models):
            name = chinese_name(models[permission.content_type_id], permission.codename)
            if name and name != permission.name:
                permission.name = name[: Permission._meta.get_field("name").max_length]
                renamed.append(permission)
    Permission.objects.using(using).bulk_update(renamed, ["name"])
