import os
import stat

import pytest

from oximon.config import ConfigError, SiteConfig, StationConfig, load_config, save_config


def test_round_trip_is_private_and_atomic(tmp_path):
    cfg = SiteConfig(name="Main St", stations=[
        StationConfig("booth-1", "Booth 1", "ble:AA:BB:CC:DD:EE:FF:berrymed"),
        StationConfig("booth-2", "Blue"),
    ])
    p = save_config(cfg, tmp_path / "conf" / "site.toml")
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o600
    again = load_config(p)
    assert again.name == "Main St" and not again.real_names
    assert [(s.id, s.alias, s.source) for s in again.stations] == [
        ("booth-1", "Booth 1", "ble:AA:BB:CC:DD:EE:FF:berrymed"), ("booth-2", "Blue", "")]
    assert [x.name for x in p.parent.iterdir()] == ["site.toml"]  # no temp file left


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[site]\nnmae = 'x'\n", "'site.nmae'"),
        ("[site]\nreal_names = 'yes'\n", "'site.real_names': expected true or false"),
        ("[[stations]]\nalias = 'A'\n", "stations[0]: key 'id' is missing"),
        ("[[stations]]\nid = 'a'\n[[stations]]\nid = 'a'\n", "stations[1]: key 'id'"),
        ("[[stations]]\nid = 'a'\nname = 'Jane'\n", "stations[0]: unknown key 'name'"),
        ("[[stations]]\nid = 3\n", "stations[0]: key 'id': expected text"),
        ("stations = 'x'\n", "'stations' must be a list"),
        ("[site\n", "not valid TOML"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path, text, words):
    p = tmp_path / "site.toml"
    p.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(p)
    assert str(p) in str(info.value) and words in str(info.value)


def test_named_missing_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path / "nope.toml")


def test_hub_per_station_round_trips(tmp_path):
    p = tmp_path / "site.toml"
    p.write_text("[site]\ndb = 'postgresql://hub@db/site'\n"
                 "[[stations]]\nid = 'booth-1'\nhub = 'room-1'\n"
                 "[[stations]]\nid = 'booth-2'\nhub = 'room-2'\n"
                 "[[stations]]\nid = 'booth-3'\nhub = 'room-1'\n"
                 "[[stations]]\nid = 'booth-4'\n")
    cfg = load_config(p)
    assert {h: [s.id for s in ss] for h, ss in cfg.hubs().items()} == {
        "room-1": ["booth-1", "booth-3"], "room-2": ["booth-2"]}
    again = load_config(save_config(cfg, tmp_path / "again.toml"))
    assert [s.hub for s in again.stations] == ["room-1", "room-2", "room-1", ""]


def test_hub_must_be_text(tmp_path):
    p = tmp_path / "site.toml"
    p.write_text("[[stations]]\nid = 'a'\nhub = 1\n")
    with pytest.raises(ConfigError, match="stations\\[0\\]: key 'hub': expected text"):
        load_config(p)
