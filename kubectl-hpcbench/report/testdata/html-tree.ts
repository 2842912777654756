/**
 * A small, strict HTML parser for tests of our own generated markup (no HTML parser is a dependency here):
 * it builds the element tree and throws on a closing tag that does not match, so a malformed report fails.
 */
export interface HtmlElement {
  name: string;
  attrs: Record<string, string>;
  children: HtmlElement[];
  /** Text and child elements in document order. */
  nodes: (HtmlElement | string)[];
}

const VOID = new Set(['meta', 'link', 'br', 'img', 'input', 'hr', 'source', 'area', 'base', 'col', 'wbr']);
const RAW_TEXT = new Set(['style', 'script']);
const TOKEN =
  /<!--[\s\S]*?-->|<!DOCTYPE[^>]*>|<(\/?)([A-Za-z][\w:-]*)((?:\s+[^\s=>/]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*(\/?)>/gi;
const ATTR = /([^\s=>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g;

export function parseHtml(html: string): HtmlElement {
  const root: HtmlElement = { name: '#root', attrs: {}, children: [], nodes: [] };
  const stack: HtmlElement[] = [root];
  let last = 0;
  for (const match of html.matchAll(TOKEN)) {
    // Tokens inside a raw-text element (<style>) were consumed with it.
    if (match.index < last) continue;
    const top = stack[stack.length - 1] ?? root;
    if (match.index > last) top.nodes.push(html.slice(last, match.index));
    last = match.index + match[0].length;
    const [, closing, rawName, rawAttrs = '', selfClosing] = match;
    if (!rawName) continue;
    const name = rawName.toLowerCase();
    if (closing) {
      if (top.name !== name) throw new Error(`</${name}> closes <${top.name}> at offset ${match.index}`);
      stack.pop();
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of rawAttrs.matchAll(ATTR)) attrs[(a[1] ?? '').toLowerCase()] = a[2] ?? a[3] ?? a[4] ?? '';
    const element: HtmlElement = { name, attrs, children: [], nodes: [] };
    top.children.push(element);
    top.nodes.push(element);
    if (RAW_TEXT.has(name)) {
      const end = html.indexOf(`</${name}>`, last);
      if (end < 0) throw new Error(`<${name}> is never closed`);
      element.nodes.push(html.slice(last, end));
      last = end + name.length + 3;
    } else if (!VOID.has(name) && !selfClosing) {
      stack.push(element);
    }
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]?.name}>`);
  return root;
}

export function findAll(element: HtmlElement, test: (e: HtmlElement) => boolean): HtmlElement[] {
  const found: HtmlElement[] = [];
  const walk = (e: HtmlElement) => {
    if (test(e)) found.push(e);
    e.children.forEach(walk);
  };
  walk(element);
  return found;
}

/** The text of an element and its descendants, entities left as written. */
export function textOf(element: HtmlElement): string {
  return element.nodes.map((n) => (typeof n === 'string' ? n : textOf(n))).join('');
}
