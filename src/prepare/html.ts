// A small tolerant HTML scanner for the chat exports that come as HTML (Facebook/Messenger
// "message_1.html"): builds an element tree without a dependency, skipping comments, doctype, <script>
// and <style>; unmatched close tags are ignored and unclosed elements end with their parent. Text is
// entity-decoded (named, decimal and hex references); <br> becomes a newline.

export interface HtmlElement {
  tag: string;
  attrs: Record<string, string>;
  children: HtmlNode[];
}
export type HtmlNode = HtmlElement | string;

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr']);
const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title']);

const NAMED: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', shy: '\u00ad', copy: '©', reg: '®',
  hellip: '…', mdash: '—', ndash: '–', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', laquo: '«', raquo: '»',
  euro: '€', pound: '£', yen: '¥', cent: '¢', deg: '°', middot: '·', bull: '•', times: '×', divide: '÷',
  zwj: '\u200d', zwnj: '\u200c', lrm: '\u200e', rlm: '\u200f', iexcl: '¡', iquest: '¿', sect: '§', para: '¶',
  eacute: 'é', egrave: 'è', ecirc: 'ê', aacute: 'á', agrave: 'à', acirc: 'â', iacute: 'í', oacute: 'ó', uacute: 'ú',
  ntilde: 'ñ', ccedil: 'ç', auml: 'ä', ouml: 'ö', uuml: 'ü', Auml: 'Ä', Ouml: 'Ö', Uuml: 'Ü', szlig: 'ß', Eacute: 'É',
};

/** Decodes HTML character references; unknown names are left as written. */
export function decodeEntities(text: string): string {
  if (text.indexOf('&') < 0) return text;
  return text.replace(/&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[A-Za-z][A-Za-z0-9]{1,31});?/g, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : '\ufffd';
    }
    return NAMED[ref] ?? whole;
  });
}

function parseAttrs(src: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  const re = /([^\s"'<>\/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  for (let m = re.exec(src); m; m = re.exec(src)) {
    attrs[m[1].toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return attrs;
}

/** Parses an HTML document into a tree under a synthetic `#root` element. */
export function parseHtml(html: string): HtmlElement {
  const root: HtmlElement = { tag: '#root', attrs: {}, children: [] };
  const stack: HtmlElement[] = [root];
  const top = () => stack[stack.length - 1];
  let i = 0;
  const n = html.length;
  while (i < n) {
    const lt = html.indexOf('<', i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) top().children.push(decodeEntities(html.slice(i, textEnd)));
    if (lt < 0) break;
    i = lt;
    if (html.startsWith('<!--', i)) {
      const end = html.indexOf('-->', i + 4);
      i = end < 0 ? n : end + 3;
      continue;
    }
    if (html[i + 1] === '!' || html[i + 1] === '?') {
      const end = html.indexOf('>', i);
      i = end < 0 ? n : end + 1;
      continue;
    }
    const close = /^<\/([A-Za-z][A-Za-z0-9-]*)[^>]*>/.exec(html.slice(i, i + 200));
    if (close) {
      const tag = close[1].toLowerCase();
      const at = stack.map((e) => e.tag).lastIndexOf(tag);
      if (at > 0) stack.length = at; // pops the element and anything left unclosed inside it
      i += close[0].length;
      continue;
    }
    const open = /^<([A-Za-z][A-Za-z0-9-]*)/.exec(html.slice(i, i + 100));
    if (!open) {
      top().children.push('<'); // a lone '<' in text
      i += 1;
      continue;
    }
    // find the end of the tag, skipping quoted attribute values
    let j = i + open[0].length;
    let quote = '';
    for (; j < n; j++) {
      const c = html[j];
      if (quote) { if (c === quote) quote = ''; } else if (c === '"' || c === "'") quote = c; else if (c === '>') break;
    }
    const tag = open[1].toLowerCase();
    const inner = html.slice(i + open[0].length, j);
    const el: HtmlElement = { tag, attrs: parseAttrs(inner.replace(/\/\s*$/, '')), children: [] };
    top().children.push(el);
    i = j + 1;
    if (RAW_TEXT.has(tag)) {
      const endRe = new RegExp(`</${tag}\\s*>`, 'i');
      const m = endRe.exec(html.slice(i));
      const end = m ? i + m.index : n;
      if (tag === 'title' || tag === 'textarea') el.children.push(decodeEntities(html.slice(i, end)));
      i = m ? end + m[0].length : n;
    } else if (!VOID.has(tag) && !/\/\s*$/.test(inner)) {
      stack.push(el);
    }
  }
  return root;
}

/** Element children of an element (text nodes that are only whitespace dropped). */
export function elementChildren(el: HtmlElement): HtmlElement[] {
  return el.children.filter((c): c is HtmlElement => typeof c !== 'string');
}

/**
 * Text content of a subtree: <br> as a newline, block elements separated by newlines, and the
 * subtrees whose tag is in `skip` left out (e.g. the reaction lists under a message).
 */
export function textContent(node: HtmlNode, skip: ReadonlySet<string> = new Set()): string {
  if (typeof node === 'string') return node;
  if (skip.has(node.tag)) return '';
  if (node.tag === 'br') return '\n';
  let out = '';
  for (const c of node.children) {
    const t = textContent(c, skip);
    if (typeof c !== 'string' && (c.tag === 'div' || c.tag === 'p') && t && out && !out.endsWith('\n')) out += '\n';
    out += t;
  }
  return out;
}

/** Visits every element of the tree, depth first, in document order. */
export function* walkElements(el: HtmlElement): Generator<HtmlElement> {
  yield el;
  for (const c of el.children) if (typeof c !== 'string') yield* walkElements(c);
}
