"""Request middleware of propfee: Chinese first, and no caching of signed-in pages."""

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


class NoStoreWhenSignedInMiddleware:
    """A page rendered for a signed-in user is never kept by the browser or a proxy
    (`Cache-Control: no-store`), so the back button on a shared front-desk PC after sign-out
    shows nothing. A response that chose its own Cache-Control keeps it; static files never
    get here (WhiteNoise answers them earlier). Place after AuthenticationMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response
