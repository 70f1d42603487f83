"""Where Twilio Sync is, and which hosts are this machine. No httpx here: the app reads its
config before the first frame and opens the client later, in a worker."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

TWILIO_SYNC_URL = "https://sync.twilio.com"


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
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
