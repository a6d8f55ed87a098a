// The credledger verifier page (see node/verifier/page.go): no framework,
// no build step. config.js sets credledgerConfig; wasm_exec.js is Go's
// loader of the bundle checker (node/verifier/wasm), which sets
// credledgerHash and credledgerVerifyBundle.
"use strict";

(() => {
  const cfg = globalThis.credledgerConfig || { service: false };
  const $ = (id) => document.getElementById(id);

  // the steps of a verification, in the order it runs (the service's
  // POST /v1/verify checks, then the browser's own check of the proof)
  const STEP_NAMES = {
    parsed: "Credential parsed and hashed",
    anchored: "Anchored on the chain",
    issuer: "Issuer named by the credential matches the anchoring member",
    not_voided: "Not voided by the consortium",
    status: "Current status",
    dates: "Validity dates",
    browser: "Proof checked in this browser",
  };

  const TONES = {
    valid: "good",
    revoked: "bad", not_anchored: "bad", issuer_mismatch: "bad", voided: "bad",
    suspended: "warn", expired: "warn", not_yet_valid: "warn",
    error: "none",
  };

  // ---- the checker (WebAssembly) ----

  let checkerPromise = null;

  function checker() {
    if (!checkerPromise) {
      checkerPromise = loadChecker();
      checkerPromise.then(
        () => { $("checker-status").textContent = "Checker loaded: the same Go code as \u201ccredledger verify --bundle\u201d, compiled to WebAssembly."; },
        (err) => { $("checker-status").textContent = "The checker could not be loaded: " + err.message; });
    }
    return checkerPromise;
  }

  async function loadChecker() {
    if (typeof globalThis.Go !== "function") {
      throw new Error("wasm_exec.js did not load");
    }
    let bytes;
    if (cfg.wasm_script) {
      await loadScript(cfg.wasm_script);
      bytes = await gunzipBase64(globalThis.credledgerWasmGzip);
    } else {
      const resp = await fetch(cfg.wasm || "credledger.wasm");
      if (!resp.ok) {
        throw new Error(`fetching the checker: HTTP ${resp.status}`);
      }
      bytes = await resp.arrayBuffer();
    }
    const go = new globalThis.Go();
    const { instance } = await WebAssembly.instantiate(bytes, go.importObject);
    go.run(instance).catch((err) => console.error("checker stopped", err));
    if (typeof globalThis.credledgerVerifyBundle !== "function") {
      throw new Error("the checker did not start");
    }
    return {
      hash: (credential) => JSON.parse(globalThis.credledgerHash(credential)),
      verifyBundle: (bundle, genesis, target) => JSON.parse(globalThis.credledgerVerifyBundle(bundle, genesis, target)),
    };
  }

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = src;
      s.onload = resolve;
      s.onerror = () => reject(new Error(`loading ${src} failed`));
      document.head.append(s);
    });
  }

  async function gunzipBase64(b64) {
    if (typeof b64 !== "string") {
      throw new Error("the checker's script set no credledgerWasmGzip");
    }
    const bin = atob(b64);
    const gz = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) {
      gz[i] = bin.charCodeAt(i);
    }
    const stream = new Blob([gz]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).arrayBuffer();
  }

  // ---- showing a result ----

  // run starts a check; a later one makes the result of an earlier one
  // that is still running be dropped
  let current = 0;

  async function run(check) {
    const id = ++current;
    const show = (r) => { if (id === current) render(r); };
    setChecking();
    try {
      show(await check());
    } catch (err) {
      show(errorResult(`The check failed: ${err.message}`, []));
    }
  }

  function setChecking() {
    $("result").hidden = false;
    const el = $("verdict");
    el.textContent = "Checking\u2026";
    el.className = "checking";
    el.dataset.state = "checking";
    delete el.dataset.verifiedInBrowser;
  }

  // a result is {word, sentence, verified, unchecked, steps, verdict,
  // details}
  function errorResult(sentence, steps) {
    return { word: "error", sentence, verified: false, steps };
  }

  function render(r) {
    const el = $("verdict");
    el.textContent = "";
    const word = document.createElement("span");
    word.className = "word";
    word.textContent = r.word;
    el.append(word, " ", r.sentence);
    el.className = (TONES[r.word] || "none") + (r.unchecked ? " unchecked" : "");
    if (r.verified) {
      el.dataset.verifiedInBrowser = "true";
    } else {
      delete el.dataset.verifiedInBrowser;
    }
    el.dataset.verdict = r.word;
    $("as-of").textContent = r.verdict ? asOf(r.verdict) : "";
    renderSteps(r.steps || []);
    renderDetails(r.verdict);
    el.dataset.state = "done";
  }

  function renderSteps(steps) {
    const ol = $("steps");
    ol.textContent = "";
    for (const s of steps) {
      const li = document.createElement("li");
      const skip = s.skip || (!s.ok && (s.detail || "").startsWith("not checked: "));
      const state = skip ? "skip" : s.ok ? "pass" : "fail";
      li.className = state;
      li.dataset.step = s.name;
      li.dataset.ok = String(state === "pass");
      const mark = document.createElement("span");
      mark.className = "mark";
      mark.textContent = { pass: "\u2713", fail: "\u2717", skip: "\u2013" }[state];
      mark.setAttribute("aria-label", { pass: "passed", fail: "failed", skip: "not checked" }[state]);
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = `${STEP_NAMES[s.name] || s.name}: ${{ pass: "pass", fail: "fail", skip: "not checked" }[state]}`;
      const detail = document.createElement("span");
      detail.className = "detail";
      detail.textContent = s.detail || "";
      li.append(mark, name, detail);
      ol.append(li);
    }
  }

  function renderDetails(v) {
    const rows = [];
    if (v) {
      rows.push(["hash", v.hash], ["verdict", v.verdict], ["issuer", v.issuer || "\u2013"],
        ["issuers with a record", (v.issuers || []).join(", ") || "none"], ["chain", v.chain_id],
        ["state height", v.height], ["header", `${v.header_height} (${v.header_time})`],
        ["header hash", v.header_hash], ["app hash", v.app_hash]);
    }
    if (cfg.genesis_sha256) {
      rows.push(["genesis SHA-256", cfg.genesis_sha256]);
    }
    fillList($("details"), rows);
  }

  function fillList(dl, rows) {
    dl.textContent = "";
    for (const [k, val] of rows) {
      const dt = document.createElement("dt");
      dt.textContent = k;
      const dd = document.createElement("dd");
      dd.textContent = String(val);
      dl.append(dt, dd);
    }
  }

  function fmtTime(s) {
    if (!s) {
      return "\u2013";
    }
    return s.replace("T", " ").replace(/(\.\d+)?Z$/, " UTC");
  }

  function asOf(v) {
    return `As of state ${v.height} (header ${v.header_height}, ${fmtTime(v.header_time)}) of chain ${v.chain_id}.`;
  }

  function who(v) {
    return v.issuer ? `issuer ${v.issuer}` : "its issuer";
  }

  // explain returns the one-sentence explanation of verdict v.
  function explain(v) {
    const reason = v.reason ? `, giving the reason \u201c${v.reason}\u201d` : ", giving no reason";
    switch (v.verdict) {
      case "valid":
        return `The credential was anchored by ${who(v)} at height ${v.anchored_height} and is not revoked, suspended or voided`
          + (v.valid_from || v.valid_until ? ", and it is within its validity dates." : ".");
      case "revoked":
        return `The credential was revoked by ${who(v)} at height ${v.status_height}${reason}.`;
      case "suspended":
        return `The credential is suspended by ${who(v)} since height ${v.status_height}${reason}.`;
      case "not_anchored":
        return "No issuer anchored this credential: it may have been altered, or was never issued on this chain.";
      case "issuer_mismatch":
        return `The credential names ${v.named_issuer}, but only ${(v.issuers || []).join(", ")} anchored it.`;
      case "voided":
        return `The consortium voided the records of ${who(v)} that include this credential, so it does not count.`;
      case "expired":
        return `The credential was anchored and not revoked, but its validity period ended ${fmtTime(v.valid_until)}.`;
      case "not_yet_valid":
        return `The credential was anchored and not revoked, but its validity period only starts ${fmtTime(v.valid_from)}.`;
    }
    return `The verdict is ${v.verdict}.`;
  }

  function verdictResult(v, steps, verified, unchecked) {
    return { word: v.verdict, sentence: explain(v), verified, unchecked, steps, verdict: v };
  }

  // checksOf derives the steps from a verdict, for what POST /v1/verify
  // does not answer (a hash, a file hashed raw, a bundle file).
  function checksOf(v, parsed) {
    const state = `as of state ${v.height} (header ${v.header_height}, ${fmtTime(v.header_time)})`;
    const issuers = v.issuers || [];
    const mismatch = v.verdict === "issuer_mismatch";
    let missing = "";
    if (issuers.length === 0) {
      missing = "no issuer has a record of this hash";
    } else if (mismatch) {
      missing = `no issuer that ${v.named_issuer} names has a record of this hash`;
    } else if (!v.issuer) {
      missing = "the credential names no issuer, and several issuers have a record of this hash";
    }
    const steps = [parsed];
    if (issuers.length === 0) {
      steps.push({ name: "anchored", ok: false, detail: `no issuer has a record of this hash ${state}` });
    } else if (v.anchored_height > 0) {
      steps.push({ name: "anchored", ok: true, detail: `anchored by ${v.issuer} at height ${v.anchored_height} (${fmtTime(v.anchored_time)})` });
    } else {
      steps.push({ name: "anchored", ok: mismatch || !v.issuer, detail: `issuers with a record: ${issuers.join(", ")}` });
    }
    if (mismatch) {
      steps.push({ name: "issuer", ok: false, detail: `the credential names ${v.named_issuer}, which is none of ${issuers.join(", ")}` });
    } else if (missing) {
      steps.push({ name: "issuer", ok: false, skip: true, detail: "not checked: " + missing });
    } else {
      steps.push({ name: "issuer", ok: true, detail: v.named_issuer ? `the credential names ${v.named_issuer}, which is ${v.issuer}` : `no issuer named; the record is ${v.issuer}'s` });
    }
    if (missing) {
      steps.push({ name: "not_voided", ok: false, skip: true, detail: "not checked: " + missing });
      steps.push({ name: "status", ok: false, skip: true, detail: "not checked: " + missing });
    } else {
      const voided = v.verdict === "voided";
      steps.push({ name: "not_voided", ok: !voided, detail: voided ? `the consortium voided ${v.issuer}'s records that include this one` : `no void of ${v.issuer}'s records covers this one` });
      const changed = v.status_height > 0 && (v.verdict === "revoked" || v.verdict === "suspended");
      steps.push({
        name: "status", ok: !changed,
        detail: changed ? `${v.verdict} by ${v.issuer} at height ${v.status_height} (${fmtTime(v.status_time)}), reason \u201c${v.reason}\u201d, ${state}`
          : `not revoked or suspended ${state}`,
      });
    }
    steps.push(datesCheck(v));
    return steps;
  }

  function datesCheck(v) {
    const at = Date.parse(v.header_time);
    const from = v.valid_from ? Date.parse(v.valid_from) : NaN;
    const until = v.valid_until ? Date.parse(v.valid_until) : NaN;
    const when = `at ${fmtTime(v.header_time)} (header ${v.header_height})`;
    if (isNaN(from) && isNaN(until)) {
      return { name: "dates", ok: true, detail: "the credential states no validity period (or none was read)" };
    }
    if (!isNaN(from) && at < from) {
      return { name: "dates", ok: false, detail: `valid from ${fmtTime(v.valid_from)}: not yet valid ${when}` };
    }
    if (!isNaN(until) && at >= until) {
      return { name: "dates", ok: false, detail: `valid until ${fmtTime(v.valid_until)}: expired ${when}` };
    }
    return { name: "dates", ok: true, detail: `valid from ${fmtTime(v.valid_from)} until ${fmtTime(v.valid_until)}: within it ${when}` };
  }

  // ---- what a credential says (W3C VC, Open Badges 3.0) ----

  function textOf(x) {
    if (typeof x === "string" || typeof x === "number") {
      return String(x);
    }
    if (Array.isArray(x)) {
      return x.map(textOf).filter(Boolean)[0] || "";
    }
    if (x && typeof x === "object") {
      return textOf(x["@value"] ?? x.en ?? x.name ?? "");
    }
    return "";
  }

  function showFields(bytes) {
    const rows = [];
    let doc = null;
    try {
      doc = JSON.parse(new TextDecoder("utf-8").decode(bytes).replace(/^\uFEFF/, ""));
    } catch (e) {
      doc = null;
    }
    if (doc && typeof doc === "object" && !Array.isArray(doc)) {
      const subject = Array.isArray(doc.credentialSubject) ? doc.credentialSubject[0] : doc.credentialSubject;
      const issuer = doc.issuer;
      const types = Array.isArray(doc.type) ? doc.type.join(", ") : textOf(doc.type);
      const add = (k, val) => { if (val) { rows.push([k, val]); } };
      add("Credential", textOf(doc.name));
      add("Type", types);
      add("Achievement", subject && subject.achievement ? textOf(subject.achievement.name) : "");
      add("Subject", subject ? textOf(subject.name) || textOf(subject.id) : "");
      add("Issuer", issuer && typeof issuer === "object" ? [textOf(issuer.name), textOf(issuer.id)].filter(Boolean).join(" \u00b7 ") : textOf(issuer));
      add("Valid from", fmtTimeField(doc.validFrom ?? doc.issuanceDate));
      add("Valid until", fmtTimeField(doc.validUntil ?? doc.expirationDate));
    }
    fillList($("credential-fields"), rows);
    $("fields-section").hidden = rows.length === 0;
  }

  function fmtTimeField(x) {
    return typeof x === "string" ? fmtTime(x) : "";
  }

  // ---- the checks ----

  const state = { credential: null, bundle: null };

  function issuerInput() {
    return $("issuer-input").value.trim();
  }

  function target() {
    const t = state.credential ? { credential: state.credential.bytes } : {};
    if (issuerInput()) {
      t.issuer = issuerInput();
    }
    return t;
  }

  async function errorText(resp) {
    try {
      const j = await resp.json();
      let msg = j.error || `HTTP ${resp.status}`;
      if (j.issuers) {
        msg += " (name one under \u201cName the issuer\u201d)";
      }
      return msg;
    } catch (e) {
      return `HTTP ${resp.status}`;
    }
  }

  // checkOnline asks the service about a credential ({bytes}) or a hash
  // ({hash}), then checks the service's proof bundle in the browser.
  async function checkOnline(what) {
    const c = await checker();
    let hash = what.hash;
    let hashed = null;
    let parsed = { name: "parsed", ok: true, skip: true, detail: `no credential file: checking hash ${hash}` };
    if (what.bytes) {
      hashed = c.hash(what.bytes);
      if (hashed.error) {
        return errorResult(`The file could not be read as a credential: ${hashed.error}.`, [{ name: "parsed", ok: false, detail: hashed.error }]);
      }
      hash = hashed.hash;
      parsed = {
        name: "parsed", ok: true,
        detail: hashed.canonical_json ? `parsed as JSON and hashed in its RFC 8785 canonical form: ${hash}` : `not JSON: its raw bytes hashed: ${hash}`,
      };
    } else if (!/^[0-9a-fA-F]{64}$/.test(hash)) {
      return errorResult("A hash is 64 hex digits, as \u201ccredledger hash\u201d prints it.", []);
    }
    hash = hash.toLowerCase();
    const q = issuerInput() ? "?issuer=" + encodeURIComponent(issuerInput()) : "";
    const resp = hashed && hashed.canonical_json
      ? await fetch("v1/verify" + q, { method: "POST", headers: { "Content-Type": "application/json" }, body: what.bytes })
      : await fetch(`v1/credentials/${hash}${q}`);
    if (!resp.ok) {
      return errorResult(`The service could not answer: ${await errorText(resp)}.`, [parsed]);
    }
    const svc = await resp.json();
    if (svc.hash !== hash) {
      return errorResult(`The service answered about hash ${svc.hash}, but this browser hashed the credential to ${hash}.`, [parsed]);
    }
    let steps = svc.checks || checksOf(svc, parsed);
    if (!cfg.genesis) {
      steps = steps.concat([{ name: "browser", ok: false, skip: true, detail: "not checked: this service pins no genesis file (start it with --genesis)" }]);
      return verdictResult(svc, steps, false, true);
    }
    // the bundle proves the verdict about the state the service answered
    // for, from the chain's latest state (which may be newer by now)
    const svcState = svc.at_height || svc.height;
    const br = await fetch(`v1/credentials/${hash}/bundle?at_height=${svcState}`);
    if (!br.ok) {
      const msg = await errorText(br);
      return errorResult(`The service gave no proof bundle to check in this browser: ${msg}.`, steps.concat([{ name: "browser", ok: false, detail: msg }]));
    }
    const bundle = new Uint8Array(await br.arrayBuffer());
    const t = what.bytes ? { credential: what.bytes } : { hash };
    if (issuerInput()) {
      t.issuer = issuerInput();
    }
    t.at_height = svcState; // the bundle must be about the state the service answered for
    const local = c.verifyBundle(bundle, cfg.genesis, t);
    if (local.error) {
      return errorResult(`The proof bundle did not verify in this browser, so the service's answer cannot be trusted: ${local.error}.`,
        steps.concat([{ name: "browser", ok: false, detail: local.error }]));
    }
    const localState = local.at_height || local.height;
    const agree = local.verdict === svc.verdict && local.hash === svc.hash && local.issuer === svc.issuer && localState === svcState;
    if (!agree) {
      const msg = `the service says ${svc.verdict} (issuer ${svc.issuer || "\u2013"}, state ${svcState}), the proof says ${local.verdict} (issuer ${local.issuer || "\u2013"}, state ${localState})`;
      return errorResult(`The service's answer and the proof checked in this browser disagree: ${msg}.`, steps.concat([{ name: "browser", ok: false, detail: msg }]));
    }
    steps = steps.concat([{ name: "browser", ok: true, detail: browserDetail(local, bundle.length) + ", as the service answered" }]);
    return verdictResult(local, steps, true, false);
  }

  function browserDetail(v, size) {
    return `the proof bundle (${size} bytes) verified from the genesis of chain ${v.chain_id} to header ${v.header_height}, and proves the verdict ${v.verdict}`;
  }

  // checkBundle checks the chosen bundle file in the browser, against the
  // chosen credential if any.
  async function checkBundle() {
    const c = await checker();
    let parsed = { name: "parsed", ok: true, skip: true, detail: "no credential file chosen: checking the hash the bundle is about (choose the credential to check it is this one)" };
    if (state.credential) {
      const h = c.hash(state.credential.bytes);
      if (h.error) {
        return errorResult(`The file could not be read as a credential: ${h.error}.`, [{ name: "parsed", ok: false, detail: h.error }]);
      }
      parsed = { name: "parsed", ok: true, detail: (h.canonical_json ? "parsed as JSON and hashed in its RFC 8785 canonical form: " : "not JSON: its raw bytes hashed: ") + h.hash };
    }
    if (!cfg.genesis) {
      return errorResult("No genesis file is pinned, so a bundle cannot be checked here.", [parsed]);
    }
    const local = c.verifyBundle(state.bundle.bytes, cfg.genesis, target());
    if (local.error) {
      return errorResult(`The proof bundle did not verify: ${local.error}.`, [parsed, { name: "browser", ok: false, detail: local.error }]);
    }
    const steps = checksOf(local, parsed).concat([{ name: "browser", ok: true, detail: browserDetail(local, state.bundle.bytes.length) }]);
    return verdictResult(local, steps, true, false);
  }

  async function readFile(file) {
    return { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) };
  }

  async function credentialChosen(file) {
    state.credential = await readFile(file);
    $("credential-name").textContent = `${file.name} (${file.size} bytes)`;
    showFields(state.credential.bytes);
    if (cfg.service) {
      await run(() => checkOnline({ bytes: state.credential.bytes }));
    } else if (state.bundle) {
      await run(checkBundle);
    }
  }

  async function bundleChosen(file) {
    state.bundle = await readFile(file);
    $("bundle-name").textContent = `${file.name} (${file.size} bytes)`;
    await run(checkBundle);
  }

  // ---- wiring ----

  function setup() {
    document.body.classList.add(cfg.service ? "service" : "offline");
    if (!cfg.service) {
      $("lead").textContent = "Choose a proof bundle file: this page checks it here, in your browser, against the chain's genesis, with no server. "
        + "Choose the credential too, to check the bundle is about it.";
    }
    const root = $("trust-root");
    if (cfg.genesis) {
      root.textContent = `Proofs are checked against the genesis of chain ${cfg.chain_id || "?"}, SHA-256 `;
      const code = document.createElement("code");
      code.textContent = cfg.genesis_sha256;
      const link = document.createElement("a");
      link.href = "genesis.json";
      link.textContent = "genesis.json";
      root.append(code, " (", link, "). Compare it with the fingerprint your consortium publishes (credledger genesis-hash).");
    } else {
      root.textContent = "This service pins no genesis file: its verdicts are shown as it gives them, not checked in this browser.";
    }

    const file = $("credential-file");
    file.addEventListener("change", () => { if (file.files.length) { credentialChosen(file.files[0]); } });
    const bundle = $("bundle-file");
    bundle.addEventListener("change", () => { if (bundle.files.length) { bundleChosen(bundle.files[0]); } });
    const zone = $("drop-zone");
    zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("dragging"); });
    zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      zone.classList.remove("dragging");
      if (e.dataTransfer && e.dataTransfer.files.length) {
        credentialChosen(e.dataTransfer.files[0]);
      }
    });
    $("hash-form").addEventListener("submit", (e) => {
      e.preventDefault();
      state.credential = null;
      $("credential-name").textContent = "";
      showFields(new Uint8Array());
      const hash = $("hash-input").value.trim().replace(/^0x/, "");
      run(() => checkOnline({ hash }));
    });
    checker().catch(() => {});
  }

  setup();
})();
