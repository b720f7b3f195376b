"""Secrets never reach a log: `token=` and `access_token=` values in any log line (a
provider's callback URL in the web server's request log, a WeChat API address in an error) are
replaced by ********. Installed on the request loggers and on the root logger's handlers when
the project starts (`log_redaction_install`, from CoreConfig.ready)."""

from __future__ import annotations

import logging
import re

REDACTED = "********"
_TOKEN_VALUE = re.compile(r"(?i)(\b(?:access_)?token=)[^&\s\"'#]+")
# Loggers that log a request's path with its query string and do not propagate to the root
# (runserver's request log), or that Django logs requests to.
REQUEST_LOGGERS = ("django.server", "django.request", "django.security")


def token_redact(text: str) -> str:
    return _TOKEN_VALUE.sub(lambda m: m.group(1) + REDACTED, text)


class TokenRedaction(logging.Filter):
    """Rewrites a record whose message carries a token value; lets every record through."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the handler's business, not ours
            return True
        redacted = token_redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def log_redaction_install() -> None:
    """Add the filter to the request loggers and the root logger's handlers (once)."""
    redaction = TokenRedaction()
    targets: list[logging.Filterer] = [logging.getLogger(n) for n in REQUEST_LOGGERS]
    targets += logging.getLogger().handlers
    for target in targets:
        if not any(isinstance(f, TokenRedaction) for f in target.filters):
            target.addFilter(redaction)
