import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")

application = get_wsgi_application()

# Each worker loads the segmentation dictionary as it starts, not on the first
# search after a start or a worker restart.
from portal.core import segmentation  # noqa: E402

segmentation.load_dictionary()
