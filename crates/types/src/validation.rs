//! The validation runtime: constraint checks the generated validators call, and the
//! error that reports every violation in AWS's ValidationException wording.

use std::fmt;
#[cfg(feature = "regex")]
use std::sync::LazyLock;

/// A constraint a member failed to satisfy, worded as AWS words it.
///
/// Non-exhaustive: checking more of Smithy's constraint traits adds variants, so a
/// `match` needs a wildcard arm:
///
/// ```compile_fail
/// use kms_types::validation::Constraint;
///
/// fn kind(constraint: &Constraint) -> &'static str {
///     match constraint {
///         Constraint::MinLength(_) | Constraint::MaxLength(_) => "length",
///         Constraint::MinValue(_) | Constraint::MaxValue(_) => "range",
///         Constraint::Pattern(_) => "pattern",
///         Constraint::EnumValue(_) | Constraint::UnionMember(_) => "value set",
///         Constraint::Required => "required",
///     }
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Constraint {
    /// `@length(min: N)`
    MinLength(u64),
    /// `@length(max: N)`
    MaxLength(u64),
    /// `@range(min: N)`
    MinValue(String),
    /// `@range(max: N)`
    MaxValue(String),
    /// `@pattern(P)`, P as written in the model.
    Pattern(&'static str),
    /// A value outside the enum's value set.
    EnumValue(&'static [&'static str]),
    /// A union member the model does not define (a union read from a newer service).
    UnionMember(&'static [&'static str]),
    /// `@required`
    Required,
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MinLength(n) => write!(f, "Member must have length greater than or equal to {n}"),
            Self::MaxLength(n) => write!(f, "Member must have length less than or equal to {n}"),
            Self::MinValue(n) => write!(f, "Member must have value greater than or equal to {n}"),
            Self::MaxValue(n) => write!(f, "Member must have value less than or equal to {n}"),
            Self::Pattern(p) => write!(f, "Member must satisfy regular expression pattern: {p}"),
            Self::EnumValue(values) => write!(
                f,
                "Member must satisfy enum value set: [{}]",
                values.join(", ")
            ),
            Self::UnionMember(members) => write!(
                f,
                "Member must set one of the union's members: [{}]",
                members.join(", ")
            ),
            Self::Required => f.write_str("Member must not be null"),
        }
    }
}

/// What the message shows of the offending value.
#[derive(Clone, PartialEq, Eq)]
pub enum Shown {
    /// The value, as text.
    Value(String),
    /// A missing required member.
    Null,
    /// A `@sensitive` value: never echoed.
    Redacted,
}

impl fmt::Debug for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Value(v) => f.debug_tuple("Value").field(v).finish(),
            Self::Null => f.write_str("Null"),
            Self::Redacted => f.write_str("Redacted"),
        }
    }
}

/// One constraint violation: where, what value, which constraint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The lowerCamel member path: `limit`, `xksProxyConfiguration.uriPath`, `customKeyStores.1.member.uriPath`.
    pub path: String,
    /// The value as the message shows it.
    pub value: Shown,
    /// The constraint it failed.
    pub constraint: Constraint,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, None)
    }
}

impl Violation {
    /// Its message, the value cut to `max_chars` characters when given.
    fn write(&self, f: &mut fmt::Formatter<'_>, max_chars: Option<usize>) -> fmt::Result {
        match &self.value {
            Shown::Value(v) => match max_chars {
                Some(max) => write!(f, "Value '{}' at '{}'", excerpt(v, max), self.path)?,
                None => write!(f, "Value '{v}' at '{}'", self.path)?,
            },
            Shown::Null => write!(f, "Value null at '{}'", self.path)?,
            Shown::Redacted => write!(f, "Value at '{}'", self.path)?,
        }
        write!(f, " failed to satisfy constraint: {}", self.constraint)
    }
}

/// Every violation found in one value, in member order. Its `Display` is the
/// ValidationException message: `2 validation errors detected: <first>; <second>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationError {
    violations: Vec<Violation>,
}

impl ValidationError {
    /// Wraps violations; `None` when there are none.
    pub fn new(violations: Vec<Violation>) -> Option<Self> {
        (!violations.is_empty()).then_some(Self { violations })
    }

    /// The violations, in member order.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// A single missing required member `member` at `at`.
    pub fn missing(at: &str, member: &str) -> Self {
        let mut violations = Violations::default();
        violations.required(at, member);
        Self {
            violations: violations.0,
        }
    }

    /// The awsJson error code: `ValidationException`.
    pub const CODE: &'static str = "ValidationException";
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, usize::MAX, None)
    }
}

impl ValidationError {
    /// The message with its first `max_listed` violations and how many more there are,
    /// each value cut to `max_chars` characters: for a message that is not the wire's
    /// (a data file of a million bad entries, a megabyte name).
    pub fn abridged(&self, max_listed: usize, max_chars: usize) -> impl fmt::Display + '_ {
        struct Abridged<'a>(&'a ValidationError, usize, usize);
        impl fmt::Display for Abridged<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.write(f, self.1, Some(self.2))
            }
        }
        Abridged(self, max_listed, max_chars)
    }

    fn write(
        &self,
        f: &mut fmt::Formatter<'_>,
        max_listed: usize,
        max_chars: Option<usize>,
    ) -> fmt::Result {
        let n = self.violations.len();
        write!(
            f,
            "{n} validation error{} detected: ",
            if n == 1 { "" } else { "s" }
        )?;
        for (i, v) in self.violations.iter().take(max_listed).enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            v.write(f, max_chars)?;
        }
        if n > max_listed {
            write!(f, "; and {} more", n - max_listed)?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationError {}

/// Types with generated validators: every structure of the model.
///
/// A validator checks what the model's traits say — `@required`, `@length`, `@range`,
/// `@pattern`, enum values — in member order, nested structures and list items
/// included. It cannot check a rule the model does not express: KMS refuses
/// `CustomKeyStoreId` together with `CustomKeyStoreName`, for one, yet a request with
/// both passes `validate()` (kms-server checks such rules itself, in
/// `kms_server::router::check_input_rules`):
///
/// ```
/// use kms_types::{DescribeCustomKeyStoresRequest, Validate};
///
/// let both = DescribeCustomKeyStoresRequest::builder()
///     .custom_key_store_id("cks-1234567890abcdef0")
///     .custom_key_store_name("ExampleKeyStore")
///     .build();
/// assert!(both.validate().is_ok()); // KMS answers ValidationException all the same
/// ```
pub trait Validate {
    /// Records the violations of `self`, found at member path `at` (empty at the top), into `violations`.
    fn validate_at(&self, at: &str, violations: &mut Violations);

    /// Checks every constraint, recursively, and reports all violations at once.
    fn validate(&self) -> Result<(), ValidationError> {
        let mut violations = Violations::default();
        self.validate_at("", &mut violations);
        violations.into_result()
    }
}

impl<T: Validate + ?Sized> Validate for Box<T> {
    fn validate_at(&self, at: &str, violations: &mut Violations) {
        (**self).validate_at(at, violations);
    }
}

/// Inclusive bounds of `@length` or `@range`; `None` is unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds<T> {
    /// The least allowed value.
    pub min: Option<T>,
    /// The greatest allowed value.
    pub max: Option<T>,
}

impl<T> Bounds<T> {
    /// Bounds from `min` to `max`.
    pub const fn new(min: Option<T>, max: Option<T>) -> Self {
        Self { min, max }
    }
}

/// The collector the generated validators write into.
#[derive(Debug, Default)]
pub struct Violations(Vec<Violation>);

/// The path of `member` (a model member name) below `at`, in lowerCamel: `a.b`.
pub fn member_path(at: &str, member: &str) -> String {
    let mut path = String::with_capacity(at.len() + member.len() + 1);
    path.push_str(at);
    push_member(&mut path, member);
    path
}

/// [`member_path`] in place: `.member` in lowerCamel appended to `path` (without the
/// dot when `path` is empty).
pub(crate) fn push_member(path: &mut String, member: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    let mut chars = member.chars();
    if let Some(first) = chars.next() {
        path.extend(first.to_lowercase());
        path.push_str(chars.as_str());
    }
}

/// serde's `invalid type: integer `123`, expected a string` without the value it
/// quotes: `invalid type: integer, expected a string`. A value sent where another type
/// belongs may be a secret (an `@sensitive` member given as a number), and messages
/// end up in responses and logs; the member path says where the fault is.
pub fn without_value(message: &str) -> std::borrow::Cow<'_, str> {
    let quoted = ["invalid type: ", "invalid value: "]
        .iter()
        .any(|p| message.starts_with(p));
    // The last `, expected `: the value quoted before it may hold those words too.
    match (quoted, message.rsplit_once(", expected ")) {
        (true, Some((found, expected))) => {
            let kind = found.split(['`', '"']).next().unwrap_or(found).trim_end();
            format!("{kind}, expected {expected}").into()
        }
        _ => message.into(),
    }
}

/// At most `max_chars` characters of `text`, with `…` when cut: how a message quotes a
/// value a peer or a file gave, which may be megabytes long.
pub fn excerpt(text: &str, max_chars: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", &text[..end]).into(),
        None => text.into(),
    }
}

/// The path of item `index` (0-based) of the list at `path`: `path.<index+1>`. Checks on the
/// item then name it `member`, giving AWS's `path.<index+1>.member`.
pub fn item_path(path: &str, index: usize) -> String {
    // As u128: `usize::MAX + 1` is a position too, if an absurd one.
    format!("{path}.{}", index as u128 + 1)
}

impl Violations {
    /// The violations so far.
    pub fn as_slice(&self) -> &[Violation] {
        &self.0
    }

    /// `Ok` when nothing was recorded.
    pub fn into_result(self) -> Result<(), ValidationError> {
        ValidationError::new(self.0).map_or(Ok(()), Err)
    }

    /// The violations, taken out.
    pub(crate) fn into_vec(self) -> Vec<Violation> {
        self.0
    }

    /// Records a violation of `constraint` by member `member` at `at`.
    pub fn push(&mut self, at: &str, member: &str, value: Shown, constraint: Constraint) {
        self.0.push(Violation {
            path: member_path(at, member),
            value,
            constraint,
        });
    }

    fn shown(value: impl FnOnce() -> String, sensitive: bool) -> Shown {
        if sensitive {
            Shown::Redacted
        } else {
            Shown::Value(value())
        }
    }

    /// The union at `at` holds `member`, which the model does not define (`members`).
    pub fn union_member(&mut self, at: &str, member: &str, members: &'static [&'static str]) {
        self.0.push(Violation {
            path: at.to_owned(),
            value: Shown::Value(member.to_owned()),
            constraint: Constraint::UnionMember(members),
        });
    }

    /// A missing required member.
    pub fn required(&mut self, at: &str, member: &str) {
        self.push(at, member, Shown::Null, Constraint::Required);
    }

    /// `@length` on a string: counts Unicode scalar values.
    pub fn string_length(
        &mut self,
        at: &str,
        member: &str,
        value: &str,
        bounds: Bounds<u64>,
        sensitive: bool,
    ) {
        let len = value.chars().count() as u64;
        self.length(at, member, len, bounds, || value.to_owned(), sensitive);
    }

    /// `@length` on a list, map or blob: counts items or bytes; `shown` renders the value.
    pub fn count_length(
        &mut self,
        at: &str,
        member: &str,
        len: usize,
        bounds: Bounds<u64>,
        shown: impl FnOnce() -> String,
        sensitive: bool,
    ) {
        self.length(at, member, len as u64, bounds, shown, sensitive);
    }

    fn length(
        &mut self,
        at: &str,
        member: &str,
        len: u64,
        bounds: Bounds<u64>,
        shown: impl FnOnce() -> String,
        sensitive: bool,
    ) {
        let constraint = match bounds {
            Bounds { min: Some(min), .. } if len < min => Constraint::MinLength(min),
            Bounds { max: Some(max), .. } if len > max => Constraint::MaxLength(max),
            _ => return,
        };
        self.push(at, member, Self::shown(shown, sensitive), constraint);
    }

    /// `@range`: inclusive bounds on a number.
    pub fn range<T: PartialOrd + fmt::Display + Copy>(
        &mut self,
        at: &str,
        member: &str,
        value: T,
        bounds: Bounds<T>,
        sensitive: bool,
    ) {
        let constraint = match bounds {
            Bounds { min: Some(min), .. } if value < min => Constraint::MinValue(min.to_string()),
            Bounds { max: Some(max), .. } if value > max => Constraint::MaxValue(max.to_string()),
            _ => return,
        };
        self.push(
            at,
            member,
            Self::shown(|| value.to_string(), sensitive),
            constraint,
        );
    }

    /// `@pattern`: `compiled` is the compiled form of `pattern` (ECMA-262, as written in
    /// the model).
    pub fn pattern(
        &mut self,
        at: &str,
        member: &str,
        value: &str,
        compiled: &Pattern,
        pattern: &'static str,
        sensitive: bool,
    ) {
        if !compiled.is_match(value) {
            self.push(
                at,
                member,
                Self::shown(|| value.to_owned(), sensitive),
                Constraint::Pattern(pattern),
            );
        }
    }

    /// Enum membership: `known` is false for a value outside `values`.
    pub fn enum_value(
        &mut self,
        at: &str,
        member: &str,
        value: &str,
        known: bool,
        values: &'static [&'static str],
        sensitive: bool,
    ) {
        if !known {
            self.push(
                at,
                member,
                Self::shown(|| value.to_owned(), sensitive),
                Constraint::EnumValue(values),
            );
        }
    }
}

/// A compiled `@pattern`.
pub enum Pattern {
    /// `^…$` made of literals and character classes repeated a fixed, bounded or
    /// unbounded number of times, where no class of variable length overlaps what may
    /// follow it: one greedy left-to-right scan decides, in linear time (kms-spec's
    /// `pattern::runs` finds these).
    Pieces(&'static [Piece]),
    /// Any other pattern whose alternatives are all anchored, as a Glushkov automaton
    /// simulated in linear time (kms-spec's `pattern::automaton`).
    Automaton(&'static Automaton),
    /// The rest, with `regex-lite` (feature `regex`).
    #[cfg(feature = "regex")]
    Regex(LazyLock<regex_lite::Regex>),
}

/// A Glushkov automaton of at most 128 states: see [`Pattern::Automaton`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Automaton {
    /// Per state: the characters it reads (inclusive ranges) and the states that may
    /// come next (bit `i` is state `i`).
    pub states: &'static [(&'static [(char, char)], u128)],
    /// The states that may read the first character.
    pub first: u128,
    /// The states a match may end in.
    pub last: u128,
    /// Whether the empty string matches.
    pub nullable: bool,
}

impl Automaton {
    /// Whether `value` matches.
    pub fn is_match(&self, value: &str) -> bool {
        let mut current = 0u128;
        let mut next = self.first;
        for c in value.chars() {
            current = 0;
            let mut candidates = next;
            while candidates != 0 {
                let i = candidates.trailing_zeros() as usize;
                candidates &= candidates - 1;
                if self.states[i].0.iter().any(|&(lo, hi)| lo <= c && c <= hi) {
                    current |= 1 << i;
                }
            }
            if current == 0 {
                return false;
            }
            next = 0;
            let mut active = current;
            while active != 0 {
                let i = active.trailing_zeros() as usize;
                active &= active - 1;
                next |= self.states[i].1;
            }
        }
        if value.is_empty() {
            self.nullable
        } else {
            current & self.last != 0
        }
    }
}

/// A part of a [`Pattern::Pieces`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece {
    /// These characters, exactly.
    Literal(&'static str),
    /// `min..=max` characters (`max` `u32::MAX`: no limit) from `ranges` (inclusive).
    Class {
        /// The characters.
        ranges: &'static [(char, char)],
        /// Fewest.
        min: u32,
        /// Most.
        max: u32,
    },
}

impl Pattern {
    /// Whether `value` matches.
    pub fn is_match(&self, value: &str) -> bool {
        match self {
            Self::Pieces(pieces) => {
                let mut rest = value;
                for piece in *pieces {
                    match *piece {
                        Piece::Literal(text) => match rest.strip_prefix(text) {
                            Some(after) => rest = after,
                            None => return false,
                        },
                        Piece::Class { ranges, min, max } => {
                            let mut count = 0;
                            let mut end = rest.len();
                            for (at, c) in rest.char_indices() {
                                if count == max
                                    || !ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi)
                                {
                                    end = at;
                                    break;
                                }
                                count += 1;
                            }
                            if count < min {
                                return false;
                            }
                            rest = &rest[end..];
                        }
                    }
                }
                rest.is_empty()
            }
            Self::Automaton(automaton) => automaton.is_match(value),
            #[cfg(feature = "regex")]
            Self::Regex(regex) => regex.is_match(value),
        }
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pieces(pieces) => f.debug_tuple("Pieces").field(pieces).finish(),
            Self::Automaton(automaton) => f.debug_tuple("Automaton").field(automaton).finish(),
            #[cfg(feature = "regex")]
            Self::Regex(regex) => f.debug_tuple("Regex").field(&regex.as_str()).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_scan_greedily() {
        // ^cluster-[2-7a-zA-Z]{11,16}$
        static CLUSTER: Pattern = Pattern::Pieces(&[
            Piece::Literal("clu-"),
            Piece::Class {
                ranges: &[('2', '7'), ('A', 'Z'), ('a', 'z')],
                min: 11,
                max: 16,
            },
        ]);
        assert!(CLUSTER.is_match("clu-abcdefghijk"));
        assert!(CLUSTER.is_match("clu-abcdefghijklmnop"));
        assert!(!CLUSTER.is_match("clu-abcdefghij"));
        assert!(!CLUSTER.is_match("clu-abcdefghijklmnopq"));
        assert!(!CLUSTER.is_match("clu-abcdefghijk1"));
        assert!(!CLUSTER.is_match("cl-abcdefghijk"));
        assert!(!CLUSTER.is_match(""));
        // ^[\u0020-\u00FF]*$
        static MARKER: Pattern = Pattern::Pieces(&[Piece::Class {
            ranges: &[(' ', 'ÿ')],
            min: 0,
            max: u32::MAX,
        }]);
        assert!(MARKER.is_match(""));
        assert!(MARKER.is_match("abc ÿ"));
        assert!(!MARKER.is_match("a\u{100}"));
        assert!(!MARKER.is_match("\t"));
    }

    #[cfg(feature = "regex")]
    #[test]
    fn the_rest_goes_to_regex_lite() {
        static ANY: Pattern = crate::__regex_pattern!("^a|b$");
        assert!(ANY.is_match("ax") && ANY.is_match("xb") && !ANY.is_match("x"));
        assert_eq!(format!("{ANY:?}"), r#"Regex("^a|b$")"#);
    }

    #[test]
    fn aws_wording() {
        let mut v = Violations::default();
        v.range("", "Limit", 0, Bounds::new(Some(1), Some(1000)), false);
        assert_eq!(
            v.into_result().unwrap_err().to_string(),
            "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
        );
        let mut v = Violations::default();
        v.string_length(
            "",
            "CustomKeyStoreId",
            "",
            Bounds::new(Some(1), Some(64)),
            false,
        );
        v.string_length(
            "xksProxyConfiguration",
            "AccessKeyId",
            "SECRET",
            Bounds::new(Some(20), None),
            true,
        );
        v.required("", "Name");
        assert_eq!(
            v.into_result().unwrap_err().to_string(),
            "3 validation errors detected: Value '' at 'customKeyStoreId' failed to satisfy constraint: Member must have length greater than or equal to 1; \
             Value at 'xksProxyConfiguration.accessKeyId' failed to satisfy constraint: Member must have length greater than or equal to 20; \
             Value null at 'name' failed to satisfy constraint: Member must not be null"
        );
    }

    /// The abridged message lists the first violations, each value cut, and counts the
    /// rest; with none left over it says nothing more.
    #[test]
    fn abridged_lists_the_first_and_counts_the_rest() {
        let mut v = Violations::default();
        for (member, value) in [("A", "abcdef"), ("B", "xyz"), ("C", "uvwxyz")] {
            v.string_length("", member, value, Bounds::new(Some(7), None), false);
        }
        let e = v.into_result().unwrap_err();
        let at_least_7 =
            "failed to satisfy constraint: Member must have length greater than or equal to 7";
        assert_eq!(
            e.abridged(2, 3).to_string(),
            format!(
                "3 validation errors detected: Value 'abc…' at 'a' {at_least_7}; \
                 Value 'xyz' at 'b' {at_least_7}; and 1 more"
            )
        );
        assert_eq!(
            e.abridged(3, 6).to_string(),
            format!(
                "3 validation errors detected: Value 'abcdef' at 'a' {at_least_7}; \
                 Value 'xyz' at 'b' {at_least_7}; Value 'uvwxyz' at 'c' {at_least_7}"
            )
        );
        assert_eq!(e.abridged(3, 6).to_string(), e.to_string());
    }

    #[test]
    fn shown_values_debug_as_their_variants() {
        let shown = [Shown::Value("x".into()), Shown::Null, Shown::Redacted];
        assert_eq!(format!("{shown:?}"), r#"[Value("x"), Null, Redacted]"#);
    }

    #[test]
    fn lengths_count_scalar_values() {
        let mut v = Violations::default();
        v.string_length("", "x", "ééé", Bounds::new(Some(1), Some(3)), false);
        v.string_length("", "x", "😀😀😀", Bounds::new(Some(1), Some(3)), false);
        assert!(v.as_slice().is_empty());
        v.string_length("", "x", "😀😀😀😀", Bounds::new(Some(1), Some(3)), false);
        assert_eq!(v.as_slice()[0].constraint, Constraint::MaxLength(3));
    }

    #[test]
    fn paths() {
        assert_eq!(member_path("", "Limit"), "limit");
        assert_eq!(
            member_path(&item_path("customKeyStores", 0), "member"),
            "customKeyStores.1.member"
        );
    }
}
