"""A narrow tile says what is wrong in whole words ("Severe low") before it cuts any
("Severe low oxy…"): the alarm row falls back on shorter wordings, longest first."""

from __future__ import annotations

from oximon.alarms import AlarmView
from oximon.types import Priority
from oximon.ui.elide import ElidedLabel
from oximon.ui.style import DARK
from oximon.ui.tile_look import alarm_look


def severe(acknowledged: bool = False) -> AlarmView:
    return AlarmView("booth-7", "spo2_severe", Priority.HIGH, False,
                     "Severe low oxygen — check breathing now, SAVE ME", 10.0, True, None,
                     76.0, 76.0, 12.0 if acknowledged else None, "", None, 76.0)


def test_the_label_shows_the_longest_wording_that_fits_whole(qtbot):
    label = ElidedLabel("")
    qtbot.addWidget(label)
    label.set_texts("Severe low oxygen — lowest 76 %, now 79 %", "■ Severe low", "Severe low")
    fm = label.fontMetrics()
    label.resize(fm.horizontalAdvance("Severe low") + 2, 30)
    assert label.shown() == "Severe low"
    label.resize(fm.horizontalAdvance("■ Severe low") + 2, 30)
    assert label.shown() == "■ Severe low"
    label.resize(fm.horizontalAdvance(label.text()) + 2, 30)
    assert label.shown() == label.text()
    label.resize(fm.horizontalAdvance("Sev"), 30)  # nothing fits: the shortest, cut
    assert label.shown().endswith("…") and label.shown().startswith("S")
    assert label.toolTip() == label.text()  # the whole sentence stays one hover away


def test_plain_text_drops_earlier_fallbacks(qtbot):
    label = ElidedLabel("")
    qtbot.addWidget(label)
    label.set_texts("Battery low — acknowledged", "Battery")
    label.setText("Pulse high")
    label.resize(5, 30)
    assert "Battery" not in label.shown()


def test_a_severe_alarm_row_falls_back_on_its_short_words():
    look = alarm_look(DARK, [severe()], None, True, True)
    assert look.text.startswith("■ Severe low oxygen")
    assert look.shorter[-2:] == ("■ Severe low", "Severe low")
    widths = [len(w) for w in (look.text, *look.shorter)]
    assert widths == sorted(widths, reverse=True)  # longest first


def test_more_alarms_are_counted_in_the_fallbacks_while_room_allows():
    look = alarm_look(DARK, [severe(), severe()], None, True, True)
    assert look.text.endswith("+1 more")
    assert "■ Severe low +1" in look.shorter
