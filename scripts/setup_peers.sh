#!/usr/bin/env bash
# Installs the peer servers and the load generator for bench/server_bench.py,
# apart from everything arrowembed itself needs:
#   - wrk (Debian), the HTTP load generator;
#   - .venv-peers, a venv of its own (never .venv) with torch 2.13 (CPU, from
#     the local wheel) and Infinity (`infinity-emb`, torch engine + server),
#     which pins numpy<2 and sentence-transformers<4 and so cannot share .venv.
# Idempotent and quiet when everything is already there.
#   scripts/setup_peers.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null 2>&1; then
  echo "setup_peers: installing Debian package wrk"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends wrk >/dev/null
fi

VENV=.venv-peers
TORCH=torch==2.13.0
# [server] = the FastAPI/uvicorn front end and its CLI; [torch] = the
# sentence-transformers engine. [all] would add vision, audio, ctranslate2 and
# optimum, none of which serve a BERT text model on the CPU.
PEERS=("infinity-emb[server,torch]==0.0.78")
SPEC="$TORCH ${PEERS[*]}"

PY=${PYTHON:-python3}
if [ ! -x "$VENV/bin/python" ]; then
  echo "setup_peers: creating $VENV"
  "$PY" -m venv "$VENV"
fi

stamp="$VENV/.installed-peers"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$SPEC" ]; then
  pip=("$VENV/bin/pip" install -q --disable-pip-version-check)
  # torch first and alone, so pip takes the local CPU wheel of exactly this
  # version; then the peers with torch pinned, so their resolution can
  # neither upgrade it nor pull a CUDA build.
  echo "setup_peers: pip install $TORCH"
  "${pip[@]}" "$TORCH" 2>&1 | grep -v "^WARNING: Location" || true
  echo "setup_peers: pip install ${PEERS[*]}"
  "${pip[@]}" "$TORCH" "${PEERS[@]}" 2>&1 | grep -v "^WARNING: Location" || true
  # fail loudly if pip skipped something or swapped torch for another build
  "$VENV/bin/python" - <<'PY'
import importlib.metadata as md, sys
torch = md.version("torch")
if not torch.startswith("2.13.0") or "+cu" in torch:
    sys.exit(f"setup_peers: expected the CPU build of torch 2.13.0, found {torch}")
cuda = sorted(d.metadata["Name"] for d in md.distributions() if d.metadata["Name"].lower().startswith("nvidia-"))
if cuda:
    sys.exit(f"setup_peers: CUDA packages were installed: {cuda}")
for name in ("infinity-emb", "sentence-transformers", "fastapi", "uvicorn"):
    md.version(name)
PY
  echo "$SPEC" > "$stamp"
fi

# bench/search_bench.py's peers: faiss-cpu (IndexFlatIP, IndexHNSWFlat) with
# NumPy and pyarrow, in a venv of its own so neither .venv (the product's)
# nor Infinity's pins are touched.
SEARCH_VENV=.venv-search-bench
SEARCH_SPEC="faiss-cpu==1.15.1 numpy pyarrow"
if [ ! -x "$SEARCH_VENV/bin/python" ]; then
  echo "setup_peers: creating $SEARCH_VENV"
  "$PY" -m venv "$SEARCH_VENV"
fi
if [ "$(cat "$SEARCH_VENV/.installed" 2>/dev/null)" != "$SEARCH_SPEC" ]; then
  echo "setup_peers: pip install $SEARCH_SPEC into $SEARCH_VENV"
  # shellcheck disable=SC2086
  "$SEARCH_VENV/bin/pip" install -q --disable-pip-version-check $SEARCH_SPEC 2>&1 | grep -v "^WARNING: Location" || true
  "$SEARCH_VENV/bin/python" -c "import faiss, numpy, pyarrow"
  echo "$SEARCH_SPEC" > "$SEARCH_VENV/.installed"
fi
