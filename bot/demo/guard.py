"""Which requests the demo page's server takes: its own Host, its own Origin, JSON bodies.

Pure rules, applied by the emulator to every route before its handler runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = ["LOOPBACK", "page_hosts", "refusal"]

LOOPBACK: Final = "127.0.0.1"
LOCAL_NAMES: Final = (LOOPBACK, "localhost")
JSON: Final = "application/json"
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})


def page_hosts(bound: str, port: int) -> frozenset[str]:
    """The Host headers that name the page served on `bound`:`port`: that address, 127.0.0.1 or
    localhost, at `port` (and bare at port 80, where browsers leave the port out).

    Bound to 0.0.0.0, the page still answers to these names only, not to a LAN address or name
    it could be reached by: bind to that address (`--host`) to open the page from elsewhere.
    """
    hosts = set()
    for name in {*LOCAL_NAMES, bound}:
        host = f"[{name}]" if ":" in name else name  # an IPv6 address, as a URL writes it
        hosts.add(f"{host}:{port}".lower())
        if port == 80:
            hosts.add(host.lower())
    return frozenset(hosts)


def refusal(
    method: str, headers: Mapping[str, str], *, hosts: frozenset[str], json_body: bool
) -> tuple[int, str] | None:
    """Why the page's server must refuse a request (HTTP status, error code), or None.

    A page of another site open in the same browser can send the demo "simple requests" (a form
    post, or `fetch` with text/plain) without any CORS preflight, and by DNS rebinding can even
    make its own name resolve to 127.0.0.1, so that its requests are same-origin to the browser.
    Hence, in this order:

    - `Host` must be one of `hosts` (403 `foreign_host`), for every method: a rebound name
      arrives with its own Host, so GETs that return data are refused too.
    - For a method that changes state, `Origin`, when sent, must be `http://<Host>`, the
      page's own origin (403 `foreign_origin`). It is compared with Host only once Host is
      known to be ours: an attacker who rebinds a name controls Host and Origin alike.
    - Without `Origin`: browsers send it on every cross-origin POST, so its absence means a
      same-origin request of an older browser or no browser at all (the bot, curl, tests),
      which can reach loopback anyway. Such a request is taken only if `Sec-Fetch-Site` is
      absent or `same-origin` (403 `cross_site_request` otherwise): fetch metadata that says
      otherwise is a browser telling us the request came from elsewhere.
    - With `json_body`, the body must be declared `application/json` (415
      `unsupported_media_type`): no browser sends that cross-origin without a preflight, which
      the demo never grants.
    """
    host = headers.get("host", "").lower()
    if host not in hosts:
        return 403, "foreign_host"
    if method.upper() in SAFE_METHODS:
        return None
    origin = headers.get("origin")
    if origin is not None and origin.lower() != f"http://{host}":
        return 403, "foreign_origin"
    if origin is None and headers.get("sec-fetch-site", "same-origin") != "same-origin":
        return 403, "cross_site_request"
    media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    if json_body and media_type != JSON:
        return 415, "unsupported_media_type"
    return None
