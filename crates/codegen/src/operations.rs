//! Per operation: a marker type with its descriptor, the error enum over its modeled
//! errors, and typed pagination access.

use kms_spec::{OperationView, ShapeKind};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::Generator;
use crate::names;
use crate::structures::Presence;

impl Generator<'_> {
    pub(crate) fn operation(&self, op: &OperationView<'_>) -> TokenStream {
        let op_name = op.shape.id.name();
        let marker = names::type_name(op_name);
        let input = self.io_type(op.input);
        let output = self.io_type(op.output);
        let error = format_ident!("{}Error", marker);
        let docs = self.docs(
            op.shape.traits.documentation(),
            &format!("The `{op_name}` operation."),
        );
        let target = format!("{}.{}", self.service.shape.id.name(), op_name);
        let service = self.service.shape.id.as_str();
        let version = self.service.shape.version.clone().unwrap_or_default();
        let signing_name = self.service.signing_name().unwrap_or_default();
        let protocol = self.service.protocol().unwrap_or_default();
        let pagination = match op.paginated.as_ref() {
            Some(p) if p.input_token.is_some() && p.output_token.is_some() => {
                let input_token = p.input_token.as_deref().unwrap_or_default();
                let output_token = p.output_token.as_deref().unwrap_or_default();
                let page_size = option_str(p.page_size.as_deref());
                let items = option_str(p.items.as_deref());
                quote! {
                    Some(::kms_types::Pagination {
                        input_token: #input_token,
                        output_token: #output_token,
                        page_size: #page_size,
                        items: #items,
                    })
                }
            }
            _ => quote!(None),
        };
        let error_enum = self.error_enum(op, &error);
        let paginated = self.paginated_impl(op, &marker);
        let error_doc = format!(
            " The errors `{op_name}` can return, as modeled. Non-exhaustive: importing more \
             of the model can add errors."
        );
        quote! {
            #docs
            #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
            pub struct #marker;

            impl ::kms_types::OperationShape for #marker {
                const OPERATION: ::kms_types::Operation = ::kms_types::Operation {
                    name: #op_name,
                    target: #target,
                    service: #service,
                    service_version: #version,
                    signing_name: #signing_name,
                    protocol: #protocol,
                    pagination: #pagination,
                };
                type Input = #input;
                type Output = #output;
                type Error = #error;
            }

            #[doc = #error_doc]
            #error_enum

            #paginated
        }
    }

    fn io_type(&self, shape: &kms_spec::Shape) -> TokenStream {
        if shape.id.as_str() == "smithy.api#Unit" {
            quote!(::kms_types::Unit)
        } else {
            let name = self.type_name(shape);
            quote!(#name)
        }
    }

    fn error_enum(&self, op: &OperationView<'_>, error: &proc_macro2::Ident) -> TokenStream {
        let variants: Vec<_> = op
            .errors
            .iter()
            .map(|shape| (self.type_name(shape), shape.id.name()))
            .collect();
        let decls = variants.iter().map(|(ty, code)| {
            let doc = format!(" `{code}`.");
            quote!(#[doc = #doc] #ty(#ty),)
        });
        let froms = variants.iter().map(|(ty, _)| {
            quote! {
                impl From<#ty> for #error {
                    fn from(error: #ty) -> Self {
                        Self::#ty(error)
                    }
                }
            }
        });
        // `match self` with one arm per error; `binding` is `error` or `_`.
        let arms = |binding: TokenStream, body: &dyn Fn(&proc_macro2::Ident) -> TokenStream| {
            let arms = variants.iter().map(|(ty, _)| {
                let body = body(ty);
                quote!(Self::#ty(#binding) => #body,)
            });
            quote!(match self { #(#arms)* })
        };
        let arms_on_type =
            |body: &dyn Fn(&proc_macro2::Ident) -> TokenStream| arms(quote!(_), body);
        let arms = |body: &dyn Fn(&proc_macro2::Ident) -> TokenStream| arms(quote!(error), body);
        let code = arms_on_type(&|ty| quote!(#ty::CODE));
        let status = arms_on_type(&|ty| quote!(#ty::HTTP_STATUS));
        let retryable = arms_on_type(&|ty| quote!(#ty::RETRYABLE));
        let message = arms(&|_| quote!(error.message()));
        let display = arms(&|_| quote!(std::fmt::Display::fmt(error, f)));
        // The variant's error is the error itself, not its cause: its own cause, if any.
        let source = arms(&|_| quote!(std::error::Error::source(error)));
        let body = arms(&|ty| quote!(::kms_types::aws_json::error_body(#ty::CODE, error)));
        let from_wire = op.errors.iter().map(|shape| {
            let (ty, code) = (self.type_name(shape), shape.id.name());
            let message = option_str(
                crate::structures::message_member(self.model, shape).map(|m| m.name.as_str()),
            );
            quote! {
                #code => ::kms_types::aws_json::decode_error::<#ty>(body, #message).map(Self::#ty),
            }
        });
        if variants.is_empty() {
            return quote! {
                #[derive(Clone, Debug, PartialEq, Eq, Hash)]
                #[non_exhaustive]
                pub enum #error {}

                impl std::fmt::Display for #error {
                    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        match *self {}
                    }
                }

                impl std::error::Error for #error {}

                impl ::kms_types::OperationError for #error {
                    fn code(&self) -> &'static str { match *self {} }
                    fn http_status(&self) -> u16 { match *self {} }
                    fn is_retryable(&self) -> bool { match *self {} }
                    fn message(&self) -> Option<&str> { match *self {} }
                    fn to_body(&self) -> Vec<u8> { match *self {} }
                    fn from_wire(_code: &str, _body: &[u8]) -> Option<Self> { None }
                }
            };
        }
        // `Eq` and `Hash` as its errors have them (none holding a float or a document).
        let hash_derive = op
            .errors
            .iter()
            .all(|shape| self.is_hashable(shape))
            .then(|| quote!(Eq, Hash,));
        quote! {
            #[derive(Clone, Debug, PartialEq, #hash_derive)]
            #[non_exhaustive]
            pub enum #error {
                #(#decls)*
            }

            #(#froms)*

            impl std::fmt::Display for #error {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    #display
                }
            }

            impl std::error::Error for #error {
                fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                    #source
                }
            }

            impl ::kms_types::OperationError for #error {
                fn code(&self) -> &'static str {
                    #code
                }

                fn http_status(&self) -> u16 {
                    #status
                }

                fn is_retryable(&self) -> bool {
                    #retryable
                }

                fn message(&self) -> Option<&str> {
                    #message
                }

                fn to_body(&self) -> Vec<u8> {
                    #body
                }

                fn from_wire(code: &str, body: &[u8]) -> Option<Self> {
                    match code {
                        #(#from_wire)*
                        _ => None,
                    }
                }
            }
        }
    }

    fn paginated_impl(&self, op: &OperationView<'_>, marker: &proc_macro2::Ident) -> TokenStream {
        let Some(p) = &op.paginated else {
            return quote!();
        };
        let (Some(input_token), Some(output_token), Some(items)) =
            (&p.input_token, &p.output_token, &p.items)
        else {
            return quote!();
        };
        let simple_string = |shape: &kms_spec::Shape, name: &str| {
            shape.member(name).is_some_and(|m| {
                self.model.target(m).kind == ShapeKind::String
                    && matches!(self.presence(m), Presence::Optional)
            })
        };
        if !simple_string(op.input, input_token) || !simple_string(op.output, output_token) {
            return quote!();
        }
        let Some(items_member) = op.output.member(items) else {
            return quote!();
        };
        let items_target = self.model.target(items_member);
        if items_target.kind != ShapeKind::List
            || !matches!(self.presence(items_member), Presence::Optional)
        {
            return quote!();
        }
        let item_type = self.rust_type(
            items_target,
            self.model
                .target(items_target.list_member().expect("lists have a member")),
        );
        let input_field = names::field_name(input_token);
        let output_field = names::field_name(output_token);
        let items_field = names::field_name(items);
        quote! {
            impl ::kms_types::Paginated for #marker {
                type Item = #item_type;

                fn input_token(input: &Self::Input) -> Option<&str> {
                    input.#input_field.as_deref()
                }

                fn set_input_token(input: &mut Self::Input, token: Option<String>) {
                    input.#input_field = token;
                }

                fn output_token(output: &Self::Output) -> Option<&str> {
                    output.#output_field.as_deref()
                }

                fn items(output: &Self::Output) -> &[Self::Item] {
                    output.#items_field.as_deref().unwrap_or_default()
                }

                fn into_items(output: Self::Output) -> Vec<Self::Item> {
                    output.#items_field.unwrap_or_default()
                }
            }
        }
    }

    /// `OPERATIONS`: every operation's descriptor, for routing by `X-Amz-Target`.
    pub(crate) fn operation_list(&self) -> TokenStream {
        let markers = self
            .service
            .operations
            .iter()
            .map(|op| self.type_name(op.shape));
        let doc = format!(
            " Every operation of `{}` in this model, ordered by name.",
            self.service.shape.id.name()
        );
        quote! {
            #[doc = #doc]
            pub const OPERATIONS: &[::kms_types::Operation] = &[
                #(<#markers as ::kms_types::OperationShape>::OPERATION,)*
            ];
        }
    }
}

fn option_str(value: Option<&str>) -> TokenStream {
    match value {
        Some(v) => quote!(Some(#v)),
        None => quote!(None),
    }
}
