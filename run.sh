#!/usr/bin/env bash
# geo_service quick start on Debian/Ubuntu with PostgreSQL installed:
#   ./run.sh serve   set everything up and serve http://localhost:8000 with demo data
#   ./run.sh test    set everything up and run the whole test suite (lint, types, pytest)
# DATABASE_URL selects the database; without it a local PostgreSQL at 127.0.0.1:5432
# (user postgres) is used, and PostGIS is installed from Debian's packages when missing.
set -euo pipefail
cd "$(dirname "$0")"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  # Install Debian packages that are missing, with one apt-get update first.
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_postgis() {
  # Only for the local server: a DATABASE_URL elsewhere must already offer PostGIS.
  if [ -n "${DATABASE_URL:-}" ] && ! [[ "$DATABASE_URL" =~ @(127\.0\.0\.1|localhost)(:|/) ]]; then
    return 0
  fi
  local major
  major=$(psql --version 2>/dev/null | sed -E 's/[^0-9]*([0-9]+).*/\1/') || true
  if [ -z "$major" ]; then
    echo "PostgreSQL is not installed: apt-get install postgresql, or set DATABASE_URL" >&2
    exit 1
  fi
  [ -f "/usr/share/postgresql/$major/extension/postgis.control" ] || apt_install "postgresql-$major-postgis-3"
}

ensure_python() {
  local py=""
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      py=$candidate
      break
    fi
  done
  if [ -z "$py" ]; then
    echo "Python 3.11 or newer is needed" >&2
    exit 1
  fi
  if [ ! -x .venv/bin/python ]; then
    say "creating .venv with $py"
    "$py" -m venv .venv 2>/dev/null || { apt_install python3-venv && "$py" -m venv .venv; }
  fi
  local stamp=.venv/.installed
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    say "installing Python dependencies"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e '.[dev]'
    touch "$stamp"
  fi
}

case "${1:-}" in
  serve)
    ensure_postgis
    ensure_python
    .venv/bin/geo-service init --demo-reports "${DEMO_REPORTS:-5000}"
    # The worker delivers mails and webhooks (SMTP_URL, MAIL_FROM); the two stop together.
    .venv/bin/geo-service worker &
    worker=$!
    .venv/bin/geo-service serve --host "${HOST:-0.0.0.0}" --port "${PORT:-8000}" &
    server=$!
    trap 'kill "$server" "$worker" 2>/dev/null; wait 2>/dev/null' EXIT INT TERM
    say "serving on http://localhost:${PORT:-8000} (server pid $server, worker pid $worker)"
    wait -n "$server" "$worker"  # either one ending ends both
    ;;
  test)
    ensure_postgis
    # Browser tests drive Debian's Chromium through Playwright (never `playwright install`).
    command -v chromium >/dev/null || apt_install chromium
    ensure_python
    say "ruff check"; .venv/bin/ruff check .
    say "ruff format --check"; .venv/bin/ruff format --check .
    say "mypy"; .venv/bin/mypy
    say "pytest"; exec .venv/bin/pytest "${@:2}"
    ;;
  *)
    echo "usage: $0 serve|test" >&2
    exit 2
    ;;
esac
