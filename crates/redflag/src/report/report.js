(function () {
  "use strict";
  var errors = [];
  window.addEventListener("error", function (e) { errors.push(String(e.message || e)); });
  window.addEventListener("unhandledrejection", function (e) { errors.push("unhandled rejection: " + e.reason); });

  function $(id) { return document.getElementById(id); }
  var table = $("case-table");
  var BASE = table.getAttribute("data-base") || "";
  var RULES = JSON.parse($("rf-rules").textContent || "{}");
  // [id, rank, score, severity 1-4, accounts, name, typologies, rules, txns, total, first, last]
  var LIST = JSON.parse($("rf-list").textContent || "[]");
  var N = LIST.length;
  var index = {};
  LIST.forEach(function (e, i) { index[e[0]] = i; });
  var SEV = ["", "low", "medium", "high", "critical"];
  var PAGE = 100, OPEN_LIMIT = 200, PRINT_LIMIT = 300;
  var state = { key: "rank", dir: 1, sev: 0, typ: "", rule: "", q: "" };
  var order = LIST.map(function (e, i) { return i; });
  var shown = order.slice();
  var limit = PAGE;
  var opened = {};

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  // Numbers as the Markdown report writes them: 12,500 and 9,999.50.
  function num(n) {
    n = Number(n);
    if (!isFinite(n)) return String(n);
    var r = Math.round(Math.abs(n) * 100) / 100;
    var w = Math.trunc(r);
    var c = Math.round((r - w) * 100);
    var s = String(w).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    if (c > 0) s += "." + (c < 10 ? "0" : "") + c;
    return (n < 0 && (w > 0 || c > 0) ? "-" : "") + s;
  }
  function shortTs(ts) { return String(ts).replace("T", " ").slice(0, 16); }
  function trunc(s, n) { s = String(s); return s.length <= n ? s : s.slice(0, n - 1) + "\u2026"; }
  function chip(s) { return '<span class="sev sev-' + s + '">' + s + "</span>"; }
  function isCash(ch) { return ch === "cash_in" || ch === "cash_out" || ch === "atm"; }
  function party(acc, name, ch) {
    if (name && acc) return name + " (" + acc + ")";
    if (acc) return acc;
    if (name) return isCash(ch) ? name + " (cash)" : name;
    return isCash(ch) ? "cash" : "not recorded";
  }
  function family(ch) {
    if (isCash(ch)) return ["cash", "#b45309"];
    if (ch === "wire" || ch === "mvts") return ["wire / MVTS", "#1d4ed8"];
    if (ch === "card") return ["card", "#7c3aed"];
    if (ch === "p2p" || ch === "mobile") return ["P2P / mobile", "#047857"];
    if (ch === "crypto") return ["crypto", "#be185d"];
    return ["other", "#52606d"];
  }
  function has(words, w) { return (" " + words + " ").indexOf(" " + w + " ") >= 0; }

  // ---- the evidence: one line a case, `CASE_ID<tab>JSON`, read when the page has loaded ----
  var EV = null, EVL = null, starts = null;
  function evidence() {
    if (EV !== null) return true;
    var el = $("rf-evidence");
    if (!el || document.readyState === "loading") return false;
    EV = el.textContent;
    starts = [0];
    for (var p = EV.indexOf("\n"); p >= 0; p = EV.indexOf("\n", p + 1)) starts.push(p + 1);
    return true;
  }
  function lineEnd(i) { return i + 1 < starts.length ? starts[i + 1] - 1 : EV.length; }
  function caseData(i) {
    if (!evidence() || i >= starts.length) return null;
    var line = EV.slice(starts[i], lineEnd(i));
    return JSON.parse(line.slice(line.indexOf("\t") + 1));
  }
  // Cases whose evidence holds `q`.
  var hitsFor = null, hits = null;
  function evidenceHits(q) {
    if (hitsFor === q) return hits;
    if (!evidence()) return null;
    if (EVL === null) EVL = EV.toLowerCase();
    var found = new Uint8Array(N), lo = 0;
    for (var p = EVL.indexOf(q); p >= 0; ) {
      var a = lo, b = starts.length - 1;
      while (a < b) { var m = (a + b + 1) >> 1; if (starts[m] <= p) a = m; else b = m - 1; }
      found[a] = 1; lo = a;
      p = EVL.indexOf(q, lineEnd(a));
    }
    hitsFor = q; hits = found;
    return found;
  }

  // ---- sorting, filtering, drawing a page of the list ----
  function key(i, k) {
    var e = LIST[i];
    switch (k) {
      case "rank": return e[1];
      case "score": return e[2];
      case "sev": return e[3];
      case "txns": return e[8];
      case "total": return e[9];
      case "first": return e[10];
      case "acc": return e[4];
      default: return e[0];
    }
  }
  function sortBy(k, dir) {
    state.key = k; state.dir = dir;
    order.sort(function (a, b) {
      var x = key(a, k), y = key(b, k);
      var c = x < y ? -1 : x > y ? 1 : 0;
      return c !== 0 ? c * dir : LIST[a][1] - LIST[b][1];
    });
    Array.prototype.forEach.call(table.tHead.querySelectorAll("th"), function (th) {
      var btn = th.querySelector("button");
      if (!btn) return;
      if (btn.getAttribute("data-key") === k) th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    });
    return refresh();
  }
  function matches(i, ev) {
    var e = LIST[i];
    if (state.sev && e[3] < state.sev) return false;
    if (state.typ && !has(e[6], state.typ)) return false;
    if (state.rule && !has(e[7], state.rule)) return false;
    if (state.q) {
      var t = (e[0] + " " + e[4] + " " + e[5] + " " + e[6] + " " + e[7]).toLowerCase();
      if (t.indexOf(state.q) < 0 && !(ev && ev[i])) return false;
    }
    return true;
  }
  function refresh() {
    var ev = state.q ? evidenceHits(state.q) : null;
    shown = order.filter(function (i) { return matches(i, ev); });
    limit = PAGE;
    draw();
    return shown.length;
  }
  function rowHtml(i) {
    var e = LIST[i], id = esc(e[0]);
    var acc = e[4].split(" ").map(esc).join("<br>") + (e[5] ? "<br><small>" + esc(trunc(e[5], 40)) + "</small>" : "");
    var f = e[10].slice(0, 10), l = e[11].slice(0, 10);
    return '<tbody class="case" id="' + id + '"><tr><td class="n">' + e[1] + '</td><td><button type="button" class="open" aria-expanded="false" aria-controls="d-' + id + '">' + id +
      '</button></td><td class="n">' + Number(e[2]).toFixed(2) + "</td><td>" + chip(SEV[e[3]]) + "</td><td>" + acc + "</td><td>" + esc(e[6].split(" ").join(", ")) + "</td><td>" +
      esc(e[7].split(" ").join(", ")) + '</td><td class="n">' + e[8] + '</td><td class="n">' + num(e[9]) + "</td><td>" + esc(f === l ? f : f + " to " + l) + "</td></tr></tbody>";
  }
  function draw() {
    while (table.tBodies.length) table.removeChild(table.tBodies[0]);
    var n = Math.min(limit, shown.length), h = [];
    for (var k = 0; k < n; k++) h.push(rowHtml(shown[k]));
    table.insertAdjacentHTML("beforeend", h.join(""));
    for (var k2 = 0; k2 < n; k2++) if (opened[LIST[shown[k2]][0]]) toggle(table.tBodies[k2], true);
    var more = shown.length - n;
    $("more").hidden = more <= 0;
    $("all").hidden = more <= PAGE;
    $("more").textContent = "Show " + Math.min(PAGE, more) + " more";
    $("all").textContent = "Show all " + shown.length;
    $("f-count").textContent = shown.length + " of " + N + " cases" + (n < shown.length ? "; the first " + n + " listed" : "");
  }
  function showMore(all) { limit = all ? shown.length : limit + PAGE; draw(); }
  function rendered() { return Array.prototype.slice.call(table.tBodies); }

  // ---- a case's details ----
  function toggle(b, open) {
    var btn = b.querySelector("button.open");
    var row = b.querySelector("tr.detail");
    if (open && row && row.getAttribute("data-pending") && evidence()) { b.removeChild(row); row = null; }
    if (open && !row) {
      var d = caseData(index[b.id]);
      row = document.createElement("tr");
      row.className = "detail";
      row.id = "d-" + b.id;
      var td = document.createElement("td");
      td.colSpan = b.rows[0].cells.length;
      if (d) td.innerHTML = details(d);
      else if (evidence()) td.innerHTML = "<p>No evidence recorded for this case.</p>";
      else { td.innerHTML = "<p>Reading the evidence\u2026</p>"; row.setAttribute("data-pending", "1"); }
      row.appendChild(td);
      b.appendChild(row);
    }
    if (row) row.hidden = !open;
    if (open) opened[b.id] = true; else delete opened[b.id];
    btn.setAttribute("aria-expanded", open ? "true" : "false");
  }
  function details(d) {
    var own = {};
    d.acc.forEach(function (a) { own[a] = true; });
    var names = {};
    d.tx.forEach(function (t) {
      if (t[6] && t[8]) (names[t[6]] = names[t[6]] || {})[t[8]] = 1;
      if (t[7] && t[9]) (names[t[7]] = names[t[7]] || {})[t[9]] = 1;
    });
    var h = [];
    h.push('<p class="summary">' + esc(d.s) + "</p>");
    h.push('<dl class="kv"><dt>Accounts</dt><dd>' + d.acc.map(function (a) {
      var n = names[a] ? Object.keys(names[a]) : [];
      return esc(a) + (n.length ? " (" + esc(n.join("; ")) + ")" : "");
    }).join(", ") + "</dd>");
    h.push("<dt>Period</dt><dd>" + esc(shortTs(d.first)) + " to " + esc(shortTs(d.last)) + "</dd>");
    h.push("<dt>Transactions</dt><dd>" + d.n + ", totalling " + num(d.total) + " " + esc(BASE) + "</dd>");
    h.push("<dt>Typologies</dt><dd>" + esc(d.typ.join(", ")) + "</dd>");
    if (d.ctry.length) h.push("<dt>Countries</dt><dd>" + esc(d.ctry.join(", ")) + "</dd>");
    h.push("</dl>");
    h.push('<h4>Why</h4><ul class="why">');
    d.al.forEach(function (a) {
      var r = RULES[a[0]];
      var when = a[3] === a[4] ? shortTs(a[3]) : shortTs(a[3]) + " to " + shortTs(a[4]);
      h.push("<li><strong>" + esc(a[0]) + "</strong>" + (r ? " " + esc(r[0]) : "") + " " + chip(esc(a[1])) + " (" +
        esc(a[2]) + " side; " + esc(when) + "; " + a[5] + " transaction" + (a[5] === 1 ? "" : "s") + "): " + esc(a[6]) + "</li>");
    });
    h.push("</ul>");
    h.push('<div class="figs"><figure>' + timeline(d, own) + "<figcaption>Timeline: money into the case's accounts above the line, out of them below, height by amount; the bars at the top are the alerts' time spans.</figcaption></figure>");
    h.push("<figure>" + flow(d, own) + "<figcaption>Money flow: payers on the left, the case's accounts in the middle, payees on the right; line width by amount.</figcaption></figure></div>");
    h.push("<h4>Transactions</h4>");
    if (d.tx.length < d.n) h.push("<p>The first " + num(d.tx.length) + " of the case's " + num(d.n) + " transactions, in time order; <code>alerts.csv</code> names every one.</p>");
    h.push('<table class="tx"><thead><tr><th scope="col">time</th><th scope="col">transaction</th><th scope="col">channel</th><th scope="col">from</th><th scope="col">to</th><th scope="col" class="n">amount</th><th scope="col" class="n">' + esc(BASE) +
      '</th><th scope="col">countries</th><th scope="col">narrative</th><th scope="col">rules</th></tr></thead><tbody>');
    d.tx.forEach(function (t) {
      var inn = own[t[7]] && !own[t[6]], out = own[t[6]] && !own[t[7]];
      var ctry = (t[10] || t[11]) ? (t[10] + " \u2192 " + t[11]).trim() : "";
      if (t[12]) ctry += (ctry ? " " : "") + "(at " + t[12] + ")";
      h.push("<tr><td>" + esc(shortTs(t[1])) + "</td><td>" + esc(t[0]) + "</td><td>" + esc(t[5]) + "</td><td>" + esc(party(t[6], t[8], t[5])) + "</td><td>" +
        esc(party(t[7], t[9], t[5])) + '</td><td class="n ' + (inn ? "dir-in" : out ? "dir-out" : "") + '">' + (out ? "\u2212" : "") + num(t[2]) + " " + esc(t[3] || BASE) + '</td><td class="n">' + num(t[4]) +
        "</td><td>" + esc(ctry) + "</td><td>" + esc(t[13]) + "</td><td>" + esc(t[14]) + "</td></tr>");
    });
    h.push("</tbody></table>");
    h.push("<h4>Sources</h4><ul>");
    d.rules.forEach(function (id) {
      var r = RULES[id];
      if (!r) { h.push("<li><strong>" + esc(id) + "</strong>: sources not recorded in this run's cases.json.</li>"); return; }
      h.push("<li><strong>" + esc(id) + "</strong> " + esc(r[0]) + ": " + (r[2].length ? esc(r[2].join("; ")) : "no source recorded in the pack") +
        (r[3] ? "<br><small>" + esc(r[3]) + "</small>" : "") + "</li>");
    });
    h.push("</ul>");
    return h.join("");
  }

  function ms(ts) { var t = Date.parse(String(ts) + "Z"); return isNaN(t) ? 0 : t; }
  function dayLabel(t, span) {
    var iso = new Date(t).toISOString();
    return span < 2 * 86400e3 ? iso.slice(0, 10) + " " + iso.slice(11, 16) : iso.slice(0, 10);
  }

  function timeline(d, own) {
    var W = 900, L = 64, R = 24;
    var ruleIds = [];
    d.al.forEach(function (a) { if (ruleIds.indexOf(a[0]) < 0) ruleIds.push(a[0]); });
    var laneH = 12, lanesTop = 8, lanesH = ruleIds.length * laneH;
    var plotTop = lanesTop + lanesH + 10, half = 70, mid = plotTop + half, H = mid + half + 46;
    var times = d.tx.map(function (t) { return ms(t[1]); });
    d.al.forEach(function (a) { times.push(ms(a[3])); times.push(ms(a[4])); });
    var t0 = Math.min.apply(null, times), t1 = Math.max.apply(null, times);
    if (t1 - t0 < 3600e3) { t0 -= 1800e3; t1 += 1800e3; }
    var x = function (t) { return L + (t - t0) / (t1 - t0) * (W - L - R); };
    var max = 0;
    d.tx.forEach(function (t) { if (t[4] > max) max = t[4]; });
    if (!(max > 0)) max = 1;
    var inSum = 0, outSum = 0, body = [];
    // The alerts' spans, one lane per rule.
    ruleIds.forEach(function (r, i) {
      var y = lanesTop + i * laneH;
      body.push('<text x="' + (L - 6) + '" y="' + (y + 9) + '" text-anchor="end">' + esc(r) + "</text>");
      d.al.forEach(function (a) {
        if (a[0] !== r) return;
        var x0 = x(ms(a[3])), x1 = x(ms(a[4]));
        body.push('<rect class="lane" x="' + (x0 - 1.5).toFixed(1) + '" y="' + (y + 1) + '" width="' + Math.max(3, x1 - x0 + 3).toFixed(1) + '" height="' + (laneH - 3) + '"><title>' +
          esc(a[0] + ": " + shortTs(a[3]) + " to " + shortTs(a[4]) + ". " + a[6]) + "</title></rect>");
      });
    });
    for (var i = 0; i <= 4; i++) {
      var tt = t0 + (t1 - t0) * i / 4, xx = x(tt);
      body.push('<line class="grid-line" x1="' + xx.toFixed(1) + '" y1="' + plotTop + '" x2="' + xx.toFixed(1) + '" y2="' + (mid + half) + '"></line>');
      body.push('<text x="' + xx.toFixed(1) + '" y="' + (mid + half + 16) + '" text-anchor="' + (i === 0 ? "start" : i === 4 ? "end" : "middle") + '">' + esc(dayLabel(tt, t1 - t0)) + "</text>");
    }
    body.push('<line class="axis" x1="' + L + '" y1="' + mid + '" x2="' + (W - R) + '" y2="' + mid + '"></line>');
    body.push('<text x="' + (L - 6) + '" y="' + (plotTop + 12) + '" text-anchor="end" class="muted">in</text>');
    body.push('<text x="' + (L - 6) + '" y="' + (mid + half - 2) + '" text-anchor="end" class="muted">out</text>');
    body.push('<text x="' + (W - R) + '" y="' + (plotTop + 10) + '" text-anchor="end" class="muted">tallest: ' + esc(num(max) + " " + BASE) + "</text>");
    var fams = {};
    d.tx.forEach(function (t) {
      var inn = own[t[7]] && !own[t[6]], out = own[t[6]] && !own[t[7]];
      var f = family(t[5]);
      fams[f[0]] = f[1];
      var xx = x(ms(t[1]));
      var hgt = 6 + (half - 12) * t[4] / max;
      var y = inn ? mid - hgt : out ? mid + hgt : mid;
      if (inn) inSum += t[4]; else if (out) outSum += t[4];
      var tip = t[0] + " \u00b7 " + shortTs(t[1]) + " \u00b7 " + (t[5] || "channel not recorded") + " \u00b7 " + num(t[2]) + " " + (t[3] || BASE) + " \u00b7 " +
        party(t[6], t[8], t[5]) + " \u2192 " + party(t[7], t[9], t[5]) + (t[14] ? " \u00b7 " + t[14] : "");
      body.push('<line x1="' + xx.toFixed(1) + '" y1="' + mid + '" x2="' + xx.toFixed(1) + '" y2="' + y.toFixed(1) + '" stroke="' + f[1] + '" stroke-opacity=".5"></line>');
      body.push('<circle cx="' + xx.toFixed(1) + '" cy="' + y.toFixed(1) + '" r="4" fill="' + f[1] + '"><title>' + esc(tip) + "</title></circle>");
    });
    var lx = L, ly = H - 10;
    Object.keys(fams).sort().forEach(function (k) {
      body.push('<circle cx="' + (lx + 4) + '" cy="' + (ly - 4) + '" r="4" fill="' + fams[k] + '"></circle><text x="' + (lx + 12) + '" y="' + ly + '">' + esc(k) + "</text>");
      lx += 24 + k.length * 7;
    });
    var label = "Timeline of " + d.tx.length + " transactions from " + shortTs(d.first) + " to " + shortTs(d.last) + ": " + num(inSum) + " " + BASE + " in, " + num(outSum) + " " + BASE + " out";
    return '<svg class="timeline" viewBox="0 0 ' + W + " " + H + '" width="' + W + '" height="' + H + '" role="img" aria-label="' + esc(label) + '">' + body.join("") + "</svg>";
  }

  function flow(d, own) {
    var MAXN = 8;
    var ins = {}, outs = {}, internal = [];
    function add(m, k, a, v) { var e = m[k] || (m[k] = {}); e[a] = (e[a] || 0) + v; }
    d.tx.forEach(function (t) {
      var o = own[t[6]], b = own[t[7]];
      if (o && b) internal.push(t);
      else if (b) add(ins, party(t[6], t[8], t[5]), t[7], t[4]);
      else if (o) add(outs, party(t[7], t[9], t[5]), t[6], t[4]);
    });
    function side(m) {
      var list = Object.keys(m).map(function (k) {
        var tot = 0;
        Object.keys(m[k]).forEach(function (a) { tot += m[k][a]; });
        return { label: k, by: m[k], total: tot, n: 1 };
      });
      list.sort(function (a, b) { return b.total - a.total || (a.label < b.label ? -1 : 1); });
      if (list.length > MAXN) {
        var rest = list.slice(MAXN - 1), agg = { label: rest.length + " others", by: {}, total: 0, n: rest.length };
        rest.forEach(function (e) { agg.total += e.total; Object.keys(e.by).forEach(function (a) { agg.by[a] = (agg.by[a] || 0) + e.by[a]; }); });
        list = list.slice(0, MAXN - 1).concat([agg]);
      }
      return list;
    }
    var left = side(ins), right = side(outs), centre = d.acc.slice();
    var rowH = 46, nW = 250, W = 900, top = 24;
    var rows = Math.max(left.length, right.length, centre.length, 1);
    var H = top + rows * rowH + (internal.length ? 24 : 10);
    var max = 0;
    left.concat(right).forEach(function (e) { Object.keys(e.by).forEach(function (a) { if (e.by[a] > max) max = e.by[a]; }); });
    if (!(max > 0)) max = 1;
    function ys(n) { var off = top + (rows - n) * rowH / 2; return function (i) { return off + i * rowH + rowH / 2; }; }
    var yl = ys(left.length), yr = ys(right.length), yc = ys(centre.length);
    var cx = (W - nW) / 2, lx = 4, rx = W - nW - 4;
    var cIndex = {};
    centre.forEach(function (a, i) { cIndex[a] = i; });
    var inSum = 0, outSum = 0, s = [];
    left.forEach(function (e) { inSum += e.total; });
    right.forEach(function (e) { outSum += e.total; });
    var label = "Money flow: " + num(inSum) + " " + BASE + " in from " + Object.keys(ins).length + " payers, " + num(outSum) + " " + BASE + " out to " + Object.keys(outs).length + " payees";
    s.push('<svg class="flow" viewBox="0 0 ' + W + " " + H + '" width="' + W + '" height="' + H + '" role="img" aria-label="' + esc(label) + '">');
    s.push('<text x="' + lx + '" y="14" class="muted">paid in by</text><text x="' + cx + '" y="14" class="muted">case accounts</text><text x="' + rx + '" y="14" class="muted">paid out to</text>');
    function edge(x1, y1, x2, y2, amt, cls, tip) {
      var w = (1.5 + 12 * amt / max).toFixed(1), mx = (x1 + x2) / 2;
      s.push('<path class="' + cls + '" stroke-width="' + w + '" d="M' + x1.toFixed(1) + " " + y1.toFixed(1) + " C" + mx.toFixed(1) + " " + y1.toFixed(1) + " " + mx.toFixed(1) + " " + y2.toFixed(1) + " " + x2.toFixed(1) + " " + y2.toFixed(1) + '"><title>' + esc(tip) + "</title></path>");
    }
    left.forEach(function (e, i) {
      Object.keys(e.by).forEach(function (a) { if (a in cIndex) edge(lx + nW, yl(i), cx, yc(cIndex[a]), e.by[a], "edge-in", e.label + " \u2192 " + a + ": " + num(e.by[a]) + " " + BASE); });
    });
    right.forEach(function (e, i) {
      Object.keys(e.by).forEach(function (a) { if (a in cIndex) edge(cx + nW, yc(cIndex[a]), rx, yr(i), e.by[a], "edge-out", a + " \u2192 " + e.label + ": " + num(e.by[a]) + " " + BASE); });
    });
    function node(x, y, label, sub, cls) {
      s.push('<rect class="node' + (cls ? " " + cls : "") + '" x="' + x + '" y="' + (y - 18).toFixed(1) + '" width="' + nW + '" height="36" rx="5"><title>' + esc(label) + "</title></rect>");
      s.push('<text x="' + (x + 8) + '" y="' + (y - 3).toFixed(1) + '">' + esc(trunc(label, 38)) + "</text>");
      s.push('<text x="' + (x + 8) + '" y="' + (y + 12).toFixed(1) + '" class="muted">' + esc(sub) + "</text>");
    }
    left.forEach(function (e, i) { node(lx, yl(i), e.label, num(e.total) + " " + BASE + " in" + (e.n > 1 ? " (" + e.n + " parties)" : ""), ""); });
    right.forEach(function (e, i) { node(rx, yr(i), e.label, num(e.total) + " " + BASE + " out" + (e.n > 1 ? " (" + e.n + " parties)" : ""), ""); });
    var names = {};
    d.tx.forEach(function (t) { if (t[6] && t[8] && !names[t[6]]) names[t[6]] = t[8]; if (t[7] && t[9] && !names[t[7]]) names[t[7]] = t[9]; });
    centre.forEach(function (a, i) { node(cx, yc(i), names[a] ? names[a] + " (" + a + ")" : a, a, "own"); });
    if (internal.length) {
      var it = 0;
      internal.forEach(function (t) { it += t[4]; });
      s.push('<text x="' + cx + '" y="' + (H - 6) + '" class="muted">' + esc(internal.length + " transfer" + (internal.length === 1 ? "" : "s") + " between the case's accounts: " + num(it) + " " + BASE) + "</text>");
    }
    s.push("</svg>");
    return s.join("");
  }

  // ---- wiring ----
  Array.prototype.forEach.call(table.tHead.querySelectorAll("button[data-key]"), function (btn) {
    btn.addEventListener("click", function () {
      var k = btn.getAttribute("data-key");
      var dir = state.key === k ? -state.dir : (k === "rank" || k === "case" || k === "acc" || k === "first" ? 1 : -1);
      sortBy(k, dir);
    });
  });
  table.addEventListener("click", function (e) {
    var btn = e.target.closest ? e.target.closest("button.open") : null;
    if (!btn) return;
    toggle(btn.closest("tbody"), btn.getAttribute("aria-expanded") !== "true");
  });
  function setFilters() {
    state.sev = +$("f-sev").value;
    state.typ = $("f-typ").value;
    state.rule = $("f-rule").value;
    state.q = $("f-text").value.trim().toLowerCase();
    return refresh();
  }
  ["f-sev", "f-typ", "f-rule"].forEach(function (id) { $(id).addEventListener("change", setFilters); });
  var timer = null;
  $("f-text").addEventListener("input", function () {
    if (timer) clearTimeout(timer);
    timer = setTimeout(setFilters, 150);
  });
  $("filters").addEventListener("submit", function (e) { e.preventDefault(); setFilters(); });
  function reset() {
    document.body.classList.remove("focus");
    $("f-sev").value = "0"; $("f-typ").value = ""; $("f-rule").value = ""; $("f-text").value = "";
    return setFilters();
  }
  $("f-reset").addEventListener("click", reset);
  $("more").addEventListener("click", function () { showMore(false); });
  $("all").addEventListener("click", function () { showMore(true); });
  $("open-all").addEventListener("click", function () {
    rendered().slice(0, OPEN_LIMIT).forEach(function (b) { toggle(b, true); });
  });
  $("close-all").addEventListener("click", function () {
    opened = {};
    rendered().forEach(function (b) { if (b.querySelector("tr.detail")) toggle(b, false); });
  });
  window.addEventListener("beforeprint", function () {
    if (shown.length > PRINT_LIMIT) return;
    if (limit < shown.length) showMore(true);
    rendered().forEach(function (b) { toggle(b, true); });
  });
  // `#CASE_ID` or `#case=CASE_ID`: that case alone, opened, under the header.
  function focusCase(id) {
    if (!(id in index)) return false;
    document.body.classList.add("focus");
    $("f-sev").value = "0"; $("f-typ").value = ""; $("f-rule").value = "";
    $("f-text").value = id.toLowerCase();
    setFilters();
    var b = $(id);
    if (b) toggle(b, true);
    return !!b;
  }
  function route() {
    var h = decodeURIComponent(location.hash.slice(1));
    if (h.indexOf("case=") === 0) h = h.slice(5);
    if (h in index) focusCase(h);
  }
  window.addEventListener("hashchange", route);

  // The first page of the list, laid out: the report is ready to read.
  draw();
  void document.body.offsetHeight;
  var readyMs = performance.now();
  var frameMs = null, evidenceMs = null;
  document.documentElement.setAttribute("data-ready-ms", readyMs.toFixed(1));
  requestAnimationFrame(function () {
    frameMs = performance.now();
    document.documentElement.setAttribute("data-frame-ms", frameMs.toFixed(1));
  });

  // ---- self test: `report.html#selftest` ----
  function selftest() {
    var out = { ok: false, cases: N, ready_ms: Math.round(readyMs), frame_ms: frameMs === null ? null : Math.round(frameMs), evidence_ms: Math.round(evidenceMs), checks: {}, errors: errors };
    var c = out.checks;
    try {
      if (N === 0) throw new Error("no case to test with");
      var ids = function () { return rendered().map(function (b) { return b.id; }); };
      var first = function () { return ids().slice(0, 3).join(","); };
      c.list_drawn = rendered().length === Math.min(N, PAGE);
      var before = first();
      var t = performance.now();
      sortBy("score", 1);
      c.sort_ms = Math.round(performance.now() - t);
      var scores = shown.map(function (i) { return LIST[i][2]; });
      c.sorted_ascending = scores.every(function (v, i) { return i === 0 || scores[i - 1] <= v; });
      c.sort_changed_list = N < 2 || first() !== before;
      c.sort_drawn = rendered().length > 0 && rendered()[0].id === LIST[shown[0]][0];
      sortBy("case", -1);
      var all = shown.map(function (i) { return LIST[i][0]; });
      c.sorted_by_id_descending = all.every(function (v, i) { return i === 0 || all[i - 1] >= v; });
      sortBy("rank", 1);
      c.back_to_rank_order = first() === before;
      var top = 0;
      LIST.forEach(function (e) { top = Math.max(top, e[3]); });
      $("f-sev").value = String(top);
      var expect = LIST.filter(function (e) { return e[3] >= top; }).length;
      t = performance.now();
      var n = setFilters();
      c.filter_ms = Math.round(performance.now() - t);
      c.severity_filter = n === expect && rendered().length === Math.min(expect, PAGE) && rendered().every(function (b) { return LIST[index[b.id]][3] >= top; });
      c.severity_filter_changed_list = n < N;
      reset();
      var typ = $("f-typ").options.length > 1 ? $("f-typ").options[1].value : "";
      $("f-typ").value = typ;
      c.typology_filter = setFilters() === LIST.filter(function (e) { return has(e[6], typ); }).length;
      reset();
      var rs = $("f-rule").options;
      var rule = rs.length > 1 ? rs[rs.length - 1].value : "";
      $("f-rule").value = rule;
      c.rule_filter = setFilters() === LIST.filter(function (e) { return has(e[7], rule); }).length;
      reset();
      var last = LIST[N - 1][0];
      $("f-text").value = last.toUpperCase();
      t = performance.now();
      c.text_filter = setFilters() === 1 && ids()[0] === last;
      c.text_ms = Math.round(performance.now() - t);
      var d0 = caseData(0);
      var needle = d0 && d0.tx.length ? String(d0.tx[0][0]).toLowerCase() : "";
      $("f-text").value = needle;
      t = performance.now();
      c.text_filter_reads_evidence = !!needle && setFilters() >= 1 && ids().indexOf(LIST[0][0]) >= 0;
      c.evidence_search_ms = Math.round(performance.now() - t);
      c.reset = reset() === N;
      if (N > PAGE) { showMore(false); c.show_more = rendered().length === Math.min(N, 2 * PAGE); limit = PAGE; draw(); }
      var b0 = rendered()[0];
      t = performance.now();
      toggle(b0, true);
      c.open_ms = Math.round(performance.now() - t);
      var row = b0.querySelector("tr.detail");
      c.details_drawn = !!row && !row.hidden && row.querySelectorAll("svg.timeline").length === 1 && row.querySelectorAll("svg.flow").length === 1;
      c.details_transactions = !!row && !!d0 && row.querySelectorAll("table.tx tbody tr").length === d0.tx.length;
      sortBy("score", -1);
      sortBy("rank", 1);
      c.details_kept_open = !!rendered()[0].querySelector("tr.detail") && !rendered()[0].querySelector("tr.detail").hidden;
      toggle(rendered()[0], false);
      c.details_closed = rendered()[0].querySelector("tr.detail").hidden && rendered()[0].querySelector("button.open").getAttribute("aria-expanded") === "false";
      c.focus_mode = focusCase(last) && rendered().length === 1 && $("run").offsetHeight === 0;
      c.focus_reset = reset() === N && $("run").offsetHeight > 0;
      c.keyboard_controls = Array.prototype.every.call(document.querySelectorAll("#case-table thead button, button.open, #filters select, #filters input, #filters button"), function (el) { return el.tabIndex >= 0; });
      out.ok = Object.keys(c).every(function (k) { return /_ms$/.test(k) || c[k] === true; }) && errors.length === 0;
    } catch (e) {
      errors.push("selftest: " + (e && e.stack ? e.stack : e));
    }
    var pre = $("selftest");
    pre.textContent = JSON.stringify(out);
    pre.hidden = false;
  }

  document.addEventListener("DOMContentLoaded", function () {
    evidence();
    evidenceMs = performance.now();
    document.documentElement.setAttribute("data-evidence-ms", evidenceMs.toFixed(1));
    rendered().forEach(function (b) { if (opened[b.id]) toggle(b, true); });
    if (state.q) refresh();
    if (location.hash === "#selftest") selftest();
    else route();
  });
})();
