"""The policy and staff-insight pages' presentation helpers: the policy diff, the CSV cell guard, the bar chart."""

from __future__ import annotations

from datetime import date, timedelta

from dreamina.entrypoints.http.web.charts import daily_bars
from dreamina.entrypoints.http.web.policy_diff import policy_diff
from dreamina.entrypoints.http.web.staff_insight import csv_cell


def _text(lines: list[str]) -> str:
    return "\n".join(lines)


def test_the_diff_marks_changed_words_and_folds_unchanged_lines() -> None:
    old = [f"line {n}" for n in range(1, 21)]
    new = list(old)
    new[9] = "line 10 has changed"
    new.insert(15, "a new line")
    del new[2]
    diff = policy_diff(_text(old), _text(new))
    kinds = [line.kind for line in diff.lines]
    assert diff.added == 2 and diff.removed == 2
    assert kinds.count("gap") >= 2 and kinds[-1] == "gap"  # the unchanged end is folded too
    changed = next(
        line for line in diff.lines if line.kind == "ins" and "changed" in "".join(p.text for p in line.pieces)
    )
    assert [p.text for p in changed.pieces if p.changed] == [" has changed"]
    removed = next(line for line in diff.lines if line.kind == "del" and line.old_number == 3)
    assert [p.text for p in removed.pieces] == ["line 3"] and removed.pieces[0].changed
    shown = sum(line.skipped for line in diff.lines if line.kind == "gap")
    shown += sum(1 for line in diff.lines if line.kind in {"same", "del"})
    assert shown == len(old)  # every old line is either shown or counted in a gap


def test_identical_texts_have_no_change() -> None:
    diff = policy_diff("1. A\nsame", "1. A\nsame")
    assert diff.unchanged and all(line.kind == "same" for line in diff.lines)


def test_csv_cells_that_look_like_formulas_are_quoted() -> None:
    for risky in ("=cmd|' /C calc'!A0", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert csv_cell(risky) == "'" + risky
    assert csv_cell("a reason") == "a reason"
    assert csv_cell(None) == ""
    assert csv_cell("x=1") == "x=1"


def test_the_bar_chart_scales_to_a_round_top_and_labels_without_overlap() -> None:
    days = [date(2026, 11, 1) + timedelta(days=n) for n in range(30)]
    values = [n % 7 for n in range(30)]
    chart = daily_bars(days, values)
    assert len(chart.bars) == 30 and chart.peak == 6 and chart.total == sum(values)
    assert [t.label for t in chart.y_ticks] == ["0", "2", "4", "6", "8", "10"]
    assert len(chart.x_ticks) <= 10
    tallest = max(chart.bars, key=lambda b: b.height)
    assert tallest.value == 6 and abs(tallest.y + tallest.height - chart.baseline) < 0.01
    assert all(b.x >= chart.left and b.x + b.width <= chart.right_edge + 0.01 for b in chart.bars)
    empty = daily_bars(days[:1], [0])
    assert empty.bars[0].height == 0 and [t.label for t in empty.y_ticks] == ["0", "1"]
