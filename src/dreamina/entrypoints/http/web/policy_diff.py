"""What changed between two policy texts, as the pages show it: a line diff (difflib) with the changed words of a
changed line marked, unchanged stretches folded to a few lines of context.

Presentation only: the texts are the ones the use cases serve (``PolicyVersion.served``); the template marks each
change with ``<ins>``/``<del>``, a class and a sign, never colour alone.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

CONTEXT = 2  # unchanged lines kept around a change
_WORDS = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True, slots=True)
class Piece:
    text: str
    changed: bool = False


@dataclass(frozen=True, slots=True)
class DiffLine:
    kind: str  # "same", "del", "ins" or "gap" (``skipped`` unchanged lines folded away)
    pieces: list[Piece] = field(default_factory=list)
    skipped: int = 0
    old_number: int | None = None
    new_number: int | None = None


@dataclass(frozen=True, slots=True)
class PolicyDiff:
    lines: list[DiffLine]
    added: int
    removed: int

    @property
    def unchanged(self) -> bool:
        return self.added == 0 and self.removed == 0


def _words(old: str, new: str) -> tuple[list[Piece], list[Piece]]:
    """The two versions of a changed line, with the words that differ marked."""
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    left: list[Piece] = []
    right: list[Piece] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            left.append(Piece("".join(a[i1:i2])))
            right.append(Piece("".join(b[j1:j2])))
            continue
        if i2 > i1:
            left.append(Piece("".join(a[i1:i2]), changed=True))
        if j2 > j1:
            right.append(Piece("".join(b[j1:j2]), changed=True))
    return left, right


def policy_diff(old: str, new: str, context: int = CONTEXT) -> PolicyDiff:
    a, b = old.splitlines(), new.splitlines()
    lines: list[DiffLine] = []
    added = removed = shown_to = 0
    for group in difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(context):
        if group[0][1] > shown_to:
            lines.append(DiffLine("gap", skipped=group[0][1] - shown_to))
        shown_to = group[-1][2]
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines.extend(
                    DiffLine("same", [Piece(a[i])], old_number=i + 1, new_number=j1 + i - i1 + 1) for i in range(i1, i2)
                )
                continue
            paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
            olds: list[DiffLine] = []
            news: list[DiffLine] = []
            for k in range(paired):
                left, right = _words(a[i1 + k], b[j1 + k])
                olds.append(DiffLine("del", left, old_number=i1 + k + 1))
                news.append(DiffLine("ins", right, new_number=j1 + k + 1))
            olds += [DiffLine("del", [Piece(a[i], True)], old_number=i + 1) for i in range(i1 + paired, i2)]
            news += [DiffLine("ins", [Piece(b[j], True)], new_number=j + 1) for j in range(j1 + paired, j2)]
            removed += len(olds)
            added += len(news)
            lines += olds + news
    if lines and shown_to < len(a):
        lines.append(DiffLine("gap", skipped=len(a) - shown_to))
    return PolicyDiff(lines, added, removed)
