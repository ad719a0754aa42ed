"""The site's own alarm profile: what a supervisor applied in Settings, kept across restarts.

Without this a change applied on the dashboard (and audited as applied) would be gone at
the next start. The profile is written next to the site file, as `<site>-profile.toml`
(for the default site that is the user config folder), atomically and private (0600),
and the site file's `profile` key is pointed at it, so the next start loads it the way it
loads any site profile (a `--profile` on the command line still wins).
"""

from __future__ import annotations

from pathlib import Path

import tomli_w

from oximon.config import SiteConfig, save_config
from oximon.private_files import replace_private
from oximon.profile import Profile


class ProfileBook:
    def __init__(self, config: SiteConfig):
        self.config = config

    @property
    def path(self) -> Path:
        site = self.config.path
        if site is None:
            from oximon.config import default_config_path
            site = default_config_path()
        return site.with_name(f"{site.stem}-profile.toml")

    def save(self, profile: Profile) -> Path:
        """Write the profile (atomically, 0600) and name it in the site file."""
        path = self.path
        write_private(path, tomli_w.dumps(profile.to_dict()))
        if self.config.profile != str(path):
            self.config.profile = str(path)
            save_config(self.config)
        return path


def write_private(path: Path, text: str) -> None:
    """Never half a file: see oximon.private_files."""
    replace_private(path, text)
