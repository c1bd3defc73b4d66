//! `--query`: a JMESPath expression applied to the output, as the AWS CLI applies it
//! (`jmespath`, the crate of the JMESPath project). The JSON it gives keeps the members'
//! order: a multi-select hash's in the order the expression writes its keys, any other
//! structure's in the order the members come in the response (the service model's), as
//! Python's JMESPath keeps them for the AWS CLI.

use std::collections::HashMap;

use jmespath::ast::Ast;
use serde_json::{Map, Value};

/// A compiled `--query` expression.
pub struct Query {
    expression: jmespath::Expression<'static>,
    /// The keys of each multi-select hash of the expression, in its order.
    hash_keys: Vec<Vec<String>>,
}

impl std::fmt::Debug for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Query")
            .field(&self.expression.as_str())
            .finish()
    }
}

impl Query {
    /// Compiles `text`; an expression that is not JMESPath is an error saying where.
    pub fn parse(text: &str) -> Result<Self, String> {
        let expression = jmespath::compile(text).map_err(|e| e.to_string())?;
        let mut hash_keys = Vec::new();
        collect_hash_keys(expression.as_ast(), &mut hash_keys);
        Ok(Self {
            expression,
            hash_keys,
        })
    }

    /// The expression's result on `value`; an error (a function given an argument of
    /// the wrong type, say) is the JMESPath message.
    pub fn search(&self, value: &Value) -> Result<Value, String> {
        let found = self.expression.search(value).map_err(|e| e.to_string())?;
        let mut found = serde_json::to_value(&*found).map_err(|e| e.to_string())?;
        let mut rank = HashMap::new();
        rank_keys(value, &mut rank);
        self.restore_order(&mut found, &rank);
        Ok(found)
    }

    /// Puts the members of every object in `value` back in order (the crate keeps them
    /// sorted by name): a multi-select hash's keys as the expression writes them, other
    /// members as `rank` (their first place in the input) says, unknown ones last.
    fn restore_order(&self, value: &mut Value, rank: &HashMap<String, usize>) {
        match value {
            Value::Array(items) => items
                .iter_mut()
                .for_each(|item| self.restore_order(item, rank)),
            Value::Object(map) => {
                map.values_mut()
                    .for_each(|member| self.restore_order(member, rank));
                let hash = self.hash_keys.iter().find(|keys| {
                    keys.len() == map.len() && keys.iter().all(|k| map.contains_key(k))
                });
                let mut members: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
                match hash {
                    Some(keys) => members.sort_by_key(|(k, _)| keys.iter().position(|h| h == k)),
                    // A stable sort: members the input does not have stay in name order.
                    None => {
                        members.sort_by_key(|(k, _)| rank.get(k).copied().unwrap_or(usize::MAX))
                    }
                }
                *map = members.into_iter().collect::<Map<_, _>>();
            }
            _ => {}
        }
    }
}

/// The keys of each multi-select hash (`{Name: CustomKeyStoreName, Id: ...}`) in `ast`.
fn collect_hash_keys(ast: &Ast, out: &mut Vec<Vec<String>>) {
    let mut walk = |ast: &Ast| collect_hash_keys(ast, out);
    match ast {
        Ast::MultiHash { elements, .. } => {
            let keys = elements.iter().map(|kv| kv.key.clone()).collect();
            elements.iter().for_each(|kv| walk(&kv.value));
            out.push(keys);
        }
        Ast::Comparison { lhs, rhs, .. }
        | Ast::Projection { lhs, rhs, .. }
        | Ast::And { lhs, rhs, .. }
        | Ast::Or { lhs, rhs, .. }
        | Ast::Subexpr { lhs, rhs, .. } => {
            walk(lhs);
            walk(rhs);
        }
        Ast::Condition {
            predicate, then, ..
        } => {
            walk(predicate);
            walk(then);
        }
        Ast::Expref { ast, .. } => walk(ast),
        Ast::Flatten { node, .. } | Ast::Not { node, .. } | Ast::ObjectValues { node, .. } => {
            walk(node)
        }
        Ast::Function { args, .. } => args.iter().for_each(walk),
        Ast::MultiList { elements, .. } => elements.iter().for_each(walk),
        Ast::Identity { .. }
        | Ast::Field { .. }
        | Ast::Index { .. }
        | Ast::Literal { .. }
        | Ast::Slice { .. } => {}
    }
}

/// Each member name of `value`'s objects, with its first place in document order.
fn rank_keys(value: &Value, rank: &mut HashMap<String, usize>) {
    match value {
        Value::Array(items) => items.iter().for_each(|item| rank_keys(item, rank)),
        Value::Object(map) => {
            for (key, member) in map {
                let next = rank.len();
                rank.entry(key.clone()).or_insert(next);
                rank_keys(member, rank);
            }
        }
        _ => {}
    }
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
