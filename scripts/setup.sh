#!/usr/bin/env bash
# Installs everything arrowembed needs on a fresh Debian 12 machine: Debian
# packages (C++ libraries, tools), a Python venv inside the repo (.venv)
# whose pyarrow wheel doubles as the Arrow C++ SDK, and the arrowembed
# Python package built from this tree into it (pip install .; incremental,
# in build-python/). Idempotent and quiet when everything is already there.
#   scripts/setup.sh              build + test dependencies
#   scripts/setup.sh --reference  also torch/transformers/sentence-transformers
#                                 (fixture generation and benchmarks only)
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libutf8proc-dev nlohmann-json3-dev libsimdjson-dev libcli11-dev libxxhash-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libopenblas-dev
  libcpp-httplib-dev libvalijson-dev
  libhnswlib-dev
  python3-dev python3-venv
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi

# Install a requirements file only when it changed since the last install.
pip_install() {
  local req=$1 stamp=".venv/.installed-$(basename "$1")"
  if [ ! -f "$stamp" ] || ! cmp -s "$req" "$stamp"; then
    echo "setup: pip install -r $req"
    .venv/bin/pip install -q --disable-pip-version-check -r "$req" 2>&1 | grep -v "^WARNING: Location" || true
    .venv/bin/python - "$req" <<'PY'
import sys, re, importlib.metadata as md
# fail loudly if pip silently skipped something
for line in open(sys.argv[1]):
    name = re.split(r"[=<>\[ ;#]", line.strip(), maxsplit=1)[0]
    if name:
        md.version(name)
PY
    cp "$req" "$stamp"
  fi
}
pip_install scripts/requirements-test.txt
if [ "${1:-}" = "--reference" ]; then
  pip_install scripts/requirements-reference.txt
fi

# The Python package, from this tree: scikit-build-core runs the project's
# CMake (pyproject.toml) with the build tools installed above, and rebuilds
# only what changed.
.venv/bin/pip install -q --disable-pip-version-check --no-build-isolation --no-deps . 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import arrowembed" || { echo "setup: the arrowembed package did not install" >&2; exit 1; }
