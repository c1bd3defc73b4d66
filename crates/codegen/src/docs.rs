//! Conversion of the HTML found in Smithy `smithy.api#documentation` traits
//! (AWS service models) to Markdown suitable for rustdoc.
//!
//! The entry point is [`html_to_markdown`]. The converter is a small,
//! forgiving HTML tokenizer + tree builder followed by a Markdown renderer.
//! It never panics on malformed input: unclosed tags are closed at the end,
//! stray end tags are ignored, a `<` that does not start a well-formed tag is
//! kept as text, and unknown tags are dropped while their text is kept.
//!
//! One AWS-specific heuristic: an *unknown* start tag that is never closed
//! anywhere in the input (e.g. the placeholder in `<code>aws/<service-name></code>`)
//! is not markup but literal text that the model author forgot to escape, so
//! it is kept verbatim (escaped as needed).

use std::collections::HashSet;

/// Converts an HTML documentation string to Markdown.
///
/// The result consists of lines separated by `'\n'`, with no trailing
/// newline and no trailing whitespace on any line. Text is escaped so that
/// rustdoc renders it literally (no `rustdoc::invalid_html_tags` or
/// `rustdoc::bare_urls` warnings).
pub fn html_to_markdown(html: &str) -> String {
    if html.trim().is_empty() {
        return String::new();
    }
    let root = build_tree(tokenize(html));
    let nodes: Vec<&Node> = root.iter().collect();
    let mut blocks = Vec::new();
    render_container(&nodes, Ctx::default(), &mut blocks);
    let lines = join_blocks(&blocks, false);
    let mut out = String::new();
    for line in &lines {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(line.trim_end());
    }
    let trimmed_len = out.trim_end().len();
    out.truncate(trimmed_len);
    out
}

// ---------------------------------------------------------------------------
// Tokenizer
// ---------------------------------------------------------------------------

#[derive(Debug)]
enum Token {
    Text(String),
    Start {
        name: String,
        attrs: Vec<(String, String)>,
        self_closing: bool,
        raw: String,
    },
    End(String),
}

fn tokenize(s: &str) -> Vec<Token> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut text = String::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'<'
            && let Some((tok, next)) = parse_tag(s, i)
        {
            if !text.is_empty() {
                out.push(Token::Text(decode_entities(&std::mem::take(&mut text))));
            }
            if let Some(t) = tok {
                out.push(t);
            }
            i = next;
            continue;
        }
        match s[i..].chars().next() {
            Some(ch) => {
                text.push(ch);
                i += ch.len_utf8();
            }
            None => break,
        }
    }
    if !text.is_empty() {
        out.push(Token::Text(decode_entities(&text)));
    }
    out
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.')
}

/// Parses a tag starting at `s[i] == '<'`. Returns `None` when the `<` does
/// not start a well-formed tag (it is then literal text). `Some((None, next))`
/// means "skip this construct" (comments, doctypes, processing instructions).
fn parse_tag(s: &str, i: usize) -> Option<(Option<Token>, usize)> {
    let b = s.as_bytes();
    let rest = &s[i..];
    if let Some(comment) = rest.strip_prefix("<!--") {
        let end = comment.find("-->").map_or(s.len(), |p| i + 4 + p + 3);
        return Some((None, end));
    }
    if rest.starts_with("<!") || rest.starts_with("<?") {
        return rest.find('>').map(|p| (None, i + p + 1));
    }
    if rest.starts_with("</") {
        let start = i + 2;
        if !b.get(start).is_some_and(|c| c.is_ascii_alphabetic()) {
            return None;
        }
        let mut j = start;
        while j < b.len() && is_name_byte(b[j]) {
            j += 1;
        }
        let name = s[start..j].to_ascii_lowercase();
        let close = s[j..].find('>')?;
        return Some((Some(Token::End(name)), j + close + 1));
    }
    // Start tag.
    let start = i + 1;
    if !b.get(start).is_some_and(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let mut j = start;
    while j < b.len() && is_name_byte(b[j]) {
        j += 1;
    }
    let name = s[start..j].to_ascii_lowercase();
    let mut attrs = Vec::new();
    loop {
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        if j >= b.len() {
            return None; // unterminated tag: treat '<' as text
        }
        match b[j] {
            b'>' => {
                let raw = s[i..=j].to_string();
                let tok = Token::Start {
                    name,
                    attrs,
                    self_closing: false,
                    raw,
                };
                return Some((Some(tok), j + 1));
            }
            b'/' if b.get(j + 1) == Some(&b'>') => {
                let raw = s[i..j + 2].to_string();
                let tok = Token::Start {
                    name,
                    attrs,
                    self_closing: true,
                    raw,
                };
                return Some((Some(tok), j + 2));
            }
            b'/' => {
                j += 1;
                continue;
            }
            _ => {}
        }
        // Attribute name.
        let an_start = j;
        while j < b.len() && !b[j].is_ascii_whitespace() && !matches!(b[j], b'=' | b'>' | b'/') {
            j += 1;
        }
        if j == an_start {
            // A lone '=' or similar junk: skip one byte (ASCII) to make progress.
            j += 1;
            continue;
        }
        let attr_name = s[an_start..j].to_ascii_lowercase();
        if attr_name.contains(['<', '"', '\'']) {
            return None; // e.g. `a<b</p>`: the '<' is text, not a tag
        }
        let mut k = j;
        while k < b.len() && b[k].is_ascii_whitespace() {
            k += 1;
        }
        let mut value = String::new();
        if b.get(k) == Some(&b'=') {
            k += 1;
            while k < b.len() && b[k].is_ascii_whitespace() {
                k += 1;
            }
            match b.get(k) {
                Some(&q) if q == b'"' || q == b'\'' => {
                    let close = s[k + 1..].find(q as char)?;
                    value = decode_entities(&s[k + 1..k + 1 + close]);
                    k = k + 1 + close + 1;
                }
                Some(_) => {
                    let vs = k;
                    while k < b.len() && !b[k].is_ascii_whitespace() && b[k] != b'>' {
                        k += 1;
                    }
                    value = decode_entities(&s[vs..k]);
                }
                None => return None,
            }
            j = k;
        }
        attrs.push((attr_name, value));
    }
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let decoded = after
            .find(';')
            .filter(|&semi| semi > 0 && semi <= 32)
            .and_then(|semi| decode_entity(&after[..semi]).map(|c| (c, semi)));
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn decode_entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = if let Some(hex) = num.strip_prefix('x').or_else(|| num.strip_prefix('X')) {
            if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            u32::from_str_radix(hex, 16).unwrap_or(0xFFFD)
        } else {
            if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            num.parse::<u32>().unwrap_or(0xFFFD)
        };
        return Some(match code {
            0 => '\u{FFFD}',
            c => char::from_u32(c).unwrap_or('\u{FFFD}'),
        });
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{A0}',
        "ndash" => '\u{2013}',
        "mdash" => '\u{2014}',
        "hellip" => '\u{2026}',
        "lsquo" => '\u{2018}',
        "rsquo" => '\u{2019}',
        "ldquo" => '\u{201C}',
        "rdquo" => '\u{201D}',
        "bull" => '\u{2022}',
        "middot" => '\u{B7}',
        "copy" => '\u{A9}',
        "reg" => '\u{AE}',
        "trade" => '\u{2122}',
        "times" => '\u{D7}',
        "deg" => '\u{B0}',
        "rarr" => '\u{2192}',
        "larr" => '\u{2190}',
        "le" => '\u{2264}',
        "ge" => '\u{2265}',
        "ne" => '\u{2260}',
        _ => return None,
    })
}

// ---------------------------------------------------------------------------
// Tree building
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Node {
    Text(String),
    Elem(Elem),
}

#[derive(Debug, Clone)]
struct Elem {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Node>,
}

impl Elem {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Maximum element nesting; deeper start tags are ignored (text kept) so that
/// pathological input cannot overflow the stack during rendering.
const MAX_DEPTH: usize = 64;

const VOID_TAGS: &[&str] = &[
    "br", "hr", "img", "wbr", "input", "meta", "link", "col", "area", "source",
];

const BLOCK_TAGS: &[&str] = &[
    "p",
    "div",
    "fullname",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "pre",
    "note",
    "important",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "section",
    "article",
    "header",
    "footer",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "td",
    "th",
    "hr",
    "html",
    "body",
    "caption",
];

const INLINE_TAGS: &[&str] = &[
    "a", "b", "strong", "i", "em", "code", "tt", "kbd", "samp", "var", "cite", "dfn", "u", "s",
    "strike", "del", "ins", "sub", "sup", "small", "big", "span", "font", "abbr", "q", "img", "br",
    "wbr", "mark", "head", "title", "style", "script",
];

/// Block-level starts that implicitly close an open `<p>`.
const P_CLOSERS: &[&str] = &[
    "p",
    "div",
    "ul",
    "ol",
    "dl",
    "pre",
    "note",
    "important",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "table",
    "section",
    "hr",
];

fn is_block(name: &str) -> bool {
    BLOCK_TAGS.contains(&name)
}

fn is_known(name: &str) -> bool {
    is_block(name) || INLINE_TAGS.contains(&name)
}

fn push_text(children: &mut Vec<Node>, t: &str) {
    if let Some(Node::Text(prev)) = children.last_mut() {
        prev.push_str(t);
    } else {
        children.push(Node::Text(t.to_string()));
    }
}

struct TreeBuilder {
    stack: Vec<Elem>,
}

impl TreeBuilder {
    fn top(&mut self) -> &mut Elem {
        // The root element is never popped, so the stack is never empty.
        let last = self.stack.len() - 1;
        &mut self.stack[last]
    }

    /// Pops elements until the stack has `len` entries, attaching each to its parent.
    fn pop_to(&mut self, len: usize) {
        while self.stack.len() > len.max(1) {
            if let Some(e) = self.stack.pop() {
                self.top().children.push(Node::Elem(e));
            }
        }
    }

    /// Finds the innermost open element named one of `names`, not looking past
    /// any element named one of `boundaries`. Returns its stack index.
    fn find_open(&self, names: &[&str], boundaries: &[&str]) -> Option<usize> {
        for (idx, e) in self.stack.iter().enumerate().skip(1).rev() {
            if names.contains(&e.name.as_str()) {
                return Some(idx);
            }
            if boundaries.contains(&e.name.as_str()) {
                return None;
            }
        }
        None
    }
}

fn build_tree(tokens: Vec<Token>) -> Vec<Node> {
    let closed: HashSet<String> = tokens
        .iter()
        .filter_map(|t| match t {
            Token::End(n) => Some(n.clone()),
            _ => None,
        })
        .collect();
    let root = Elem {
        name: "#root".into(),
        attrs: Vec::new(),
        children: Vec::new(),
    };
    let mut tb = TreeBuilder { stack: vec![root] };
    for tok in tokens {
        match tok {
            Token::Text(t) => push_text(&mut tb.top().children, &t),
            Token::Start {
                name,
                attrs,
                self_closing,
                raw,
            } => {
                if !is_known(&name) {
                    if self_closing {
                        continue;
                    }
                    if !closed.contains(&name) {
                        // Never closed: literal text like `<region>`.
                        push_text(&mut tb.top().children, &raw);
                        continue;
                    }
                }
                if name == "li" {
                    if let Some(idx) = tb.find_open(&["li"], &["ul", "ol"]) {
                        tb.pop_to(idx);
                    }
                } else if (name == "dt" || name == "dd")
                    && let Some(idx) = tb.find_open(&["dt", "dd"], &["dl"])
                {
                    tb.pop_to(idx);
                }
                if P_CLOSERS.contains(&name.as_str()) {
                    let boundaries = [
                        "li",
                        "dd",
                        "dt",
                        "div",
                        "note",
                        "important",
                        "td",
                        "th",
                        "blockquote",
                        "ul",
                        "ol",
                        "dl",
                        "table",
                        "pre",
                    ];
                    if let Some(idx) = tb.find_open(&["p"], &boundaries) {
                        tb.pop_to(idx);
                    }
                }
                let elem = Elem {
                    name,
                    attrs,
                    children: Vec::new(),
                };
                if self_closing || VOID_TAGS.contains(&elem.name.as_str()) {
                    tb.top().children.push(Node::Elem(elem));
                } else if tb.stack.len() <= MAX_DEPTH {
                    tb.stack.push(elem);
                }
            }
            Token::End(name) => {
                if let Some(idx) = tb.find_open(&[name.as_str()], &[]) {
                    tb.pop_to(idx);
                } else if name == "br" {
                    let br = Elem {
                        name,
                        attrs: Vec::new(),
                        children: Vec::new(),
                    };
                    tb.top().children.push(Node::Elem(br));
                }
            }
        }
    }
    tb.pop_to(1);
    tb.stack.pop().map(|r| r.children).unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Default)]
struct Ctx {
    link: bool,
    bold: bool,
    italic: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Para,
    List,
    Fence,
    Heading,
}

#[derive(Debug)]
struct Block {
    kind: Kind,
    lines: Vec<String>,
}

/// Accumulates inline Markdown for one paragraph. Whitespace is kept
/// collapsed (never two spaces in a row); `'\n'` marks a hard line break.
#[derive(Default)]
struct Inline {
    buf: String,
}

impl Inline {
    fn push_md(&mut self, s: &str) {
        let s = if self.buf.ends_with(' ') || self.buf.ends_with('\n') {
            s.trim_start_matches(' ')
        } else {
            s
        };
        self.buf.push_str(s);
    }

    fn text(&mut self, t: &str, ctx: Ctx) {
        let collapsed = collapse_ws(t);
        self.push_md(&escape_text(&collapsed, ctx.link));
    }

    fn is_blank(&self) -> bool {
        self.buf.trim().is_empty()
    }

    fn flush(&mut self, out: &mut Vec<Block>) {
        let buf = std::mem::take(&mut self.buf);
        let mut cur: Vec<String> = Vec::new();
        for raw in buf.split('\n') {
            let line = raw.trim();
            if line.is_empty() {
                if !cur.is_empty() {
                    out.push(para(std::mem::take(&mut cur)));
                }
            } else {
                cur.push(escape_line_start(line));
            }
        }
        if !cur.is_empty() {
            out.push(para(cur));
        }
    }
}

/// A paragraph; all lines but the last end with a `\` hard break.
fn para(mut lines: Vec<String>) -> Block {
    let n = lines.len();
    for line in lines.iter_mut().take(n.saturating_sub(1)) {
        line.push('\\');
    }
    Block {
        kind: Kind::Para,
        lines,
    }
}

fn collapse_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_ws = false;
    for c in s.chars() {
        if matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0c') {
            if !in_ws {
                out.push(' ');
            }
            in_ws = true;
        } else {
            out.push(c);
            in_ws = false;
        }
    }
    out
}

/// Escapes Markdown-significant characters in plain text and turns bare
/// `http(s)://` URLs into autolinks (unless already inside link text).
fn escape_text(s: &str, in_link: bool) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        if !in_link && let Some(end) = bare_url_end(&chars, i) {
            out.push('<');
            out.extend(&chars[i..end]);
            out.push('>');
            i = end;
            continue;
        }
        let c = chars[i];
        let prev_word = i > 0 && chars[i - 1].is_alphanumeric();
        let next = chars.get(i + 1).copied();
        let next_word = next.is_some_and(|n| n.is_alphanumeric());
        let escape = match c {
            '\\' | '`' | '*' | '[' | ']' | '<' | '>' | '~' => true,
            '_' => !(prev_word && next_word),
            '&' => next.is_some_and(|n| n.is_ascii_alphanumeric() || n == '#'),
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
        i += 1;
    }
    out
}

/// If a bare `http://` / `https://` URL starts at `chars[i]`, returns its end.
fn bare_url_end(chars: &[char], i: usize) -> Option<usize> {
    if i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '/') {
        return None;
    }
    let starts_with = |p: &str| {
        p.chars().enumerate().all(|(k, pc)| {
            chars
                .get(i + k)
                .is_some_and(|c| c.eq_ignore_ascii_case(&pc))
        })
    };
    let scheme_len = if starts_with("https://") {
        8
    } else if starts_with("http://") {
        7
    } else {
        return None;
    };
    let mut end = i;
    while end < chars.len()
        && !chars[end].is_whitespace()
        && !matches!(chars[end], '<' | '>' | '"' | '`')
    {
        end += 1;
    }
    // Trim trailing punctuation that is most likely sentence punctuation.
    while let Some(&last) = chars[..end].last() {
        if end <= i + scheme_len {
            break;
        }
        let url = &chars[i..end];
        let unbalanced_paren = last == ')'
            && url.iter().filter(|&&c| c == ')').count()
                > url.iter().filter(|&&c| c == '(').count();
        if matches!(last, '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '*') || unbalanced_paren {
            end -= 1;
        } else {
            break;
        }
    }
    let host_ok = chars
        .get(i + scheme_len)
        .is_some_and(|c| c.is_alphanumeric());
    (end > i + scheme_len && host_ok).then_some(end)
}

/// Escapes constructs that would turn a paragraph line into a different
/// block (heading, list item, setext underline).
fn escape_line_start(line: &str) -> String {
    let mut chars = line.chars();
    let first = chars.next();
    let second = chars.next();
    match first {
        Some('#') => return format!("\\{line}"),
        Some(c @ ('-' | '+' | '='))
            if second.is_none() || second == Some(' ') || second == Some(c) =>
        {
            return format!("\\{line}");
        }
        _ => {}
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if (1..=9).contains(&digits) {
        let rest = &line[digits..];
        if (rest.starts_with('.') || rest.starts_with(')'))
            && (rest.len() == 1 || rest[1..].starts_with(' '))
        {
            return format!("{}\\{}", &line[..digits], rest);
        }
    }
    line.to_string()
}

/// Concatenated text of an element (entity-decoded, whitespace preserved);
/// `<br>` becomes a newline.
fn raw_text(nodes: &[Node], out: &mut String) {
    for n in nodes {
        match n {
            Node::Text(t) => out.push_str(t),
            Node::Elem(e) if e.name == "br" => out.push('\n'),
            Node::Elem(e) => raw_text(&e.children, out),
        }
    }
}

fn max_backtick_run(s: &str) -> usize {
    let mut max = 0;
    let mut cur = 0;
    for c in s.chars() {
        if c == '`' {
            cur += 1;
            max = max.max(cur);
        } else {
            cur = 0;
        }
    }
    max
}

fn code_span(content: &str) -> String {
    match max_backtick_run(content) {
        0 => format!("`{content}`"),
        n => {
            let fence = "`".repeat(n + 1);
            format!("{fence} {content} {fence}")
        }
    }
}

fn fence_block(text: &str) -> Option<Block> {
    let text = text
        .strip_prefix("\r\n")
        .or_else(|| text.strip_prefix('\n'))
        .unwrap_or(text);
    let mut lines: Vec<String> = text.lines().map(|l| l.trim_end().to_string()).collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let first_non_empty = lines.iter().position(|l| !l.is_empty())?;
    lines.drain(..first_non_empty);
    let fence = "`".repeat(max_backtick_run(text).max(2) + 1);
    let mut out = Vec::with_capacity(lines.len() + 2);
    out.push(format!("{fence}text"));
    out.extend(lines);
    out.push(fence);
    Some(Block {
        kind: Kind::Fence,
        lines: out,
    })
}

/// Joins blocks with blank lines. Inside a list item a list that directly
/// follows a paragraph is kept tight (no blank line).
fn join_blocks(blocks: &[Block], in_item: bool) -> Vec<String> {
    let mut lines = Vec::new();
    let mut prev: Option<&Block> = None;
    for b in blocks {
        if b.lines.is_empty() {
            continue;
        }
        if let Some(p) = prev {
            let can_interrupt = b.lines[0].starts_with("- ") || b.lines[0].starts_with("1. ");
            let tight = in_item && p.kind == Kind::Para && b.kind == Kind::List && can_interrupt;
            if !tight {
                lines.push(String::new());
            }
        }
        lines.extend(b.lines.iter().cloned());
        prev = Some(b);
    }
    lines
}

/// Renders a sequence of sibling nodes in block context.
fn render_container(nodes: &[&Node], ctx: Ctx, out: &mut Vec<Block>) {
    let mut inl = Inline::default();
    for (idx, node) in nodes.iter().enumerate() {
        match node {
            Node::Text(t) => inl.text(t, ctx),
            Node::Elem(e) if is_block(&e.name) => {
                inl.flush(out);
                render_block(e, ctx, out);
            }
            Node::Elem(e)
                if e.name == "code"
                    && inl.is_blank()
                    && rest_is_inline_blank(&nodes[idx + 1..]) =>
            {
                let mut text = String::new();
                raw_text(&e.children, &mut text);
                if text.trim().contains('\n') {
                    inl.flush(out);
                    out.extend(fence_block(&text));
                } else {
                    inline_elem(e, ctx, &mut inl);
                }
            }
            Node::Elem(e) => inline_elem(e, ctx, &mut inl),
        }
    }
    inl.flush(out);
}

/// True if the nodes up to the next block element are whitespace-only text.
fn rest_is_inline_blank(nodes: &[&Node]) -> bool {
    for n in nodes {
        match n {
            Node::Text(t) if t.trim().is_empty() => {}
            Node::Elem(e) if is_block(&e.name) => return true,
            _ => return false,
        }
    }
    true
}

fn children_of(e: &Elem) -> Vec<&Node> {
    e.children.iter().collect()
}

fn render_block(e: &Elem, ctx: Ctx, out: &mut Vec<Block>) {
    match e.name.as_str() {
        "ul" => render_list(e, false, ctx, out),
        "ol" => render_list(e, true, ctx, out),
        "li" => {
            // A stray <li> outside of a list: render as a one-item bullet list.
            let wrapper = Elem {
                name: "ul".into(),
                attrs: Vec::new(),
                children: vec![Node::Elem(e.clone())],
            };
            render_list(&wrapper, false, ctx, out);
        }
        "pre" => {
            let mut text = String::new();
            raw_text(&e.children, &mut text);
            out.extend(fence_block(&text));
        }
        "note" | "important" => {
            let label = if e.name == "note" {
                "**Note:**"
            } else {
                "**Important:**"
            };
            let mut blocks = Vec::new();
            render_container(&children_of(e), ctx, &mut blocks);
            match blocks.first_mut() {
                Some(b) if b.kind == Kind::Para && !b.lines.is_empty() => {
                    b.lines[0] = format!("{label} {}", b.lines[0]);
                }
                _ => blocks.insert(0, para(vec![label.to_string()])),
            }
            out.extend(blocks);
        }
        "dt" => {
            let inner = render_inline_to_string(&e.children, Ctx { bold: true, ..ctx });
            let text = inner.replace('\n', " ");
            let text = text.trim();
            if !text.is_empty() {
                let line = if ctx.bold {
                    text.to_string()
                } else {
                    format!("**{text}**")
                };
                out.push(para(vec![line]));
            }
        }
        name if name.len() == 2 && name.starts_with('h') && name.as_bytes()[1].is_ascii_digit() => {
            let level = usize::from(name.as_bytes()[1] - b'0').clamp(1, 6);
            let inner = render_inline_to_string(&e.children, ctx);
            let text = inner.replace('\n', " ");
            let mut text = text.trim().to_string();
            if text.ends_with('#') {
                text.pop();
                text.push_str("\\#");
            }
            if !text.is_empty() {
                out.push(Block {
                    kind: Kind::Heading,
                    lines: vec![format!("{} {text}", "#".repeat(level))],
                });
            }
        }
        "hr" => {}
        // p, div, fullname, dl, dd, table parts, ...: plain containers.
        _ => render_container(&children_of(e), ctx, out),
    }
}

fn render_list(e: &Elem, ordered: bool, ctx: Ctx, out: &mut Vec<Block>) {
    let mut items: Vec<Vec<Block>> = Vec::new();
    let mut loose: Vec<&Node> = Vec::new();
    let flush_loose = |loose: &mut Vec<&Node>, items: &mut Vec<Vec<Block>>| {
        if !loose.is_empty() {
            let mut blocks = Vec::new();
            render_container(loose, ctx, &mut blocks);
            items.push(blocks);
            loose.clear();
        }
    };
    for child in &e.children {
        match child {
            Node::Elem(li) if li.name == "li" => {
                flush_loose(&mut loose, &mut items);
                let mut blocks = Vec::new();
                render_container(&children_of(li), ctx, &mut blocks);
                items.push(blocks);
            }
            other => loose.push(other),
        }
    }
    flush_loose(&mut loose, &mut items);

    let mut number: u64 = e
        .attr("start")
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1);
    let mut lines = Vec::new();
    for blocks in items {
        let body = join_blocks(&blocks, true);
        if body.is_empty() {
            continue;
        }
        let marker = if ordered {
            let m = format!("{number}. ");
            number = number.saturating_add(1);
            m
        } else {
            "- ".to_string()
        };
        let indent = " ".repeat(marker.len());
        for (k, line) in body.into_iter().enumerate() {
            if k == 0 {
                lines.push(format!("{marker}{line}"));
            } else if line.is_empty() {
                lines.push(line);
            } else {
                lines.push(format!("{indent}{line}"));
            }
        }
    }
    if !lines.is_empty() {
        out.push(Block {
            kind: Kind::List,
            lines,
        });
    }
}

fn render_inline_to_string(nodes: &[Node], ctx: Ctx) -> String {
    let mut inl = Inline::default();
    render_inline_children(nodes, ctx, &mut inl);
    inl.buf
}

fn render_inline_children(nodes: &[Node], ctx: Ctx, inl: &mut Inline) {
    for n in nodes {
        match n {
            Node::Text(t) => inl.text(t, ctx),
            Node::Elem(e) => inline_elem(e, ctx, inl),
        }
    }
}

/// Pushes `inner` wrapped by `open`/`close`, moving leading and trailing
/// whitespace outside of the delimiters (`** x **` is not emphasis).
fn push_wrapped(inl: &mut Inline, inner: &str, open: &str, close: &str) {
    let is_ws = |c: char| c == ' ' || c == '\n';
    let core = inner.trim_matches(is_ws);
    if core.is_empty() {
        if !inner.is_empty() {
            inl.push_md(" ");
        }
        return;
    }
    let lead_len = inner.len() - inner.trim_start_matches(is_ws).len();
    let trail_start = inner.trim_end_matches(is_ws).len();
    inl.push_md(&inner[..lead_len]);
    inl.push_md(&format!("{open}{core}{close}"));
    inl.push_md(&inner[trail_start..]);
}

fn inline_elem(e: &Elem, ctx: Ctx, inl: &mut Inline) {
    match e.name.as_str() {
        "br" => inl.push_md("\n"),
        "code" | "tt" | "kbd" | "samp" => {
            let mut text = String::new();
            raw_text(&e.children, &mut text);
            let collapsed = collapse_ws(&text);
            let core = collapsed.trim();
            if core.is_empty() {
                if !collapsed.is_empty() {
                    inl.push_md(" ");
                }
                return;
            }
            if collapsed.starts_with(' ') {
                inl.push_md(" ");
            }
            inl.push_md(&code_span(core));
            if collapsed.ends_with(' ') {
                inl.push_md(" ");
            }
        }
        "b" | "strong" => {
            let inner = render_inline_to_string(&e.children, Ctx { bold: true, ..ctx });
            if ctx.bold {
                inl.push_md(&inner);
            } else {
                push_wrapped(inl, &inner, "**", "**");
            }
        }
        "i" | "em" | "cite" | "dfn" | "var" => {
            let inner = render_inline_to_string(
                &e.children,
                Ctx {
                    italic: true,
                    ..ctx
                },
            );
            if ctx.italic {
                inl.push_md(&inner);
            } else {
                push_wrapped(inl, &inner, "*", "*");
            }
        }
        "a" => render_link(e, ctx, inl),
        "img" => {
            if let Some(alt) = e.attr("alt") {
                inl.text(alt, ctx);
            }
        }
        "script" | "style" | "head" => {}
        name if is_block(name) => {
            // Block content inside an inline element: flatten it.
            inl.push_md(" ");
            render_inline_children(&e.children, ctx, inl);
            inl.push_md(" ");
        }
        _ => render_inline_children(&e.children, ctx, inl),
    }
}

fn is_absolute_url(href: &str) -> bool {
    let lower = href.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("mailto:")
}

fn link_destination(href: &str) -> String {
    let href: String = href.chars().filter(|c| !c.is_control()).collect();
    if href.contains([' ', '(', ')', '<', '>', '\\']) {
        format!("<{}>", href.replace('<', "%3C").replace('>', "%3E"))
    } else {
        href
    }
}

fn render_link(e: &Elem, ctx: Ctx, inl: &mut Inline) {
    let href = e.attr("href").map(str::trim).unwrap_or("");
    let inner = render_inline_to_string(&e.children, Ctx { link: true, ..ctx });
    if ctx.link || href.is_empty() {
        if ctx.link {
            inl.push_md(&inner);
        } else {
            // No href: plain text (re-render so that bare URLs are autolinked).
            render_inline_children(&e.children, ctx, inl);
        }
        return;
    }
    let inner = inner.replace('\n', " ");
    if inner.trim().is_empty() {
        if is_absolute_url(href) && !href.contains([' ', '<', '>']) {
            inl.push_md(&format!("<{href}>"));
        } else if !inner.is_empty() {
            inl.push_md(" ");
        }
        return;
    }
    push_wrapped(inl, &inner, "[", &format!("]({})", link_destination(href)));
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::html_to_markdown as md;

    #[test]
    fn empty_input() {
        assert_eq!(md(""), "");
        assert_eq!(md("   \n\t "), "");
        assert_eq!(md("<p></p>"), "");
        assert_eq!(md("<p> </p><ul></ul>"), "");
    }

    #[test]
    fn paragraphs() {
        assert_eq!(md("<p>One.</p><p>Two.</p>"), "One.\n\nTwo.");
        assert_eq!(md("plain text"), "plain text");
        assert_eq!(md("<p>a</p>\n   <p>b</p>\n"), "a\n\nb");
    }

    #[test]
    fn whitespace_collapse() {
        assert_eq!(
            md("<p>  Hello\n      big   \t world  </p>"),
            "Hello big world"
        );
        assert_eq!(md("<p>a <b> bold </b> c</p>"), "a **bold** c");
        assert_eq!(
            md("<p>\n   <b>Cross-account use</b>: No.</p>"),
            "**Cross-account use**: No."
        );
    }

    #[test]
    fn code() {
        assert_eq!(md("<p>Use <code>KeyId</code>.</p>"), "Use `KeyId`.");
        assert_eq!(md("<p><code>a`b</code></p>"), "`` a`b ``");
        assert_eq!(md("<p><code>a``b</code></p>"), "``` a``b ```");
        assert_eq!(md("<code>x  \n  y</code> z"), "`x y` z");
        assert_eq!(md("<p>x<code></code>y</p>"), "xy");
        // Markdown characters inside code are not escaped.
        assert_eq!(md("<code>a_b*[c]</code>"), "`a_b*[c]`");
        assert_eq!(md("<code>&lt;T&gt;</code>"), "`<T>`");
    }

    #[test]
    fn links() {
        assert_eq!(
            md(r#"<p>See <a href="https://example.com/x.html">the guide</a>.</p>"#),
            "See [the guide](https://example.com/x.html)."
        );
        assert_eq!(
            md("<p>Call <a>CreateKey</a> first.</p>"),
            "Call CreateKey first."
        );
        assert_eq!(md(r#"<a href="foo.html">rel</a>"#), "[rel](foo.html)");
        assert_eq!(
            md(r#"<a href='https://a.b/c'>single</a>"#),
            "[single](https://a.b/c)"
        );
        assert_eq!(
            md("<a href=https://a.b/c>unquoted</a>"),
            "[unquoted](https://a.b/c)"
        );
        assert_eq!(
            md(r#"<a href="https://a.b/"><code>Foo</code></a>"#),
            "[`Foo`](https://a.b/)"
        );
        assert_eq!(
            md(r#"<a href="https://a.b/c d">x</a>"#),
            "[x](<https://a.b/c d>)"
        );
        assert_eq!(md(r#"<a href="https://a.b/"></a>"#), "<https://a.b/>");
        assert_eq!(
            md(r#"x <a href="https://a.b/?q=1&amp;r=2"> y </a> z"#),
            "x [y](https://a.b/?q=1&r=2) z"
        );
    }

    #[test]
    fn emphasis() {
        assert_eq!(
            md("<b>bold</b> <strong>strong</strong>"),
            "**bold** **strong**"
        );
        assert_eq!(md("<i>it</i> <em>em</em>"), "*it* *em*");
        assert_eq!(md("<b><i>both</i></b>"), "***both***");
        assert_eq!(md("<b>a <b>b</b></b>"), "**a b**");
        assert_eq!(md("x<b></b>y"), "xy");
    }

    #[test]
    fn line_breaks() {
        assert_eq!(md("<p>one<br/>two<br>three</p>"), "one\\\ntwo\\\nthree");
        assert_eq!(md("<p>end<br/></p>"), "end");
        assert_eq!(md("<p>a<br/><br/>b</p>"), "a\n\nb");
    }

    #[test]
    fn lists() {
        assert_eq!(md("<ul><li>a</li><li>b</li></ul>"), "- a\n- b");
        assert_eq!(md("<ol><li>a</li><li>b</li></ol>"), "1. a\n2. b");
        assert_eq!(
            md("<p>Related operations:</p><ul><li><p><a>Foo</a></p></li><li><p>Bar</p></li></ul>"),
            "Related operations:\n\n- Foo\n- Bar"
        );
        assert_eq!(
            md("<ul><li><p>first</p><p>second</p></li></ul>"),
            "- first\n\n  second"
        );
        assert_eq!(
            md("<ol><li><p>first</p><p>second</p></li></ol>"),
            "1. first\n\n   second"
        );
        assert_eq!(md("<ul><li>line<br/>break</li></ul>"), "- line\\\n  break");
        assert_eq!(md("<ul><li></li><li>x</li></ul>"), "- x");
    }

    #[test]
    fn nested_list() {
        let html = "<ul>\n  <li><p>Outer one</p>\n    <ul><li><p>Inner a</p></li><li>Inner b\n      <ol><li>deep</li></ol></li></ul>\n  </li>\n  <li>Outer two</li>\n</ul>";
        assert_eq!(
            md(html),
            "- Outer one\n  - Inner a\n  - Inner b\n    1. deep\n- Outer two"
        );
        let html = "<ol><li>Step<ul><li>detail</li></ul></li><li>Next</li></ol>";
        assert_eq!(md(html), "1. Step\n   - detail\n2. Next");
    }

    #[test]
    fn note_and_important() {
        assert_eq!(
            md("<note><p>Be careful.</p></note>"),
            "**Note:** Be careful."
        );
        assert_eq!(
            md("<important><p>A</p><p>B</p></important>"),
            "**Important:** A\n\nB"
        );
        assert_eq!(
            md("<p>x</p><note>bare text</note><p>y</p>"),
            "x\n\n**Note:** bare text\n\ny"
        );
        assert_eq!(md("<note><ul><li>a</li></ul></note>"), "**Note:**\n\n- a");
    }

    #[test]
    fn definition_list() {
        let html = "<dl><dt>Term one</dt><dd><p>Desc <i>one</i>.</p></dd><dt><b>Two</b></dt><dd>Desc two</dd></dl>";
        assert_eq!(
            md(html),
            "**Term one**\n\nDesc *one*.\n\n**Two**\n\nDesc two"
        );
    }

    #[test]
    fn pre_blocks() {
        assert_eq!(
            md("<pre>\nfn main() {\n    x &lt; y;\n}\n</pre>"),
            "```text\nfn main() {\n    x < y;\n}\n```"
        );
        assert_eq!(
            md("<pre><code>a  \n  b</code></pre>"),
            "```text\na\n  b\n```"
        );
        assert_eq!(
            md("<pre>has ``` fence</pre>"),
            "````text\nhas ``` fence\n````"
        );
        assert_eq!(
            md("<p><code>{\n  \"a\": 1\n}</code></p>"),
            "```text\n{\n  \"a\": 1\n}\n```"
        );
        assert_eq!(
            md("<ul><li>x<pre>code</pre></li></ul>"),
            "- x\n\n  ```text\n  code\n  ```"
        );
    }

    #[test]
    fn fullname_div_headings() {
        assert_eq!(
            md("<fullname>Key Management Service</fullname><p>Intro.</p>"),
            "Key Management Service\n\nIntro."
        );
        assert_eq!(md("<div><p>a</p></div><div>b</div>"), "a\n\nb");
        assert_eq!(
            md("<h1>Title</h1><p>x</p><h3>Sub <code>c</code></h3>"),
            "# Title\n\nx\n\n### Sub `c`"
        );
    }

    #[test]
    fn unknown_tags() {
        assert_eq!(
            md("<p>a <span class=\"x\">b</span> <foo>c</foo></p>"),
            "a b c"
        );
        // Unknown tag never closed: literal placeholder text.
        assert_eq!(
            md("<p>format <code>aws/<service-name></code></p>"),
            "format `aws/<service-name>`"
        );
        assert_eq!(
            md("<p>cluster-<i><cluster-id></i>-sg</p>"),
            "cluster-*\\<cluster-id\\>*-sg"
        );
        assert_eq!(md("<p>x<custom/>y</p>"), "xy");
        assert_eq!(md("<!-- comment --><p>a</p>"), "a");
    }

    #[test]
    fn entities() {
        assert_eq!(
            md("&amp; &lt; &gt; &quot; &apos; &#39; &#65; &#x42; &#X43;"),
            "& \\< \\> \" ' ' A B C"
        );
        assert_eq!(md("a&nbsp;b"), "a\u{a0}b");
        assert_eq!(md("&bogus; &amp"), "\\&bogus; \\&amp");
        assert_eq!(
            md("&#0; &#xD800; &#99999999999;"),
            "\u{FFFD} \u{FFFD} \u{FFFD}"
        );
        assert_eq!(md("AT&T"), "AT\\&T");
        assert_eq!(md("a & b"), "a & b");
    }

    #[test]
    fn escaping() {
        assert_eq!(md("<p>[x] and a<b</p>"), "\\[x\\] and a\\<b");
        assert_eq!(md("<p>a &lt;T&gt; b</p>"), "a \\<T\\> b");
        assert_eq!(
            md("<p>*star* _under_ KEY_ID</p>"),
            "\\*star\\* \\_under\\_ KEY_ID"
        );
        assert_eq!(
            md("<p>back`tick and \\ slash</p>"),
            "back\\`tick and \\\\ slash"
        );
        assert_eq!(md("<p># not heading</p>"), "\\# not heading");
        assert_eq!(md("<p>- not list</p>"), "\\- not list");
        assert_eq!(md("<p>2014. A year</p>"), "2014\\. A year");
        assert_eq!(md("<p>a<br/>+ b</p>"), "a\\\n\\+ b");
        assert_eq!(md("<p>-1 is fine</p>"), "-1 is fine");
    }

    #[test]
    fn bare_urls() {
        assert_eq!(
            md("<p>See https://example.com/a_b.</p>"),
            "See <https://example.com/a_b>."
        );
        assert_eq!(md("<p>(http://x.org/p)</p>"), "(<http://x.org/p>)");
        assert_eq!(
            md("<p>Begins with <code>https://</code> or https:// alone</p>"),
            "Begins with `https://` or https:// alone"
        );
        assert_eq!(
            md(r#"<a href="https://x.org">https://x.org</a>"#),
            "[https://x.org](https://x.org)"
        );
        assert_eq!(md("<a>https://x.org</a>"), "<https://x.org>");
    }

    #[test]
    fn malformed_input() {
        assert_eq!(md("<p>unclosed <b>bold"), "unclosed **bold**");
        assert_eq!(
            md("stray < sign and 1 < 2 > 0"),
            "stray \\< sign and 1 \\< 2 \\> 0"
        );
        assert_eq!(md("<p>a</b></p></ul>b"), "a\n\nb");
        assert_eq!(md("<ul><li>one<li>two</ul>"), "- one\n- two");
        assert_eq!(md("<p>one<p>two"), "one\n\ntwo");
        assert_eq!(
            md("<a href=\"unterminated>text</a>"),
            "\\<a href=\"unterminated\\>text"
        );
        assert_eq!(md("<p>tail <"), "tail \\<");
        assert_eq!(md("<p>tail </"), "tail \\</");
        assert_eq!(md("<a href='x' title=\"y\" disabled>t</a>"), "[t](x)");
        assert_eq!(
            md("<<<>>></></p><!-- unterminated"),
            "\\<\\<\\<\\>\\>\\>\\</\\>"
        );
        // Deep nesting must not overflow the stack.
        let deep = "<b><i><ul><li>".repeat(5000) + "x";
        let out = md(&deep);
        assert!(out.contains('x'));
        let deep = "<div>".repeat(100_000);
        assert_eq!(md(&deep), "");
        // Multi-byte characters next to markup.
        assert_eq!(
            md("<p>héllo <b>wörld</b> ✓</p><é"),
            "héllo **wörld** ✓\n\n\\<é"
        );
    }

    /// Checks that every backtick run opens a code span that is closed by a
    /// run of the same length (backslash-escaped backticks outside code spans
    /// are skipped).
    fn backticks_balanced(text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '\\' => i += 2,
                '`' => {
                    let start = i;
                    while i < chars.len() && chars[i] == '`' {
                        i += 1;
                    }
                    let n = i - start;
                    let mut found = false;
                    while i < chars.len() {
                        if chars[i] == '`' {
                            let s = i;
                            while i < chars.len() && chars[i] == '`' {
                                i += 1;
                            }
                            if i - s == n {
                                found = true;
                                break;
                            }
                        } else {
                            i += 1;
                        }
                    }
                    if !found {
                        return false;
                    }
                }
                _ => i += 1,
            }
        }
        true
    }

    fn collect_docs(model: &serde_json::Value) -> Vec<(String, String)> {
        let mut docs = Vec::new();
        let doc_of = |v: &serde_json::Value| {
            v.get("traits")
                .and_then(|t| t.get("smithy.api#documentation"))
                .and_then(|d| d.as_str())
                .map(str::to_string)
        };
        if let Some(shapes) = model.get("shapes").and_then(|s| s.as_object()) {
            for (id, shape) in shapes {
                if let Some(d) = doc_of(shape) {
                    docs.push((id.clone(), d));
                }
                if let Some(members) = shape.get("members").and_then(|m| m.as_object()) {
                    for (name, member) in members {
                        if let Some(d) = doc_of(member) {
                            docs.push((format!("{id}${name}"), d));
                        }
                    }
                }
            }
        }
        docs
    }

    #[test]
    fn kms_model_docs() {
        let Some(model) = crate::upstream_kms_model() else {
            return;
        };
        let docs = collect_docs(&model);
        assert!(
            docs.len() > 100,
            "expected many documentation strings, got {}",
            docs.len()
        );
        for (id, html) in &docs {
            let out = md(html);
            assert!(
                !html.trim().is_empty() && !out.is_empty(),
                "{id}: empty output"
            );
            assert!(!out.contains("<p>"), "{id}: leftover <p>:\n{out}");
            let bytes = out.as_bytes();
            for (pos, _) in out.match_indices("</") {
                assert!(
                    pos > 0 && bytes[pos - 1] == b'\\',
                    "{id}: leftover end tag at {pos}:\n{out}"
                );
            }
            assert!(!out.ends_with('\n'), "{id}: trailing newline");
            for line in out.lines() {
                assert_eq!(
                    line,
                    line.trim_end(),
                    "{id}: trailing whitespace in line {line:?}"
                );
            }
            for paragraph in out.split("\n\n") {
                assert!(
                    backticks_balanced(paragraph),
                    "{id}: unbalanced backticks in:\n{paragraph}"
                );
            }
        }
        if let Some((_, html)) = docs
            .iter()
            .find(|(id, _)| id == "com.amazonaws.kms#DescribeCustomKeyStores")
        {
            for line in md(html).lines().take(40) {
                println!("{line}");
            }
        }
    }
}
