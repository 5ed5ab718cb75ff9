// The lab panel: starts the learner's cluster and shows its life as it happens. Updates come
// over a WebSocket (/ws/sandboxes/<id>/events/); if that cannot connect, the panel polls the
// JSON status every two seconds instead. Every state change is re-announced on the document as
// a "sandbox:update" event, which the terminal and the exercise panel listen to.
//
// One button gets the learner the cluster the lesson needs (data-need-tier): it starts one, or
// switches to one when their cluster is of a tier that cannot serve the lesson. What a tier is
// called and which serves which come from the tier registry (the "lab-tiers" JSON), never from
// a tier's name written here.

const panel = document.getElementById("lab");
const TIERS = Object.fromEntries(
  JSON.parse(document.getElementById("lab-tiers")?.textContent || "[]").map((tier) => [tier.name, tier]));
const ACTIVE_STATES = ["requested", "provisioning", "ready", "expiring"];

function tierLabel(name) { return TIERS[name] ? TIERS[name].label : name; }

// Can a cluster of tier `have` serve a lesson that needs `need`? (The tiers are ordered.)
function serves(have, need) {
  return Boolean(TIERS[have] && TIERS[need]) && TIERS[have].rank >= TIERS[need].rank;
}

function csrfToken() {
  const field = panel.querySelector("input[name=csrfmiddlewaretoken]");
  return field ? field.value : "";
}

function formatSeconds(total) {
  const s = Math.max(0, Math.round(total));
  const m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m}:${String(s % 60).padStart(2, "0")}`;
}

const VIEW_FOR_STATE = {
  requested: "queued", provisioning: "starting", ready: "ready", expiring: "expiring",
  deleting: "stopping", deleted: "stopped", failed: "failed",
};

class LabPanel {
  constructor(root) {
    this.root = root;
    this.sandbox = null;
    this.socket = null;
    this.pollTimer = null;
    this.tickTimer = null;
    this.deadline = null;
    root.addEventListener("click", (event) => this.onClick(event));
    const id = root.dataset.sandbox;
    if (id) this.follow(id);
  }

  bind(name) { return this.root.querySelector(`[data-bind="${name}"]`); }

  show(view) {
    for (const element of this.root.querySelectorAll("[data-view]")) {
      element.hidden = element.dataset.view !== view;
    }
  }

  error(message) {
    const box = this.bind("error");
    box.textContent = message || "";
    box.hidden = !message;
  }

  async post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken() },
      body: body ? new URLSearchParams(body) : undefined,
      credentials: "same-origin",
    });
    const data = await response.json().catch(() => ({ error: `The server answered ${response.status}.` }));
    if (!response.ok) throw new Error(data.error || `The server answered ${response.status}.`);
    return data;
  }

  async onClick(event) {
    const button = event.target.closest("[data-action]");
    if (!button) return;
    const action = button.dataset.action;
    if (action.startsWith("setup-")) return;  // the lesson's setup (lesson_setup.js)
    button.disabled = true;
    this.error("");
    try {
      if (action === "get") {
        await this.start(this.root.dataset.needTier, this.isActive());
      } else if (this.sandbox) {
        if (action === "stop" && !window.confirm("Stop your cluster? Everything in it is deleted.")) return;
        if (action === "reset" && !window.confirm("Delete this cluster and start a fresh one?")) return;
        const data = await this.post(`${this.root.dataset.baseUrl}${this.sandbox.id}/${action}/`);
        if (data.id !== this.sandbox.id) this.follow(data.id, data); else this.render(data);
      }
    } catch (err) {
      this.error(err.message);
    } finally {
      button.disabled = false;
    }
  }

  isActive() { return Boolean(this.sandbox && ACTIVE_STATES.includes(this.sandbox.state)); }

  // Start (or switch to, with `replace`) the learner's cluster of this tier.
  async start(tier, replace) {
    if (replace && this.sandbox && this.sandbox.tier !== tier && this.sandbox.usable &&
        !window.confirm(`Switch to your ${tierLabel(tier)}? Your current cluster and everything in it are deleted; your progress is kept.`)) return;
    try {
      const data = await this.post(this.root.dataset.startUrl, {
        tier, course: this.root.dataset.course, lesson: this.root.dataset.lesson, replace: replace ? "1" : "0",
      });
      this.follow(data.id, data);
    } catch (err) {
      this.error(err.message);
    }
  }

  follow(id, initial) {
    this.close();
    this.root.dataset.sandbox = id;
    if (initial) this.render(initial);
    this.connect(id);
  }

  close() {
    if (this.socket) { this.socket.onclose = null; this.socket.close(); this.socket = null; }
    clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  connect(id) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    let opened = false;
    const socket = new WebSocket(`${scheme}://${location.host}/ws/sandboxes/${id}/events/`);
    this.socket = socket;
    socket.onopen = () => { opened = true; clearInterval(this.pollTimer); this.pollTimer = null; };
    socket.onmessage = (message) => {
      const data = JSON.parse(message.data);
      if (data.type === "sandbox") this.render(data.sandbox);
      if (data.type === "error") this.error(data.message);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      // 4400-4499: refused (not logged in, not yours, no such lab); its error message is shown
      // and asking again would only be refused again.
      if (event.code >= 4400 && event.code < 4500) return;
      // Fall back to polling; try the socket again later if it had worked before.
      this.startPolling(id);
      if (opened) setTimeout(() => { if (this.root.dataset.sandbox === id && !this.socket) this.connect(id); }, 5000);
    };
    if (!this.pollTimer) this.pollOnce(id);
  }

  startPolling(id) {
    if (this.pollTimer) return;
    this.pollTimer = setInterval(() => this.pollOnce(id), 2000);
  }

  async pollOnce(id) {
    try {
      const response = await fetch(`${this.root.dataset.baseUrl}${id}/`, { credentials: "same-origin" });
      if (response.ok) this.render(await response.json());
    } catch (err) { /* offline for a moment: the next poll tries again */ }
  }

  render(sandbox) {
    this.sandbox = sandbox;
    this.root.dataset.state = sandbox.state;
    this.bind("state-label").textContent = sandbox.state_label;
    this.show(VIEW_FOR_STATE[sandbox.state] || "idle");
    const active = ACTIVE_STATES.includes(sandbox.state);
    this.root.querySelector('[data-action="stop"]').hidden = !active;
    this.root.querySelector('[data-action="reset"]').hidden = !["ready", "expiring", "failed"].includes(sandbox.state);
    this.bind("tier-label").textContent = tierLabel(sandbox.tier);
    this.renderGetButton(active && sandbox.tier);
    const bar = this.bind("percent-bar");
    bar.style.width = `${sandbox.percent || 0}%`;
    bar.parentElement.setAttribute("aria-valuenow", sandbox.percent || 0);
    this.bind("message").textContent = sandbox.message || "Starting…";
    this.bind("eta").textContent = sandbox.eta_seconds ? `about ${sandbox.eta_seconds} s left` : "";
    this.bind("position").textContent = sandbox.queue_position || 1;
    this.bind("failure").textContent = sandbox.failure || "";
    // The reconciler restarted a cluster that had stopped answering: say so while it runs.
    const restarted = active && sandbox.step === "restarted";
    this.bind("notice").hidden = !restarted;
    this.bind("notice").textContent = restarted ? sandbox.message : "";
    this.deadline = sandbox.seconds_left != null ? Date.now() + sandbox.seconds_left * 1000 : null;
    this.tick();
    clearInterval(this.tickTimer);
    if (this.deadline) this.tickTimer = setInterval(() => this.tick(), 1000);
    document.dispatchEvent(new CustomEvent("sandbox:update", { detail: sandbox }));
  }

  // The one button: hidden while the learner's cluster serves the lesson; else "Start your X",
  // or "Switch to your X" while a cluster of a tier that cannot serve it is active.
  renderGetButton(activeTier) {
    const need = this.root.dataset.needTier;
    const box = this.bind("get-cluster");
    box.hidden = Boolean(activeTier) && serves(activeTier, need);
    const button = box.querySelector('[data-action="get"]');
    const switching = Boolean(activeTier);
    button.textContent = switching ? button.dataset.switchLabel : button.dataset.startLabel;
    this.bind("replaces").hidden = !switching;
  }

  tick() {
    if (!this.deadline) return;
    const left = (this.deadline - Date.now()) / 1000;
    this.bind("countdown").textContent = formatSeconds(left);
    this.bind("time-left").textContent = `Stops after ${formatSeconds(left)} without activity.`;
  }
}

if (panel) window.labPanel = new LabPanel(panel);
