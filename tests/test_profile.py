import pytest

from oximon.profile import ProfileError, load_profile
from oximon.types import Priority


def test_default_profile_has_the_guideline_values():
    p = load_profile(None)
    assert p["spo2_low"]["threshold"] == 90 and p["spo2_low"]["delay_s"] == 15
    assert p["spo2_low"]["priority"] is Priority.HIGH
    assert p["spo2_severe"]["threshold"] == 85 and p["spo2_severe"]["delay_s"] == 5
    assert p["no_reading"]["delay_s"] == 10
    assert p.get("alarms.escalate_after_s") == 30
    assert p.get("alarms.audio_pause_s") == 120


def test_a_site_file_overrides_some_keys_and_inherits_the_rest(tmp_path):
    f = tmp_path / "site.toml"
    f.write_text('name = "site"\n[spo2_low]\nthreshold = 92\n')
    p = load_profile(f)
    assert p.name == "site"
    assert p["spo2_low"]["threshold"] == 92
    assert p["spo2_low"]["delay_s"] == 15


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[spo2_low]\nthreshhold = 88\n", "'spo2_low.threshhold'"),
        ("[spo2_lo]\nthreshold = 88\n", "[spo2_lo]"),
        ("[spo2_low]\nthreshold = 'ninety'\n", "'spo2_low.threshold'"),
        ("[spo2_low]\nthreshold = 180\n", "outside"),
        ("[spo2_low]\npriority = 'urgent'\n", "'spo2_low.priority'"),
        ("[alarms]\naudio_pause_s = 600\n", "'alarms.audio_pause_s'"),
        ("[alarms]\nlatch_high = 1\n", "true or false"),
        ("[spo2_low\n", "not valid TOML"),
    ],
)
def test_bad_profile_names_the_file_and_the_key(tmp_path, text, words):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(ProfileError) as info:
        load_profile(f)
    assert str(f) in str(info.value)
    assert words in str(info.value)


def test_missing_profile_file_is_a_clear_error(tmp_path):
    with pytest.raises(ProfileError, match="no such profile file"):
        load_profile(tmp_path / "nope.toml")


@pytest.mark.parametrize("text, key", [
    ("[alarms]\nescalate_after_s = nan\n", "'alarms.escalate_after_s'"),
    ("[spo2_low]\nthreshold = nan\n", "'spo2_low.threshold'"),
    ("[spo2_severe]\ndelay_s = inf\n", "'spo2_severe.delay_s'"),
    ("[pr_high]\nthreshold = -inf\n", "'pr_high.threshold'"),
])
def test_non_finite_numbers_are_refused_naming_file_and_key(tmp_path, text, key):
    # NaN passes every range comparison: unchecked it silently disabled escalation.
    f = tmp_path / "site.toml"
    f.write_text(text)
    with pytest.raises(ProfileError, match="finite number") as info:
        load_profile(f)
    assert str(f) in str(info.value) and key in str(info.value)


def test_non_finite_override_is_refused():
    with pytest.raises(ProfileError, match=r"'alarms\.escalate_after_s'"):
        load_profile(None).with_overrides({"alarms.escalate_after_s": float("nan")})


def test_cli_exits_2_on_a_nan_threshold(tmp_path, capsys):
    from oximon.cli import main
    f = tmp_path / "site.toml"
    f.write_text("[spo2_low]\nthreshold = nan\n")
    rec = tmp_path / "r.csv"
    rec.write_text("time,spo2,pr\n0,97,70\n1,97,70\n")
    assert main(["analyze", str(rec), "--profile", str(f)]) == 2
    err = capsys.readouterr().err
    assert str(f) in err and "spo2_low.threshold" in err and "internal error" not in err
