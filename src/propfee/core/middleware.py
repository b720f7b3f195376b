"""Request middleware of propfee."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class ChineseFirstMiddleware:
    """propfee is Chinese first: the language comes from the user's own choice (the language
    cookie set by the switch) or the default zh-hans, never from the browser's Accept-Language,
    so a front-desk PC with an English Windows still opens in Chinese. Place before
    LocaleMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
