/** The console's stylesheet: system fonts, no web font, nothing fetched. */
export const CONSOLE_CSS = `
:root { --fg:#1d2330; --muted:#6b7280; --line:#e5e7eb; --accent:#2457c5; --ok:#15803d; --bad:#b91c1c; --warn:#b45309; --bg:#fff; --soft:#f6f7f9; }
* { box-sizing: border-box; }
body { margin:0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:var(--bg); }
header.top { display:flex; gap:24px; align-items:center; padding:10px 20px; background:#111827; color:#fff; }
header.top a { color:#e5e7eb; text-decoration:none; margin-right:16px; }
header.top .brand { font-weight:700; color:#fff; }
header.top .ns { margin-left:auto; color:#d1d5db; }
header.top .ns input { font:inherit; padding:2px 6px; border-radius:4px; border:1px solid #4b5563; background:#1f2937; color:#fff; }
main { padding:16px 20px 40px; max-width:1400px; }
h1 { font-size:20px; margin:4px 0 12px; } h2 { font-size:16px; margin:20px 0 8px; }
.muted { color:var(--muted); }
.title-row { display:flex; gap:12px; align-items:center; flex-wrap:wrap; }
.title-row h1 { margin-right:8px; }
table.grid { border-collapse:collapse; width:100%; }
table.grid th, table.grid td { border-bottom:1px solid var(--line); padding:6px 8px; text-align:left; vertical-align:top; }
table.grid th { background:var(--soft); font-weight:600; white-space:nowrap; }
td.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
td.reason, span.reason { color:var(--muted); max-width:360px; }
.badge { display:inline-block; padding:0 6px; margin:1px 2px; border-radius:10px; font-size:12px; background:#e5e7eb; color:#374151; white-space:nowrap; }
.badge.true { background:#dcfce7; color:var(--ok); } .badge.false { background:#fee2e2; color:var(--bad); }
.phase { font-weight:600; } .phase.succeeded { color:var(--ok); } .phase.failed { color:var(--bad); } .phase.running { color:var(--accent); } .phase.pending { color:var(--warn); }
.phase.big { font-size:18px; }
.progress { white-space:nowrap; } .progress .bar { display:inline-block; width:80px; height:8px; background:var(--line); border-radius:4px; vertical-align:middle; overflow:hidden; }
.progress.wide .bar { width:320px; } .progress .fill { display:block; height:100%; background:var(--accent); }
.live { font-size:12px; padding:1px 8px; border-radius:10px; } .live.on { background:#dcfce7; color:var(--ok); } .live.off { background:#fef3c7; color:var(--warn); }
a.button, button { display:inline-block; font:inherit; padding:5px 12px; border-radius:6px; border:1px solid #cbd5e1; background:#fff; color:var(--fg); cursor:pointer; text-decoration:none; }
a.button.disabled { opacity:.5; pointer-events:none; }
.primary { background:var(--accent) !important; color:#fff !important; border-color:var(--accent) !important; }
.danger { border-color:var(--bad); color:var(--bad); }
.refusal { color:var(--bad); background:#fef2f2; border:1px solid #fecaca; padding:8px 10px; border-radius:6px; }
.ok { color:var(--ok); background:#f0fdf4; border:1px solid #bbf7d0; padding:8px 10px; border-radius:6px; }
.wizard { display:grid; grid-template-columns: minmax(420px, 1fr) minmax(320px, 520px); gap:24px; align-items:start; }
.yaml-col { position:sticky; top:12px; }
.actions { display:flex; gap:8px; margin-bottom:10px; flex-wrap:wrap; }
details.group { border:1px solid var(--line); border-radius:6px; padding:4px 10px; margin:6px 0; }
details.group > summary { cursor:pointer; font-weight:600; padding:4px 0; }
details.group > summary .help { font-weight:400; }
.field { display:grid; grid-template-columns: 180px 1fr; gap:2px 12px; padding:6px 0; border-top:1px dashed var(--line); }
.field label { font-weight:600; font-family: ui-monospace, monospace; font-size:13px; padding-top:4px; }
.field input, .field select, .field textarea { font:inherit; padding:4px 6px; border:1px solid #cbd5e1; border-radius:4px; width:100%; }
.field .help { grid-column:2; color:var(--muted); font-size:12px; }
.field .field-error { grid-column:2; color:var(--bad); font-size:12px; }
.field.invalid input, .field.invalid select, .field.invalid textarea { border-color:var(--bad); background:#fff7f7; }
.req { color:var(--bad); }
pre.code, textarea.code { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
pre.code { background:var(--soft); border:1px solid var(--line); border-radius:6px; padding:10px; overflow:auto; max-height:70vh; white-space:pre; }
pre.log { max-height:420px; }
dl.kv { display:grid; grid-template-columns:max-content 1fr; gap:2px 16px; margin:12px 0; } dl.kv dt { color:var(--muted); } dl.kv dd { margin:0; font-variant-numeric:tabular-nums; }
.tabs { display:flex; gap:4px; } .tabs button[aria-selected="true"] { background:var(--accent); color:#fff; border-color:var(--accent); }
iframe#report { width:100%; height:1400px; border:1px solid var(--line); border-radius:6px; }
.charts { display:flex; flex-wrap:wrap; gap:16px; } figure.chart { margin:0; border:1px solid var(--line); border-radius:6px; padding:8px; } figcaption { font-weight:600; margin-bottom:4px; }
tr.significant td:last-child { font-weight:600; } td.better { color:var(--ok); } td.worse { color:var(--bad); }
.picker { display:flex; flex-wrap:wrap; gap:12px; align-items:center; margin-bottom:12px; }
.confirm { display:inline-flex; gap:8px; align-items:center; background:#fef2f2; padding:4px 8px; border-radius:6px; }
`;
