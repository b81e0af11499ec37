// Chat page: ask through POST /api/v1/chat, then follow GET /api/v1/chat/{id} until the answer is stored.
(function () {
  "use strict";
  const api = window.IntegraMon;
  const thread = document.getElementById("chat-thread");
  const pending = document.getElementById("chat-pending");
  const failed = document.getElementById("chat-failed");
  const form = document.getElementById("chat-form");
  const POLL_MS = 1000;
  let conversationId = thread.dataset.conversation ? parseInt(thread.dataset.conversation, 10) : null;

  function render(conversation) {
    thread.textContent = "";
    conversation.messages.forEach(function (m) {
      const li = document.createElement("li");
      li.className = "turn " + m.role;
      const who = document.createElement("div");
      who.className = "who-said";
      who.textContent = (m.role === "user" ? "You" : "Answer" + (m.source ? " (" + m.source + ")" : "")) +
        " · " + m.created_at.replace("T", " ").slice(0, 19);
      const text = document.createElement("div");
      text.className = "said";
      text.textContent = m.content;
      li.appendChild(who);
      li.appendChild(text);
      thread.appendChild(li);
    });
    document.getElementById("chat-title").textContent = conversation.title || ("conversation " + conversation.id);
    pending.hidden = !conversation.pending;
    const run = conversation.run;
    if (!conversation.pending && run && run.status !== "succeeded") {
      failed.textContent = "";
      failed.appendChild(document.createTextNode("The answer job ended " + run.status +
        (run.error_type ? " (" + run.error_type + ": " + (run.error_message || "") + ")" : "") + " — "));
      const link = document.createElement("a");
      link.href = "/jobs/" + run.run_id;
      link.textContent = "run " + run.run_id;
      failed.appendChild(link);
      failed.hidden = false;
    } else {
      failed.hidden = true;
    }
    form.querySelector("button[type=submit]").disabled = conversation.pending || api.role !== "admin";
  }

  function listNew(id, title) {
    const list = document.getElementById("conversations");
    list.querySelectorAll("li").forEach(function (li) {
      if (!li.querySelector("a")) { li.remove(); } else { li.classList.remove("active"); }
    });
    const li = document.createElement("li");
    li.className = "active";
    const link = document.createElement("a");
    link.href = "/chat?conversation=" + id;
    link.textContent = title.slice(0, 255);
    li.appendChild(link);
    list.insertBefore(li, list.firstChild);
  }

  async function follow() {
    try {
      const conversation = await api.call("/api/v1/chat/" + conversationId, null, "GET");
      render(conversation);
      if (conversation.pending) { setTimeout(follow, POLL_MS); }
    } catch (err) { api.say(err.message, false); setTimeout(follow, POLL_MS * 5); }
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const question = document.getElementById("chat-question").value.trim();
    if (!question) { return; }
    const body = { question: question };
    if (conversationId) {
      body.conversation_id = conversationId;
    } else {
      const tenant = document.getElementById("chat-tenant");
      if (tenant && tenant.value) { body.tenant_id = parseInt(tenant.value, 10); }
    }
    try {
      const asked = await api.call("/api/v1/chat", body, "POST");
      if (!conversationId) { listNew(asked.conversation_id, question); }
      conversationId = asked.conversation_id;
      window.history.replaceState(null, "", "/chat?conversation=" + conversationId);
      document.getElementById("chat-question").value = "";
      const tenant = document.getElementById("chat-tenant");
      if (tenant) { tenant.closest("label").hidden = true; }
      await follow();
    } catch (err) { api.say(err.message, false); }
  });

  const data = JSON.parse(document.getElementById("page-data").textContent || "{}");
  if (data.conversation) {
    render(data.conversation);
    if (data.conversation.pending) { setTimeout(follow, POLL_MS); }
  }
})();
