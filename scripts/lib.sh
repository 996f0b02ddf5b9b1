# Shared by scripts/run and scripts/test: install what is missing, then build.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Debian packages the build and the tests need.
DEBIAN_PACKAGES=(
  build-essential cmake pkg-config ccache
  libcpp-httplib-dev nlohmann-json3-dev libspdlog-dev libsqlite3-dev libssl-dev
  zlib1g-dev libbrotli-dev doctest-dev libcli11-dev sqlite3
)

log() { printf '%s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs the Debian packages that are not installed yet (apt-get; sudo when not root).
install_debian_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# configure BUILD_DIR BUILD_TYPE [cmake args...]
configure() {
  local dir="$1" type="$2"
  shift 2
  local launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S "$ROOT" -B "$dir" -DCMAKE_BUILD_TYPE="$type" "${launcher[@]}" --log-level=WARNING "$@" >&2
}

# build BUILD_DIR [targets...] — every target when none is named.
build() {
  local dir="$1"
  shift
  local targets=()
  for t in "$@"; do targets+=(--target "$t"); done
  cmake --build "$dir" -j "$(nproc)" "${targets[@]}" >&2
}
