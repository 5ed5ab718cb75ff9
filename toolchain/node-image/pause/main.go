// pause: the first process of every pod sandbox. containerd starts it to hold the pod's network
// (and IPC) namespaces open while the pod's containers come and go. It does nothing else: it
// sleeps until SIGINT or SIGTERM, then exits 0, and as PID 1 of a pod that shares its process
// namespace it reaps orphaned children so they do not linger as zombies.
//
// Built by toolchain/node-image/build.sh (CGO_ENABLED=0, a static binary) into the image
// registry.k8s.io/pause:$PAUSE_VERSION, the sandbox image kubeadm and containerd ask for.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// version is stamped at build time (-X main.version=...).
var version = "dev"

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "-v" || os.Args[1] == "--version") {
		fmt.Printf("pause (k8s-lab) %s\n", version)
		return
	}
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "Warning: pause should be the first process")
	}
	signals := make(chan os.Signal, 16)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig == syscall.SIGCHLD {
			reap()
			continue
		}
		fmt.Fprintf(os.Stderr, "Shutting down, got signal: %v\n", sig)
		os.Exit(0)
	}
}

// reap collects every exited child without blocking; one SIGCHLD may stand for several.
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
