// The mellea playground: chat with the served program, and watch it work.
// It posts the conversation to /playground/chat, which answers with one JSON event per
// line (see mellea/serve/_answer.py): "attempt", "attempt_delta", "attempt_end",
// "validation", "answer_delta", "done", "error". Text is only ever set with
// textContent: nothing the model writes is interpreted as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const history = [];
let model = "mellea";
let running = null; // the AbortController of the answer in progress

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

function scrollDown() {
  const log = $("log");
  log.scrollTop = log.scrollHeight;
}

async function loadProgram() {
  try {
    const res = await fetch("/v1/models");
    const body = await res.json();
    model = body.data[0].id;
    $("program").textContent = "program: " + model;
  } catch (err) {
    $("program").textContent = "server unreachable";
  }
}

// One assistant turn on the page: its attempts, its answer, its figures.
class Turn {
  constructor() {
    this.root = el("section", "turn assistant");
    this.attemptsBox = el("div", "attempts");
    this.answer = el("div", "answer");
    this.meta = el("div", "meta muted", "waiting for the program…");
    this.root.append(this.attemptsBox, this.answer, this.meta);
    this.attempts = new Map();
    this.text = "";
    $("log").append(this.root);
  }

  attempt(index) {
    let card = this.attempts.get(index);
    if (!card) {
      card = el("div", "attempt");
      card.dataset.index = String(index);
      card.dataset.state = "streaming";
      card.title_ = el("div", "title", `Attempt ${index + 1} · generating…`);
      card.repair = el("div", "repair");
      card.repair.hidden = true;
      card.text = el("div", "text");
      card.append(card.title_, card.repair, card.text);
      this.attemptsBox.append(card);
      this.attempts.set(index, card);
    }
    return card;
  }

  handle(event) {
    switch (event.type) {
      case "start":
        this.meta.textContent = "generating…";
        break;
      case "attempt":
        this.attempt(event.index);
        break;
      case "attempt_delta": {
        const card = this.attempt(event.index);
        card.text.textContent += event.text;
        card.dataset.deltas = String(Number(card.dataset.deltas || 0) + 1);
        break;
      }
      case "attempt_end": {
        const card = this.attempt(event.index);
        card.dataset.state = event.status;
        const what = event.status === "done" ? "validating…" : event.status;
        card.title_.textContent = `Attempt ${event.index + 1} · ${what}`;
        if (event.error) card.title_.textContent += ` (${event.error})`;
        break;
      }
      case "validation":
        this.validation(event);
        break;
      case "answer_delta":
        this.text += event.text;
        this.answer.textContent = this.text;
        break;
      case "done":
        this.done(event);
        break;
      case "error":
        this.fail(`${event.status}: ${event.error.message}`);
        break;
    }
    scrollDown();
  }

  validation(event) {
    const card = this.attempt(event.index);
    card.dataset.state = event.passed ? "passed" : "failed";
    card.title_.textContent =
      `Attempt ${event.index + 1} · ${event.passed ? "passed" : "failed"} validation`;
    if (event.repair) {
      card.repair.hidden = false;
      card.repair.textContent = "Repair given: " + event.repair;
    }
    const list = el("ul", "validation");
    for (const r of event.results) {
      const item = el("li", r.passed ? "pass" : "fail", r.requirement);
      if (r.reason) item.append(el("span", "reason", ` — ${r.reason}`));
      list.append(item);
    }
    if (!event.results.length) list.append(el("li", "pass", "no requirements to check"));
    card.append(list);
  }

  done(event) {
    if (!this.text && event.answer) this.answer.textContent = this.text = event.answer;
    if (event.tool_calls && event.tool_calls.length) {
      const calls = event.tool_calls.map((c) => `${c.function.name}(${c.function.arguments})`);
      this.answer.textContent = this.text + (this.text ? "\n" : "") + "tool calls: " + calls.join(", ");
    }
    if (event.selected !== null && event.selected !== undefined) {
      const card = this.attempts.get(event.selected);
      if (card) {
        card.classList.add("selected");
        card.title_.textContent += " · selected";
      }
    }
    this.root.dataset.state = "done";
    const parts = [];
    if (event.success === true) parts.push("requirements met");
    if (event.success === false) parts.push("no attempt met every requirement");
    if (event.attempts) parts.push(`${event.attempts} attempt${event.attempts > 1 ? "s" : ""}`);
    const u = event.usage;
    if (u) parts.push(`tokens: ${u.prompt_tokens} in, ${u.completion_tokens} out, ${u.total_tokens} total`);
    if (event.first_token_ms !== null) parts.push(`first token ${Math.round(event.first_token_ms)} ms`);
    parts.push(`total ${Math.round(event.elapsed_ms)} ms`);
    parts.push(`finish: ${event.finish_reason}`);
    this.meta.textContent = parts.join(" · ");
  }

  fail(message) {
    this.root.dataset.state = "error";
    this.answer.classList.add("error");
    this.answer.textContent = (this.text ? this.text + "\n" : "") + message;
    this.meta.textContent = "failed";
  }
}

async function send(content, requirements) {
  history.push({ role: "user", content });
  $("log").append(el("div", "turn user", content));
  const turn = new Turn();
  scrollDown();
  running = new AbortController();
  setBusy(true);
  const body = { model, messages: history, stream: true };
  if (requirements.length) body.requirements = requirements;
  try {
    const res = await fetch("/playground/chat", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: running.signal,
    });
    if (!res.ok) {
      const err = await res.json().catch(() => ({ error: { message: res.statusText } }));
      turn.fail(`${res.status}: ${err.error.message}`);
      return;
    }
    await readEvents(res.body, (event) => turn.handle(event));
    if (turn.root.dataset.state === "done") history.push({ role: "assistant", content: turn.text });
  } catch (err) {
    turn.fail(err.name === "AbortError" ? "stopped" : String(err));
  } finally {
    running = null;
    setBusy(false);
  }
}

// Newline-delimited JSON: split the byte stream on "\n", parse each complete line.
async function readEvents(stream, onEvent) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line.trim()) onEvent(JSON.parse(line));
    }
  }
}

function setBusy(busy) {
  $("send").disabled = busy;
  $("stop").disabled = !busy;
  $("status").textContent = busy ? "generating…" : "";
}

function submit(event) {
  event.preventDefault();
  const content = $("prompt").value.trim();
  if (!content || running) return;
  const requirements = $("requirements").value.split("\n").map((s) => s.trim()).filter(Boolean);
  $("prompt").value = "";
  send(content, requirements);
}

document.addEventListener("DOMContentLoaded", () => {
  loadProgram();
  $("composer").addEventListener("submit", submit);
  $("prompt").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) submit(event);
  });
  $("stop").addEventListener("click", () => running && running.abort());
  $("reset").addEventListener("click", () => {
    if (running) running.abort();
    history.length = 0;
    for (const node of [...$("log").querySelectorAll(".turn")]) node.remove();
  });
});
