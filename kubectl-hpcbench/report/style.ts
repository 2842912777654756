/** The report's whole stylesheet, inlined: the file must look the same with no network. */
export const REPORT_CSS = `
:root { color-scheme: light; --ink: #1d2330; --muted: #5b6474; --line: #dfe3ea; --ok: #1b7f3b; --bad: #b3261e; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1120px; padding: 24px 32px 48px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #fff; }
header { border-bottom: 2px solid var(--ink); padding-bottom: 12px; margin-bottom: 8px; }
h1 { font-size: 24px; margin: 0 0 8px; word-break: break-all; }
h1 .kind { font-weight: 400; color: var(--muted); font-size: 15px; display: block; }
h2 { font-size: 18px; margin: 28px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
dl.facts { display: flex; flex-wrap: wrap; gap: 6px 28px; margin: 0; }
dl.facts div { display: flex; gap: 6px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; font-weight: 600; }
.phase-Succeeded, .met { color: var(--ok); }
.phase-Failed, .missed { color: var(--bad); }
table { border-collapse: collapse; margin: 6px 0 12px; }
th, td { padding: 4px 12px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
thead th { color: var(--muted); font-weight: 600; border-bottom: 2px solid var(--line); }
table.kv td:last-child, table.kv th:last-child { text-align: left; white-space: normal; word-break: break-word; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(500px, 1fr)); gap: 18px; }
figure.chart { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 10px; }
figure.chart figcaption { font-weight: 600; margin-bottom: 6px; }
figure.chart svg { max-width: 100%; height: auto; }
p.empty { color: var(--muted); font-style: italic; margin: 6px 0; }
p.note { color: var(--muted); margin: 4px 0 10px; }
footer { margin-top: 36px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); padding-top: 8px; }
`;
