#!/usr/bin/env bash
# Print the path of a Python >= 3.12 interpreter, or fail with a clear message.
# Tries python3.13 / python3.12 on PATH, then pyenv's installed versions.
set -u
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }
for cand in python3.13 python3.12 python3; do
  p=$(command -v "$cand" 2>/dev/null) || continue
  if ok "$p"; then "$p" -c 'import sys; print(sys.executable)'; exit 0; fi
done
root=${PYENV_ROOT:-$HOME/.pyenv}
for v in $(ls -1 "$root/versions" 2>/dev/null | sort -rV); do
  p="$root/versions/$v/bin/python3"
  if [ -x "$p" ] && ok "$p"; then echo "$p"; exit 0; fi
done
echo "error: negsim needs Python >= 3.12 (Mesa 3.5 requires it); none found on PATH or in pyenv." >&2
echo "fix: install one (e.g. 'pyenv install 3.12') and rerun." >&2
exit 1
