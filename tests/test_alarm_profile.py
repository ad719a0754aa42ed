"""Every alarm timing is a profile setting, validated with the key and the file named."""

from __future__ import annotations

from pathlib import Path

import pytest

from oximon.alerts import AlarmManager
from oximon.cli import main
from oximon.events import payload
from oximon.profile import Profile, ProfileError, load_profile
from oximon.types import ConditionChange, Priority


@pytest.mark.parametrize(("text", "key"), [
    ("[alarms]\naudio_pause_s = 300\n", "alarms.audio_pause_s"),
    ("[alarms]\nescalate_after_s = -1\n", "alarms.escalate_after_s"),
    ("[alarms]\nnew_alarm_ends_pause = 1\n", "alarms.new_alarm_ends_pause"),
    ("[watchdog]\nstall_s = 0\n", "watchdog.stall_s"),
    ("[watchdog]\npriority = \"urgent\"\n", "watchdog.priority"),
    ("[sound]\nhigh_interburst_s = 1.0\n", "sound.high_interburst_s"),
    ("[sound]\nloud = true\n", "sound.loud"),
    ("[lost_device]\nescalate_to_high_s = \"soon\"\n", "lost_device.escalate_to_high_s"),
])
def test_bad_alarm_setting_names_key_and_file(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "site.toml"
    path.write_text(text)
    with pytest.raises(ProfileError) as err:
        load_profile(path)
    assert key in str(err.value) and str(path) in str(err.value)


def test_cli_exits_2_on_bad_alarm_profile(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "site.toml"
    path.write_text("[alarms]\naudio_pause_s = 600\n")
    code = main(["monitor", "--source", "sim:normal", "--duration", "1", "--profile",
                 str(path)])
    assert code == 2
    err = capsys.readouterr().err
    assert "alarms.audio_pause_s" in err and "site.toml" in err


def test_site_profile_changes_escalation_times(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text("[alarms]\nescalate_after_s = 10\naudio_pause_s = 60\n"
                    "[lost_device]\nescalate_to_high_s = 20\n")
    m = AlarmManager(load_profile(path))
    m.on_condition(ConditionChange("b1", "spo2_low", True, 0.0, Priority.HIGH))
    m.on_condition(ConditionChange("b2", "lost_device", True, 0.0, Priority.MEDIUM,
                                   technical=True))
    assert [e.station for e in m.tick(10.0)] == ["b1"]
    assert [e.station for e in m.tick(20.0)] == ["b2"]
    [paused] = m.pause_audio(30.0)
    assert payload(paused)["until"] == 90.0


def test_default_profile_matches_the_guideline() -> None:
    p = Profile.default()
    assert p["alarms"]["escalate_after_s"] == 30.0
    assert p["alarms"]["audio_pause_s"] == 120.0
    assert p["lost_device"]["escalate_to_high_s"] == 60.0
    assert p["no_reading"]["delay_s"] == 10.0
    assert p["watchdog"]["stall_s"] == 2.0
