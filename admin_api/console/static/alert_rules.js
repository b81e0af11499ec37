// Alert rules page: create and edit rules through /api/v1/alert-rules (delete uses the generic data-post button).
(function () {
  "use strict";
  const api = window.IntegraMon;
  const box = document.getElementById("rule-form-box");
  const form = document.getElementById("rule-form");
  const field = function (name) { return form.elements.namedItem(name); };
  let editing = null;

  function lines(text, separators) {
    return text.split(separators).map(function (s) { return s.trim(); }).filter(function (s) { return s; });
  }

  function open(rule) {
    editing = rule;
    form.reset();
    document.getElementById("rule-form-title").textContent = rule ? "Edit " + rule.name : "Add rule";
    field("tenant_id").disabled = !!rule;  // a rule keeps its tenant
    const statuses = rule ? rule.statuses : ["FAILED", "ESCALATED"];
    form.querySelectorAll("input[name=statuses]").forEach(function (box) { box.checked = statuses.indexOf(box.value) >= 0; });
    if (rule) {
      ["name", "condition", "scope", "window_minutes", "threshold"].forEach(function (k) { field(k).value = rule[k]; });
      field("tenant_id").value = rule.tenant_id;
      field("package_id").value = rule.package_id || "";
      field("iflow_id").value = rule.iflow_id || "";
      field("webhooks").value = rule.channels.filter(function (c) { return c.type === "webhook"; })
        .map(function (c) { return c.url; }).join("\n");
      field("emails").value = [].concat.apply([], rule.channels.filter(function (c) { return c.type === "email"; })
        .map(function (c) { return c.to; })).join(", ");
      field("fetch_details").checked = rule.fetch_details;
      field("enabled").checked = rule.enabled;
    }
    box.hidden = false;
    field("name").focus();
  }

  function body() {
    const channels = lines(field("webhooks").value, /\n/).map(function (url) { return { type: "webhook", url: url }; });
    const emails = lines(field("emails").value, /[\n,;]/);
    if (emails.length) { channels.push({ type: "email", to: emails }); }
    const statuses = [];
    form.querySelectorAll("input[name=statuses]:checked").forEach(function (box) { statuses.push(box.value); });
    const data = {
      name: field("name").value.trim(), condition: field("condition").value, scope: field("scope").value,
      package_id: field("package_id").value.trim() || null, iflow_id: field("iflow_id").value.trim() || null,
      statuses: statuses, window_minutes: parseInt(field("window_minutes").value, 10),
      threshold: parseInt(field("threshold").value, 10), channels: channels,
      fetch_details: field("fetch_details").checked, enabled: field("enabled").checked,
    };
    if (!editing) {
      data.tenant_id = parseInt(field("tenant_id").value, 10);
      if (data.package_id === null) { delete data.package_id; }
      if (data.iflow_id === null) { delete data.iflow_id; }
    }
    return data;
  }

  document.getElementById("rule-add").addEventListener("click", function () { open(null); });
  document.getElementById("rule-cancel").addEventListener("click", function () { box.hidden = true; });
  document.querySelectorAll("[data-edit-rule]").forEach(function (button) {
    button.addEventListener("click", function () { open(JSON.parse(button.closest("tr").dataset.rule)); });
  });
  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    try {
      const saved = editing
        ? await api.call("/api/v1/alert-rules/" + editing.id, body(), "PATCH")
        : await api.call("/api/v1/alert-rules", body(), "POST");
      api.reloadWith("rule " + saved.name + (editing ? " saved" : " created"));
    } catch (err) { api.say(err.message, false); }
  });
})();
