"""The English catalogue: every Chinese msgid translated, and the committed .mo compiled from
the committed .po (a fresh machine needs no gettext tools)."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

from django.conf import settings

CATALOGUE = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES"
_ENTRY_RE = re.compile(
    r'^(?:msgctxt (?P<ctx>(?:".*"\n)+))?msgid (?P<id>(?:".*"\n)+)msgstr (?P<str>(?:".*"\n)+)',
    re.M,
)


def _text(quoted: str) -> str:
    return "".join(ast.literal_eval(line) for line in quoted.splitlines())


def _po_entries() -> dict[str, str]:
    text = (CATALOGUE / "django.po").read_text(encoding="utf-8")
    entries = {}
    for match in _ENTRY_RE.finditer(text):
        msgid = _text(match["id"])
        if not msgid:
            continue  # the header
        key = f"{_text(match['ctx'])}\x04{msgid}" if match["ctx"] else msgid
        entries[key] = _text(match["str"])
    return entries


def test_every_message_is_translated():
    entries = _po_entries()
    assert len(entries) > 150
    assert [k for k, v in entries.items() if not v] == []
    assert "#, fuzzy" not in (CATALOGUE / "django.po").read_text(encoding="utf-8")


def test_compiled_catalogue_matches_the_po_file():
    with (CATALOGUE / "django.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)._catalog  # type: ignore[attr-defined]
    compiled = {k: v for k, v in compiled.items() if k}
    assert compiled == _po_entries(), "run: python -m propfee compilemessages -l en"
