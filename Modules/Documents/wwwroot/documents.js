// Upload with progress (POST /api/documents, same origin, the session cookie), and the status of the library's and a document's
// view followed live.
(() => {
    const form = document.getElementById("upload");
    if (form) {
        const visibility = document.getElementById("visibility");
        const room = document.getElementById("roomId");
        visibility.addEventListener("change", () => { room.hidden = visibility.value !== "room"; });
        form.addEventListener("submit", event => {
            event.preventDefault();
            const error = document.getElementById("upload-error");
            const progress = document.getElementById("progress");
            const data = new FormData(form);
            if (visibility.value !== "room") data.delete("roomId");
            const request = new XMLHttpRequest();
            request.open("POST", "/api/documents");
            request.upload.addEventListener("progress", e => { if (e.lengthComputable) progress.value = Math.round(100 * e.loaded / e.total); });
            request.addEventListener("load", () => {
                let body = null;
                try { body = JSON.parse(request.responseText); } catch { }
                if (request.status === 200 || request.status === 201) {
                    window.location.href = `/documents/${body.document.id}`;
                } else {
                    error.textContent = body?.detail ?? `The upload failed (${request.status}).`;
                    error.hidden = false;
                    progress.hidden = true;
                }
            });
            request.addEventListener("error", () => { error.textContent = "The upload failed: the connection broke."; error.hidden = false; });
            error.hidden = true;
            progress.hidden = false;
            request.send(data);
        });
    }

    // Status followed live: the owner's connection to /hubs/documents gets "status" pushes for their documents (from whichever
    // replica processed them); after connecting, and after a reconnect, the page asks for what it missed. Only when the
    // connection cannot be made does it poll, every data-poll seconds, and only while something may still change.
    const view = document.getElementById("document");
    const library = document.getElementById("documents");
    if (!view && !library) return;
    const root = view ?? library;
    const pollMs = 1000 * Number(root.dataset.poll || 15);
    const settled = status => status !== "processing" && !status.includes("held");

    const rows = () => view ? [view] : [...library.querySelectorAll("tr[data-document]")];
    const statusOf = row => (view ? document.getElementById("status") : row.querySelector(".status")).textContent.trim();

    // The document page re-reads its facts and chunks (the server renders them; no second renderer here), one refresh at a time.
    let refreshing = Promise.resolve();
    const refreshView = () => refreshing = refreshing.then(async () => {
        const response = await fetch(window.location.pathname, { headers: { Accept: "text/html" } });
        if (!response.ok) return;
        const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
        const facts = fresh.getElementById("document"), chunks = fresh.getElementById("chunks");
        if (facts) view.innerHTML = facts.innerHTML;
        if (chunks) document.getElementById("chunks").replaceWith(chunks);
        if (!fresh.getElementById("processing")) document.getElementById("processing")?.remove();
    }).catch(() => { });

    function apply(change) {
        const row = rows().find(r => r.dataset.document === change.documentId);
        if (!row || statusOf(row) === change.status) return;
        if (view) {
            document.getElementById("status").textContent = change.status;
            refreshView();
        } else {
            row.querySelector(".status").textContent = change.status;
            if (change.language) row.querySelector(".language").textContent = change.language;
        }
    }

    async function poll() {
        if (rows().every(r => settled(statusOf(r)))) return;
        try {
            const response = await fetch(window.location.pathname + window.location.search, { headers: { Accept: "text/html" } });
            if (response.ok) {
                const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
                for (const row of rows()) {
                    const now = view ? fresh.getElementById("status") : fresh.querySelector(`tr[data-document="${row.dataset.document}"] .status`);
                    if (now) apply({ documentId: row.dataset.document, status: now.textContent.trim() });
                }
            }
        } catch { }
        setTimeout(poll, pollMs);
    }

    let polling = false;
    const fallBack = () => {
        root.dataset.live = "false";
        if (!polling) { polling = true; setTimeout(poll, pollMs); }
    };
    if (typeof signalR === "undefined") { fallBack(); return; }
    const connection = new signalR.HubConnectionBuilder().withUrl("/hubs/documents").withAutomaticReconnect().build();
    connection.on("status", apply);
    const catchUp = async () => {
        const ids = rows().map(r => r.dataset.document);
        if (ids.length > 0) (await connection.invoke("Statuses", ids)).forEach(apply);
    };
    connection.onreconnected(() => catchUp().catch(() => { }));
    connection.onclose(fallBack);   // reconnecting gave up
    connection.start()
        .then(() => { root.dataset.live = "true"; return catchUp(); })
        .catch(e => { console.error(e); if (connection.state !== "Connected") fallBack(); });
})();
