// Settings page: PUT/DELETE /api/v1/settings/{key}, PUT/DELETE /api/v1/tenants/{id}/settings/{key} and
// PUT /api/v1/metric-settings/{metric}. Values are sent with the key's JSON type; the API checks the bounds.
(function () {
  "use strict";
  const api = window.IntegraMon;

  function parse(type, input) {
    const raw = input.value.trim();
    if (type === "bool") { return raw === "true"; }
    if (type === "int") { return raw === "" || !/^-?\d+$/.test(raw) ? raw : parseInt(raw, 10); }
    if (type === "float") { return raw === "" || isNaN(Number(raw)) ? raw : Number(raw); }
    if (type === "list[str]") { return raw.split(",").map(function (s) { return s.trim(); }).filter(function (s) { return s; }); }
    return input.value;
  }

  async function act(promise, message) {
    try { await promise; api.reloadWith(message); } catch (err) { api.say(err.message, false); }
  }

  document.querySelectorAll("#settings tr[data-key]").forEach(function (row) {
    const key = row.dataset.key, type = row.dataset.type;
    const url = "/api/v1/settings/" + encodeURIComponent(key);
    const tenantUrl = function (tenant) { return "/api/v1/tenants/" + tenant + "/settings/" + encodeURIComponent(key); };
    row.querySelector(".save-global").addEventListener("click", function () {
      act(api.call(url, { value: parse(type, row.querySelector(".global-value")) }, "PUT"), key + " saved");
    });
    const reset = row.querySelector(".reset-global");
    if (reset) {
      reset.addEventListener("click", function () {
        if (window.confirm("Reset " + key + " to its default?")) { act(api.call(url, null, "DELETE"), key + " reset"); }
      });
    }
    const add = row.querySelector(".add-override");
    if (add) {
      add.addEventListener("click", function () {
        const tenant = row.querySelector(".override-tenant").value;
        act(api.call(tenantUrl(tenant), { value: parse(type, row.querySelector(".override-value")) }, "PUT"),
          key + " overridden for tenant " + tenant);
      });
    }
    row.querySelectorAll(".remove-override").forEach(function (button) {
      button.addEventListener("click", function () {
        const tenant = button.closest(".override").dataset.tenant;
        act(api.call(tenantUrl(tenant), null, "DELETE"), key + " override of tenant " + tenant + " removed");
      });
    });
  });

  document.querySelectorAll("#metric-settings tr[data-metric]").forEach(function (row) {
    row.querySelector(".save-metric").addEventListener("click", function () {
      const body = { enabled: row.querySelector(".metric-enabled").checked,
        interval_seconds: parseInt(row.querySelector(".metric-interval").value, 10) };
      act(api.call("/api/v1/metric-settings/" + row.dataset.metric, body, "PUT"), row.dataset.metric + " saved");
    });
  });
})();
