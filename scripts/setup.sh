#!/usr/bin/env bash
# Sets up everything mevlab needs on this machine, idempotently: npm workspaces, the project venv
# with JupyterLab, the TypeScript build, the prebuilt extension installed from the mevlab wheel, the
# tslab kernel; with --browser also Debian's Chromium for the UI tests, with --clickhouse Debian's
# clickhouse-server for the event-sink tests, with --data chDB in the venv for the Arrow decoding tests,
# with --fuzz Schemathesis in the venv for the API fuzz test, with --train the trainer's libraries in
# the venv (XGBoost, LightGBM, PyTorch, ONNX: requirements-train.txt).
# Re-runs skip what is current.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
browser=0
clickhouse=0
data=0
fuzz=0
train=0
for a in "$@"; do
  case "$a" in
    --browser) browser=1 ;;
    --clickhouse) clickhouse=1 ;;
    --data) data=1 ;;
    --train) train=1 ;;
    --fuzz) fuzz=1 ;;
    *) echo "setup.sh: unknown option $a" >&2; exit 2 ;;
  esac
done
step() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }
need() { command -v "$1" >/dev/null 2>&1 || { echo "setup.sh: '$1' is required: $2" >&2; exit 1; }; }
hash_of() { cat "$@" | sha256sum | cut -c1-16; }

need node "install Node.js 20 or newer"
need npm "install npm"
need python3 "install Python 3.10 or newer"
need java "install a Java 17 runtime (Kafka's broker for tests and 'mevlab kafka')"
need mvn "install Maven (it fetches Kafka's jars from Maven Central)"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || { echo "setup.sh: Node.js >= 20 needed" >&2; exit 1; }

apt_install() {
  if [ "$(id -u)" != 0 ]; then echo "setup.sh: please install $* (sudo apt-get install $*)" >&2; exit 1; fi
  step "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
want_apt=()
if [ "$browser" = 1 ] && ! command -v chromium >/dev/null 2>&1; then want_apt+=(chromium); fi
if [ "$clickhouse" = 1 ] && [ ! -x /usr/sbin/clickhouse-server ]; then want_apt+=(clickhouse-server); fi
if [ "${#want_apt[@]}" -gt 0 ]; then apt_install "${want_apt[@]}"; fi

# npm 11 runs no dependency install scripts: none is needed (zeromq ships prebuilt binaries, buf's
# binary comes as an optional dependency; onnxruntime-node's download would fail here anyway).
export ONNXRUNTIME_NODE_INSTALL=skip
stamp="node_modules/.mevlab-setup"
want="$(hash_of package-lock.json)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  step "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

venv_stamp=".venv/.mevlab-setup"
want="$(hash_of requirements-dev.txt)"
if [ "$(cat "$venv_stamp" 2>/dev/null)" != "$want" ]; then
  step "Python venv (.venv) with JupyterLab"
  python3 -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements-dev.txt
  echo "$want" > "$venv_stamp"
fi
if [ "$data" = 1 ]; then
  data_stamp=".venv/.mevlab-data"
  want="$(hash_of requirements-data.txt)"
  if [ "$(cat "$data_stamp" 2>/dev/null)" != "$want" ]; then
    step "chDB in the venv (Arrow decoding tests)"
    .venv/bin/python -m pip install -q -r requirements-data.txt
    echo "$want" > "$data_stamp"
  fi
fi
if [ "$fuzz" = 1 ]; then
  fuzz_stamp=".venv/.mevlab-fuzz"
  want="$(hash_of requirements-fuzz.txt)"
  if [ "$(cat "$fuzz_stamp" 2>/dev/null)" != "$want" ]; then
    step "Schemathesis in the venv (API fuzz test)"
    .venv/bin/python -m pip install -q -r requirements-fuzz.txt
    echo "$want" > "$fuzz_stamp"
  fi
fi
if [ "$train" = 1 ]; then
  train_stamp=".venv/.mevlab-train"
  want="$(hash_of requirements-train.txt)"
  if [ "$(cat "$train_stamp" 2>/dev/null)" != "$want" ]; then
    step "the trainer's libraries in the venv (XGBoost, LightGBM, PyTorch, ONNX: about 3.4 GB, a few minutes)"
    .venv/bin/python -m pip install -q -r requirements-train.txt
    echo "$want" > "$train_stamp"
  fi
fi

step "build TypeScript"
npx tsc -b proto kernel-helpers control-plane agents cli e2e
step "build the JupyterLab extension and the mevlab wheel"
bash scripts/build-extension.sh
rm -rf build/wheel
.venv/bin/python -m build --wheel --no-isolation --outdir build/wheel . >/dev/null
.venv/bin/python -m pip install -q --force-reinstall --no-deps build/wheel/mevlab-*.whl
step "tslab kernel in the venv"
node node_modules/tslab/bin/tslab install --python=.venv/bin/python --sys-prefix --binary="$root/bin/tslab-kernel" >/dev/null
step "ready"
