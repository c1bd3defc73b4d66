//! A service's endpoint rules (`smithy.rules#endpointRuleSet`) and their test cases
//! (`smithy.rules#endpointTests`), parsed into types a generator can walk.
//!
//! The rules language is described at <https://smithy.io/2.0/additional-specs/rules-engine/>:
//! parameters, then rules whose conditions are function calls; each rule ends in an
//! endpoint, an error, or a tree of further rules.

use std::collections::BTreeMap;

use serde_json::Value;

/// `smithy.rules#endpointRuleSet`
pub const ENDPOINT_RULE_SET: &str = "smithy.rules#endpointRuleSet";
/// `smithy.rules#endpointTests`
pub const ENDPOINT_TESTS: &str = "smithy.rules#endpointTests";

/// The endpoint rules of a service.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleSet {
    /// The parameters, in the model's order.
    pub parameters: Vec<Parameter>,
    /// The rules, tried in order.
    pub rules: Vec<Rule>,
}

/// The type of a rules parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParameterType {
    String,
    Boolean,
}

/// One parameter of a rule set, e.g. `Region` or `UseFIPS`.
#[derive(Clone, Debug, PartialEq)]
pub struct Parameter {
    pub name: String,
    pub kind: ParameterType,
    pub required: bool,
    /// The default value, of the parameter's type.
    pub default: Option<Value>,
    /// Where an SDK takes the value from, e.g. `AWS::Region`.
    pub built_in: Option<String>,
    pub documentation: Option<String>,
}

/// One rule: when every condition holds, its outcome applies.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub conditions: Vec<Condition>,
    pub outcome: Outcome,
    pub documentation: Option<String>,
}

/// What a rule resolves to.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// An endpoint: its URL, and whether it declares properties or headers (which
    /// a generator may not support).
    Endpoint { url: Expr, extras: Vec<String> },
    /// An error with this message.
    Error(Expr),
    /// Further rules. A tree is terminal: once its conditions hold, one of its rules
    /// must apply.
    Tree(Vec<Rule>),
}

/// A condition: a function call, true when it returns `true` or a value; the value is
/// bound to `assign` when given.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    pub function: Call,
    pub assign: Option<String>,
}

/// A function call, e.g. `aws.partition(Region)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub name: String,
    pub argv: Vec<Expr>,
}

/// An expression: a reference, a literal, or a call.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// `{"ref": "Region"}`
    Ref(String),
    /// A string template, e.g. `https://kms.{Region}.{PartitionResult#dnsSuffix}`.
    String(Template),
    Bool(bool),
    Call(Box<Call>),
}

/// A string template: literal text and `{Name}` / `{Name#attribute}` references.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template(pub Vec<TemplatePart>);

/// A piece of a [`Template`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplatePart {
    Literal(String),
    /// `{Name}`, or `{Name#attribute}` with the attribute path.
    Ref {
        name: String,
        attribute: Option<String>,
    },
}

/// One case of `smithy.rules#endpointTests`.
#[derive(Clone, Debug, PartialEq)]
pub struct EndpointTest {
    pub documentation: Option<String>,
    /// Parameter values by parameter name.
    pub params: BTreeMap<String, Value>,
    pub expect: Expectation,
}

/// What an [`EndpointTest`] expects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expectation {
    /// This URL.
    Url(String),
    /// An error with this message.
    Error(String),
}

impl RuleSet {
    /// Parses the JSON of `smithy.rules#endpointRuleSet`.
    pub fn parse(value: &Value) -> Result<Self, String> {
        let object = value
            .as_object()
            .ok_or("the rule set must be a JSON object")?;
        let mut parameters = Vec::new();
        if let Some(params) = object.get("parameters") {
            let params = params.as_object().ok_or("`parameters` must be an object")?;
            for (name, p) in params {
                parameters.push(parameter(name, p)?);
            }
        }
        let rules = rules(object.get("rules").ok_or("missing `rules`")?)?;
        let set = Self { parameters, rules };
        set.check()?;
        Ok(set)
    }

    /// The parameter called `name`.
    pub fn parameter(&self, name: &str) -> Option<&Parameter> {
        self.parameters.iter().find(|p| p.name == name)
    }

    /// Every reference names a parameter or a value assigned by an enclosing condition.
    fn check(&self) -> Result<(), String> {
        let scope: Vec<String> = self.parameters.iter().map(|p| p.name.clone()).collect();
        check_rules(&self.rules, &scope)
    }
}

fn check_rules(rules: &[Rule], scope: &[String]) -> Result<(), String> {
    for rule in rules {
        let mut scope = scope.to_vec();
        for condition in &rule.conditions {
            check_call(&condition.function, &scope)?;
            if let Some(name) = &condition.assign {
                if scope.contains(name) {
                    return Err(format!("`{name}` is assigned twice"));
                }
                scope.push(name.clone());
            }
        }
        match &rule.outcome {
            Outcome::Endpoint { url: e, .. } | Outcome::Error(e) => check_expr(e, &scope)?,
            Outcome::Tree(inner) => check_rules(inner, &scope)?,
        }
    }
    Ok(())
}

fn check_call(call: &Call, scope: &[String]) -> Result<(), String> {
    call.argv.iter().try_for_each(|e| check_expr(e, scope))
}

fn check_expr(expr: &Expr, scope: &[String]) -> Result<(), String> {
    let known = |name: &str| {
        if scope.iter().any(|s| s == name) {
            Ok(())
        } else {
            Err(format!(
                "`{name}` is neither a parameter nor assigned by an enclosing condition"
            ))
        }
    };
    match expr {
        Expr::Ref(name) => known(name),
        Expr::String(template) => template.0.iter().try_for_each(|part| match part {
            TemplatePart::Ref { name, .. } => known(name),
            TemplatePart::Literal(_) => Ok(()),
        }),
        Expr::Bool(_) => Ok(()),
        Expr::Call(call) => check_call(call, scope),
    }
}

fn parameter(name: &str, p: &Value) -> Result<Parameter, String> {
    let kind = match p.get("type").and_then(Value::as_str) {
        Some(t) if t.eq_ignore_ascii_case("string") => ParameterType::String,
        Some(t) if t.eq_ignore_ascii_case("boolean") => ParameterType::Boolean,
        Some(other) => {
            return Err(format!(
                "parameter `{name}` has type `{other}`; string and boolean are supported"
            ));
        }
        None => {
            return Err(format!(
                "parameter `{name}` has no `type`: give it \"string\" or \"boolean\""
            ));
        }
    };
    let default = p.get("default").cloned();
    let default_fits = matches!(
        (&default, kind),
        (None, _)
            | (Some(Value::String(_)), ParameterType::String)
            | (Some(Value::Bool(_)), ParameterType::Boolean)
    );
    if !default_fits {
        return Err(format!("parameter `{name}`: the default is not a {kind:?}"));
    }
    let text = |key: &str| p.get(key).and_then(Value::as_str).map(str::to_owned);
    Ok(Parameter {
        name: name.to_owned(),
        kind,
        required: p.get("required").and_then(Value::as_bool).unwrap_or(false),
        default,
        built_in: text("builtIn"),
        documentation: text("documentation"),
    })
}

fn rules(value: &Value) -> Result<Vec<Rule>, String> {
    value
        .as_array()
        .ok_or("`rules` must be an array")?
        .iter()
        .map(rule)
        .collect()
}

fn rule(value: &Value) -> Result<Rule, String> {
    let conditions = match value.get("conditions") {
        None => Vec::new(),
        Some(c) => c
            .as_array()
            .ok_or("`conditions` must be an array")?
            .iter()
            .map(|c| {
                Ok(Condition {
                    function: call(c)?,
                    assign: c.get("assign").and_then(Value::as_str).map(str::to_owned),
                })
            })
            .collect::<Result<_, String>>()?,
    };
    let outcome = match value.get("type").and_then(Value::as_str) {
        Some("endpoint") => {
            let endpoint = value
                .get("endpoint")
                .ok_or("endpoint rule without `endpoint`")?;
            let url = expr(endpoint.get("url").ok_or("endpoint without `url`")?)?;
            let extras = ["properties", "headers"]
                .into_iter()
                .filter(|key| {
                    endpoint
                        .get(*key)
                        .and_then(Value::as_object)
                        .is_some_and(|o| !o.is_empty())
                })
                .map(str::to_owned)
                .collect();
            Outcome::Endpoint { url, extras }
        }
        Some("error") => Outcome::Error(expr(
            value.get("error").ok_or("error rule without `error`")?,
        )?),
        Some("tree") => Outcome::Tree(rules(
            value.get("rules").ok_or("tree rule without `rules`")?,
        )?),
        other => return Err(format!("unknown rule type {other:?}")),
    };
    Ok(Rule {
        conditions,
        outcome,
        documentation: value
            .get("documentation")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

fn call(value: &Value) -> Result<Call, String> {
    let name = value
        .get("fn")
        .and_then(Value::as_str)
        .ok_or("a function call needs `fn`")?;
    let argv = value
        .get("argv")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("`{name}` needs `argv`"))?
        .iter()
        .map(expr)
        .collect::<Result<_, _>>()?;
    Ok(Call {
        name: name.to_owned(),
        argv,
    })
}

fn expr(value: &Value) -> Result<Expr, String> {
    match value {
        Value::Bool(b) => Ok(Expr::Bool(*b)),
        Value::String(s) => Ok(Expr::String(Template::parse(s)?)),
        Value::Object(o) if o.contains_key("ref") => o["ref"]
            .as_str()
            .map(|r| Expr::Ref(r.to_owned()))
            .ok_or_else(|| "`ref` must be a string".to_owned()),
        Value::Object(o) if o.contains_key("fn") => Ok(Expr::Call(Box::new(call(value)?))),
        other => Err(format!("not an expression: {other}")),
    }
}

impl Template {
    /// Parses `text`: `{Name}` and `{Name#attr}` are references, `{{` and `}}` are braces.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let mut inner = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => inner.push(c),
                            None => return Err(format!("unclosed `{{` in template {text:?}")),
                        }
                    }
                    if !literal.is_empty() {
                        parts.push(TemplatePart::Literal(std::mem::take(&mut literal)));
                    }
                    let (name, attribute) = match inner.split_once('#') {
                        Some((name, attr)) => (name.to_owned(), Some(attr.to_owned())),
                        None => (inner, None),
                    };
                    if name.is_empty() {
                        return Err(format!("empty reference in template {text:?}"));
                    }
                    parts.push(TemplatePart::Ref { name, attribute });
                }
                '}' => return Err(format!("unmatched `}}` in template {text:?}")),
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(TemplatePart::Literal(literal));
        }
        Ok(Self(parts))
    }

    /// The template's text when it holds no reference.
    pub fn as_literal(&self) -> Option<String> {
        self.0
            .iter()
            .map(|part| match part {
                TemplatePart::Literal(text) => Some(text.as_str()),
                TemplatePart::Ref { .. } => None,
            })
            .collect()
    }
}

impl EndpointTest {
    /// Parses the JSON of `smithy.rules#endpointTests` into its test cases.
    pub fn parse_all(value: &Value) -> Result<Vec<Self>, String> {
        let cases = value
            .get("testCases")
            .and_then(Value::as_array)
            .ok_or("`testCases` must be an array")?;
        cases
            .iter()
            .enumerate()
            .map(|(i, case)| {
                let fail = |what: &str| format!("test case {}: {what}", i + 1);
                let params = match case.get("params") {
                    None => BTreeMap::new(),
                    Some(Value::Object(o)) => o.clone().into_iter().collect(),
                    Some(_) => return Err(fail("`params` must be an object")),
                };
                let expect = case.get("expect").ok_or_else(|| fail("missing `expect`"))?;
                let expect =
                    if let Some(url) = expect.pointer("/endpoint/url").and_then(Value::as_str) {
                        Expectation::Url(url.to_owned())
                    } else if let Some(error) = expect.get("error").and_then(Value::as_str) {
                        Expectation::Error(error.to_owned())
                    } else {
                        return Err(fail("`expect` holds neither `endpoint.url` nor `error`"));
                    };
                Ok(Self {
                    documentation: case
                        .get("documentation")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    params,
                    expect,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn templates_split_into_literals_and_references() {
        let t =
            Template::parse("https://kms-fips.{Region}.{PartitionResult#dnsSuffix}/{{x}}").unwrap();
        assert_eq!(
            t.0,
            [
                TemplatePart::Literal("https://kms-fips.".into()),
                TemplatePart::Ref {
                    name: "Region".into(),
                    attribute: None
                },
                TemplatePart::Literal(".".into()),
                TemplatePart::Ref {
                    name: "PartitionResult".into(),
                    attribute: Some("dnsSuffix".into())
                },
                TemplatePart::Literal("/{x}".into()),
            ]
        );
        assert_eq!(
            Template::parse("plain").unwrap().as_literal().as_deref(),
            Some("plain")
        );
        assert!(Template::parse("{Region").is_err());
        assert!(Template::parse("a}b").is_err());
    }

    #[test]
    fn references_must_be_parameters_or_assigned() {
        let set = |rules: Value| {
            RuleSet::parse(&json!({
                "version": "1.0",
                "parameters": {"Region": {"type": "String", "required": false}},
                "rules": rules,
            }))
        };
        assert!(set(json!([{
            "type": "tree",
            "conditions": [{"fn": "aws.partition", "argv": [{"ref": "Region"}], "assign": "P"}],
            "rules": [{"type": "endpoint", "conditions": [], "endpoint": {"url": "https://x.{P#dnsSuffix}"}}],
        }]))
        .is_ok());
        let error =
            set(json!([{"type": "endpoint", "endpoint": {"url": "https://{P#dnsSuffix}"}}]))
                .unwrap_err();
        assert!(error.contains("`P` is neither a parameter"), "{error}");
        let error = set(json!([{"type": "mystery"}])).unwrap_err();
        assert!(error.contains("unknown rule type"), "{error}");
        // In a condition's arguments, and in a call's inside them.
        for argument in [
            json!({"ref": "Nope"}),
            json!({"fn": "not", "argv": [{"ref": "Nope"}]}),
        ] {
            let error = set(json!([{
                "type": "error",
                "conditions": [{"fn": "isSet", "argv": [argument]}],
                "error": "no",
            }]))
            .unwrap_err();
            assert!(error.contains("`Nope` is neither a parameter"), "{error}");
        }
        // An argument that is neither a reference, a call nor a literal.
        let error = set(json!([{
            "type": "error",
            "conditions": [{"fn": "isSet", "argv": [{"reference": "Region"}]}],
            "error": "no",
        }]))
        .unwrap_err();
        assert_eq!(error, r#"not an expression: {"reference":"Region"}"#);
    }

    #[test]
    fn endpoints_name_their_non_empty_properties_and_headers() {
        let extras = |endpoint: Value| {
            let set = RuleSet::parse(&json!({
                "rules": [{"type": "endpoint", "endpoint": endpoint}],
            }))
            .unwrap();
            match &set.rules[0].outcome {
                Outcome::Endpoint { extras, .. } => extras.clone(),
                other => panic!("{other:?}"),
            }
        };
        // The model's endpoints carry empty ones.
        assert!(extras(json!({"url": "https://x", "properties": {}, "headers": {}})).is_empty());
        assert_eq!(
            extras(json!({"url": "https://x", "properties": {}, "headers": {"x-a": ["b"]}})),
            ["headers"]
        );
    }

    #[test]
    fn parameters_keep_type_default_and_built_in() {
        let set = RuleSet::parse(&json!({
            "parameters": {
                "UseFIPS": {"type": "Boolean", "required": true, "default": false, "builtIn": "AWS::UseFIPS"},
            },
            "rules": [{"type": "error", "conditions": [], "error": "no"}],
        }))
        .unwrap();
        let p = set.parameter("UseFIPS").unwrap();
        assert_eq!((p.kind, p.required), (ParameterType::Boolean, true));
        assert_eq!(p.default, Some(json!(false)));
        assert_eq!(p.built_in.as_deref(), Some("AWS::UseFIPS"));
        let error = RuleSet::parse(&json!({
            "parameters": {"UseFIPS": {"type": "Boolean", "default": "yes"}},
            "rules": [],
        }))
        .unwrap_err();
        assert!(error.contains("default"), "{error}");
        // Only string and boolean parameters (the rules language has `stringArray` too).
        let error = RuleSet::parse(&json!({
            "parameters": {"Ids": {"type": "stringArray"}},
            "rules": [],
        }))
        .unwrap_err();
        assert_eq!(
            error,
            "parameter `Ids` has type `stringArray`; string and boolean are supported"
        );
        let error = RuleSet::parse(&json!({"parameters": {"Ids": {}}, "rules": []})).unwrap_err();
        assert_eq!(
            error,
            r#"parameter `Ids` has no `type`: give it "string" or "boolean""#
        );
    }

    #[test]
    fn test_cases_expect_a_url_or_an_error() {
        let cases = EndpointTest::parse_all(&json!({"testCases": [
            {"params": {"Region": "us-east-1"}, "expect": {"endpoint": {"url": "https://kms.us-east-1.amazonaws.com"}}},
            {"expect": {"error": "Invalid Configuration: Missing Region"}},
        ]}))
        .unwrap();
        assert_eq!(
            cases[0].expect,
            Expectation::Url("https://kms.us-east-1.amazonaws.com".into())
        );
        assert_eq!(
            cases[1].expect,
            Expectation::Error("Invalid Configuration: Missing Region".into())
        );
        assert!(cases[1].params.is_empty());
        assert!(EndpointTest::parse_all(&json!({"testCases": [{"expect": {}}]})).is_err());
    }
}
