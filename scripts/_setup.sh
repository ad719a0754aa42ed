# Sourced by scripts/demo and scripts/test: makes .venv with oximon installed.
# Safe to run again: it only installs what is missing or changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# Which extra to install (e.g. "test"); an environment variable, not "$1", because a
# sourced script sees its caller's arguments (scripts/demo --stations 16).
EXTRA="${OXIMON_SETUP_EXTRA:-}"

# Qt's runtime libraries (the offscreen and X11 platforms), audio, and python venv support.
SYSTEM_PACKAGES=(python3-venv libgl1 libegl1 libglib2.0-0 libfontconfig1 libdbus-1-3
  libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1
  libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-randr0 libxcb-xinerama0
  libxcb-xfixes0 libpulse0)

missing_packages() {
  command -v dpkg-query >/dev/null || return 0
  for p in "${SYSTEM_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || echo "$p"
  done
}

MISSING="$(missing_packages | tr '\n' ' ')"
if [ -n "${MISSING// /}" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "oximon: installing system packages: $MISSING" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $MISSING >/dev/null
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    echo "oximon: installing system packages: $MISSING" >&2
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $MISSING >/dev/null
  else
    echo "oximon: some system packages may be missing; if Qt fails to start, run:" >&2
    echo "  sudo apt-get install $MISSING" >&2
  fi
fi

PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "oximon needs Python 3.11 or newer ($PY is $("$PY" --version 2>&1))" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
STAMP=".venv/.oximon-installed${EXTRA:+-$EXTRA}"
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".${EXTRA:+[$EXTRA]}"
  touch "$STAMP"
fi
