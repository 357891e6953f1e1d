"""Uploaded files on the local disk, and what happens when the disk says no."""

import errno
import logging
import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage

logger = logging.getLogger(__name__)

# The disk is full (or the quota spent), mounted read-only, or not writable by
# the site: the file cannot be stored, whatever is tried again in this request.
DISK_REFUSED = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


def disk_refused(error):
    return isinstance(error, OSError) and error.errno in DISK_REFUSED


class MediaStorage(FileSystemStorage):
    """Django's file system storage, except that a file it could not write
    completely (a disk that filled up half-way) is removed, not left behind as
    a truncated file under a name the database never records."""

    def _save(self, name, content):
        existed = os.path.lexists(self.path(name))
        try:
            return super()._save(name, content)
        except OSError as error:
            if disk_refused(error) and not existed:
                self._remove_partial(name)
            raise

    def _remove_partial(self, name):
        path = self.path(name)
        try:
            os.remove(path)
        except FileNotFoundError:
            return
        except OSError as error:  # a read-only disk holds nothing partial either
            logger.warning("Partial upload %s could not be removed: %s", name, error)


class PrivateStorage(MediaStorage):
    """Files no web server may serve (PRIVATE_MEDIA_ROOT): the site hands each
    one only to those allowed to see it."""

    @property
    def base_location(self):
        return str(settings.PRIVATE_MEDIA_ROOT)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise ValueError("Private files have no public address.")


def private_storage():
    return PrivateStorage()
