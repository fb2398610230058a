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

# Everything the tests need: the base, wkg (the publishing tests) and the other registry
# implementations (the conformance suites).
install_missing() {
    install_base
    install_wkg
    install_registries
}

# What building and running the component, the command and the plugin needs: the wasm target,
# docker-registry, protoc, the CA bundle and Plakar (scripts/demo, scripts/plakar-package).
install_base() {
    if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2; then
        say "adding the rust target wasm32-wasip2"
        rustup target add wasm32-wasip2
    fi
    local packages=()
    command -v docker-registry >/dev/null 2>&1 || packages+=(docker-registry)
    # protoc: the Plakar plugin's build generates its gRPC code from plakar-plugin/proto.
    command -v protoc >/dev/null 2>&1 || packages+=(protobuf-compiler)
    # The host's https client trusts the system's roots (rustls-native-certs reads this bundle);
    # the TLS tests check that an untrusted certificate is a certificate error, which needs them.
    [ -s /etc/ssl/certs/ca-certificates.crt ] || packages+=(ca-certificates)
    if [ "${#packages[@]}" -gt 0 ]; then
        say "installing ${packages[*]} from Debian (docker-registry is distribution 2.8)"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
    fi
    # The Debian package enables a system service on port 5000; nothing here uses it.
    install_plakar
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

# Plakar itself, for the plugin's end-to-end tests and the demo: v1.1.4, built from the Go
# module proxy by scripts/plakar-build (see its go.mod for why not a plain `go install`),
# into the tools folder beside wkg.
PLAKAR_VERSION="v1.1.4"
export PLAKAR="$TOOLS/bin/plakar"
install_plakar() {
    if [ "$("$PLAKAR" version 2>/dev/null | tail -n 1)" = "plakar/$PLAKAR_VERSION" ]; then
        return
    fi
    need_go "to build Plakar" || return 1
    say "building Plakar $PLAKAR_VERSION into $TOOLS/bin (go build, about 2 minutes, once)"
    mkdir -p "$TOOLS/bin"
    (cd "$ROOT/scripts/plakar-build" &&
        CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" go build -o "$PLAKAR" github.com/PlakarKorp/plakar)
}

# Go, for Plakar and the registries below: on PATH, or where the official tarball puts it.
need_go() {
    if ! command -v go >/dev/null 2>&1; then
        [ -x /usr/local/go/bin/go ] && export PATH="$PATH:/usr/local/go/bin"
    fi
    command -v go >/dev/null 2>&1 || { say "Go is needed $1: install Go 1.25 or newer"; return 1; }
}

# Two more registry implementations, for the conformance and concurrency suites beside
# Debian's distribution 2.8 (docs/registries.md): distribution 3 and go-containerregistry's
# `crane registry serve`. `go install` puts them into the tools folder once (cold, with
# empty Go caches on 2 cores: 250 s for distribution, then 19 s for crane). Distribution's
# program is named `registry`, a name too generic to look up on PATH: the tests take both
# from these variables.
DISTRIBUTION3_VERSION="v3.1.2"
CRANE_VERSION="v0.22.1"
export KLOSET_OCI_DISTRIBUTION3_BIN="$TOOLS/bin/registry"
export KLOSET_OCI_CRANE_BIN="$TOOLS/bin/crane"
install_registries() {
    # `registry --version` prints "<path> github.com/distribution/distribution/v3 v3.1.2+unknown".
    case "$("$KLOSET_OCI_DISTRIBUTION3_BIN" --version 2>/dev/null)" in
    *" $DISTRIBUTION3_VERSION" | *" $DISTRIBUTION3_VERSION+"*) ;;
    *) go_install "distribution $DISTRIBUTION3_VERSION" \
        "github.com/distribution/distribution/v3/cmd/registry@$DISTRIBUTION3_VERSION" ;;
    esac
    if [ "$("$KLOSET_OCI_CRANE_BIN" version 2>/dev/null)" != "$CRANE_VERSION" ]; then
        go_install "crane $CRANE_VERSION" \
            "github.com/google/go-containerregistry/cmd/crane@$CRANE_VERSION"
    fi
}

# go_install WHAT PACKAGE@VERSION: into the tools folder.
go_install() {
    need_go "to install $1" || return 1
    say "installing $1 into $TOOLS/bin (go install, a few minutes cold, once)"
    mkdir -p "$TOOLS/bin"
    GOBIN="$TOOLS/bin" CGO_ENABLED=0 go install "$2"
}

build_component() {
    say "building the component (wasm32-wasip2, release)"
    (cd "$ROOT" && cargo build --locked --release -p kloset-oci --target wasm32-wasip2)
    say "component: $COMPONENT ($(stat -c %s "$COMPONENT") bytes)"
}

# The self-contained component (world backend-self-contained: SHA-256 inside, only WASI
# imports), from the same sources with the feature `self-contained`, in a target folder of its
# own so that neither build overwrites the other.
COMPONENT_SELF_CONTAINED="$CARGO_TARGET_DIR/self-contained/wasm32-wasip2/release/kloset_oci.wasm"
build_component_self_contained() {
    say "building the self-contained component (wasm32-wasip2, release, --features self-contained)"
    (cd "$ROOT" && cargo build --locked --release -p kloset-oci --target wasm32-wasip2 \
        --features self-contained --target-dir "$CARGO_TARGET_DIR/self-contained")
    say "self-contained component: $COMPONENT_SELF_CONTAINED ($(stat -c %s "$COMPONENT_SELF_CONTAINED") bytes)"
}

# The Plakar plugin: its executable, built like the host (dev profile, optimised).
PLUGIN="$CARGO_TARGET_DIR/debug/kloset-oci-plakar"
build_plugin() {
    say "building the Plakar plugin"
    (cd "$ROOT" && cargo build --locked -p kloset-oci-plakar --bin kloset-oci-plakar)
}

build_cli() {
    say "building the kloset-oci command"
    (cd "$ROOT" && cargo build --locked -p kloset-oci-host --bin kloset-oci)
}
