//! Traits: every trait kept as JSON, typed access to those the generator uses.

use std::collections::BTreeMap;

use serde_json::{Number, Value};

/// `smithy.api#documentation`
pub const DOCUMENTATION: &str = "smithy.api#documentation";
/// `smithy.api#required`
pub const REQUIRED: &str = "smithy.api#required";
/// `smithy.api#default`
pub const DEFAULT: &str = "smithy.api#default";
/// `smithy.api#length`
pub const LENGTH: &str = "smithy.api#length";
/// `smithy.api#range`
pub const RANGE: &str = "smithy.api#range";
/// `smithy.api#pattern`
pub const PATTERN: &str = "smithy.api#pattern";
/// `smithy.api#enumValue`
pub const ENUM_VALUE: &str = "smithy.api#enumValue";
/// `smithy.api#sensitive`
pub const SENSITIVE: &str = "smithy.api#sensitive";
/// `smithy.api#error`
pub const ERROR: &str = "smithy.api#error";
/// `smithy.api#httpError`
pub const HTTP_ERROR: &str = "smithy.api#httpError";
/// `smithy.api#paginated`
pub const PAGINATED: &str = "smithy.api#paginated";
/// `smithy.api#input`
pub const INPUT: &str = "smithy.api#input";
/// `smithy.api#output`
pub const OUTPUT: &str = "smithy.api#output";
/// `smithy.api#deprecated`
pub const DEPRECATED: &str = "smithy.api#deprecated";
/// `smithy.api#examples`
pub const EXAMPLES: &str = "smithy.api#examples";
/// `aws.protocols#awsJson1_1`
pub const AWS_JSON_1_1: &str = "aws.protocols#awsJson1_1";
/// `aws.api#service`
pub const AWS_SERVICE: &str = "aws.api#service";
/// `aws.auth#sigv4`
pub const SIGV4: &str = "aws.auth#sigv4";

/// The traits applied to a shape or member, by absolute trait id.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Traits(BTreeMap<String, Value>);

/// Inclusive bounds of `@length`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Length {
    pub min: Option<u64>,
    pub max: Option<u64>,
}

/// Inclusive bounds of `@range`, kept as the model's JSON numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct Range {
    pub min: Option<Number>,
    pub max: Option<Number>,
}

/// The value of an `enum` or `intEnum` member.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum EnumValue {
    String(String),
    Int(i64),
}

/// Who is at fault for an `@error` structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    Client,
    Server,
}

/// `@paginated`: member names of the pagination tokens, page size and items.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Paginated {
    pub input_token: Option<String>,
    pub output_token: Option<String>,
    pub page_size: Option<String>,
    pub items: Option<String>,
}

impl Paginated {
    /// Fills members this trait leaves unset from `defaults` (the service's `@paginated`).
    pub fn merged_over(&self, defaults: &Paginated) -> Paginated {
        let pick = |own: &Option<String>, fallback: &Option<String>| {
            own.clone().or_else(|| fallback.clone())
        };
        Paginated {
            input_token: pick(&self.input_token, &defaults.input_token),
            output_token: pick(&self.output_token, &defaults.output_token),
            page_size: pick(&self.page_size, &defaults.page_size),
            items: pick(&self.items, &defaults.items),
        }
    }
}

/// `@deprecated`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Deprecated {
    pub message: Option<String>,
    pub since: Option<String>,
}

/// One entry of `@examples`.
#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    pub title: String,
    pub documentation: Option<String>,
    pub input: Option<Value>,
    pub output: Option<Value>,
    pub error: Option<Value>,
}

/// `aws.api#service`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AwsService {
    pub sdk_id: String,
    pub endpoint_prefix: Option<String>,
    pub arn_namespace: Option<String>,
}

impl Traits {
    /// Wraps traits keyed by absolute trait id.
    pub fn new(traits: BTreeMap<String, Value>) -> Self {
        Self(traits)
    }

    /// Any trait, as JSON.
    pub fn get(&self, id: &str) -> Option<&Value> {
        self.0.get(id)
    }

    /// Whether trait `id` is applied.
    pub fn has(&self, id: &str) -> bool {
        self.0.contains_key(id)
    }

    /// All traits, by id.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// `@documentation`: the HTML documentation text.
    pub fn documentation(&self) -> Option<&str> {
        self.get(DOCUMENTATION)?.as_str()
    }

    /// `@required`.
    pub fn required(&self) -> bool {
        self.has(REQUIRED)
    }

    /// `@default`: the default value.
    pub fn default_value(&self) -> Option<&Value> {
        self.get(DEFAULT)
    }

    /// `@length`.
    pub fn length(&self) -> Option<Length> {
        let v = self.get(LENGTH)?;
        Some(Length {
            min: v.get("min").and_then(Value::as_u64),
            max: v.get("max").and_then(Value::as_u64),
        })
    }

    /// `@range`.
    pub fn range(&self) -> Option<Range> {
        let v = self.get(RANGE)?;
        let bound = |k: &str| v.get(k).and_then(|n| n.as_number()).cloned();
        Some(Range {
            min: bound("min"),
            max: bound("max"),
        })
    }

    /// `@pattern`: an ECMA-262 regular expression, not implicitly anchored.
    pub fn pattern(&self) -> Option<&str> {
        self.get(PATTERN)?.as_str()
    }

    /// `@enumValue`.
    pub fn enum_value(&self) -> Option<EnumValue> {
        match self.get(ENUM_VALUE)? {
            Value::String(s) => Some(EnumValue::String(s.clone())),
            Value::Number(n) => n.as_i64().map(EnumValue::Int),
            _ => None,
        }
    }

    /// `@sensitive`.
    pub fn sensitive(&self) -> bool {
        self.has(SENSITIVE)
    }

    /// `@error`.
    pub fn error(&self) -> Option<Fault> {
        match self.get(ERROR)?.as_str()? {
            "client" => Some(Fault::Client),
            "server" => Some(Fault::Server),
            _ => None,
        }
    }

    /// `@httpError`.
    pub fn http_error(&self) -> Option<u16> {
        self.get(HTTP_ERROR)?
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
    }

    /// `@paginated`.
    pub fn paginated(&self) -> Option<Paginated> {
        let v = self.get(PAGINATED)?;
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        Some(Paginated {
            input_token: s("inputToken"),
            output_token: s("outputToken"),
            page_size: s("pageSize"),
            items: s("items"),
        })
    }

    /// `@input`.
    pub fn input(&self) -> bool {
        self.has(INPUT)
    }

    /// `@output`.
    pub fn output(&self) -> bool {
        self.has(OUTPUT)
    }

    /// `@deprecated`.
    pub fn deprecated(&self) -> Option<Deprecated> {
        let v = self.get(DEPRECATED)?;
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        Some(Deprecated {
            message: s("message"),
            since: s("since"),
        })
    }

    /// `@examples`.
    pub fn examples(&self) -> Vec<Example> {
        let Some(Value::Array(items)) = self.get(EXAMPLES) else {
            return Vec::new();
        };
        items
            .iter()
            .map(|e| Example {
                title: e
                    .get("title")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                documentation: e
                    .get("documentation")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                input: e.get("input").cloned(),
                output: e.get("output").cloned(),
                error: e.get("error").cloned(),
            })
            .collect()
    }

    /// `aws.protocols#awsJson1_1`.
    pub fn aws_json_1_1(&self) -> bool {
        self.has(AWS_JSON_1_1)
    }

    /// `aws.api#service`.
    pub fn aws_service(&self) -> Option<AwsService> {
        let v = self.get(AWS_SERVICE)?;
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        Some(AwsService {
            sdk_id: s("sdkId").unwrap_or_default(),
            endpoint_prefix: s("endpointPrefix"),
            arn_namespace: s("arnNamespace"),
        })
    }

    /// `smithy.rules#endpointRuleSet`, parsed.
    pub fn endpoint_rule_set(&self) -> Option<Result<crate::endpoint_rules::RuleSet, String>> {
        self.get(crate::endpoint_rules::ENDPOINT_RULE_SET)
            .map(crate::endpoint_rules::RuleSet::parse)
    }

    /// `smithy.rules#endpointTests`, parsed.
    pub fn endpoint_tests(
        &self,
    ) -> Option<Result<Vec<crate::endpoint_rules::EndpointTest>, String>> {
        self.get(crate::endpoint_rules::ENDPOINT_TESTS)
            .map(crate::endpoint_rules::EndpointTest::parse_all)
    }

    /// `aws.auth#sigv4`: the signing name.
    pub fn sigv4(&self) -> Option<&str> {
        self.get(SIGV4)?.get("name")?.as_str()
    }
}
