// app.js — the console's views: sign-in, buckets and objects, bucket settings, users and keys,
// cluster status, metrics. Every call goes through s3.js, signed in this page with keys kept in
// sessionStorage only (gone when the tab closes). The DOM is built with textContent, never from
// HTML strings, so names from the server cannot become markup.

import { ApiError, childText, Client, PART_SIZE } from "./s3.js";
import { lineChart, parseMetrics, total } from "./charts.js";

const STORE = "yc-console-keys";
const main = document.getElementById("main");
let client = null;
let timer = null; // the metrics view's poll, stopped on leaving it

// ---------------------------------------------------------------- DOM helpers

function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "text") e.textContent = v;
    else if (v === true) e.setAttribute(k, "");
    else if (v !== false && v !== null && v !== undefined) e.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function show(...nodes) {
  if (timer) clearInterval(timer);
  timer = null;
  main.replaceChildren(...nodes);
}

function say(target, text, cls) {
  target.textContent = text;
  target.className = cls || "";
}

function errText(e) {
  if (e instanceof ApiError)
    return `${e.code} (${e.status})${e.detail ? ": " + e.detail : ""}${e.requestId ? " — request " + e.requestId : ""}`;
  return String(e);
}

function bytes(n) {
  const u = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return (i ? n.toFixed(1) : String(n)) + " " + u[i];
}

const NUMERIC = new Set(["Size", "Set", "Slot", "Free", "Drives up", "Write quorum"]);

function th(text) {
  return h("th", { text, class: NUMERIC.has(text) ? "num" : null });
}

function card(title, ...children) {
  return h("section", { class: "card" }, h("h2", { text: title }), ...children);
}

// ---------------------------------------------------------------- sign-in

function signInView() {
  document.getElementById("nav").hidden = true;
  const ak = h("input", { id: "access-key", placeholder: "access key", autocomplete: "username" });
  const sk = h("input", { id: "secret-key", type: "password", placeholder: "secret key", autocomplete: "current-password" });
  const region = h("input", { id: "region", value: "us-east-1", placeholder: "region" });
  const err = h("p", { id: "sign-in-error", class: "error", role: "alert" });
  const form = h("form", { class: "card signin", id: "sign-in-form" },
    h("h2", { text: "Sign in with access keys" }), ak, sk, region,
    h("button", { class: "primary", id: "sign-in", type: "submit", text: "Sign in" }), err);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    say(err, "Checking…", "muted");
    if (!window.isSecureContext || !crypto.subtle) {
      say(err, "This page cannot sign requests here: WebCrypto needs HTTPS, or http:// on 127.0.0.1 or localhost.", "error");
      return;
    }
    const creds = { accessKey: ak.value.trim(), secretKey: sk.value, region: region.value.trim() || "us-east-1" };
    const c = new Client(creds);
    try {
      await c.listBuckets(); // a wrong key is refused here, with the server's own error
    } catch (e) {
      say(err, "Sign-in failed: " + errText(e), "error");
      return;
    }
    sessionStorage.setItem(STORE, JSON.stringify(creds));
    start(creds);
  });
  show(form);
  ak.focus();
}

function start(creds) {
  client = new Client(creds);
  document.getElementById("nav").hidden = false;
  document.getElementById("who").textContent = creds.accessKey;
  bucketsView();
}

function signOut() {
  sessionStorage.removeItem(STORE);
  client = null;
  signInView();
}

function activate(view) {
  for (const b of document.querySelectorAll("nav button[data-view]")) b.classList.toggle("active", b.dataset.view === view);
}

// ---------------------------------------------------------------- buckets

async function bucketsView() {
  activate("buckets");
  const body = h("tbody");
  const listErr = h("p", { class: "error" });
  const name = h("input", { id: "new-bucket", placeholder: "bucket name" });
  const versioning = h("input", { type: "checkbox", id: "new-versioning" });
  const lock = h("input", { type: "checkbox", id: "new-lock" });
  const enc = h("select", { id: "new-encryption" }, h("option", { value: "", text: "no default encryption" }),
    h("option", { value: "AES256", text: "SSE-S3 (AES256)" }), h("option", { value: "aws:kms", text: "SSE-KMS" }));
  const result = h("ul", { id: "create-result" });
  const create = h("button", { class: "primary", id: "create-bucket", type: "button", text: "Create bucket" });
  create.addEventListener("click", async () => {
    await createBucket(name.value.trim(), versioning.checked, lock.checked, enc.value, result);
    loadBuckets();
  });
  show(
    card("Buckets", h("table", { id: "bucket-list" },
      h("thead", {}, h("tr", {}, h("th", { text: "Name" }), h("th", { text: "Created" }), h("th"))), body), listErr),
    card("New bucket",
      h("div", { class: "row" }, name,
        h("label", {}, versioning, " versioning"), h("label", {}, lock, " object lock"), enc, create),
      result));
  loadBuckets();

  async function loadBuckets() {
    let buckets;
    try {
      buckets = await client.listBuckets();
    } catch (e) {
      say(listErr, "ListBuckets: " + errText(e), "error");
      return;
    }
    body.replaceChildren();
    for (const b of buckets) {
      const del = h("button", { class: "danger", type: "button", text: "Delete" });
      del.addEventListener("click", async () => {
        if (!confirm(`Delete the bucket ${b.name}? It must be empty.`)) return;
        try {
          await client.deleteBucket(b.name);
          bucketsView();
        } catch (e) {
          say(listErr, `DeleteBucket ${b.name}: ${errText(e)}`, "error");
        }
      });
      body.append(h("tr", { "data-bucket": b.name },
        h("td", {}, h("a", { class: "bucket-link", text: b.name, onclick: () => objectsView(b.name, "") })),
        h("td", { text: b.created }), h("td", {}, del)));
    }
  }
}

// Each step's answer is shown as the server gave it: a later step failing (NotImplemented,
// InvalidBucketState...) leaves the bucket made, and says so.
async function createBucket(name, versioning, lock, encryption, out) {
  out.replaceChildren();
  const step = async (what, fn) => {
    const li = h("li", { text: what + ": …" });
    out.append(li);
    try {
      await fn();
      say(li, what + ": OK", "ok");
      return true;
    } catch (e) {
      say(li, what + ": " + errText(e), "error");
      return false;
    }
  };
  if (!(await step("CreateBucket " + name, () => client.createBucket(name, { objectLock: lock })))) return;
  if (versioning && !lock)
    await step("PutBucketVersioning", () => client.putConfig(name, "versioning",
      "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>"));
  if (encryption)
    await step("PutBucketEncryption " + encryption, () => client.putConfig(name, "encryption",
      "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>" + encryption +
      "</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>"));
  const list = h("a", { text: "Open " + name, onclick: () => objectsView(name, "") });
  out.append(h("li", {}, list));
}

// ---------------------------------------------------------------- objects

async function objectsView(bucket, prefix) {
  activate("buckets");
  const crumbs = h("div", { class: "row", id: "crumbs" }, h("a", { text: "Buckets", onclick: bucketsView }), " / ",
    h("a", { text: bucket, onclick: () => objectsView(bucket, "") }));
  let acc = "";
  for (const part of prefix.split("/").filter(Boolean)) {
    acc += part + "/";
    const p = acc;
    crumbs.append(" / ", h("a", { text: part, onclick: () => objectsView(bucket, p) }));
  }
  const body = h("tbody");
  const err = h("p", { id: "object-error", class: "error" });
  const more = h("button", { id: "more", type: "button", text: "More…", hidden: true });
  const preview = h("div", { id: "preview" });
  const file = h("input", { type: "file", id: "upload-file", multiple: true });
  const bar = h("progress", { id: "upload-progress", max: "100", value: "0" });
  const status = h("span", { id: "upload-status", class: "muted" });
  const go = h("button", { class: "primary", id: "upload-start", type: "button", text: "Upload" });
  const folder = h("input", { id: "new-folder", placeholder: "new folder name" });
  const pageSize = h("select", { id: "page-size" }, ...[10, 100, 1000].map((n) =>
    h("option", { value: String(n), text: n + " per page", selected: n === 100 })));
  pageSize.addEventListener("change", () => loadPage(true));
  let next = null;

  go.addEventListener("click", async () => {
    for (const f of file.files) {
      const key = prefix + f.name;
      say(status, `${key}: starting (${f.size > PART_SIZE ? "multipart, " + Math.ceil(f.size / PART_SIZE) + " parts" : "one PUT"})`, "muted");
      bar.value = 0;
      try {
        const etag = await client.upload(bucket, key, f, (sent, all) => {
          bar.value = all ? Math.floor((100 * sent) / all) : 100;
        });
        bar.value = 100;
        say(status, `${key}: uploaded, ETag ${etag}`, "ok");
      } catch (e) {
        say(status, `${key}: ${errText(e)}`, "error");
        return;
      }
    }
    loadPage(true);
  });
  const mk = h("button", { type: "button", text: "Open folder" });
  mk.addEventListener("click", () => {
    const n = folder.value.trim().replace(/\/+$/, "");
    if (n) objectsView(bucket, prefix + n + "/"); // S3 has no folders: it appears once something is uploaded in it
  });

  async function loadPage(fresh) {
    if (fresh) {
      body.replaceChildren();
      next = null;
    }
    say(err, "");
    let page;
    try {
      page = await client.listObjects(bucket, prefix, next, Number(pageSize.value));
    } catch (e) {
      say(err, "ListObjectsV2: " + errText(e), "error");
      return;
    }
    for (const p of page.prefixes)
      body.append(h("tr", { "data-prefix": p },
        h("td", {}, h("a", { class: "prefix-link", text: p.slice(prefix.length), onclick: () => objectsView(bucket, p) })),
        h("td"), h("td"), h("td")));
    for (const o of page.objects) body.append(objectRow(bucket, o, prefix, preview, err));
    next = page.next;
    more.hidden = !next;
  }
  more.addEventListener("click", () => loadPage(false));

  show(
    card("Objects", crumbs,
      h("table", { id: "object-list" }, h("thead", {}, h("tr", {}, h("th", { text: "Name" }), th("Size"),
        h("th", { text: "Last modified" }), h("th"))), body), h("div", { class: "row" }, more, pageSize), err),
    card("Upload", h("div", { class: "row" }, file, go, bar, status),
      h("div", { class: "row" }, folder, mk),
      h("p", { class: "muted", text: `Files above ${bytes(PART_SIZE)} go up in parts (multipart upload).` })),
    card("Preview", preview),
    settingsCard(bucket));
  loadPage(true);
}

function objectRow(bucket, o, prefix, preview, err) {
  const dl = h("button", { class: "download", type: "button", text: "Download" });
  const pv = h("button", { class: "preview", type: "button", text: "Preview" });
  const del = h("button", { class: "delete danger", type: "button", text: "Delete" });
  const row = h("tr", { "data-key": o.key },
    h("td", { text: o.key.slice(prefix.length) }), h("td", { class: "num", text: bytes(o.size) }),
    h("td", { text: o.modified }), h("td", {}, dl, " ", pv, " ", del));
  dl.addEventListener("click", async () => {
    // a presigned link rather than a Blob: nothing of the object is held in the page
    const a = h("a", { href: await client.downloadUrl(bucket, o.key), download: o.key.split("/").pop() });
    document.body.append(a);
    a.click();
    a.remove();
  });
  pv.addEventListener("click", () => showPreview(bucket, o, preview));
  del.addEventListener("click", async () => {
    if (!confirm(`Delete ${o.key}?`)) return;
    try {
      await client.deleteObject(bucket, o.key);
      row.remove();
    } catch (e) {
      say(err, "DeleteObject: " + errText(e), "error");
    }
  });
  return row;
}

const TEXT_PREVIEW = 256 * 1024;

async function showPreview(bucket, o, target) {
  target.replaceChildren(h("p", { class: "muted", text: "Loading " + o.key + "…" }));
  try {
    const image = /\.(png|jpe?g|gif|webp|svg|bmp)$/i.test(o.key);
    const blob = await client.getObject(bucket, o.key, image ? null : `bytes=0-${TEXT_PREVIEW - 1}`);
    if (image || blob.type.startsWith("image/")) {
      const url = URL.createObjectURL(blob);
      const img = h("img", { class: "preview", alt: o.key, src: url });
      img.addEventListener("load", () => URL.revokeObjectURL(url));
      target.replaceChildren(h("h3", { text: o.key }), img);
      return;
    }
    const text = await blob.text();
    const cut = o.size > TEXT_PREVIEW ? `\n… (${bytes(o.size - TEXT_PREVIEW)} more)` : "";
    target.replaceChildren(h("h3", { text: o.key }), h("pre", { class: "preview", id: "preview-text", text: text + cut }));
  } catch (e) {
    target.replaceChildren(h("p", { class: "error", text: "GetObject: " + errText(e) }));
  }
}

// ---------------------------------------------------------------- bucket settings

const SETTINGS = [
  ["policy", "Policy (JSON)", "application/json", '{\n  "Version": "2012-10-17",\n  "Statement": []\n}'],
  ["lifecycle", "Lifecycle (XML)", "application/xml",
    "<LifecycleConfiguration>\n  <Rule>\n    <ID>expire-tmp</ID>\n    <Filter><Prefix>tmp/</Prefix></Filter>\n" +
    "    <Status>Enabled</Status>\n    <Expiration><Days>7</Days></Expiration>\n  </Rule>\n</LifecycleConfiguration>"],
  ["cors", "CORS (XML)", "application/xml",
    "<CORSConfiguration>\n  <CORSRule>\n    <AllowedOrigin>https://app.example</AllowedOrigin>\n" +
    "    <AllowedMethod>GET</AllowedMethod>\n  </CORSRule>\n</CORSConfiguration>"],
  ["tagging", "Tags (XML)", "application/xml",
    "<Tagging>\n  <TagSet>\n    <Tag><Key>team</Key><Value>ops</Value></Tag>\n  </TagSet>\n</Tagging>"],
  ["versioning", "Versioning (XML)", "application/xml",
    "<VersioningConfiguration>\n  <Status>Enabled</Status>\n</VersioningConfiguration>"],
  ["encryption", "Default encryption (XML)", "application/xml",
    "<ServerSideEncryptionConfiguration>\n  <Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256" +
    "</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule>\n</ServerSideEncryptionConfiguration>"],
  ["object-lock", "Object lock (XML)", "application/xml",
    "<ObjectLockConfiguration>\n  <ObjectLockEnabled>Enabled</ObjectLockEnabled>\n</ObjectLockConfiguration>"],
];

function settingsCard(bucket) {
  const text = h("textarea", { id: "config-text", spellcheck: "false" });
  const result = h("p", { id: "config-result" });
  const tabs = h("div", { class: "row tabs" });
  let current = SETTINGS[0];
  async function load(s) {
    current = s;
    for (const b of tabs.children) b.classList.toggle("active", b.dataset.sub === s[0]);
    say(result, "Loading…", "muted");
    try {
      text.value = await client.getConfig(bucket, s[0]);
      say(result, `${s[1]}: as stored`, "ok");
    } catch (e) {
      text.value = s[3];
      say(result, `${s[1]}: ${errText(e)} — an example is in the box`, e.status === 404 ? "muted" : "error");
    }
  }
  for (const s of SETTINGS)
    tabs.append(h("button", { type: "button", "data-sub": s[0], text: s[1].replace(/ \(.*/, ""), onclick: () => load(s) }));
  const save = h("button", { class: "primary", id: "config-save", type: "button", text: "Save" });
  save.addEventListener("click", async () => {
    say(result, "Saving…", "muted");
    try {
      await client.putConfig(bucket, current[0], text.value, current[2]);
      say(result, `${current[1]}: saved`, "ok");
    } catch (e) {
      say(result, `${current[1]}: ${errText(e)}`, "error"); // the server's validation error, as it came
    }
  });
  const del = h("button", { class: "danger", id: "config-delete", type: "button", text: "Delete" });
  del.addEventListener("click", async () => {
    try {
      await client.deleteConfig(bucket, current[0]);
      say(result, `${current[1]}: deleted`, "ok");
    } catch (e) {
      say(result, `${current[1]}: ${errText(e)}`, "error");
    }
  });
  const c = card("Bucket settings: " + bucket, tabs, text, h("div", { class: "row" }, save, del), result);
  load(SETTINGS[0]);
  return c;
}

// ---------------------------------------------------------------- users, keys, policies (IAM API)

async function usersView() {
  activate("users");
  const body = h("tbody");
  const result = h("p", { id: "users-result" });
  const name = h("input", { id: "new-user", placeholder: "user name" });
  const add = h("button", { class: "primary", id: "create-user", type: "button", text: "Create user" });
  const detail = h("div", { id: "user-detail" });
  add.addEventListener("click", async () => {
    try {
      await client.iam("CreateUser", { UserName: name.value.trim() });
      say(result, "CreateUser: OK", "ok");
      usersView();
    } catch (e) {
      say(result, "CreateUser: " + errText(e), "error");
    }
  });
  show(card("Users", h("table", { id: "user-list" }, h("thead", {}, h("tr", {}, h("th", { text: "User" }),
    h("th", { text: "Created" }), h("th"))), body), h("div", { class: "row" }, name, add), result), detail);
  try {
    const doc = await client.iam("ListUsers");
    for (const u of doc.getElementsByTagName("member")) {
      const user = childText(u, "UserName");
      const del = h("button", { class: "danger", type: "button", text: "Delete" });
      del.addEventListener("click", async () => {
        if (!confirm(`Delete the user ${user}?`)) return;
        try {
          await client.iam("DeleteUser", { UserName: user });
          usersView();
        } catch (e) {
          say(result, "DeleteUser: " + errText(e), "error");
        }
      });
      body.append(h("tr", { "data-user": user }, h("td", {}, h("a", { text: user, onclick: () => userDetail(user, detail) })),
        h("td", { text: childText(u, "CreateDate") }), h("td", {}, del)));
    }
  } catch (e) {
    say(result, "ListUsers: " + errText(e), "error");
  }
}

async function userDetail(user, target) {
  const keys = h("tbody");
  const result = h("p", { id: "keys-result" });
  const pname = h("input", { id: "policy-name", placeholder: "policy name" });
  const ptext = h("textarea", { id: "policy-text", spellcheck: "false" });
  ptext.value = '{\n  "Version": "2012-10-17",\n  "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]\n}';
  const policies = h("div", { class: "row" });
  const newKey = h("button", { type: "button", id: "create-key", text: "Create access key" });
  newKey.addEventListener("click", async () => {
    try {
      const doc = await client.iam("CreateAccessKey", { UserName: user });
      say(result, `New key ${childText(doc, "AccessKeyId")}, secret ${childText(doc, "SecretAccessKey")} — shown once, keep it now`, "ok");
      loadKeys();
    } catch (e) {
      say(result, "CreateAccessKey: " + errText(e), "error");
    }
  });
  const putPolicy = h("button", { type: "button", class: "primary", text: "Save policy" });
  putPolicy.addEventListener("click", async () => {
    try {
      await client.iam("PutUserPolicy", { UserName: user, PolicyName: pname.value.trim(), PolicyDocument: ptext.value });
      say(result, "PutUserPolicy: OK", "ok");
      loadPolicies();
    } catch (e) {
      say(result, "PutUserPolicy: " + errText(e), "error");
    }
  });
  async function loadKeys() {
    keys.replaceChildren();
    try {
      const doc = await client.iam("ListAccessKeys", { UserName: user });
      for (const k of doc.getElementsByTagName("member")) {
        const id = childText(k, "AccessKeyId");
        const active = childText(k, "Status") === "Active";
        const flip = h("button", { type: "button", text: active ? "Disable" : "Enable" });
        flip.addEventListener("click", () => keyCall("UpdateAccessKey", { UserName: user, AccessKeyId: id, Status: active ? "Inactive" : "Active" }));
        const del = h("button", { type: "button", class: "danger", text: "Delete" });
        del.addEventListener("click", () => keyCall("DeleteAccessKey", { UserName: user, AccessKeyId: id }));
        keys.append(h("tr", {}, h("td", { text: id }), h("td", { text: childText(k, "Status") }), h("td", {}, flip, " ", del)));
      }
    } catch (e) {
      say(result, "ListAccessKeys: " + errText(e), "error");
    }
  }
  async function keyCall(action, params) {
    try {
      await client.iam(action, params);
      say(result, action + ": OK", "ok");
      loadKeys();
    } catch (e) {
      say(result, action + ": " + errText(e), "error");
    }
  }
  async function loadPolicies() {
    policies.replaceChildren("Inline policies: ");
    try {
      const doc = await client.iam("ListUserPolicies", { UserName: user });
      for (const m of doc.getElementsByTagName("member")) {
        const p = m.textContent;
        policies.append(h("a", { text: p, onclick: async () => {
          try {
            const d = await client.iam("GetUserPolicy", { UserName: user, PolicyName: p });
            pname.value = p;
            ptext.value = decodeURIComponent(childText(d, "PolicyDocument"));
          } catch (e) {
            say(result, "GetUserPolicy: " + errText(e), "error");
          }
        } }), " ");
      }
    } catch (e) {
      say(result, "ListUserPolicies: " + errText(e), "error");
    }
  }
  target.replaceChildren(card("User " + user,
    h("h3", { text: "Access keys" }), h("table", {}, keys), h("div", { class: "row" }, newKey),
    h("h3", { text: "Policies" }), policies, h("div", { class: "row" }, pname, putPolicy), ptext, result));
  loadKeys();
  loadPolicies();
}

// ---------------------------------------------------------------- cluster status

async function clusterView() {
  activate("cluster");
  const err = h("p", { id: "cluster-error", class: "error" });
  const summary = h("p", { id: "cluster-summary" });
  const drives = h("tbody");
  const sets = h("tbody");
  const heal = h("p", { id: "heal-status" });
  const healBtn = h("button", { type: "button", id: "heal-start", text: "Start a full heal" });
  healBtn.addEventListener("click", async () => {
    try {
      followHeal(heal, await client.adminJson("POST", "heal"));
    } catch (e) {
      say(heal, "Heal: " + errText(e), "error");
    }
  });
  show(card("Cluster", summary, err),
    card("Nodes and drives", h("table", { id: "cluster-drives" }, h("thead", {}, h("tr", {},
      ...["Node", "Drive", "State", "Set", "Slot", "Free", "Detail"].map(th))), drives)),
    card("Erasure sets", h("table", { id: "cluster-sets" }, h("thead", {}, h("tr", {},
      ...["Set", "k+m", "Drives up", "Write quorum", "Readable", "Writable"].map(th))), sets)),
    card("Healing", heal, healBtn));
  let status;
  let free = {};
  try {
    status = await client.adminJson("GET", "status");
  } catch (e) {
    say(err, "Cluster status (root keys only): " + errText(e), "error");
    return;
  }
  try {
    for (const s of parseMetrics(await client.admin("GET", "metrics")))
      if (s.name === "yc_drive_free_bytes") free[s.labels.drive] = s.value;
  } catch (e) {
    free = {};
  }
  const freeTotal = Object.values(free).reduce((a, b) => a + b, 0);
  say(summary, `${status.drivesOk} of ${status.drives} drives up, ${status.nodes.length} node(s), ` +
    `${status.sets.length} erasure set(s); free space ${bytes(freeTotal)} (raw, before erasure coding)`);
  for (const n of status.nodes)
    for (const d of n.drives) {
      const f = free[d.drive] ?? free[d.name];
      drives.append(h("tr", { class: "drive-row", "data-drive": d.drive },
        h("td", { text: n.node }), h("td", { text: d.drive }),
        h("td", { class: d.state === "ok" ? "state-ok" : "state-bad", text: d.state }),
        h("td", { class: "num", text: String(d.set) }), h("td", { class: "num", text: String(d.slot) }),
        h("td", { class: "num", text: f === undefined ? "—" : bytes(f) }), h("td", { text: d.detail })));
    }
  for (const s of status.sets)
    sets.append(h("tr", {}, h("td", { text: String(s.index) }), h("td", { text: `${s.k}+${s.m}` }),
      h("td", { class: "num", text: String(s.drivesOk) }), h("td", { class: "num", text: String(s.writeQuorum) }),
      h("td", { text: s.readable ? "yes" : "NO" }), h("td", { text: s.writable ? "yes" : "NO" })));
  try {
    followHeal(heal, await client.adminJson("GET", "heal"));
  } catch (e) {
    say(heal, "Heal: " + errText(e), "error");
  }
}

// While a heal runs its progress is asked again every 2 s (until the view is left).
function followHeal(target, st) {
  showHeal(target, st);
  if (!st.running || timer) return;
  timer = setInterval(async () => {
    if (!target.isConnected) return;
    try {
      const now = await client.adminJson("GET", "heal");
      showHeal(target, now);
      if (!now.running) {
        clearInterval(timer);
        timer = null;
      }
    } catch (e) {
      say(target, "Heal: " + errText(e), "error");
    }
  }, 2000);
}

function showHeal(target, st) {
  const when = st.startedNs ? ` since ${new Date(st.startedNs / 1e6).toISOString()}` : "";
  say(target, `${st.running ? "Running" + when : "Idle"}: scanned ${st.scanned}, repaired ${st.repaired}, ` +
    `failed ${st.failed}, queued ${st.queued}, deferred ${st.deferred}`);
}

// ---------------------------------------------------------------- metrics

function metricsView() {
  activate("metrics");
  const charts = h("div", { class: "charts", id: "charts" });
  const err = h("p", { class: "error" });
  show(card("Requests (polled every 2 s from the gateway's metrics)", charts, err));
  const rate = [];
  const latency = [];
  const errors = [];
  const traffic = [];
  let prev = null;
  async function poll() {
    let samples;
    try {
      samples = parseMetrics(await client.admin("GET", "metrics"));
    } catch (e) {
      say(err, "Metrics (root keys only): " + errText(e), "error");
      return;
    }
    const now = { t: Date.now(), n: total(samples, "yc_requests_total"),
      sum: total(samples, "yc_request_duration_seconds_sum"), count: total(samples, "yc_request_duration_seconds_count"),
      errors: samples.filter((x) => x.name === "yc_requests_total" && Number(x.labels.code) >= 500)
        .reduce((a, x) => a + x.value, 0),
      bytes: total(samples, "yc_request_received_bytes_total") + total(samples, "yc_request_sent_bytes_total") };
    if (prev) {
      const dt = (now.t - prev.t) / 1000;
      const dn = now.count - prev.count;
      rate.push({ t: now.t, v: Math.max(0, (now.n - prev.n) / dt) });
      latency.push({ t: now.t, v: dn > 0 ? (1000 * (now.sum - prev.sum)) / dn : 0 });
      errors.push({ t: now.t, v: Math.max(0, (now.errors - prev.errors) / dt) });
      traffic.push({ t: now.t, v: Math.max(0, (now.bytes - prev.bytes) / dt / 1048576) });
      for (const series of [rate, latency, errors, traffic]) if (series.length > 90) series.shift();
    }
    prev = now;
    charts.replaceChildren(lineChart("Requests", "req/s", rate), lineChart("Mean latency", "ms", latency),
      lineChart("Server errors (5xx)", "req/s", errors), lineChart("Body bytes in + out", "MiB/s", traffic));
  }
  // a first line after one second, then one point every two seconds
  poll().then(() => setTimeout(() => {
    if (charts.isConnected) poll().then(() => { if (charts.isConnected) timer = setInterval(poll, 2000); });
  }, 1000));
}

// ---------------------------------------------------------------- start

const VIEWS = { buckets: bucketsView, users: usersView, cluster: clusterView, metrics: metricsView };
for (const b of document.querySelectorAll("nav button[data-view]")) b.addEventListener("click", () => VIEWS[b.dataset.view]());
document.getElementById("sign-out").addEventListener("click", signOut);

const saved = sessionStorage.getItem(STORE);
if (saved) start(JSON.parse(saved));
else signInView();
