//! Writing parameter JSON the way the original's files are laid out (Prettier's style): one key per line, lists of
//! plain values on one line, small objects of plain values on one line (`{ "detrend": false }`), larger or nested
//! objects over several lines. A generated file then reads like the files users already have.

use serde_json::{Map, Value};

/// Objects of plain values up to this width stay on one line, as Prettier's default print width.
const LINE_WIDTH: usize = 80;

/// The document as pretty JSON text, ending with a newline.
pub fn to_pretty_json(document: &Map<String, Value>) -> String {
    let mut out = String::new();
    write_object(document, 0, &mut out);
    out.push('\n');
    out
}

fn write_value(value: &Value, indent: usize, out: &mut String) {
    match value {
        Value::Array(items) if items.iter().all(is_plain) => {
            let inner: Vec<String> = items.iter().map(Value::to_string).collect();
            out.push_str(&format!("[{}]", inner.join(", ")));
        }
        Value::Array(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&"  ".repeat(indent + 1));
                write_value(item, indent + 1, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&"  ".repeat(indent));
            out.push(']');
        }
        Value::Object(map) => write_object(map, indent, out),
        plain => out.push_str(&plain.to_string()),
    }
}

fn write_object(map: &Map<String, Value>, indent: usize, out: &mut String) {
    if map.is_empty() {
        out.push_str("{}");
        return;
    }
    if indent > 0 && map.values().all(is_plain) {
        let inner: Vec<String> = map.iter().map(|(k, v)| format!("{}: {v}", Value::from(k.as_str()))).collect();
        let line = format!("{{ {} }}", inner.join(", "));
        if line.len() + 2 * indent <= LINE_WIDTH {
            out.push_str(&line);
            return;
        }
    }
    out.push_str("{\n");
    for (i, (key, value)) in map.iter().enumerate() {
        out.push_str(&"  ".repeat(indent + 1));
        out.push_str(&format!("{}: ", Value::from(key.as_str())));
        write_value(value, indent + 1, out);
        out.push_str(if i + 1 < map.len() { ",\n" } else { "\n" });
    }
    out.push_str(&"  ".repeat(indent));
    out.push('}');
}

fn is_plain(value: &Value) -> bool {
    !matches!(value, Value::Array(_) | Value::Object(_))
}
