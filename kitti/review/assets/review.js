// Label review page: frame list with filters and "most suspect" sorting, per-frame views loaded on demand
// (frames/<id>.js calls REVIEW_FRAME), box selection, accept / reject decisions kept in localStorage and exported
// as decisions.json. Plain browser JavaScript, no dependencies: the page works offline from file://.
"use strict";
(function () {
  const INDEX = window.REVIEW_INDEX;
  const STORE_KEY = "kitti-review:" + INDEX.review_id;
  const COLOURS = { Car: "#2ecc40", Pedestrian: "#3a9bff", Cyclist: "#e040fb" };
  const OTHER_COLOUR = "#ffa500", GT_COLOUR = "#ffffff", HIGHLIGHT = "#ffff00", REJECTED = "#ff4136";
  const BOX2D_COLOUR = "#00e5ff";
  // box edges as corner pairs: bottom face, top face, verticals (kitti.geometry.box3d_corners order)
  const EDGES = [[0, 1], [1, 2], [2, 3], [3, 0], [4, 5], [5, 6], [6, 7], [7, 4], [0, 4], [1, 5], [2, 6], [3, 7]];
  const $ = (id) => document.getElementById(id);
  const esc = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

  // only frames the page's own index lists are ever loaded: the URL fragment names a frame, never a path
  const KNOWN = new Set(INDEX.frames.map((f) => f[0]));
  // the first frame's data starts loading before the frame list is built
  const wantedFirst = location.hash.slice(1);
  const first = KNOWN.has(wantedFirst) ? wantedFirst : (INDEX.frames.length ? INDEX.frames[0][0] : null);
  const state = { current: null, selected: null, listed: [], cache: new Map(), pending: new Map(), rows: [] };
  window.REVIEW_FRAME = function (data) {
    state.cache.set(data.frame, data);
    const entry = state.pending.get(data.frame);
    if (entry) { state.pending.delete(data.frame); entry.resolve(data); }
  };
  if (first) loadFrame(first).catch(() => {});
  const frames = INDEX.frames.map((f) => ({
    name: f[0],
    boxes: f[1].map((b) => ({ cls: INDEX.classes[b[0]], score: b[1], dist: b[2], source: INDEX.sources[b[3]],
      suspicion: b[4] })),
  }));
  const byName = new Map(frames.map((f) => [f.name, f]));
  let decisions = loadDecisions();

  // ---- decisions (localStorage) ----
  function loadDecisions() {
    try {
      const saved = JSON.parse(localStorage.getItem(STORE_KEY));
      if (saved && typeof saved.frames === "object") return saved;
    } catch (e) { /* corrupt or unavailable storage: start empty */ }
    return { frames: {} };
  }
  function saveDecisions() {
    try { localStorage.setItem(STORE_KEY, JSON.stringify(decisions)); } catch (e) { /* storage full or off */ }
  }
  function frameEntry(name, create) {
    if (!decisions.frames[name] && create) decisions.frames[name] = { decision: null, note: "", boxes: {} };
    return decisions.frames[name] || null;
  }
  function boxEntry(name, id) {
    const frame = frameEntry(name, false);
    return (frame && frame.boxes[id]) || null;
  }
  function prune(name) {
    const frame = frameEntry(name, false);
    if (!frame) return;
    for (const [id, box] of Object.entries(frame.boxes)) if (!box.decision && !box.note) delete frame.boxes[id];
    if (!frame.decision && !frame.note && !Object.keys(frame.boxes).length) delete decisions.frames[name];
  }
  function setFrame(name, field, value) {
    frameEntry(name, true)[field] = value;
    prune(name); saveDecisions(); refreshDecisionMarks();
  }
  function setBox(name, id, field, value) {
    const frame = frameEntry(name, true);
    frame.boxes[id] = Object.assign({ decision: null, note: "" }, frame.boxes[id], { [field]: value });
    prune(name); saveDecisions(); refreshDecisionMarks();
  }
  function exportDecisions() {
    const payload = { format: "kitti-review-decisions", version: 1, review_id: INDEX.review_id, run: INDEX.run,
      exported: new Date().toISOString(), frames: decisions.frames };
    const url = URL.createObjectURL(new Blob([JSON.stringify(payload, null, 1)], { type: "application/json" }));
    const link = document.createElement("a");
    link.href = url; link.download = "decisions.json";
    document.body.appendChild(link); link.click(); link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  // ---- filters ----
  const sourceName = (source) => (INDEX.source_names && INDEX.source_names[source]) || source;
  function checkboxes(fieldset, values, name = (v) => v) {
    for (const value of values) {
      const label = document.createElement("label");
      label.innerHTML = `<input type="checkbox" checked value="${esc(value)}"> ${esc(name(value))} `;
      $(fieldset).appendChild(label);
    }
  }
  function filters() {
    const checked = (id) => new Set([...$(id).querySelectorAll("input:checked")].map((i) => i.value));
    const num = (id) => { const v = parseFloat($(id).value); return isNaN(v) ? parseFloat($(id).defaultValue) : v; };
    const f = { classes: checked("f-class"), sources: checked("f-source"), scoreMin: num("f-score-min"),
      scoreMax: num("f-score-max"), distMin: num("f-dist-min"), distMax: num("f-dist-max") };
    const inputs = [...document.querySelectorAll("#filters input")];
    f.active = inputs.some((i) => (i.type === "checkbox" ? !i.checked : i.value !== i.defaultValue));
    return f;
  }
  function passes(box, f) {
    const score = box.score === null ? 0 : box.score;
    return f.classes.has(box.cls) && f.sources.has(box.source) && score >= f.scoreMin && score <= f.scoreMax
      && box.dist >= f.distMin && box.dist <= f.distMax;
  }

  // ---- frame list ----
  function renderList() {
    const f = filters();
    const rows = [];
    let boxCount = 0;
    for (const frame of frames) {
      const shown = frame.boxes.filter((b) => passes(b, f));
      if (f.active && !shown.length) continue;
      boxCount += shown.length;
      rows.push({ frame, n: shown.length, suspicion: Math.max(0, ...shown.map((b) => b.suspicion)) });
    }
    if ($("sort-frames").value === "suspect") rows.sort((a, b) => b.suspicion - a.suspicion);
    state.listed = rows.map((r) => r.frame.name);
    // one HTML string: thousands of rows are parsed in one go instead of one DOM call each
    // (the suspicion bar and the decision mark are CSS pseudo-elements: two elements per row)
    $("frame-list").innerHTML = rows.map((row) => `<li data-frame="${row.frame.name}" class="${
      decisionOf(row.frame.name)}" style="--s:${Math.round(row.suspicion * 100)}%" title="suspicion ${
      row.suspicion.toFixed(2)}">${row.frame.name}<b>${row.n}</b></li>`).join("");
    $("counts").textContent = `${rows.length} of ${frames.length} frames listed, ${boxCount} boxes`;
    if (state.current && state.listed.includes(state.current)) {
      if (state.cache.has(state.current)) { markCurrent(); render(); } else show(state.current);
    } else if (state.listed.length) show(state.listed[0]);
  }
  function decisionOf(name) {
    const entry = decisions.frames[name];
    return (entry && entry.decision) || "";
  }
  function refreshDecisionMarks() {
    const li = state.current && $("frame-list").querySelector(`li[data-frame="${state.current}"]`);
    if (li) {
      li.classList.toggle("accept", decisionOf(state.current) === "accept");
      li.classList.toggle("reject", decisionOf(state.current) === "reject");
    }
    if (state.current) { renderFrameBar(); refreshRowMarks(); }
  }
  function markCurrent() {
    for (const li of $("frame-list").querySelectorAll("li.current")) li.classList.remove("current");
    const li = $("frame-list").querySelector(`li[data-frame="${state.current}"]`);
    if (li) { li.classList.add("current"); li.scrollIntoView({ block: "nearest" }); }
  }

  // ---- frame data, loaded on demand ----
  function loadFrame(name) {
    if (!KNOWN.has(name)) return Promise.reject(new Error("unknown frame (not in this review)"));
    if (state.cache.has(name)) return Promise.resolve(state.cache.get(name));
    if (state.pending.has(name)) return state.pending.get(name).promise;
    const entry = {};
    entry.promise = new Promise((resolve, reject) => {
      entry.resolve = resolve;
      const script = document.createElement("script");
      script.src = `frames/${name}.js`;
      script.onload = () => script.remove();
      script.onerror = () => {
        script.remove(); state.pending.delete(name); reject(new Error(`frames/${name}.js did not load`));
      };
      document.head.appendChild(script);
    });
    state.pending.set(name, entry);
    return entry.promise;
  }
  function show(name) {
    if (!KNOWN.has(name)) return;
    state.current = name;
    state.selected = null;
    markCurrent();
    history.replaceState(null, "", "#" + name);
    $("frame-title").textContent = `frame ${name}`;
    $("camera").src = `frames/${name}.jpg`;
    $("bev-points").src = `frames/${name}_bev.png`;
    loadFrame(name).then((data) => {
      if (state.current !== name) return;
      render();
      if (!document.body.dataset.ready) {
        window.REVIEW_READY_MS = performance.now();
        document.body.dataset.ready = "1";
      }
      const at = state.listed.indexOf(name);
      for (const next of [state.listed[at + 1], state.listed[at - 1]]) if (next) loadFrame(next).catch(() => {});
    }, (error) => { $("frame-status").textContent = error.message; });
  }
  function step(offset) {
    if (!state.listed.length) return;
    const at = state.listed.indexOf(state.current);
    const next = Math.min(state.listed.length - 1, Math.max(0, at + offset));
    if (state.listed[next] !== state.current) show(state.listed[next]);
  }
  function visibleBoxes(data) {
    const f = filters();
    const boxes = data.boxes.filter((b) => passes(b, f));
    if ($("sort-boxes").value === "suspect") boxes.sort((a, b) => b.suspicion - a.suspicion);
    return boxes;
  }

  // ---- drawing ----
  function colourOf(box) {
    const entry = boxEntry(state.current, box.id);
    if (entry && entry.decision === "reject") return REJECTED;
    return COLOURS[box.cls] || OTHER_COLOUR;
  }
  function strokeBox(ctx, corners, colour, width, dashed) {
    ctx.strokeStyle = colour; ctx.lineWidth = width; ctx.setLineDash(dashed ? [6, 4] : []);
    ctx.beginPath();
    for (const [a, b] of EDGES) { ctx.moveTo(...corners[a]); ctx.lineTo(...corners[b]); }
    ctx.stroke();
  }
  function drawImage() {
    const data = state.cache.get(state.current), canvas = $("image-canvas");
    if (!data) return;
    canvas.width = data.width; canvas.height = data.height;
    const ctx = canvas.getContext("2d");
    for (const gt of data.gt || []) if (gt.img) strokeBox(ctx, gt.img, GT_COLOUR, 1.5, true);
    const boxes = visibleBoxes(data);
    for (const box of boxes) if (box.img && box.id !== state.selected) strokeBox(ctx, box.img, colourOf(box), 2, false);
    const chosen = boxes.find((b) => b.id === state.selected);
    if (!chosen) return;
    const [x1, y1, x2, y2] = chosen.box2d;  // the label's own 2D box, against which "2D IoU" is measured
    ctx.strokeStyle = BOX2D_COLOUR; ctx.lineWidth = 1.5; ctx.setLineDash([3, 3]);
    ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
    if (chosen.img) strokeBox(ctx, chosen.img, HIGHLIGHT, 4, false);
  }
  function bevPx(p) {
    const b = INDEX.bev;
    return [(p[0] - b.x[0]) / b.res, (b.z[1] - p[1]) / b.res];
  }
  function strokeFootprint(ctx, footprint, colour, width, dashed) {
    const pts = footprint.map(bevPx);
    ctx.strokeStyle = colour; ctx.lineWidth = width; ctx.setLineDash(dashed ? [5, 4] : []);
    ctx.beginPath(); ctx.moveTo(...pts[0]);
    for (const p of pts.slice(1)) ctx.lineTo(...p);
    ctx.closePath(); ctx.stroke();
    ctx.setLineDash([]); ctx.lineWidth = width + 1.5;  // front face (corners 0-1) thicker
    ctx.beginPath(); ctx.moveTo(...pts[0]); ctx.lineTo(...pts[1]); ctx.stroke();
  }
  function drawBev() {
    const data = state.cache.get(state.current), canvas = $("bev-canvas"), b = INDEX.bev;
    canvas.width = Math.round((b.x[1] - b.x[0]) / b.res); canvas.height = Math.round((b.z[1] - b.z[0]) / b.res);
    // the points are the <img> under this canvas: drawing a file:// image into it would taint the canvas
    const ctx = canvas.getContext("2d");
    ctx.strokeStyle = "#333"; ctx.lineWidth = 1; ctx.fillStyle = "#777"; ctx.font = "14px sans-serif";
    const [cx, cy] = bevPx([0, 0]);
    for (let r = 10; r <= b.z[1]; r += 10) {  // range rings every 10 m around the camera
      ctx.beginPath(); ctx.arc(cx, cy, r / b.res, Math.PI, 2 * Math.PI); ctx.stroke();
      ctx.fillText(`${r} m`, cx + 3, cy - r / b.res + 14);
    }
    if (!data) return;
    for (const gt of data.gt || []) strokeFootprint(ctx, gt.bev, GT_COLOUR, 1.5, true);
    const boxes = visibleBoxes(data);
    for (const box of boxes) if (box.id !== state.selected) strokeFootprint(ctx, box.bev, colourOf(box), 2, false);
    const chosen = boxes.find((x) => x.id === state.selected);
    if (chosen) strokeFootprint(ctx, chosen.bev, HIGHLIGHT, 4, false);
  }
  function inside(point, polygon) {
    let hit = false;
    for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
      const [xi, yi] = polygon[i], [xj, yj] = polygon[j];
      if ((yi > point[1]) !== (yj > point[1]) && point[0] < ((xj - xi) * (point[1] - yi)) / (yj - yi) + xi) hit = !hit;
    }
    return hit;
  }
  function canvasPoint(canvas, event) {
    const rect = canvas.getBoundingClientRect();
    return [(event.clientX - rect.left) * canvas.width / rect.width,
      (event.clientY - rect.top) * canvas.height / rect.height];
  }
  function pickBox(event, canvas, polygonOf) {
    const data = state.cache.get(state.current);
    if (!data) return;
    const point = canvasPoint(canvas, event);
    const hits = visibleBoxes(data).filter((box) => polygonOf(box) && inside(point, polygonOf(box)));
    if (hits.length) select(hits[0].id);
  }
  function hull(corners) {
    const us = corners.map((c) => c[0]), vs = corners.map((c) => c[1]);
    const [u1, u2, v1, v2] = [Math.min(...us), Math.max(...us), Math.min(...vs), Math.max(...vs)];
    return [[u1, v1], [u2, v1], [u2, v2], [u1, v2]];
  }

  // ---- table and frame bar ----
  const fmt = (v, d) => (v === null || v === undefined ? "-" : Number(v).toFixed(d));
  function renderTable() {
    const data = state.cache.get(state.current), body = document.querySelector("#boxes tbody");
    const fragment = document.createDocumentFragment();
    state.rows = data ? visibleBoxes(data).map((b) => b.id) : [];
    for (const box of data ? visibleBoxes(data) : []) {
      const tr = document.createElement("tr");
      tr.dataset.box = box.id;
      const parts = Object.entries(box.parts).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ");
      tr.innerHTML = `<td>${box.id}</td><td style="color:${COLOURS[box.cls] || OTHER_COLOUR}">${box.cls}</td>` +
        `<td>${fmt(box.score, 3)}</td><td>${fmt(box.dist, 1)}</td><td>${box.dims.map((v) => v.toFixed(2)).join(" ")}` +
        `</td><td>${fmt(box.ry * 180 / Math.PI, 0)}</td><td>${fmt(box.points, 0)}</td><td>${esc(sourceName(box.source))}</td>` +
        `<td>${fmt(box.iou2d, 2)}</td><td>${fmt(box.size_dev, 1)}</td><td class="sus" title="${parts}">` +
        `${fmt(box.suspicion, 2)}</td><td>${data.gt ? fmt(box.gt_iou, 2) : "no GT"}</td>` +
        `<td class="decision"><button class="acc" title="accept (a)">&#10003;</button>` +
        `<button class="rej" title="reject (r)">&#10007;</button></td>` +
        `<td class="note"><input placeholder="note"></td>`;
      const entry = boxEntry(state.current, box.id);
      tr.querySelector(".note input").value = (entry && entry.note) || "";
      fragment.appendChild(tr);
    }
    body.replaceChildren(fragment);
    refreshRowMarks();
  }
  function refreshRowMarks() {
    for (const tr of document.querySelectorAll("#boxes tbody tr")) {
      const entry = boxEntry(state.current, Number(tr.dataset.box));
      tr.classList.toggle("accept", !!entry && entry.decision === "accept");
      tr.classList.toggle("reject", !!entry && entry.decision === "reject");
      tr.classList.toggle("selected", Number(tr.dataset.box) === state.selected);
    }
  }
  function renderFrameBar() {
    const entry = frameEntry(state.current, false);
    const decision = entry && entry.decision;
    if (document.activeElement !== $("frame-note")) $("frame-note").value = (entry && entry.note) || "";
    $("frame-status").textContent = decision === "accept" ? "frame accepted (undecided boxes kept)"
      : decision === "reject" ? "frame rejected (every box dropped)" : "";
  }
  function render() {
    renderTable(); renderFrameBar(); drawImage(); drawBev();
  }
  function select(id) {
    state.selected = id;
    refreshRowMarks(); drawImage(); drawBev();
    const tr = document.querySelector(`#boxes tbody tr[data-box="${id}"]`);
    if (tr) tr.scrollIntoView({ block: "nearest" });
  }
  function stepBox(offset) {
    if (!state.rows.length) return;
    const at = state.rows.indexOf(state.selected);
    select(state.rows[at < 0 ? 0 : Math.min(state.rows.length - 1, Math.max(0, at + offset))]);
  }
  function decideSelected(value) {
    if (state.selected === null || !state.current) return;
    setBox(state.current, state.selected, "decision", value);
    drawImage(); drawBev();
  }

  // ---- wiring ----
  function wire() {
    const classes = [...new Set(frames.flatMap((f) => f.boxes.map((b) => b.cls)))].sort();
    const sources = [...new Set(frames.flatMap((f) => f.boxes.map((b) => b.source)))].sort();
    checkboxes("f-class", classes);
    checkboxes("f-source", sources, sourceName);
    const shares = INDEX.source_shares ? `; boxes: ${INDEX.source_shares}` : "";
    $("run-info").textContent = `${INDEX.run} (built ${INDEX.built})${shares}`;
    $("run-info").title = `labels ${INDEX.labels}\ndata ${INDEX.data}`;
    for (const el of document.querySelectorAll("#filters input, #filters select")) el.addEventListener("change", renderList);
    $("help-toggle").addEventListener("click", () => { $("help").hidden = !$("help").hidden; });
    $("export").addEventListener("click", exportDecisions);
    $("frame-list").addEventListener("click", (e) => {
      const li = e.target.closest("li");
      if (li) show(li.dataset.frame);
    });
    $("frame-accept").addEventListener("click", () => setFrame(state.current, "decision", "accept"));
    $("frame-reject").addEventListener("click", () => setFrame(state.current, "decision", "reject"));
    $("frame-clear").addEventListener("click", () => setFrame(state.current, "decision", null));
    $("frame-note").addEventListener("change", (e) => setFrame(state.current, "note", e.target.value));
    const body = document.querySelector("#boxes tbody");
    body.addEventListener("click", (e) => {
      const tr = e.target.closest("tr");
      if (!tr) return;
      const id = Number(tr.dataset.box);
      if (e.target.closest("button.acc")) { select(id); decideSelected(boxEntry(state.current, id)?.decision === "accept" ? null : "accept"); }
      else if (e.target.closest("button.rej")) { select(id); decideSelected(boxEntry(state.current, id)?.decision === "reject" ? null : "reject"); }
      else if (!e.target.closest("input")) select(id);
    });
    body.addEventListener("change", (e) => {
      const tr = e.target.closest("tr");
      if (tr && e.target.matches(".note input")) setBox(state.current, Number(tr.dataset.box), "note", e.target.value);
    });
    $("bev-canvas").addEventListener("click", (e) => pickBox(e, $("bev-canvas"), (box) => box.bev.map(bevPx)));
    $("image-canvas").addEventListener("click", (e) => pickBox(e, $("image-canvas"), (box) => box.img && hull(box.img)));
    document.addEventListener("keydown", (e) => {
      if (e.target.matches("input, select, textarea")) { if (e.key === "Escape") e.target.blur(); return; }
      const actions = { j: () => step(1), ArrowDown: () => step(1), k: () => step(-1), ArrowUp: () => step(-1),
        n: () => stepBox(1), p: () => stepBox(-1), a: () => decideSelected("accept"), r: () => decideSelected("reject"),
        u: () => decideSelected(null), A: () => setFrame(state.current, "decision", "accept"),
        R: () => setFrame(state.current, "decision", "reject") };
      if (actions[e.key] && state.current) { e.preventDefault(); actions[e.key](); }
    });
    const wanted = location.hash.slice(1);
    if (byName.has(wanted)) state.current = wanted;
    renderList();
  }
  wire();
})();
