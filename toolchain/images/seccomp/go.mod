// The generator of the web container's seccomp profile (main.go): Docker's default profile,
// pinned to the Docker release Debian bookworm's docker.io ships, plus the jail's system calls.
module k8s-lab/toolchain/images/seccomp

go 1.26.0

require (
	github.com/docker/docker v20.10.24+incompatible
	github.com/opencontainers/runtime-spec v1.3.0
)

require (
	golang.org/x/sys v0.50.0 // indirect
	gotest.tools/v3 v3.5.2 // indirect
)
