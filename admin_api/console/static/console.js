// IntegraMon console: action buttons (call the JSON API), the tuning form and small SVG charts.
// The session cookie authenticates; the X-IntegraMon-Console header marks our own requests (CSRF guard).
(function () {
  "use strict";
  const HEADERS = { "Content-Type": "application/json", "X-IntegraMon-Console": "1" };
  const flash = document.getElementById("flash");
  const role = document.querySelector("main").dataset.role;

  const FLASH_KEY = "integramon.flash";

  function say(text, ok) {
    flash.textContent = text;
    flash.className = "flash " + (ok ? "ok" : "bad");
    flash.hidden = false;
  }

  // After a change the page reloads at once to show the new state; the message survives the reload.
  function reloadWith(text) {
    try { window.sessionStorage.setItem(FLASH_KEY, text); } catch (e) { /* storage off: no message */ }
    window.location.reload();
  }
  try {
    const kept = window.sessionStorage.getItem(FLASH_KEY);
    if (kept) { window.sessionStorage.removeItem(FLASH_KEY); say(kept, true); }
  } catch (e) { /* storage off */ }

  async function call(url, body, method) {
    const verb = method || "POST";
    const init = { method: verb, headers: HEADERS, credentials: "same-origin" };
    if (verb !== "GET" && verb !== "DELETE") { init.body = JSON.stringify(body || {}); }
    const resp = await fetch(url, init);
    let data = {};
    try { data = await resp.json(); } catch (e) { data = {}; }
    if (!resp.ok) { throw new Error(data.detail || ("HTTP " + resp.status)); }
    return data;
  }

  function disableForViewers(root) {
    (root || document).querySelectorAll("[data-admin]").forEach(function (el) {
      if (role !== "admin") { el.disabled = true; el.title = "needs an admin token"; }
    });
  }

  // shared with the page scripts (tenants.js, schedules.js, chat.js, ...)
  window.IntegraMon = { call: call, say: say, role: role, disableForViewers: disableForViewers,
    reloadWith: reloadWith };

  disableForViewers(document);

  document.querySelectorAll("button[data-post]").forEach(function (button) {
    button.addEventListener("click", async function () {
      if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) { return; }
      button.disabled = true;
      try {
        const data = await call(button.dataset.post, button.dataset.body ? JSON.parse(button.dataset.body) : {},
          button.dataset.method);
        const follow = button.dataset.follow;
        if (follow && data[follow]) { window.location.href = "/jobs/" + data[follow]; return; }
        reloadWith(summary(data));
      } catch (err) { say(err.message, false); button.disabled = false; }
    });
  });

  function summary(data) {
    if (data.replayed) { return data.replayed.length + " replayed, " + data.refused.length + " refused"; }
    if (data.status && data.run_id) { return "run " + data.run_id + ": " + data.status; }
    if (data.action) { return "run " + data.run_id + ": " + data.action; }
    if (data.runs && data.runs.length > 1) { return data.runs.length + " runs enqueued (one per tenant)"; }
    if (data.job_id && data.run_id) { return "run " + data.run_id + " enqueued"; }
    if (data.enabled !== undefined && data.name) { return data.name + (data.enabled ? " resumed" : " paused"); }
    if (data.active !== undefined && data.name) { return data.name + (data.active ? " enabled" : " disabled"); }
    return "done";
  }

  // ---- tuning -------------------------------------------------------------------------------
  const form = document.getElementById("tuning-form");
  if (form) {
    const change = function () {
      const overrides = {};
      form.querySelectorAll("input[name^='override:']").forEach(function (input) {
        if (input.value !== "") { overrides[input.name.slice(9)] = parseInt(input.value, 10); }
      });
      return { profile: document.getElementById("profile").value, overrides: overrides };
    };
    const show = function (data) {
      const rows = document.getElementById("preview-rows");
      rows.textContent = "";
      data.groups.forEach(function (g) {
        const tr = document.createElement("tr");
        if (g.changed) { tr.className = "changed"; }
        [g.group, g.before, g.after].forEach(function (v) {
          const td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
        });
        rows.appendChild(tr);
      });
      const warnings = document.getElementById("preview-warnings");
      warnings.textContent = "";
      (data.warnings || []).forEach(function (w) {
        const li = document.createElement("li"); li.textContent = w; warnings.appendChild(li);
      });
      warnings.hidden = !(data.warnings || []).length;
      document.getElementById("preview-box").hidden = false;
      return data.warnings || [];
    };
    document.getElementById("preview").addEventListener("click", async function () {
      try { const d = await call("/api/v1/worker-tuning/preview", change()); show(d);
        say(d.changed_groups + " group(s) would change" + (d.warnings.length ? "; read the warnings before applying" : ""),
            !d.warnings.length); } catch (err) { say(err.message, false); }
    });
    document.getElementById("apply").addEventListener("click", async function () {
      try {
        const body = change();
        const preview = await call("/api/v1/worker-tuning/preview", body);
        if (show(preview).length) {
          if (!window.confirm("This change has warnings:\n\n" + preview.warnings.join("\n") + "\n\nApply anyway?")) {
            return;
          }
          body.confirm_warnings = true;
        }
        const d = await call("/api/v1/worker-tuning/apply", body); show(d);
        document.getElementById("active-profile").textContent = d.profile;
        say("applied profile " + d.profile + "; " + d.notified_workers + " listener(s) notified", true);
      } catch (err) { say(err.message, false); }
    });
  }

  // ---- charts (inline SVG, no library) ------------------------------------------------------
  const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d"];
  const NS = "http://www.w3.org/2000/svg";

  function el(name, attrs, text) {
    const node = document.createElementNS(NS, name);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function lineChart(target, lines) {
    if (!target) { return; }
    const W = 460, H = 180, L = 40, B = 22;
    const all = [].concat.apply([], lines.map(function (l) { return l.points; }));
    if (!all.length) { target.innerHTML = '<p class="muted">No samples yet.</p>'; return; }
    const t0 = Math.min.apply(null, all.map(function (p) { return p.t; }));
    const t1 = Math.max.apply(null, all.map(function (p) { return p.t; }));
    const vmax = Math.max(1, Math.max.apply(null, all.map(function (p) { return p.v; })));
    const x = function (t) { return L + (W - L - 8) * (t1 === t0 ? 0.5 : (t - t0) / (t1 - t0)); };
    const y = function (v) { return 8 + (H - B - 8) * (1 - v / vmax); };
    const svg = el("svg", { viewBox: "0 0 " + W + " " + H, role: "img" });
    [0, 0.5, 1].forEach(function (f) {
      svg.appendChild(el("line", { x1: L, x2: W - 8, y1: y(vmax * f), y2: y(vmax * f), class: "gridline" }));
      svg.appendChild(el("text", { x: L - 4, y: y(vmax * f) + 4, class: "axis", "text-anchor": "end" },
        String(Math.round(vmax * f * 10) / 10)));
    });
    (t1 === t0 ? [t0] : [t0, t1]).forEach(function (t, i) {
      svg.appendChild(el("text", { x: x(t), y: H - 6, class: "axis", "text-anchor": i ? "end" : "start" },
        new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })));
    });
    lines.forEach(function (line, i) {
      const d = line.points.map(function (p, j) { return (j ? "L" : "M") + x(p.t).toFixed(1) + " " + y(p.v).toFixed(1); });
      svg.appendChild(el("path", { d: d.join(" "), fill: "none", stroke: COLORS[i % COLORS.length], "stroke-width": 2 }));
      if (line.points.length < 3) {  // a lone point draws no line: mark it
        line.points.forEach(function (p) {
          svg.appendChild(el("circle", { cx: x(p.t), cy: y(p.v), r: 3.5, fill: COLORS[i % COLORS.length] }));
        });
      }
    });
    target.textContent = "";
    target.appendChild(svg);
    const legend = document.createElement("div");
    legend.className = "legend";
    lines.forEach(function (line, i) {
      const span = document.createElement("span");
      span.style.borderColor = COLORS[i % COLORS.length];
      span.textContent = line.name;
      legend.appendChild(span);
    });
    target.appendChild(legend);
  }

  const data = JSON.parse(document.getElementById("page-data").textContent || "{}");
  if (data.series) {
    const names = Object.keys(data.series).filter(function (q) {
      return data.series[q].some(function (p) { return p.ready > 0 || (p.oldest_ready_age_s || 0) > 0; });
    }).slice(0, 8);
    const pick = function (field) {
      return names.map(function (q) {
        return { name: q, points: data.series[q].map(function (p) { return { t: Date.parse(p.at), v: p[field] || 0 }; }) };
      });
    };
    lineChart(document.getElementById("chart-ready"), pick("ready"));
    lineChart(document.getElementById("chart-age"), pick("oldest_ready_age_s"));
    const tp = data.throughput || [];
    lineChart(document.getElementById("chart-throughput"), [
      { name: "completed", points: tp.map(function (p) { return { t: Date.parse(p.at), v: p.completed }; }) },
      { name: "failed", points: tp.map(function (p) { return { t: Date.parse(p.at), v: p.failed }; }) },
    ]);
  }
  if (data.platform) {
    const hostLines = function (field) {
      return Object.keys(data.platform.hosts).slice(0, 8).map(function (host) {
        return { name: host, points: data.platform.hosts[host].map(function (p) {
          return { t: Date.parse(p.at), v: p[field] || 0 }; }) };
      });
    };
    lineChart(document.getElementById("chart-cpu"), hostLines("cpu_percent"));
    lineChart(document.getElementById("chart-memory"), hostLines("memory_percent"));
    lineChart(document.getElementById("chart-api"), Object.keys(data.platform.api).map(function (route) {
      return { name: route, points: data.platform.api[route].map(function (p) {
        return { t: Date.parse(p.at), v: p.requests }; }) };
    }));
  }
  const refresh = document.getElementById("auto-refresh");
  if (refresh) {
    setTimeout(function () { if (flash.hidden) { window.location.reload(); } },
      parseInt(refresh.dataset.seconds, 10) * 1000);
  }
  document.querySelectorAll("[data-epoch]").forEach(function (node) {
    node.textContent = new Date(parseInt(node.dataset.epoch, 10) * 1000).toLocaleString();
  });
})();
