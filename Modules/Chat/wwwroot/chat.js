// Live room view: messages, withdrawals, typing and presence over SignalR (/hubs/chat); sending through the REST API.
(() => {
  const section = document.getElementById("chat");
  if (!section) return;
  const roomId = section.dataset.room, me = section.dataset.me, moderator = section.dataset.moderator === "true", archived = section.dataset.archived === "true";
  const filters = JSON.parse(section.dataset.filters || "{}");
  const list = document.getElementById("messages");
  const typing = document.getElementById("typing");
  const online = document.getElementById("online");
  const form = document.getElementById("send");
  const error = document.getElementById("send-error");

  const blurs = m => m.authorId !== me && Object.entries(filters).some(([c, level]) => (m.scores[c] ?? 0) > level);

  function render(m) {
    const li = document.createElement("li");
    li.className = `message status-${m.status}` + (blurs(m) ? " blurred" : "");
    li.dataset.id = m.id;
    li.dataset.status = m.status;
    if (m.authorId === me) li.dataset.text = m.text;
    const author = document.createElement("span");
    author.className = "author";
    author.textContent = m.authorName;
    const time = document.createElement("time");
    time.dateTime = m.postedAt;
    time.textContent = new Date(m.postedAt).toTimeString().slice(0, 5);
    li.append(author, " ", time);
    if (m.authorId === me && m.status === "held") li.append(" ", badge("pending review"));
    if (m.authorId === me && m.status === "rejected") li.append(" ", badge("refused: " + m.flagged.join(", "), "refused"));
    if (m.authorId === me && m.status === "removed") li.append(" ", badge("removed by a moderator", "refused"));
    const body = document.createElement("div");
    body.className = "body";
    body.innerHTML = m.html;   // rendered from Markdown and sanitised on the server
    li.append(body);
    if (blurs(m)) li.append(revealButton());
    const actions = document.createElement("span");
    actions.className = "actions";
    // An archived room is read-only: its messages are no longer edited or deleted (the server refuses it too).
    if (m.authorId === me && !archived && m.status !== "held" && m.status !== "removed") actions.append(action("edit", "Edit"));
    if (m.authorId === me && !archived && m.status !== "removed") actions.append(action("delete", "Delete"));
    if (m.authorId !== me && moderator) actions.append(action("remove", "Remove"));
    li.append(actions);
    return li;
  }

  function action(kind, label) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = `${kind} link-dark`;
    button.textContent = label;
    return button;
  }

  function badge(text, extra) {
    const span = document.createElement("span");
    span.className = "badge" + (extra ? " " + extra : "");
    span.textContent = text;
    return span;
  }

  function revealButton() {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "reveal secondary";
    button.textContent = "Show (hidden by your filters)";
    return button;
  }

  // Messages keep their place by id (time-ordered), so a released message lands where it was written.
  function upsert(m) {
    if (m.roomId !== roomId) return;
    const existing = list.querySelector(`li[data-id="${m.id}"]`);
    const li = render(m);
    if (existing) { existing.replaceWith(li); return; }
    const after = [...list.children].find(other => other.dataset.id > m.id);
    list.insertBefore(li, after ?? null);
    li.scrollIntoView({ block: "nearest" });
  }

  async function call(method, url, body) {
    error.textContent = "";
    const response = await fetch(url, { method, headers: { "Content-Type": "application/json" }, body: body && JSON.stringify(body) });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) { error.textContent = answer.detail ?? "That did not work."; return null; }
    return answer;
  }

  list.addEventListener("click", async e => {
    const li = e.target.closest("li");
    if (!li) return;
    const id = li.dataset.id;
    if (e.target.classList.contains("reveal")) { li.classList.remove("blurred"); e.target.remove(); }
    else if (e.target.classList.contains("delete")) { if (await call("DELETE", `/api/chat/messages/${id}`)) li.remove(); }
    else if (e.target.classList.contains("remove")) { if (await call("POST", `/api/chat/messages/${id}/remove`)) li.remove(); }
    else if (e.target.classList.contains("edit")) {
      const editor = document.createElement("form");
      editor.className = "edit-form";
      const area = document.createElement("textarea");
      area.value = li.dataset.text ?? li.querySelector(".body").textContent.trim();
      area.setAttribute("aria-label", "Edit the message");
      const save = action("save", "Save");
      save.type = "submit";
      editor.append(area, save);
      li.querySelector(".body").replaceWith(editor);
      area.focus();
      editor.addEventListener("submit", async ev => {
        ev.preventDefault();
        const m = await call("PUT", `/api/chat/messages/${id}`, { text: area.value });
        if (m) upsert(m);
      });
    }
  });

  const connection = new signalR.HubConnectionBuilder().withUrl("/hubs/chat").withAutomaticReconnect().build();
  const typers = new Map();
  connection.on("message", m => { upsert(m); if (m.authorId !== me) typers.delete(m.authorId); showTyping(); connection.invoke("Read", roomId).catch(() => {}); });
  connection.on("message-withdrawn", w => { if (w.roomId === roomId) list.querySelector(`li[data-id="${w.id}"]`)?.remove(); });
  connection.on("typing", t => {
    if (t.roomId !== roomId) return;
    typers.set(t.userId, { name: t.name, until: Date.now() + 4000 });
    showTyping();
    setTimeout(showTyping, 4100);
  });
  connection.on("presence", refreshOnline);

  function showTyping() {
    const now = Date.now();
    const names = [...typers.values()].filter(t => t.until > now).map(t => t.name);
    typing.textContent = names.length ? `${names.join(", ")} ${names.length > 1 ? "are" : "is"} typing…` : "";
  }

  async function refreshOnline() {
    const ids = await connection.invoke("Online", roomId);
    online.textContent = `${ids.length} online`;
    section.dataset.online = ids.join(",");
  }

  connection.onreconnected(refreshOnline);
  connection.start().then(() => { section.dataset.live = "true"; return refreshOnline(); }).catch(e => console.error(e));

  if (!form) return;
  const text = form.querySelector("textarea");
  let lastTyping = 0;
  text.addEventListener("input", () => {
    if (Date.now() - lastTyping < 2000 || connection.state !== "Connected") return;
    lastTyping = Date.now();
    connection.invoke("Typing", roomId).catch(() => {});
  });
  text.addEventListener("keydown", e => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); } });
  form.addEventListener("submit", async e => {
    e.preventDefault();
    error.textContent = "";
    // Cleared at once, so what is typed while this one is moderated is not wiped when its answer comes back.
    const sent = text.value;
    text.value = "";
    const response = await fetch(`/api/chat/rooms/${roomId}/messages`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ text: sent }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      error.textContent = body.detail ?? "The message was not sent.";
      if (!text.value) text.value = sent;   // nothing lost
      return;
    }
    upsert(body);
  });
})();
