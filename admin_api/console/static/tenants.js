// Tenants page: add and edit a tenant through /api/v1/tenants, and "test connection".
// Only changed fields are sent on edit; an empty secret keeps the stored one.
(function () {
  "use strict";
  const api = window.IntegraMon;
  const box = document.getElementById("tenant-form-box");
  const form = document.getElementById("tenant-form");
  let editing = null;  // the tenant being edited, or null when adding

  const field = function (name) { return form.elements.namedItem(name); };

  function open(tenant) {
    editing = tenant;
    form.reset();
    document.getElementById("tenant-form-title").textContent = tenant ? "Edit " + tenant.name : "Add tenant";
    field("client_secret").placeholder = tenant ? "unchanged (needed again when a URL changes)" : "required";
    field("client_secret").required = !tenant;
    if (tenant) {
      ["name", "api_url", "client_id", "auth_type"].forEach(function (k) { field(k).value = tenant[k] || ""; });
      field("token_url").value = tenant.token_url || "";
      field("rate_limit_per_s").value = tenant.rate_limit_per_s || "";
      field("active").checked = !!tenant.active;
    }
    box.hidden = false;
    field("name").focus();
  }

  function body() {
    const wanted = {
      name: field("name").value.trim(), api_url: field("api_url").value.trim(),
      auth_type: field("auth_type").value, client_id: field("client_id").value.trim(),
      token_url: field("token_url").value.trim() || null,
      rate_limit_per_s: field("rate_limit_per_s").value === "" ? null : parseFloat(field("rate_limit_per_s").value),
      active: field("active").checked,
    };
    const secret = field("client_secret").value;
    if (!editing) {
      const created = Object.assign({}, wanted, { client_secret: secret });
      Object.keys(created).forEach(function (k) { if (created[k] === null) { delete created[k]; } });
      return created;
    }
    const changed = {};
    Object.keys(wanted).forEach(function (k) {
      if (wanted[k] !== null && wanted[k] !== (editing[k] === undefined ? null : editing[k])) { changed[k] = wanted[k]; }
    });
    if (secret) { changed.client_secret = secret; }
    return changed;
  }

  document.getElementById("tenant-add").addEventListener("click", function () { open(null); });
  document.getElementById("tenant-cancel").addEventListener("click", function () { box.hidden = true; });
  document.querySelectorAll("[data-edit-tenant]").forEach(function (button) {
    button.addEventListener("click", function () {
      open(JSON.parse(button.closest("tr").dataset.tenant));
    });
  });

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const data = body();
    try {
      const saved = editing
        ? await api.call("/api/v1/tenants/" + editing.id, data, "PATCH")
        : await api.call("/api/v1/tenants", data, "POST");
      api.reloadWith("tenant " + saved.name + (editing ? " saved" : " added"));
    } catch (err) { api.say(err.message, false); }
  });

  function showResult(id, result) {
    const row = document.getElementById("test-result-" + id);
    const cell = row.firstElementChild;
    cell.textContent = "";
    const line = document.createElement("div");
    line.className = "test-result " + (result.ok ? "ok" : "bad");
    const head = document.createElement("strong");
    head.textContent = result.ok ? "Connected" : "Failed";
    line.appendChild(head);
    const parts = [];
    parts.push(result.auth_type === "oauth"
      ? (result.token_fetched ? "OAuth token fetched" : "no OAuth token") : "HTTP Basic authentication");
    if (result.ok) {
      parts.push(result.logs_on_page + " message log(s) on the first page of the last 24 h");
      if (result.newest_log_end) { parts.push("newest " + result.newest_log_end.replace("T", " ").slice(0, 19)); }
    } else {
      parts.push(result.error_type + (result.error_status ? " (HTTP " + result.error_status + ")" : ""));
    }
    parts.push(result.elapsed_ms + " ms");
    line.appendChild(document.createTextNode(" · " + parts.join(" · ")));
    cell.appendChild(line);
    if (!result.ok && result.error) {
      const pre = document.createElement("pre");
      pre.textContent = result.error;
      cell.appendChild(pre);
    }
    row.hidden = false;
  }

  document.querySelectorAll("[data-test-connection]").forEach(function (button) {
    button.addEventListener("click", async function () {
      const id = button.dataset.testConnection;
      button.disabled = true;
      const label = button.textContent;
      button.textContent = "Testing…";
      try {
        showResult(id, await api.call("/api/v1/tenants/" + id + "/test-connection", {}, "POST"));
      } catch (err) { api.say(err.message, false); }
      button.textContent = label;
      button.disabled = false;
    });
  });
})();
