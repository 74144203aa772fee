// charts.js — reads the Prometheus text of /_admin/v1/metrics and draws line charts in SVG.

const SVG = "http://www.w3.org/2000/svg";

// Parses the exposition format into [{name, labels, value}] (comments and blank lines skipped).
export function parseMetrics(text) {
  const out = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const l of (m[3] || "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

// The sum of every series of a metric (all its label sets).
export function total(samples, name) {
  return samples.filter((s) => s.name === name).reduce((a, s) => a + s.value, 0);
}

function el(name, attrs) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

function fmt(v) {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

// A line chart of points [{t, v}] (t in ms) with its title and unit; a new SVG element each call.
export function lineChart(title, unit, points, width = 520, height = 180) {
  const pad = { l: 48, r: 10, t: 22, b: 20 };
  const svg = el("svg", { class: "chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img" });
  const label = el("text", { x: pad.l, y: 14 });
  const last = points.length ? points[points.length - 1].v : 0;
  label.textContent = `${title}: ${fmt(last)} ${unit}`;
  svg.appendChild(label);
  const w = width - pad.l - pad.r;
  const h = height - pad.t - pad.b;
  const top = Math.max(0, ...points.map((p) => p.v));
  const max = top > 0 ? top * 1.1 : 1; // a flat zero line still gets a readable scale
  for (let i = 0; i <= 4; i++) {
    const y = pad.t + (h * i) / 4;
    svg.appendChild(el("line", { x1: pad.l, x2: pad.l + w, y1: y, y2: y }));
    const t = el("text", { x: 4, y: y + 4 });
    t.textContent = fmt((max * (4 - i)) / 4);
    svg.appendChild(t);
  }
  if (points.length > 1) {
    const t0 = points[0].t;
    const span = Math.max(1, points[points.length - 1].t - t0);
    const pts = points.map((p) => `${(pad.l + (w * (p.t - t0)) / span).toFixed(1)},${(pad.t + h - (h * p.v) / max).toFixed(1)}`);
    svg.appendChild(el("polyline", { points: pts.join(" ") }));
    const foot = el("text", { x: pad.l, y: height - 4 });
    foot.textContent = `last ${Math.round(span / 1000)} s`;
    svg.appendChild(foot);
  }
  return svg;
}
