#!/usr/bin/env bash
# Creates (once) a git-ignored virtualenv with a pinned requirements file, and
# prints its python. Re-installs when the requirements change.
#   scripts/python_env.sh                     # tests/python's client, in .venv
#   scripts/python_env.sh REQUIREMENTS VENV   # e.g. the benchmark peers
set -euo pipefail
cd "$(dirname "$0")/.."
req=${1:-tests/python/requirements.txt}
venv=${2:-.venv}
stamp=$venv/.requirements.sha256
# Tests may ask for the same venv at once: one installs, the others wait.
mkdir -p "$venv"
exec 9>"$venv/.lock"
flock 9
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "python_env: installing $(grep -v '^#' "$req" | tr '\n' ' ')into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
  echo "$want" > "$stamp"
fi
case $venv in
  /*) echo "$venv/bin/python" ;;
  *) echo "$PWD/$venv/bin/python" ;;
esac
