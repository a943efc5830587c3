#!/usr/bin/env bash
# Prints the path of a Python 3.13 interpreter: PATH first, then pyenv's versions.
# pyenv's `python3.13` shim exists even when 3.13 is not active and then fails, so every
# candidate is run, not just looked up.
set -u
candidates=(python3.13)
if command -v pyenv >/dev/null 2>&1; then
  for dir in "$(pyenv root)"/versions/3.13*/bin; do candidates+=("$dir/python3.13"); done
fi
for dir in "$HOME"/.pyenv/versions/3.13*/bin /usr/local/bin /usr/bin; do candidates+=("$dir/python3.13"); done
for candidate in "${candidates[@]}"; do
  if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1; then
    "$candidate" -c 'import sys; print(sys.executable)'
    exit 0
  fi
done
echo "error: Python 3.13 not found (looked on PATH and in pyenv's versions); install it, e.g. 'pyenv install 3.13'" >&2
exit 1
