# Sourced by scripts/demo and scripts/test: installs what a fresh machine lacks, then builds.
# Everything here is idempotent; a machine that has it all installs nothing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
COMPONENT="$CARGO_TARGET_DIR/wasm32-wasip2/release/kloset_oci.wasm"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_missing() {
    if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2; then
        say "adding the rust target wasm32-wasip2"
        rustup target add wasm32-wasip2
    fi
    local packages=()
    command -v docker-registry >/dev/null 2>&1 || packages+=(docker-registry)
    # The host's https client trusts the system's roots (rustls-native-certs reads this bundle);
    # the TLS tests check that an untrusted certificate is a certificate error, which needs them.
    [ -s /etc/ssl/certs/ca-certificates.crt ] || packages+=(ca-certificates)
    if [ "${#packages[@]}" -gt 0 ]; then
        say "installing ${packages[*]} from Debian (docker-registry is distribution 2.8)"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
    fi
    # The Debian package enables a system service on port 5000; nothing here uses it.
    install_wkg
}

# wkg (the Wasm package tool) publishes the component and the WIT package as OCI artifacts.
# Installed once into a folder under the target directory, which CI keeps between runs, so
# only a cold run pays for `cargo install` (about 4.5 minutes on 2 cores).
WKG_VERSION="0.16.1"
TOOLS="$CARGO_TARGET_DIR/tools"
export PATH="$TOOLS/bin:$PATH"
install_wkg() {
    if [ "$("$TOOLS/bin/wkg" --version 2>/dev/null)" != "wkg $WKG_VERSION" ]; then
        say "installing wkg $WKG_VERSION into $TOOLS (cargo install, a few minutes, once)"
        cargo install --locked --quiet --root "$TOOLS" --version "=$WKG_VERSION" wkg
    fi
}

build_component() {
    say "building the component (wasm32-wasip2, release)"
    (cd "$ROOT" && cargo build --locked --release -p kloset-oci --target wasm32-wasip2)
    say "component: $COMPONENT ($(stat -c %s "$COMPONENT") bytes)"
}

build_cli() {
    say "building the kloset-oci command"
    (cd "$ROOT" && cargo build --locked -p host-test --bin kloset-oci)
}
