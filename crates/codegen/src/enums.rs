//! `enum` and `intEnum` shapes: Rust enums that keep values the model does not know.

use kms_spec::traits::EnumValue;
use kms_spec::{Shape, ShapeKind};
use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::Generator;
use crate::names;

impl Generator<'_> {
    pub(crate) fn enumeration(&self, shape: &Shape) -> TokenStream {
        if shape.kind == ShapeKind::IntEnum {
            return self.int_enumeration(shape);
        }
        let name = self.type_name(shape);
        let shape_name = self.shape_name(shape);
        let docs = self.docs(
            shape.traits.documentation(),
            &format!("The `{shape_name}` enum."),
        );
        let members: Vec<_> = shape
            .members
            .iter()
            .map(|m| {
                let value = match m.traits.enum_value() {
                    Some(EnumValue::String(s)) => s,
                    _ => m.name.clone(),
                };
                (names::variant_name(&m.name), value, m)
            })
            .collect();
        let variants = members.iter().map(|(variant, value, member)| {
            let docs = self.docs(member.traits.documentation(), &format!("`{value}`"));
            quote! { #docs #variant, }
        });
        let as_str = members
            .iter()
            .map(|(variant, value, _)| quote!(Self::#variant => #value,));
        let from_str = members
            .iter()
            .map(|(variant, value, _)| quote!(#value => Self::#variant,));
        let values = members.iter().map(|(_, value, _)| value);
        quote! {
            #docs
            #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
            #[non_exhaustive]
            pub enum #name {
                #(#variants)*
                /// A value this version of the model does not know, kept as received (make
                /// one with `From<&str>`).
                Unknown(::kms_types::UnknownValue<#name>),
            }

            impl #name {
                /// The value as written on the wire.
                pub fn as_str(&self) -> &str {
                    match self {
                        #(#as_str)*
                        Self::Unknown(value) => value.as_str(),
                    }
                }

                /// Every value the model defines, in model order.
                pub const fn values() -> &'static [&'static str] {
                    &[#(#values),*]
                }

                /// Whether this is a value the model does not define.
                pub fn is_unknown(&self) -> bool {
                    matches!(self, Self::Unknown(_))
                }
            }

            impl From<&str> for #name {
                fn from(value: &str) -> Self {
                    match value {
                        #(#from_str)*
                        other => Self::Unknown(::kms_types::__private::unknown_value(other.to_owned())),
                    }
                }
            }

            impl std::str::FromStr for #name {
                type Err = std::convert::Infallible;

                fn from_str(value: &str) -> Result<Self, Self::Err> {
                    Ok(Self::from(value))
                }
            }

            impl std::fmt::Display for #name {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str(self.as_str())
                }
            }

            impl ::kms_types::__private::serde::Serialize for #name {
                fn serialize<S: ::kms_types::__private::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                    serializer.serialize_str(self.as_str())
                }
            }

            impl<'de> ::kms_types::__private::serde::Deserialize<'de> for #name {
                fn deserialize<D: ::kms_types::__private::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    ::kms_types::__private::deserialize_str_enum(deserializer)
                }
            }
        }
    }

    fn int_enumeration(&self, shape: &Shape) -> TokenStream {
        let name = self.type_name(shape);
        let shape_name = self.shape_name(shape);
        let docs = self.docs(
            shape.traits.documentation(),
            &format!("The `{shape_name}` intEnum."),
        );
        let members: Vec<_> = shape
            .members
            .iter()
            .filter_map(|m| match m.traits.enum_value() {
                Some(EnumValue::Int(v)) => {
                    Some((names::variant_name(&m.name), i32::try_from(v).ok()?, m))
                }
                _ => None,
            })
            .collect();
        let variants = members.iter().map(|(variant, value, member)| {
            let docs = self.docs(member.traits.documentation(), &format!("`{value}`"));
            quote! { #docs #variant, }
        });
        let as_i32 = members.iter().map(|(variant, value, _)| {
            let value = Literal::i32_unsuffixed(*value);
            quote!(Self::#variant => #value,)
        });
        let from_i32 = members.iter().map(|(variant, value, _)| {
            let value = Literal::i32_unsuffixed(*value);
            quote!(#value => Self::#variant,)
        });
        let values: Vec<_> = members
            .iter()
            .map(|(_, value, _)| Literal::i32_unsuffixed(*value))
            .collect();
        let value_strs = members.iter().map(|(_, value, _)| value.to_string());
        quote! {
            #docs
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
            #[non_exhaustive]
            pub enum #name {
                #(#variants)*
                /// A value this version of the model does not know, kept as received (make
                /// one with `From<i32>`).
                Unknown(::kms_types::UnknownValue<#name, i32>),
            }

            impl #name {
                /// The value as written on the wire.
                pub fn as_i32(&self) -> i32 {
                    match self {
                        #(#as_i32)*
                        Self::Unknown(value) => value.get(),
                    }
                }

                /// Every value the model defines, in model order.
                pub const fn values() -> &'static [i32] {
                    &[#(#values),*]
                }

                /// Every value the model defines, as text (for validation messages).
                pub const fn value_strs() -> &'static [&'static str] {
                    &[#(#value_strs),*]
                }

                /// Whether this is a value the model does not define.
                pub fn is_unknown(&self) -> bool {
                    matches!(self, Self::Unknown(_))
                }
            }

            impl From<i32> for #name {
                fn from(value: i32) -> Self {
                    match value {
                        #(#from_i32)*
                        other => Self::Unknown(::kms_types::__private::unknown_value(other)),
                    }
                }
            }

            impl std::fmt::Display for #name {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    write!(f, "{}", self.as_i32())
                }
            }

            impl ::kms_types::__private::serde::Serialize for #name {
                fn serialize<S: ::kms_types::__private::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                    serializer.serialize_i32(self.as_i32())
                }
            }

            impl<'de> ::kms_types::__private::serde::Deserialize<'de> for #name {
                fn deserialize<D: ::kms_types::__private::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    let value = <i32 as ::kms_types::__private::serde::Deserialize>::deserialize(deserializer)?;
                    Ok(Self::from(value))
                }
            }
        }
    }
}
