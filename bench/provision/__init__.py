"""Provisioning, measured through the real path; prints one JSON document on stdout.

    .venv/bin/python bench/provision.py [--cold 10] [--warm 10] [--capacity 40] [--save]
    .venv/bin/python -m bench.provision ...          (the same)

Everything runs in a private environment: its own data dir in /tmp (LAB_DATA_DIR), Redis, Celery
queue, channel prefix and Celery worker (4 processes, as `make run` and docker compose start it).
  cold      lifecycle.start(learner) -> provision task -> worker -> kwokctl -> /readyz -> node
            worker-1 Ready -> default service account -> state ready; timed from the call to the
            state change (the database is polled every 20 ms). Interleaved with the peer: plain
            `kwokctl create cluster` with the backend's own configuration file, timed to its exit
            and to the API server's /readyz.
  warm      the worker keeps a pool (SANDBOX_POOL_API in its environment); the time
            lifecycle.start takes to return a sandbox that is already ready.
  memory    RSS (and PSS, which counts shared pages once) of every process of one cluster: etcd,
            kube-apiserver, kube-controller-manager, kube-scheduler, kwok; found by the cluster's
            work dir in /proc/*/cmdline.
  capacity  waves of learners start at once (SANDBOX_CAPACITY_API=--capacity) until all of them are
            ready and each cluster answers `kubectl get nodes`; stops at --capacity, when
            MemAvailable would fall under --min-available-gib, or at the first wave that fails.
  full      the kind tier, when Docker answers and the node image is present (see --full).
The worker's reconciler runs at its start-up and deletes kind clusters named k8slab-* that its
database does not know, on the whole Docker host: so the api phases give the worker a `docker`
that fails (a stub first on TOOLCHAIN_BIN), and the full phase is skipped when kind clusters of
someone else carry that prefix.

The modules: lab (the lab's side: its worker, the api phases and the kwokctl peer), full (the
kind tier and plain kind beside it), readings (memory, CPU, step breakdowns) and run (the
command line and the verdicts).
"""
