"""The key per-visitor limits count by (portal.core.clients)."""

import pytest
from django.test import RequestFactory

from portal.core.clients import client_key, client_network


@pytest.mark.parametrize(
    "address, network",
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::"),
        ("2001:db8:1:2::", "2001:db8:1:2::"),
        ("2001:DB8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::"),
        ("fe80::1%eth0", "fe80::"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("not-an-address", None),
        ("", None),
    ],
)
def test_an_ipv6_client_is_its_64_network(address, network):
    assert client_network(address) == network


def test_the_key_behind_a_trusted_proxy_is_the_reported_visitors_network(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="2001:db8:5:6:7::8")
    assert client_key(request) == "2001:db8:5:6::"
    outside = RequestFactory().get(
        "/", REMOTE_ADDR="2001:db8:9:9::1", HTTP_X_REAL_IP="2001:db8:5:6:7::8"
    )
    assert client_key(outside) == "2001:db8:9:9::"
