"""The wording guard (措辞合规检查): whether a text that leaves the company — a message template,
a message typed by a collector, a notice or a letter — presses the debtor in a way the law
forbids. It reads the text as a person would: full-width and traditional characters folded,
and spaces, punctuation, zero-width and decorative characters between the words ignored; then
it looks for an action next to an object ("暂停…供水", "门禁卡…失效") rather than for a fixed
word, and for shaming, disclosure to others, threats, insults, false legal consequences,
impersonated authorities and marketing. Each finding names its category and quotes the words
as written, so the writer can fix them. Patterns live in `propfee.core.wording_patterns`."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from propfee.core.wording_patterns import (
    ACCESS_OBJECT_RE,
    CONTEXT_RE,
    HEADER_RE,
    JUDGMENT_RE,
    LAWFUL_STEP_RE,
    MAINTENANCE_RE,
    NEGATION_BEFORE_RE,
    NEGATION_INSIDE_RE,
    PRESSURE_CONDITION_RE,
    PRESSURE_HARM_RE,
    RULES,
    UTILITY_OBJECT_RE,
    Rule,
    WordingCategory,
)

__all__ = ["WordingCategory", "WordingFinding", "wording_findings", "wording_message"]

# Characters removed before matching: separators (Z), punctuation (P), symbols (S) and
# controls and format characters (C: zero-width space and joiner, BOM, soft hyphen).
_STRIP = ("Z", "P", "S", "C")
# Where a sentence ends (a threat's context is looked for in its own and the next sentences)
# and where a clause ends (a negation such as 不得/不会 reaches to the end of its clause).
_SENTENCE_END = frozenset("。！？!?；;\n…")
_CLAUSE_END = _SENTENCE_END | frozenset("，,：:、")


@dataclass(frozen=True)
class WordingFinding:
    """One forbidden way of pressing a debtor: its category and the words as written."""

    category: str
    words: str


@dataclass(frozen=True)
class _Folded:  # not slotted: `sentence_spans` is cached on the instance
    """A text as the patterns read it. `dense` has only letters, digits and CJK characters
    (NFKC, lower case, simplified); for each of its characters, `positions` is the index in
    the original text, `sentences` and `clauses` the number of the sentence and clause."""

    original: str
    dense: str
    positions: tuple[int, ...]
    sentences: tuple[int, ...]
    clauses: tuple[int, ...]

    @functools.cached_property
    def sentence_spans(self) -> dict[int, tuple[int, int]]:
        """Each sentence's [begin, end) in `dense`."""
        spans: dict[int, tuple[int, int]] = {}
        for index, sentence in enumerate(self.sentences):
            begin, _ = spans.get(sentence, (index, index))
            spans[sentence] = (begin, index + 1)
        return spans


@functools.cache
def _t2s() -> Any:
    """OpenCC's traditional → simplified converter, loaded once (its dictionaries ship with
    the wheel)."""
    import opencc

    return opencc.OpenCC("t2s")


def _simplified(chars: Sequence[str]) -> list[str]:
    """Traditional → simplified character by character position (OpenCC's t2s keeps the
    length; if a conversion ever changed it, each character is converted on its own)."""
    converter = _t2s()
    joined = "".join(chars)
    converted: str = converter.convert(joined)
    if len(converted) == len(joined):
        return list(converted)
    return [converter.convert(char) for char in chars]


@functools.lru_cache(maxsize=8192)
def _folded_char(char: str) -> str:
    return unicodedata.normalize("NFKC", char).lower()


@functools.lru_cache(maxsize=8192)
def _strip(char: str) -> bool:
    return unicodedata.category(char)[0] in _STRIP


def _fold(text: str) -> _Folded:
    pieces: list[str] = []
    origins: list[int] = []
    for index, char in enumerate(text):
        folded = _folded_char(char)
        pieces.extend(folded)
        origins.extend([index] * len(folded))
    simplified = _simplified(pieces)
    dense: list[str] = []
    positions: list[int] = []
    sentences: list[int] = []
    clauses: list[int] = []
    sentence = clause = 0
    for char, origin in zip(simplified, origins, strict=True):
        if _strip(char):
            if char in _SENTENCE_END:
                sentence += 1
            if char in _CLAUSE_END:
                clause += 1
            continue
        dense.append(char)
        positions.append(origin)
        sentences.append(sentence)
        clauses.append(clause)
    return _Folded(text, "".join(dense), tuple(positions), tuple(sentences), tuple(clauses))


def _span_text(folded: _Folded, first: int, last: int) -> str:
    """The dense characters whose sentence lies between `first` and `last` (inclusive)."""
    spans = [folded.sentence_spans[n] for n in range(first, last + 1) if n in folded.sentence_spans]
    if not spans:
        return ""
    return folded.dense[spans[0][0] : spans[-1][1]]


def _clause_before(folded: _Folded, start: int) -> str:
    """The dense characters of the clause of `start`, up to `start`."""
    clause = folded.clauses[start]
    begin = start
    while begin > 0 and folded.clauses[begin - 1] == clause:
        begin -= 1
    return folded.dense[begin:start]


def _spans_two_sentences(folded: _Folded, start: int, end: int) -> bool:
    """Whether a match joins words of two sentences ("…积水。请车主将车辆停…"); a lone
    character split off by a full stop ("停。水") is a spelling trick and still counts."""
    first, last = folded.sentences[start], folded.sentences[end - 1]
    if first == last:
        return False
    head = sum(1 for i in range(start, end) if folded.sentences[i] == first)
    tail = sum(1 for i in range(start, end) if folded.sentences[i] == last)
    return head > 1 and tail > 1


def _applies(rule: Rule, folded: _Folded, match: re.Match[str], *, dunning: bool) -> bool:
    start, end = match.start(), match.end()
    if _spans_two_sentences(folded, start, end):
        return False
    if NEGATION_BEFORE_RE.search(_clause_before(folded, start)):
        return False
    if rule.object_negatable and NEGATION_INSIDE_RE.search(match.group()):
        return False
    first, last = folded.sentences[start], folded.sentences[end - 1]
    own = _span_text(folded, first, last)
    if rule.maintenance_excuses and MAINTENANCE_RE.search(own):
        return False
    near = _span_text(folded, first - 1, last + 1)
    if rule.judgment_excuses and JUDGMENT_RE.search(near):
        return False
    return not (rule.needs_context and not dunning and not CONTEXT_RE.search(near))


def _quote(folded: _Folded, start: int, end: int) -> str:
    return folded.original[folded.positions[start] : folded.positions[end - 1] + 1]


def wording_findings(text: str, *, dunning: bool = False) -> list[WordingFinding]:
    """Every forbidden way of pressing a debtor in `text`, in the order of the categories,
    each quoted once. `dunning`: the whole text is about a debt (a collection message, a
    demand), so a cut or a block needs no debt or payment word nearby to be a threat; else
    (a notice that may be a maintenance notice) it needs one in its own or a neighbouring
    sentence. A maintenance reason (维修, 检修, 升级…) in the same sentence, a negation
    before it (不得, 不会…) and, for court steps, a judgment nearby clear a match."""
    folded = _fold(text)
    findings: list[WordingFinding] = []
    # Overlapping matches of one category are one finding; a text may be in two categories.
    taken: list[tuple[str, int, int]] = []
    header = HEADER_RE.search("".join(_simplified(list(unicodedata.normalize("NFKC", text)))))
    if header is not None:
        words = header.group()
        findings.append(WordingFinding(WordingCategory.IMPERSONATION, words))
    for rule in RULES:
        for match in rule.pattern.finditer(folded.dense):
            start, end = match.start(), match.end()
            if end == start or any(
                c == rule.category and start < e and s < end for c, s, e in taken
            ):
                continue
            if not _applies(rule, folded, match, dunning=dunning):
                continue
            taken.append((rule.category, start, end))
            finding = WordingFinding(rule.category, _quote(folded, start, end))
            if finding not in findings:
                findings.append(finding)
    findings.extend(_pressure(folded, [(s, e) for _, s, e in taken]))
    order = list(WordingCategory.values)
    return sorted(findings, key=lambda f: order.index(f.category))


def _pressure(folded: _Folded, taken: list[tuple[int, int]]) -> list[WordingFinding]:
    """Sentences that tie a harm to not paying and that no pattern has caught: a condition
    (再不缴费, 逾期…) before a harm (别想, 就会, 刷不开…) in the same sentence, with no lawful
    step (违约金, 诉讼…), no maintenance reason and no negation before the harm."""
    found: list[WordingFinding] = []
    for begin, end in folded.sentence_spans.values():
        if any(begin < e and s < end for s, e in taken):
            continue
        text = folded.dense[begin:end]
        condition = PRESSURE_CONDITION_RE.search(text)
        if condition is None or LAWFUL_STEP_RE.search(text) or MAINTENANCE_RE.search(text):
            continue
        harm = PRESSURE_HARM_RE.search(text, condition.end())
        if harm is None:
            continue
        at = begin + harm.start()
        if NEGATION_BEFORE_RE.search(_clause_before(folded, at)):
            continue
        clause = folded.clauses[at]
        first = next(i for i in range(begin, end) if folded.clauses[i] == clause)
        last = max(i for i in range(begin, end) if folded.clauses[i] == clause) + 1
        words = folded.dense[first:last]
        if UTILITY_OBJECT_RE.search(words):
            category = WordingCategory.UTILITY
        elif ACCESS_OBJECT_RE.search(words):
            category = WordingCategory.ACCESS
        else:
            category = WordingCategory.VIOLENCE
        found.append(WordingFinding(category, _quote(folded, first, last)))
    return found


_WHY = {
    WordingCategory.UTILITY: _(
        "含有以停止或限制供水、供电、供气、供热相要挟的内容（“{words}”）："
        "《民法典》第九百四十四条规定，物业服务人不得采取停止供电、供水、供热、供燃气等方式"
        "催交物业费，催缴文字中也不得以此相威胁。"
    ),
    WordingCategory.ACCESS: _(
        "含有以限制电梯、门禁、车辆进出、车位、装修或快递等服务相要挟的内容（“{words}”）："
        "多地物业管理条例禁止以限制业主正常使用电梯、门禁、车位等方式催交物业费。"
    ),
    WordingCategory.SHAMING: _(
        "含有公开曝光欠费人的内容（“{words}”）：公开姓名、电话、照片、房号或列入“黑名单”"
        "侵害名誉权和个人信息（《民法典》第一千零二十四条、《个人信息保护法》第二十五条）。"
    ),
    WordingCategory.DISCLOSURE: _(
        "含有向缴费人以外的人（单位、同事、亲属、邻居等）披露欠费的内容（“{words}”）："
        "催收只能面向缴费人本人，不得向他人提供其欠费信息（《个人信息保护法》第二十五条）。"
    ),
    WordingCategory.VIOLENCE: _(
        "含有威胁、恐吓的内容（“{words}”）：催收不得威胁他人人身或财产安全"
        "（《治安管理处罚法》第四十二条）。"
    ),
    WordingCategory.INSULT: _(
        "含有侮辱、贬损的用语（“{words}”）：催收用语应当文明，不得侮辱他人"
        "（《民法典》第一千零二十四条）。"
    ),
    WordingCategory.FALSE_LEGAL: _(
        "含有不实的法律后果（“{words}”）：欠缴物业费是民事纠纷，不会因此被拘留或追究刑事责任；"
        "只有生效判决未履行时，才可能申请强制执行、冻结财产或纳入失信名单和征信。"
    ),
    WordingCategory.IMPERSONATION: _(
        "含有以法院、公安等国家机关名义催收的内容（“{words}”）：物业服务企业只能以自己的名义催收，"
        "不得冒充或假借司法机关、国家机关。"
    ),
    WordingCategory.MARKETING: _(
        "含有营销推广内容（“{words}”）：催缴和提醒消息不得夹带商业广告或营销内容"
        "（《通信短信息服务管理规定》工信部令第31号）。"
    ),
}


def wording_message(finding: WordingFinding) -> str:
    """The explanation shown to the writer: the category, the words as written, the law."""
    return str(_WHY[WordingCategory(finding.category)]).format(words=finding.words)
