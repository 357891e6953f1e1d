"""The demo content lives in the top-level demo/ package: seed_demo loads it from
the source tree, while production neither imports nor installs it."""

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import setuptools
from django.core.management import CommandError, call_command

from tests.portal.test_security import production_environment

ROOT = Path(__file__).resolve().parents[2]

# Imports what a production process can load: the settings, the URLconf with
# every app's views and hooks, the WSGI application, then every other module of
# the portal and the booking module except the command that seeds the demo.
PROBE = """
import importlib, json, pkgutil, sys
import django
django.setup()
import portal.urls, portal.wsgi
for package in ("portal", "counseling"):
    root = importlib.import_module(package)
    for module in pkgutil.walk_packages(root.__path__, package + "."):
        if module.name.startswith("portal.settings."):
            continue
        if module.name != "portal.core.management.commands.seed_demo":
            importlib.import_module(module.name)
loaded = sorted(name for name in sys.modules if name.split(".")[0] == "demo")
import demo.assets
print(json.dumps(loaded))
"""


def test_production_code_never_imports_the_demo_package():
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=production_environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    # The probe ends by importing the package itself from the source tree, so it
    # was there to be found: an empty list means that no module reached for it.
    assert json.loads(result.stdout.splitlines()[-1]) == []


def test_the_demo_package_is_not_installed_with_the_portal():
    find = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages = setuptools.find_packages(where=ROOT, include=find["packages"]["find"]["include"])
    assert {"portal", "counseling"} <= set(packages)
    assert [name for name in packages if name.split(".")[0] == "demo"] == []


def test_seed_demo_says_plainly_when_the_demo_package_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "demo", None)
    with pytest.raises(CommandError, match="demo/"):
        call_command("seed_demo", "--no-admin")
