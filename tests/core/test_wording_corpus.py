"""The wording guard against a labelled corpus written for it (tests/core/wording_corpus):
texts a collector might write that the law forbids, in every category, in simplified and
traditional characters and with spacing, punctuation, full-width and invisible-character
tricks; and lawful dunning and service texts that mention 水电, 电梯, 门禁, 停车, 法院 or 征信.
The bar: recall ≥ 98 % (a refusal counts when the expected category is among those reported)
and false positives ≤ 2 %. Grow the corpus whenever a new phrasing is found."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from propfee.core.wording_guard import WordingCategory, wording_findings

CORPUS = Path(__file__).parent / "wording_corpus"
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def _lines(name: str) -> list[str]:
    text = (CORPUS / name).read_text(encoding="utf-8")
    return [
        _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), line)
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    ]


REFUSED = [tuple(line.split("\t", 1)) for line in _lines("refused.tsv")]
LAWFUL = _lines("lawful.txt")
_CATEGORY = {
    "utility": WordingCategory.UTILITY,
    "access": WordingCategory.ACCESS,
    "shaming": WordingCategory.SHAMING,
    "disclosure": WordingCategory.DISCLOSURE,
    "violence": WordingCategory.VIOLENCE,
    "insult": WordingCategory.INSULT,
    "false_legal": WordingCategory.FALSE_LEGAL,
    "impersonation": WordingCategory.IMPERSONATION,
    "marketing": WordingCategory.MARKETING,
}


def test_the_corpus_is_large_and_covers_every_category_in_both_scripts():
    assert len(REFUSED) >= 150 and len(LAWFUL) >= 150
    assert {label for label, _ in REFUSED} == set(_CATEGORY)
    traditional = [text for _, text in REFUSED if re.search("[費繳電門車將後欠業]", text)]
    assert len([t for t in traditional if re.search("[費繳電門車將後業]", t)]) >= 15
    assert any(re.search("[\u200b\u200d\ufeff\u3000\uff01-\uff5e]", text) for _, text in REFUSED)


def test_recall_and_false_positive_rate_meet_the_bar(capsys):
    missed = [
        (label, text)
        for label, text in REFUSED
        if _CATEGORY[label] not in {f.category for f in wording_findings(text)}
    ]
    flagged = [(text, wording_findings(text)) for text in LAWFUL]
    flagged = [(text, found) for text, found in flagged if found]
    recall = 1 - len(missed) / len(REFUSED)
    false_positive_rate = len(flagged) / len(LAWFUL)
    with capsys.disabled():
        sys.stdout.write(
            f"\nwording guard: recall {recall:.1%} ({len(REFUSED) - len(missed)}/{len(REFUSED)}),"
            f" false positives {false_positive_rate:.1%} ({len(flagged)}/{len(LAWFUL)})\n"
        )
        for label, text in missed:
            sys.stdout.write(f"  missed [{label}] {text}\n")
        for text, found in flagged:
            sys.stdout.write(f"  flagged {[(f.category, f.words) for f in found]} {text}\n")
    assert recall >= 0.98
    assert false_positive_rate <= 0.02


@pytest.mark.parametrize(("label", "text"), REFUSED[:: max(1, len(REFUSED) // 20)])
def test_each_refusal_quotes_words_that_are_in_the_text(label, text):
    found = [f for f in wording_findings(text) if f.category == _CATEGORY[label]]
    assert found and all(f.words and f.words in text for f in found)


def test_lawful_texts_pass_even_when_read_as_dunning_texts(capsys):
    """A payer template is a dunning text: a cut or a block needs no debt word nearby to be a
    threat. The lawful service notices in the corpus must still pass (≤ 2 %)."""
    flagged = [text for text in LAWFUL if wording_findings(text, dunning=True)]
    rate = len(flagged) / len(LAWFUL)
    with capsys.disabled():
        sys.stdout.write(
            f"\nwording guard, read as dunning texts: false positives {rate:.1%}"
            f" ({len(flagged)}/{len(LAWFUL)})\n"
        )
    assert rate <= 0.02
