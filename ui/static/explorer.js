/* iamgraph explorer: draws view payloads with vis-network and shows node details and edge proofs.
 *
 * Every string from the estate (names, tags, Sids, policy text) is hostile: it is only ever put into the
 * page with textContent or as a form value, never as HTML, and no handler is built from data.
 * "live" mode talks to the API it was served by; "static" mode (an evidence file) shows one embedded view.
 */
(function () {
  "use strict";

  const boot = JSON.parse(document.getElementById("iamgraph-boot").textContent);
  const live = boot.mode === "live";
  const $ = (id) => document.getElementById(id);
  const NODE_KIND = {
    user: "IAM user", group: "IAM group", role: "IAM role", account: "account root",
    external_account: "outside account", external_principal: "outside principal", service: "AWS service",
    provider: "identity provider", anyone: "anyone (public)", resource: "resource",
  };

  const state = {
    nodes: new vis.DataSet(),
    edges: new vis.DataSet(),
    nodeInfo: new Map(), // ARN -> view node (details included)
    edgeInfo: new Map(), // vis edge id -> {source, target, hops}
    moreInfo: new Map(), // vis node id of an "N more" node -> {more, query}
    statements: new Map(), // layer \0 policy \0 index -> statement entry
    items: [],
    lists: [],
    more: [],
    view: null,
    query: null, // the last query run (live)
    moreSeq: 0,
    token: null,
    full: null, // review view: {nodes: Map vis id -> node, edges: Map "source\0target" -> edge}; one finding drawn at a time
    finding: null, // the finding item drawn (review view)
  };
  let network = null;

  // ---- DOM helpers: text only ----------------------------------------------------------------------
  function el(tag, props, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on")) throw new Error("no handlers from data");
      if (k === "text") node.textContent = String(v);
      else if (k === "cls") node.className = v;
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of [].concat(children || [])) {
      if (c === null || c === undefined || c === false) continue;
      node.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    }
    return node;
  }
  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }
  function button(label, action, cls) {
    const b = el("button", { type: "button", cls: cls || "", text: label });
    b.addEventListener("click", action);
    return b;
  }
  function props(pairs) {
    const dl = el("dl", { cls: "props" });
    for (const [k, v] of pairs) {
      if (v === null || v === undefined || v === "" || (Array.isArray(v) && !v.length)) continue;
      dl.appendChild(el("dt", { text: k }));
      dl.appendChild(el("dd", {}, v instanceof Node ? v : String(v)));
    }
    return dl;
  }
  function json(value) {
    return el("pre", { cls: "json", text: JSON.stringify(value, null, 2) });
  }
  function shortName(arn) {
    const info = state.nodeInfo.get(arn);
    return info && info.name ? String(info.name) : String(arn);
  }

  // ---- status ---------------------------------------------------------------------------------------
  function status(message, isError, extra) {
    const box = $("status");
    clear(box);
    box.hidden = !message;
    box.classList.toggle("error", !!isError);
    if (message) box.appendChild(el("div", { text: message }));
    if (extra) box.appendChild(extra);
  }

  // ---- the network ----------------------------------------------------------------------------------
  function ensureNetwork(options) {
    if (network) return network;
    network = new vis.Network($("network"), { nodes: state.nodes, edges: state.edges }, options);
    network.on("click", (params) => {
      if (params.nodes.length) selectNode(params.nodes[0]);
      else if (params.edges.length) selectEdge(params.edges[0]);
      else showHint();
    });
    network.on("doubleClick", (params) => {
      if (live && params.nodes.length && !state.moreInfo.has(params.nodes[0])) {
        const info = state.nodes.get(params.nodes[0]);
        if (info && info.arn) expand(info.arn);
      }
    });
    window.iamgraph.network = network;
    return network;
  }

  /**
   * Left-to-right levels: every node as far right as its longest path to a sink allows, so targets line up on the
   * right and each source sits one level before what it reaches. Cycles (A can act as B and B as A) are cut at
   * the edge that closes them, found by a depth-first walk that starts from the nodes nothing points to.
   * With pinSources (exposure: the outsiders are the story) the nodes nothing points to stay on the left.
   */
  function levels(ids, edges, pinSources) {
    const out = new Map(ids.map((id) => [id, []]));
    const pointed = new Set();
    for (const e of edges) {
      if (e.from !== e.to && out.has(e.from) && out.has(e.to)) {
        out.get(e.from).push(e.to);
        pointed.add(e.to);
      }
    }
    const starts = ids.filter((id) => !pointed.has(id)).concat(ids.filter((id) => pointed.has(id)));
    const color = new Map(); // 1: on the walk, 2: done
    const kept = new Map(ids.map((id) => [id, []]));
    const postorder = [];
    for (const root of starts) {
      if (color.has(root)) continue;
      color.set(root, 1);
      const stack = [[root, 0]];
      while (stack.length) {
        const top = stack[stack.length - 1];
        const next = out.get(top[0]);
        if (top[1] < next.length) {
          const w = next[top[1]++];
          if (!color.has(w)) {
            color.set(w, 1);
            kept.get(top[0]).push(w);
            stack.push([w, 0]);
          } else if (color.get(w) === 2) kept.get(top[0]).push(w);
        } else {
          color.set(top[0], 2);
          postorder.push(top[0]);
          stack.pop();
        }
      }
    }
    const height = new Map();
    for (const v of postorder) height.set(v, kept.get(v).reduce((h, w) => Math.max(h, height.get(w) + 1), 0));
    const top = Math.max(0, ...height.values());
    return ids.map((id) => ({ id: id, level: pinSources && !pointed.has(id) ? 0 : top - height.get(id) }));
  }

  /** Fit the graph with a margin, so that labels at the edges stay readable. */
  function fitAll(animate) {
    network.fit({ animation: false });
    network.moveTo({ scale: network.getScale() * 0.92, animation: animate ? { duration: 300 } : false });
  }

  function hopKey(h) {
    return JSON.stringify([h.kind, h.technique, h.conditions]);
  }

  /** Put a payload ({view, network}) on screen; merge adds it to what is drawn (neighbourhood expansion). */
  function showPayload(payload, merge) {
    const view = payload.view;
    const net = payload.network;
    if (!merge) {
      state.nodes.clear();
      state.edges.clear();
      state.nodeInfo.clear();
      state.edgeInfo.clear();
      state.moreInfo.clear();
      state.statements.clear();
      state.items = view.items.slice();
      state.lists = view.lists.slice();
      state.more = [];
      state.view = view;
      state.full = null;
      state.finding = null;
    }
    const byFinding = view.query.kind === "review";
    if (byFinding && !state.full) state.full = { nodes: new Map(), edges: new Map() };
    for (const n of view.nodes) {
      if (!state.nodeInfo.has(n.id) || !merge) state.nodeInfo.set(n.id, n);
    }
    for (const s of view.statements) state.statements.set([s.layer, s.policy, s.index].join("\u0000"), s);
    const byPair = new Map(view.edges.map((e) => [e.source + "\u0000" + e.target, e]));
    const renamed = new Map();
    const addNodes = [];
    for (const n of net.nodes) {
      if (typeof n.more === "number") {
        const id = "m" + ++state.moreSeq;
        renamed.set(n.id, id);
        state.moreInfo.set(id, { more: view.more[n.more], query: state.query });
        addNodes.push(Object.assign({}, n, { id: id }));
      } else if (byFinding) {
        state.full.nodes.set(n.id, n);
      } else if (!state.nodes.get(n.id)) {
        addNodes.push(n);
      }
    }
    const addEdges = [];
    for (const e of net.edges) {
      if (typeof e.more === "number") {
        const moreId = renamed.get("m:" + e.more);
        addEdges.push(Object.assign({}, e, {
          id: moreId + ":edge", from: renamed.get(e.from) || e.from, to: renamed.get(e.to) || e.to,
        }));
        continue;
      }
      const pair = byPair.get(e.fromArn + "\u0000" + e.toArn);
      const known = state.edgeInfo.get(e.id);
      if (known) {
        const keys = new Set(known.hops.map(hopKey));
        for (const h of pair ? pair.hops : []) if (!keys.has(hopKey(h))) known.hops.push(h);
      } else {
        state.edgeInfo.set(e.id, { source: e.fromArn, target: e.toArn, hops: pair ? pair.hops.slice() : [] });
        if (byFinding) state.full.edges.set(e.fromArn + "\u0000" + e.toArn, e);
        else addEdges.push(e);
      }
    }
    for (const m of view.more) state.more.push({ more: m, query: state.query });
    state.nodes.add(addNodes);
    state.edges.add(addEdges);
    const pinSources = state.view && state.view.layout === "sources";
    state.nodes.update(levels(state.nodes.getIds(), state.edges.get(), pinSources));
    ensureNetwork(net.options);
    // Edge minimisation is the costly part of the hierarchical layout (about 4x at 400 nodes): big graphs skip it.
    network.setOptions({ layout: { hierarchical: { edgeMinimization: state.nodes.length <= 150 } } });
    network.setData({ nodes: state.nodes, edges: state.edges });
    fitAll(false);
    renderHeader();
    renderResults();
    renderMore();
  }

  function renderHeader() {
    const view = state.view;
    $("view-title").textContent = view ? view.title : "No query yet";
    const drawn = state.nodes.get({ filter: (n) => !state.moreInfo.has(n.id) }).length;
    const edges = state.edges.get({ filter: (e) => state.edgeInfo.has(e.id) }).length;
    let stats = drawn + " nodes · " + edges + " edges";
    if (view && view.query.kind === "review") {
      stats = view.items.length + " of " + view.total_items + " findings listed" + (state.finding ? " · " + stats : "");
    } else if (view && view.total_items) stats += " · " + view.items.length + " of " + view.total_items + " drawn";
    $("view-stats").textContent = view ? stats : "";
    if (live) $("evidence").disabled = !view;
  }

  function moreText(m) {
    return m.count === null || m.count === undefined ? "more " + m.what + " not drawn" : "+" + m.count + " more " + m.what;
  }

  function renderMore() {
    const box = clear($("more-banner"));
    box.hidden = !state.more.length;
    if (!state.more.length) return;
    box.appendChild(el("strong", { text: "Capped: " }));
    box.appendChild(document.createTextNode(state.more.map((x) => moreText(x.more)).join("; ")));
    if (live && state.query && state.query.kind !== "neighbourhood") {
      const limit = Number(state.query.params.limit || 100);
      const cap = maxLimit(state.query.kind);
      if (limit < cap) box.appendChild(button("Draw up to " + Math.min(limit * 2, cap), () => raiseLimit()));
    }
    box.appendChild(el("span", { cls: "hint", text: "Narrow the query (an action, a smaller depth) to see everything." }));
  }

  // ---- results ----------------------------------------------------------------------------------------
  function focusItem(item) {
    const nodes = item.nodes.map((a) => "n:" + a).filter((id) => state.nodes.get(id));
    const edges = [];
    for (const [id, info] of state.edgeInfo) {
      if (item.edges.some((p) => p[0] === info.source && p[1] === info.target)) edges.push(id);
    }
    network.setSelection({ nodes: nodes, edges: edges }, { unselectAll: true, highlightEdges: false });
    network.fit({ nodes: nodes, animation: { duration: 300 } });
    if (item.nodes.length) selectNode("n:" + item.nodes[0], true);
  }

  function renderResults() {
    const box = clear($("results"));
    box.appendChild(el("h2", { text: "Results" }));
    const view = state.view;
    if (!view) return;
    const total = view.total_items || 0;
    const noun = {
      "who-can": "principals", path: "paths", privesc: "escalations", exposure: "reaches", review: "findings",
    }[view.query.kind];
    if (noun) box.appendChild(el("p", { cls: "summary", text: total + " " + noun + (total ? ":" : "") }));
    else {
      const around = (view.nodes.length - 1) + " nodes around " + shortName(view.title.replace(/^Neighbourhood of /, ""));
      box.appendChild(el("p", { cls: "summary", text: around }));
    }
    const ol = el("ol");
    for (const item of state.items) {
      if (item.finding) {
        ol.appendChild(findingEntry(item));
        continue;
      }
      const label = state.nodeInfo.has(item.label) ? shortName(item.label) : item.label;
      const b = button(label, () => focusItem(item), "link");
      b.setAttribute("title", item.label);
      const li = el("li", {}, [
        b,
        el("span", { cls: "note", text: item.note }),
        item.conditional ? el("span", { cls: "badge cond", text: "conditional" }) : null,
      ]);
      ol.appendChild(li);
    }
    box.appendChild(ol);
    for (const list of state.lists) {
      box.appendChild(el("h3", { text: list.title }));
      const ul = el("ul", { cls: "plain" });
      for (const entry of list.entries) {
        const drawn = entry.node && state.nodes.get("n:" + entry.node);
        ul.appendChild(el("li", {}, drawn ? button(entry.text, () => focusNode(entry.node), "link") : entry.text));
      }
      box.appendChild(ul);
    }
  }

  // ---- review findings: one finding drawn at a time ----------------------------------------------------
  const SEVERITIES = ["critical", "high", "medium", "low", "info"];
  function severityBadge(severity) {
    const known = SEVERITIES.includes(severity) ? severity : "info";
    return el("span", { cls: "badge sev sev-" + known, text: String(severity) });
  }

  function findingEntry(item) {
    const f = item.finding;
    const b = button(String(f.title), () => selectFinding(item), "link finding-title");
    b.setAttribute("title", String(f.id));
    const li = el("li", { cls: "finding-item" }, [
      severityBadge(f.severity),
      b,
      el("span", { cls: "note check-id", text: f.check }),
      item.conditional ? el("span", { cls: "badge cond", text: "conditional" }) : null,
    ]);
    li.dataset.finding = String(f.id);
    return li;
  }

  /** Draw the finding's principals and resources and its paths' hops (nothing else), and show the finding. */
  function selectFinding(item) {
    state.finding = item;
    const full = state.full || { nodes: new Map(), edges: new Map() };
    const nodes = item.nodes.map((a) => full.nodes.get("n:" + a)).filter(Boolean);
    const edges = item.edges.map((p) => full.edges.get(p[0] + "\u0000" + p[1])).filter(Boolean);
    state.nodes.clear();
    state.edges.clear();
    state.nodes.add(nodes);
    state.edges.add(edges);
    state.nodes.update(levels(state.nodes.getIds(), state.edges.get(), false));
    network.setData({ nodes: state.nodes, edges: state.edges });
    if (nodes.length) fitAll(false);
    for (const li of document.querySelectorAll("#results li.finding-item")) {
      li.classList.toggle("selected", li.dataset.finding === String(item.finding.id));
    }
    renderHeader();
    showFinding(item);
  }

  function showFinding(item) {
    const f = item.finding;
    const ev = f.evidence || {};
    const box = clear($("details"));
    box.appendChild(el("h2", { text: "Finding" }));
    box.appendChild(el("h2", { cls: "title finding-title", text: f.title }));
    box.appendChild(el("div", { cls: "badges" }, [
      severityBadge(f.severity),
      el("span", { cls: "badge", text: f.check }),
      f.family ? el("span", { cls: "badge", text: f.family }) : null,
      item.conditional ? el("span", { cls: "badge cond", text: "conditional" }) : null,
    ]));
    box.appendChild(props([
      ["id", el("code", { text: f.id })],
      ["subject", el("code", { text: f.subject })],
      ["account", f.account],
      ["file", f.file],
    ]));
    box.appendChild(el("h3", { text: "Remediation" }));
    box.appendChild(el("p", { cls: "remediation", text: f.remediation }));
    const ids = [].concat(ev.principals || [], ev.resources || []);
    if (ids.length) {
      box.appendChild(el("h3", { text: "Principals and resources" }));
      box.appendChild(el("ul", { cls: "plain" }, ids.map((arn) => el("li", {},
        state.nodes.get("n:" + arn) ? button(shortName(arn), () => focusNode(arn), "link") : el("code", { text: arn })))));
    }
    box.appendChild(el("h3", { text: "Evidence statements" }));
    const refs = ev.statements || [];
    box.appendChild(refs.length ? proofTable(refs) : el("p", { cls: "hint", text: "none" }));
    const paths = ev.paths || [];
    if (paths.length) {
      box.appendChild(el("p", { cls: "hint", text: paths.length + " path(s) drawn: click an edge for its deciding statements." }));
    }
    if (ev.details && Object.keys(ev.details).length) {
      box.appendChild(el("details", { cls: "stmt" }, [el("summary", { text: "evidence details (JSON)" }), json(ev.details)]));
    }
  }

  function focusNode(arn) {
    const id = "n:" + arn;
    network.selectNodes([id]);
    network.focus(id, { scale: 1.1, animation: { duration: 300 } });
    selectNode(id);
  }

  // ---- details ----------------------------------------------------------------------------------------
  function showHint() {
    const box = clear($("details"));
    box.appendChild(el("h2", { text: "Details" }));
    const review = state.view && state.view.query.kind === "review" && !state.finding;
    const hint = review ? "Select a finding under Results to draw its principals, resources and paths."
      : "Click a node for its details, an edge for its proof.";
    box.appendChild(el("p", { cls: "hint", text: hint }));
  }

  function statementBlock(ref) {
    const entry = state.statements.get([ref.layer, ref.policy, ref.index].join("\u0000"));
    if (!entry || entry.statement === null || entry.statement === undefined) {
      return el("p", { cls: "hint", text: "statement text not in the snapshot" });
    }
    return el("details", { cls: "stmt" }, [el("summary", { text: "statement" }), json(entry.statement)]);
  }

  function proofTable(proof) {
    const list = el("ol", { cls: "proof" });
    for (const ref of proof) {
      const sid = ref.sid !== null && ref.sid !== undefined ? ref.sid : "Statement[" + ref.index + "]";
      list.appendChild(el("li", { cls: "proof-row" }, [
        el("div", { cls: "proof-head" }, [
          el("span", { cls: "sid", text: sid }),
          el("span", { cls: "badge " + (ref.effect === "Deny" ? "deny" : "allow"), text: ref.effect }),
          el("span", { cls: "badge", text: ref.level ? ref.layer + " @ " + ref.level : ref.layer }),
          ref.conditional ? el("span", { cls: "badge cond", text: "conditional" }) : null,
        ]),
        el("code", { cls: "policy", text: ref.policy }),
        statementBlock(ref),
      ]));
    }
    return list;
  }

  function selectNode(id, keepSelection) {
    const box = clear($("details"));
    if (state.moreInfo.has(id)) return showMore(box, state.moreInfo.get(id));
    const drawn = state.nodes.get(id);
    const info = drawn && state.nodeInfo.get(drawn.arn);
    if (!info) return showHint();
    if (!keepSelection && network) network.selectNodes([id]);
    const node = info.details.node;
    box.appendChild(el("h2", { text: "Node" }));
    box.appendChild(el("h2", { cls: "title", text: info.name }));
    box.appendChild(el("div", { cls: "badges" }, [
      el("span", { cls: "badge", text: NODE_KIND[info.kind] || info.kind }),
      info.resource_type ? el("span", { cls: "badge", text: info.resource_type }) : null,
      info.admin ? el("span", { cls: "badge admin", text: info.admin_conditional ? "admin, conditionally" : "admin" }) : null,
      info.emphasis ? el("span", { cls: "badge", text: info.emphasis }) : null,
    ]));
    const alias = info.account_name && info.account_name !== info.account ? " (" + info.account_name + ")" : "";
    const account = info.account ? info.account + alias : null;
    box.appendChild(props([
      ["ARN", el("code", { text: info.id })],
      ["Account", account],
      ["Path", node.path],
      ["Region", node.region],
      ["Boundary", node.boundary],
      ["In organization", node.in_organization === undefined ? null : String(node.in_organization)],
      ["Edges in", countText(info.details.edges_in)],
      ["Edges out", countText(info.details.edges_out)],
      ["Note", info.details.edges_out_note],
    ]));
    const tags = node.tags || {};
    box.appendChild(el("h3", { text: "Tags" }));
    if (Object.keys(tags).length) {
      box.appendChild(el("table", { cls: "kv tags" }, Object.entries(tags).map(([k, v]) =>
        el("tr", {}, [el("td", { text: k }), el("td", { text: v })]))));
    } else box.appendChild(el("p", { cls: "hint", text: "none" }));
    if (Array.isArray(node.policies)) {
      box.appendChild(el("h3", { text: "Attached policies" }));
      box.appendChild(node.policies.length
        ? el("ul", { cls: "plain policies" }, node.policies.map((p) => el("li", {}, el("code", { text: p }))))
        : el("p", { cls: "hint", text: "none" }));
    }
    if (info.admin) {
      box.appendChild(el("h3", { text: "Why admin" }));
      box.appendChild(props([["via", node.admin_via]]));
      const conds = node.admin_conditions || [];
      if (conds.length) box.appendChild(el("p", { cls: "cond-text", text: "only if " + conds.map(condText).join(" and ") }));
      if ((node.admin_proof || []).length) box.appendChild(proofTable(node.admin_proof));
    }
    if (live) {
      const row = el("div", { cls: "actions-row" });
      row.appendChild(button("Expand neighbourhood", () => expand(info.id)));
      row.appendChild(button("Path from here", () => setField("path", "q-source", info.id)));
      row.appendChild(button("Path to here", () => setField("path", "q-target", info.id)));
      if (info.kind === "resource") {
        row.appendChild(button("Who can access it", () => setField("who-can", "q-resource", info.id, true)));
      }
      box.appendChild(row);
    }
  }

  function countText(counts) {
    const parts = Object.entries(counts || {}).map(([k, n]) => n + " " + k);
    return parts.length ? parts.join(", ") : "none";
  }

  function condText(expr) {
    if (!expr || typeof expr !== "object") return JSON.stringify(expr);
    if (Array.isArray(expr.all)) return expr.all.map(grouped).join(" and ");
    if (Array.isArray(expr.any)) return expr.any.map(grouped).join(" or ");
    if ("not" in expr) return "not " + grouped(expr.not);
    const c = expr.condition;
    if (c) return c.key + " " + c.operator + " " + (c.values.length === 1 ? c.values[0] : "[" + c.values.join(", ") + "]");
    return expr.reason ? String(expr.reason) : JSON.stringify(expr);
  }
  function grouped(expr) {
    const text = condText(expr);
    return expr && (Array.isArray(expr.all) || Array.isArray(expr.any)) ? "(" + text + ")" : text;
  }

  function selectEdge(id) {
    const box = clear($("details"));
    const info = state.edgeInfo.get(id);
    if (!info) {
      const drawn = state.edges.get(id);
      if (drawn && typeof drawn.more === "number") {
        const moreNode = drawn.from.startsWith("m") ? drawn.from : drawn.to;
        if (state.moreInfo.has(moreNode)) return showMore(box, state.moreInfo.get(moreNode));
      }
      return showHint();
    }
    box.appendChild(el("h2", { text: "Edge" }));
    box.appendChild(el("h2", { cls: "title", text: shortName(info.source) + " → " + shortName(info.target) }));
    box.appendChild(props([["from", el("code", { text: info.source })], ["to", el("code", { text: info.target })]]));
    for (const hop of info.hops) {
      const section = el("section", { cls: "hop" });
      section.appendChild(el("h3", {}, [
        el("span", { cls: "badge " + hop.kind, text: hop.kind }),
        el("span", { cls: "technique", text: hop.technique }),
      ]));
      section.appendChild(props([
        ["actions", hop.actions.join(", ")],
        ["via", (hop.via || []).join(", ")],
        ["holds", hop.conditions.length ? null : "unconditionally"],
      ]));
      if (hop.conditions.length) {
        const text = hop.conditions_text || hop.conditions.map(condText).join(" and ");
        section.appendChild(el("p", { cls: "cond-text", text: "only if " + text }));
        section.appendChild(el("details", { cls: "stmt" }, [el("summary", { text: "residual conditions (JSON)" }), json(hop.conditions)]));
      }
      section.appendChild(el("h3", { text: "Deciding statements" }));
      section.appendChild(hop.proof.length ? proofTable(hop.proof) : el("p", { cls: "hint", text: "none recorded" }));
      box.appendChild(section);
    }
  }

  function showMore(box, entry) {
    const m = entry.more;
    box.appendChild(el("h2", { text: "Not drawn" }));
    box.appendChild(el("h2", { cls: "title", text: moreText(m) }));
    const limit = entry.query ? Number(entry.query.params.limit || 100) : null;
    box.appendChild(el("p", {
      text: "The answer has more than can be drawn at once" + (limit ? " (at most " + limit + " here)" : "") +
        "; the graph stays responsive instead. Narrow the query, or draw more.",
    }));
    const cap = entry.query ? maxLimit(entry.query.kind) : 0;
    if (live && entry.query && limit < cap) {
      box.appendChild(button("Draw up to " + Math.min(limit * 2, cap), () => {
        if (entry.query.kind === "neighbourhood") expand(entry.query.params.node, Math.min(limit * 2, cap));
        else raiseLimit();
      }));
    }
  }

  // ---- live mode: the API -----------------------------------------------------------------------------
  async function api(path, params) {
    const url = path + (params ? "?" + params.toString() : "");
    const headers = state.token ? { Authorization: "Bearer " + state.token } : {};
    const response = await fetch(url, { headers: headers, credentials: "same-origin" });
    if (response.status === 401) {
      $("token-box").hidden = false;
      throw new ApiError("This server needs an API token (enter it on the left).", null);
    }
    if (!response.ok) {
      let body = null;
      try { body = await response.json(); } catch (e) { /* not JSON */ }
      const err = body && body.error ? body.error : { message: response.status + " " + response.statusText };
      throw new ApiError(err.message, err.detail);
    }
    return response;
  }
  function ApiError(message, detail) {
    this.message = message;
    this.detail = detail;
  }

  function snapshot() {
    return $("q-snapshot").value;
  }

  function whatifParams(params) {
    for (const input of document.querySelectorAll("#whatif [data-key]")) {
      if (input.value.trim()) params.append("context", input.dataset.key + "=" + input.value.trim());
    }
    for (const line of $("w-other").value.split("\n")) {
      if (line.trim()) params.append("context", line.trim());
    }
    const assume = $("w-assume").value;
    if (assume !== "keep") params.set("assume_unknown", assume);
    return params;
  }

  function readForm() {
    const kind = $("q-kind").value;
    const p = { limit: String(Math.min(Number($("q-limit").value) || 100, maxLimit(kind))) };
    if (kind === "who-can") {
      p.resource = $("q-resource").value.trim();
      if ($("q-action").value.trim()) p.action = $("q-action").value.trim();
      if ($("q-access-level").value) p.access_level = $("q-access-level").value;
    } else if (kind === "path") {
      p.source = $("q-source").value.trim();
      p.target = $("q-target").value.trim();
      if ($("q-all").checked) p.all = "true";
    } else if (kind === "neighbourhood") {
      p.node = $("q-node").value.trim();
      p.depth = $("q-depth").value || "1";
    } else if (kind === "review") {
      const q = { limit: String(maxLimit(kind)) };
      if ($("q-min-severity").value) q.min_severity = $("q-min-severity").value;
      if ($("q-as-of").value.trim()) q.as_of = $("q-as-of").value.trim();
      return { kind: kind, params: q };
    }
    if (kind !== "neighbourhood") p.max_depth = $("q-max-depth").value || "8";
    return { kind: kind, params: p };
  }

  function queryParams(query) {
    const params = new URLSearchParams();
    if (snapshot()) params.set("snapshot", snapshot());
    for (const [k, v] of Object.entries(query.params)) params.set(k, v);
    return query.kind === "review" ? params : whatifParams(params); // the review takes no what-if context
  }

  function errorExtra(err, query) {
    const matches = err.detail && Array.isArray(err.detail.close_matches) ? err.detail.close_matches : [];
    if (!matches.length) return null;
    const box = el("div", { cls: "close-matches" }, [el("span", { text: "close matches:" })]);
    for (const m of matches) {
      box.appendChild(button(m, () => {
        const field = { "who-can": "q-resource", neighbourhood: "q-node" }[query.kind];
        const el2 = field ? $(field) : null;
        if (el2) { el2.value = m; run(readForm()); }
      }, "link"));
    }
    return box;
  }

  let runSeq = 0;
  async function run(query) {
    const seq = ++runSeq;
    state.query = query;
    status("Running " + query.kind + "…");
    try {
      const params = queryParams(query);
      const payload = await (await api("ui/views/" + query.kind, params)).json();
      if (seq !== runSeq) return;
      status("");
      showPayload(payload, false);
      showHint();
      history.replaceState(null, "", "#" + params.toString() + "&kind=" + encodeURIComponent(query.kind));
    } catch (err) {
      if (seq !== runSeq) return;
      status(err.message || String(err), true, err instanceof ApiError ? errorExtra(err, query) : null);
    }
  }

  async function expand(arn, limit) {
    const params = new URLSearchParams();
    if (snapshot()) params.set("snapshot", snapshot());
    params.set("node", arn);
    params.set("depth", "1");
    params.set("limit", String(limit || 40));
    whatifParams(params);
    status("Expanding " + shortName(arn) + "…");
    try {
      const payload = await (await api("ui/views/neighbourhood", params)).json();
      for (const [id, entry] of state.moreInfo) {
        if (entry.more.anchor === arn && entry.query && entry.query.kind === "neighbourhood") {
          state.moreInfo.delete(id);
          state.nodes.remove(id);
          state.edges.remove(state.edges.getIds({ filter: (e) => e.from === id || e.to === id }));
          state.more = state.more.filter((x) => x.more !== entry.more);
        }
      }
      const saved = state.query;
      state.query = { kind: "neighbourhood", params: { node: arn, limit: String(limit || 40) } };
      showPayload(payload, true);
      state.query = saved;
      status("");
      focusNode(arn);
    } catch (err) {
      status(err.message || String(err), true);
    }
  }

  /** The largest limit the server accepts for a query (path: max_paths, neighbourhood: max_nodes). */
  function maxLimit(kind) {
    const limits = boot.limits || {};
    if (kind === "path") return Math.min(1000, limits.max_paths || 1000);
    if (kind === "neighbourhood") return Math.min(1000, limits.max_nodes || 1000);
    return 1000;
  }

  function raiseLimit() {
    if (!state.query) return;
    const limit = Math.min(Number(state.query.params.limit || 100) * 2, maxLimit(state.query.kind));
    $("q-limit").value = String(limit);
    run(Object.assign({}, state.query, { params: Object.assign({}, state.query.params, { limit: String(limit) }) }));
  }

  function setField(kind, field, value, runNow) {
    $("q-kind").value = kind;
    showFields();
    $(field).value = value;
    if (runNow) run(readForm());
    else $(field).focus();
  }

  function showFields() {
    const kind = $("q-kind").value;
    for (const f of document.querySelectorAll("#query-form [data-kinds]")) {
      f.hidden = !f.dataset.kinds.split(" ").includes(kind);
    }
    $("q-max-depth").value = kind === "path" && $("q-max-depth").value === "8" ? "6" : $("q-max-depth").value;
    $("whatif").hidden = kind === "review";
  }

  async function loadSnapshots() {
    try {
      const body = await (await api("snapshots")).json();
      const select = clear($("q-snapshot"));
      for (const s of body.snapshots) {
        select.appendChild(el("option", { value: s.name, text: s.name + " (" + s.accounts + " accounts, " + s.nodes + " nodes)" }));
      }
      if (body.default) select.value = body.default;
      if (!body.snapshots.length) {
        status("Loading snapshots…");
        setTimeout(loadSnapshots, 1000);
        return false;
      }
      status("");
      return true;
    } catch (err) {
      status(err.message || String(err), true);
      if (!(err instanceof ApiError)) setTimeout(loadSnapshots, 2000);
      return false;
    }
  }

  // ---- autocompletion ---------------------------------------------------------------------------------
  function autocomplete(input) {
    const list = $(input.getAttribute("aria-controls"));
    let timer = null;
    let matches = [];
    let active = -1;
    let seq = 0;
    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      active = -1;
    }
    function choose(i) {
      if (!matches[i]) return;
      input.value = matches[i].id;
      close();
    }
    function highlight(i) {
      active = i;
      list.querySelectorAll("li").forEach((li, j) => li.setAttribute("aria-selected", String(j === i)));
    }
    async function search() {
      const q = input.value.trim();
      if (!q) return close();
      const mine = ++seq;
      try {
        const params = new URLSearchParams({ q: q, limit: "12" });
        if (snapshot()) params.set("snapshot", snapshot());
        const body = await (await api("graph/search", params)).json();
        if (mine !== seq) return;
        matches = body.matches;
        clear(list);
        matches.forEach((m, i) => {
          const li = el("li", { role: "option", id: input.id + "-opt-" + i, "aria-selected": "false" }, [
            el("span", { cls: "s-name", text: m.name || m.id }),
            el("span", { cls: "s-meta", text: (NODE_KIND[m.kind] || m.kind) + (m.admin ? " · admin" : "") + " · " + m.id }),
          ]);
          li.addEventListener("mousedown", (ev) => { ev.preventDefault(); choose(i); });
          list.appendChild(li);
        });
        list.hidden = !matches.length;
        input.setAttribute("aria-expanded", String(!!matches.length));
        active = -1;
      } catch (err) {
        close();
      }
    }
    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(search, 150); });
    input.addEventListener("keydown", (ev) => {
      if (list.hidden) return;
      if (ev.key === "ArrowDown") { ev.preventDefault(); highlight(Math.min(active + 1, matches.length - 1)); }
      else if (ev.key === "ArrowUp") { ev.preventDefault(); highlight(Math.max(active - 1, 0)); }
      else if (ev.key === "Enter" && active >= 0) { ev.preventDefault(); choose(active); }
      else if (ev.key === "Escape") close();
    });
    input.addEventListener("blur", () => setTimeout(close, 100));
  }

  async function downloadEvidence() {
    if (!state.query) return;
    const params = queryParams(state.query);
    if ($("evidence-redact").checked) params.set("redact", "true");
    try {
      const blob = await (await api("ui/evidence/" + state.query.kind, params)).blob();
      const url = URL.createObjectURL(blob);
      const a = el("a", { href: url, download: "iamgraph-" + state.query.kind + ".html" });
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (err) {
      status(err.message || String(err), true);
    }
  }

  function restoreFromHash() {
    const hash = new URLSearchParams(location.hash.slice(1));
    const kind = hash.get("kind");
    if (!kind || !["who-can", "path", "privesc", "exposure", "neighbourhood", "review"].includes(kind)) return false;
    $("q-kind").value = kind;
    const fields = {
      resource: "q-resource", action: "q-action", access_level: "q-access-level", source: "q-source",
      target: "q-target", node: "q-node", depth: "q-depth", max_depth: "q-max-depth", limit: "q-limit",
      min_severity: "q-min-severity", as_of: "q-as-of",
    };
    for (const [k, id] of Object.entries(fields)) if (hash.has(k)) $(id).value = hash.get(k);
    $("q-all").checked = hash.get("all") === "true";
    if (hash.has("snapshot")) $("q-snapshot").value = hash.get("snapshot");
    const known = {};
    for (const input of document.querySelectorAll("#whatif [data-key]")) known[input.dataset.key] = input;
    const other = [];
    for (const pair of hash.getAll("context")) {
      const key = pair.split("=", 1)[0];
      if (known[key]) known[key].value = pair.slice(key.length + 1);
      else other.push(pair);
    }
    $("w-other").value = other.join("\n");
    if (hash.has("assume_unknown")) $("w-assume").value = hash.get("assume_unknown");
    showFields();
    run(readForm());
    return true;
  }

  async function startLive() {
    state.token = sessionStorage.getItem("iamgraph-token");
    if (boot.limits && boot.limits.max_depth) $("q-max-depth").max = String(boot.limits.max_depth);
    $("q-kind").addEventListener("change", showFields);
    $("q-min-severity").addEventListener("change", () => {
      if (state.query && state.query.kind === "review") run(readForm());
    });
    $("query-form").addEventListener("submit", (ev) => { ev.preventDefault(); run(readForm()); });
    let rerun = null;
    const whatifChanged = () => {
      clearTimeout(rerun);
      rerun = setTimeout(() => { if (state.query && state.query.kind !== "review") run(state.query); }, 350);
    };
    for (const input of document.querySelectorAll("#whatif input, #whatif select, #whatif textarea")) {
      input.addEventListener(input.tagName === "SELECT" ? "change" : "input", whatifChanged);
    }
    for (const input of document.querySelectorAll("[data-autocomplete]")) autocomplete(input);
    $("token-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      state.token = $("token").value;
      sessionStorage.setItem("iamgraph-token", state.token);
      $("token-box").hidden = true;
      startData();
    });
    $("evidence").addEventListener("click", downloadEvidence);
    $("q-snapshot").addEventListener("change", () => { if (state.query) run(state.query); });
    showFields();
    await startData();
  }

  async function startData() {
    if (await loadSnapshots()) {
      if (!restoreFromHash()) status("Choose a query on the left and run it.");
    }
  }

  function startStatic() {
    const view = boot.view;
    const box = $("finding");
    const q = view.query;
    const ctx = Object.entries(q.context || {}).map(([k, v]) => k + "=" + (Array.isArray(v) ? "[" + v.join(",") + "]" : v));
    box.appendChild(el("h2", { cls: "title", text: view.title }));
    box.appendChild(props([
      ["query", q.kind],
      ...Object.entries(q.params).map(([k, v]) => [k.replace(/_/g, " "), String(v)]),
      ["what-if", ctx.join(", ") || "none"],
      ["unknown keys", q.assume_unknown],
      ["snapshot", view.generated.snapshot],
      ["generated", view.generated.at + " by " + view.generated.by],
      ["redacted", view.redacted ? "yes: names and account ids are pseudonyms" : "no"],
    ]));
    state.query = null;
    showPayload(boot, false);
  }

  window.iamgraph = {
    state: state, network: null, select: { node: selectNode, edge: selectEdge, finding: selectFinding }, run: run,
  };
  $("fit").addEventListener("click", () => network && fitAll(true));
  if (live) startLive();
  else startStatic();
})();
