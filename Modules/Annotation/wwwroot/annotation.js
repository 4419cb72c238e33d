// The labelling page: one task at a time from the queue API, keyboard first. The next task is fetched (and reserved)
// while the current one is on screen, so Enter shows it at once.
(() => {
  const root = document.getElementById("labelling");
  if (!root) return;
  const project = root.dataset.project;
  const moderation = root.dataset.moderation === "true";
  const keys = JSON.parse(root.dataset.keys);
  const $ = id => document.getElementById(id);
  const error = $("label-error"), notice = $("notice"), taskBox = $("task"), text = $("task-text"), reveal = $("reveal");
  let current = null, prefetched = null, selected = new Set(), severities = new Map(), last = null, revealed = false, busy = false;
  const severityNames = { 1: "low", 2: "medium", 3: "high" };

  async function call(method, url, body) {
    const response = await fetch(url, { method, headers: { "Content-Type": "application/json" }, body: body && JSON.stringify(body) });
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) throw new Error((data && (data.detail || data.title)) || `The server answered ${response.status}.`);
    return data;
  }

  function fail(e) { error.textContent = e.message; }

  async function fetchNext(exclude) {
    const query = exclude.filter(Boolean).map(id => `exclude=${id}`).join("&");
    return await call("GET", `/api/annotation/projects/${project}/next${query ? "?" + query : ""}`);
  }

  function showProgress(p, message) {
    $("progress").textContent = `${p.open}${p.openAtLeast ? "+" : ""} open in this project · you labelled ${p.labelledToday} today · severe items revealed today: ${p.revealedToday} of ${p.revealLimit}`;
    notice.hidden = !message;
    notice.textContent = message || "";
  }

  function age(created) {
    const minutes = Math.max(0, Math.round((Date.now() - new Date(created + (created.endsWith("Z") ? "" : "Z")).getTime()) / 60000));
    return minutes < 60 ? `${minutes} min old` : minutes < 2880 ? `${Math.round(minutes / 60)} h old` : `${Math.round(minutes / 1440)} days old`;
  }

  function render(task) {
    current = task;
    selected = new Set();
    severities = new Map();
    revealed = !task || !task.severe;
    document.querySelectorAll(".category").forEach(b => { b.setAttribute("aria-pressed", "false"); showSeverity(b.dataset.category); });
    $("note").value = "";
    $("skip-form").hidden = true;
    updateSubmitLabel();
    if (!task) { taskBox.hidden = true; return; }
    taskBox.hidden = false;
    taskBox.dataset.id = task.id;
    $("task-kind").textContent = task.kind === "item" ? "item" : `${task.kind} chat message`;
    $("task-age").textContent = age(task.createdAt);
    $("task-severity").textContent = task.severity.toFixed(2) + (task.severe ? " (severe)" : "");
    $("task-action").textContent = task.action || "—";
    text.textContent = task.text;
    const wrap = text.parentElement;
    wrap.className = "text-wrap" + (revealed ? "" : " hidden-" + root.dataset.hiding);
    reveal.hidden = revealed;
    const context = $("context");
    context.hidden = !task.context;
    if (task.context) {
      $("context-room").textContent = task.context.roomName;
      const list = $("context-before");
      list.replaceChildren(...task.context.before.map(m => {
        const li = document.createElement("li");
        li.textContent = m.authorName ? `${m.authorName}: ${m.text}` : m.text;
        return li;
      }));
    }
    $("task-matches").textContent = task.matches.length ? task.matches.join(", ") : "";
    const body = document.querySelector("#task-scores tbody");
    const explained = new Map(task.explanation.map(e => [e.category, e]));
    const rows = Object.entries(task.scores).sort((a, b) => b[1] - a[1]).slice(0, 6);
    body.replaceChildren(...rows.map(([category, score]) => {
      const tr = document.createElement("tr");
      const e = explained.get(category);
      for (const value of [category, score.toFixed(2), e ? e.action : "", e ? e.explanation.slice(0, 5).map(c => `${c.ngram} (${c.weight.toFixed(2)})`).join(", ") : ""]) {
        const td = document.createElement("td");
        td.textContent = value;
        tr.append(td);
      }
      return tr;
    }));
  }

  function updateSubmitLabel() {
    $("submit-label").textContent = !moderation ? "Submit and next" : selected.size === 0 ? "Release and next" : "Remove and next";
  }

  function button(category) { return document.querySelector(`.category[data-category="${CSS.escape(category)}"]`); }

  function showSeverity(category) {
    const level = severities.get(category);
    const b = button(category);
    b.dataset.severity = level || "";
    b.querySelector(".severity").textContent = level ? ` · ${level} ${severityNames[level]}` : "";
  }

  function toggle(category) {
    if (!current) return;
    if (selected.has(category)) { selected.delete(category); severities.delete(category); } else selected.add(category);
    button(category).setAttribute("aria-pressed", selected.has(category) ? "true" : "false");
    showSeverity(category);
    updateSubmitLabel();
  }

  // Shift + a category's key: its severity goes none → 1 low → 2 medium → 3 high → none, and the category is selected.
  function cycleSeverity(category) {
    if (!current) return;
    if (!selected.has(category)) toggle(category);
    const next = ((severities.get(category) || 0) + 1) % 4;
    if (next === 0) severities.delete(category); else severities.set(category, next);
    showSeverity(category);
  }

  // The key a Shift-ed press stands for (Shift+1 is "!" on the event, "Digit1" in its code).
  function baseKey(event) {
    const code = event.code || "";
    return code.startsWith("Digit") ? code.slice(5) : code.startsWith("Key") ? code.slice(3).toLowerCase() : event.key.toLowerCase();
  }

  async function doReveal() {
    if (!current || revealed) return;
    try {
      const progress = await call("POST", `/api/annotation/tasks/${current.id}/reveal`);
      revealed = true;
      text.parentElement.className = "text-wrap";
      reveal.hidden = true;
      showProgress(progress, notice.textContent);
    } catch (e) { fail(e); }
  }

  async function advance(data) {
    const shown = data || (prefetched ? { task: prefetched } : await fetchNext([current && current.id]));
    prefetched = null;
    render(shown.task);
    if (data || shown.progress) showProgress((data || shown).progress, (data || shown).notice);
    await refreshProgressAndPrefetch();
  }

  async function refreshProgressAndPrefetch() {
    if (!current) return;
    const next = await fetchNext([current.id]);
    showProgress(next.progress, next.notice);
    prefetched = next.task;
  }

  let submitPending = false;
  async function submit() {
    // Enter while the previous submission is still fetching the task after the next: submit this one as soon as that is done.
    if (busy) { submitPending = true; return; }
    if (!current) return;
    busy = true;
    error.textContent = "";
    try {
      const note = $("note").value.trim();
      const done = await call("POST", `/api/annotation/tasks/${current.id}/annotations`,
        { categories: [...selected], severities: Object.fromEntries(severities), note: note || null });
      last = { annotationId: done.annotationId, taskId: done.taskId, until: Date.now() + root.dataset.undoSeconds * 1000 };
      $("undo").disabled = false;
      setTimeout(() => { if (last && Date.now() >= last.until) $("undo").disabled = true; }, root.dataset.undoSeconds * 1000 + 50);
      await advance();
    } catch (e) { fail(e); } finally {
      busy = false;
      if (submitPending) { submitPending = false; submit(); }
    }
  }

  async function undo() {
    if (!last || Date.now() >= last.until || busy) return;
    busy = true;
    try {
      await call("DELETE", `/api/annotation/annotations/${last.annotationId}`);
      const task = await call("GET", `/api/annotation/tasks/${last.taskId}`);
      if (current) prefetched = current;
      last = null;
      $("undo").disabled = true;
      render(task);
      notice.hidden = false;
      notice.textContent = "Undone: label this task again.";
    } catch (e) { fail(e); } finally { busy = false; }
  }

  function askSkip() {
    if (!current) return;
    $("skip-form").hidden = false;
    $("skip-reason").focus();
  }

  async function skip(event) {
    event.preventDefault();
    try {
      await call("POST", `/api/annotation/tasks/${current.id}/skip`, { reason: $("skip-reason").value });
      $("skip-reason").value = "";
      await advance();
    } catch (e) { fail(e); }
  }

  document.addEventListener("keydown", event => {
    if (event.target.closest("input, textarea, select")) {
      if (event.key === "Escape") { event.target.blur(); $("skip-form").hidden = true; }
      else if (event.key === "Enter" && event.target.id === "note") { event.preventDefault(); submit(); }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.shiftKey && keys[baseKey(event)]) { event.preventDefault(); cycleSeverity(keys[baseKey(event)]); return; }
    const key = event.key.toLowerCase();
    if (event.key === "Enter") { event.preventDefault(); submit(); }
    else if (key === "s") { event.preventDefault(); askSkip(); }
    else if (key === "u") { event.preventDefault(); undo(); }
    else if (key === "r") { event.preventDefault(); doReveal(); }
    else if (event.key === "?") { event.preventDefault(); const d = $("keys"); d.open ? d.close() : d.showModal(); }
    else if (keys[key]) { event.preventDefault(); toggle(keys[key]); }
  });
  document.querySelectorAll(".category").forEach(b => b.addEventListener("click", () => toggle(b.dataset.category)));
  $("submit").addEventListener("click", submit);
  $("skip").addEventListener("click", askSkip);
  $("undo").addEventListener("click", undo);
  $("help").addEventListener("click", () => $("keys").showModal());
  $("skip-form").addEventListener("submit", skip);
  reveal.addEventListener("click", doReveal);
  let hold;
  text.addEventListener("pointerdown", () => { if (!revealed) hold = setTimeout(doReveal, 600); });
  text.addEventListener("pointerup", () => clearTimeout(hold));

  fetchNext([]).then(data => advance(data)).catch(fail);
})();
