//! Validators: `impl Validate` for every structure and union, checking each member's
//! length, range, pattern and enum constraints, recursively, in member order.

use std::collections::BTreeSet;

use kms_spec::{Member, Shape, ShapeId, ShapeKind};
use proc_macro2::{Literal, TokenStream};
use quote::{ToTokens, quote};

use crate::Generator;
use crate::names;
use crate::structures::Presence;

impl Generator<'_> {
    pub(crate) fn validate_impl(&self, shape: &Shape) -> TokenStream {
        let name = self.type_name(shape);
        let body: Vec<TokenStream> = match shape.kind {
            ShapeKind::Union => {
                let arms: Vec<(TokenStream, TokenStream)> = shape
                    .members
                    .iter()
                    .map(|member| {
                        let variant = names::variant_name(&member.name);
                        let checks = self.value_checks(shape, member, &member.name, quote!(value));
                        (quote!(Self::#variant), checks)
                    })
                    .collect();
                // A member the model does not define (read from a newer service) is a
                // violation, as an enum's unknown value is.
                let wires = shape.members.iter().map(|m| m.name.as_str());
                let arms = arms.iter().map(|(variant, checks)| {
                    if checks.is_empty() {
                        quote!(#variant(_) => {})
                    } else {
                        quote!(#variant(value) => { #checks })
                    }
                });
                vec![quote! {
                    match self {
                        #(#arms)*
                        Self::Unknown(member) => violations.union_member(at, member, &[#(#wires),*]),
                    }
                }]
            }
            _ => shape
                .members
                .iter()
                .filter_map(|member| self.member_checks(shape, member))
                .collect(),
        };
        let (at, violations) = if body.iter().all(TokenStream::is_empty) {
            (quote!(_at), quote!(_violations))
        } else {
            (quote!(at), quote!(violations))
        };
        quote! {
            impl ::kms_types::Validate for #name {
                fn validate_at(&self, #at: &str, #violations: &mut ::kms_types::validation::Violations) {
                    #(#body)*
                }
            }
        }
    }

    /// The checks of one structure member, or `None` when it has no constraints.
    fn member_checks(&self, shape: &Shape, member: &Member) -> Option<TokenStream> {
        let checks = self.value_checks(shape, member, &member.name, quote!(value));
        let field = names::field_name(&member.name);
        // `@required` with `@clientOptional`: an `Option` the validator requires.
        let constraints = self.model.constraints(member);
        if constraints.required && constraints.client_optional {
            let name = &member.name;
            return Some(quote! {
                match &self.#field {
                    Some(value) => { #checks }
                    None => violations.required(at, #name),
                }
            });
        }
        if checks.is_empty() {
            return None;
        }
        Some(match self.presence(member) {
            Presence::Optional => quote! {
                if let Some(value) = &self.#field {
                    #checks
                }
            },
            Presence::Defaulted | Presence::Required => quote! {
                {
                    let value = &self.#field;
                    #checks
                }
            },
        })
    }

    /// Checks of `value` (a reference to a value of `member`'s target), reported as
    /// member `name` at `at`.
    fn value_checks(
        &self,
        container: &Shape,
        member: &Member,
        name: &str,
        value: TokenStream,
    ) -> TokenStream {
        let target = self.model.target(member);
        let constraints = self.model.constraints(member);
        let sensitive = constraints.sensitive;
        let mut checks = Vec::new();
        let length = constraints.length.map_or_else(TokenStream::new, |l| {
            let (min, max) = (option_u64(l.min), option_u64(l.max));
            quote!(::kms_types::validation::Bounds::new(#min, #max))
        });
        let has_length = constraints.length.is_some();
        match target.kind {
            ShapeKind::String => {
                if has_length {
                    checks.push(
                        quote!(violations.string_length(at, #name, #value, #length, #sensitive);),
                    );
                }
                if let Some(pattern) = &constraints.pattern {
                    let regex = self.pattern_static(container, member, pattern);
                    checks.push(quote!(violations.pattern(at, #name, #value, &#regex, #pattern, #sensitive);));
                }
            }
            ShapeKind::Enum => {
                let ty = self.type_name(target);
                checks.push(quote! {
                    violations.enum_value(at, #name, #value.as_str(), !#value.is_unknown(), #ty::values(), #sensitive);
                });
            }
            ShapeKind::IntEnum => {
                let ty = self.type_name(target);
                checks.push(quote! {
                    violations.enum_value(at, #name, &#value.to_string(), !#value.is_unknown(), #ty::value_strs(), #sensitive);
                });
            }
            ShapeKind::Byte
            | ShapeKind::Short
            | ShapeKind::Integer
            | ShapeKind::Long
            | ShapeKind::BigInteger
            | ShapeKind::Float
            | ShapeKind::Double
            | ShapeKind::BigDecimal => {
                if let Some(range) = &constraints.range {
                    let float = matches!(
                        target.kind,
                        ShapeKind::Float | ShapeKind::Double | ShapeKind::BigDecimal
                    );
                    let bound = |n: &Option<serde_json::Number>| match n {
                        None => quote!(None),
                        Some(n) if float => {
                            let lit = Literal::f64_unsuffixed(n.as_f64().unwrap_or_default());
                            quote!(Some(#lit))
                        }
                        Some(n) => {
                            // Loading refuses the bounds of an integer type that are
                            // neither an i64 nor a u64 and not exact as a float.
                            let lit = Literal::i128_unsuffixed(
                                n.as_i64()
                                    .map(i128::from)
                                    .or_else(|| n.as_u64().map(i128::from))
                                    .unwrap_or_else(|| n.as_f64().unwrap_or_default() as i128),
                            );
                            quote!(Some(#lit))
                        }
                    };
                    let (min, max) = (bound(&range.min), bound(&range.max));
                    let bounds = quote!(::kms_types::validation::Bounds::new(#min, #max));
                    checks.push(quote!(violations.range(at, #name, *#value, #bounds, #sensitive);));
                }
            }
            ShapeKind::Blob if has_length => {
                checks.push(quote! {
                        violations.count_length(at, #name, #value.len(), #length, || format!("{:?}", #value), #sensitive);
                    });
            }
            ShapeKind::List | ShapeKind::Set => {
                if has_length {
                    checks.push(quote! {
                        violations.count_length(at, #name, #value.len(), #length, || format!("{:?}", #value), #sensitive);
                    });
                }
                let item = target.list_member().expect("lists have a member");
                let item_checks = self.value_checks(target, item, "member", quote!(item));
                if !item_checks.is_empty() {
                    checks.push(quote! {
                        let path = ::kms_types::validation::member_path(at, #name);
                        for (index, item) in #value.iter().enumerate() {
                            let at: &str = &::kms_types::validation::item_path(&path, index);
                            #item_checks
                        }
                    });
                }
            }
            ShapeKind::Map => {
                if has_length {
                    checks.push(quote! {
                        violations.count_length(at, #name, #value.len(), #length, || format!("{:?}", #value), #sensitive);
                    });
                }
                let (key, entry) = target.map_members().expect("maps have a key and a value");
                // Map keys are `String`s even when their shape is an enum.
                let key_target = self.model.target(key);
                let key_checks = if key_target.kind == ShapeKind::Enum {
                    let ty = self.type_name(key_target);
                    let sensitive = self.model.constraints(key).sensitive;
                    quote! {
                        violations.enum_value(at, "key", key, #ty::values().contains(&key.as_str()), #ty::values(), #sensitive);
                    }
                } else {
                    self.value_checks(target, key, "key", quote!(key))
                };
                let value_checks = self.value_checks(target, entry, "value", quote!(entry));
                // The keys alone when only they are checked (`entry` would be unused).
                let entries = if value_checks.is_empty() {
                    quote!(key in #value.keys())
                } else {
                    quote!((key, entry) in #value.iter())
                };
                if !key_checks.is_empty() || !value_checks.is_empty() {
                    checks.push(quote! {
                        let path = ::kms_types::validation::member_path(at, #name);
                        for #entries {
                            let at: &str = &format!("{path}.{key}");
                            #key_checks
                            #value_checks
                        }
                    });
                }
            }
            ShapeKind::Structure | ShapeKind::Union
                if self.needs_validation(target, &mut BTreeSet::new()) =>
            {
                checks.push(quote! {
                        ::kms_types::Validate::validate_at(#value, &::kms_types::validation::member_path(at, #name), violations);
                    });
            }
            _ => {}
        }
        quote!(#(#checks)*)
    }

    /// Whether values of `shape` can violate anything.
    fn needs_validation<'a>(&'a self, shape: &'a Shape, seen: &mut BTreeSet<&'a ShapeId>) -> bool {
        if !seen.insert(&shape.id) {
            return false;
        }
        shape.members.iter().any(|member| {
            let target = self.model.target(member);
            let c = self.model.constraints(member);
            c.length.is_some()
                || c.range.is_some()
                || c.pattern.is_some()
                || (c.required && c.client_optional)
                || matches!(target.kind, ShapeKind::Enum | ShapeKind::IntEnum)
                || self.needs_validation(target, seen)
        })
    }

    /// The static holding the compiled `pattern` of `member` (or of its target).
    fn pattern_static(&self, container: &Shape, member: &Member, pattern: &str) -> TokenStream {
        let target = self.model.target(member);
        let (owner, base) = if member.traits.pattern().is_some() {
            (
                format!("{}.{}", self.shape_name(container), member.name),
                format!("{}{}", self.shape_name(container), member.name),
            )
        } else {
            (
                self.shape_name(target).to_owned(),
                self.shape_name(target).to_owned(),
            )
        };
        let base = format!("{}_PATTERN", names::const_name(&base));
        // Names can meet (`RunInput` + `FooBar`, `RunInputFoo` + `Bar`): each owner
        // keeps its own static, the later one numbered.
        let mut patterns = self.patterns.borrow_mut();
        let name = (1..)
            .map(|n| match n {
                1 => base.clone(),
                n => format!("{base}_{n}"),
            })
            .find(|name| patterns.get(name).is_none_or(|(_, o)| *o == owner))
            .expect("some numbered name is free");
        patterns.insert(name.clone(), (pattern.to_owned(), owner));
        let ident = names::raw(&name);
        quote!(#ident)
    }

    pub(crate) fn pattern_statics(&self) -> TokenStream {
        let patterns = self.patterns.borrow();
        let statics = patterns.iter().map(|(name, (pattern, owner))| {
            let ident = names::raw(name);
            let doc = format!(" The `@pattern` of `{owner}`: `{pattern}`.");
            let compiled = match kms_spec::pattern::pieces(pattern) {
                Some(pieces) => {
                    let pieces = pieces.iter().map(piece);
                    quote!(::kms_types::validation::Pattern::Pieces(&[#(#pieces),*]))
                }
                None if let Some(automaton) = kms_spec::pattern::automaton(pattern) => {
                    let states = automaton.states.iter().map(|(ranges, follow)| {
                        let ranges = ranges.iter().map(|(lo, hi)| quote!((#lo, #hi)));
                        let follow = bits(*follow);
                        quote!((&[#(#ranges),*], #follow))
                    });
                    let (first, last, nullable) = (
                        bits(automaton.first),
                        bits(automaton.last),
                        automaton.nullable,
                    );
                    quote! {
                        ::kms_types::validation::Pattern::Automaton(&::kms_types::validation::Automaton {
                            states: &[#(#states),*],
                            first: #first,
                            last: #last,
                            nullable: #nullable,
                        })
                    }
                }
                None => {
                    let translated = kms_spec::pattern::ecma_to_regex(pattern);
                    quote!(::kms_types::__regex_pattern!(#translated))
                }
            };
            quote! {
                #[doc = #doc]
                static #ident: ::kms_types::validation::Pattern = #compiled;
            }
        });
        quote!(#(#statics)*)
    }
}

/// A [`kms_spec::pattern::Piece`] as the runtime's `Piece`.
fn piece(piece: &kms_spec::pattern::Piece) -> TokenStream {
    match piece {
        kms_spec::pattern::Piece::Literal(text) => {
            quote!(::kms_types::validation::Piece::Literal(#text))
        }
        kms_spec::pattern::Piece::Class(run) => {
            let ranges = run.ranges.iter().map(|(lo, hi)| quote!((#lo, #hi)));
            let min = Literal::u32_unsuffixed(run.min);
            let max = run.max.map_or_else(
                || quote!(u32::MAX),
                |max| Literal::u32_unsuffixed(max).into_token_stream(),
            );
            quote! {
                ::kms_types::validation::Piece::Class { ranges: &[#(#ranges),*], min: #min, max: #max }
            }
        }
    }
}

/// A state set as a binary literal, state 0 rightmost.
fn bits(set: u128) -> TokenStream {
    format!("0b{set:b}").parse().expect("a binary literal")
}

fn option_u64(n: Option<u64>) -> TokenStream {
    match n {
        Some(n) => {
            let lit = Literal::u64_unsuffixed(n);
            quote!(Some(#lit))
        }
        None => quote!(None),
    }
}
