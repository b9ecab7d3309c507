#!/usr/bin/env bash
# Creates (once) the git-ignored virtualenv .venv with tests/python's pinned
# requirements, and prints its python. Re-installs when the requirements change.
set -euo pipefail
cd "$(dirname "$0")/.."
req=tests/python/requirements.txt
stamp=.venv/.requirements.sha256
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "python_env: installing $(grep -v '^#' "$req" | tr '\n' ' ')into .venv" >&2
  python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$req" >&2
  echo "$want" > "$stamp"
fi
echo "$PWD/.venv/bin/python"
