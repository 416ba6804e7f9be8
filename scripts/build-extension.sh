#!/usr/bin/env bash
# Builds the prebuilt JupyterLab extension into mevlab/labextension with @jupyterlab/builder, against
# the core of the JupyterLab in the project venv. (`jupyter labextension build` would first run its
# own yarn install, which cannot work with the hoisted npm workspace.)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
core="$("$root/.venv/bin/python" -c 'import jupyterlab, os; print(os.path.join(os.path.dirname(jupyterlab.__file__), "staging"))')"
cd "$root/extension"
npx tsc -b
node "$root/node_modules/@jupyterlab/builder/lib/build-labextension.js" --core-path "$core" . >/dev/null
test -f "$root/mevlab/labextension/package.json"
