// The exercise panel: live status over /ws/courses/<course>/<lesson>/grading/ (the server
// re-grades every second and whenever the learner runs a command, and sends only changes), with
// a JSON polling fallback; Check, quiz answers, hints one at a time, and the solution on request.

const panel = document.getElementById("exercises");

function csrfToken() {
  const field = document.querySelector("input[name=csrfmiddlewaretoken]");
  return field ? field.value : "";
}

class ExercisePanel {
  constructor(root) {
    this.root = root;
    this.socket = null;
    this.pollTimer = null;
    root.addEventListener("click", (event) => this.onClick(event));
    root.addEventListener("submit", (event) => this.onSubmit(event));
    // A new terminal command or a lab state change re-grades at once on the server; the page
    // can also ask after it did something itself. Added once here, not in connect(): every
    // reconnect would add another listener, and each would send its own refresh.
    document.addEventListener("sandbox:update", () => this.refresh());
    this.connect();
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}${this.root.dataset.ws}`);
    this.socket = socket;
    socket.onopen = () => { clearInterval(this.pollTimer); this.pollTimer = null; };
    socket.onmessage = (message) => {
      const data = JSON.parse(message.data);
      if (data.type === "status") this.render(data);
      if (data.type === "error") this.root.querySelector('[data-bind="live"]').textContent = data.message;
    };
    socket.onclose = (event) => {
      this.socket = null;
      // 4400-4499: refused, and its error message is shown; asking again would be refused again.
      if (event.code >= 4400 && event.code < 4500) return;
      if (!this.pollTimer) this.pollTimer = setInterval(() => this.poll(), 2000);
      setTimeout(() => { if (!this.socket) this.connect(); }, 5000);
    };
  }

  refresh() {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify({ type: "refresh" }));
    }
  }

  async poll() {
    try {
      const response = await fetch(this.root.dataset.statusUrl, { credentials: "same-origin" });
      if (response.ok) this.render(await response.json());
    } catch (err) { /* try again on the next tick */ }
  }

  exercise(slug) { return this.root.querySelector(`[data-exercise="${slug}"]`); }

  render(status) {
    const live = this.root.querySelector('[data-bind="live"]');
    if (status.error) { live.textContent = status.error; return; }
    live.textContent = status.has_sandbox
      ? "Checks run by themselves against your cluster as you work."
      : "Start your lab: most checks look at your own cluster.";
    // Exercises on a tier this lab does not offer are optional: they count for nothing.
    const required = status.exercises.filter((result) => result.offered !== false);
    for (const result of status.exercises) this.renderExercise(result);
    const done = required.filter((result) => result.done).length;
    const counter = this.root.querySelector('[data-bind="done-count"]');
    if (counter) counter.textContent = `${done} of ${required.length} done`;
    this.updateGate(done === required.length);
  }

  renderExercise(result) {
    const element = this.exercise(result.slug);
    if (!element) return;
    element.classList.toggle("passing", result.passed);
    element.classList.toggle("done", Boolean(result.done));
    element.querySelector('[data-bind="done"]').hidden = !result.done;
    const needs = element.querySelector('[data-bind="needs"]');
    if (needs && result.runnable !== undefined) needs.hidden = result.runnable;
    for (const check of result.checks) {
      const item = element.querySelector(`[data-check="${check.id}"]`);
      if (!item) continue;
      // "checking": a script that runs long has no result yet (it goes on in the background).
      item.dataset.state = check.pending ? "checking" : check.error ? "error" : check.passed ? "pass" : "fail";
      item.querySelector('[data-bind="message"]').textContent = check.message;
    }
  }

  updateGate(allDone) {
    if (this.root.dataset.gate !== "true") return;
    const next = document.querySelector('button[data-shortcut="next"]');
    if (next && allDone) { next.disabled = false; next.title = ""; }
  }

  async post(url, body) {
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() },
      body: body || undefined,
    });
    const data = await response.json().catch(() => ({ error: `The server answered ${response.status}.` }));
    if (!response.ok) throw new Error(data.error || `The server answered ${response.status}.`);
    return data;
  }

  async onClick(event) {
    const button = event.target.closest("[data-action]");
    if (!button || !this.root.contains(button)) return;
    const element = button.closest("[data-exercise]");
    const slug = element.dataset.exercise;
    const action = button.dataset.action;
    if (action === "hint") {
      const hidden = [...element.querySelectorAll(".hint[hidden]")];
      if (hidden.length) hidden[0].hidden = false;
      const shown = Number(button.dataset.total) - hidden.length + 1;
      if (hidden.length <= 1) button.hidden = true;
      else button.textContent = `Hint (${shown + 1} of ${button.dataset.total})`;
      return;
    }
    if (action === "solution" && !window.confirm("Show the solution? Your instructor will see that you looked.")) return;
    button.disabled = true;
    try {
      const data = await this.post(`${this.root.dataset.baseUrl}${slug}/${action}/`);
      if (action === "solution") {
        const box = element.querySelector('[data-bind="solution"]');
        box.innerHTML = data.html;  // sanitized on the server (nh3), like every lesson
        box.hidden = false;
        document.dispatchEvent(new CustomEvent("lesson:content-added", { detail: box }));
      } else {
        this.renderExercise(data);
      }
    } catch (err) {
      window.alert(err.message);
    } finally {
      button.disabled = false;
    }
  }

  async onSubmit(event) {
    const form = event.target.closest("form.quiz");
    if (!form) return;
    event.preventDefault();
    const slug = form.closest("[data-exercise]").dataset.exercise;
    const body = new FormData(form);
    body.set("check", form.dataset.check);
    const message = form.closest("[data-check]").querySelector('[data-bind="message"]');
    try {
      this.renderExercise(await this.post(`${this.root.dataset.baseUrl}${slug}/answer/`, body));
    } catch (err) {
      message.textContent = err.message;
      form.closest("[data-check]").dataset.state = "error";
    }
  }
}

if (panel && panel.dataset.ws && panel.querySelector(".exercise-list")) new ExercisePanel(panel);
