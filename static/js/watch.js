// The watch page has no lab panel: tell the terminal (terminal.js, loaded before this module)
// which sandbox to attach to, read-only.
const terminal = document.getElementById("terminal");
if (terminal) {
  const id = terminal.dataset.watchSandbox;
  document.dispatchEvent(new CustomEvent("sandbox:update", { detail: { id, usable: true, state: "ready" } }));
}
