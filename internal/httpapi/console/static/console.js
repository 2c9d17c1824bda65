// nudge console: small behaviours on server-rendered pages. No build step,
// no inline code (the CSP forbids it): everything hooks in from here.
"use strict";

(function () {
  // Times are rendered in UTC by the server; show them in the browser's zone.
  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d)) {
        t.title = t.textContent;
        t.textContent = d.toLocaleString(undefined, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
      }
    });
  }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text != null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  async function api(method, path, body) {
    var opts = { method: method, headers: {}, credentials: "same-origin" };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    var r = await fetch(path, opts);
    var data = await r.json().catch(function () { return {}; });
    return { ok: r.ok, status: r.status, data: data };
  }

  // Compose: a live preview (recipients, exclusions by reason, SMS
  // segments, lint) from POST /v1/announcements/preview as staff type.
  function compose(form) {
    var out = document.getElementById("preview");
    var idField = form.querySelector("input[name=announcement_id]");
    // One id per composed message: a double submit sends once.
    if (idField && !idField.value) {
      idField.value = "ann_" + Array.from(crypto.getRandomValues(new Uint8Array(10)), function (b) { return b.toString(16).padStart(2, "0"); }).join("");
    }
    var timer = null, seq = 0;
    function request() {
      var body = { group_id: form.group_id.value, body: form.body.value };
      var chs = Array.from(form.querySelectorAll("input[name=channels]:checked"), function (c) { return c.value; });
      if (chs.length) body.channels = chs;
      if (form.urgent.checked) { body.urgent = true; body.urgent_reason = form.urgent_reason.value; }
      return body;
    }
    async function run() {
      var mine = ++seq;
      if (!form.body.value.trim()) {
        out.replaceChildren(el("p", "The preview shows here as you type.", "muted"));
        return;
      }
      var res = await api("POST", "/v1/announcements/preview", request());
      if (mine !== seq) return;
      out.replaceChildren();
      if (!res.ok) {
        var msg = (res.data.error && res.data.error.message) || ("preview failed (" + res.status + ")");
        var p = el("p", msg, "problem");
        out.appendChild(p);
        (res.data.fields || []).forEach(function (f) { out.appendChild(el("p", f.message, "hint")); });
        return;
      }
      var d = res.data;
      var h = el("p");
      h.appendChild(el("strong", String(d.recipients), null));
      h.id = "preview-recipients";
      h.appendChild(document.createTextNode(d.recipients === 1 ? " person will get it" : " people will get it"));
      if (d.by_channel) {
        var parts = Object.keys(d.by_channel).filter(function (k) { return d.by_channel[k]; }).map(function (k) { return d.by_channel[k] + " by " + k; });
        if (parts.length) h.appendChild(document.createTextNode(" (" + parts.join(", ") + ")"));
      }
      out.appendChild(h);
      var ex = Object.keys(d.excluded || {}).filter(function (k) { return d.excluded[k] > 0; });
      if (ex.length) {
        out.appendChild(el("p", "Not reached:", "hint"));
        var ul = el("ul", null, "plain");
        ul.id = "preview-excluded";
        ex.forEach(function (k) { ul.appendChild(el("li", d.excluded[k] + " " + k.replace(/_/g, " "))); });
        out.appendChild(ul);
      } else {
        out.appendChild(el("p", "Nobody in the group is left out.", "hint"));
      }
      if (d.sms) out.appendChild(el("p", "SMS: " + d.sms.segments + " segment" + (d.sms.segments === 1 ? "" : "s") + " (" + d.sms.encoding + ")", "hint"));
      var lint = d.lint || [];
      if (lint.length) {
        var lu = el("ul", null, "plain problem");
        lu.id = "preview-lint";
        lint.forEach(function (f) { lu.appendChild(el("li", f.severity + ": " + f.message)); });
        out.appendChild(lu);
      }
      if (d.sample) {
        out.appendChild(el("p", "What " + (d.sample_channel || "a member") + " recipients see:", "hint"));
        out.appendChild(el("blockquote", d.sample));
      }
    }
    form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(run, 350); });
    form.addEventListener("change", function () { clearTimeout(timer); timer = setTimeout(run, 50); });
    run();
  }

  // Progress: poll GET /v1/announcements/{id} until it is done or cancelled.
  function progress(box) {
    var id = box.getAttribute("data-announcement");
    var names = ["total", "sent", "deferred", "queued", "skipped", "failed", "cancelled"];
    async function tick() {
      var res = await api("GET", "/v1/announcements/" + encodeURIComponent(id));
      if (res.ok) {
        var a = res.data;
        names.forEach(function (n) { var e = document.getElementById("a-" + n); if (e) e.textContent = a[n]; });
        var st = document.getElementById("a-state");
        st.textContent = a.state;
        st.className = "badge " + a.state;
        var bar = document.getElementById("a-progress");
        var settled = a.sent + a.skipped + a.failed + a.cancelled;
        bar.max = a.total || 1;
        bar.value = settled;
        bar.textContent = settled + " of " + a.total;
        if (a.state === "done" || a.state === "cancelled") {
          var f = document.getElementById("cancel-form");
          if (f) f.remove();
          return;
        }
      }
      setTimeout(tick, 1500);
    }
    if (box.getAttribute("data-finished") !== "true") setTimeout(tick, 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    // A link to an inbox item (/inbox#msg-…, as in crisis alerts) keeps its
    // fragment through the login: the server never sees fragments.
    var next = document.querySelector("form[action='/login'] input[name=next]");
    if (next && location.hash && next.value.indexOf("#") < 0) next.value += location.hash;
    var form = document.getElementById("compose");
    if (form) compose(form);
    var box = document.getElementById("progress");
    if (box) progress(box);
    var main = document.getElementById("main");
    var flash = document.querySelector(".flash, .problem");
    if (flash && main) main.focus();
  });
})();
