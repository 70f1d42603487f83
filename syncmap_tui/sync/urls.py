"""Where Twilio Sync is, and which hosts are this machine. No httpx here: the app reads its
config before the first frame and opens the client later, in a worker."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

TWILIO_SYNC_URL = "https://sync.twilio.com"


def is_loopback_host(host: str | None) -> bool:
    """A literal loopback address (127.0.0.0/8, ::1) or `localhost` itself. Not `*.localhost`:
    RFC 6761 asks resolvers to answer loopback for it, but many send it to DNS, and a plain-HTTP
    URL that a DNS answer could send elsewhere would carry the credentials in clear."""
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    try:
        return is_loopback_host(urlsplit(url).hostname)
    except ValueError:
        return False
