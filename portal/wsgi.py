import os

from django.core.wsgi import get_wsgi_application

from portal.core import segmentation

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")

application = get_wsgi_application()

# Each worker loads the segmentation dictionary as it starts, not on the first
# search after a start or a worker restart.
segmentation.load_dictionary()
