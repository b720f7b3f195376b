"""The CJK font the PDFs embed (中文字体): AR PL UMing CN (文鼎明体, a 宋体-style face) from
Debian's fonts-arphic-uming, TrueType, embedded as a subset of the glyphs used. WenQuanYi
Micro Hei (fonts-wqy-microhei) is the fallback; settings.PROPFEE_PDF_FONT names another file."""

from __future__ import annotations

import threading
from pathlib import Path

from django.conf import settings
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_NAME = "PropfeeCJK"

#: (path, index in the collection); the first that exists is used.
FONT_CANDIDATES = (
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),  # AR PL UMing CN
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),  # WenQuanYi Micro Hei
)

_lock = threading.Lock()


class FontMissing(RuntimeError):
    """No CJK TrueType font is installed (see docs/operations.md, "PDF 字体")."""


def font_file() -> tuple[Path, int]:
    """The font file and its index in a collection (.ttc)."""
    configured = getattr(settings, "PROPFEE_PDF_FONT", "")
    candidates = [(configured, 0)] if configured else list(FONT_CANDIDATES)
    for path, index in candidates:
        if Path(path).is_file():
            return Path(path), index
    raise FontMissing(
        "未找到PDF中文字体：请安装 fonts-arphic-uming（make browser 以 root 身份安装），"
        "或在 PROPFEE_PDF_FONT 中指定 TrueType 字体文件"
    )


def cjk_font() -> str:
    """The registered font's name, registering it on first use (once per process)."""
    if FONT_NAME in pdfmetrics.getRegisteredFontNames():
        return FONT_NAME
    with _lock:
        if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
            path, index = font_file()
            pdfmetrics.registerFont(TTFont(FONT_NAME, str(path), subfontIndex=index))
    return FONT_NAME
