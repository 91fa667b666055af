/**
 * The replay report: one self-contained HTML file (inline CSS, inline SVG, inline script, the data as JSON in
 * the page — nothing fetched) that shows what the seed document's figure 1 shows, drawn from the actual run:
 * the path diagram of the scenario with per-stage frame counts on its edges and the MetalLB owner marked, drops by
 * reason, the backend distribution per node, verdicts, a timeline with events, and a searchable table of frames
 * where a click shows that frame's stages.
 */
import { countText } from './number-text.js';
import type { ReplaySummary, TraceLine } from './outputs.js';

/** The scenario as the diagram draws it. */
export interface ReportTopology {
  vlan: number;
  subnet: string;
  client: { ip: string; mac: string };
  nodes: Array<{ name: string; nic: string; mac: string; pods: Array<{ name: string; ip: string; ready: boolean }>; down?: boolean }>;
  services: Array<{ name: string; ingress: string[]; owners: Record<string, string[]> }>;
}

/** What {@link renderReport} draws. */
export interface ReportInput {
  title?: string;
  /** Shown in the header (an ISO date); default: none, so reports are reproducible. */
  generatedAt?: string;
  /** The capture's name, for the header. */
  capture?: string;
  topology: ReportTopology;
  summary: ReplaySummary;
  traces: TraceLine[];
  /**
   * The trace lines as already-serialised JSON, for reports too large to hold as objects (the replay spills
   * them to a temporary file): used instead of `traces` when given.
   */
  streamedTraces?: StreamedTraces;
}

/** Trace lines the report embeds without holding them: what the page needs of them, and their JSON. */
export interface StreamedTraces {
  /** Lines of input frames (index > 0). */
  frames: number;
  /** Simulated times of the injected frames among them (index > 0, not skipped), for the timeline. */
  injectedTimes: number[];
  /** Writes the lines as `scriptJson(line)` texts joined by commas (the inside of the JSON array). */
  writeJson(write: (text: string) => void): void;
}

/** What the page needs from the trace lines, whichever way they come. */
function traceFacts(input: ReportInput): StreamedTraces {
  if (input.streamedTraces) return input.streamedTraces;
  const traces = input.traces;
  return {
    frames: traces.filter((l) => l.index > 0).length,
    injectedTimes: traces.filter((t) => t.index > 0 && t.verdict !== 'skipped').map((t) => t.time),
    writeJson: (write) => traces.forEach((line, i) => write(i ? `,${scriptJson(line)}` : scriptJson(line))),
  };
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON that is safe inside a `<script>` element: no `</script>`, no `<!--`, no line separators that end it. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const fmt = countText;

/** The stages of one node's lane, left to right, with the place names the replay uses. */
function lane(node: ReportTopology['nodes'][number], subnet: string, vlan: number): Array<{ key: string; label: string; sub: string }> {
  return [
    { key: `${node.name}/${node.nic}.${vlan}`, label: `${node.nic}.${vlan}`, sub: 'VLAN interface' },
    { key: `${node.name}/br-provider`, label: 'br-provider', sub: 'OpenFlow' },
    { key: `${node.name}/${subnet}`, label: subnet, sub: 'OVN logical switch' },
    { key: `${node.name}/lb-dnat`, label: 'LB DNAT', sub: 'prefer local' },
  ];
}

/** Summary edges counted on a drawn edge: the pair itself in either direction, plus `also` (folded-in hops). */
function edgeCount(summary: ReplaySummary, pairs: Array<[string, string]>): number {
  let n = 0;
  for (const e of summary.edges) for (const [a, b] of pairs) if ((e.from === a && e.to === b) || (e.from === b && e.to === a)) n += e.frames;
  return n;
}

function diagram(t: ReportTopology, s: ReplaySummary): { svg: string; drawn: Set<string> } {
  const drawn = new Set<string>();
  const owners = new Set(t.services.flatMap((svc) => svc.ingress.flatMap((ip) => svc.owners[ip] ?? [])));
  const vipsOf = (node: string): string[] => t.services.flatMap((svc) => svc.ingress.filter((ip) => (svc.owners[ip] ?? []).includes(node)));
  const colW = 178;
  const boxW = 148;
  const boxH = 46;
  const x0 = 210;
  const podsMax = t.nodes.reduce((m, n) => Math.max(m, n.pods.length), 1);
  const laneH = Math.max(130, 30 + podsMax * 40);
  const top = 60;
  const width = x0 + 5 * colW + 20;
  const height = top + t.nodes.length * laneH + 20;
  const parts: string[] = [];
  const box = (x: number, y: number, label: string, sub: string, key: string, cls: string, count: number | undefined): void => {
    parts.push(`<g class="box ${cls}" data-stage="${escapeHtml(key)}"><rect x="${x}" y="${y}" width="${boxW}" height="${boxH}" rx="6"/><text x="${x + boxW / 2}" y="${y + 18}" class="label">${escapeHtml(label)}</text><text x="${x + boxW / 2}" y="${y + 34}" class="sub">${escapeHtml(sub)}${count !== undefined ? ` · <tspan class="count">${fmt(count)}</tspan>` : ''}</text></g>`);
  };
  const edge = (x1: number, y1: number, x2: number, y2: number, from: string, to: string, also: Array<[string, string]> = [], labelDx = 0): void => {
    const pairs: Array<[string, string]> = [[from, to], ...also];
    const n = edgeCount(s, pairs);
    for (const [a, b] of pairs) {
      drawn.add(`${a}→${b}`);
      drawn.add(`${b}→${a}`);
    }
    const mx = (x1 + x2) / 2;
    const my = (y1 + y2) / 2;
    parts.push(`<g class="edge${n ? '' : ' idle'}" data-edge="${escapeHtml(`${from}→${to}`)}" data-frames="${n}"><path d="M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}"/><text x="${mx + labelDx}" y="${labelDx ? my + 4 : my - 5}" class="count">${fmt(n)}</text></g>`);
  };
  // The client and the wire.
  const midY = top + (t.nodes.length * laneH) / 2 - boxH / 2;
  box(10, midY - 60, 'client', `${t.client.ip} · VLAN ${t.vlan}`, 'outside', 'client', undefined);
  box(10, midY + 20, 'wire', 'L2 segment (learning switch)', 'wire', 'wire', s.stages.wire);
  edge(10 + boxW / 2, midY - 60 + boxH, 10 + boxW / 2, midY + 20, 'outside', 'wire');
  const stageCount = (key: string): number => s.edges.filter((e) => e.to === key).reduce((a, e) => a + e.frames, 0);
  t.nodes.forEach((node, i) => {
    const y = top + i * laneH + 10;
    const owner = owners.has(node.name);
    parts.push(`<g class="lane${owner ? ' owner' : ''}${node.down ? ' down' : ''}" data-node="${escapeHtml(node.name)}"><rect x="${x0 - 20}" y="${y - 22}" width="${width - x0}" height="${laneH - 10}" rx="10"/><text x="${x0 - 10}" y="${y - 6}" class="node">${escapeHtml(node.name)} <tspan class="sub">${escapeHtml(node.mac)}</tspan>${node.down ? ' <tspan class="lost" data-down="true">down at the end of the run</tspan>' : ''}</text>${owner ? `<text x="${x0 + 2 * colW}" y="${y - 6}" class="badge" data-owner="${escapeHtml(node.name)}">MetalLB: announces ${escapeHtml(vipsOf(node.name).join(', '))}</text>` : ''}</g>`);
    const stages = lane(node, t.subnet, t.vlan);
    stages.forEach((st, k) => box(x0 + k * colW, y + 6, st.label, st.sub, st.key, k === 3 ? 'lb' : 'stage', stageCount(st.key)));
    edge(10 + boxW, midY + 20 + boxH / 2, x0, y + 6 + boxH / 2, 'wire', stages[0]!.key);
    // MetalLB's responder sits on br-provider's LOCAL port.
    const mk = `${node.name}/metallb`;
    box(x0 + colW, y + 6 + boxH + 10, 'MetalLB', 'ARP/NDP on LOCAL', mk, 'metallb', stageCount(mk));
    edge(x0 + colW + boxW / 2, y + 6 + boxH, x0 + colW + boxW / 2, y + 6 + boxH + 10, stages[1]!.key, mk, [], 14);
    for (let k = 0; k + 1 < stages.length; k++) {
      // Replies leave OVN through the patch port after un-DNAT: that hop is folded into br-provider ↔ the switch.
      const also: Array<[string, string]> = k === 1 ? [[stages[3]!.key, stages[1]!.key]] : [];
      edge(x0 + k * colW + boxW, y + 6 + boxH / 2, x0 + (k + 1) * colW, y + 6 + boxH / 2, stages[k]!.key, stages[k + 1]!.key, also);
    }
    node.pods.forEach((pod, j) => {
      const py = y + j * 40;
      const key = `${node.name}/${pod.name}`;
      box(x0 + 4 * colW, py, pod.name, `${pod.ip}${pod.ready ? '' : ' · not ready'}`, key, pod.ready ? 'pod' : 'pod notready', stageCount(key));
      // Frames the switch hands a pod without load balancing (floods) and the pod's own frames count here too.
      edge(x0 + 3 * colW + boxW, y + 6 + boxH / 2, x0 + 4 * colW, py + boxH / 2, stages[3]!.key, key, [[stages[2]!.key, key]]);
    });
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="path diagram">${parts.join('')}</svg>`;
  return { svg, drawn };
}

function bars(rows: Array<[string, number]>, cls: string): string {
  let max = 1;
  for (const [, n] of rows) if (n > max) max = n;
  return `<table class="bars ${cls}">${rows.map(([k, n]) => `<tr><th>${escapeHtml(k)}</th><td class="n">${fmt(n)}</td><td class="bar"><div style="width:${((n / max) * 100).toFixed(1)}%"></div></td></tr>`).join('')}</table>`;
}

/**
 * Frames per time bin: from the trace lines when the report has them all (60 bins over the capture, however
 * short), else the summary's frames per second.
 */
function bins(s: ReplaySummary, input: number[]): { counts: number[]; binMs: number } {
  // Only when the traces hold every injected frame: a first slice would draw a timeline that stops early.
  if (input.length === 0 || input.length < s.injected) return { counts: s.timeline, binMs: s.timelineBinMs ?? 1000 };
  // Loops, not Math.max(...): spreading a long array overflows the stack.
  let span = 1;
  for (const t of input) if (t > span) span = t;
  for (const e of s.events) if (e.time > span) span = e.time;
  const binMs = span / 60;
  const counts = new Array<number>(61).fill(0);
  for (const t of input) counts[Math.min(60, Math.floor(t / binMs))]!++;
  return { counts, binMs };
}

/** A tick step of 1, 2 or 5 × 10^k ms that cuts `span` ms into at most `max` intervals. */
function tickStep(span: number, max = 8): number {
  const base = 10 ** Math.floor(Math.log10(Math.max(span, 1e-3) / max));
  for (const m of [1, 2, 5]) if (span / (base * m) <= max) return base * m;
  return base * 10;
}

/** A time-axis label for `ms` on an axis of `step`: milliseconds below a one-second step, else seconds. */
function tickLabel(ms: number, step: number): string {
  const decimals = (unit: number): number => Math.max(0, -Math.floor(Math.log10(step / unit) + 1e-9));
  return step < 1000 ? `${ms.toFixed(decimals(1))} ms` : `${(ms / 1000).toFixed(decimals(1000))} s`;
}

function timeline(s: ReplaySummary, traces: number[]): string {
  // The plot sits inside margins that leave room for the axis labels; the SVG scales as a whole (text keeps its
  // proportions), so the labels stay readable at any width.
  const w = 900;
  const padX = 28;
  const plotW = w - 2 * padX;
  const h = 120;
  const axisH = 34;
  const { counts, binMs } = bins(s, traces);
  const n = Math.max(1, counts.length);
  const axisMs = n * binMs;
  // A loop, not Math.max(...counts): spreading a long array overflows the stack.
  let max = 1;
  for (const v of counts) if (v > max) max = v;
  const bw = plotW / n;
  const at = (ms: number): number => padX + Math.min(1, ms / axisMs) * plotW;
  const unit = (ms: number): string => (binMs >= 1000 ? `${(ms / 1000).toFixed(0)} s` : `${(ms / 1000).toFixed(3)} s`);
  const rects = counts.map((v, i) => `<rect x="${(padX + i * bw).toFixed(2)}" y="${(h - (v / max) * (h - 20)).toFixed(2)}" width="${Math.max(1, bw - 1).toFixed(2)}" height="${((v / max) * (h - 20)).toFixed(2)}"><title>${unit(i * binMs)}–${unit((i + 1) * binMs)}: ${fmt(v)} frames</title></rect>`).join('');
  const step = tickStep(axisMs);
  const ticks: string[] = [];
  for (let k = 0; k * step <= axisMs * (1 + 1e-9); k++) {
    const x = at(k * step).toFixed(2);
    ticks.push(`<g class="tick"><line x1="${x}" y1="${h}" x2="${x}" y2="${h + 5}"/><text x="${x}" y="${h + 18}">${tickLabel(k * step, step)}</text></g>`);
  }
  const axis = `<g class="axis"><line x1="${padX}" y1="${h}" x2="${padX + plotW}" y2="${h}"/>${ticks.join('')}<text class="title" x="${padX + plotW}" y="${h + axisH - 2}">capture time →</text><text class="ymax" x="${padX + 2}" y="12">${fmt(max)} frame${max === 1 ? '' : 's'}</text></g>`;
  const marks = s.events.map((e) => {
    const x = at(e.time);
    return `<g class="event ${escapeHtml(e.kind)}"><line x1="${x.toFixed(2)}" y1="0" x2="${x.toFixed(2)}" y2="${h}"/><title>${(e.time / 1000).toFixed(3)} s: ${escapeHtml(e.text)}</title></g>`;
  }).join('');
  const bin = binMs >= 1000 ? `${fmt(binMs / 1000)} s` : `${binMs.toFixed(binMs >= 10 ? 0 : 2)} ms`;
  return `<p class="muted" data-bin-ms="${binMs}">Frames injected per ${bin} of capture time (each bar one bin; the tallest, ${fmt(max)}, reaches the top); events (failover, gratuitous ARP bursts, ownership changes) marked in orange.</p>
<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h + axisH}" width="100%" role="img" aria-label="frames injected over capture time">${rects}${marks}${axis}</svg>
<ol class="events">${s.events.map((e) => `<li data-kind="${escapeHtml(e.kind)}"><span class="t">${(e.time / 1000).toFixed(3)} s</span> ${escapeHtml(e.text)}</li>`).join('')}</ol>`;
}

const CSS = `
:root{--bg:#fbfbfd;--fg:#1d2433;--mute:#667085;--line:#d0d5dd;--acc:#2e6fd8;--ok:#1f9d55;--warn:#c2410c;--card:#fff}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{padding:20px 28px;background:#102a4c;color:#fff}header h1{margin:0 0 4px;font-size:20px}header .meta{color:#c9d6ea;font-size:13px}
.kpis{display:flex;gap:12px;margin-top:14px;flex-wrap:wrap}.kpi{background:#1b3a66;border-radius:8px;padding:8px 14px}.kpi b{display:block;font-size:20px}
main{padding:20px 28px;display:grid;gap:18px}section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 18px;overflow:auto}
h2{margin:0 0 10px;font-size:16px}h2 .unit{font-weight:normal;color:var(--mute)}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(280px,1fr));gap:18px}
svg .box rect{fill:#eef3fb;stroke:#9db4d8}svg .box.client rect,svg .box.wire rect{fill:#f4f1fb;stroke:#b9a7e0}svg .box.lb rect{fill:#fff4e5;stroke:#f0b46b}
svg .box.pod rect{fill:#e9f7ef;stroke:#86c9a0}svg .box.metallb rect{fill:#fdf2f8;stroke:#e7a1c7}svg .box.notready rect{fill:#f6f6f6;stroke:#bbb;stroke-dasharray:4 3}
svg text{font:12px system-ui,sans-serif;text-anchor:middle;fill:var(--fg)}svg text.sub{font-size:10px;fill:var(--mute)}svg text.node{text-anchor:start;font-weight:600}
svg .count{font-weight:700;fill:var(--acc)}svg .edge path{fill:none;stroke:var(--acc);stroke-width:2;opacity:.75}svg .edge.idle path{stroke:#c5cbd6;stroke-dasharray:3 4}svg .edge.idle .count{fill:#98a2b3}
svg .lane rect{fill:none;stroke:#e4e7ec}svg .lane.down rect{fill:#fbeaea;stroke:#e3a0a0;stroke-dasharray:6 4}svg .lost{fill:#b42318;font-weight:700}svg .lane.owner rect{fill:#fffdf2;stroke:#e2c26b}svg .badge{font-weight:700;fill:#8a5a00;font-size:12px;text-anchor:start}
svg{max-width:100%;height:auto}svg text{font-size:13px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eef0f3;vertical-align:top}td.n{text-align:right;font-variant-numeric:tabular-nums;width:5em}
.bars th{width:55%;font-weight:normal}.bars td.bar{width:30%}.bars td.bar div{height:10px;background:var(--acc);border-radius:3px}.bars.drops td.bar div{background:var(--warn)}
.timeline rect{fill:var(--acc)}.timeline .event line{stroke:var(--warn);stroke-width:2}.timeline .axis line{stroke:var(--mute)}.timeline .axis text{font-size:11px;fill:var(--mute)}.timeline .axis text.title{text-anchor:end}.timeline .axis text.ymax{text-anchor:start}.events{margin:8px 0 0;padding-left:18px;color:var(--mute)}.events .t{font-variant-numeric:tabular-nums;color:var(--fg)}
#flows input{width:100%;padding:8px 10px;border:1px solid var(--line);border-radius:6px;margin-bottom:8px;font:inherit}
#flows tbody tr,#flowsum tbody tr{cursor:pointer}#flows tbody tr:hover,#flowsum tbody tr:hover{background:#f2f6fc}#flows tbody tr.sel{background:#e3ecfb}
.v-delivered{color:var(--ok)}.v-dropped{color:var(--warn)}.v-answered{color:#7c3aed}.v-skipped{color:var(--mute)}
#detail{white-space:normal}#detail .step{display:grid;grid-template-columns:9em 13em 1fr;gap:8px;padding:3px 0;border-bottom:1px dashed #eef0f3;font-family:ui-monospace,monospace;font-size:12px}
#detail .drop{color:var(--warn)}#more{margin-top:8px}.muted{color:var(--mute)}code{font-family:ui-monospace,monospace;font-size:12px}
`;

const SCRIPT = `
(function(){
var data=JSON.parse(document.getElementById('vippath-data').textContent);
var traces=data.traces;var body=document.querySelector('#flows tbody');var q=document.getElementById('q');var shown=document.getElementById('shown');
var more=document.getElementById('more');var detail=document.getElementById('detail');var limit=500;var current=[];
function esc(s){return String(s).replace(/[&<>"']/g,function(c){return {'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c];});}
function match(t,words){var hay=(t.flow+' '+t.verdict+' '+t.ingress+' '+t.index).toLowerCase();for(var i=0;i<words.length;i++)if(hay.indexOf(words[i])<0)return false;return true;}
function render(){var words=q.value.toLowerCase().split(/\\s+/).filter(Boolean);current=[];for(var i=0;i<traces.length;i++)if(match(traces[i],words))current.push(i);
var rows=[];for(var k=0;k<current.length&&k<limit;k++){var t=traces[current[k]];rows.push('<tr data-i="'+current[k]+'"><td class="n">'+t.index+'</td><td class="n">'+(t.time/1000).toFixed(3)+'</td><td>'+esc(t.ingress)+'</td><td><code>'+esc(t.flow)+'</code></td><td class="v-'+esc(t.verdict)+'">'+esc(t.verdict)+'</td><td class="n">'+t.stages.length+'</td><td class="n">'+t.drops.length+'</td></tr>');}
body.innerHTML=rows.join('');shown.textContent=Math.min(limit,current.length)+' of '+current.length+' matching ('+traces.length+' in all)';more.hidden=current.length<=limit;}
function show(i){var t=traces[i];var h=['<h3>#'+t.index+' <code>'+esc(t.flow)+'</code> <span class="v-'+esc(t.verdict)+'">'+esc(t.verdict)+'</span></h3><p class="muted">entered at '+esc(t.ingress)+', '+(t.time/1000).toFixed(3)+' s</p>'];
t.stages.forEach(function(s){h.push('<div class="step"><span>'+esc(s.stage)+'</span><span>'+esc(s.at)+'</span><span>'+esc(s.decision)+'</span></div>');});
t.drops.forEach(function(d){h.push('<div class="step drop"><span>drop</span><span>'+esc(d.at)+'</span><span>'+esc(d.reason)+'</span></div>');});
t.emitted.forEach(function(e){h.push('<div class="step"><span>emitted</span><span>'+esc(e.to)+'</span><span>'+(e.hex.length/2)+' bytes: '+esc(e.hex.slice(0,96))+(e.hex.length>96?'…':'')+'</span></div>');});
detail.innerHTML=h.join('');var sel=body.querySelector('tr.sel');if(sel)sel.classList.remove('sel');var row=body.querySelector('tr[data-i="'+i+'"]');if(row)row.classList.add('sel');}
body.addEventListener('click',function(ev){var tr=ev.target.closest('tr');if(tr)show(Number(tr.getAttribute('data-i')));});
// Flows: frames grouped by what they are, without TCP flags and lengths (both directions stay apart).
function keyOf(f){return f.replace(/ \\[[^\\]]*\\]/,'').replace(/ len \\d+/,'').replace(/ malformed \\(.*\\)$/,'');}
var flows=[];var byKey={};traces.forEach(function(t,i){if(t.index===0||t.verdict==='skipped')return;var k=keyOf(t.flow);var f=byKey[k];if(!f){f=byKey[k]={key:k,frames:[],verdicts:{}};flows.push(f);}f.frames.push(i);f.verdicts[t.verdict]=(f.verdicts[t.verdict]||0)+1;});
var fbody=document.querySelector('#flowsum tbody');
function renderFlows(){var words=q.value.toLowerCase().split(/\\s+/).filter(Boolean);var rows=[];var n=0;
flows.forEach(function(f,j){if(n>=500)return;var hay=f.key.toLowerCase();for(var w=0;w<words.length;w++)if(hay.indexOf(words[w])<0&&!f.verdicts[words[w]])return;n++;
rows.push('<tr data-f="'+j+'"><td><code>'+esc(f.key)+'</code></td><td class="n">'+f.frames.length+'</td><td>'+Object.keys(f.verdicts).map(function(v){return '<span class="v-'+esc(v)+'">'+esc(v)+' '+f.verdicts[v]+'</span>';}).join(', ')+'</td><td class="n">'+traces[f.frames[0]].index+'</td></tr>');});
fbody.innerHTML=rows.join('');}
fbody.addEventListener('click',function(ev){var tr=ev.target.closest('tr');if(!tr)return;var f=flows[Number(tr.getAttribute('data-f'))];q.value=f.key;limit=500;render();renderFlows();show(f.frames[0]);document.getElementById('flows').scrollIntoView();});
q.addEventListener('input',renderFlows);renderFlows();
q.addEventListener('input',function(){limit=500;render();});more.addEventListener('click',function(){limit+=500;render();});
render();
})();
`;

/** Renders the report. */
export function renderReport(input: ReportInput): string {
  const parts: string[] = [];
  renderReportTo(input, (text) => void parts.push(text));
  return parts.join('');
}

/**
 * Renders the report piece by piece into `write` (the page head, then one piece per trace line, then the end):
 * a report of 100 000 frames is written without a string of the whole page — or of all its data — in memory.
 */
export function renderReportTo(input: ReportInput, write: (text: string) => void): void {
  const s = input.summary;
  const t = input.topology;
  const { svg, drawn } = diagram(t, s);
  const other = s.edges.filter((e) => !drawn.has(`${e.from}→${e.to}`));
  const backendRows: Array<[string, number]> = Object.entries(s.backends).flatMap(([node, pods]) => Object.entries(pods).map(([pod, n]) => [`${node} · ${pod}`, n] as [string, number]));
  const dropRows = Object.entries(s.drops).sort((a, b) => b[1] - a[1]);
  // Two counts that differ on purpose: copies (a frame flooded to three nodes can be dropped three times, and the
  // cluster's own gratuitous ARPs are copied too) and frames (one verdict per injected frame). Each place says which.
  const copiesDropped = Object.values(s.drops).reduce((a, b) => a + b, 0);
  const verdictRows = Object.entries(s.verdicts) as Array<[string, number]>;
  const vips = t.services.flatMap((svc) => svc.ingress.map((ip) => `${svc.name} ${ip} → ${(svc.owners[ip] ?? []).join(', ') || 'nobody'}`));
  const title = input.title ?? 'vippath replay';
  const facts = traceFacts(input);
  write(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${CSS}</style></head>
<body>
<header><h1>${escapeHtml(title)}</h1>
<div class="meta">${input.capture ? `capture <code>${escapeHtml(input.capture)}</code> · ` : ''}subnet ${escapeHtml(t.subnet)} · VLAN ${t.vlan} · ${escapeHtml(vips.join(' · '))}${input.generatedAt ? ` · ${escapeHtml(input.generatedAt)}` : ''}</div>
<div class="kpis"><div class="kpi" data-kpi="framesRead"><b>${fmt(s.framesRead)}</b>frames read</div><div class="kpi" data-kpi="injected"><b>${fmt(s.injected)}</b>frames injected</div><div class="kpi" data-kpi="toClient"><b>${fmt(s.toClient.frames)}</b>frames back to the client</div><div class="kpi" data-kpi="framesDropped" title="injected frames whose every copy was dropped (the Verdicts panel)"><b>${fmt(s.verdicts.dropped)}</b>frames dropped</div><div class="kpi" data-kpi="drops" title="copies that ended in a drop: a broadcast is copied to every node and pod, and the cluster's own frames count too (Drops by reason)"><b>${fmt(copiesDropped)}</b>copies dropped</div><div class="kpi" data-kpi="tcpFromVip"><b>${fmt(s.toClient.tcpFromVip)}</b>TCP frames from the VIP</div><div class="kpi" data-kpi="tcpFromPodIp"><b>${fmt(s.toClient.tcpFromPodIp)}</b>TCP frames from a pod IP</div></div>
</header>
<main>
<section id="diagram"><h2>The path</h2>${svg}
${other.length ? `<p class="muted">Other edges: ${other.map((e) => `<span data-edge="${escapeHtml(`${e.from}→${e.to}`)}">${escapeHtml(e.from)} → ${escapeHtml(e.to)} <b class="count">${fmt(e.frames)}</b></span>`).join(' · ')}</p>` : ''}
<p class="muted">Counts are copies of frames along each edge and through each box, in either direction (a flooded frame counts once per copy); replies
leaving OVN after un-DNAT count on br-provider ↔ ${escapeHtml(t.subnet)}, frames between a pod and the switch on LB DNAT ↔ pod.</p></section>
<div class="grid">
<section id="drops"><h2>Drops by reason <span class="unit">(copies)</span></h2><p class="muted">${fmt(copiesDropped)} copies dropped: every copy of a frame that ended in a drop, with what the cluster sent on its own (a broadcast is copied to every node and pod). Frames whose every copy was dropped: Verdicts.</p>${dropRows.length ? bars(dropRows, 'drops') : '<p class="muted">none</p>'}</section>
<section id="backends"><h2>New connections by backend</h2>${backendRows.length ? bars(backendRows, 'backends') : '<p class="muted">none</p>'}</section>
<section id="verdicts"><h2>Verdicts <span class="unit">(frames)</span></h2><p class="muted">One per frame read: delivered (a copy reached a pod), answered, forwarded, dropped (every copy was dropped — ${fmt(s.verdicts.dropped)} frames); skipped frames were not injected (sent by the cluster in the capture, or not Ethernet).</p>${bars(verdictRows, 'verdicts')}</section>
</div>
<section id="timeline"><h2>Timeline</h2>${timeline(s, facts.injectedTimes)}</section>
<section id="flowsum"><h2>Flows</h2><p class="muted">Frames grouped by flow (TCP flags and lengths aside); a click shows the flow's frames below and its first frame's path. The filter below applies here too.</p>
<table><thead><tr><th>flow</th><th>frames</th><th>verdicts</th><th>first #</th></tr></thead><tbody></tbody></table></section>
<section id="flows"><h2>Frames</h2><input id="q" type="search" placeholder="filter: tcp 10.180.204.100, dropped, arp …" aria-label="filter frames">
<p class="muted">${facts.frames < s.framesRead ? `The table holds the first ${fmt(facts.frames)} of ${fmt(s.framesRead)} frames (<code>--report-frames</code> for more); the diagram, counters and timeline cover them all.` : 'Every frame of the capture, with what the cluster sent on its own.'}</p>
<p id="shown" class="muted"></p>
<table><thead><tr><th>#</th><th>time s</th><th>ingress</th><th>frame</th><th>verdict</th><th>stages</th><th title="copies of this frame that ended in a drop">copies dropped</th></tr></thead><tbody></tbody></table>
<button id="more" hidden>show more</button>
<div id="detail" class="muted">Click a frame to see its path, stage by stage.</div></section>
</main>
<script type="application/json" id="vippath-data">`);
  // scriptJson({ traces }), a line at a time (its escapes are per character, so the pieces join to the same text).
  write('{"traces":[');
  facts.writeJson(write);
  write(`]}</script>
<script>${SCRIPT}</script>
</body></html>
`);
}
