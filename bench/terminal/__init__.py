"""The web terminal, measured beside its peers in one run; prints one JSON document on stdout.

    .venv/bin/python bench/terminal.py [--sessions 100] [--quick] [--save]
    .venv/bin/python -m bench.terminal ...           (the same)

Servers (all on 127.0.0.1, all up at the same time, measured one after the other):
  lab            uvicorn serving lab.asgi:application (--ws websockets, as `make run` starts it), a
                 real jailed shell (bubblewrap) on a real kwok cluster, reached through the real
                 Origin check, session cookie and owner check. The client offers permessage-deflate,
                 as every browser does; uvicorn accepts it.
  lab-nodeflate  the same server and shell, the client not offering compression.
  terminado      terminado 0.18.1 (Jupyter's terminal server) on tornado, UniqueTermManager.
  wetty          wetty from npm (node, node-pty, socket.io), running the shell locally (it does so
                 when it runs as root and its ssh host is localhost: no ssh involved).
  raw            no server: this process reads the shell's PTY itself (the ceiling).
Peers run `bash --rcfile images/toolbox/bashrc -i` unjailed; the lab runs the same rc file in
its jail. Every window is 80x24. Clients acknowledge output as the real ones do: the lab's
{"type":"ack"} every 64 KiB, wetty's "commit" every 256 Ki characters; terminado has none.
Progress goes to stderr; --save also writes bench/results/terminal-<date>.json.

The modules: clients (one per server, speaking its protocol), peers (starting the servers),
measurements (echo, throughput, Ctrl-C, stalled client, concurrent typists, py-spy), report
(targets, notes, verdicts) and run (the command line and the order of the sections).
"""
