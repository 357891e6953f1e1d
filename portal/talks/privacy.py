"""Keeping staff talks and their files from the public. A talk for grid workers
is closed with Wagtail's page privacy, and its captions, recording and poster
move into a collection only grid workers may view, so their own download
links are closed too."""

import os
import re
import secrets

from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from wagtail.models import Collection, CollectionViewRestriction, PageViewRestriction

from portal.core.groups import GRID_WORKERS

# The collection holding staff talks' captions and recordings. Its view
# restriction keeps the documents' own download links (/documents/...) from
# anyone outside the grid workers' group.
STAFF_COLLECTION = "网格员讲座资料"
# Marks the file name of an image moved there: a random name follows.
STAFF_FILE_PREFIX = "staff-"
HIDDEN_FILE_NAME = re.compile(rf"{STAFF_FILE_PREFIX}[0-9a-f]{{32}}\.\w+")


def restrict_to_staff(talk_page):
    """Limit a talk to logged-in members of the grid workers' group (网格员)
    using Wagtail's page privacy, and move its captions, recording and poster
    into the staff-only collection so their direct links are closed too (the
    poster, which Wagtail's image URLs cannot close, gets a file name nobody can
    guess). Running it again changes nothing."""
    group, _created = Group.objects.get_or_create(name=GRID_WORKERS)
    restriction = PageViewRestriction.objects.filter(
        page=talk_page, restriction_type=PageViewRestriction.GROUPS
    ).first()
    if restriction is None:
        restriction = PageViewRestriction.objects.create(
            page=talk_page, restriction_type=PageViewRestriction.GROUPS
        )
    restriction.groups.add(group)
    collection = staff_collection()
    for item in (talk_page.captions, talk_page.media, talk_page.poster):
        if item is not None and item.collection_id != collection.pk:
            item.collection = collection
            item.save(update_fields=["collection"])
    if talk_page.poster is not None:
        hide_image_file(talk_page.poster)
    return restriction


def hide_image_file(image):
    """Give a staff-only image a file name nobody can guess, as its original and
    its renditions are served by their file address (nginx serves /media/images
    and /media/original_images to anyone who has the address). Renditions made
    under the old name are deleted with their files; new ones take the new name."""
    if HIDDEN_FILE_NAME.fullmatch(os.path.basename(image.file.name)):
        return
    extension = os.path.splitext(image.file.name)[1].lower()
    old_name = image.file.name
    with image.file.open("rb") as original:
        content = original.read()
    size = image.width, image.height  # saving the file field resets them
    image.file.save(
        f"{STAFF_FILE_PREFIX}{secrets.token_hex(16)}{extension}", ContentFile(content), save=False
    )
    image.width, image.height = size
    image.save(update_fields=["file"])
    image.file.storage.delete(old_name)
    for rendition in image.renditions.all():
        # Wagtail deletes a rendition's file once the transaction commits; the
        # old name must be gone from the disk whatever happens after.
        rendition.file.storage.delete(rendition.file.name)
        rendition.delete()


def in_staff_collection(item):
    """Whether an image, document or recording sits in a collection with view
    restrictions (the staff-only collection or anything like it)."""
    return item is not None and item.collection.get_view_restrictions().exists()


def staff_collection():
    """The collection for staff talks' files, viewable by grid workers only."""
    group, _created = Group.objects.get_or_create(name=GRID_WORKERS)
    root = Collection.get_first_root_node()
    collection = root.get_children().filter(name=STAFF_COLLECTION).first()
    if collection is None:
        collection = root.add_child(name=STAFF_COLLECTION)
    restriction = CollectionViewRestriction.objects.filter(
        collection=collection, restriction_type=CollectionViewRestriction.GROUPS
    ).first()
    if restriction is None:
        restriction = CollectionViewRestriction.objects.create(
            collection=collection, restriction_type=CollectionViewRestriction.GROUPS
        )
    restriction.groups.add(group)
    return collection
