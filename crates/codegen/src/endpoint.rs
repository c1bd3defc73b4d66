//! The service's endpoint rules (`smithy.rules#endpointRuleSet`) → `EndpointParams` and
//! `resolve_endpoint`: the rules compiled to nested `if`s, with the partition data and
//! the error type from `::kms_types::endpoint`.
//!
//! Supported: string and boolean parameters; the functions `isSet`, `booleanEquals`,
//! `stringEquals`, `not`, `getAttr` (on a partition) and `aws.partition`; endpoints
//! without properties or headers. Anything else is a generation error naming it.

use std::collections::BTreeMap;

use kms_spec::endpoint_rules::{
    Call, Condition, Expr, Outcome, Parameter, ParameterType, Rule, RuleSet, TemplatePart,
};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use crate::{Error, Generator, names};

/// What a name in the rules refers to, and its Rust type.
#[derive(Clone)]
struct Binding {
    tokens: TokenStream,
    kind: Kind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `Option<String>` in `params`, not yet checked with `isSet`.
    OptionalString,
    /// `Option<bool>` in `params`, not yet checked with `isSet`.
    OptionalBool,
    /// A `&str`.
    Str,
    Bool,
    /// A `&'static Partition`.
    Partition,
}

type Scope = BTreeMap<String, Binding>;

fn fail(message: impl Into<String>) -> Error {
    Error(format!("endpoint rules: {}", message.into()))
}

impl Generator<'_> {
    /// `EndpointParams` and `resolve_endpoint`, when the service has endpoint rules.
    pub(crate) fn endpoint_resolver(&self) -> Result<TokenStream, Error> {
        let Some(rules) = self.service.shape.traits.endpoint_rule_set() else {
            return Ok(quote!());
        };
        let rules = rules.map_err(fail)?;
        let service = self.service.shape.id.name();
        let (params, scope) = params_struct(&rules, service);
        let region_check = region_check(&rules);
        let body = rule_list(&rules.rules, &scope, true)?;
        let doc = format!(
            " The endpoint URL of `{service}` for `params`: the model's endpoint rules \
             (`smithy.rules#endpointRuleSet`) compiled to code. An error carries the message \
             of the rule that applied, e.g. a missing region; a region that is not a valid \
             host label is refused first ([`kms_types::endpoint::check_region`])."
        );
        Ok(quote! {
            #params

            #[doc = #doc]
            pub fn resolve_endpoint(
                params: &EndpointParams,
            ) -> Result<String, ::kms_types::endpoint::EndpointError> {
                #region_check
                #body
            }
        })
    }
}

/// The check of the region parameter (`builtIn` `AWS::Region`) when it is set: a valid
/// host label, as botocore requires, before any rule puts it in a host name.
fn region_check(rules: &RuleSet) -> TokenStream {
    let checks = rules
        .parameters
        .iter()
        .filter(|p| p.built_in.as_deref() == Some("AWS::Region"))
        .filter(|p| p.kind == ParameterType::String)
        .map(|p| {
            let field = names::field_name(&p.name);
            if has_default(p) {
                quote!(::kms_types::endpoint::check_region(&params.#field)?;)
            } else {
                quote! {
                    if let Some(region) = params.#field.as_deref() {
                        ::kms_types::endpoint::check_region(region)?;
                    }
                }
            }
        });
    quote!(#(#checks)*)
}

/// The parameters struct, with `Default` from the model's defaults (derived when each is
/// its type's own: `None`, `false`, `""`), and how the rules read each parameter.
fn params_struct(rules: &RuleSet, service: &str) -> (TokenStream, Scope) {
    let mut fields = Vec::new();
    let mut defaults = Vec::new();
    let mut derivable = true;
    let mut scope = Scope::new();
    for p in &rules.parameters {
        let field = names::field_name(&p.name);
        let with_default = has_default(p);
        let binding = |tokens, kind| Binding { tokens, kind };
        let (ty, default, binding) = match (p.kind, with_default) {
            (ParameterType::String, false) => (
                quote!(Option<String>),
                quote!(None),
                binding(quote!(params.#field), Kind::OptionalString),
            ),
            (ParameterType::String, true) => {
                let value = p
                    .default
                    .as_ref()
                    .and_then(|v| v.as_str())
                    .unwrap_or_default();
                derivable &= value.is_empty();
                (
                    quote!(String),
                    quote!(#value.to_owned()),
                    binding(quote!(params.#field.as_str()), Kind::Str),
                )
            }
            (ParameterType::Boolean, false) => (
                quote!(Option<bool>),
                quote!(None),
                binding(quote!(params.#field), Kind::OptionalBool),
            ),
            (ParameterType::Boolean, true) => {
                let value = p
                    .default
                    .as_ref()
                    .and_then(|v| v.as_bool())
                    .unwrap_or_default();
                derivable &= !value;
                (
                    quote!(bool),
                    quote!(#value),
                    binding(quote!(params.#field), Kind::Bool),
                )
            }
        };
        scope.insert(p.name.clone(), binding);
        let doc = parameter_doc(p);
        fields.push(quote! {
            #[doc = #doc]
            pub #field: #ty,
        });
        defaults.push(quote!(#field: #default,));
    }
    let doc = format!(" The parameters of `{service}`'s endpoint rules ([`resolve_endpoint`]).");
    // What clippy's derivable_impls asks for, when every default is the type's own.
    let derived_default = derivable.then(|| quote!(Default,));
    let default_impl = (!derivable).then(|| {
        quote! {
            impl Default for EndpointParams {
                fn default() -> Self {
                    Self {
                        #(#defaults)*
                    }
                }
            }
        }
    });
    let tokens = quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, #derived_default PartialEq, Eq)]
        pub struct EndpointParams {
            #(#fields)*
        }

        #default_impl
    };
    (tokens, scope)
}

/// A required parameter with a default: a plain value in `EndpointParams`, not an `Option`.
fn has_default(p: &Parameter) -> bool {
    p.required && p.default.is_some()
}

fn parameter_doc(p: &Parameter) -> String {
    let mut doc = format!(" `{}`", p.name);
    if let Some(text) = &p.documentation {
        doc.push_str(": ");
        doc.push_str(text.trim());
    }
    let mut notes = Vec::new();
    if let Some(default) = &p.default {
        notes.push(format!("default `{default}`"));
    }
    if let Some(built_in) = &p.built_in {
        notes.push(format!("SDKs set it from `{built_in}`"));
    }
    if !notes.is_empty() {
        doc.push_str(&format!(" ({})", notes.join("; ")));
    }
    doc
}

/// The statements of a rule list; they always return (a list whose rules may all fail
/// ends in an error of its own). In tail position the rule that always applies is the
/// block's value instead of a `return`.
fn rule_list(rules: &[Rule], scope: &Scope, tail: bool) -> Result<TokenStream, Error> {
    let mut statements = Vec::new();
    for rule in rules {
        let (tokens, always) = self::rule(rule, scope, tail)?;
        statements.push(tokens);
        if always {
            // Rules after one that always applies can never be reached.
            return Ok(quote!(#(#statements)*));
        }
    }
    let message = "no endpoint rule matched the parameters";
    let fallback = if tail {
        quote!(Err(::kms_types::endpoint::EndpointError::new(#message)))
    } else {
        quote!(return Err(::kms_types::endpoint::EndpointError::new(#message));)
    };
    Ok(quote!(#(#statements)* #fallback))
}

/// One rule, and whether it always applies (every condition always holds).
fn rule(rule: &Rule, scope: &Scope, tail: bool) -> Result<(TokenStream, bool), Error> {
    let mut scope = scope.clone();
    let mut guards = Vec::new();
    for condition in &rule.conditions {
        guards.push(guard(condition, &mut scope)?);
    }
    let always = guards.iter().all(|g| matches!(g, Guard::Let(_)));
    // Only a rule that always applies can give the value of a block in tail position.
    let tail = tail && always;
    let outcome = match &rule.outcome {
        Outcome::Endpoint { url, extras } => {
            if let Some(extra) = extras.first() {
                return Err(fail(format!("endpoints with {extra} are not supported")));
            }
            let url = owned_string(url, &scope)?;
            let value = quote!(Ok(#url));
            if tail { value } else { quote!(return #value;) }
        }
        Outcome::Error(message) => {
            let message = str_expr(message, &scope)?;
            let value = quote!(Err(::kms_types::endpoint::EndpointError::new(#message)));
            if tail { value } else { quote!(return #value;) }
        }
        Outcome::Tree(rules) => rule_list(rules, &scope, tail)?,
    };
    let mut tokens = outcome;
    // Wrap from the innermost condition outwards; consecutive tests share one `if`.
    let mut pending_tests: Vec<TokenStream> = Vec::new();
    let wrap_tests = |tokens: TokenStream, tests: &mut Vec<TokenStream>| {
        let mut joined = std::mem::take(tests).into_iter().rev();
        let Some(first) = joined.next() else {
            return tokens;
        };
        let test = joined.fold(first, |all, next| quote!(#all && #next));
        quote!(if #test { #tokens })
    };
    for guard in guards.into_iter().rev() {
        match guard {
            Guard::Test(test) => pending_tests.push(test),
            Guard::IfLet(pattern, value) => {
                tokens = wrap_tests(tokens, &mut pending_tests);
                tokens = quote!(if let Some(#pattern) = #value { #tokens });
            }
            Guard::Let(binding) => {
                // No block of its own: rules after it either cannot be reached or
                // cannot see it (it is inside a test), and a later `let` of the same
                // name shadows it.
                tokens = wrap_tests(tokens, &mut pending_tests);
                tokens = quote!(#binding #tokens);
            }
        }
    }
    tokens = wrap_tests(tokens, &mut pending_tests);
    Ok((tokens, always))
}

/// How a condition is tested in Rust.
enum Guard {
    /// A boolean test.
    Test(TokenStream),
    /// `if let Some(pattern) = value`.
    IfLet(Ident, TokenStream),
    /// A `let` that always succeeds.
    Let(TokenStream),
}

fn guard(condition: &Condition, scope: &mut Scope) -> Result<Guard, Error> {
    let call = &condition.function;
    match (call.name.as_str(), call.argv.as_slice(), &condition.assign) {
        ("isSet", [Expr::Ref(name)], None) => {
            let binding = lookup(scope, name)?;
            let ident = names::field_name(name);
            let (value, kind) = match binding.kind {
                Kind::OptionalString => {
                    let tokens = &binding.tokens;
                    (quote!(#tokens.as_deref()), Kind::Str)
                }
                Kind::OptionalBool => (binding.tokens.clone(), Kind::Bool),
                // Already set: the condition always holds.
                _ => return Ok(Guard::Let(quote!())),
            };
            scope.insert(
                name.clone(),
                Binding {
                    tokens: quote!(#ident),
                    kind,
                },
            );
            Ok(Guard::IfLet(ident, value))
        }
        ("aws.partition", [region], Some(assign)) => {
            let region = str_expr(region, scope)?;
            let ident = names::field_name(assign);
            scope.insert(
                assign.clone(),
                Binding {
                    tokens: quote!(#ident),
                    kind: Kind::Partition,
                },
            );
            Ok(Guard::Let(quote! {
                let #ident = ::kms_types::endpoint::Partition::of(#region);
            }))
        }
        (_, _, Some(assign)) => Err(fail(format!(
            "assigning the result of `{}` (to `{assign}`) is not supported",
            call.name
        ))),
        _ => Ok(Guard::Test(bool_call(call, scope)?)),
    }
}

fn lookup<'s>(scope: &'s Scope, name: &str) -> Result<&'s Binding, Error> {
    scope
        .get(name)
        .ok_or_else(|| fail(format!("`{name}` is not in scope")))
}

/// A call that yields a `bool`.
fn bool_call(call: &Call, scope: &Scope) -> Result<TokenStream, Error> {
    match (call.name.as_str(), call.argv.as_slice()) {
        ("booleanEquals", [a, b]) => Ok(match (a, b) {
            (Expr::Bool(true), x) | (x, Expr::Bool(true)) => bool_expr(x, scope)?,
            (Expr::Bool(false), x) | (x, Expr::Bool(false)) => {
                let x = bool_expr(x, scope)?;
                quote!(!#x)
            }
            (a, b) => {
                let (a, b) = (bool_expr(a, scope)?, bool_expr(b, scope)?);
                quote!(#a == #b)
            }
        }),
        ("stringEquals", [a, b]) => {
            let (a, b) = (str_expr(a, scope)?, str_expr(b, scope)?);
            Ok(quote!(#a == #b))
        }
        ("not", [inner]) => {
            let inner = bool_expr(inner, scope)?;
            Ok(quote!(!(#inner)))
        }
        ("getAttr", [target, Expr::String(path)]) => {
            let path = path
                .as_literal()
                .ok_or_else(|| fail("getAttr paths must be literal"))?;
            let (tokens, kind) = attribute(target, &path, scope)?;
            match kind {
                Kind::Bool => Ok(tokens),
                _ => Err(fail(format!("getAttr `{path}` is not a boolean"))),
            }
        }
        (name, argv) => Err(fail(format!(
            "the function `{name}` with {} argument(s) is not supported",
            argv.len()
        ))),
    }
}

fn bool_expr(expr: &Expr, scope: &Scope) -> Result<TokenStream, Error> {
    match expr {
        Expr::Bool(b) => Ok(quote!(#b)),
        Expr::Ref(name) => {
            let binding = lookup(scope, name)?;
            match binding.kind {
                Kind::Bool => Ok(binding.tokens.clone()),
                _ => Err(fail(format!("`{name}` is not a boolean that is set"))),
            }
        }
        Expr::Call(call) => bool_call(call, scope),
        Expr::String(_) => Err(fail("a string where a boolean was expected")),
    }
}

/// An expression yielding a `String`.
fn owned_string(expr: &Expr, scope: &Scope) -> Result<TokenStream, Error> {
    let tokens = str_expr(expr, scope)?;
    Ok(match expr {
        Expr::String(template) if template.as_literal().is_none() => tokens,
        _ => quote!(#tokens.to_owned()),
    })
}

/// An expression yielding something string-like: `&str`, or `String` for a template.
fn str_expr(expr: &Expr, scope: &Scope) -> Result<TokenStream, Error> {
    match expr {
        Expr::Ref(name) => {
            let binding = lookup(scope, name)?;
            match binding.kind {
                Kind::Str => Ok(binding.tokens.clone()),
                Kind::OptionalString => Err(fail(format!(
                    "`{name}` is read without an enclosing isSet({name})"
                ))),
                _ => Err(fail(format!("`{name}` is not a string"))),
            }
        }
        Expr::String(template) => {
            if let Some(text) = template.as_literal() {
                return Ok(quote!(#text));
            }
            let mut format = String::new();
            let mut args = Vec::new();
            for part in &template.0 {
                match part {
                    TemplatePart::Literal(text) => {
                        format.push_str(&text.replace('{', "{{").replace('}', "}}"));
                    }
                    TemplatePart::Ref {
                        name,
                        attribute: None,
                    } => {
                        format.push_str("{}");
                        args.push(str_expr(&Expr::Ref(name.clone()), scope)?);
                    }
                    TemplatePart::Ref {
                        name,
                        attribute: Some(path),
                    } => {
                        format.push_str("{}");
                        args.push(attribute(&Expr::Ref(name.clone()), path, scope)?.0);
                    }
                }
            }
            Ok(quote!(format!(#format, #(#args),*)))
        }
        Expr::Call(call) if call.name == "getAttr" => match call.argv.as_slice() {
            [target, Expr::String(path)] => {
                let path = path
                    .as_literal()
                    .ok_or_else(|| fail("getAttr paths must be literal"))?;
                Ok(attribute(target, &path, scope)?.0)
            }
            _ => Err(fail("getAttr takes a reference and a path")),
        },
        Expr::Call(call) => Err(fail(format!(
            "the function `{}` is not supported where a string is expected",
            call.name
        ))),
        Expr::Bool(_) => Err(fail("a boolean where a string was expected")),
    }
}

/// An attribute of a partition, e.g. `PartitionResult#dnsSuffix`.
fn attribute(target: &Expr, path: &str, scope: &Scope) -> Result<(TokenStream, Kind), Error> {
    let Expr::Ref(name) = target else {
        return Err(fail("getAttr on something other than a reference"));
    };
    let binding = lookup(scope, name)?;
    if binding.kind != Kind::Partition {
        return Err(fail(format!(
            "getAttr on `{name}`, which is not a partition"
        )));
    }
    let (field, kind) = match path {
        "name" => ("name", Kind::Str),
        "dnsSuffix" => ("dns_suffix", Kind::Str),
        "dualStackDnsSuffix" => ("dual_stack_dns_suffix", Kind::Str),
        "implicitGlobalRegion" => ("implicit_global_region", Kind::Str),
        "supportsFIPS" => ("supports_fips", Kind::Bool),
        "supportsDualStack" => ("supports_dual_stack", Kind::Bool),
        other => return Err(fail(format!("partitions have no attribute `{other}`"))),
    };
    let base = &binding.tokens;
    let field = format_ident!("{field}");
    Ok((quote!(#base.#field), kind))
}
