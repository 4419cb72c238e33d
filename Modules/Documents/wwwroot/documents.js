// Upload with progress (POST /api/documents, same origin, the session cookie) and a document's status followed until it settles.
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

    const view = document.getElementById("document");
    if (view) {
        const status = document.getElementById("status");
        const initial = status.textContent.trim();
        const poll = async () => {
            const response = await fetch(`/api/documents/${view.dataset.document}`);
            if (response.ok) {
                const body = await response.json();
                const now = body.document.status;
                const chunks = body.chunks.map(c => c.status).join(",");
                if (now !== initial || (view.dataset.chunks && view.dataset.chunks !== chunks)) { window.location.reload(); return; }
                view.dataset.chunks = chunks;
            }
            setTimeout(poll, 1000);
        };
        // Processing, or waiting for a reviewer: the page follows until it changes.
        if (initial === "processing" || initial.includes("held")) setTimeout(poll, 1000);
    }
})();
