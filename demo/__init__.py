"""Demo content for `manage.py seed_demo`.

The words and numbers live in per-section data files (content/*.json); the
pictures, documents and recordings are drawn or read by one shared asset drawer
(assets.py); a loader per section (home, organisation, service requests, rooms,
news, talks, campaigns) builds the content through the real models, as an
editor or a resident would.

Production code never imports this package, and it is not installed with the
portal (pyproject.toml's package list leaves it out): it is found only when a
command runs from the source tree, as `make run` and the tests do.
"""

import json
from pathlib import Path

CONTENT = Path(__file__).resolve().parent / "content"


def content(section):
    """One section's data file as plain Python values."""
    return json.loads((CONTENT / f"{section}.json").read_text(encoding="utf-8"))
