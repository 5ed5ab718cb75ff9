// Lesson page behaviour: copy buttons on code blocks and keyboard shortcuts between lessons.
// The terminal module adds "Run in terminal" when the learner's lab is running.

function codeText(button) {
  const block = button.closest(".codehilite");
  const code = block && block.querySelector("pre code, pre");
  return code ? code.textContent.replace(/\n$/, "") : "";
}

async function copy(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Plain-HTTP pages (a lab on a LAN address) have no async clipboard: fall back to a selection.
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  document.execCommand("copy");
  area.remove();
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest(".code-copy");
  if (!button) return;
  try {
    await copy(codeText(button));
    button.textContent = "Copied";
    button.classList.add("done");
  } catch (err) {
    button.textContent = "Copy failed";
  }
  setTimeout(() => { button.textContent = "Copy"; button.classList.remove("done"); }, 1500);
});

document.addEventListener("keydown", (event) => {
  if (!event.altKey || event.ctrlKey || event.metaKey) return;
  const target = event.target;
  if (target.closest && target.closest("input, textarea, .xterm")) return;
  const which = event.key === "ArrowLeft" ? "prev" : event.key === "ArrowRight" ? "next" : null;
  if (!which) return;
  const control = document.querySelector(`[data-shortcut="${which}"]`);
  if (!control) return;
  event.preventDefault();
  control.click();
});

// Live preview for authors (instructors): when a file of this course changes on disk, reload the
// page and come back to the same place in the lesson.
const pane = document.querySelector("[data-preview-url]");
if (pane) {
  const key = `k8slab-scroll:${location.pathname}`;
  const saved = sessionStorage.getItem(key);
  if (saved !== null) { pane.scrollTop = Number(saved); sessionStorage.removeItem(key); }
  let version = null;
  setInterval(async () => {
    try {
      const response = await fetch(pane.dataset.previewUrl, { credentials: "same-origin", cache: "no-store" });
      if (!response.ok) return;
      const data = await response.json();
      if (version !== null && data.version !== version) {
        sessionStorage.setItem(key, String(pane.scrollTop));
        location.reload();
      }
      version = data.version;
    } catch (err) { /* the server restarts now and then; keep polling */ }
  }, 1500);
}

export { codeText };
