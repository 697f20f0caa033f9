// raft-lab timeline: reads the embedded event record (events.jsonl schema 1) and draws it on a
// canvas, one lane per peer, time across. Sections: constants, model (events -> lanes, RPCs,
// tester items), view state and layout, drawing, interaction (hover, pin, zoom, pan, filters),
// side panel, start-up. Nothing here touches the network; event text is only ever written with
// textContent or fillText.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);

  // ---- constants ---------------------------------------------------------------------------
  const ROLE = {
    follower: { band: "#cbd5e1", tint: "#f3f6f9", text: "#334155", short: "F" },
    candidate: { band: "#f2bb4f", tint: "#fdf5e1", text: "#4a2f00", short: "C" },
    leader: { band: "#3f9f5f", tint: "#e8f5ec", text: "#ffffff", short: "L" },
    unknown: { band: "#e8ebef", tint: "#fbfbfc", text: "#7b8794", short: "?" },
  };
  const METHOD_COLORS = { AppendEntries: "#2f6fde", RequestVote: "#8e44ad", InstallSnapshot: "#0e8f84" };
  const EXTRA_COLORS = ["#b5651d", "#6d597a", "#2a9d8f", "#9c6644"];
  const BAD = "#d11f1f";
  const LEVEL_COLORS = { ERROR: "#d11f1f", WARN: "#e08a1e", INFO: "#4a6fa5", DEBUG: "#8c98a6", TRACE: "#bcc4cd", PRINT: "#2e8b57", NOTE: "#9a6fb0" };
  const FAIL_STAGES = new Set(["unreachable", "request_dropped", "no_method", "server_dead", "panicked"]);
  const ARROW_LIMIT = 1500;
  const REPLY_LIMIT = 200; // more RPCs than this in view: only lost replies are drawn // more RPCs than this in view: per-lane density bars instead of arrows
  const G = { axisH: 28, netH: 18, testerH: 54, laneH: 92, clientH: 24, gutter: 126, right: 16 };
  // Lab 4 client operations, by answer (err); failing ones are drawn red.
  const OP_COLORS = {
    OK: { fill: "#bfe6c9", stroke: "#3f9f5f" }, ErrMaybe: { fill: "#f8dca8", stroke: "#c98a1e" },
    ErrVersion: { fill: "#dde2e8", stroke: "#8c98a6" }, ErrNoKey: { fill: "#d3e5f8", stroke: "#4a6fa5" },
    pending: { fill: "#f1f3f6", stroke: "#b6bec8" },
  };
  const LANE = { band: [4, 20], body: [20, 58], mid: 39, commit: [60, 67], apply: [69, 76], log: [79, 88] };
  const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif';

  // ---- small helpers -----------------------------------------------------------------------
  const isPeer = (p) => Number.isInteger(p) && p >= 0;
  const peerName = (p) => (isPeer(p) ? "S" + p : "tester");
  const clientName = (c) => (c < 0 ? "tester (client -1)" : "client " + c);
  const methodName = (m) => (typeof m === "string" ? m.slice(m.lastIndexOf(".") + 1) : "?");
  const num = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, "\u202f");
  function fmtT(us) {
    return (us / 1e6).toFixed(6) + " s";
  }
  function fmtDur(us) {
    if (Math.abs(us) < 1000) return Math.round(us) + " µs";
    if (Math.abs(us) < 1e6) return (us / 1000).toFixed(2) + " ms";
    return (us / 1e6).toFixed(3) + " s";
  }
  // First index i with key(arr[i]) >= t (arr sorted by key).
  function lowerBound(arr, t, key) {
    let lo = 0, hi = arr.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (arr[mid][key] < t) lo = mid + 1; else hi = mid;
    }
    return lo;
  }
  function clip(s, n) {
    s = String(s);
    return s.length > n ? s.slice(0, n - 1) + "…" : s;
  }

  // ---- model -------------------------------------------------------------------------------
  function buildModel(evs) {
    const m = {
      test: null, peers: 0, tEnd: 1, lanes: [], rpcs: [], tester: [], unreliable: [], reordering: [],
      logs: [], nullLogs: [], unparsed: [], methods: [], highlight: null, failure: null, maxRpcDur: 0, nEvents: evs.length,
      clients: [], clientIdx: new Map(), opsByCall: new Map(), failingOps: new Map(), maxOpDur: 0, nOps: 0,
    };
    let maxPeer = -1;
    for (const e of evs) {
      if (!e || typeof e !== "object") continue;
      if (typeof e.t === "number" && e.t > m.tEnd) m.tEnd = e.t;
      for (const p of [e.peer, e.from, e.to]) if (isPeer(p) && p > maxPeer) maxPeer = p;
      if (e.kind === "test" && !m.test) m.test = e;
    }
    m.peers = Math.max(m.test && isPeer(m.test.peers) ? m.test.peers : 0, maxPeer + 1);
    for (let p = 0; p < m.peers; p++) {
      m.lanes.push({ peer: p, roles: [], states: [], commits: [], applies: [], logs: [], down: [], cut: [], downSince: null, cutSince: null });
    }
    const calls = new Map();
    const net = { unreliable: null, reordering: null };
    const causes = [];
    for (const e of evs) {
      if (!e || typeof e !== "object") continue;
      if (e.kind === "unparsed" || typeof e.t !== "number") { m.unparsed.push(e); continue; }
      const lane = isPeer(e.peer) ? m.lanes[e.peer] : null;
      switch (e.kind) {
        case "harness": m.tester.push(e); onHarness(m, e, net); break;
        case "start": m.tester.push(e); break;
        case "check": m.tester.push(e); if (e.ok === false) causes.push(e); break;
        case "violation": case "panic": m.tester.push(e); causes.push(e); break;
        case "failure": m.tester.push(e); if (!m.failure) m.failure = e; break;
        case "rpc": onRpc(m, calls, e); break;
        case "apply": if (lane) lane.applies.push(e); break;
        case "state": if (lane) onState(lane, e); break;
        case "log": m.logs.push(e); (lane ? lane.logs : m.nullLogs).push(e); break;
        case "client": onClient(m, e); break;
        case "linearizability":
          m.tester.push(e);
          if (e.verdict === "not linearizable") {
            causes.push(e);
            (e.ops || []).forEach((id, i) => { if (!m.failingOps.has(id)) m.failingOps.set(id, i === 0 ? "stuck" : "pending"); });
          }
          break;
        default: break;
      }
    }
    finishModel(m, net, causes);
    return m;
  }

  function onHarness(m, e, net) {
    const lane = isPeer(e.peer) ? m.lanes[e.peer] : null;
    const t = e.t;
    if (lane && e.action === "crash" && lane.downSince === null) lane.downSince = t;
    if (lane && e.action === "start" && lane.downSince !== null) {
      lane.down.push({ kind: "crashed", peer: lane.peer, t0: lane.downSince, t1: t });
      lane.downSince = null;
    }
    if (lane && e.action === "disconnect" && lane.cutSince === null) lane.cutSince = t;
    if (lane && e.action === "connect" && lane.cutSince !== null) {
      lane.cut.push({ kind: "disconnected", peer: lane.peer, t0: lane.cutSince, t1: t });
      lane.cutSince = null;
    }
    const toggle = (key, on, list, kind) => {
      if (on && net[key] === null) net[key] = t;
      if (!on && net[key] !== null) { list.push({ kind, t0: net[key], t1: t }); net[key] = null; }
    };
    if (e.action === "reliable") toggle("unreliable", e.value === false, m.unreliable, "unreliable network");
    if (e.action === "long_reordering") toggle("reordering", e.value === true, m.reordering, "long reordering");
  }

  // A Lab 4 client operation: a bar in its client's lane from its call to its return.
  function onClient(m, e) {
    let lane = m.clientIdx.get(e.client);
    if (lane === undefined) {
      lane = m.clients.length;
      m.clientIdx.set(e.client, lane);
      m.clients.push({ client: e.client, ops: [] });
    }
    let op = m.opsByCall.get(e.call);
    if (!op) {
      op = { kind: "op", client: e.client, call: e.call, t0: e.t, t1: null, text: e.text, rec: null };
      m.clients[lane].ops.push(op);
      m.opsByCall.set(e.call, op);
      m.nOps++;
    }
    if (e.stage === "return") {
      op.t1 = e.t;
      op.text = e.text;
      op.rec = e.op && typeof e.op === "object" ? e.op : null;
    }
  }

  function onState(lane, e) {
    const role = ROLE[e.role] ? e.role : "unknown";
    const cur = lane.roles[lane.roles.length - 1];
    if (!cur || cur.role !== role || cur.term !== e.term) {
      if (cur) cur.t1 = e.t;
      lane.roles.push({ kind: "role", peer: lane.peer, role, term: e.term, t0: e.t, t1: null });
    }
    const prev = lane.states[lane.states.length - 1];
    const before = prev && typeof prev.commit === "number" ? prev.commit : 0;
    if (typeof e.commit === "number" && e.commit > before) {
      lane.commits.push({ kind: "commit", peer: lane.peer, t: e.t, from: before, to: e.commit });
    }
    lane.states.push(e);
  }

  function onRpc(m, calls, e) {
    const key = e.call === null || e.call === undefined ? "#" + m.rpcs.length : e.call;
    let r = calls.get(key);
    if (!r) {
      r = { kind: "rpc", call: e.call, method: e.method, from: null, to: null, stages: [], sent: null, disp: null, handled: null, delivered: null, fail: null, replyFail: null };
      calls.set(key, r);
      m.rpcs.push(r);
    }
    r.stages.push(e);
    if (e.from !== null && e.from !== undefined) r.from = e.from;
    if (e.to !== null && e.to !== undefined) r.to = e.to;
    if (e.method) r.method = e.method;
    if (e.stage === "sent") r.sent = e;
    else if (e.stage === "dispatched") r.disp = e;
    else if (e.stage === "handled") r.handled = e;
    else if (e.stage === "delivered") r.delivered = e;
    else if (e.stage === "reply_dropped") r.replyFail = e;
    else if (FAIL_STAGES.has(e.stage) && !r.fail) r.fail = e;
  }

  // An RPC's arrows: the request (sent -> dispatched/handled, or -> the stage that lost it) and
  // the reply (handled -> delivered, or -> reply_dropped); `cross` marks where it was lost.
  function shapeRpc(r) {
    const first = r.sent || r.stages[0];
    r.t0 = first.t;
    r.t1 = r.t0;
    for (const s of r.stages) if (s.t > r.t1) r.t1 = s.t;
    r.m = methodName(r.method);
    const arrive = r.disp || r.handled;
    r.req = null; r.rep = null; r.cross = null;
    if (arrive) r.req = { ta: r.t0, pa: r.from, tb: arrive.t, pb: r.to, bad: false };
    else if (r.fail) r.req = { ta: r.t0, pa: r.from, tb: r.fail.t, pb: r.to, bad: true };
    else r.req = { ta: r.t0, pa: r.from, tb: r.t1, pb: r.to, pending: true };
    if (r.handled && r.delivered) r.rep = { ta: r.handled.t, pa: r.to, tb: r.delivered.t, pb: r.from, bad: false };
    else if (r.handled && r.replyFail) r.rep = { ta: r.handled.t, pa: r.to, tb: r.replyFail.t, pb: r.from, bad: true };
    if (r.fail) r.cross = { t: r.fail.t, p: arrive ? r.to : r.to };
    if (r.rep && r.rep.bad) r.cross = { t: r.replyFail.t, p: r.from };
    r.bad = !!(r.fail || r.replyFail);
    r.outcome = r.fail ? r.fail.stage : r.replyFail ? "reply_dropped" : r.delivered ? "delivered" : r.handled ? "handled, no reply yet" : "in flight";
  }

  function finishModel(m, net, causes) {
    for (const lane of m.lanes) {
      if (lane.downSince !== null) lane.down.push({ kind: "crashed", peer: lane.peer, t0: lane.downSince, t1: m.tEnd, open: true });
      if (lane.cutSince !== null) lane.cut.push({ kind: "disconnected", peer: lane.peer, t0: lane.cutSince, t1: m.tEnd, open: true });
      const last = lane.roles[lane.roles.length - 1];
      if (last) last.t1 = m.tEnd;
    }
    if (net.unreliable !== null) m.unreliable.push({ kind: "unreliable network", t0: net.unreliable, t1: m.tEnd });
    if (net.reordering !== null) m.reordering.push({ kind: "long reordering", t0: net.reordering, t1: m.tEnd });
    for (const r of m.rpcs) {
      shapeRpc(r);
      if (r.t1 - r.t0 > m.maxRpcDur) m.maxRpcDur = r.t1 - r.t0;
      if (!m.methods.includes(r.m)) m.methods.push(r.m);
    }
    m.rpcs.sort((a, b) => a.t0 - b.t0);
    // Client lanes in client order, the tester's own calls (-1) last.
    m.clients.sort((a, b) => (a.client < 0) - (b.client < 0) || a.client - b.client);
    for (const c of m.clients) {
      c.ops.sort((a, b) => a.t0 - b.t0);
      for (const op of c.ops) {
        const end = op.t1 === null ? m.tEnd : op.t1;
        if (end - op.t0 > m.maxOpDur) m.maxOpDur = end - op.t0;
        op.failing = op.rec ? m.failingOps.get(op.rec.id) || null : null;
      }
    }
    m.methods.sort();
    m.colors = {};
    m.methods.forEach((name, i) => { m.colors[name] = METHOD_COLORS[name] || EXTRA_COLORS[i % EXTRA_COLORS.length]; });
    m.highlight = causes[0] || m.failure || null;
  }

  // The seeds are u64: read them from the record's text, since JSON.parse rounds past 2^53.
  function exactSeeds(raw) {
    const at = raw.search(/"kind"\s*:\s*"test"/);
    if (at < 0) return {};
    const line = raw.slice(raw.lastIndexOf("\n", at) + 1, (raw.indexOf("\n", at) + 1 || raw.length + 1) - 1);
    const pick = (name) => {
      const hit = new RegExp('"' + name + '"\\s*:\\s*(\\d+)').exec(line);
      return hit ? hit[1] : null;
    };
    return { seed: pick("seed"), test_seed: pick("test_seed") };
  }

  // ---- text for hover and details ------------------------------------------------------------
  function highlightText(e) {
    if (!e) return "";
    if (e.kind === "violation") {
      // The message is the whole one-line report; older records may only have the parts.
      if (e.message) return e.message;
      const head = [e.property, e.section ? "(" + e.section + ")" : ""].filter(Boolean).join(" ");
      return [head, e.detail].filter(Boolean).join(": ");
    }
    if (e.kind === "panic") return peerName(e.peer) + " panicked" + (e.location ? " at " + e.location : "") + ": " + (e.message || "");
    if (e.kind === "check") return e.check + " failed: " + (e.detail || "");
    if (e.kind === "linearizability") return "history is not linearizable\n" + (e.detail || "");
    return e.message || "";
  }

  function stateAt(lane, t) {
    const i = lowerBound(lane.states, t + 0.5, "t") - 1;
    return i >= 0 ? lane.states[i] : null;
  }

  function describeRpc(r) {
    const lines = [r.method + "  call " + r.call, peerName(r.from) + " → " + peerName(r.to) + "   " + r.outcome.replace(/_/g, " ")];
    for (const s of r.stages) {
      let line = s.stage.padEnd(15) + " " + fmtT(s.t);
      if (s.stage !== "sent") line += "  (+" + fmtDur(s.t - r.t0) + ")";
      if (typeof s.bytes === "number") line += "  " + num(s.bytes) + " B";
      if (typeof s.delay_us === "number") line += "  delay " + fmtDur(s.delay_us);
      lines.push(line);
      if (s.text) lines.push("    " + (s.stage === "sent" ? "args: " : s.stage === "handled" ? "reply: " : "") + s.text);
    }
    return lines.join("\n");
  }

  function describe(o) {
    switch (o.kind) {
      case "rpc": return describeRpc(o);
      case "role": {
        const s = stateAt(model.lanes[o.peer], view.cursor !== null ? Math.min(Math.max(view.cursor, o.t0), o.t1) : o.t0);
        const lines = [peerName(o.peer) + " " + o.role + ", term " + o.term, "from " + fmtT(o.t0) + " to " + fmtT(o.t1) + " (" + fmtDur(o.t1 - o.t0) + ")"];
        if (s) lines.push("at the cursor: voted_for " + s.voted_for + ", commit " + s.commit + ", last_index " + s.last_index + ", snapshot_index " + s.snapshot_index);
        return lines.join("\n");
      }
      case "commit": return peerName(o.peer) + " commit index " + o.from + " → " + o.to + "\nat " + fmtT(o.t);
      case "crashed": case "disconnected":
        return peerName(o.peer) + " " + o.kind + "\nfrom " + fmtT(o.t0) + (o.open ? " to the end" : " to " + fmtT(o.t1)) + " (" + fmtDur(o.t1 - o.t0) + ")";
      case "unreliable network": case "long reordering":
        return o.kind + "\nfrom " + fmtT(o.t0) + " to " + fmtT(o.t1) + " (" + fmtDur(o.t1 - o.t0) + ")";
      case "bucket":
        return peerName(o.peer) + " sent " + num(o.n) + " RPCs" + (o.bad ? ", " + num(o.bad) + " lost" : "") + "\nbetween " + fmtT(o.t0) + " and " + fmtT(o.t1) + "\nzoom in to see them as arrows";
      case "apply":
        return peerName(o.peer) + " applied " + (o.snapshot_index !== undefined && o.snapshot_index !== null ? "snapshot up to index " + o.snapshot_index : "index " + o.index + ": " + o.cmd) + "\nat " + fmtT(o.t);
      case "log": return "[" + o.level + " " + o.target + "] " + peerName(o.peer) + " at " + fmtT(o.t) + "\n" + o.message;
      case "harness":
        return "tester: " + o.action + (isPeer(o.peer) ? " " + peerName(o.peer) : "") + (typeof o.value === "boolean" ? " = " + o.value : "") + "\nat " + fmtT(o.t);
      case "start":
        return "Start(" + o.cmd + ") on " + peerName(o.peer) + (o.index === null || o.index === undefined ? ": refused (not leader)" : " → index " + o.index + ", term " + o.term) + "\nat " + fmtT(o.t);
      case "check": return o.check + (o.ok ? " ok" : " FAILED") + (o.detail ? ": " + o.detail : "") + "\nat " + fmtT(o.t);
      case "violation": case "panic": case "failure": return o.kind.toUpperCase() + " at " + fmtT(o.t) + "\n" + highlightText(o);
      case "op": {
        const lines = [clientName(o.client) + ": " + o.text];
        lines.push("called " + fmtT(o.t0) + (o.t1 === null ? ", never returned" : ", returned " + fmtT(o.t1) + " (" + fmtDur(o.t1 - o.t0) + ")"));
        if (o.rec) lines.push("history #" + o.rec.id + " (logical call " + o.rec.call + ", return " + o.rec.ret + ")");
        if (o.failing === "stuck") lines.push("the linearizability check cannot place this operation");
        else if (o.failing) lines.push("in the minimal failing sub-history");
        return lines.join("\n");
      }
      case "linearizability": return "linearizability check: " + o.verdict + "\nat " + fmtT(o.t) + "\n" + (o.detail || "");
      default: return JSON.stringify(o);
    }
  }

  // ---- view state and layout -----------------------------------------------------------------
  const raw = $("events").textContent;
  const model = buildModel(JSON.parse(raw));
  const seeds = exactSeeds(raw);
  const canvas = $("canvas");
  const ctx = canvas.getContext("2d");
  const view = { t0: 0, t1: model.tEnd, note: "", cursor: null, mx: null, my: null, hover: null, pinned: null, mode: "arrows" };
  const show = { roles: true, outages: true, replies: true, commits: true, applies: true, logs: true, tester: true, clients: true, methods: {}, peers: [] };
  for (const name of model.methods) show.methods[name] = true;
  for (let p = 0; p < model.peers; p++) show.peers.push(true);
  const lay = { W: 0, H: 0, plotW: 1, netY: 0, testerY: null, laneTop: [], clientTop: [], lanesEnd: 0 };
  let hits = [];
  let weakHits = [];

  function layout() {
    const wrap = $("canvas-wrap");
    lay.W = Math.max(400, wrap.clientWidth);
    lay.plotW = lay.W - G.gutter - G.right;
    let y = G.axisH;
    lay.netY = y;
    y += G.netH;
    lay.testerY = show.tester ? y : null;
    if (show.tester) y += G.testerH;
    lay.laneTop = model.lanes.map(() => null);
    // Lab 4: the clients' lanes first, the Raft peers' underneath.
    lay.clientTop = model.clients.map(() => null);
    if (show.clients) for (let i = 0; i < model.clients.length; i++) { lay.clientTop[i] = y; y += G.clientH; }
    for (let p = 0; p < model.peers; p++) if (show.peers[p]) { lay.laneTop[p] = y; y += G.laneH; }
    lay.lanesEnd = y;
    lay.H = Math.max(y + 30, wrap.clientHeight);
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(lay.W * dpr) || canvas.height !== Math.round(lay.H * dpr)) {
      canvas.width = Math.round(lay.W * dpr);
      canvas.height = Math.round(lay.H * dpr);
      canvas.style.width = lay.W + "px";
      canvas.style.height = lay.H + "px";
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  }
  const X = (t) => G.gutter + ((t - view.t0) / (view.t1 - view.t0)) * lay.plotW;
  const T = (x) => view.t0 + ((x - G.gutter) / lay.plotW) * (view.t1 - view.t0);
  function laneMid(p) {
    if (isPeer(p)) return lay.laneTop[p] === null || lay.laneTop[p] === undefined ? null : lay.laneTop[p] + LANE.mid;
    return lay.testerY === null ? null : lay.testerY + G.testerH / 2;
  }
  function hit(o, x0, y0, x1, y1, seg) {
    (o.weak ? weakHits : hits).push({ o: o.o, x0, y0, x1, y1, seg: !!seg });
  }
  // Items of `arr` (sorted by `key`) that may be visible, padded by `pad` µs.
  function visible(arr, key, pad) {
    const span = view.t1 - view.t0;
    return [lowerBound(arr, view.t0 - (pad || 0) - span * 0.01, key), lowerBound(arr, view.t1 + span * 0.01 + 0.5, key)];
  }

  // ---- drawing -------------------------------------------------------------------------------
  function draw() {
    hits = [];
    weakHits = [];
    layout();
    ctx.clearRect(0, 0, lay.W, lay.H);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, lay.W, lay.H);
    ctx.save();
    ctx.beginPath();
    ctx.rect(G.gutter, 0, lay.plotW, lay.H);
    ctx.clip();
    drawLaneBackgrounds();
    drawGrid();
    drawNetwork();
    if (show.outages) drawOutages();
    drawRpcs();
    drawLaneMarks();
    if (show.clients) drawClients();
    if (show.tester) drawTester();
    drawHighlight();
    drawFocus();
    ctx.restore();
    drawGutter();
    drawAxis();
    drawCursor();
    $("window").textContent = fmtT(view.t0).replace(" s", "") + " – " + fmtT(view.t1) + "  (" + fmtDur(view.t1 - view.t0) + ") · " + view.note;
  }

  function drawLaneBackgrounds() {
    for (const lane of model.lanes) {
      const y = lay.laneTop[lane.peer];
      if (y === null) continue;
      ctx.fillStyle = ROLE.unknown.tint;
      ctx.fillRect(G.gutter, y + LANE.band[0], lay.plotW, LANE.body[1] - LANE.band[0]);
      ctx.fillStyle = ROLE.unknown.band;
      ctx.fillRect(G.gutter, y + LANE.band[0], lay.plotW, LANE.band[1] - LANE.band[0]);
      if (show.roles) drawRoles(lane, y);
      ctx.fillStyle = "#e4e8ed";
      ctx.fillRect(G.gutter, y + G.laneH - 1, lay.plotW, 1);
    }
  }

  function drawRoles(lane, y) {
    const [lo, hi] = visible(lane.roles, "t1", 0);
    ctx.font = "600 11px " + FONT;
    ctx.textBaseline = "middle";
    for (let i = lo; i < lane.roles.length && i <= hi; i++) {
      const s = lane.roles[i];
      if (s.t0 > view.t1) break;
      const x0 = Math.max(X(s.t0), G.gutter - 2), x1 = Math.min(X(s.t1), lay.W);
      const w = x1 - x0;
      if (w <= 0) continue;
      const c = ROLE[s.role];
      ctx.fillStyle = c.tint;
      ctx.fillRect(x0, y + LANE.band[1], w, LANE.body[1] - LANE.band[1]);
      ctx.fillStyle = c.band;
      ctx.fillRect(x0, y + LANE.band[0], Math.max(w, 1), LANE.band[1] - LANE.band[0]);
      if (w > 3) { ctx.fillStyle = "rgba(255,255,255,.7)"; ctx.fillRect(x0, y + LANE.band[0], 1, LANE.band[1] - LANE.band[0]); }
      const full = s.role + " · term " + s.term, short = c.short + s.term;
      const label = w > ctx.measureText(full).width + 12 ? full : w > ctx.measureText(short).width + 8 ? short : "";
      if (label) {
        ctx.fillStyle = c.text;
        ctx.fillText(label, Math.max(x0, G.gutter) + 5, y + (LANE.band[0] + LANE.band[1]) / 2 + 0.5);
      }
      hit({ o: s, weak: true }, x0, y + LANE.band[0], x1, y + LANE.band[1]);
    }
  }

  let hatches = null;
  function hatch(color, bg) {
    const c = document.createElement("canvas");
    c.width = c.height = 8;
    const g = c.getContext("2d");
    g.fillStyle = bg;
    g.fillRect(0, 0, 8, 8);
    g.strokeStyle = color;
    g.lineWidth = 1.2;
    g.beginPath();
    g.moveTo(-2, 10); g.lineTo(10, -2);
    g.moveTo(-2, 2); g.lineTo(2, -2);
    g.moveTo(6, 10); g.lineTo(10, 6);
    g.stroke();
    return ctx.createPattern(c, "repeat");
  }

  function drawOutages() {
    if (!hatches) hatches = { crashed: hatch("rgba(40,44,52,.42)", "rgba(40,44,52,.16)"), disconnected: hatch("rgba(210,60,40,.35)", "rgba(210,60,40,.05)") };
    ctx.font = "600 11px " + FONT;
    ctx.textBaseline = "middle";
    for (const lane of model.lanes) {
      const y = lay.laneTop[lane.peer];
      if (y === null) continue;
      for (const s of lane.cut.concat(lane.down)) {
        const x0 = X(s.t0), x1 = X(s.t1);
        if (x1 < G.gutter || x0 > lay.W) continue;
        ctx.fillStyle = hatches[s.kind];
        ctx.fillRect(x0, y + LANE.band[0], Math.max(x1 - x0, 2), G.laneH - 1 - LANE.band[0]);
        const w = ctx.measureText(s.kind).width;
        if (x1 - Math.max(x0, G.gutter) > w + 14) {
          const lx = Math.max(x0, G.gutter) + 6, ly = y + LANE.body[0] + 10;
          ctx.fillStyle = "rgba(255,255,255,.85)";
          ctx.fillRect(lx - 3, ly - 7, w + 6, 14);
          ctx.fillStyle = s.kind === "crashed" ? "#2b2f36" : "#a3271a";
          ctx.fillText(s.kind, lx, ly);
        }
        hit({ o: s, weak: true }, x0, y + LANE.body[0], x1, y + G.laneH);
      }
    }
  }

  function drawNetwork() {
    const y = lay.netY, h = G.netH - 4;
    ctx.fillStyle = "#f4f6f8";
    ctx.fillRect(G.gutter, y + 2, lay.plotW, h);
    ctx.font = "11px " + FONT;
    ctx.textBaseline = "middle";
    const strips = [[model.unreliable, "#f6cf94", "#7a4a00"], [model.reordering, "#d4c2f2", "#4b2a86"]];
    strips.forEach(([spans, fill, text], k) => {
      for (const s of spans) {
        const x0 = X(s.t0), x1 = X(s.t1);
        if (x1 < G.gutter || x0 > lay.W) continue;
        ctx.fillStyle = fill;
        const yy = k === 0 ? y + 2 : y + 2 + h / 2;
        const hh = k === 0 && model.reordering.length ? h / 2 : model.unreliable.length && k === 1 ? h / 2 : h;
        ctx.fillRect(x0, k === 1 && !model.unreliable.length ? y + 2 : yy, Math.max(x1 - x0, 1), hh);
        const label = s.kind;
        if (x1 - Math.max(x0, G.gutter) > ctx.measureText(label).width + 10 && hh >= h) {
          ctx.fillStyle = text;
          ctx.fillText(label, Math.max(x0, G.gutter) + 5, y + 2 + h / 2);
        }
        hit({ o: s, weak: true }, x0, y + 2, x1, y + 2 + h);
      }
    });
  }

  function niceStep(span, px) {
    const target = (span * px) / Math.max(lay.plotW, 1);
    const p = Math.pow(10, Math.floor(Math.log10(target)));
    for (const k of [1, 2, 5, 10]) if (k * p >= target) return k * p;
    return 10 * p;
  }

  function drawGrid() {
    const step = niceStep(view.t1 - view.t0, 110);
    ctx.fillStyle = "rgba(60,72,88,.07)";
    for (let t = Math.ceil(view.t0 / step) * step; t <= view.t1; t += step) ctx.fillRect(Math.round(X(t)), G.axisH, 1, lay.H);
  }

  function drawAxis() {
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, lay.W, G.axisH);
    ctx.fillStyle = "#d9dee4";
    ctx.fillRect(0, G.axisH - 1, lay.W, 1);
    const step = niceStep(view.t1 - view.t0, 110);
    const minor = step / 5;
    const decimals = Math.max(0, Math.ceil(-Math.log10(step / 1e6) - 1e-9));
    ctx.fillStyle = "#9aa5b1";
    for (let t = Math.ceil(view.t0 / minor) * minor; t <= view.t1; t += minor) {
      const x = Math.round(X(t));
      if (x >= G.gutter) ctx.fillRect(x, G.axisH - 4, 1, 3);
    }
    ctx.font = "11px " + FONT;
    ctx.textBaseline = "middle";
    ctx.textAlign = "center";
    for (let t = Math.ceil(view.t0 / step) * step; t <= view.t1; t += step) {
      const x = Math.round(X(t));
      if (x < G.gutter) continue;
      ctx.fillStyle = "#6b7785";
      ctx.fillRect(x, G.axisH - 8, 1, 7);
      ctx.fillStyle = "#3c4753";
      ctx.fillText((Math.abs(t) < step / 2 ? 0 : t / 1e6).toFixed(decimals) + " s", x, 11);
    }
    ctx.textAlign = "left";
  }

  function drawArrow(a, color, dashed, width) {
    const ya = laneMid(a.pa), yb = laneMid(a.pb);
    if (ya === null || yb === null) return null;
    const xa = X(a.ta), xb = X(a.tb);
    ctx.strokeStyle = color;
    ctx.fillStyle = color;
    ctx.lineWidth = width;
    ctx.setLineDash(dashed ? [4, 3] : []);
    ctx.beginPath();
    ctx.moveTo(xa, ya);
    ctx.lineTo(xb, yb);
    ctx.stroke();
    ctx.setLineDash([]);
    const ang = Math.atan2(yb - ya, xb - xa), s = 4 + width * 1.5;
    if (!a.pending && !a.bad && ya !== yb) {
      ctx.beginPath();
      ctx.moveTo(xb, yb);
      ctx.lineTo(xb - s * Math.cos(ang - 0.45), yb - s * Math.sin(ang - 0.45));
      ctx.lineTo(xb - s * Math.cos(ang + 0.45), yb - s * Math.sin(ang + 0.45));
      ctx.fill();
    }
    ctx.beginPath();
    ctx.arc(xa, ya, 1.4 + width / 2, 0, 2 * Math.PI);
    ctx.fill();
    return [xa, ya, xb, yb];
  }

  function drawCross(r, size) {
    const y = laneMid(r.cross.p);
    if (y === null) return;
    const x = X(r.cross.t);
    ctx.strokeStyle = BAD;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(x - size, y - size); ctx.lineTo(x + size, y + size);
    ctx.moveTo(x - size, y + size); ctx.lineTo(x + size, y - size);
    ctx.stroke();
  }

  function rpcShown(r) {
    if (!show.methods[r.m]) return false;
    for (const p of [r.from, r.to]) if (isPeer(p) ? !show.peers[p] : !show.tester) return false;
    return true;
  }

  function drawRpcs() {
    const [lo, hi] = visible(model.rpcs, "t0", model.maxRpcDur);
    let n = 0;
    for (let i = lo; i < hi; i++) if (model.rpcs[i].t1 >= view.t0 && rpcShown(model.rpcs[i])) n++;
    view.mode = n > ARROW_LIMIT ? "density" : "arrows";
    view.note = num(n) + " RPCs in view" + (n > REPLY_LIMIT && show.replies ? " (replies drawn when fewer than " + REPLY_LIMIT + ", or lost)" : "");
    view.rpcsInView = n;
    if (view.mode === "density") return drawDensity(lo, hi, n);
    const alpha = Math.min(1, Math.max(0.5, 1.15 - n / 800));
    for (let i = lo; i < hi; i++) {
      const r = model.rpcs[i];
      if (r.t1 < view.t0 || !rpcShown(r)) continue;
      ctx.globalAlpha = r.bad ? 1 : alpha;
      const color = r.req.pending ? "#9aa5b1" : r.req.bad ? BAD : model.colors[r.m];
      const seg = drawArrow(r.req, color, r.req.bad || r.req.pending, 1.1);
      if (seg) hit({ o: r }, seg[0], seg[1], seg[2], seg[3], true);
      if (r.rep && show.replies && (n <= REPLY_LIMIT || r.rep.bad)) {
        ctx.globalAlpha = r.rep.bad ? 1 : 0.4 * alpha;
        const rs = drawArrow(r.rep, r.rep.bad ? BAD : model.colors[r.m], r.rep.bad, 0.9);
        ctx.globalAlpha = 1;
        if (rs) hit({ o: r }, rs[0], rs[1], rs[2], rs[3], true);
      }
      ctx.globalAlpha = 1;
      if (r.cross) drawCross(r, 3.5);
    }
  }

  function drawDensity(lo, hi, n) {
    const B = 3, nb = Math.ceil(lay.plotW / B) + 1;
    const counts = model.lanes.map(() => new Uint32Array(nb));
    const bad = model.lanes.map(() => new Uint32Array(nb));
    let max = 1;
    for (let i = lo; i < hi; i++) {
      const r = model.rpcs[i];
      if (!isPeer(r.from) || !rpcShown(r) || r.t0 < view.t0) continue;
      const b = Math.floor((X(r.t0) - G.gutter) / B);
      if (b < 0 || b >= nb) continue;
      const c = ++counts[r.from][b];
      if (c > max) max = c;
      if (r.bad) bad[r.from][b]++;
    }
    const h = LANE.body[1] - LANE.body[0] - 6;
    const span = (view.t1 - view.t0) * (B / lay.plotW);
    for (const lane of model.lanes) {
      const y = lay.laneTop[lane.peer];
      if (y === null) continue;
      const base = y + LANE.body[1] - 2;
      for (let b = 0; b < nb; b++) {
        const c = counts[lane.peer][b];
        if (!c) continue;
        const x = G.gutter + b * B, bh = Math.max(1.5, (c / max) * h), fh = (bad[lane.peer][b] / max) * h;
        ctx.fillStyle = "rgba(47,111,222,.55)";
        ctx.fillRect(x, base - bh, B - 0.6, bh);
        if (fh > 0) { ctx.fillStyle = BAD; ctx.fillRect(x, base - Math.max(fh, 1.5), B - 0.6, Math.max(fh, 1.5)); }
        const t0 = T(x);
        hit({ o: { kind: "bucket", peer: lane.peer, n: c, bad: bad[lane.peer][b], t0, t1: t0 + span }, weak: true }, x, base - h, x + B, base);
      }
    }
    view.note = num(n) + " RPCs in view: bars count those sent per " + fmtDur(span) + " (red: lost); zoom in for arrows";
  }

  // Point marks in a row: skip marks that fall on the pixel just drawn (keeps 10^5 ticks cheap).
  function drawTicks(arr, y0, y1, style, obj) {
    const [lo, hi] = visible(arr, "t", 0);
    let lastX = -1;
    for (let i = lo; i < hi; i++) {
      const e = arr[i];
      const x = Math.round(X(e.t));
      if (x === lastX) continue;
      lastX = x;
      ctx.fillStyle = style(e);
      ctx.fillRect(x - 1, y0, 2, y1 - y0);
      hit({ o: obj ? obj(e) : e }, x - 1, y0, x + 1, y1);
    }
  }

  function drawLaneMarks() {
    for (const lane of model.lanes) {
      const y = lay.laneTop[lane.peer];
      if (y === null) continue;
      if (show.commits) drawTicks(lane.commits, y + LANE.commit[0], y + LANE.commit[1], () => "#1e3a8a");
      if (show.applies) drawTicks(lane.applies, y + LANE.apply[0], y + LANE.apply[1], (e) => (e.snapshot_index !== undefined && e.snapshot_index !== null ? "#0e8f84" : "#2e9d4b"));
      if (show.logs) drawTicks(lane.logs, y + LANE.log[0], y + LANE.log[1], (e) => LEVEL_COLORS[e.level] || "#8c98a6");
    }
  }

  function opColors(op) {
    if (op.t1 === null) return OP_COLORS.pending;
    const err = op.rec && op.rec.err;
    return OP_COLORS[err] || OP_COLORS.ErrVersion;
  }

  // One lane per client: each operation a bar from call to return, red when the
  // linearizability check names it (thick outline: the one it cannot place).
  function drawClients() {
    ctx.font = "10px " + FONT;
    ctx.textBaseline = "middle";
    model.clients.forEach((c, i) => {
      const y = lay.clientTop[i];
      if (y === null || y === undefined) return;
      ctx.fillStyle = i % 2 ? "#fbfcfd" : "#f6f8fa";
      ctx.fillRect(G.gutter, y, lay.plotW, G.clientH);
      const [lo, hi] = visible(c.ops, "t0", model.maxOpDur);
      const late = [];
      let lastX = -Infinity;
      for (let k = lo; k < hi; k++) {
        const op = c.ops[k];
        const x0 = X(op.t0), x1 = X(op.t1 === null ? model.tEnd : op.t1);
        if (x1 < G.gutter - 2 || x0 > lay.W) continue;
        if (op.failing) { late.push([op, x0, x1]); continue; }
        const w = Math.max(x1 - x0, 1.5);
        if (w < 3 && x0 < lastX + 1) continue; // many tiny bars on one pixel: draw one
        lastX = x0;
        const col = opColors(op);
        ctx.fillStyle = col.fill;
        ctx.fillRect(x0, y + 5, w, G.clientH - 10);
        if (w > 4) { ctx.strokeStyle = col.stroke; ctx.lineWidth = 1; ctx.strokeRect(x0 + 0.5, y + 5.5, w - 1, G.clientH - 11); }
        if (w > 46) { ctx.fillStyle = "#1f2933"; ctx.fillText(clip(op.text, Math.floor(w / 6)), x0 + 3, y + G.clientH / 2 + 0.5); }
        hit({ o: op }, x0, y + 4, x0 + Math.max(w, 3), y + G.clientH - 4);
      }
      for (const [op, x0, x1] of late) {
        const w = Math.max(x1 - x0, 4);
        ctx.fillStyle = "#f7b2b2";
        ctx.fillRect(x0, y + 3, w, G.clientH - 6);
        ctx.strokeStyle = BAD;
        ctx.lineWidth = op.failing === "stuck" ? 2.5 : 1.5;
        ctx.strokeRect(x0, y + 3, w, G.clientH - 6);
        if (w > 40) { ctx.fillStyle = "#8b1010"; ctx.fillText(clip(op.text, Math.floor(w / 6)), x0 + 3, y + G.clientH / 2 + 0.5); }
        hit({ o: op }, x0 - 2, y + 2, x0 + w + 2, y + G.clientH - 2);
      }
      ctx.fillStyle = "#e4e8ed";
      ctx.fillRect(G.gutter, y + G.clientH - 1, lay.plotW, 1);
    });
  }

  function testerStyle(e) {
    switch (e.kind) {
      case "linearizability":
        if (e.verdict === "linearizable") return { row: 1, fill: "#e3f4e8", stroke: "#3f9f5f", text: "#1d5b33", label: "✓ linearizable" };
        if (e.verdict === "unknown") return { row: 1, fill: "#fdf1d8", stroke: "#c98a1e", text: "#6b4a00", label: "? linearizability unknown", strong: true };
        return { row: 1, fill: "#fde2e2", stroke: BAD, text: "#8b1010", label: "✗ not linearizable", strong: true };
      case "check": return e.ok ? { row: 1, fill: "#e3f4e8", stroke: "#3f9f5f", text: "#1d5b33", label: "✓ " + checkLabel(e) } : { row: 1, fill: "#fde2e2", stroke: BAD, text: "#8b1010", label: "✗ " + checkLabel(e), strong: true };
      case "start": return { row: 1, fill: "#eef1f5", stroke: "#8c98a6", text: "#3c4753", label: "Start " + clip(e.cmd, 16) + (e.index === null || e.index === undefined ? " ✗" : " @" + e.index) + " " + peerName(e.peer) };
      case "harness": {
        const word = { start: "restart", crash: "crash", connect: "connect", disconnect: "disconnect", reliable: e.value ? "reliable" : "unreliable", long_reordering: e.value ? "long reordering" : "no long reordering", begin: "begin", end: "end" }[e.action] || e.action;
        return { row: 0, fill: "#eef2fb", stroke: "#5b7bc0", text: "#243b6b", label: word + (isPeer(e.peer) ? " " + peerName(e.peer) : "") };
      }
      default: return { row: 0, fill: "#fde2e2", stroke: BAD, text: "#8b1010", label: e.kind, strong: true };
    }
  }
  function checkLabel(e) {
    const m = e.check === "one" && typeof e.detail === "string" ? /one\([^)]*\)/.exec(e.detail) : null;
    return m ? m[0] : e.check;
  }

  function drawTester() {
    const y = lay.testerY;
    ctx.fillStyle = "#fafbfc";
    ctx.fillRect(G.gutter, y, lay.plotW, G.testerH);
    ctx.fillStyle = "#e4e8ed";
    ctx.fillRect(G.gutter, y + G.testerH - 1, lay.plotW, 1);
    ctx.font = "11px " + FONT;
    ctx.textBaseline = "middle";
    const [lo, hi] = visible(model.tester, "t", 0);
    const rowY = [y + 14, y + 36];
    const free = [-Infinity, -Infinity];
    // Failures first, so they win the label space; then the rest, left to right.
    const items = model.tester.slice(lo, hi).map((e) => ({ e, st: testerStyle(e) }));
    const order = items.filter((i) => i.st.strong).sort((a, b) => (b.e === model.highlight) - (a.e === model.highlight));
    const pills = [];
    const taken = [[], []];
    for (const it of order.concat(items.filter((i) => !i.st.strong))) {
      const x = X(it.e.t), row = it.st.row, w = ctx.measureText(it.st.label).width + 10;
      const clear = it.st.strong ? taken[row].every(([a, b]) => x + 2 > b || x + 2 + w < a) : x + 3 > free[row] && taken[row].every(([a, b]) => x + 2 > b || x + 2 + w < a);
      ctx.fillStyle = it.st.stroke;
      ctx.fillRect(Math.round(x) - 0.5, rowY[row] - 9, 1.5, 18);
      if (clear) {
        pills.push({ it, x, w });
        taken[row].push([x - 4, x + w + 6]);
        if (!it.st.strong) free[row] = x + w + 6;
        hit({ o: it.e }, x - 2, rowY[row] - 8, x + 2 + w, rowY[row] + 8);
      } else {
        hit({ o: it.e }, x - 2, rowY[row] - 9, x + 2, rowY[row] + 9);
      }
    }
    for (const { it, x, w } of pills) {
      const yy = rowY[it.st.row];
      ctx.fillStyle = it.st.fill;
      ctx.strokeStyle = it.st.stroke;
      ctx.lineWidth = it.st.strong ? 1.5 : 1;
      roundRect(x + 2, yy - 8, w, 16, 4);
      ctx.fill();
      ctx.stroke();
      ctx.fillStyle = it.st.text;
      ctx.fillText(it.st.label, x + 7, yy + 0.5);
    }
    if (show.logs) drawTicks(model.nullLogs, y + G.testerH - 7, y + G.testerH - 2, (e) => LEVEL_COLORS[e.level] || "#8c98a6");
  }

  function roundRect(x, y, w, h, r) {
    ctx.beginPath();
    ctx.moveTo(x + r, y);
    ctx.arcTo(x + w, y, x + w, y + h, r);
    ctx.arcTo(x + w, y + h, x, y + h, r);
    ctx.arcTo(x, y + h, x, y, r);
    ctx.arcTo(x, y, x + w, y, r);
    ctx.closePath();
  }

  function drawHighlight() {
    const e = model.highlight;
    if (!e) return;
    const x = X(e.t);
    if (x < G.gutter - 200 || x > lay.W + 10) return;
    ctx.fillStyle = "rgba(209,31,31,.10)";
    ctx.fillRect(x - 5, G.axisH, 10, lay.H);
    ctx.fillStyle = BAD;
    ctx.fillRect(x - 1, G.axisH, 2, lay.H);
    if (isPeer(e.peer) && laneMid(e.peer) !== null) {
      ctx.beginPath();
      ctx.arc(x, laneMid(e.peer), 6, 0, 2 * Math.PI);
      ctx.fill();
    }
    const label = e.kind + ": " + clip(highlightText(e).replace(/\n+/g, " · "), 90);
    ctx.font = "600 11px " + FONT;
    const w = ctx.measureText(label).width + 12;
    const lx = Math.min(x + 6, G.gutter + lay.plotW - w - 2);
    const ly = lay.lanesEnd + 5, lh = 18;
    ctx.fillStyle = BAD;
    roundRect(Math.max(lx, G.gutter + 2), ly, w, lh, 4);
    ctx.fill();
    ctx.fillStyle = "#fff";
    ctx.textBaseline = "middle";
    ctx.fillText(label, Math.max(lx, G.gutter + 2) + 6, ly + lh / 2 + 0.5);
    hit({ o: e }, Math.max(lx, G.gutter + 2), ly, Math.max(lx, G.gutter + 2) + w, ly + lh);
    hit({ o: e }, x - 3, G.axisH, x + 3, lay.H);
  }

  // The hovered and the pinned item, drawn again on top, thicker.
  function drawFocus() {
    for (const o of [view.pinned, view.hover]) {
      if (!o) continue;
      if (o.kind === "rpc") {
        const c = o.bad ? BAD : model.colors[o.m];
        drawArrow(o.req, c, o.req.bad, 2.6);
        if (o.rep) drawArrow(o.rep, c, o.rep.bad, 2.2);
        if (o.cross) drawCross(o, 5);
      } else if (typeof o.t === "number") {
        const x = X(o.t);
        ctx.strokeStyle = "#111827";
        ctx.lineWidth = 1;
        ctx.setLineDash([2, 2]);
        ctx.beginPath();
        ctx.moveTo(Math.round(x) + 0.5, G.axisH);
        ctx.lineTo(Math.round(x) + 0.5, lay.H);
        ctx.stroke();
        ctx.setLineDash([]);
      }
    }
  }

  function drawGutter() {
    ctx.fillStyle = "#fbfcfd";
    ctx.fillRect(0, G.axisH, G.gutter, lay.H);
    ctx.fillStyle = "#d9dee4";
    ctx.fillRect(G.gutter - 1, G.axisH, 1, lay.H);
    ctx.textBaseline = "middle";
    ctx.fillStyle = "#6b7785";
    ctx.font = "11px " + FONT;
    ctx.fillText("network", 12, lay.netY + G.netH / 2);
    if (lay.testerY !== null) {
      ctx.font = "600 13px " + FONT;
      ctx.fillStyle = "#1f2933";
      ctx.fillText("tester", 12, lay.testerY + 14);
      ctx.font = "11px " + FONT;
      ctx.fillStyle = "#6b7785";
      ctx.fillText("harness", 12, lay.testerY + 30);
      ctx.fillText("start · checks", 12, lay.testerY + 43);
    }
    const tc = view.cursor !== null ? view.cursor : (view.t0 + view.t1) / 2;
    for (const lane of model.lanes) {
      const y = lay.laneTop[lane.peer];
      if (y === null) continue;
      const s = stateAt(lane, tc);
      ctx.font = "600 14px " + FONT;
      ctx.fillStyle = "#1f2933";
      ctx.fillText("peer " + lane.peer, 12, y + 14);
      if (s) {
        const c = ROLE[s.role] || ROLE.unknown;
        ctx.fillStyle = c.band;
        roundRect(12, y + 26, 9, 9, 2);
        ctx.fill();
        ctx.font = "11px " + FONT;
        ctx.fillStyle = "#3c4753";
        ctx.fillText(s.role + " T" + s.term, 25, y + 31);
        ctx.fillStyle = "#6b7785";
        ctx.font = "10px " + FONT;
        ctx.fillText("commit " + s.commit + " · log " + s.last_index, 12, y + 45);
      }
      ctx.font = "10px " + FONT;
      ctx.fillStyle = "#9aa5b1";
      ctx.textAlign = "right";
      ctx.fillText("commit", G.gutter - 8, y + (LANE.commit[0] + LANE.commit[1]) / 2);
      ctx.fillText("apply", G.gutter - 8, y + (LANE.apply[0] + LANE.apply[1]) / 2 + 1);
      ctx.fillText("log", G.gutter - 8, y + (LANE.log[0] + LANE.log[1]) / 2 + 1);
      ctx.textAlign = "left";
      ctx.fillStyle = "#e4e8ed";
      ctx.fillRect(0, y + G.laneH - 1, G.gutter, 1);
    }
    model.clients.forEach((c, i) => {
      const y = lay.clientTop[i];
      if (y === null || y === undefined) return;
      ctx.font = "600 11px " + FONT;
      ctx.fillStyle = c.ops.some((o) => o.failing) ? BAD : "#1f2933";
      ctx.fillText(c.client < 0 ? "tester" : "client " + c.client, 12, y + G.clientH / 2);
      ctx.font = "10px " + FONT;
      ctx.fillStyle = "#9aa5b1";
      ctx.textAlign = "right";
      ctx.fillText(num(c.ops.length) + " ops", G.gutter - 8, y + G.clientH / 2);
      ctx.textAlign = "left";
      ctx.fillStyle = "#e4e8ed";
      ctx.fillRect(0, y + G.clientH - 1, G.gutter, 1);
    });
  }

  function drawCursor() {
    if (view.cursor === null || view.mx === null || view.dragging) return;
    const x = Math.round(view.mx) + 0.5;
    ctx.strokeStyle = "rgba(17,24,39,.35)";
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(x, G.axisH);
    ctx.lineTo(x, lay.H);
    ctx.stroke();
    const label = fmtT(view.cursor);
    ctx.font = "600 11px " + FONT;
    const w = ctx.measureText(label).width + 10;
    const lx = Math.min(Math.max(x - w / 2, G.gutter), lay.W - w);
    ctx.fillStyle = "#1f2933";
    roundRect(lx, 3, w, G.axisH - 8, 4);
    ctx.fill();
    ctx.fillStyle = "#fff";
    ctx.textBaseline = "middle";
    ctx.fillText(label, lx + 5, 3 + (G.axisH - 8) / 2 + 0.5);
  }

  // ---- interaction ---------------------------------------------------------------------------
  let queued = false;
  function redraw() {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; draw(); updateLogList(); });
  }

  function clampView() {
    const pad = Math.max(model.tEnd * 0.02, (view.t1 - view.t0) * 0.1), lo = -pad, hi = model.tEnd + pad;
    let span = Math.min(Math.max(view.t1 - view.t0, 20), hi - lo);
    let t0 = Math.min(Math.max(view.t0, lo), hi - span);
    view.t0 = t0;
    view.t1 = t0 + span;
  }
  function zoomAt(factor, tc) {
    const span = view.t1 - view.t0;
    const ns = Math.min(Math.max(span * factor, 20), model.tEnd * 1.1);
    view.t0 = tc - ((tc - view.t0) * ns) / span;
    view.t1 = view.t0 + ns;
    clampView();
    redraw();
  }
  function pan(frac) {
    const d = (view.t1 - view.t0) * frac;
    view.t0 += d;
    view.t1 += d;
    clampView();
    redraw();
  }
  function fit() {
    view.t0 = 0;
    view.t1 = model.tEnd;
    clampView();
    redraw();
  }
  function focusFailure() {
    const e = model.highlight;
    if (!e) return fit();
    if (e.kind === "linearizability") {
      // The operation the check cannot place, and the named ones just before it.
      let stuck = null;
      for (const c of model.clients) for (const op of c.ops) if (op.failing === "stuck") stuck = op;
      if (stuck) {
        const end = stuck.t1 === null ? model.tEnd : stuck.t1;
        let lo = stuck.t0;
        for (const c of model.clients) for (const op of c.ops) if (op.failing && op.t0 < stuck.t0 && op.t0 > stuck.t0 - 5e5) lo = Math.min(lo, op.t0);
        const pad = Math.max((end - lo) * 0.25, 1e4);
        view.t0 = lo - pad;
        view.t1 = end + pad;
        clampView();
        redraw();
        return;
      }
    }
    const before = 2e6, after = Math.max(2.5e5, Math.min(5e5, model.tEnd - e.t));
    view.t0 = e.t - before;
    view.t1 = e.t + after;
    clampView();
    redraw();
  }

  function segDist(px, py, h) {
    const dx = h.x1 - h.x0, dy = h.y1 - h.y0, l2 = dx * dx + dy * dy;
    const k = l2 ? Math.min(1, Math.max(0, ((px - h.x0) * dx + (py - h.y0) * dy) / l2)) : 0;
    return Math.hypot(px - (h.x0 + k * dx), py - (h.y0 + k * dy));
  }
  function boxDist(px, py, h) {
    const dx = Math.max(h.x0 - px, 0, px - h.x1), dy = Math.max(h.y0 - py, 0, py - h.y1);
    return Math.hypot(dx, dy);
  }
  function findHit(mx, my) {
    for (const list of [hits, weakHits]) {
      let best = null, bestD = list === hits ? 4 : 0.5;
      for (let i = list.length - 1; i >= 0; i--) {
        const h = list[i];
        const d = h.seg ? segDist(mx, my, h) : boxDist(mx, my, h);
        if (d < bestD) { best = h.o; bestD = d; }
      }
      if (best) return best;
    }
    return null;
  }

  function showTip(o, mx, my) {
    const tip = $("tip");
    if (!o) { tip.hidden = true; return; }
    tip.textContent = clip(describe(o), 1400);
    tip.hidden = false;
    const wrap = $("canvas-wrap");
    const w = tip.offsetWidth, h = tip.offsetHeight;
    let left = mx + 16, top = my + 16;
    if (left + w > wrap.clientWidth - 4) left = Math.max(4, mx - w - 12);
    if (top + h > wrap.scrollTop + wrap.clientHeight - 4) top = Math.max(wrap.scrollTop + 4, my - h - 12);
    tip.style.left = left + "px";
    tip.style.top = top + "px";
  }

  function setDetails(o) {
    const d = $("details");
    if (!o) {
      d.textContent = "Hover over an arrow, tick or band; click to pin it.";
      d.classList.add("muted");
      return;
    }
    d.classList.remove("muted");
    d.textContent = describe(o);
  }

  function mousePos(ev) {
    const r = canvas.getBoundingClientRect();
    return [ev.clientX - r.left, ev.clientY - r.top];
  }

  function installInteraction() {
    let drag = null;
    canvas.addEventListener("mousedown", (ev) => {
      const [mx] = mousePos(ev);
      drag = { x: mx, t0: view.t0, t1: view.t1, moved: false };
    });
    window.addEventListener("mouseup", (ev) => {
      if (!drag) return;
      const d = drag;
      drag = null;
      view.dragging = false;
      canvas.classList.remove("dragging");
      if (!d.moved && ev.target === canvas) {
        const [mx, my] = mousePos(ev);
        view.pinned = findHit(mx, my);
        $("pin-note").textContent = view.pinned ? "(pinned; Esc to release)" : "";
        setDetails(view.pinned);
        redraw();
      }
    });
    window.addEventListener("mousemove", (ev) => {
      if (!drag) return;
      const [mx] = mousePos(ev);
      if (Math.abs(mx - drag.x) > 3) drag.moved = true;
      if (!drag.moved) return;
      view.dragging = true;
      canvas.classList.add("dragging");
      const dt = ((mx - drag.x) / lay.plotW) * (drag.t1 - drag.t0);
      view.t0 = drag.t0 - dt;
      view.t1 = drag.t1 - dt;
      clampView();
      showTip(null);
      redraw();
    });
    canvas.addEventListener("mousemove", (ev) => {
      const [mx, my] = mousePos(ev);
      view.mx = mx;
      view.my = my;
      view.cursor = mx >= G.gutter ? T(mx) : null;
      if (drag && drag.moved) return;
      view.hover = findHit(mx, my);
      canvas.style.cursor = view.hover ? "pointer" : "";
      showTip(view.hover, mx, my);
      if (!view.pinned) setDetails(view.hover);
      redraw();
    });
    canvas.addEventListener("mouseleave", () => {
      view.hover = null;
      view.cursor = null;
      view.mx = null;
      showTip(null);
      redraw();
    });
    canvas.addEventListener("wheel", (ev) => {
      ev.preventDefault();
      const [mx] = mousePos(ev);
      if (ev.shiftKey || Math.abs(ev.deltaX) > Math.abs(ev.deltaY)) {
        pan(((ev.shiftKey ? ev.deltaY : ev.deltaX) / lay.plotW) * 1.2);
      } else {
        const scale = ev.deltaMode === 1 ? 30 : ev.deltaMode === 2 ? 300 : 1;
        zoomAt(Math.exp(ev.deltaY * scale * 0.0018), mx >= G.gutter ? T(mx) : (view.t0 + view.t1) / 2);
      }
    }, { passive: false });
    window.addEventListener("keydown", (ev) => {
      if (ev.target && (ev.target.tagName === "INPUT" || ev.target.tagName === "TEXTAREA")) return;
      const mid = view.cursor !== null ? view.cursor : (view.t0 + view.t1) / 2;
      const keys = {
        ArrowLeft: () => pan(-0.15), ArrowRight: () => pan(0.15),
        "+": () => zoomAt(1 / 1.6, mid), "=": () => zoomAt(1 / 1.6, mid), "-": () => zoomAt(1.6, mid),
        "0": fit, f: focusFailure,
        Escape: () => { view.pinned = null; $("pin-note").textContent = ""; setDetails(null); redraw(); },
      };
      if (keys[ev.key] && !ev.ctrlKey && !ev.metaKey && !ev.altKey) { ev.preventDefault(); keys[ev.key](); }
    });
    $("zoom-in").onclick = () => zoomAt(1 / 1.6, (view.t0 + view.t1) / 2);
    $("zoom-out").onclick = () => zoomAt(1.6, (view.t0 + view.t1) / 2);
    $("zoom-fit").onclick = fit;
    $("failure-go").onclick = focusFailure;
    window.addEventListener("resize", redraw);
  }

  function checkbox(parent, label, checked, onChange, color) {
    const l = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = checked;
    box.addEventListener("change", () => { onChange(box.checked); redraw(); });
    l.appendChild(box);
    if (color) {
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = color;
      l.appendChild(sw);
    }
    l.appendChild(document.createTextNode(label));
    parent.appendChild(l);
  }

  function installFilters() {
    const peers = $("peer-filters");
    for (let p = 0; p < model.peers; p++) checkbox(peers, peerName(p), true, (v) => { show.peers[p] = v; });
    const kinds = $("kind-filters");
    for (const name of model.methods) checkbox(kinds, name, true, (v) => { show.methods[name] = v; }, model.colors[name]);
    const rest = [["replies", "replies"], ["roles", "roles"], ["outages", "crashes"], ["commits", "commits", "#1e3a8a"], ["applies", "applies", "#2e9d4b"], ["logs", "logs", LEVEL_COLORS.INFO], ["tester", "tester"]];
    if (model.clients.length) rest.push(["clients", "clients", OP_COLORS.OK.stroke]);
    for (const [key, label, color] of rest) checkbox(kinds, label, true, (v) => { show[key] = v; }, color);
  }

  // ---- side panel: log lines around the cursor, legend ----------------------------------------
  let logAnchor = null;
  function updateLogList() {
    const t = view.cursor !== null ? view.cursor : model.highlight ? model.highlight.t : view.t0;
    const logs = model.logs;
    const at = lowerBound(logs, t, "t");
    const ok = (e) => show.logs && (isPeer(e.peer) ? show.peers[e.peer] : show.tester);
    const before = [], after = [];
    for (let i = at - 1; i >= 0 && before.length < 14; i--) if (ok(logs[i])) before.push(logs[i]);
    for (let i = at; i < logs.length && after.length < 16; i++) if (ok(logs[i])) after.push(logs[i]);
    const key = (before[0] ? before[0].t : "") + "|" + (after[0] ? after[0].t : "") + "|" + before.length + "|" + after.length;
    if (key === logAnchor) return;
    logAnchor = key;
    const list = $("loglist");
    list.textContent = "";
    const rows = before.reverse().concat(after);
    if (!rows.length) {
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = model.logs.length ? "No log lines for the selected peers." : "This run recorded no log lines.";
      list.appendChild(li);
      return;
    }
    rows.forEach((e, i) => {
      const li = document.createElement("li");
      if (i === before.length - 1 || (before.length === 0 && i === 0)) li.className = "near";
      li.title = "[" + e.level + " " + e.target + "]";
      for (const [cls, text] of [["lt", (e.t / 1e6).toFixed(4)], ["lp", isPeer(e.peer) ? peerName(e.peer) : "–"], ["lm " + e.level, e.message]]) {
        const s = document.createElement("span");
        s.className = cls;
        s.textContent = text;
        li.appendChild(s);
      }
      li.addEventListener("click", () => {
        const span = view.t1 - view.t0;
        view.t0 = e.t - span / 2;
        view.t1 = e.t + span / 2;
        clampView();
        view.pinned = e;
        setDetails(e);
        redraw();
      });
      list.appendChild(li);
    });
    const near = list.querySelector(".near");
    if (near) near.scrollIntoView({ block: "center" });
  }

  function fillLegend() {
    const items = [
      [ROLE.follower.band, "follower"], [ROLE.candidate.band, "candidate"], [ROLE.leader.band, "leader (term in band)"],
      ["rgba(40,44,52,.4)", "crashed"], ["rgba(210,60,40,.35)", "disconnected"], ["#f6cf94", "unreliable network"],
      [BAD, "lost RPC (dashed, ✗)"], ["#1e3a8a", "commit index advances"], ["#2e9d4b", "applied"], [LEVEL_COLORS.WARN, "log line (by level)"],
    ];
    if (model.clients.length) {
      items.push([OP_COLORS.OK.fill, "op answered OK"], [OP_COLORS.ErrMaybe.fill, "ErrMaybe"], [OP_COLORS.ErrVersion.fill, "ErrVersion"], [OP_COLORS.ErrNoKey.fill, "ErrNoKey"], ["#f7b2b2", "op named by the linearizability check"]);
    }
    const legend = $("legend");
    for (const [color, text] of items) {
      const s = document.createElement("span");
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = color;
      s.appendChild(sw);
      s.appendChild(document.createTextNode(text));
      legend.appendChild(s);
    }
  }

  // ---- header and start-up ---------------------------------------------------------------------
  function fillHeader() {
    const t = model.test || {};
    const name = t.name || "";
    $("title").textContent = t.title || name || "raft-lab timeline";
    document.title = (name || "raft-lab") + " · timeline";
    $("test-name").textContent = name + (t.go_name ? "  (" + t.go_name + ")" : "");
    const meta = $("meta");
    const add = (label, value, code) => {
      const s = document.createElement("span");
      s.appendChild(document.createTextNode(label + " "));
      const v = document.createElement(code ? "code" : "b");
      v.textContent = value;
      s.appendChild(v);
      meta.appendChild(s);
    };
    const seed = seeds.seed || (t.seed !== undefined ? String(t.seed) : null);
    if (seed !== null) add("seed", seed + (seeds.test_seed || t.test_seed !== undefined ? " (test seed " + (seeds.test_seed || t.test_seed) + ")" : ""));
    add("clock", t.real_time ? "real time" : "virtual time");
    add("peers", String(model.peers));
    add("length", fmtDur(model.tEnd));
    add("events", num(model.nEvents) + " · " + num(model.rpcs.length) + " RPCs · " + num(model.logs.length) + " log lines");
    const replay = typeof t.replay === "string" ? t.replay : name && seed !== null ? "cargo run -p grader -- --test " + name + " --seed " + seed + (t.real_time ? " --real-time" : "") : null;
    if (replay) add("replay", replay, true);
    if (model.unparsed.length) add("unreadable lines", String(model.unparsed.length));
    const e = model.highlight;
    if (e) {
      $("failure").hidden = false;
      $("failure-kind").textContent = e.kind === "check" ? "failed check" : e.kind === "linearizability" ? "not linearizable" : e.kind;
      let text = highlightText(e);
      if (!/ at [0-9.]+ s$/.test(text)) text += "  at " + fmtT(e.t);
      if (model.failure && model.failure !== e && model.failure.message && text.indexOf(model.failure.message) < 0) text += "\ntest failed: " + model.failure.message;
      $("highlight-text").textContent = text;
    }
  }

  fillHeader();
  fillLegend();
  installFilters();
  installInteraction();
  // `#view=A-B` (seconds) in the address opens that window; else the failure, else the test.
  const asked = /view=(-?[\d.]+)-(-?[\d.]+)/.exec(location.hash);
  if (asked && +asked[2] > +asked[1]) { view.t0 = +asked[1] * 1e6; view.t1 = +asked[2] * 1e6; } else if (model.highlight) focusFailure(); else fit();
  clampView();
  draw();
  updateLogList();
  const summary = $("summary");
  summary.dataset.lanes = String(model.peers);
  summary.dataset.clients = String(model.clients.length);
  summary.dataset.ops = String(model.nOps);
  summary.dataset.failingOps = String(model.failingOps.size);
  summary.dataset.events = String(model.nEvents);
  summary.dataset.rpcs = String(model.rpcs.length);
  summary.dataset.highlight = model.highlight ? model.highlight.kind : "none";
  summary.dataset.mode = view.mode;
  summary.dataset.view = Math.round(view.t0) + "-" + Math.round(view.t1);
  summary.dataset.loadMs = performance.now().toFixed(0);
  // For the browser console and the tests: the model, the view, and the drawing's geometry.
  window.timeline = { model, view, show, draw, xOf: X, laneMid };
  summary.dataset.ready = "1";
})();
