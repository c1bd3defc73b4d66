//! `--query`: a JMESPath expression applied to the output, as the AWS CLI applies it.
//! The expression is parsed by `jmespath` (the crate of the JMESPath project) and
//! evaluated here, on the output's JSON, as Python's JMESPath evaluates it for the AWS
//! CLI: objects keep their members' order (the response's, a multi-select hash's or a
//! literal's as written, `merge`'s as `dict.update` leaves it, so `keys`, `values` and
//! `*` list them in that order), integers stay integers (`abs`, `sum`, `ceil`, `floor`,
//! `to_number('1')`), strings compare with `<`, and `to_string` writes JSON as Python's
//! `json.dumps` does. (The crate's own evaluator keeps objects sorted by name and makes
//! every computed number a float.)

use std::cmp::Ordering;

use jmespath::ast::{Ast, Comparator};
use serde_json::{Map, Number, Value};

/// A compiled `--query` expression.
pub struct Query {
    /// The expression as the parser read it (with [`legacy_literals`] made JSON): what
    /// the offsets of its literals count in.
    text: String,
    ast: Ast,
}

impl std::fmt::Debug for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Query").field(&self.text).finish()
    }
}

/// Most brackets, parentheses and braces an expression may nest.
pub const MAX_NESTING: usize = 64;
/// Most operators an expression may have (`.`, `|`, `[`, `!`, `&&`, `*`, `==`, ... each
/// counting once a character): what bounds how deep the parser and [`Query::search`]
/// recurse, and so how much stack they need.
pub const MAX_OPERATORS: usize = 256;

impl Query {
    /// Compiles `text`; an expression that is not JMESPath is an error saying where.
    /// So is one nesting more than [`MAX_NESTING`] deep or with more than
    /// [`MAX_OPERATORS`] operators: the `jmespath` crate's parser recurses once a level
    /// (and once a `!` or `*.`), and so does the evaluation, and a stack overflow aborts
    /// the process (10,000 nested `[` did; Python JMESPath's own limit is its recursion
    /// limit of 1,000 frames).
    pub fn parse(text: &str) -> Result<Self, String> {
        check_size(text)?;
        let text = legacy_literals(text).into_owned();
        let ast = jmespath::parse(&text).map_err(|e| e.to_string())?;
        Ok(Self { text, ast })
    }

    /// The expression's result on `value`; an error (a function given an argument of
    /// the wrong type, say) is a message saying what went wrong.
    ///
    /// What an expression builds is bounded: the values it makes (multi-selects,
    /// projections, `map`, `join`, `to_string`, literals) may take at most [`GROWTH`]
    /// times the memory of `value` plus [`HEADROOM`] bytes in all, counted as they are
    /// built, those dropped too (so that neither the memory nor the time it takes is
    /// that of the bound times the number of values). Each `[@, @]` doubles what it is
    /// given, so a dozen of them piped would otherwise take the memory of thousands of
    /// outputs (Python's, the AWS CLI's, runs until a `MemoryError`).
    pub fn search(&self, value: &Value) -> Result<Value, String> {
        let limit = weight(value, usize::MAX)
            .saturating_mul(GROWTH)
            .saturating_add(HEADROOM);
        self.search_within(value, limit)
    }

    /// [`Self::search`] with `limit` bytes as the bound on what it builds.
    fn search_within(&self, value: &Value, limit: usize) -> Result<Value, String> {
        Evaluation {
            text: &self.text,
            limit,
            built: std::cell::Cell::new(0),
        }
        .eval(&self.ast, value)
    }
}

/// How many times the memory of the output a value an expression builds may take,
/// beyond [`HEADROOM`].
pub const GROWTH: usize = 8;
/// Bytes any value an expression builds may take beyond [`GROWTH`] times the output's.
pub const HEADROOM: usize = 256 << 20;

/// About the bytes `value` takes (each node's `Value`, each string's and key's bytes),
/// counted up to just past `limit`.
fn weight(value: &Value, limit: usize) -> usize {
    const NODE: usize = std::mem::size_of::<Value>();
    let mut total = NODE;
    match value {
        Value::String(s) => total += s.len(),
        Value::Array(items) => {
            for item in items {
                total = total.saturating_add(weight(item, limit - total.min(limit)));
                if total > limit {
                    break;
                }
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                total = total.saturating_add(NODE + key.len());
                total = total.saturating_add(weight(item, limit - total.min(limit)));
                if total > limit {
                    break;
                }
            }
        }
        _ => {}
    }
    total
}

/// One [`Query::search`]: the expression's text (for its literals), the bound on what
/// it builds, and what it has built so far.
struct Evaluation<'a> {
    text: &'a str,
    limit: usize,
    /// About the bytes of the values built so far ([`Self::charge`]), those already
    /// dropped too.
    built: std::cell::Cell<usize>,
}

impl Evaluation<'_> {
    /// Counts `bytes` more built, unless that takes what is built past the bound.
    fn charge_bytes(&self, bytes: usize) -> Result<(), String> {
        let built = self.built.get().saturating_add(bytes);
        self.built.set(built);
        if built > self.limit {
            return Err(format!(
                "The expression builds values of more than {} MiB ({GROWTH} times the \
                 output's memory plus {} MiB): an expression that copies what it is given \
                 ([@, @]) again and again grows without end",
                self.limit >> 20,
                HEADROOM >> 20
            ));
        }
        Ok(())
    }

    /// What is left of the bound.
    fn remaining(&self) -> usize {
        self.limit.saturating_sub(self.built.get())
    }

    /// Counts `value` built (an element gathered into a value being built, say).
    fn charge(&self, value: &Value) -> Result<(), String> {
        self.charge_bytes(weight(value, self.remaining()))
    }

    /// `value`, counted built.
    fn bounded(&self, value: Value) -> Result<Value, String> {
        self.charge(&value)?;
        Ok(value)
    }

    /// The array of `items`' values, each counted built as it is gathered, so that
    /// building stops at the bound.
    fn gather<T>(
        &self,
        items: impl IntoIterator<Item = T>,
        mut each: impl FnMut(T) -> Result<Option<Value>, String>,
    ) -> Result<Value, String> {
        self.charge_bytes(std::mem::size_of::<Value>())?;
        let mut gathered = Vec::new();
        for item in items {
            if let Some(v) = each(item)? {
                self.charge(&v)?;
                gathered.push(v);
            }
        }
        Ok(Value::Array(gathered))
    }

    /// Python JMESPath's `TreeInterpreter.visit`.
    fn eval(&self, ast: &Ast, value: &Value) -> Result<Value, String> {
        Ok(match ast {
            Ast::Identity { .. } => value.clone(),
            Ast::Field { name, .. } => value.get(name).cloned().unwrap_or(Value::Null),
            Ast::Index { idx, .. } => match value {
                Value::Array(items) => {
                    let len = items.len() as i64;
                    let i = i64::from(*idx);
                    let i = if i < 0 { i + len } else { i };
                    usize::try_from(i)
                        .ok()
                        .and_then(|i| items.get(i))
                        .cloned()
                        .unwrap_or(Value::Null)
                }
                _ => Value::Null,
            },
            Ast::Slice {
                start, stop, step, ..
            } => match value {
                Value::Array(items) => Value::Array(slice(items, *start, *stop, *step)?),
                _ => Value::Null,
            },
            Ast::Literal { offset, value: v } => self.bounded(self.literal(*offset, v)?)?,
            Ast::Subexpr { lhs, rhs, .. } => self.eval(rhs, &self.eval(lhs, value)?)?,
            Ast::Projection { lhs, rhs, .. } => match self.eval(lhs, value)? {
                Value::Array(items) => self.gather(&items, |item| {
                    let found = self.eval(rhs, item)?;
                    Ok((!found.is_null()).then_some(found))
                })?,
                _ => Value::Null,
            },
            Ast::ObjectValues { node, .. } => match self.eval(node, value)? {
                Value::Object(map) => Value::Array(map.into_iter().map(|(_, v)| v).collect()),
                _ => Value::Null,
            },
            Ast::Flatten { node, .. } => match self.eval(node, value)? {
                Value::Array(items) => {
                    let mut merged = Vec::new();
                    for item in items {
                        match item {
                            Value::Array(inner) => merged.extend(inner),
                            other => merged.push(other),
                        }
                    }
                    Value::Array(merged)
                }
                _ => Value::Null,
            },
            Ast::Condition {
                predicate, then, ..
            } => {
                if is_true(&self.eval(predicate, value)?) {
                    self.eval(then, value)?
                } else {
                    Value::Null
                }
            }
            Ast::Comparison {
                comparator,
                lhs,
                rhs,
                ..
            } => {
                let (left, right) = (self.eval(lhs, value)?, self.eval(rhs, value)?);
                compare(comparator, &left, &right)?
            }
            Ast::And { lhs, rhs, .. } => {
                let left = self.eval(lhs, value)?;
                if is_true(&left) {
                    self.eval(rhs, value)?
                } else {
                    left
                }
            }
            Ast::Or { lhs, rhs, .. } => {
                let left = self.eval(lhs, value)?;
                if is_true(&left) {
                    left
                } else {
                    self.eval(rhs, value)?
                }
            }
            // Python's `not`, but `!0` is false: numbers are never false in JMESPath.
            Ast::Not { node, .. } => Value::Bool(!is_true(&self.eval(node, value)?)),
            Ast::MultiList { elements, .. } if !value.is_null() => {
                self.gather(elements, |e| self.eval(e, value).map(Some))?
            }
            Ast::MultiHash { elements, .. } if !value.is_null() => {
                self.charge_bytes(std::mem::size_of::<Value>())?;
                let mut map = Map::new();
                for kv in elements {
                    let v = self.eval(&kv.value, value)?;
                    self.charge_bytes(std::mem::size_of::<Value>() + kv.key.len())?;
                    self.charge(&v)?;
                    map.insert(kv.key.clone(), v);
                }
                Value::Object(map)
            }
            Ast::MultiList { .. } | Ast::MultiHash { .. } => Value::Null,
            Ast::Function { name, args, .. } => self.call(name, args, value)?,
            Ast::Expref { .. } => {
                return Err("an expression reference (&...) is only a function's argument".into());
            }
        })
    }

    /// A literal: a JSON one read again from the expression, keeping its members'
    /// order (Python's `json.loads`); a raw string as the crate read it.
    fn literal(&self, offset: usize, parsed: &jmespath::Rcvar) -> Result<Value, String> {
        if let Some(rest) = self.text.get(offset..).and_then(|t| t.strip_prefix('`')) {
            let mut inside = String::new();
            let mut chars = rest.chars();
            while let Some(c) = chars.next() {
                match c {
                    '`' => break,
                    '\\' => {
                        inside.push(c);
                        inside.extend(chars.next());
                    }
                    c => inside.push(c),
                }
            }
            if let Ok(v) = serde_json::from_str(&inside.replace("\\`", "`")) {
                return Ok(v);
            }
        }
        serde_json::to_value(&**parsed).map_err(|e| e.to_string())
    }

    /// A function call, as Python JMESPath's `Functions.call_function`: the arguments
    /// are evaluated first, then their number and types checked.
    fn call(&self, name: &str, args: &[Ast], value: &Value) -> Result<Value, String> {
        let mut vals = Vec::with_capacity(args.len());
        let mut exprefs = Vec::with_capacity(args.len());
        for arg in args {
            match arg {
                Ast::Expref { ast, .. } => {
                    vals.push(Value::Null);
                    exprefs.push(Some(&**ast));
                }
                other => {
                    // Held together: `not_null(@, @, ...)` of a value near the bound.
                    vals.push(self.bounded(self.eval(other, value)?)?);
                    exprefs.push(None);
                }
            }
        }
        let (arity, variadic) = match name {
            "abs" | "avg" | "ceil" | "floor" | "keys" | "length" | "max" | "min" | "reverse"
            | "sort" | "sum" | "to_array" | "to_number" | "to_string" | "type" | "values" => {
                (1, false)
            }
            "contains" | "ends_with" | "join" | "map" | "max_by" | "min_by" | "sort_by"
            | "starts_with" => (2, false),
            "merge" | "not_null" => (1, true),
            _ => return Err(format!("Unknown function: {name}()")),
        };
        if vals.len() < arity || (!variadic && vals.len() > arity) {
            return Err(format!(
                "{name}() takes {}{arity} argument(s) ({} given)",
                if variadic { "at least " } else { "" },
                vals.len()
            ));
        }
        // Which arguments are expression references (`&field`), and which values.
        let expref_at = |i: usize| exprefs.get(i).copied().flatten();
        for (i, e) in exprefs.iter().enumerate() {
            let wants_expref =
                matches!((name, i), ("map", 0) | ("max_by" | "min_by" | "sort_by", 1));
            if e.is_some() != wants_expref {
                return Err(format!(
                    "In function {name}(), invalid type for argument {}: expected {}",
                    i + 1,
                    if wants_expref {
                        "an expression reference"
                    } else {
                        "a value"
                    }
                ));
            }
        }
        let bad = |v: &Value, expected: &str| -> String {
            format!(
                "In function {name}(), invalid type for value: {}, expected one of: {expected}, received: \"{}\"",
                to_json_string(v),
                type_name(v)
            )
        };
        let numbers = |v: &Value| -> Result<Vec<Num>, String> {
            match v {
                Value::Array(items) => items
                    .iter()
                    .map(|i| Num::of(i).map_or_else(|| Err(bad(i, "array-number")), Ok))
                    .collect(),
                other => Err(bad(other, "array-number")),
            }
        };
        // An array of numbers or of strings, as its first element says.
        let sortable = |v: &Value| -> Result<Vec<Value>, String> {
            let Value::Array(items) = v else {
                return Err(bad(v, "array-number, array-string"));
            };
            let first = items.first().map(type_name);
            match items.iter().find(|i| {
                !matches!(type_name(i), "number" | "string") || Some(type_name(i)) != first
            }) {
                Some(wrong) => Err(bad(wrong, "array-number, array-string")),
                None => Ok(items.clone()),
            }
        };
        let string = |v: &Value| -> Result<String, String> {
            match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(bad(other, "string")),
            }
        };
        let number = |v: &Value| Num::of(v).map_or_else(|| Err(bad(v, "number")), Ok);
        let array = |v: &Value| -> Result<Vec<Value>, String> {
            match v {
                Value::Array(items) => Ok(items.clone()),
                other => Err(bad(other, "array")),
            }
        };
        let object = |v: &Value| -> Result<Map<String, Value>, String> {
            match v {
                Value::Object(map) => Ok(map.clone()),
                other => Err(bad(other, "object")),
            }
        };
        let a = &vals[0];
        Ok(match name {
            "abs" => match number(a)? {
                Num::Int(i) => Num::Int(i.abs()),
                Num::Float(f) => Num::Float(f.abs()),
            }
            .into_value(),
            "avg" => {
                let items = numbers(a)?;
                if items.is_empty() {
                    Value::Null
                } else {
                    Num::Float(sum(&items).as_f64() / items.len() as f64).into_value()
                }
            }
            "ceil" => number(a)?.round(f64::ceil).into_value(),
            "floor" => number(a)?.round(f64::floor).into_value(),
            "contains" => match a {
                Value::Array(items) => Value::Bool(items.iter().any(|i| py_eq(i, &vals[1]))),
                Value::String(s) => Value::Bool(s.contains(&string(&vals[1])?)),
                other => return Err(bad(other, "array, string")),
            },
            "ends_with" => Value::Bool(string(a)?.ends_with(&string(&vals[1])?)),
            "starts_with" => Value::Bool(string(a)?.starts_with(&string(&vals[1])?)),
            "join" => {
                let sep = string(a)?;
                let Value::Array(items) = &vals[1] else {
                    return Err(bad(&vals[1], "array"));
                };
                let parts = items
                    .iter()
                    .map(|p| match p {
                        Value::String(s) => Ok(s.as_str()),
                        other => Err(bad(other, "array-string")),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                // Counted before it is built: a long separator, many times.
                let len = parts.iter().fold(0usize, |n, p| n.saturating_add(p.len()));
                let seps = sep.len().saturating_mul(parts.len().saturating_sub(1));
                self.charge_bytes(
                    std::mem::size_of::<Value>().saturating_add(len.saturating_add(seps)),
                )?;
                Value::String(parts.join(&sep))
            }
            "keys" => Value::Array(
                object(a)?
                    .into_iter()
                    .map(|(k, _)| Value::String(k))
                    .collect(),
            ),
            "values" => Value::Array(object(a)?.into_iter().map(|(_, v)| v).collect()),
            "length" => match a {
                Value::String(s) => s.chars().count().into(),
                Value::Array(items) => items.len().into(),
                Value::Object(map) => map.len().into(),
                other => return Err(bad(other, "string, array, object")),
            },
            "map" => {
                let e = expref_at(0).expect("checked above");
                let Value::Array(items) = &vals[1] else {
                    return Err(bad(&vals[1], "array"));
                };
                self.gather(items, |item| self.eval(e, item).map(Some))?
            }
            "max" | "min" => {
                let items = sortable(a)?;
                let want = if name == "max" {
                    Ordering::Greater
                } else {
                    Ordering::Less
                };
                // Python's max() and min(): the first of equal ones.
                let mut best: Option<Value> = None;
                for item in items {
                    if best.as_ref().is_none_or(|b| py_cmp(&item, b) == Ok(want)) {
                        best = Some(item);
                    }
                }
                best.unwrap_or(Value::Null)
            }
            "merge" => {
                let mut merged = Map::new();
                for v in &vals {
                    merged.extend(object(v)?);
                }
                Value::Object(merged)
            }
            "not_null" => vals
                .iter()
                .find(|v| !v.is_null())
                .cloned()
                .unwrap_or(Value::Null),
            "reverse" => match a {
                Value::String(s) => Value::String(s.chars().rev().collect()),
                Value::Array(items) => Value::Array(items.iter().rev().cloned().collect()),
                other => return Err(bad(other, "array, string")),
            },
            "sort" => {
                let mut items = sortable(a)?;
                items.sort_by(|x, y| py_cmp(x, y).unwrap_or(Ordering::Equal));
                Value::Array(items)
            }
            "sum" => sum(&numbers(a)?).into_value(),
            "to_array" => match a {
                Value::Array(_) => a.clone(),
                other => Value::Array(vec![other.clone()]),
            },
            "to_string" => match a {
                Value::String(_) => a.clone(),
                other => {
                    // Stopped at the bound: escapes make it up to 6 times the value.
                    let mut out = String::new();
                    let fits = write_json(other, &mut out, self.remaining());
                    self.charge_bytes(std::mem::size_of::<Value>() + out.len())?;
                    if !fits {
                        self.charge_bytes(usize::MAX)?;
                    }
                    Value::String(out)
                }
            },
            "to_number" => match a {
                Value::Number(_) => a.clone(),
                Value::String(s) => to_number(s),
                _ => Value::Null,
            },
            "type" => Value::String(type_name(a).into()),
            "sort_by" | "min_by" | "max_by" => {
                let e = expref_at(1).expect("checked above");
                let items = array(a)?;
                let mut keyed = Vec::with_capacity(items.len());
                for item in items {
                    let key = self.eval(e, &item)?;
                    if !matches!(type_name(&key), "number" | "string") {
                        return Err(bad(&key, "number, string"));
                    }
                    // sort_by: every key of the first one's type.
                    if let Some((first, _)) = keyed.first().filter(|(first, _)| {
                        name == "sort_by" && type_name(first) != type_name(&key)
                    }) {
                        return Err(bad(&key, type_name(first)));
                    }
                    keyed.push((key, item));
                }
                if name == "sort_by" {
                    keyed.sort_by(|(x, _), (y, _)| py_cmp(x, y).unwrap_or(Ordering::Equal));
                    Value::Array(keyed.into_iter().map(|(_, item)| item).collect())
                } else {
                    let want = if name == "max_by" {
                        Ordering::Greater
                    } else {
                        Ordering::Less
                    };
                    let mut best: Option<(Value, Value)> = None;
                    for (key, item) in keyed {
                        let better = match &best {
                            None => true,
                            Some((b, _)) => py_cmp(&key, b)? == want,
                        };
                        if better {
                            best = Some((key, item));
                        }
                    }
                    best.map_or(Value::Null, |(_, item)| item)
                }
            }
            _ => unreachable!("the names are matched above"),
        })
    }
}

/// Refuses an expression nesting more than [`MAX_NESTING`] deep or with more than
/// [`MAX_OPERATORS`] operator characters, outside its strings and literals.
fn check_size(text: &str) -> Result<(), String> {
    let (mut depth, mut operators) = (0usize, 0usize);
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            // A quoted name, a raw string or a JSON literal: to its closing quote.
            '"' | '\'' | '`' => {
                while let Some(inside) = chars.next() {
                    if inside == '\\' {
                        chars.next();
                    } else if inside == c {
                        break;
                    }
                }
            }
            '(' | '[' | '{' => {
                depth += 1;
                operators += 1;
                if depth > MAX_NESTING {
                    return Err(format!(
                        "The expression nests more than {MAX_NESTING} brackets, parentheses \
                         and braces deep"
                    ));
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            '.' | '|' | '&' | '!' | '*' | '?' | '<' | '>' | '=' | ',' | ':' => operators += 1,
            _ => {}
        }
        if operators > MAX_OPERATORS {
            return Err(format!(
                "The expression has more than {MAX_OPERATORS} operators"
            ));
        }
    }
    Ok(())
}

/// `text` with each JSON literal that is not JSON (`` `CONNECTED` ``) made the JSON
/// string it stands for (`` `"CONNECTED"` ``), as Python's JMESPath (the AWS CLI's) reads
/// it: JEP-12 deprecated that form, yet the AWS CLI still takes it, and queries copied
/// from its documentation use it (`[?State==`running`]`). A literal is what Python's
/// lexer takes for one: from a backquote outside quoted names and raw strings to the
/// next one not escaped by a backslash; it becomes a string when its text does not read
/// as JSON, and does, leading blanks dropped, between double quotes (a text with a `"`
/// of its own does not, and stays an error).
fn legacy_literals(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('`') {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    while let Some(start) = rest.find(['"', '\'', '`']) {
        let quote = rest[start..].chars().next().unwrap_or('`');
        out.push_str(&rest[..=start]);
        let inside = &rest[start + 1..];
        // To the closing quote; a backslash escapes the character after it.
        let mut end = None;
        let mut escaped = false;
        for (i, c) in inside.char_indices() {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == quote {
                end = Some(i);
                break;
            }
        }
        let Some(end) = end else {
            // Unclosed: the parser says so.
            out.push_str(inside);
            return out.into();
        };
        let body = &inside[..end];
        match legacy_string(quote, body) {
            Some(string) => out.push_str(&string),
            None => out.push_str(body),
        }
        out.push(quote);
        rest = &inside[end + 1..];
    }
    out.push_str(rest);
    out.into()
}

/// The JSON string literal text (backquotes escaped) that a literal's `body` stands
/// for, when it is a literal of the deprecated form; `None` when it is JSON, or not a
/// literal.
fn legacy_string(quote: char, body: &str) -> Option<String> {
    if quote != '`' {
        return None;
    }
    let json = body.replace("\\`", "`");
    match serde_json::from_str::<Value>(&json) {
        Ok(_) => return None,
        // JSON to Python's json.loads, which the AWS CLI reads as a number or nested
        // arrays, not a string: left to the parser, which refuses it.
        Err(e)
            if matches!(json.trim(), "NaN" | "Infinity" | "-Infinity")
                || e.to_string().starts_with("recursion limit exceeded")
                || e.to_string().starts_with("number out of range") =>
        {
            return None;
        }
        Err(_) => {}
    }
    let string: String = serde_json::from_str(&format!("\"{}\"", json.trim_start())).ok()?;
    Some(serde_json::to_string(&string).ok()?.replace('`', "\\`"))
}

/// JMESPath's truth: false, null, and empty strings, arrays and objects are false;
/// everything else (0 too) is true.
fn is_true(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
        Value::Number(_) => true,
    }
}

/// The JMESPath type name of `v`.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A number as Python holds it: an `int` or a `float`.
#[derive(Clone, Copy)]
enum Num {
    Int(i128),
    Float(f64),
}

impl Num {
    fn of(v: &Value) -> Option<Self> {
        let n = v.as_number()?;
        Some(if let Some(i) = n.as_i64() {
            Self::Int(i.into())
        } else if let Some(u) = n.as_u64() {
            Self::Int(u.into())
        } else {
            Self::Float(n.as_f64()?)
        })
    }

    fn as_f64(self) -> f64 {
        match self {
            Self::Int(i) => i as f64,
            Self::Float(f) => f,
        }
    }

    /// Python's ordering of two numbers: exact, an `int` and a `float` too (`2**53 + 1 >
    /// 2.0**53`), so that it is a total order (`sort` panics on one that is not). The
    /// floats are finite: JSON has no NaN.
    fn py_cmp(self, other: Self) -> Ordering {
        match (self, other) {
            (Self::Int(a), Self::Int(b)) => a.cmp(&b),
            (Self::Int(a), Self::Float(b)) => int_cmp_float(a, b),
            (Self::Float(a), Self::Int(b)) => int_cmp_float(b, a).reverse(),
            (Self::Float(a), Self::Float(b)) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
        }
    }

    /// `math.ceil` or `math.floor`: an `int`.
    fn round(self, f: fn(f64) -> f64) -> Self {
        match self {
            Self::Int(_) => self,
            Self::Float(x) => {
                let r = f(x);
                if r.abs() < 1e36 {
                    Self::Int(r as i128)
                } else {
                    Self::Float(r)
                }
            }
        }
    }

    /// The JSON number; an `int` too large for one, as the nearest float.
    fn into_value(self) -> Value {
        match self {
            Self::Int(i) => i64::try_from(i)
                .map(Value::from)
                .or_else(|_| u64::try_from(i).map(Value::from))
                .unwrap_or_else(|_| Self::Float(i as f64).into_value()),
            Self::Float(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
        }
    }
}

/// `i` against `f` as real numbers (Python's `int < float`).
fn int_cmp_float(i: i128, f: f64) -> Ordering {
    // -2**127 is i128::MIN, and i128::MAX is below 2**127.
    const TWO_127: f64 = 1.7014118346046923e38;
    if f >= TWO_127 {
        return Ordering::Less;
    }
    if f < -TWO_127 {
        return Ordering::Greater;
    }
    // `f` without its fraction is an integer of i128's range: the cast is exact.
    let whole = f.trunc();
    match i.cmp(&(whole as i128)) {
        // i == whole: the fraction decides.
        Ordering::Equal => whole.partial_cmp(&f).unwrap_or(Ordering::Equal),
        other => other,
    }
}

/// Python's `sum()`: an `int` while every item is one.
fn sum(items: &[Num]) -> Num {
    items.iter().fold(Num::Int(0), |acc, n| match (acc, *n) {
        (Num::Int(a), Num::Int(b)) => a
            .checked_add(b)
            .map_or(Num::Float(a as f64 + b as f64), Num::Int),
        (a, b) => Num::Float(a.as_f64() + b.as_f64()),
    })
}

/// Python's `==` on what `json.loads` makes (`True == 1`, `1 == 1.0`), but a number
/// is never equal to a boolean at the top (JMESPath's `_equals`).
fn compare(comparator: &Comparator, left: &Value, right: &Value) -> Result<Value, String> {
    let number_and_bool = |x: &Value, y: &Value| x.is_number() && y.is_boolean();
    let equal =
        !number_and_bool(left, right) && !number_and_bool(right, left) && py_eq(left, right);
    let ordering = |ok: fn(Ordering) -> bool| -> Result<Value, String> {
        if matches!(type_name(left), "number" | "string")
            && matches!(type_name(right), "number" | "string")
        {
            Ok(Value::Bool(ok(py_cmp(left, right)?)))
        } else {
            Ok(Value::Null)
        }
    };
    match comparator {
        Comparator::Equal => Ok(Value::Bool(equal)),
        Comparator::NotEqual => Ok(Value::Bool(!equal)),
        Comparator::LessThan => ordering(Ordering::is_lt),
        Comparator::LessThanEqual => ordering(Ordering::is_le),
        Comparator::GreaterThan => ordering(Ordering::is_gt),
        Comparator::GreaterThanEqual => ordering(Ordering::is_ge),
    }
}

/// Python's `==`.
fn py_eq(x: &Value, y: &Value) -> bool {
    let as_num = |v: &Value| match v {
        Value::Bool(b) => Some(Num::Int(i128::from(*b))),
        other => Num::of(other),
    };
    match (x, y) {
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| py_eq(a, b))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| py_eq(v, w)))
        }
        (Value::Number(_) | Value::Bool(_), Value::Number(_) | Value::Bool(_)) => {
            match (as_num(x), as_num(y)) {
                (Some(a), Some(b)) => a.py_cmp(b) == Ordering::Equal,
                _ => false,
            }
        }
        _ => x == y,
    }
}

/// Python's ordering of two numbers or two strings; a number and a string is Python's
/// `TypeError`.
fn py_cmp(x: &Value, y: &Value) -> Result<Ordering, String> {
    match (x, y) {
        (Value::String(a), Value::String(b)) => Ok(a.cmp(b)),
        _ => match (Num::of(x), Num::of(y)) {
            (Some(a), Some(b)) => Ok(a.py_cmp(b)),
            _ => Err(format!(
                "'<' not supported between a {} and a {}",
                type_name(x),
                type_name(y)
            )),
        },
    }
}

/// Python's `int(s)`, else `float(s)`, else null (`to_number`): white space around, a
/// sign, underscores between digits.
fn to_number(s: &str) -> Value {
    let t = s.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    let underscores_ok = |d: &str| !d.starts_with('_') && !d.ends_with('_') && !d.contains("__");
    let int = (!digits.is_empty()
        && underscores_ok(digits)
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_'))
    .then(|| t.replace('_', "").parse::<i128>().ok())
    .flatten();
    if let Some(i) = int {
        return Num::Int(i).into_value();
    }
    // float(): underscores only between digits.
    let between_digits = t.char_indices().all(|(i, c)| {
        c != '_'
            || (t[..i].ends_with(|p: char| p.is_ascii_digit())
                && t[i + 1..].starts_with(|n: char| n.is_ascii_digit()))
    });
    match t.replace('_', "").parse::<f64>() {
        Ok(f) if between_digits && !t.is_empty() => Num::Float(f).into_value(),
        _ => Value::Null,
    }
}

/// Python's `json.dumps(v, separators=(',', ':'))` (`to_string`): ASCII only, floats as
/// Python writes them.
fn to_json_string(v: &Value) -> String {
    let mut out = String::new();
    write_json(v, &mut out, usize::MAX);
    out
}

/// Writes `v` to `out` as [`to_json_string`] does, stopping once `out` is longer than
/// `max` bytes; whether it did not.
fn write_json(v: &Value, out: &mut String, max: usize) -> bool {
    if out.len() > max {
        return false;
    }
    match v {
        Value::String(s) => out.push_str(&crate::credentials::aws_cli_cache::python_json(s)),
        Value::Number(n) => out.push_str(&crate::output::py_number(n)),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if !write_json(item, out, max) {
                    return false;
                }
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&crate::credentials::aws_cli_cache::python_json(k));
                out.push(':');
                if !write_json(item, out, max) {
                    return false;
                }
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
    out.len() <= max
}

/// Python's `value[start:stop:step]` on a list; a step of 0 is Python's `ValueError`.
fn slice(
    items: &[Value],
    start: Option<i32>,
    stop: Option<i32>,
    step: i32,
) -> Result<Vec<Value>, String> {
    if step == 0 {
        return Err("slice step cannot be zero".into());
    }
    let len = items.len() as i64;
    let step = i64::from(step);
    let (lower, upper) = if step < 0 { (-1, len - 1) } else { (0, len) };
    let bound = |i: Option<i32>, default: i64| match i.map(i64::from) {
        None => default,
        Some(i) if i < 0 => (i + len).max(lower),
        Some(i) => i.min(upper),
    };
    let (mut i, stop) = if step < 0 {
        (bound(start, upper), bound(stop, lower))
    } else {
        (bound(start, lower), bound(stop, upper))
    };
    let mut out = Vec::new();
    while (step > 0 && i < stop) || (step < 0 && i > stop) {
        out.push(items[usize::try_from(i).expect("within the list")].clone());
        i += step;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn search(expression: &str, value: &Value) -> String {
        let found = Query::parse(expression).unwrap().search(value).unwrap();
        serde_json::to_string(&found).unwrap()
    }

    #[test]
    fn members_keep_the_responses_order_and_the_expressions() {
        let response = json!({"CustomKeyStores": [
            {"CustomKeyStoreId": "cks-1", "CustomKeyStoreName": "a", "ConnectionState": "CONNECTED",
             "XksProxyConfiguration": {"Connectivity": "PUBLIC_ENDPOINT", "AccessKeyId": "K"}},
            {"CustomKeyStoreId": "cks-2", "CustomKeyStoreName": "b", "ConnectionState": "FAILED"},
        ]});
        assert_eq!(
            search("CustomKeyStores[0]", &response),
            r#"{"CustomKeyStoreId":"cks-1","CustomKeyStoreName":"a","ConnectionState":"CONNECTED","XksProxyConfiguration":{"Connectivity":"PUBLIC_ENDPOINT","AccessKeyId":"K"}}"#
        );
        assert_eq!(
            search(
                "CustomKeyStores[?ConnectionState=='FAILED'].{Zed: CustomKeyStoreName, Alpha: CustomKeyStoreId, Nested: {Y: `1`, X: `2`}}",
                &response
            ),
            r#"[{"Zed":"b","Alpha":"cks-2","Nested":{"Y":1,"X":2}}]"#
        );
        assert_eq!(search("length(CustomKeyStores)", &response), "2");
        assert_eq!(search("missing", &response), "null");
    }

    #[test]
    fn values_are_python_jmespaths() {
        let store = json!({"Id": "cks-1", "Name": "b", "Date": 1_700_000_000.5});
        let cases = [
            ("keys(@)", r#"["Id","Name","Date"]"#),
            ("values(@)[:2]", r#"["cks-1","b"]"#),
            ("merge(`{\"z\": 1}`, {a: Name})", r#"{"z":1,"a":"b"}"#),
            (r#"`{"z": {"y": 1, "x": 2}}`"#, r#"{"z":{"y":1,"x":2}}"#),
            (
                "[abs(`-3`), ceil(Date), floor(`-1.5`), sum(`[1, 2]`), avg(`[1, 2]`)]",
                "[3,1700000001,-2,3,1.5]",
            ),
            (
                "[to_number('1_000'), to_number(' -0 '), to_number('1e3'), to_number('x')]",
                "[1000,0,1000.0,null]",
            ),
            (
                "[Name > 'a', Name < nothing, `1` == `1.0`, `1` == `true`, !`0`]",
                "[true,null,true,false,false]",
            ),
            (
                "to_string({b: `1e-7`, a: 'é'})",
                r#""{\"b\":1e-07,\"a\":\"\\u00e9\"}""#,
            ),
            ("max_by(`[{\"a\": 1}, {\"a\": 1.0}]`, &a)", r#"{"a":1}"#),
            (
                "[`[1, 2, 3, 4, 5]`[::-2], `[1, 2, 3]`[5:0:-1]]",
                "[[5,3,1],[3,2]]",
            ),
        ];
        for (expression, expected) in cases {
            assert_eq!(search(expression, &store), expected, "{expression}");
        }
        let failing = [
            "'a' < `1`",
            "sort_by(`[{\"a\": 1}, {\"a\": \"x\"}]`, &a)",
            "`[1]`[::0]",
            "nope()",
        ];
        for expression in failing {
            assert!(
                Query::parse(expression).unwrap().search(&store).is_err(),
                "{expression}"
            );
        }
    }

    /// An `int` and a `float` compare exactly, as in Python: compared as floats,
    /// 2**53 + 1 equalled 2.0**53 while 2**53 was below it, and `sort` of such numbers
    /// panicked ("user-provided comparison function does not correctly implement a
    /// total order").
    #[test]
    fn ints_and_floats_compare_exactly() {
        let big = 9_007_199_254_740_992_i64; // 2**53
        let cases = [
            ("`9007199254740993` == `9007199254740992.0`", "false"),
            ("`9007199254740993` > `9007199254740992.0`", "true"),
            ("`9007199254740992` == `9007199254740992.0`", "true"),
            ("`-9007199254740993` < `-9007199254740992.0`", "true"),
            ("`18446744073709551615` < `1.8446744073709552e19`", "true"),
            (
                "`-9223372036854775808` == `-9.223372036854775808e18`",
                "true",
            ),
            ("`1` < `1.5`", "true"),
            ("`-1` > `-1.5`", "true"),
            ("`0` == `-0.0`", "true"),
            ("`1` < `1e300`", "true"),
            ("`-1` > `-1e300`", "true"),
        ];
        for (expression, expected) in cases {
            assert_eq!(search(expression, &json!(null)), expected, "{expression}");
        }
        let mut seed = 88_172_645_463_325_252_u64;
        let mut items = Vec::new();
        for _ in 0..200 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let n = i64::try_from(seed % 8).unwrap();
            items.push(match seed % 3 {
                0 => json!(big + n),
                1 => json!(big as f64 + 2.0 * (n % 4) as f64),
                _ => json!(big - n),
            });
        }
        let items = Value::Array(items);
        for expression in ["sort(@)", "sort_by(@, &@)"] {
            let sorted = Query::parse(expression).unwrap().search(&items).unwrap();
            let sorted = sorted.as_array().unwrap();
            assert!(
                sorted
                    .windows(2)
                    .all(|w| py_cmp(&w[0], &w[1]) != Ok(Ordering::Greater)),
                "{expression}"
            );
        }
    }

    /// An expression nested too deep, or too long a chain, is refused before it is
    /// parsed: 10,000 nested `[` overflowed the stack in the `jmespath` crate's parser
    /// (an abort, not a panic), and the evaluation recursed as deep. The largest ones
    /// taken are parsed on a test thread's 2 MiB stack, and searched there or on an 8 MiB
    /// one (the `kms` main thread's) in a debug build.
    #[test]
    fn deep_expressions_are_refused_not_a_stack_overflow() {
        let nested =
            |open: &str, close: &str, n: usize| format!("{}@{}", open.repeat(n), close.repeat(n));
        for (open, close) in [("(", ")"), ("[", "]"), ("{a: ", "}"), ("abs(", ")")] {
            let err = Query::parse(&nested(open, close, 10_000)).unwrap_err();
            assert!(err.contains("nests more than 64"), "{err}");
            let deepest = Query::parse(&nested(open, close, MAX_NESTING)).unwrap();
            let _ = deepest.search(&json!({"a": 1}));
        }
        let at_most = MAX_OPERATORS;
        let chain = |prefix: &str, suffix: &str, n: usize| {
            format!("{}a{}", prefix.repeat(n), suffix.repeat(n))
        };
        for (open, close, per) in [
            ("!", "", 1),
            ("a.", "", 1),
            ("*.", "", 2),
            ("a | ", "", 1),
            ("a || ", "", 2),
            ("", "[]", 1),
            ("", "[*]", 2),
            ("a[0].", "", 2),
        ] {
            let err = Query::parse(&chain(open, close, 100_000)).unwrap_err();
            assert!(err.contains("more than 256 operators"), "{open}: {err}");
            let longest = Query::parse(&chain(open, close, at_most / per)).unwrap();
            // `kms` searches on its main thread, of 8 MiB.
            std::thread::Builder::new()
                .stack_size(8 << 20)
                .spawn(move || longest.search(&json!({"a": [{"a": 1}]})).map(drop))
                .unwrap()
                .join()
                .unwrap()
                .ok();
        }
        // Strings and literals are not operators.
        let long = format!(
            "['{}', `\"{}\"`, \"{}\"]",
            "([.".repeat(500),
            "[".repeat(500),
            "!".repeat(2000)
        );
        assert!(Query::parse(&long).is_ok());
    }

    #[test]
    fn a_literal_that_is_not_json_is_a_string_as_in_the_aws_cli() {
        let response = json!({"CustomKeyStores": [
            {"CustomKeyStoreName": "a", "ConnectionState": "CONNECTED"},
            {"CustomKeyStoreName": "b`c", "ConnectionState": "FAILED"},
            {"CustomKeyStoreName": "é d", "ConnectionState": "DISCONNECTED"},
        ]});
        let cases = [
            // The AWS CLI documentation's form, and the JSON one it stands for.
            (
                "CustomKeyStores[?ConnectionState==`CONNECTED`].CustomKeyStoreName",
                r#"["a"]"#,
            ),
            (
                "CustomKeyStores[?ConnectionState==`\"CONNECTED\"`].CustomKeyStoreName",
                r#"["a"]"#,
            ),
            // Leading blanks go, trailing ones stay; escapes are JSON's.
            ("`  FAILED`", r#""FAILED""#),
            ("`FAILED `", r#""FAILED ""#),
            ("`\\u00e9 d`", r#""é d""#),
            (
                "CustomKeyStores[?CustomKeyStoreName==`b\\`c`].ConnectionState",
                r#"["FAILED"]"#,
            ),
            // JSON stays JSON.
            ("`1`", "1"),
            ("`[1, true]`", "[1,true]"),
            ("`null`", "null"),
            // Backquotes inside raw strings and quoted names are theirs.
            ("'`x`'", r#""`x`""#),
            ("\"`x`\"", "null"),
            ("[`a`, 'b`', `c`]", r#"["a","b`","c"]"#),
            // A JSON literal after one made a string keeps its members' order.
            ("[`a`, `{\"b\": 1, \"a\": 2}`]", r#"["a",{"b":1,"a":2}]"#),
        ];
        for (expression, expected) in cases {
            assert_eq!(search(expression, &response), expected, "{expression}");
        }
        // JSON to Python (a number, deep arrays) that serde_json cannot read: an error,
        // not the string it spells, which the AWS CLI does not make of it.
        let deep = format!("`{}{}`", "[".repeat(200), "]".repeat(200));
        for expression in ["`NaN`", "` -Infinity`", "`1e400`", deep.as_str()] {
            assert!(Query::parse(expression).is_err(), "{expression}");
        }
        // Neither JSON nor a string's body: an error, as in the AWS CLI.
        assert!(Query::parse("`a\"b`").is_err());
        assert!(Query::parse("`CONNECTED").is_err());
    }

    #[test]
    fn what_an_expression_builds_is_bounded() {
        let output =
            json!({"CustomKeyStores": [{"CustomKeyStoreId": "cks-1", "CustomKeyStoreName": "a"}]});
        // Each step doubles what it is given: 2^30 copies of the output, unbounded.
        let doubled = |step: &str| vec![step; 30].join(" | ");
        let err = Query::parse(&doubled("[@, @]"))
            .unwrap()
            .search(&output)
            .unwrap_err();
        assert!(err.contains("more than 256 MiB"), "{err}");
        // Every way of copying, against a bound of 1 MiB.
        for expression in [
            doubled("{a: @, b: @}"),
            doubled("[@][] | [@, @][]"),
            doubled("map(&[@, @], [@])"),
            format!("to_string(@) | {}", doubled("join('', [@, @])")),
            doubled("to_string([@, @])"),
        ] {
            let err = Query::parse(&expression)
                .unwrap()
                .search_within(&output, 1 << 20)
                .unwrap_err();
            assert!(err.contains("more than 1 MiB"), "{expression}: {err}");
        }
        // A few copies are fine.
        let few = Query::parse("[@, @] | [@, @] | [@, @]")
            .unwrap()
            .search(&output)
            .unwrap();
        assert_eq!(few[1][0][1], output);
        // The bound is 8 times the output's memory beyond the headroom.
        let big = json!({"Names": vec!["x".repeat(1 << 16); 1 << 10]});
        let size = weight(&big, usize::MAX);
        assert!(size > 64 << 20 && size < 65 << 20, "{size}");
        // Counting stops past the limit: one string of 64 KiB, not 1,024.
        assert!(weight(&big, 1000) < 2 << 16);
        let query = Query::parse("[@, @, @, @, @, @, @, @]").unwrap();
        assert!(query.search_within(&big, 8 * size + 4096).is_ok());
        assert!(query.search_within(&big, 8 * size).is_err());
    }

    /// The bound is on all that an expression builds, not on each value alone: values
    /// each within it, held at once (a function's arguments, a multi-select's elements)
    /// or built again and again and dropped (for each item of a projection), took the
    /// bound's memory as many times as there were of them, or its time as many times as
    /// there were items; and `join` built its whole string before it was checked.
    #[test]
    fn the_bound_is_on_all_that_an_expression_builds() {
        let output = json!({"Id": "cks-1"});
        let limit = 1 << 20;
        // About a quarter of the bound: 2^10 copies of the output.
        let quarter = ["[@, @]"; 10].join(" | ");
        let size = weight(
            &Query::parse(&quarter).unwrap().search(&output).unwrap(),
            usize::MAX,
        );
        assert!(size > limit / 5 && size < limit / 3, "{size}");
        for expression in [
            // Held at once, none beyond the bound, nor what is kept.
            format!("{quarter} | length(not_null(@, @, @, @, @, @, @, @))"),
            format!("length([{quarter}, {quarter}, {quarter}, {quarter}, {quarter}])"),
            // Built for each item and dropped: 64 times a quarter of the bound.
            format!("[{}] | [*].length({quarter})", ["@"; 64].join(", ")),
            format!(
                "[{}][?length({quarter}) > `0`] | length(@)",
                ["@"; 64].join(", ")
            ),
            // A long separator, many times: counted before the string is built.
            format!("join(to_string({quarter}), [{}])", ["'x'"; 64].join(", ")),
        ] {
            let err = Query::parse(&expression)
                .unwrap()
                .search_within(&output, limit)
                .unwrap_err();
            assert!(err.contains("more than 1 MiB"), "{expression}: {err}");
        }
        // Building within the bound in all is fine.
        let within = format!("{} | length([@, @])", ["[@, @]"; 8].join(" | "));
        assert_eq!(
            Query::parse(&within)
                .unwrap()
                .search_within(&output, limit)
                .unwrap(),
            json!(2)
        );
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let err = Query::parse("CustomKeyStores[").unwrap_err();
        assert!(err.contains("CustomKeyStores["), "{err}");
        let err = Query::parse("length(`5`)")
            .unwrap()
            .search(&json!({}))
            .unwrap_err();
        assert!(err.contains("length"), "{err}");
    }
}
