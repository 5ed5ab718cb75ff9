// The lesson's setup, in the lab panel: "Preparing your cluster for this lesson…" while the
// course's and the lesson's setup scripts run on the learner's cluster (in the lab's worker),
// and, when one failed, its last lines of output and a button to run it again. The page asks
// for the setup when the learner's cluster becomes usable (the server also sends it when the
// lesson opens and when the lab starts), and reads its state again on every lab update and,
// while it is pending, every two seconds.

const lab = document.getElementById("lab");
const POLL_MS = 2000;
const MOST_POLLS = 300;  // ten minutes of "pending" at the most, then the page stops asking

function csrfToken() {
  const field = lab.querySelector("input[name=csrfmiddlewaretoken]");
  return field ? field.value : "";
}

class LessonSetup {
  constructor(root, box) {
    this.root = root;
    this.box = box;
    this.url = root.dataset.setupUrl;
    this.askedFor = null;  // the sandbox the page last asked to prepare
    this.polls = 0;
    this.timer = null;
    this.wasPending = box.dataset.state === "pending";
    root.addEventListener("click", (event) => {
      const button = event.target.closest('[data-action="setup-again"]');
      if (button) this.runAgain(button);
    });
    document.addEventListener("sandbox:update", (event) => this.onLab(event.detail));
    if (this.wasPending) this.schedule();
  }

  view(name) { return this.box.querySelector(`[data-setup-view="${name}"]`); }

  render(status) {
    const state = status.state;
    this.box.dataset.state = state;
    const justDone = state === "done" && this.wasPending;
    this.box.hidden = !(state === "pending" || state === "failed" || justDone);
    this.view("pending").hidden = state !== "pending";
    this.view("done").hidden = !justDone;
    this.view("failed").hidden = state !== "failed";
    if (state === "failed") {
      this.box.querySelector('[data-bind="setup-what"]').textContent =
        `${status.part === "course" ? "The course's setup" : "This lesson's setup"} failed`;
      this.box.querySelector('[data-bind="setup-exit"]').textContent =
        status.exit_code === null ? "it did not finish" : `exit code ${status.exit_code}`;
      this.box.querySelector('[data-bind="setup-tail"]').textContent = status.tail || "(no output)";
    }
    if (state === "pending") this.wasPending = true;
    if (state === "pending") this.schedule(); else this.stop();
  }

  schedule() {
    if (this.timer || this.polls >= MOST_POLLS) return;
    this.timer = setTimeout(() => { this.timer = null; this.polls += 1; this.read(); }, POLL_MS);
  }

  stop() { clearTimeout(this.timer); this.timer = null; this.polls = 0; }

  async read() {
    try {
      const response = await fetch(this.url, { credentials: "same-origin" });
      if (response.ok) this.render(await response.json());
      else this.schedule();
    } catch (err) { this.schedule(); /* offline for a moment: ask again */ }
  }

  async ask(body) {
    const response = await fetch(this.url, {
      method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() },
      body: new URLSearchParams(body || {}),
    });
    if (response.ok) this.render(await response.json());
  }

  // A usable cluster (newly ready, or another one after a switch) is prepared for the lesson.
  onLab(sandbox) {
    if (!sandbox || !sandbox.usable) return;
    if (this.askedFor !== sandbox.id) {
      this.askedFor = sandbox.id;
      this.ask().catch(() => this.schedule());
    } else if (!this.timer) {
      this.read();
    }
  }

  async runAgain(button) {
    button.disabled = true;
    try { await this.ask({ again: "1" }); } finally { button.disabled = false; }
  }
}

const box = lab && lab.querySelector('[data-bind="setup"]');
if (box && lab.dataset.setupUrl) window.lessonSetup = new LessonSetup(lab, box);
