// my-app: the small web application the Kubernetes course deploys, scales and rolls out
// (myrepo/my-app:1.0 and myrepo/my-app:2.0). It answers HTTP on port 3000 with its version and
// the pod it runs in, so a learner can watch a rolling update switch answers from 1.0 to 2.0,
// and logs one line per request to stdout, which is what `kubectl logs` shows.
//
// The version is stamped at build time: go build -ldflags "-X main.version=2.0".
package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

var version = "dev"

func main() {
	addr := ":" + envOr("PORT", "3000")
	hostname, _ := os.Hostname()
	logger := log.New(os.Stdout, "", 0)

	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-App-Version", version)
		fmt.Fprintf(w, "my-app %s on %s\n", version, hostname)
	})

	server := &http.Server{
		Addr:              addr,
		Handler:           logRequests(logger, mux),
		ReadHeaderTimeout: 10 * time.Second,
	}

	// Kubernetes stops a pod with SIGTERM: finish the requests in flight, then exit 0.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		logger.Printf("%s my-app %s shutting down", now(), version)
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = server.Shutdown(shutdown)
	}()

	logger.Printf("%s my-app %s listening on %s (pod %s)", now(), version, addr, hostname)
	if err := server.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		logger.Fatalf("%s my-app %s: %v", now(), version, err)
	}
}

// statusRecorder remembers the status code a handler wrote, for the log line.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func logRequests(logger *log.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		client, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			client = r.RemoteAddr
		}
		logger.Printf("%s %s %s %s %d %s %q", now(), client, r.Method, r.URL.RequestURI(),
			rec.status, time.Since(start).Round(time.Microsecond), r.UserAgent())
	})
}

func now() string { return time.Now().UTC().Format(time.RFC3339) }

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}
