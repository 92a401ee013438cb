//! What `/openapi.json` publishes beyond what each handler declares: the
//! rules the edge enforces on every route, applied once here so no route (and
//! no route added later) can publish less than the server does.
//!
//! - Every string a client sends (path, query and header parameters, and the
//!   strings of JSON request bodies) is refused with 400 `invalid_text` when
//!   it holds NUL or a control character other than tab and line breaks
//!   ([`super::text`]): such strings get [`TEXT_PATTERN`] unless they already
//!   have a stricter pattern, an enum or a format.
//! - Every operation may answer 400 (a path, query or body the server cannot
//!   read, or refused text), 503 (`overloaded`, `request_timeout`,
//!   `host_busy`), and, behind a token, 401 and 429 (`rate_limited`); every
//!   operation with a body 413.
//! - A free-form JSON body (an app's action payload) is any JSON whose
//!   strings and keys are such text: the component `JsonText`.
//! - Every error is `ErrorBody`.

use std::collections::BTreeSet;

use serde_json::{Value, json};

/// Text without NUL and without control characters other than tab and line
/// breaks (what [`crate::text::check`] accepts), as an ECMA-262 pattern.
pub const TEXT_PATTERN: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";

/// The document with the edge's rules applied.
pub fn finish(doc: utoipa::openapi::OpenApi) -> Value {
    let mut doc = serde_json::to_value(doc).unwrap_or(Value::Null);
    // Components that request bodies use (directly or through others).
    let mut request_components = BTreeSet::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for item in paths.values() {
            for op in operations(item) {
                if let Some(body) = op.get("requestBody") {
                    refs(body, &mut request_components);
                }
            }
        }
    }
    let schemas = doc
        .pointer("/components/schemas")
        .cloned()
        .unwrap_or(Value::Null);
    let mut queue: Vec<String> = request_components.iter().cloned().collect();
    while let Some(name) = queue.pop() {
        let mut found = BTreeSet::new();
        if let Some(schema) = schemas.get(&name) {
            refs(schema, &mut found);
        }
        for name in found {
            if request_components.insert(name.clone()) {
                queue.push(name);
            }
        }
    }
    let mut free_form = false;
    for name in &request_components {
        if let Some(schema) = doc.pointer_mut(&format!("/components/schemas/{name}")) {
            free_form |= text_strings(schema);
        }
    }
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                if !is_method(method) {
                    continue;
                }
                edge(op);
                free_form |= json_text_body(op);
            }
        }
    }
    if free_form
        && let Some(schemas) = doc
            .pointer_mut("/components/schemas")
            .and_then(Value::as_object_mut)
    {
        schemas.insert("JsonText".into(), json_text());
    }
    doc
}

/// Any JSON value whose strings and keys are text ([`TEXT_PATTERN`]).
fn json_text() -> Value {
    json!({
        "description": "Any JSON value whose strings and object keys hold no NUL or control character other than tab and line breaks",
        "anyOf": [
            {"type": "null"},
            {"type": "boolean"},
            {"type": "number"},
            {"type": "string", "pattern": TEXT_PATTERN},
            {"type": "array", "items": {"$ref": "#/components/schemas/JsonText"}},
            {"type": "object", "propertyNames": {"pattern": TEXT_PATTERN},
                "additionalProperties": {"$ref": "#/components/schemas/JsonText"}}
        ]
    })
}

/// Give a free-form JSON object body (`{"type": "object"}` and nothing else)
/// the text rule; whether it did.
fn json_text_body(op: &mut Value) -> bool {
    let Some(schema) = op.pointer_mut("/requestBody/content/application~1json/schema") else {
        return false;
    };
    let free = schema.as_object().is_some_and(is_free_object);
    if free && let Some(map) = schema.as_object_mut() {
        map.insert("propertyNames".into(), json!({"pattern": TEXT_PATTERN}));
        map.insert(
            "additionalProperties".into(),
            json!({"$ref": "#/components/schemas/JsonText"}),
        );
    }
    free
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn is_method(name: &str) -> bool {
    METHODS.contains(&name)
}

fn operations(item: &Value) -> impl Iterator<Item = &Value> {
    item.as_object()
        .into_iter()
        .flat_map(|m| m.iter())
        .filter(|(k, _)| is_method(k))
        .map(|(_, v)| v)
}

/// The component names `value` refers to.
fn refs(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref")
                && let Some(name) = r.strip_prefix("#/components/schemas/")
            {
                out.insert(name.to_string());
            }
            for v in map.values() {
                refs(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

fn is_string(schema: &serde_json::Map<String, Value>) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
        _ => false,
    }
}

/// Whether `schema` is a free-form JSON object (`{"type": "object"}` and
/// nothing else).
fn is_free_object(schema: &serde_json::Map<String, Value>) -> bool {
    schema.get("type") == Some(&json!("object"))
        && !schema.contains_key("properties")
        && !schema.contains_key("additionalProperties")
        && !schema.contains_key("$ref")
}

/// Give every plain string of `schema` the text pattern, and every free-form
/// object inside it the text rule for its keys and values ([`json_text`]);
/// whether there was such an object.
fn text_strings(schema: &mut Value) -> bool {
    let Some(map) = schema.as_object_mut() else {
        return false;
    };
    let mut free_form = false;
    if is_free_object(map) {
        map.insert("propertyNames".into(), json!({"pattern": TEXT_PATTERN}));
        map.insert(
            "additionalProperties".into(),
            json!({"$ref": "#/components/schemas/JsonText"}),
        );
        return true;
    }
    if is_string(map)
        && !["pattern", "enum", "format", "const"]
            .iter()
            .any(|k| map.contains_key(*k))
    {
        map.insert("pattern".into(), Value::String(TEXT_PATTERN.into()));
    }
    if let Some(Value::Object(props)) = map.get_mut("properties") {
        for prop in props.values_mut() {
            free_form |= text_strings(prop);
        }
    }
    for key in ["items", "additionalProperties", "propertyNames"] {
        if let Some(inner) = map.get_mut(key) {
            free_form |= text_strings(inner);
        }
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(Value::Array(items)) = map.get_mut(key) {
            for item in items.iter_mut() {
                free_form |= text_strings(item);
            }
        }
    }
    free_form
}

fn error(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    })
}

/// The parameters' text rule and the statuses every route can answer.
fn edge(op: &mut Value) {
    let Some(op) = op.as_object_mut() else {
        return;
    };
    if let Some(Value::Array(params)) = op.get_mut("parameters") {
        for param in params {
            if let Some(schema) = param.get_mut("schema") {
                text_strings(schema);
            }
        }
    }
    let public = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter()
                .all(|r| r.as_object().is_some_and(|o| o.is_empty()))
        });
    let has_body = op.contains_key("requestBody");
    let responses = op
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    let Some(responses) = responses else {
        return;
    };
    let mut add = |status: &str, description: &str| {
        responses
            .entry(status.to_string())
            .or_insert_with(|| error(description));
    };
    add(
        "400",
        "`bad_path`, `bad_query`, `bad_json` or `invalid_text`: a path, query or body the server cannot read or refuses",
    );
    if !public {
        add(
            "401",
            "`unauthorized`: no token, or an unknown, revoked or expired one",
        );
        add("429", "`rate_limited` (with `Retry-After`)");
    }
    if has_body {
        add("413", "`too_large`: the body is larger than allowed");
    }
    add(
        "503",
        "`overloaded`, `request_timeout` or `host_busy` (with `Retry-After`)",
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_text_pattern_is_the_text_rule() {
        // The same characters as crate::text::forbidden_char, spelled as a class.
        for c in (0u32..0x110000).filter_map(char::from_u32) {
            let refused = crate::text::forbidden_char(&c.to_string()).is_some();
            let in_class = matches!(u32::from(c), 0..=8 | 0xB | 0xC | 0xE..=0x1F | 0x7F..=0x9F);
            assert_eq!(refused, in_class, "U+{:04X}", u32::from(c));
        }
    }
}
