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

# OXIMON_SKIP_SYSTEM_PACKAGES=1: the caller manages system packages (no apt at all).
MISSING=""
if [ -z "${OXIMON_SKIP_SYSTEM_PACKAGES:-}" ]; then
  MISSING="$(missing_packages | tr '\n' ' ')"
fi
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
# A venv whose python cannot run pip is broken (e.g. `python3 -m venv` failed half-way
# because python3-venv was missing): make it again rather than fail the same way forever.
venv_ok() { [ -x .venv/bin/python ] && .venv/bin/python -m pip --version >/dev/null 2>&1; }
if ! venv_ok; then
  if [ -e .venv ]; then
    echo "oximon: .venv is incomplete (no working pip); making it again" >&2
    rm -rf .venv
  fi
  if ! VENV_ERR="$("$PY" -m venv .venv 2>&1)" || ! venv_ok; then
    rm -rf .venv
    echo "oximon: could not create a Python virtual environment with $PY:" >&2
    [ -n "$VENV_ERR" ] && echo "$VENV_ERR" | sed 's/^/  /' >&2
    echo "oximon: install Python's venv support and run this again, e.g. on Debian/Ubuntu:" >&2
    echo "  sudo apt-get install python3-venv" >&2
    exit 1
  fi
fi

# One stamp says what is installed: which extras, for which pyproject.toml. Switching
# between scripts/demo (no extra) and scripts/test ("test") then installs only once.
STAMP=".venv/.oximon-installed"
PYPROJECT_SUM="$(cksum < pyproject.toml | cut -d' ' -f1,2)"
HAVE_SUM=""
HAVE_EXTRAS=""
if [ -f "$STAMP" ]; then
  HAVE_SUM="$(sed -n 's/^pyproject=//p' "$STAMP")"
  HAVE_EXTRAS="$(sed -n 's/^extras=//p' "$STAMP")"
fi
case ",$HAVE_EXTRAS," in
  *",$EXTRA,"*) HAS_EXTRA=1 ;;
  *) HAS_EXTRA="" ;;
esac
if [ -z "$EXTRA" ] && [ -f "$STAMP" ]; then HAS_EXTRA=1; fi
if [ "$HAVE_SUM" != "$PYPROJECT_SUM" ] || [ -z "$HAS_EXTRA" ]; then
  # Keep what was installed before (the test extras stay when the demo runs).
  EXTRAS="$(printf '%s\n' ${HAVE_EXTRAS//,/ } $EXTRA | sort -u | paste -sd, -)"
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  # setuptools warns on every editable install about folders named like the package
  # (here they are the package): noise to someone setting up, so it is silenced.
  PYTHONWARNINGS="ignore:Editable installation" \
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".${EXTRAS:+[$EXTRAS]}"
  printf 'pyproject=%s\nextras=%s\n' "$PYPROJECT_SUM" "$EXTRAS" > "$STAMP"
  rm -f .venv/.oximon-installed-*  # stamps of earlier versions of this script
fi
