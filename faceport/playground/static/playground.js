// The faceport playground: plain browser JavaScript, no build step, no CDN.
// It calls the API of the server it came from with the key kept in sessionStorage.
"use strict";

const KEY_STORAGE = "faceport-api-key";
const TERMINAL = new Set(["succeeded", "failed", "canceled"]);
const $ = (id) => document.getElementById(id);

const state = { source: null, target: null, targetUrl: null, faces: [], chosen: 0 };

function apiKey() {
  return sessionStorage.getItem(KEY_STORAGE) || "";
}

// One request to the API; an error answer becomes an Error whose message is readable.
async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${apiKey()}` };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    if (method === "POST" && path !== "/v1/face-detect") headers["Idempotency-Key"] = crypto.randomUUID();
  }
  const reply = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await reply.json().catch(() => null);
  if (!reply.ok) {
    const error = (data && data.error) || { code: `http_${reply.status}`, message: reply.statusText };
    throw new Error(`${error.code}: ${error.message}`);
  }
  return data;
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

function mode() {
  return document.querySelector("input[name=mode]:checked").value;
}

function readAsDataUrl(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

async function useKey(event) {
  event.preventDefault();
  const key = $("api-key").value.trim();
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  $("api-key").value = "";
  await showAccount();
  refreshTasks();
}

async function showAccount() {
  if (!apiKey()) {
    $("account").textContent = "enter a key (faceport serve --dev prints one)";
    return;
  }
  try {
    const account = await api("GET", "/v1/account");
    $("account").textContent = `${account.name}: ${account.available} credits available`;
    showError("");
  } catch (error) {
    $("account").textContent = "";
    showError(error.message);
  }
  updateRun();
}

async function pickSource(file) {
  if (!file) return;
  state.source = await readAsDataUrl(file);
  const preview = $("source-preview");
  preview.src = state.source;
  preview.hidden = false;
  updateRun();
}

async function pickTarget(file) {
  if (!file) return;
  showError("");
  state.target = await readAsDataUrl(file);
  state.faces = [];
  state.chosen = 0;
  $("faces").replaceChildren();
  if (mode() === "video") {
    const video = $("target-video");
    if (state.targetUrl) URL.revokeObjectURL(state.targetUrl);
    state.targetUrl = URL.createObjectURL(file);
    video.src = state.targetUrl;
    video.hidden = false;
    $("target-stage").hidden = true;
    $("face-status").textContent = "the largest face of the first frame with faces is followed";
    updateRun();
    return;
  }
  $("target-video").hidden = true;
  $("target-preview").src = state.target;
  $("target-stage").hidden = false;
  await detectFaces();
  updateRun();
}

// The faces of the target, from /v1/face-detect, as buttons over the picture.
async function detectFaces() {
  $("face-status").textContent = "looking for faces...";
  try {
    const task = await api("POST", "/v1/face-detect", { image: { base64: state.target } });
    if (task.status !== "succeeded") throw new Error(`${task.error.code}: ${task.error.message}`);
    state.faces = task.result.faces;
  } catch (error) {
    $("face-status").textContent = "";
    showError(error.message);
    return;
  }
  const image = $("target-preview");
  await image.decode().catch(() => undefined);
  const layer = $("faces");
  layer.replaceChildren();
  for (const face of state.faces) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "face";
    button.dataset.index = String(face.index);
    button.title = `face ${face.index}`;
    button.style.left = `${(100 * face.box.x) / image.naturalWidth}%`;
    button.style.top = `${(100 * face.box.y) / image.naturalHeight}%`;
    button.style.width = `${(100 * face.box.width) / image.naturalWidth}%`;
    button.style.height = `${(100 * face.box.height) / image.naturalHeight}%`;
    const label = document.createElement("span");
    label.textContent = String(face.index);
    button.append(label);
    button.addEventListener("click", () => chooseFace(face.index));
    layer.append(button);
  }
  chooseFace(0);
}

function chooseFace(index) {
  state.chosen = index;
  for (const button of document.querySelectorAll(".face")) {
    button.classList.toggle("chosen", Number(button.dataset.index) === index);
  }
  const count = state.faces.length;
  $("face-status").textContent = count
    ? `face ${index} of ${count} chosen${count > 1 ? " (click another to change)" : ""}`
    : "no face found in the target";
}

function updateRun() {
  const ready = apiKey() && state.source && state.target && (mode() === "video" || state.faces.length);
  $("run").disabled = !ready;
}

function requestFor(currentMode) {
  const source = { base64: state.source };
  if (currentMode === "video") return ["/v1/video-face-swap", { source, video: { base64: state.target } }];
  const target = { base64: state.target };
  if (currentMode === "fusion") {
    return ["/v1/face-fusion", { source, target, similarity: Number($("similarity").value) }];
  }
  return ["/v1/face-swap", { source, target, target_index: state.chosen }];
}

async function run() {
  showError("");
  const currentMode = mode();
  const [path, body] = requestFor(currentMode);
  $("run").disabled = true;
  $("run").textContent = "Running...";
  try {
    let task = await api("POST", path, body);
    refreshTasks();
    while (!TERMINAL.has(task.status)) {
      await new Promise((resolve) => setTimeout(resolve, 400));
      task = await api("GET", `/v1/tasks/${task.id}`);
      $("run").textContent = `Running... ${task.progress}%`;
    }
    if (task.status !== "succeeded") {
      const error = task.error || { code: task.status, message: "The task did not finish." };
      throw new Error(`${error.code}: ${error.message}`);
    }
    showResult(task, currentMode);
  } catch (error) {
    showError(error.message);
  } finally {
    $("run").textContent = "Run";
    updateRun();
    refreshTasks();
  }
}

function showResult(task, currentMode) {
  const isVideo = currentMode === "video";
  const before = document.createElement(isVideo ? "video" : "img");
  const after = document.createElement(isVideo ? "video" : "img");
  before.src = isVideo ? state.targetUrl : state.target;
  after.src = task.result.url;
  if (isVideo) {
    before.controls = after.controls = true;
    before.muted = after.muted = true;
  } else {
    before.alt = "before";
    after.alt = "after";
  }
  after.id = "result";
  $("before").replaceChildren(before);
  $("after").replaceChildren(after);
  const link = $("download");
  link.href = task.result.url;
  link.download = `${task.id}.${(task.result.content_type || "image/png").split("/")[1].replace("jpeg", "jpg")}`;
  $("compare").hidden = false;
}

// The newest tasks, refreshed while any is unfinished.
let refreshTimer = null;
async function refreshTasks() {
  clearTimeout(refreshTimer);
  if (!apiKey()) return;
  let page;
  try {
    page = await api("GET", "/v1/tasks?limit=10");
  } catch {
    return;
  }
  const rows = page.data.map((task) => {
    const row = document.createElement("tr");
    row.dataset.id = task.id;
    const cells = [task.id, task.operation, task.status, null, new Date(task.created_at).toLocaleTimeString()];
    cells.forEach((text, column) => {
      const cell = document.createElement("td");
      if (column === 3) {
        const bar = document.createElement("progress");
        bar.max = 100;
        bar.value = task.progress;
        cell.append(bar, ` ${task.progress}%`);
      } else {
        cell.textContent = text;
      }
      if (column === 0) cell.className = "id";
      if (column === 2) cell.className = task.status;
      row.append(cell);
    });
    return row;
  });
  document.querySelector("#tasks tbody").replaceChildren(...rows);
  const busy = page.data.some((task) => !TERMINAL.has(task.status));
  refreshTimer = setTimeout(refreshTasks, busy ? 700 : 3000);
}

function dropZone(zone, input, pick) {
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    pick(event.dataTransfer.files[0]);
  });
  input.addEventListener("change", () => pick(input.files[0]));
}

function onModeChange() {
  const currentMode = mode();
  $("similarity-row").hidden = currentMode !== "fusion";
  const input = $("target-file");
  input.accept = currentMode === "video" ? "video/mp4,video/quicktime,video/webm,video/x-msvideo" : "image/jpeg,image/png,image/webp";
  $("target-hint").textContent = currentMode === "video" ? "(drop or pick a video)" : "(drop or pick an image; then click a face)";
  state.target = null;
  state.faces = [];
  input.value = "";
  $("target-stage").hidden = true;
  $("target-video").hidden = true;
  $("face-status").textContent = "";
  updateRun();
}

document.addEventListener("DOMContentLoaded", () => {
  $("key-form").addEventListener("submit", useKey);
  dropZone($("source-drop"), $("source-file"), pickSource);
  dropZone($("target-drop"), $("target-file"), pickTarget);
  for (const radio of document.querySelectorAll("input[name=mode]")) radio.addEventListener("change", onModeChange);
  $("similarity").addEventListener("input", () => {
    $("similarity-value").textContent = Number($("similarity").value).toFixed(2);
  });
  $("run").addEventListener("click", run);
  showAccount();
  refreshTasks();
});
