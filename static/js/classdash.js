// The class dashboard refreshes its matrix and sandbox list every few seconds from matrix.json.
const root = document.getElementById("class-dashboard");
const REFRESH_MS = 3000;

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

if (root) setInterval(refresh, REFRESH_MS);
