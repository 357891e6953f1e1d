"""Who is asking: the visitor's address behind the reverse proxy, and the key that
per-visitor limits count by.

The client address is REMOTE_ADDR, except for connections from a proxy listed in
TRUSTED_PROXIES (production: the nginx in front of gunicorn, which
must send `proxy_set_header X-Real-IP $remote_addr;`), whose X-Real-IP is used.
A header sent by anyone else is ignored, since a client could forge it.

Limits count an IPv6 visitor by its /64 network, not its address: one home or
phone connection is given a whole /64 and can pick any of its 2^64 addresses
for each request."""

import ipaddress

from django.conf import settings

IPV6_CLIENT_PREFIX = 64


def client_address(request):
    """The visitor's address as reported: behind the reverse proxy every connection
    comes from the proxy, so when it does (TRUSTED_PROXIES) the address
    the proxy reports in X-Real-IP counts instead."""
    remote = request.META.get("REMOTE_ADDR") or "unknown"
    trusted = settings.TRUSTED_PROXIES
    if remote in trusted:
        return request.META.get("HTTP_X_REAL_IP", "").strip() or remote
    return remote


def client_network(address):
    """The address limits count by: an IPv4 address itself (also when written as
    IPv4-mapped IPv6), an IPv6 address's /64 network written as its first address
    (2001:db8:1:2::), or None when `address` is not an IP address."""
    try:
        parsed = ipaddress.ip_address(address.strip().split("%")[0])
    except ValueError:
        return None
    if parsed.version == 6:
        if parsed.ipv4_mapped:
            return str(parsed.ipv4_mapped)
        network = ipaddress.IPv6Network((parsed, IPV6_CLIENT_PREFIX), strict=False)
        return str(network.network_address)
    return str(parsed)


def client_key(request):
    """What per-visitor limits count: the visitor's network, or the address text as
    given when it is no IP address at all."""
    address = client_address(request)
    return client_network(address) or address
