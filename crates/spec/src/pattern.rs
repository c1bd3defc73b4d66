//! `@pattern` values are ECMA-262 regular expressions; the `regex-lite` crate differs in
//! a few places. This module translates one into the other so both match alike.

/// ECMA-262's `\s`: WhiteSpace and LineTerminator, as the members of a class.
const ECMA_SPACE: &str =
    r"\t\n\x0B\x0C\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF";

/// ECMA-262's `\S` as the members of a class: every character but [`ECMA_SPACE`]'s (a
/// class cannot hold a negated class, and `regex-lite`'s `\S` is ASCII).
const ECMA_NON_SPACE: &str = r"\x{0}-\x{8}\x{E}-\x{1F}\x{21}-\x{9F}\x{A1}-\x{167F}\x{1681}-\x{1FFF}\x{200B}-\x{2027}\x{202A}-\x{202E}\x{2030}-\x{205E}\x{2060}-\x{2FFF}\x{3001}-\x{FEFE}\x{FF00}-\x{10FFFF}";

/// Translates an ECMA-262 pattern into `regex-lite` syntax.
///
/// `regex-lite`'s `\d`, `\w` and `\b` are ASCII-only, as ECMA's are, and escapes such
/// as `\u00FF` and `\/` mean the same in both; ECMA's `\s` is Unicode whitespace where
/// `regex-lite`'s is ASCII, so it (and `\S`) becomes an explicit class, or explicit
/// members inside one; ECMA's `.` leaves out every
/// LineTerminator (`\r`, U+2028, U+2029 too), so it does as well. Inside a class, `&&` and
/// `~~` are escaped (`regex-lite` rejects them as set operations; ECMA reads them
/// literally), and so is a `[` (`regex-lite` would open a nested class). ECMA's empty
/// class `[]` matches nothing and `[^]` any character.
pub fn ecma_to_regex(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('s') if in_class => out.push_str(ECMA_SPACE),
                Some('s') => {
                    out.push('[');
                    out.push_str(ECMA_SPACE);
                    out.push(']');
                }
                Some('S') if in_class => out.push_str(ECMA_NON_SPACE),
                Some('S') => {
                    out.push_str("[^");
                    out.push_str(ECMA_SPACE);
                    out.push(']');
                }
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            // ECMA's `[]` matches nothing and `[^]` any character; `regex-lite` reads a
            // `]` right after `[` or `[^` as a literal one, and the class as going on.
            '[' if !in_class && chars.as_str().starts_with(']') => {
                chars.next();
                out.push_str(r"[^\x00-\x{10FFFF}]");
            }
            '[' if !in_class && chars.as_str().starts_with("^]") => {
                chars.nth(1);
                out.push_str(r"[\x00-\x{10FFFF}]");
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
            }
            '[' => out.push_str("\\["),
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            // ECMA's `.` matches anything but a LineTerminator; `regex-lite`'s, anything
            // but `\n`.
            '.' if !in_class => out.push_str(r"[^\n\r\u2028\u2029]"),
            '&' | '~' if in_class && chars.as_str().starts_with(c) => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Compiles an ECMA-262 pattern with the `regex-lite` crate after [`ecma_to_regex`].
pub fn compile(pattern: &str) -> Result<regex_lite::Regex, regex_lite::Error> {
    regex_lite::Regex::new(&ecma_to_regex(pattern))
}

/// One character class (inclusive, sorted, merged ranges) repeated `min` to `max`
/// times (`None`: unbounded); a literal is a class of one character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// The characters, as inclusive ranges.
    pub ranges: Vec<(char, char)>,
    /// Fewest repetitions.
    pub min: u32,
    /// Most repetitions, `None` for no limit.
    pub max: Option<u32>,
}

/// The pattern as a sequence of [`Run`]s, when it is `^…$` made of literals and
/// character classes with quantifiers and one greedy left-to-right scan decides it
/// exactly: no run of variable length overlaps a class that may follow it. `None`
/// for anything else (alternation, groups, `.`, negated classes, lazy quantifiers,
/// unanchored patterns…), which stays with the regex engine.
pub fn runs(pattern: &str) -> Option<Vec<Run>> {
    let body = pattern.strip_prefix('^')?.strip_suffix('$')?;
    let trailing_backslashes = body.chars().rev().take_while(|c| *c == '\\').count();
    if trailing_backslashes % 2 == 1 {
        return None; // the `$` is escaped
    }
    let mut chars = body.chars().peekable();
    let mut runs = Vec::new();
    while let Some(c) = chars.next() {
        let ranges = match c {
            '[' => class(&mut chars)?,
            '\\' => escape(chars.next()?)?,
            '.' | '(' | ')' | '|' | '?' | '*' | '+' | '{' | '}' | '^' | '$' | ']' => return None,
            c => vec![(c, c)],
        };
        let (min, max) = quantifier(&mut chars)?;
        runs.push(Run {
            ranges: merged(ranges),
            min,
            max,
        });
    }
    for (i, run) in runs.iter().enumerate() {
        if run.max == Some(run.min) {
            continue;
        }
        for next in &runs[i + 1..] {
            if overlap(&run.ranges, &next.ranges) {
                return None;
            }
            if next.min > 0 {
                break;
            }
        }
    }
    Some(runs)
}

/// A part of a pattern that [`runs`] accepts: consecutive single characters are
/// joined into a literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// These characters, exactly.
    Literal(String),
    /// A class and its repetitions.
    Class(Run),
}

/// [`runs`], with consecutive single characters joined into literals.
pub fn pieces(pattern: &str) -> Option<Vec<Piece>> {
    let mut out = Vec::new();
    for run in runs(pattern)? {
        match (run.ranges.as_slice(), out.last_mut()) {
            ([(lo, hi)], last) if lo == hi && run.min == 1 && run.max == Some(1) => match last {
                Some(Piece::Literal(text)) => text.push(*lo),
                _ => out.push(Piece::Literal(lo.to_string())),
            },
            _ => out.push(Piece::Class(run)),
        }
    }
    Some(out)
}

/// A pattern as a Glushkov automaton: one state per character-class occurrence (with
/// counted repetitions unrolled), no empty transitions. A value matches when, reading
/// it one character at a time from the `first` states through each state's `follow`
/// set, some state of `last` is reached at its end (or it is empty and `nullable`).
/// Simulating it takes linear time whatever the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Automaton {
    /// Per state: the characters it reads, and the states that may come next (bit `i`
    /// is state `i`).
    pub states: Vec<(Vec<(char, char)>, u128)>,
    /// The states that may read the first character.
    pub first: u128,
    /// The states a match may end in.
    pub last: u128,
    /// Whether the empty string matches.
    pub nullable: bool,
}

/// The most states an [`Automaton`] has (one bit each in a `u128`).
pub const MAX_STATES: usize = 128;

/// The automaton of a pattern whose every top-level alternative is anchored (`^…$`),
/// made of literals, classes, `.`, groups (`(…)`, `(?:…)`), alternation and greedy
/// quantifiers; `None` for anything else (lookarounds, back-references, inner
/// anchors, lazy quantifiers…) or beyond [`MAX_STATES`] states.
pub fn automaton(pattern: &str) -> Option<Automaton> {
    let mut chars = pattern.chars().peekable();
    let node = alternation(&mut chars, true)?;
    if chars.next().is_some() {
        return None;
    }
    let mut builder = Glushkov::default();
    let fragment = builder.build(&node)?;
    Some(Automaton {
        states: builder.states,
        first: fragment.first,
        last: fragment.last,
        nullable: fragment.nullable,
    })
}

/// The syntax tree [`automaton`] builds from.
enum Node {
    Empty,
    Class(Vec<(char, char)>),
    Concat(Vec<Node>),
    Alternation(Vec<Node>),
    Repeat(Box<Node>, u32, Option<u32>),
}

/// ECMA-262's `.`: anything but a line terminator.
const DOT_RANGES: &[(char, char)] = &[
    ('\0', '\t'),
    ('\u{b}', '\u{c}'),
    ('\u{e}', '\u{2027}'),
    ('\u{202a}', char::MAX),
];

/// Alternatives up to the end (`top`: each anchored `^…$`) or a closing `)`.
fn alternation(chars: &mut Chars<'_>, top: bool) -> Option<Node> {
    let mut branches = vec![sequence(chars, top)?];
    while chars.next_if_eq(&'|').is_some() {
        branches.push(sequence(chars, top)?);
    }
    Some(if branches.len() == 1 {
        branches.pop()?
    } else {
        Node::Alternation(branches)
    })
}

fn sequence(chars: &mut Chars<'_>, top: bool) -> Option<Node> {
    if top && chars.next_if_eq(&'^').is_none() {
        return None;
    }
    let mut items = Vec::new();
    loop {
        match chars.peek() {
            None | Some('|') if top => return None, // no closing `$`
            None | Some('|' | ')') => break,
            Some('$') if top => {
                chars.next();
                if !matches!(chars.peek(), None | Some('|')) {
                    return None;
                }
                break;
            }
            _ => {}
        }
        let atom = match chars.next()? {
            '(' => {
                if chars.next_if_eq(&'?').is_some() && chars.next_if_eq(&':').is_none() {
                    return None; // lookaround or named group
                }
                let inner = alternation(chars, false)?;
                chars.next_if_eq(&')')?;
                inner
            }
            '[' => Node::Class(class(chars)?),
            '.' => Node::Class(DOT_RANGES.to_vec()),
            '\\' => match class_atom('\\', chars)? {
                Ok(c) => Node::Class(vec![(c, c)]),
                Err(set) => Node::Class(set),
            },
            '^' | '$' | '*' | '+' | '?' | '{' | '}' | ']' | ')' | '|' => return None,
            c => Node::Class(vec![(c, c)]),
        };
        let (min, max) = quantifier(chars)?;
        items.push(if (min, max) == (1, Some(1)) {
            atom
        } else {
            Node::Repeat(Box::new(atom), min, max)
        });
    }
    Some(match items.len() {
        0 => Node::Empty,
        1 => items.pop()?,
        _ => Node::Concat(items),
    })
}

/// What a sub-expression contributes to the automaton.
struct Fragment {
    nullable: bool,
    first: u128,
    last: u128,
}

#[derive(Default)]
struct Glushkov {
    states: Vec<(Vec<(char, char)>, u128)>,
}

impl Glushkov {
    fn link(&mut self, from: u128, to: u128) {
        for (i, state) in self.states.iter_mut().enumerate() {
            if from >> i & 1 == 1 {
                state.1 |= to;
            }
        }
    }

    fn concat(&mut self, a: Fragment, b: Fragment) -> Fragment {
        self.link(a.last, b.first);
        Fragment {
            nullable: a.nullable && b.nullable,
            first: a.first | if a.nullable { b.first } else { 0 },
            last: b.last | if b.nullable { a.last } else { 0 },
        }
    }

    fn build(&mut self, node: &Node) -> Option<Fragment> {
        Some(match node {
            Node::Empty => Fragment {
                nullable: true,
                first: 0,
                last: 0,
            },
            Node::Class(ranges) => {
                if self.states.len() == MAX_STATES {
                    return None;
                }
                let bit = 1u128 << self.states.len();
                self.states.push((merged(ranges.clone()), 0));
                Fragment {
                    nullable: false,
                    first: bit,
                    last: bit,
                }
            }
            Node::Concat(items) => {
                let mut whole = self.build(&Node::Empty)?;
                for item in items {
                    let next = self.build(item)?;
                    whole = self.concat(whole, next);
                }
                whole
            }
            Node::Alternation(branches) => {
                let mut whole = Fragment {
                    nullable: false,
                    first: 0,
                    last: 0,
                };
                for branch in branches {
                    let f = self.build(branch)?;
                    whole.nullable |= f.nullable;
                    whole.first |= f.first;
                    whole.last |= f.last;
                }
                whole
            }
            Node::Repeat(inner, min, max) => {
                // Unrolled: `min` copies, then a starred copy or `max - min` optional ones
                // (counts beyond MAX_STATES cannot fit unless `inner` is empty, and then
                // once is as good as any number of times).
                let cap = MAX_STATES as u32 + 1;
                let mut whole = self.build(&Node::Empty)?;
                for _ in 0..(*min).min(cap) {
                    let copy = self.build(inner)?;
                    whole = self.concat(whole, copy);
                }
                let optional = match max {
                    None => 1,
                    Some(max) => (max - min).min(cap),
                };
                for _ in 0..optional {
                    let mut copy = self.build(inner)?;
                    if max.is_none() {
                        self.link(copy.last, copy.first);
                    }
                    copy.nullable = true;
                    whole = self.concat(whole, copy);
                }
                whole
            }
        })
    }
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// ECMA-262's `\s` (WhiteSpace and LineTerminator).
const SPACE_RANGES: &[(char, char)] = &[
    ('\t', '\r'),
    (' ', ' '),
    ('\u{a0}', '\u{a0}'),
    ('\u{1680}', '\u{1680}'),
    ('\u{2000}', '\u{200a}'),
    ('\u{2028}', '\u{2029}'),
    ('\u{202f}', '\u{202f}'),
    ('\u{205f}', '\u{205f}'),
    ('\u{3000}', '\u{3000}'),
    ('\u{feff}', '\u{feff}'),
];

/// The characters of an escape (after `\`); `None` for what this module leaves to
/// the regex engine (assertions, negated classes, back-references, `\c`, `\0`…).
fn escape(c: char) -> Option<Vec<(char, char)>> {
    Some(match c {
        'd' => vec![('0', '9')],
        'w' => vec![('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')],
        's' => SPACE_RANGES.to_vec(),
        't' => vec![('\t', '\t')],
        'n' => vec![('\n', '\n')],
        'r' => vec![('\r', '\r')],
        'f' => vec![('\u{c}', '\u{c}')],
        'v' => vec![('\u{b}', '\u{b}')],
        c if c.is_ascii_punctuation() => vec![(c, c)],
        _ => return None,
    })
}

/// One character of a class: a literal or a single-character escape (`\uXXXX`, `\xXX`,
/// `\-`, …); `Err(ranges)` for a class escape (`\d`, `\w`, `\s`).
fn class_atom(c: char, chars: &mut Chars<'_>) -> Option<Result<char, Vec<(char, char)>>> {
    if c != '\\' {
        return Some(Ok(c));
    }
    let hex = |chars: &mut Chars<'_>, digits: usize| {
        let text: String = (0..digits).map_while(|_| chars.next()).collect();
        if text.len() != digits || !text.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        char::from_u32(u32::from_str_radix(&text, 16).ok()?)
    };
    Some(match chars.next()? {
        'u' if chars.peek() != Some(&'{') => Ok(hex(chars, 4)?),
        'x' => Ok(hex(chars, 2)?),
        e @ ('d' | 'w' | 's') => Err(escape(e)?),
        e => match escape(e)?.as_slice() {
            [(lo, hi)] if lo == hi => Ok(*lo),
            _ => return None,
        },
    })
}

/// A class after its `[`, up to and including `]`.
fn class(chars: &mut Chars<'_>) -> Option<Vec<(char, char)>> {
    if matches!(chars.peek(), Some('^' | ']')) {
        return None;
    }
    let mut ranges = Vec::new();
    loop {
        let c = chars.next()?;
        if c == ']' {
            return Some(ranges);
        }
        if c == '[' {
            return None;
        }
        match class_atom(c, chars)? {
            Err(set) => {
                if chars.peek() == Some(&'-') {
                    return None; // `[\w-x]`: left to the regex engine
                }
                ranges.extend(set);
            }
            Ok(lo) => {
                let mut ahead = chars.clone();
                if ahead.next() == Some('-') && ahead.peek().is_some_and(|c| *c != ']') {
                    chars.next();
                    let first = chars.next()?;
                    let hi = class_atom(first, chars)?.ok()?;
                    if hi < lo {
                        return None;
                    }
                    ranges.push((lo, hi));
                } else {
                    ranges.push((lo, lo));
                }
            }
        }
    }
}

/// The quantifier after an atom, `(1, Some(1))` when there is none.
fn quantifier(chars: &mut Chars<'_>) -> Option<(u32, Option<u32>)> {
    let bounds = match chars.peek() {
        Some('*') => (0, None),
        Some('+') => (1, None),
        Some('?') => (0, Some(1)),
        Some('{') => {
            chars.next();
            let mut text = String::new();
            loop {
                match chars.next()? {
                    '}' => break,
                    c => text.push(c),
                }
            }
            let number = |t: &str| {
                (!t.is_empty() && t.chars().all(|c| c.is_ascii_digit()))
                    .then(|| t.parse::<u32>().ok())
                    .flatten()
            };
            let bounds = match text.split_once(',') {
                None => {
                    let n = number(&text)?;
                    (n, Some(n))
                }
                Some((min, "")) => (number(min)?, None),
                Some((min, max)) => (number(min)?, Some(number(max)?)),
            };
            if bounds.1.is_some_and(|max| max < bounds.0) || chars.peek() == Some(&'?') {
                return None;
            }
            return Some(bounds);
        }
        _ => return Some((1, Some(1))),
    };
    chars.next();
    if matches!(chars.peek(), Some('?' | '*' | '+' | '{')) {
        return None; // lazy or stacked quantifiers
    }
    Some(bounds)
}

fn merged(mut ranges: Vec<(char, char)>) -> Vec<(char, char)> {
    ranges.sort_unstable();
    let mut out: Vec<(char, char)> = Vec::with_capacity(ranges.len());
    for (lo, hi) in ranges {
        match out.last_mut() {
            Some(last) if u32::from(lo) <= u32::from(last.1) + 1 => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

fn overlap(a: &[(char, char)], b: &[(char, char)]) -> bool {
    a.iter()
        .any(|&(alo, ahi)| b.iter().any(|&(blo, bhi)| alo <= bhi && blo <= ahi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_classes() {
        let re = compile(r"^\d+$").unwrap();
        assert!(re.is_match("123"));
        assert!(!re.is_match("١٢٣"), "Arabic-Indic digits are not ECMA \\d");
        let re = compile(r"^[\w-]+$").unwrap();
        assert!(re.is_match("a_b-9"));
        assert!(!re.is_match("é"));
    }

    #[test]
    fn kms_patterns() {
        let path =
            compile(r"^(/[a-zA-Z0-9\/_-]+/kms/xks/v\d{1,2})$|^(/kms/xks/v\d{1,2})$").unwrap();
        assert!(path.is_match("/kms/xks/v1"));
        assert!(path.is_match("/a/b_c/kms/xks/v12"));
        assert!(!path.is_match("/kms/xks/v123"));
        let marker = compile(r"^[\u0020-\u00FF]*$").unwrap();
        assert!(marker.is_match("abc ÿ"));
        assert!(!marker.is_match("a\u{100}"));
        assert!(!marker.is_match("\t"));
    }

    #[test]
    fn whitespace_is_ecma_whitespace() {
        let re = compile(r"^[a-z\s]+$").unwrap();
        assert!(re.is_match("a b\u{a0}c\u{3000}d\te"));
        assert!(!re.is_match("a_b"));
        let re = compile(r"^\s\S$").unwrap();
        assert!(re.is_match("\u{2028}x"));
        assert!(!re.is_match("x\u{2028}"));
        // `\S` alone: `regex-lite`'s is ASCII, and took a no-break space.
        let re = compile(r"^\S+$").unwrap();
        assert!(re.is_match("x_é"));
        for space in ["\u{a0}", "\u{2028}", "\u{3000}", "\u{feff}", "\t"] {
            assert!(!re.is_match(space), "{space:?}");
        }
    }

    /// `\S` inside a class is ECMA's too: a class holding it matches what `\S` alone
    /// matches, for every character (`regex-lite`'s ASCII one took a no-break space).
    #[test]
    fn non_whitespace_in_a_class_is_ecma_non_whitespace() {
        let alone = compile(r"^\S$").unwrap();
        let in_class = compile(r"^[\S]$").unwrap();
        let negated = compile(r"^[^\S]$").unwrap();
        let with_more = compile(r"^[\t\S]$").unwrap();
        let mut text = [0; 4];
        for c in
            ('\0'..=char::MAX).filter(|c| (*c as u32) < 0x1_0000 || (*c as u32).is_multiple_of(97))
        {
            let c = &*c.encode_utf8(&mut text);
            let non_space = alone.is_match(c);
            assert_eq!(in_class.is_match(c), non_space, "{c:?}");
            assert_eq!(negated.is_match(c), !non_space, "{c:?}");
            assert_eq!(with_more.is_match(c), non_space || c == "\t", "{c:?}");
        }
        assert!(!in_class.is_match("\u{a0}") && in_class.is_match("\u{10FFFF}"));
    }

    #[test]
    fn brackets_in_a_class_are_literal() {
        // ECMA reads `[a[]` as `a` or `[`; `regex-lite` would open a nested class.
        let re = compile(r"^[a[]+$").unwrap();
        assert!(re.is_match("a[[a"));
        assert!(!re.is_match("a]"));
    }

    #[test]
    fn empty_classes_are_ecma_empty_classes() {
        // `[]` matches nothing: `^[]a]$` is `[]`, then `a]`, and never matches
        // (`regex-lite` read a class of `]` and `a`).
        let never = compile(r"^[]a]$").unwrap();
        for value in ["a", "]", "a]", "]a]", ""] {
            assert!(!never.is_match(value), "{value:?}");
        }
        // `[^]` matches any character, line terminators too (`regex-lite` refused it).
        let any = compile(r"^a[^]b$").unwrap();
        for value in ["axb", "a]b", "a\nb", "a\u{2028}b"] {
            assert!(any.is_match(value), "{value:?}");
        }
        assert!(!any.is_match("ab") && !any.is_match("a^]b"));
    }

    #[test]
    fn dot_is_ecma_dot() {
        // What the automaton does with `.`; the fallback engine matched `\r` and U+2028.
        let re = compile(r"^a.b$").unwrap();
        assert!(re.is_match("a\tb") && re.is_match("aéb"));
        for line_end in ["\n", "\r", "\u{2028}", "\u{2029}"] {
            assert!(!re.is_match(&format!("a{line_end}b")), "{line_end:?}");
        }
        // Escaped, or in a class, it is a literal dot.
        assert!(!compile(r"^a\.b$").unwrap().is_match("axb"));
        assert!(compile(r"^a[.]b$").unwrap().is_match("a.b"));
        assert!(!compile(r"^a[.]b$").unwrap().is_match("a\rb"));
    }

    #[test]
    fn class_set_operators_are_literal() {
        let re = compile("^[a&&b~~]+$").unwrap();
        assert!(re.is_match("a&&b~~"));
        assert!(!re.is_match("c"));
    }

    #[test]
    fn word_boundary_is_ascii() {
        let re = compile(r"\bkms\b").unwrap();
        assert!(re.is_match("a kms b"));
        assert!(re.is_match("ékmsé"), "é is not an ECMA word character");
        assert!(!re.is_match("akms"));
    }

    #[test]
    fn runs_of_the_kms_patterns() {
        let run = |ranges: &[(char, char)], min, max| Run {
            ranges: ranges.to_vec(),
            min,
            max,
        };
        assert_eq!(
            runs("^[0-9]{12}$"),
            Some(vec![run(&[('0', '9')], 12, Some(12))])
        );
        assert_eq!(
            runs(r"^[\u0020-\u00FF]*$"),
            Some(vec![run(&[(' ', '\u{ff}')], 0, None)])
        );
        assert_eq!(
            runs(r"^[\w+=,.@:/-]+$"),
            Some(vec![run(
                &[('+', ':'), ('=', '='), ('@', 'Z'), ('_', '_'), ('a', 'z')],
                1,
                None
            )])
        );
        let cluster = runs("^cluster-[2-7a-zA-Z]{11,16}$").unwrap();
        assert_eq!(cluster.len(), 9);
        assert_eq!(
            cluster[8],
            run(&[('2', '7'), ('A', 'Z'), ('a', 'z')], 11, Some(16))
        );
        // A class of variable length may overlap what follows a required class it does
        // not overlap.
        assert_eq!(runs("^[a-z]+[0-9][a-z]+$").map(|runs| runs.len()), Some(3));
        // A range of one character.
        assert_eq!(runs("^[a-a]+$"), Some(vec![run(&[('a', 'a')], 1, None)]));
        // Consecutive single characters are one literal.
        assert_eq!(
            pieces(r"^ab\.[0-9]c$"),
            Some(vec![
                Piece::Literal("ab.".into()),
                Piece::Class(run(&[('0', '9')], 1, Some(1))),
                Piece::Literal("c".into()),
            ])
        );
        // `[a-zA-Z0-9-_.]`: `-` after a range is literal.
        assert_eq!(
            runs("^[a-zA-Z0-9-_.]+$").unwrap()[0].ranges,
            [('-', '.'), ('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')]
        );
    }

    #[test]
    fn runs_leave_the_rest_to_the_regex_engine() {
        for pattern in [
            r"^(/[a-zA-Z0-9\/_-]+/kms/xks/v\d{1,2})$|^(/kms/xks/v\d{1,2})$",
            r"^arn:aws[a-z0-9-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]{12}:.+$",
            "[a-z]+",
            "^[a-z]+",
            "^[^a]$",
            "^a+?$",
            "^[a-z]+[a-c]$",
            "^[a-z]*b?c$",
            r"^\bx$",
            r"^[\w-z]$",
            r"^[z-a]$",
            r"^x\$",
            "^a{2,1}$",
            "^a{x}$",
            // Not a quantifier in ECMA (a literal `{+1}`), though `u32` parses `+1`.
            "^a{+1}$",
        ] {
            assert_eq!(runs(pattern), None, "{pattern}");
        }
        // Overlap only matters for runs of variable length.
        assert!(runs("^[a-z]{3}[a-c]$").is_some());
        assert!(runs("^[a-z]+-?[0-9]$").is_some());
        assert!(runs("^[a-z]+-?[a-z]$").is_none());
    }

    #[test]
    fn not_anchored() {
        assert!(compile("b").unwrap().is_match("abc"));
    }

    #[test]
    fn rejects_bad_patterns() {
        assert!(compile("[a-").is_err());
        assert!(compile("(").is_err());
    }
}
