// runc-capfilter: a runc wrapper for hosts whose capability bounding set lacks some
// capabilities (here CAP_SYS_RESOURCE). `docker run --privileged` asks for every capability the
// runtime knows; runc then fails with "unable to apply caps: operation not permitted" because a
// process can never gain a capability outside its bounding set. This wrapper removes, from the
// OCI bundle's config.json (runc create/run) or the process file (runc exec --process), every
// capability the wrapper's own bounding set does not hold, then execs the real runc with the
// same arguments. Nothing else is changed; on a host with the full set it changes nothing.
//
// Why a Go program and not a shell script: it runs for every container operation under
// containerd's shim, where PATH and tools like jq are not guaranteed; JSON is rewritten with a
// real parser; and syscall.Exec keeps the pid the shim waits on.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// realRunc is set at build time (-ldflags -X main.realRunc=/usr/sbin/runc).
var realRunc = "/usr/sbin/runc"

// Capability names by bit number, as in linux/capability.h (0 .. CAP_LAST_CAP 40).
var capNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
	"CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
	"CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

func main() {
	if err := filter(os.Args[1:]); err != nil {
		// Never block the container operation: runc itself reports the real error, if any.
		fmt.Fprintf(os.Stderr, "runc-capfilter: %v (passing the request through unchanged)\n", err)
	}
	argv := append([]string{realRunc}, os.Args[1:]...)
	if err := syscall.Exec(realRunc, argv, os.Environ()); err != nil {
		fmt.Fprintf(os.Stderr, "runc-capfilter: exec %s: %v\n", realRunc, err)
		os.Exit(127)
	}
}

// filter finds the file that carries the capabilities for this invocation and rewrites it.
func filter(args []string) error {
	cmd, rest := subcommand(args)
	switch cmd {
	case "create", "run":
		bundle := flagValue(rest, "bundle", "b")
		if bundle == "" {
			bundle = "." // runc's default: the current directory
		}
		return rewrite(filepath.Join(bundle, "config.json"), func(doc map[string]any) map[string]any {
			process, _ := doc["process"].(map[string]any)
			if process == nil {
				return nil
			}
			caps, _ := process["capabilities"].(map[string]any)
			return caps
		})
	case "exec":
		path := flagValue(rest, "process", "p")
		if path == "" {
			return nil // capabilities come from --cap flags, which Docker does not use
		}
		return rewrite(path, func(doc map[string]any) map[string]any {
			caps, _ := doc["capabilities"].(map[string]any)
			return caps
		})
	}
	return nil
}

// subcommand skips runc's global flags (--root X, --log X, --log-format X, --systemd-cgroup, ...).
func subcommand(args []string) (string, []string) {
	withValue := map[string]bool{"--root": true, "--log": true, "--log-format": true, "--criu": true, "--rootless": true}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			if withValue[a] {
				i++
			}
			continue
		}
		return a, args[i+1:]
	}
	return "", nil
}

// flagValue returns the value of --long/-short in "--long X", "--long=X", "-s X" forms.
func flagValue(args []string, long, short string) string {
	for i, a := range args {
		for _, name := range []string{"--" + long, "-" + long, "-" + short} {
			if a == name && i+1 < len(args) {
				return args[i+1]
			}
			if strings.HasPrefix(a, name+"=") {
				return strings.TrimPrefix(a, name+"=")
			}
		}
	}
	return ""
}

func rewrite(path string, capsOf func(map[string]any) map[string]any) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	caps := capsOf(doc)
	if caps == nil {
		return nil
	}
	allowed, err := boundingSet()
	if err != nil {
		return err
	}
	changed := false
	for set, v := range caps {
		list, ok := v.([]any)
		if !ok {
			continue
		}
		kept := make([]any, 0, len(list))
		for _, c := range list {
			name, _ := c.(string)
			if allowed[strings.ToUpper(name)] || !known(name) {
				kept = append(kept, c)
			}
		}
		if len(kept) != len(list) {
			caps[set] = kept
			changed = true
		}
	}
	if !changed {
		return nil
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp := path + ".capfilter"
	if err := os.WriteFile(tmp, out, info.Mode().Perm()); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func known(name string) bool {
	for _, n := range capNames {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// boundingSet reads CapBnd from /proc/self/status: the capabilities any child can ever hold.
func boundingSet() (map[string]bool, error) {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, "CapBnd:") {
			continue
		}
		mask, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(line, "CapBnd:")), 16, 64)
		if err != nil {
			return nil, err
		}
		set := map[string]bool{}
		for bit, name := range capNames {
			if mask&(1<<uint(bit)) != 0 {
				set[name] = true
			}
		}
		return set, nil
	}
	return nil, fmt.Errorf("no CapBnd line in /proc/self/status")
}
