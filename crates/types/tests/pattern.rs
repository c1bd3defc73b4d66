//! Patterns compiled to pieces (one greedy scan) or to automata match exactly what the
//! regex engine matches: every such pattern — hand-picked ones and every `@pattern` of
//! the official KMS model (its import of every operation, `tests/models/kms.json`) —
//! against `regex-lite` on the translated pattern, over many strings.

use kms_spec::pattern::{self, Piece};
use kms_types::validation;

/// Hand-picked patterns: the spec's, and shapes the scan must get right.
const PATTERNS: &[&str] = &[
    "^[0-9]{12}$",
    "^cluster-[2-7a-zA-Z]{11,16}$",
    r"^[\u0020-\u00FF]*$",
    "^[A-Z2-7]+$",
    "^https://[a-zA-Z0-9.-]+$",
    r"^[\u0009\u000A\u000D\u0020-\u00FF]+$",
    r"^[\w+=,.@:/-]+$",
    r"^[\w]+$",
    "^[a-f0-9]+$",
    "^[a-zA-Z0-9-_.]+$",
    "^[a-zA-Z0-9:/_-]+$",
    r"^[a-zA-Z0-9:/_\s.-]+$",
    r"^[a-zA-Z0-9\/+=]+$",
    "^[a-z]{2,4}-?[0-9]+$",
    "^x?y*z{0,2}$",
    r"^a\.b[c-e]{3}$",
    // Control escapes, and a range of one character.
    r"^[\t\n]+\r?\f*[\v-\v]{0,2}$",
];

/// Patterns only the automaton takes.
const AUTOMATON_ONLY: &[&str] = &[
    r"^(/[a-zA-Z0-9\/_-]+/kms/xks/v\d{1,2})$|^(/kms/xks/v\d{1,2})$",
    r"^(com|eu)\.amazonaws\.vpce\.([a-z]+-){2,3}\d+\.vpce-svc-[0-9a-z]+$",
    r"^arn:aws[a-z0-9-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]{12}:.+$",
    r"^([A-Za-z0-9\-]+)\.([A-Za-z0-9\-]+)(\.[A-Za-z0-9\-]+)+$",
    r"^([a-z]+-){2,3}\d+$",
    "^(?:ab|a)*b?$",
    "^$|^x(y|)z{0}$",
    "^(a|b)*a(a|b){3}$",
];

fn leak(pieces: Vec<Piece>) -> &'static [validation::Piece] {
    let pieces: Vec<validation::Piece> = pieces
        .into_iter()
        .map(|piece| match piece {
            Piece::Literal(text) => validation::Piece::Literal(String::leak(text)),
            Piece::Class(run) => validation::Piece::Class {
                ranges: Vec::leak(run.ranges),
                min: run.min,
                max: run.max.unwrap_or(u32::MAX),
            },
        })
        .collect();
    Vec::leak(pieces)
}

/// The official model's patterns.
fn model_patterns() -> Vec<String> {
    let text = include_str!("models/kms.json");
    let mut found = Vec::new();
    let mut rest = text;
    let key = "\"smithy.api#pattern\": ";
    while let Some(at) = rest.find(key) {
        rest = &rest[at + key.len()..];
        let mut de = serde_json::Deserializer::from_str(rest).into_iter::<String>();
        if let Some(Ok(pattern)) = de.next() {
            found.push(pattern);
        }
    }
    found
}

/// xorshift64*: a fixed stream of pseudo-random numbers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Characters worth trying for `pieces`: the ends of every range and their
/// neighbours, the literals' characters, and a few others.
fn alphabet(pieces: &[Piece]) -> Vec<char> {
    let mut chars: Vec<char> = "aZ09 -_./:\t\u{e9}\u{100}\u{3000}+".chars().collect();
    for piece in pieces {
        match piece {
            Piece::Literal(text) => chars.extend(text.chars()),
            Piece::Class(run) => {
                for &(lo, hi) in &run.ranges {
                    for c in [
                        u32::from(lo).wrapping_sub(1),
                        lo.into(),
                        hi.into(),
                        u32::from(hi) + 1,
                    ] {
                        chars.extend(char::from_u32(c));
                    }
                }
            }
        }
    }
    chars
}

/// A string that often follows the pattern's shape, and often almost does.
fn sample(rng: &mut Rng, pieces: &[Piece], alphabet: &[char]) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Literal(text) if rng.below(8) > 0 => out.push_str(text),
            Piece::Literal(_) => {}
            Piece::Class(run) => {
                let max = run.max.unwrap_or(run.min + 6).min(run.min + 6);
                let count = run.min as usize + rng.below((max - run.min) as usize + 2);
                for _ in 0..count {
                    let (lo, hi) = run.ranges[rng.below(run.ranges.len())];
                    let span = u32::from(hi) - u32::from(lo) + 1;
                    let c = char::from_u32(u32::from(lo) + (rng.next() % u64::from(span)) as u32);
                    out.extend(c);
                }
            }
        }
        if rng.below(10) == 0 {
            out.push(alphabet[rng.below(alphabet.len())]);
        }
    }
    out
}

fn leak_automaton(automaton: pattern::Automaton) -> &'static validation::Automaton {
    let states: Vec<(&'static [(char, char)], u128)> = automaton
        .states
        .into_iter()
        .map(|(ranges, follow)| (&*Vec::leak(ranges), follow))
        .collect();
    Box::leak(Box::new(validation::Automaton {
        states: Vec::leak(states),
        first: automaton.first,
        last: automaton.last,
        nullable: automaton.nullable,
    }))
}

/// A walk through the automaton (a string it matches, unless cut short or bent by a
/// stray character).
fn walk(rng: &mut Rng, automaton: &pattern::Automaton, alphabet: &[char]) -> String {
    let mut out = String::new();
    let mut next = automaton.first;
    for _ in 0..80 {
        let candidates: Vec<usize> = (0..automaton.states.len())
            .filter(|i| next >> i & 1 == 1)
            .collect();
        if candidates.is_empty() || rng.below(100) == 0 {
            break;
        }
        let i = candidates[rng.below(candidates.len())];
        let ranges = &automaton.states[i].0;
        let (lo, hi) = ranges[rng.below(ranges.len())];
        let span = (u32::from(hi) - u32::from(lo)).min(300) + 1;
        out.extend(char::from_u32(
            u32::from(lo) + (rng.next() % u64::from(span)) as u32,
        ));
        if rng.below(25) == 0 {
            out.push(alphabet[rng.below(alphabet.len())]);
        }
        if automaton.last >> i & 1 == 1 && rng.below(3) == 0 {
            break;
        }
        next = automaton.states[i].1;
    }
    out
}

/// Checks `ours` against regex-lite on `text` over 4,000 strings: a quarter random
/// over `alphabet`, the rest from `shaped` (strings near the pattern's shape); both
/// outcomes must be well represented.
fn check_against_regex(
    text: &str,
    ours: impl Fn(&str) -> bool,
    rng: &mut Rng,
    alphabet: &[char],
    mut shaped: impl FnMut(&mut Rng) -> String,
) {
    let regex = pattern::compile(text).unwrap();
    let mut matched = 0;
    for i in 0..4_000 {
        let value = if i % 4 == 0 {
            let len = rng.below(12);
            (0..len)
                .map(|_| alphabet[rng.below(alphabet.len())])
                .collect()
        } else {
            shaped(rng)
        };
        let expected = regex.is_match(&value);
        assert_eq!(ours(&value), expected, "{text} on {value:?}");
        matched += usize::from(expected);
    }
    assert!(matched > 100, "{text}: only {matched} matching samples");
    assert!(
        matched < 3_900,
        "{text}: only {} failing samples",
        4_000 - matched
    );
}

#[test]
fn automata_match_like_the_regex_engine() {
    let mut patterns: Vec<String> = PATTERNS
        .iter()
        .chain(AUTOMATON_ONLY)
        .map(|p| (*p).to_owned())
        .collect();
    patterns.extend(model_patterns());
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    for text in &patterns {
        let automaton = pattern::automaton(text)
            .unwrap_or_else(|| panic!("{text} should compile to an automaton"));
        let mut alphabet: Vec<char> = "aZ09 -_./:\t\u{e9}\u{100}\u{3000}+\n".chars().collect();
        for (ranges, _) in &automaton.states {
            for &(lo, hi) in ranges {
                alphabet.extend([lo, hi]);
            }
        }
        let ours = leak_automaton(automaton.clone());
        check_against_regex(
            text,
            |value| ours.is_match(value),
            &mut rng,
            &alphabet,
            |rng| walk(rng, &automaton, &alphabet),
        );
    }
}

#[test]
fn automata_leave_the_rest_to_the_regex_engine() {
    for text in [
        "abc",
        "^a",
        "a$",
        "^a(?=b)$",
        r"^(a)\1$",
        "^a+?$",
        r"^a\bb$",
        "^a^b$",
        "^(a$",
        // An anchor inside a group: `a$` cannot be followed by `c`.
        "^(a$|b)c$",
        // Not a quantifier in ECMA (a literal `{+1}`), though `u32` parses `+1`.
        "^a{+1}$",
    ] {
        assert_eq!(pattern::automaton(text), None, "{text}");
    }
    // 129 states do not fit.
    assert_eq!(pattern::automaton("^a{129}$"), None);
    assert!(pattern::automaton("^a{128}$").is_some());
    // Huge counts of nothing terminate.
    assert!(pattern::automaton("^(?:){4000000000}a$").is_some());
}

#[test]
fn pieces_match_like_the_regex_engine() {
    let mut patterns: Vec<String> = PATTERNS.iter().map(|p| (*p).to_owned()).collect();
    patterns.extend(model_patterns());
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut compiled = 0;
    for text in &patterns {
        let Some(pieces) = pattern::pieces(text) else {
            continue;
        };
        compiled += 1;
        let alphabet = alphabet(&pieces);
        let ours = validation::Pattern::Pieces(leak(pieces.clone()));
        check_against_regex(
            text,
            |value| ours.is_match(value),
            &mut rng,
            &alphabet,
            |rng| sample(rng, &pieces, &alphabet),
        );
    }
    // Of the model's 20 `@pattern`s, all but the alternations, groups and `.+` compile.
    let from_model = compiled - PATTERNS.len();
    assert!(
        from_model >= 15,
        "{from_model} of the model's patterns compiled to pieces"
    );
    eprintln!("{compiled} patterns checked against regex-lite");
}
