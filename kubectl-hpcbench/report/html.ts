/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** A table whose cells are already escaped HTML; the header row is plain text. */
export function htmlTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  className = '',
): string {
  const head = header.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('');
  const body = rows.map((row) => `<tr>${row.map((cell) => `<td>${cell}</td>`).join('')}</tr>`).join('\n');
  const cls = className ? ` class="${escapeHtml(className)}"` : '';
  return `<table${cls}><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** One line that says why a section has nothing to show, so nothing disappears silently. */
export function emptyLine(text: string): string {
  return `<p class="empty">${escapeHtml(text)}</p>`;
}
