"""Coarse client traits for analytics: country from a truncated address (iptocc, offline data shipped in the
wheel, no download at run time) and browser family / device class from the user agent (ua-parser with its
Rust accelerator ua-parser-rs when installed). Neither input is kept."""

from __future__ import annotations

import functools

import iptocc
import ua_parser

from dreamina.ports.consent import ClientTraits

_TABLET_HINTS = ("ipad", "tablet", "kindle", "silk", "playbook", "nexus 7", "nexus 9", "nexus 10")
_MOBILE_OS = frozenset({"iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS", "Firefox OS"})


def device_class(user_agent: str, device_family: str, os_family: str) -> str:
    lowered = user_agent.lower()
    if device_family == "Spider":
        return "bot"
    if any(hint in lowered for hint in _TABLET_HINTS) or (os_family == "Android" and "mobile" not in lowered):
        return "tablet"
    if os_family in _MOBILE_OS or "mobile" in lowered:
        return "mobile"
    if os_family in {"Windows", "Mac OS X", "macOS", "Linux", "Ubuntu", "Chrome OS", "Fedora", "FreeBSD"}:
        return "desktop"
    return "other"


@functools.lru_cache(maxsize=4096)
def _user_agent_traits(user_agent: str) -> tuple[str, str]:
    if not user_agent:
        return "Other", "other"
    parsed = ua_parser.parse(user_agent)
    browser = parsed.user_agent.family if parsed.user_agent else "Other"
    device = parsed.device.family if parsed.device else "Other"
    os_family = parsed.os.family if parsed.os else "Other"
    return browser, device_class(user_agent, device, os_family)


class OfflineClientClassifier:
    """:class:`~dreamina.ports.consent.ClientClassifier` with offline data only."""

    def classify(self, truncated_address: str | None, user_agent: str) -> ClientTraits:
        country = iptocc.country_code(truncated_address) if truncated_address else None
        browser, klass = _user_agent_traits(user_agent)
        return ClientTraits(
            country=country if isinstance(country, str) else None, browser_family=browser, device_class=klass
        )
