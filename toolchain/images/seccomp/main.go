// Command seccomp-jail writes the seccomp profile of the lab's web container: Docker's own
// default profile (from the Docker module pinned in go.mod, the version Debian's docker.io
// ships), plus exactly the system calls bubblewrap needs to build a learner's jail as an
// unprivileged user: clone with namespace flags and unshare (user, mount, pid, net, ipc, uts and
// cgroup namespaces), mount and umount2 (the jail's file system), pivot_root and chroot (its new
// root) and sethostname (its own host name). Docker's default allows these only to a container
// holding CAP_SYS_ADMIN (or CAP_SYS_CHROOT), which the web container does not get: inside the
// jail they act on the jail's own namespaces, never on the container's.
//
// usage: go run . -o <profile.json>
package main

import (
	"encoding/json"
	"flag"
	"log"
	"os"

	"github.com/docker/docker/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

var jailSyscalls = []string{"clone", "unshare", "mount", "umount2", "pivot_root", "chroot", "sethostname"}

func main() {
	out := flag.String("o", "", "where to write the profile")
	flag.Parse()
	if *out == "" {
		log.Fatal("usage: seccomp-jail -o <profile.json>")
	}
	profile := seccomp.DefaultProfile()
	profile.Syscalls = append(withoutJailSyscalls(profile.Syscalls), &seccomp.Syscall{
		Names:   jailSyscalls,
		Action:  specs.ActAllow,
		Args:    []*specs.LinuxSeccompArg{},
		Comment: "k8s-lab: bubblewrap builds the learner's jail in namespaces of its own",
	})
	data, err := json.MarshalIndent(profile, "", "\t")
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, append(data, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
}

// withoutJailSyscalls drops the jail's system calls from Docker's conditional rules (allowed only
// with a capability, or clone only without namespace flags): one unconditional rule replaces
// them, and two rules for one call would make Docker refuse the profile.
func withoutJailSyscalls(rules []*seccomp.Syscall) []*seccomp.Syscall {
	jail := map[string]bool{}
	for _, name := range jailSyscalls {
		jail[name] = true
	}
	var kept []*seccomp.Syscall
	for _, rule := range rules {
		var names []string
		for _, name := range rule.Names {
			if !jail[name] {
				names = append(names, name)
			}
		}
		if len(names) == 0 {
			continue
		}
		rule.Names = names
		kept = append(kept, rule)
	}
	return kept
}
