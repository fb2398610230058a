// Builds Plakar v1.1.4, unchanged, from the Go module proxy (scripts/setup.sh, install_plakar).
// `go install github.com/PlakarKorp/plakar@v1.1.4` cannot work on the project's machines: one
// dependency, go.omarpolo.com/ttlmap (used only by Plakar's web UI API), is not served by the
// module proxy they reach, so it is replaced by ./ttlmap, a small implementation of ours.
module kloset-oci.example/plakar-build

go 1.25.0

require github.com/PlakarKorp/plakar v1.1.4

replace go.omarpolo.com/ttlmap => ./ttlmap
