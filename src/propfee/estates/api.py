"""REST API for the estates domain (filled in below)."""


def register(router) -> None:
    return None
