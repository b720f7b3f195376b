"""`propfee serve [ADDR:PORT]`: run the web server (default 127.0.0.1:8000).

It is Django's server without the auto-reloader; WhiteNoise serves the static files from the
package, so DEBUG stays off and no collectstatic step is needed. For production, run the WSGI
application `propfee.wsgi:application` under a process manager instead."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

DEFAULT_ADDR = "127.0.0.1"
DEFAULT_PORT = "8000"
ALL_INTERFACES = frozenset({"0.0.0.0", "::", "[::]"})


def url_for(addr: str, port: str | int) -> str:
    """The address to open in a browser: a server on all interfaces is reachable locally."""
    shown = "127.0.0.1" if addr in ALL_INTERFACES else addr
    return f"http://{shown}:{port}/"


def addrport_split(addrport: str) -> tuple[str, str]:
    """'127.0.0.1:8000' → ('127.0.0.1', '8000'); '9000' → (DEFAULT_ADDR, '9000');
    '[::1]:8000' → ('[::1]', '8000')."""
    addrport = addrport.strip()
    if addrport.isdigit():
        return DEFAULT_ADDR, addrport
    addr, sep, port = addrport.rpartition(":")
    if not sep or not port.isdigit() or not addr:
        raise CommandError(f"地址格式应为 ADDR:PORT，例如 127.0.0.1:8000：{addrport}")
    return addr, port


class Command(BaseCommand):
    help = "启动网页服务（默认 127.0.0.1:8000） / Run the web server"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "addrport", nargs="?", default=f"{DEFAULT_ADDR}:{DEFAULT_PORT}", help="ADDR:PORT"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        addr, port = addrport_split(options["addrport"])
        self.stdout.write(f"propfee 物业费收缴与催收系统：{url_for(addr, port)}")
        if addr in ALL_INTERFACES or addr.strip("[]") not in {"127.0.0.1", "localhost", "::1"}:
            hosts = ",".join(settings.ALLOWED_HOSTS)
            self.stdout.write(
                f"提示：从其他机器访问时，请把本机的域名或 IP 加入环境变量 ALLOWED_HOSTS"
                f"（当前：{hosts}） / Set ALLOWED_HOSTS to this machine's name or address."
            )
        self.stdout.write("按 Ctrl+C 停止 / Press Ctrl+C to stop")
        call_command("runserver", f"{addr}:{port}", use_reloader=False)
