//! Structures and unions: the types, their builders, `Debug` that redacts
//! `@sensitive` members, and the `std::error::Error` side of `@error` structures.

use kms_spec::{Member, Model, Shape, ShapeKind};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::Generator;
use crate::names;

/// How a member is held in its structure.
pub(crate) enum Presence {
    /// `Option<T>`, omitted on the wire when absent.
    Optional,
    /// `T` with a zero-like `@default`, always written; absent or `null`, the default.
    Defaulted,
    /// `T`, `@required`.
    Required,
}

impl Generator<'_> {
    /// `#[doc = "..."]` lines from a shape's or member's documentation, else `fallback`.
    pub(crate) fn docs(&self, html: Option<&str>, fallback: &str) -> TokenStream {
        let text = doc_text(html, fallback);
        let lines = text.lines().map(|line| {
            if line.is_empty() {
                String::new()
            } else {
                format!(" {line}")
            }
        });
        quote! { #(#[doc = #lines])* }
    }

    pub(crate) fn presence(&self, member: &Member) -> Presence {
        let constraints = self.model.constraints(member);
        // A zero-like `@default` is the Rust type's own `Default` only for these; a
        // timestamp or intEnum has none, and a document's is `null`, not `{}`.
        let kind = self.model.target(member).kind;
        let has_zero_default = kind.is_number()
            || matches!(
                kind,
                ShapeKind::String
                    | ShapeKind::Boolean
                    | ShapeKind::Blob
                    | ShapeKind::List
                    | ShapeKind::Set
                    | ShapeKind::Map
            );
        if constraints.client_optional {
            // Its validator still requires it (see `validate`).
            Presence::Optional
        } else if constraints.required {
            Presence::Required
        } else if has_zero_default && constraints.default.as_ref().is_some_and(is_zero_like) {
            Presence::Defaulted
        } else {
            Presence::Optional
        }
    }

    fn is_sensitive(&self, shape: &Shape, member: &Member) -> bool {
        shape.traits.sensitive() || self.model.constraints(member).sensitive
    }

    pub(crate) fn structure(&self, shape: &Shape) -> TokenStream {
        let name = self.type_name(shape);
        let docs = self.docs(
            shape.traits.documentation(),
            &self.structure_fallback_doc(shape),
        );
        let fields = shape.members.iter().map(|member| self.field(shape, member));
        let has_required = shape
            .members
            .iter()
            .any(|m| matches!(self.presence(m), Presence::Required));
        let redacts =
            shape.traits.sensitive() || shape.members.iter().any(|m| self.is_sensitive(shape, m));
        let debug_derive = (!redacts).then(|| quote!(Debug,));
        let hash_derive = self.is_hashable(shape).then(|| quote!(Eq, Hash,));
        let default_derive = (!has_required).then(|| quote!(Default,));
        let debug_impl = redacts.then(|| self.redacting_debug(shape));
        let builder = self.builder(shape);
        let error = shape.traits.error().map(|_| self.error_impls(shape));
        let validate = self.validate_impl(shape);
        let serialize = self.serialize_impl(shape);
        let deprecated = deprecation_doc(shape.traits.deprecated());
        quote! {
            #docs
            #deprecated
            #[derive(Clone, PartialEq, #hash_derive #debug_derive #default_derive
                ::kms_types::__private::serde::Deserialize)]
            #[serde(crate = "::kms_types::__private::serde")]
            #[non_exhaustive]
            pub struct #name {
                #(#fields)*
            }
            #serialize
            #debug_impl
            #builder
            #error
            #validate
        }
    }

    /// What to say of a structure the model does not document: its role.
    pub(crate) fn structure_fallback_doc(&self, shape: &Shape) -> String {
        let name = self.shape_name(shape);
        for op in &self.service.operations {
            let op_name = op.shape.id.name();
            if op.input.id == shape.id {
                return format!("The input of [`{op_name}`]; see its documentation.");
            }
            if op.output.id == shape.id {
                return format!("The output of [`{op_name}`]; see its documentation.");
            }
        }
        format!("The `{name}` structure.")
    }

    fn field(&self, shape: &Shape, member: &Member) -> TokenStream {
        let field = names::field_name(&member.name);
        let wire = &member.name;
        let target = self.model.target(member);
        let ty = self.rust_type(shape, target);
        let docs = self.docs(
            member
                .traits
                .documentation()
                .or_else(|| target.traits.documentation()),
            &format!("The `{wire}` member."),
        );
        let deprecated = deprecation_doc(member.traits.deprecated());
        // Floats read awsJson's "NaN", "Infinity" and "-Infinity"; a defaulted member
        // reads `null` as its default.
        let floats = self.holds_floats(target);
        let presence = self.presence(member);
        let reader = match (&presence, floats) {
            (Presence::Defaulted, true) => {
                Some("::kms_types::__private::float::deserialize_or_default")
            }
            (Presence::Defaulted, false) => Some("::kms_types::__private::null_as_default"),
            (_, true) => Some("::kms_types::__private::float::deserialize"),
            (_, false) => None,
        };
        let default = (!matches!(presence, Presence::Required)).then(|| quote!(, default));
        let reader = reader.map(|path| quote!(, deserialize_with = #path));
        let ty = match presence {
            Presence::Optional => quote!(Option<#ty>),
            Presence::Defaulted | Presence::Required => ty,
        };
        quote! {
            #docs
            #deprecated
            #[serde(rename = #wire #default #reader)]
            pub #field: #ty,
        }
    }

    /// Whether values of `target` are floats, or a list or map of floats: JSON has no
    /// number for NaN and the infinities, which awsJson writes as strings.
    pub(crate) fn holds_floats(&self, target: &Shape) -> bool {
        let is_float = |s: &Shape| matches!(s.kind, ShapeKind::Float | ShapeKind::Double);
        match target.kind {
            ShapeKind::List | ShapeKind::Set => target
                .list_member()
                .is_some_and(|m| is_float(self.model.target(m))),
            ShapeKind::Map => target
                .map_members()
                .is_some_and(|(_, v)| is_float(self.model.target(v))),
            _ => is_float(target),
        }
    }

    /// `Serialize` through `kms_types::__private::Members`: absent members left out of
    /// JSON, as awsJson wants, yet written for formats that read members by position
    /// (bincode), which a derive's `skip_serializing_if` would corrupt.
    fn serialize_impl(&self, shape: &Shape) -> TokenStream {
        let name = self.type_name(shape);
        // The name the derived `Deserialize` expects, for formats that write it (RON).
        let struct_name = name.to_string();
        // Each member with its field, and whether it is optional.
        let fields: Vec<_> = shape
            .members
            .iter()
            .map(|m| {
                let optional = matches!(self.presence(m), Presence::Optional);
                (m, names::field_name(&m.name), optional)
            })
            .collect();
        let floats = |m: &Member| self.holds_floats(self.model.target(m));
        let always = fields.iter().filter(|(_, _, optional)| !optional).count();
        let always = proc_macro2::Literal::usize_unsuffixed(always);
        let present = fields
            .iter()
            .filter(|(_, _, optional)| *optional)
            .map(|(_, field, _)| quote!(self.#field.is_some()));
        let members = fields.iter().map(|(m, field, optional)| {
            let wire = &m.name;
            match (*optional, floats(m)) {
                (true, true) => quote!(members.optional_floats(#wire, &self.#field)?;),
                (true, false) => quote!(members.optional(#wire, &self.#field)?;),
                (false, true) => quote! {
                    members.member(#wire, &::kms_types::__private::float::Ser(&self.#field))?;
                },
                (false, false) => quote!(members.member(#wire, &self.#field)?;),
            }
        });
        let start = quote! {
            ::kms_types::__private::Members::new(serializer, #struct_name, #always, &[#(#present),*])?
        };
        let body = if shape.members.is_empty() {
            quote!(#start.end())
        } else {
            quote! {
                let mut members = #start;
                #(#members)*
                members.end()
            }
        };
        quote! {
            impl ::kms_types::__private::serde::Serialize for #name {
                fn serialize<S>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error>
                where
                    S: ::kms_types::__private::serde::Serializer,
                {
                    #body
                }
            }
        }
    }

    fn redacting_debug(&self, shape: &Shape) -> TokenStream {
        let name = self.type_name(shape);
        let label = name.to_string();
        let fields = shape.members.iter().map(|member| {
            let field = names::field_name(&member.name);
            let label = field.to_string().trim_start_matches("r#").to_owned();
            if self.is_sensitive(shape, member) {
                quote!(.field(#label, &::kms_types::Redacted))
            } else {
                quote!(.field(#label, &self.#field))
            }
        });
        quote! {
            impl std::fmt::Debug for #name {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.debug_struct(#label) #(#fields)* .finish()
                }
            }
        }
    }

    fn builder(&self, shape: &Shape) -> TokenStream {
        let name = self.type_name(shape);
        let builder = format_ident!("{}Builder", name);
        let builder_doc = format!(" Builds a [`{name}`]; start with [`{name}::builder`].");
        let shape_name = self.shape_name(shape);
        let mut fields = Vec::new();
        let mut setters = Vec::new();
        let mut inits = Vec::new();
        let mut has_required = false;
        for member in &shape.members {
            let field = names::field_name(&member.name);
            let setter = names::setter_name(&member.name);
            let target = self.model.target(member);
            let ty = self.rust_type(shape, target);
            let wire = &member.name;
            fields.push(quote!(#field: Option<#ty>,));
            let (param, convert) = if target.kind == ShapeKind::String {
                (quote!(impl Into<String>), quote!(value.into()))
            } else {
                (quote!(#ty), quote!(value))
            };
            let set_doc = format!(" Sets `{wire}`.");
            let set_opt_doc = format!(" Sets or clears `{wire}`.");
            setters.push(quote! {
                #[doc = #set_doc]
                pub fn #field(mut self, value: #param) -> Self {
                    self.#field = Some(#convert);
                    self
                }
                #[doc = #set_opt_doc]
                pub fn #setter(mut self, value: Option<#ty>) -> Self {
                    self.#field = value;
                    self
                }
            });
            inits.push(match self.presence(member) {
                Presence::Optional => quote!(#field: self.#field,),
                Presence::Defaulted => quote!(#field: self.#field.unwrap_or_default(),),
                Presence::Required => {
                    has_required = true;
                    quote! {
                        #field: self.#field.ok_or(::kms_types::BuildError { shape: #shape_name, member: #wire })?,
                    }
                }
            });
        }
        let build = if has_required {
            quote! {
                /// Builds the structure, or names the first required member left unset.
                pub fn build(self) -> Result<#name, ::kms_types::BuildError> {
                    Ok(#name { #(#inits)* })
                }
            }
        } else {
            quote! {
                /// Builds the structure.
                pub fn build(self) -> #name {
                    #name { #(#inits)* }
                }
            }
        };
        let builder_label = builder.to_string();
        let builder_fn_doc = format!(" A builder for [`{name}`].");
        quote! {
            impl #name {
                #[doc = #builder_fn_doc]
                pub fn builder() -> #builder {
                    // Not `#builder::default()`: a member named `default` has a
                    // builder method of that name, which the path would call.
                    <#builder as ::core::default::Default>::default()
                }
            }

            #[doc = #builder_doc]
            #[derive(Clone, Default)]
            pub struct #builder {
                #(#fields)*
            }

            impl std::fmt::Debug for #builder {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.debug_struct(#builder_label).finish_non_exhaustive()
                }
            }

            impl #builder {
                #(#setters)*
                #build
            }
        }
    }

    fn error_impls(&self, shape: &Shape) -> TokenStream {
        let name = self.type_name(shape);
        let code = shape.id.name();
        let fault = shape.traits.error().expect("called for @error structures");
        let status = shape.traits.http_error().unwrap_or(match fault {
            kms_spec::traits::Fault::Client => 400,
            kms_spec::traits::Fault::Server => 500,
        });
        let retryable =
            fault == kms_spec::traits::Fault::Server || shape.traits.has("smithy.api#retryable");
        let message = message_member(self.model, shape)
            .map(|m| (names::field_name(&m.name), self.presence(m)));
        let message_fn = match message {
            Some((field, Presence::Optional)) => quote!(self.#field.as_deref()),
            Some((field, _)) => quote!(Some(self.#field.as_str())),
            None => quote!(None),
        };
        let code_doc = format!(" The error code, `__type` on the wire: `{code}`.");
        let status_doc = format!(" The HTTP status it is sent with: {status}.");
        let retry_doc = format!(" Whether clients retry it: {retryable}.");
        quote! {
            impl #name {
                #[doc = #code_doc]
                pub const CODE: &'static str = #code;
                #[doc = #status_doc]
                pub const HTTP_STATUS: u16 = #status;
                #[doc = #retry_doc]
                pub const RETRYABLE: bool = #retryable;

                /// The error's message, when it has one.
                pub fn message(&self) -> Option<&str> {
                    #message_fn
                }
            }

            impl std::fmt::Display for #name {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    match self.message() {
                        Some(message) => write!(f, "{}: {}", Self::CODE, message),
                        None => f.write_str(Self::CODE),
                    }
                }
            }

            impl std::error::Error for #name {}
        }
    }

    pub(crate) fn union(&self, shape: &Shape) -> TokenStream {
        let name = self.type_name(shape);
        let docs = self.docs(
            shape.traits.documentation(),
            &format!("The `{}` union.", self.shape_name(shape)),
        );
        let variants = shape.members.iter().map(|member| {
            let variant = names::variant_name(&member.name);
            let wire = &member.name;
            let ty = self.rust_type(shape, self.model.target(member));
            let docs = self.docs(
                member.traits.documentation(),
                &format!("The `{wire}` member."),
            );
            let floats = self.holds_floats(self.model.target(member)).then(
                || quote!(#[serde(serialize_with = "::kms_types::__private::float::serialize")]),
            );
            quote! {
                #docs
                #[serde(rename = #wire)]
                #floats
                #variant(#ty),
            }
        });
        let validate = self.validate_impl(shape);
        let hash_derive = self.is_hashable(shape).then(|| quote!(Eq, Hash,));
        let redacts =
            shape.traits.sensitive() || shape.members.iter().any(|m| self.is_sensitive(shape, m));
        let debug_derive = (!redacts).then(|| quote!(Debug,));
        let debug_impl = redacts.then(|| {
            let arms = shape.members.iter().map(|member| {
                let variant = names::variant_name(&member.name);
                let label = variant.to_string().trim_start_matches("r#").to_owned();
                if self.is_sensitive(shape, member) {
                    quote!(Self::#variant(_) => f.debug_tuple(#label).field(&::kms_types::Redacted).finish(),)
                } else {
                    quote!(Self::#variant(value) => f.debug_tuple(#label).field(value).finish(),)
                }
            });
            quote! {
                impl std::fmt::Debug for #name {
                    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        match self {
                            #(#arms)*
                            Self::Unknown(member) => f.debug_tuple("Unknown").field(member).finish(),
                        }
                    }
                }
            }
        });
        let deserialize = self.union_deserialize(shape);
        let unknown_doc = " A member this model does not know (a newer service's), by name. \
                           It is read, never sent: serializing it fails.";
        quote! {
            #docs
            #[derive(Clone, #debug_derive PartialEq, #hash_derive
                ::kms_types::__private::serde::Serialize)]
            #[serde(crate = "::kms_types::__private::serde")]
            #[non_exhaustive]
            pub enum #name {
                #(#variants)*
                #[doc = #unknown_doc]
                #[serde(skip_serializing)]
                Unknown(String),
            }
            #debug_impl
            #deserialize
            #validate
        }
    }

    /// awsJson's reading of a union: the one member set, `__type` and `null` members
    /// ignored, a member the model does not know as `Unknown`.
    fn union_deserialize(&self, shape: &Shape) -> TokenStream {
        let name = self.type_name(shape);
        let expecting = format!(
            "the `{}` union: an object with one member set",
            self.shape_name(shape)
        );
        let none = format!("the `{}` union has no member set", self.shape_name(shape));
        let many = format!(
            "the `{}` union has more than one member set",
            self.shape_name(shape)
        );
        let arms = shape.members.iter().map(|member| {
            let variant = names::variant_name(&member.name);
            let wire = &member.name;
            let target = self.model.target(member);
            let ty = self.rust_type(shape, target);
            if self.holds_floats(target) {
                quote! {
                    #wire => map
                        .next_value::<Option<<#ty as ::kms_types::__private::float::Floats>::Wire>>()?
                        .map(|wire| #name::#variant(::kms_types::__private::float::Floats::from_wire(wire))),
                }
            } else {
                quote! {
                    #wire => map.next_value::<Option<#ty>>()?.map(#name::#variant),
                }
            }
        });
        // Formats that are not human-readable (bincode) read what `Serialize` wrote:
        // serde's externally tagged form, variants in the same order.
        let tagged = shape.members.iter().map(|member| {
            let variant = names::variant_name(&member.name);
            let wire = &member.name;
            let ty = self.rust_type(shape, self.model.target(member));
            quote!(#[serde(rename = #wire)] #variant(#ty),)
        });
        let untag = shape.members.iter().map(|member| {
            let variant = names::variant_name(&member.name);
            quote!(Tagged::#variant(value) => #name::#variant(value),)
        });
        quote! {
            impl<'de> ::kms_types::__private::serde::Deserialize<'de> for #name {
                fn deserialize<D: ::kms_types::__private::serde::Deserializer<'de>>(
                    deserializer: D,
                ) -> Result<Self, D::Error> {
                    use ::kms_types::__private::serde::de::{Error as _, IgnoredAny, MapAccess, Visitor};
                    if !deserializer.is_human_readable() {
                        #[derive(::kms_types::__private::serde::Deserialize)]
                        #[serde(crate = "::kms_types::__private::serde")]
                        enum Tagged {
                            #(#tagged)*
                        }
                        let tagged = <Tagged as ::kms_types::__private::serde::Deserialize>::deserialize(deserializer)?;
                        return Ok(match tagged {
                            #(#untag)*
                        });
                    }
                    struct Members;
                    impl<'de> Visitor<'de> for Members {
                        type Value = #name;
                        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                            f.write_str(#expecting)
                        }
                        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<#name, A::Error> {
                            let mut set: Option<#name> = None;
                            while let Some(key) = map.next_key::<String>()? {
                                let value = match key.as_str() {
                                    #(#arms)*
                                    "__type" => {
                                        map.next_value::<IgnoredAny>()?;
                                        None
                                    }
                                    // A `null` member is not set, known or not.
                                    _ => map
                                        .next_value::<Option<IgnoredAny>>()?
                                        .map(|_| #name::Unknown(key)),
                                };
                                if let Some(value) = value
                                    && set.replace(value).is_some()
                                {
                                    return Err(A::Error::custom(#many));
                                }
                            }
                            set.ok_or_else(|| A::Error::custom(#none))
                        }
                    }
                    deserializer.deserialize_map(Members)
                }
            }
        }
    }
}

/// The member holding an `@error` structure's message: `message`, else `Message`, when it
/// is a string (another type is a member like any other). On the wire the message may
/// come under other names too; `kms_types::aws_json::decode_error` reads it.
pub(crate) fn message_member<'s>(model: &Model, shape: &'s Shape) -> Option<&'s Member> {
    shape
        .member("message")
        .or_else(|| shape.member("Message"))
        .filter(|member| model.target(member).kind == ShapeKind::String)
}

/// The Markdown text of a shape's or member's documentation, else `fallback`: what the
/// rustdoc says, and the `description` of the JSON Schema.
pub(crate) fn doc_text(html: Option<&str>, fallback: &str) -> String {
    html.map(crate::docs::html_to_markdown)
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| fallback.to_owned())
}

/// `@deprecated` as one Markdown line: `**Deprecated** (since 2024): use X`.
pub(crate) fn deprecation_note(deprecated: Option<kms_spec::traits::Deprecated>) -> Option<String> {
    let deprecated = deprecated?;
    let since = deprecated
        .since
        .map(|s| format!(" (since {s})"))
        .unwrap_or_default();
    let message = deprecated
        .message
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    Some(format!("**Deprecated**{since}{message}"))
}

/// `@deprecated` as a rustdoc paragraph. Not `#[deprecated]`: the generated builders,
/// serde impls and validators must go on using the member without warnings.
fn deprecation_doc(deprecated: Option<kms_spec::traits::Deprecated>) -> Option<TokenStream> {
    let line = format!(" {}", deprecation_note(deprecated)?);
    Some(quote! {
        #[doc = ""]
        #[doc = #line]
    })
}

/// Whether a `@default` value is what `Default::default()` gives, so `#[serde(default)]` fits.
fn is_zero_like(value: &Value) -> bool {
    match value {
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Null => false,
    }
}
