// The class dashboard: the server says "changed" over /ws/classes/<id>/ the moment a learner of
// the class progresses or their lab changes, and the page then fetches matrix.json. Without the
// socket it polls every few seconds; with it, a slow poll only catches learners who joined since.
const root = document.getElementById("class-dashboard");
const POLL_MS = 3000;
const SAFETY_POLL_MS = 30000;

function cell(c) {
  const td = document.createElement("td");
  td.className = `cell${c.passed ? " passed" : c.attempts ? " tried" : ""}`;
  td.title = `${c.passed ? `passed ${c.passed_at}` : "not passed"}, ${c.attempts} attempt(s)${c.solution_revealed ? ", saw the solution" : ""}`;
  td.textContent = c.passed ? "✓" : c.attempts ? String(c.attempts) : "·";
  if (c.solution_revealed) {
    const peek = document.createElement("span");
    peek.className = "peek";
    peek.textContent = "●";
    peek.setAttribute("aria-label", "saw the solution");
    td.appendChild(peek);
  }
  return td;
}

function renderMatrix(data) {
  const body = root.querySelector('[data-bind="matrix"]');
  const n = data.learners.length;
  root.querySelector('[data-bind="learner-count"]').textContent = `${n} learner${n === 1 ? "" : "s"}`;
  if (!n) return;
  body.replaceChildren(...data.learners.map((row) => {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = row.user;
    tr.appendChild(th);
    row.cells.forEach((c) => tr.appendChild(cell(c)));
    const total = document.createElement("td");
    total.textContent = `${row.done}/${data.exercises.length}`;
    tr.appendChild(total);
    return tr;
  }));
}

function renderSandboxes(data) {
  // States and ages change; rows only appear or disappear on a reload, where the actions are.
  for (const sb of data.sandboxes) {
    const row = root.querySelector(`[data-sandbox="${sb.id}"]`);
    if (!row) continue;
    row.children[2].textContent = sb.state;
    row.children[3].textContent = `${sb.age_seconds} s`;
    row.children[4].textContent = sb.memory_mib ? `${sb.memory_mib} MiB` : "–";
  }
}

async function refresh() {
  try {
    const response = await fetch(root.dataset.matrixUrl, { credentials: "same-origin" });
    if (!response.ok) return;
    const data = await response.json();
    renderMatrix(data);
    renderSandboxes(data);
    root.dataset.refreshed = String(Date.now());
  } catch (err) { /* keep the last picture; try again */ }
}

let pollTimer = null;

function poll(every) {
  clearInterval(pollTimer);
  pollTimer = setInterval(refresh, every);
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws/classes/${root.dataset.class}/`);
  socket.onopen = () => { root.dataset.live = "true"; poll(SAFETY_POLL_MS); refresh(); };
  socket.onmessage = (message) => {
    const data = JSON.parse(message.data);
    if (data.type === "changed") refresh();
  };
  socket.onclose = (event) => {
    root.dataset.live = "false";
    poll(POLL_MS);
    // 4400-4499: refused (logged out, not this instructor's class): polling alone carries on.
    if (event.code < 4400 || event.code >= 4500) setTimeout(connect, 5000);
  };
}

if (root) {
  poll(POLL_MS);
  connect();
  // The join link is selected whole when focused, ready to copy.
  for (const input of root.querySelectorAll("[data-select-on-focus]")) {
    input.addEventListener("focus", () => input.select());
  }
}
