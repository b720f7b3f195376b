"""Callback tokens never reach a log: the web server's request log line of a provider callback
called with `?token=…`, and any line through the root logger's handlers, show ******** instead
of the value."""

from __future__ import annotations

import logging
from io import StringIO

import pytest

SECRET = "aliyun-callback-token-7f3a"


@pytest.fixture
def server_log():
    """What the `django.server` logger (runserver's request log) writes."""
    stream = StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("django.server")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def test_the_request_log_line_of_a_callback_hides_the_token(server_log):
    # The call runserver's request handler makes for each request (basehttp.log_message).
    logging.getLogger("django.server").warning(
        '"%s" %s %s', f"POST /messaging/callbacks/aliyun/?token={SECRET}&x=1 HTTP/1.1", "403", "9"
    )
    line = server_log.getvalue()
    assert SECRET not in line
    assert "/messaging/callbacks/aliyun/?token=********&x=1 HTTP/1.1" in line


def test_the_root_handlers_hide_tokens_from_every_logger():
    from propfee.core.logs import TokenRedaction

    console = next(
        h
        for h in logging.getLogger().handlers
        if type(h) is logging.StreamHandler
        and any(isinstance(f, TokenRedaction) for f in h.filters)
    )
    stream = StringIO()
    # Swapped directly: setStream would flush the old stream, which pytest may have closed.
    previous, console.stream = console.stream, stream
    level = logging.getLogger("propfee").level
    logging.getLogger("propfee").setLevel(logging.WARNING)
    try:
        logging.getLogger("propfee.messaging.wechat").warning(
            "not reached: %s", "https://api.weixin.qq.com/cgi-bin/x?access_token=AT-123456"
        )
        logging.getLogger("django.request").warning("Forbidden: /cb/?Token=%s", SECRET)
    finally:
        console.stream = previous
        logging.getLogger("propfee").setLevel(level)
    text = stream.getvalue()
    assert "AT-123456" not in text and SECRET not in text
    assert "access_token=********" in text and "Token=********" in text
