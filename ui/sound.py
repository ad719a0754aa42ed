"""The real speaker: QtMultimedia's QSoundEffect looping a synthesized WAV.

It lives in ui/ (alerts/ imports core types only) and implements `alerts.sound.SoundSink`;
QtMultimedia is imported lazily, so the rest of the UI starts without it. QtMultimedia fails to
load on machines without its system libraries (e.g. libpulse.so.0 missing) and finds no
output on machines without a sound device or server; either way the sink reports
`available=False` with the reason, and the controller raises "sound unavailable" on screen.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Callable
from typing import Any

from oximon.alerts.tones import Tone, wav_bytes

log = logging.getLogger(__name__)


def _load_qt() -> Any:
    """Import QtMultimedia (a function so tests can imitate a machine without it)."""
    from PySide6 import QtMultimedia

    return QtMultimedia


class QtSoundSink:
    """Implements `alerts.sound.SoundSink`. Needs a running Qt application (the dashboard)."""

    def __init__(self) -> None:
        self.available = False
        self.problem = ""
        self.on_problem: Callable[[str], None] | None = None
        self._files: dict[str, str] = {}
        self._effect: Any = None
        self._qt: Any = None
        try:
            qt = _load_qt()
        except ImportError as exc:
            self.problem = f"Qt sound support cannot load: {exc}"
            return
        except Exception as exc:  # a broken plugin must not stop the dashboard
            self.problem = f"Qt sound support failed: {type(exc).__name__}: {exc}"
            return
        try:
            if not qt.QMediaDevices.audioOutputs():
                self.problem = "no audio output device"
                return
            self._effect = qt.QSoundEffect()
            self._effect.statusChanged.connect(self._status_changed)
        except Exception as exc:
            self.problem = f"cannot open the audio output: {exc}"
            return
        self._qt = qt
        self.available = True

    def play(self, tone: Tone) -> None:
        if not self.available:
            return
        from PySide6.QtCore import QUrl

        path = self._files.get(tone.name)
        if path is None:
            fd, path = tempfile.mkstemp(prefix=f"oximon-{tone.name}-", suffix=".wav")
            with os.fdopen(fd, "wb") as f:  # mkstemp makes it 0600: private by default
                f.write(wav_bytes(tone.samples, tone.sample_rate))
            self._files[tone.name] = path
        effect = self._effect
        effect.stop()
        effect.setSource(QUrl.fromLocalFile(path))
        effect.setLoopCount(self._qt.QSoundEffect.Loop.Infinite.value)
        effect.setVolume(tone.volume)
        effect.play()

    def stop(self) -> None:
        if self._effect is not None:
            self._effect.stop()

    def close(self) -> None:
        self.stop()
        for path in self._files.values():
            with contextlib.suppress(OSError):
                os.remove(path)
        self._files.clear()

    def _status_changed(self) -> None:
        if self._effect.status() == self._qt.QSoundEffect.Status.Error:
            self.available = False
            self.problem = "the audio output reported an error"
            log.error("alarm sound: %s", self.problem)
            if self.on_problem is not None:
                self.on_problem(self.problem)
