"""Channel backends (短信、邮件、微信): which backend sends each channel.

`settings.PROPFEE_MESSAGING` maps a channel to a backend name, e.g.
`{"sms": "aliyun", "email": "smtp", "wechat": "wechat"}`; a name is looked up in `BACKENDS`
(name → dotted path of the backend class), and a dotted path may also be given directly.
A channel that is not configured goes to the console backend, which contacts nobody."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from propfee.messaging.providers.base import Backend

CHANNELS = ("sms", "email", "wechat")
DEFAULT_BACKEND = "console"
# Backends that contact nobody: what they "send" or report "delivered" reached no person, so it
# is never evidence of a demand (no limitation restart comes from it).
SIMULATED_BACKENDS = frozenset({"console"})

BACKENDS: dict[str, str] = {
    "console": "propfee.messaging.providers.console.ConsoleBackend",
    "aliyun": "propfee.messaging.providers.aliyun.AliyunSmsBackend",
    "tencent": "propfee.messaging.providers.tencent.TencentSmsBackend",
    "wechat": "propfee.messaging.providers.wechat.WeChatTemplateBackend",
    "smtp": "propfee.messaging.providers.email.EmailBackend",
}


def backend_named(name: str) -> Backend:
    """A new backend instance for a registry name (or a dotted class path).

    Used by `backend_for` and by the delivery-callback URL, which names its provider."""
    path = BACKENDS.get(name, name)
    if "." not in path:
        raise ImproperlyConfigured(f"Unknown messaging backend {name!r}; known: {sorted(BACKENDS)}")
    try:
        backend_class = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"Messaging backend {name!r} ({path}) cannot be imported"
        ) from exc
    return backend_class()


def backend_for(channel: str) -> Backend:
    """The backend configured for `channel` ("sms", "email" or "wechat"); console by default."""
    if channel not in CHANNELS:
        raise ImproperlyConfigured(f"Unknown messaging channel {channel!r}")
    configured = getattr(settings, "PROPFEE_MESSAGING", {}) or {}
    backend = backend_named(configured.get(channel) or DEFAULT_BACKEND)
    channels = getattr(backend, "channels", None)
    if channels is not None and channel not in channels:
        raise ImproperlyConfigured(
            f"Messaging backend {backend.name!r} cannot send the {channel!r} channel"
        )
    return backend
