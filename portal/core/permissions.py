"""Permission names in Chinese, as Wagtail's group screens show them.

Django writes a permission's name once, when it creates the permission: in
English ("Can add news category"), or as the bare codename for those our own
migrations create ahead of it. After each migrate every permission of an
installed model is named in Chinese: the four standard ones from the model's
verbose name, the ones a model declares (Wagtail's "Can access Wagtail admin",
"Publish any page", …) by their translation."""

from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

STANDARD = {
    "add": gettext_noop("可以添加%(model)s"),
    "change": gettext_noop("可以修改%(model)s"),
    "delete": gettext_noop("可以删除%(model)s"),
    "view": gettext_noop("可以查看%(model)s"),
}


def chinese_name(model, codename):
    """The name of `model`'s permission `codename` in the site's language, or
    None for a codename the model does not declare."""
    action, _, model_name = codename.partition("_")
    if action in STANDARD and model_name == model._meta.model_name:
        return gettext(STANDARD[action]) % {"model": model._meta.verbose_name}
    declared = dict(model._meta.permissions).get(codename)
    return gettext(str(declared)) if declared else None


def name_permissions(app_config, using="default", apps=None, **kwargs):
    """post_migrate: name the permissions of `app_config`'s models in Chinese,
    after making sure Django has created them."""
    if not app_config.models_module:
        return
    create_permissions(app_config, verbosity=0, using=using, **({"apps": apps} if apps else {}))
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    with translation.override(settings.LANGUAGE_CODE):
        for model in app_config.get_models():
            content_type = ContentType.objects.db_manager(using).get_for_model(
                model, for_concrete_model=False
            )
            for permission in Permission.objects.using(using).filter(content_type=content_type):
                name = chinese_name(model, permission.codename)
                if name and name != permission.name:
                    permission.name = name[: Permission._meta.get_field("name").max_length]
                    permission.save(update_fields=["name"], using=using)
