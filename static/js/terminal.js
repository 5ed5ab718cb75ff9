// The learner's terminal: xterm.js 6 over /ws/sandboxes/<id>/terminal/ (docs/terminal-protocol.md).
// Output arrives as binary frames and is written to xterm as Uint8Array; every byte xterm has
// processed is acknowledged (in batches) so the server can pace a flood to what the page renders.
// The shell lives on the server: a dropped socket reconnects with the byte offset it had reached
// and continues without a gap; a reloaded page gets the scrollback.

const panel = document.getElementById("terminal");
const ACK_EVERY = 64 * 1024;
const ACK_IDLE_MS = 100;
const PING_MS = 25000;
// The server refused for a reason that retrying will not fix (its "error" message says which).
const FINAL_CLOSE_CODES = new Set([4400, 4401, 4403, 4404, 4409, 4429]);

class LabTerminal {
  constructor(root) {
    this.root = root;
    this.host = root.querySelector('[data-bind="terminal-host"]');
    this.placeholder = root.querySelector('[data-bind="terminal-placeholder"]');
    this.status = root.querySelector('[data-bind="terminal-status"]');
    this.sandboxId = null;
    this.socket = null;
    this.session = null;
    this.offset = null;
    this.pendingAck = 0;
    this.ackTimer = null;
    this.retry = 0;
    this.wanted = false;
    this.encoder = new TextEncoder();
    document.addEventListener("sandbox:update", (event) => this.onSandbox(event.detail));
    document.addEventListener("click", (event) => this.onRunClick(event));
    document.addEventListener("lesson:content-added", () => this.enableRunButtons(this.connected()));
  }

  async load() {
    if (this.term) return;
    const [{ Terminal }, { FitAddon }, { WebLinksAddon }] = await Promise.all([
      import(this.root.dataset.xterm), import(this.root.dataset.fit), import(this.root.dataset.links),
    ]);
    this.term = new Terminal({
      cursorBlink: true, fontSize: 14, scrollback: 5000, allowProposedApi: false,
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", "Liberation Mono", Menlo, monospace',
      theme: { background: "#0d1117", foreground: "#e6edf3", cursor: "#58a6ff", selectionBackground: "#264f78" },
    });
    this.fit = new FitAddon();
    this.term.loadAddon(this.fit);
    this.term.loadAddon(new WebLinksAddon());
    this.host.hidden = false;
    this.term.open(this.host);
    try {
      // The GPU renderer is much faster on floods; fall back to the DOM renderer without it.
      const { WebglAddon } = await import(this.root.dataset.webgl);
      const webgl = new WebglAddon();
      webgl.onContextLoss(() => webgl.dispose());
      this.term.loadAddon(webgl);
      this.renderer = "webgl";
    } catch (err) {
      this.renderer = "dom";
    }
    this.root.dataset.renderer = this.renderer;
    this.fit.fit();
    this.term.onData((data) => this.sendInput(this.encoder.encode(data)));
    this.term.onBinary((data) => this.sendInput(Uint8Array.from(data, (c) => c.charCodeAt(0))));
    this.term.onResize(({ cols, rows }) => this.sendControl({ type: "resize", cols, rows }));
    new ResizeObserver(() => this.fit.fit()).observe(this.host);
    window.labTerminal = this;
  }

  onSandbox(sandbox) {
    const usable = sandbox.usable;
    if (usable && (!this.wanted || this.sandboxId !== sandbox.id)) {
      this.sandboxId = sandbox.id;
      this.wanted = true;
      this.placeholder.hidden = true;
      this.load().then(() => this.connect());
    } else if (!usable && this.wanted) {
      this.wanted = false;
      this.disconnect();
      this.setStatus("");
      this.placeholder.hidden = false;
      this.placeholder.querySelector("p").textContent =
        sandbox.state === "deleted" || sandbox.state === "deleting"
          ? "Your cluster is stopped. Start a new lab to get a terminal."
          : "Start your lab: a terminal bound to your own cluster appears here.";
      this.enableRunButtons(false);
    }
  }

  connect() {
    if (!this.wanted || this.socket) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const params = new URLSearchParams({ cols: this.term.cols, rows: this.term.rows });
    if (this.offset !== null) params.set("offset", this.offset);
    const socket = new WebSocket(`${scheme}://${location.host}/ws/sandboxes/${this.sandboxId}/terminal/?${params}`);
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    this.setStatus("connecting…");
    socket.onmessage = (event) => this.onMessage(event);
    socket.onclose = (event) => this.onClose(socket, event);
    this.pingTimer = setInterval(() => this.sendControl({ type: "ping" }), PING_MS);
  }

  disconnect() {
    clearInterval(this.pingTimer);
    if (this.socket) {
      const socket = this.socket;
      this.socket = null;
      socket.onclose = null;
      socket.close();
    }
  }

  onMessage(event) {
    if (typeof event.data !== "string") {
      const bytes = new Uint8Array(event.data);
      this.offset += bytes.length;
      this.term.write(bytes, () => this.processed(bytes.length));
      return;
    }
    let message;
    try { message = JSON.parse(event.data); } catch (err) { return; }
    if (message.type === "hello") {
      if (message.session !== this.session) {
        // A new shell (or a fresh page): start from a clean screen and the server's offset.
        this.term.reset();
        this.session = message.session;
      }
      this.offset = message.offset;
      this.retry = 0;
      this.readonly = message.readonly;
      this.setStatus(message.readonly ? "watching (read-only)" : "connected");
      this.enableRunButtons(!message.readonly);
      this.fit.fit();
      this.sendControl({ type: "resize", cols: this.term.cols, rows: this.term.rows });
      if (!message.readonly) this.term.focus();
    } else if (message.type === "exit") {
      this.session = null;
      this.offset = null;
      this.term.write(`\r\n\x1b[33m[the shell exited with code ${message.code}; a new one starts when you reconnect]\x1b[0m\r\n`);
      this.setStatus("shell exited");
    } else if (message.type === "error") {
      this.term.write(`\r\n\x1b[33m[${message.message}]\x1b[0m\r\n`);
    }
  }

  onClose(socket, event) {
    if (this.socket !== socket) return;
    this.socket = null;
    clearInterval(this.pingTimer);
    this.enableRunButtons(false);
    if (!this.wanted) return;
    if (FINAL_CLOSE_CODES.has(event.code)) {
      this.setStatus("disconnected");
      return;
    }
    // Reconnect with back-off; the server resumes from this.offset without a gap.
    const delay = Math.min(5000, 300 * 2 ** this.retry++);
    this.setStatus(`reconnecting in ${Math.round(delay / 1000)} s…`);
    setTimeout(() => this.connect(), delay);
  }

  processed(count) {
    this.pendingAck += count;
    if (this.pendingAck >= ACK_EVERY) {
      this.flushAck();
    } else if (!this.ackTimer) {
      this.ackTimer = setTimeout(() => this.flushAck(), ACK_IDLE_MS);
    }
  }

  flushAck() {
    clearTimeout(this.ackTimer);
    this.ackTimer = null;
    if (this.pendingAck > 0 && this.sendControl({ type: "ack", bytes: this.pendingAck })) {
      this.pendingAck = 0;
    }
  }

  sendControl(message) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  sendInput(bytes) {
    if (this.readonly || !this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(bytes);
    return true;
  }

  // "Run in terminal" on a lesson's code block types its lines, as if the learner had.
  onRunClick(event) {
    const button = event.target.closest(".code-run");
    if (!button || button.disabled) return;
    const code = button.closest(".codehilite").querySelector("pre");
    const text = code.textContent.replace(/\n$/, "");
    if (this.sendInput(this.encoder.encode(text.split("\n").join("\r") + "\r"))) {
      this.term.focus();
      button.textContent = "Sent";
      setTimeout(() => { button.textContent = "Run in terminal"; }, 1200);
    }
  }

  enableRunButtons(enabled) {
    for (const button of document.querySelectorAll(".code-run")) {
      button.disabled = !enabled;
      button.title = enabled ? "Type this into your terminal" : "Start your lab to run this";
    }
  }

  connected() { return Boolean(this.socket && this.socket.readyState === WebSocket.OPEN && !this.readonly); }

  setStatus(text) { this.status.textContent = text; }
}

if (panel) new LabTerminal(panel);
