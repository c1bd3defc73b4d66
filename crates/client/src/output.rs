//! Output of the `kms` CLI, shaped like the AWS CLI's: JSON (4-space indent, members
//! in the service model's order, ISO 8601 timestamps), text (tab-separated, the AWS
//! CLI's text format) and a bordered table. Pure functions, so they can be
//! snapshot-tested.

use base64::Engine as _;
use serde_json::{Map, Value};

use kms_types::{
    CustomKeyStoresListEntry, DescribeCustomKeyStoresResponse, Timestamp, XksProxyConfigurationType,
};

/// The output format (`--output`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `json` (the default)
    Json,
    /// `table`
    Table,
    /// `text`
    Text,
    /// `off`: nothing on stdout (the AWS CLI v2's, for scripts that need only the exit
    /// status and stderr)
    Off,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "json" => Ok(Self::Json),
            "table" => Ok(Self::Table),
            "text" => Ok(Self::Text),
            "off" => Ok(Self::Off),
            other => Err(format!(
                "invalid output format '{other}': choose one of json, table, text, off"
            )),
        }
    }
}

/// How timestamps are printed: a profile's `cli_timestamp_format`, as in the AWS CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimestampFormat {
    /// `iso8601`, the AWS CLI v2's default: `2019-02-25T21:13:27.775000+00:00`.
    #[default]
    Iso8601,
    /// `wire` (or its older name `none`): as the service sent it, epoch seconds
    /// (`1551129207.775`, `1600000000`).
    Wire,
}

impl std::str::FromStr for TimestampFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "iso8601" => Ok(Self::Iso8601),
            "wire" | "none" => Ok(Self::Wire),
            other => Err(format!(
                "Unknown cli_timestamp_format value: {other}, valid values are \"none\", \"wire\" \
                 or \"iso8601\""
            )),
        }
    }
}

impl TimestampFormat {
    /// `ts` as JSON in this format.
    pub fn to_json(self, ts: Timestamp) -> Value {
        match self {
            Self::Iso8601 => Value::String(cli_timestamp(ts)),
            Self::Wire => serde_json::to_value(ts).expect("a timestamp is a JSON number"),
        }
    }
}

/// A timestamp as the AWS CLI prints it: `2019-02-25T21:13:27.775000+00:00`
/// (Python's `isoformat()` in UTC: microseconds only when non-zero).
pub fn cli_timestamp(ts: Timestamp) -> String {
    let mut secs = ts.secs();
    let mut micros = (ts.subsec_nanos() + 500) / 1000;
    if micros == 1_000_000 {
        secs += 1;
        micros = 0;
    }
    let rfc = Timestamp::from_secs(secs).to_rfc3339();
    let base = rfc.trim_end_matches('Z');
    if micros == 0 {
        format!("{base}+00:00")
    } else {
        format!("{base}.{micros:06}+00:00")
    }
}

fn put_str(map: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    if let Some(v) = value {
        map.insert(key.to_owned(), Value::String(v.to_owned()));
    }
}

/// An XKS proxy configuration as JSON, members in the service model's order.
pub fn xks_to_json(x: &XksProxyConfigurationType) -> Value {
    let mut m = Map::new();
    put_str(
        &mut m,
        "Connectivity",
        x.connectivity.as_ref().map(|c| c.as_str()),
    );
    put_str(&mut m, "AccessKeyId", x.access_key_id.as_deref());
    put_str(&mut m, "UriEndpoint", x.uri_endpoint.as_deref());
    put_str(&mut m, "UriPath", x.uri_path.as_deref());
    put_str(
        &mut m,
        "VpcEndpointServiceName",
        x.vpc_endpoint_service_name.as_deref(),
    );
    put_str(
        &mut m,
        "VpcEndpointServiceOwner",
        x.vpc_endpoint_service_owner.as_deref(),
    );
    Value::Object(m)
}

/// A custom key store entry as JSON, members in the service model's order (as the
/// AWS CLI prints them), `CreationDate` in the format `ts`.
pub fn entry_to_json(e: &CustomKeyStoresListEntry, ts: TimestampFormat) -> Value {
    let mut m = Map::new();
    put_str(&mut m, "CustomKeyStoreId", e.custom_key_store_id.as_deref());
    put_str(
        &mut m,
        "CustomKeyStoreName",
        e.custom_key_store_name.as_deref(),
    );
    put_str(
        &mut m,
        "CloudHsmClusterId",
        e.cloud_hsm_cluster_id.as_deref(),
    );
    put_str(
        &mut m,
        "TrustAnchorCertificate",
        e.trust_anchor_certificate.as_deref(),
    );
    put_str(
        &mut m,
        "ConnectionState",
        e.connection_state.as_ref().map(|c| c.as_str()),
    );
    put_str(
        &mut m,
        "ConnectionErrorCode",
        e.connection_error_code.as_ref().map(|c| c.as_str()),
    );
    if let Some(date) = e.creation_date {
        m.insert("CreationDate".into(), ts.to_json(date));
    }
    put_str(
        &mut m,
        "CustomKeyStoreType",
        e.custom_key_store_type.as_ref().map(|c| c.as_str()),
    );
    if let Some(x) = &e.xks_proxy_configuration {
        m.insert("XksProxyConfiguration".into(), xks_to_json(x));
    }
    Value::Object(m)
}

/// The auto-paginated result as the AWS CLI shapes it: `{"CustomKeyStores": [...]}`
/// plus `"NextToken"` when `--max-items` stopped early.
pub fn paginated_to_json(
    entries: &[CustomKeyStoresListEntry],
    next_token: Option<&str>,
    ts: TimestampFormat,
) -> Value {
    let mut m = Map::new();
    m.insert(
        "CustomKeyStores".into(),
        Value::Array(entries.iter().map(|e| entry_to_json(e, ts)).collect()),
    );
    if let Some(t) = next_token {
        m.insert("NextToken".into(), Value::String(t.to_owned()));
    }
    Value::Object(m)
}

/// One raw response (`--no-paginate`): every member the service sent.
pub fn response_to_json(r: &DescribeCustomKeyStoresResponse, ts: TimestampFormat) -> Value {
    let mut m = Map::new();
    if let Some(stores) = &r.custom_key_stores {
        m.insert(
            "CustomKeyStores".into(),
            Value::Array(stores.iter().map(|e| entry_to_json(e, ts)).collect()),
        );
    }
    put_str(&mut m, "NextMarker", r.next_marker.as_deref());
    m.insert("Truncated".into(), Value::Bool(r.truncated));
    Value::Object(m)
}

/// JSON as the AWS CLI prints it: 4-space indent, non-ASCII kept, trailing newline.
pub fn render_json(value: &Value) -> String {
    use serde::Serialize;
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    value
        .serialize(&mut ser)
        .expect("a JSON value always serializes");
    let mut s = String::from_utf8(out).expect("serde_json writes UTF-8");
    s.push('\n');
    s
}

// ---------------------------------------------------------------------------
// text
// ---------------------------------------------------------------------------

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Object(_) | Value::Array(_))
}

/// Python's `str()` of a JSON value, as the AWS CLI's text format writes scalars.
fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// The AWS CLI's text format of one value (`awscli.text.format_text`).
pub fn render_text(value: &Value) -> String {
    let mut out = String::new();
    format_text(value, &mut out, None, None);
    out
}

/// Text for an auto-paginated result, page by page as the AWS CLI writes it,
/// then `NEXTTOKEN\t<token>` when `--max-items` stopped early.
pub fn render_text_pages(
    pages: &[Vec<CustomKeyStoresListEntry>],
    next_token: Option<&str>,
    ts: TimestampFormat,
) -> String {
    let mut out = String::new();
    for page in pages {
        out.push_str(&render_text(&paginated_to_json(page, None, ts)));
    }
    if let Some(t) = next_token {
        out.push_str("NEXTTOKEN\t");
        out.push_str(t);
        out.push('\n');
    }
    out
}

fn format_text(
    item: &Value,
    out: &mut String,
    identifier: Option<&str>,
    scalar_keys: Option<&[String]>,
) {
    match item {
        Value::Object(map) => format_dict(scalar_keys, map, identifier, out),
        Value::Array(list) => format_list(list, identifier, out),
        other => {
            out.push_str(&py_str(other));
            out.push('\n');
        }
    }
}

fn format_list(list: &[Value], identifier: Option<&str>, out: &mut String) {
    if list.is_empty() {
        return;
    }
    if list.iter().any(|v| v.is_object()) {
        let mut keys: Vec<String> = list
            .iter()
            .filter_map(Value::as_object)
            .flat_map(|m| {
                m.iter()
                    .filter(|(_, v)| is_scalar(v))
                    .map(|(k, _)| k.clone())
            })
            .collect();
        keys.sort();
        keys.dedup();
        for el in list {
            format_text(el, out, identifier, Some(&keys));
        }
    } else if list.iter().any(|v| v.is_array()) {
        let scalars: Vec<&Value> = list.iter().filter(|v| is_scalar(v)).collect();
        if !scalars.is_empty() {
            format_scalar_list(&scalars, identifier, out);
        }
        for el in list.iter().filter(|v| !is_scalar(v)) {
            format_text(el, out, identifier, None);
        }
    } else {
        let all: Vec<&Value> = list.iter().collect();
        format_scalar_list(&all, identifier, out);
    }
}

fn format_scalar_list(list: &[&Value], identifier: Option<&str>, out: &mut String) {
    let mut parts: Vec<String> = Vec::new();
    if let Some(id) = identifier {
        parts.push(id.to_uppercase());
    }
    parts.extend(list.iter().map(|v| py_str(v)));
    out.push_str(&parts.join("\t"));
    out.push('\n');
}

fn format_dict(
    scalar_keys: Option<&[String]>,
    map: &Map<String, Value>,
    identifier: Option<&str>,
    out: &mut String,
) {
    let mut scalars: Vec<String> = Vec::new();
    let mut non_scalars: Vec<(&String, &Value)> = Vec::new();
    match scalar_keys {
        None => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            for (k, v) in entries {
                if is_scalar(v) {
                    scalars.push(py_str(v));
                } else {
                    non_scalars.push((k, v));
                }
            }
        }
        Some(keys) => {
            for k in keys {
                scalars.push(map.get(k).map(py_str).unwrap_or_default());
            }
            let mut rest: Vec<(&String, &Value)> =
                map.iter().filter(|(k, _)| !keys.contains(k)).collect();
            rest.sort_by(|a, b| a.0.cmp(b.0));
            non_scalars = rest;
        }
    }
    if !scalars.is_empty() {
        if let Some(id) = identifier {
            scalars.insert(0, id.to_uppercase());
        }
        out.push_str(&scalars.join("\t"));
        out.push('\n');
    }
    for (k, v) in non_scalars {
        format_text(v, out, Some(k), None);
    }
}

// ---------------------------------------------------------------------------
// table
// ---------------------------------------------------------------------------

enum Section {
    /// A titled box at `indent` nesting level.
    Title { indent: usize, title: String },
    /// Column headers and rows of cells.
    Grid {
        indent: usize,
        headers: Vec<String>,
        rows: Vec<Vec<String>>,
    },
}

/// A bordered table in the AWS CLI's style: a titled box per structure, nested
/// structures as indented sub-boxes, lists of structures as rows under sorted column
/// headers. A multi-line value (`TrustAnchorCertificate`, a PEM) is written whole, its
/// line breaks included, and padded by its length, as the AWS CLI writes it: no data is
/// dropped, though its lines break the borders.
pub fn render_table(title: &str, value: &Value) -> String {
    let mut sections = Vec::new();
    build_table(title, value, 0, &mut sections);
    layout(&sections)
}

fn build_table(title: &str, value: &Value, indent: usize, out: &mut Vec<Section>) {
    match value {
        Value::Object(map) => {
            out.push(Section::Title {
                indent,
                title: title.to_owned(),
            });
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let scalars: Vec<&String> = keys
                .iter()
                .copied()
                .filter(|k| is_scalar(&map[*k]))
                .collect();
            if !scalars.is_empty() {
                out.push(Section::Grid {
                    indent,
                    headers: vec![],
                    rows: scalars
                        .iter()
                        .map(|k| vec![(*k).clone(), py_str(&map[*k])])
                        .collect(),
                });
            }
            for k in keys.iter().filter(|k| !is_scalar(&map[**k])) {
                build_table(k, &map[*k], indent + 1, out);
            }
        }
        Value::Array(list) => {
            if list.is_empty() {
                return;
            }
            if list.iter().all(is_scalar) {
                out.push(Section::Title {
                    indent,
                    title: title.to_owned(),
                });
                out.push(Section::Grid {
                    indent,
                    headers: vec![],
                    rows: list.iter().map(|v| vec![py_str(v)]).collect(),
                });
                return;
            }
            let mut headers: Vec<String> = list
                .iter()
                .filter_map(Value::as_object)
                .flat_map(|m| {
                    m.iter()
                        .filter(|(_, v)| is_scalar(v))
                        .map(|(k, _)| k.clone())
                })
                .collect();
            headers.sort();
            headers.dedup();
            let has_nested = list
                .iter()
                .filter_map(Value::as_object)
                .any(|m| m.values().any(|v| !is_scalar(v)));
            let mut first = true;
            for el in list {
                let Some(m) = el.as_object() else { continue };
                let row: Vec<String> = headers
                    .iter()
                    .map(|h| m.get(h).map(py_str).unwrap_or_default())
                    .collect();
                let new_section = first || has_nested;
                first = false;
                if new_section {
                    out.push(Section::Title {
                        indent,
                        title: title.to_owned(),
                    });
                    out.push(Section::Grid {
                        indent,
                        headers: headers.clone(),
                        rows: vec![row],
                    });
                } else if let Some(Section::Grid { rows, .. }) = out.last_mut() {
                    rows.push(row);
                }
                let mut nested: Vec<(&String, &Value)> =
                    m.iter().filter(|(_, v)| !is_scalar(v)).collect();
                nested.sort_by(|a, b| a.0.cmp(b.0));
                for (k, v) in nested {
                    build_table(k, v, indent + 1, out);
                }
            }
        }
        other => {
            out.push(Section::Title {
                indent,
                title: title.to_owned(),
            });
            out.push(Section::Grid {
                indent,
                headers: vec![],
                rows: vec![vec![py_str(other)]],
            });
        }
    }
}

/// The columns `s` takes in a terminal, as the AWS CLI's table counts them: two for a
/// wide or fullwidth character (CJK, most emoji), one for any other. (The AWS CLI
/// also gives two to East Asian "ambiguous" characters such as `é`; this gives them
/// one, as terminals outside CJK locales show them.)
fn width(s: &str) -> usize {
    use unicode_width::UnicodeWidthChar;
    s.chars()
        .map(|c| if c.width() == Some(2) { 2 } else { 1 })
        .sum()
}

/// Column widths of a grid, each including two spaces of padding on both sides.
fn column_widths(headers: &[String], rows: &[Vec<String>]) -> Vec<usize> {
    let n = headers
        .len()
        .max(rows.iter().map(Vec::len).max().unwrap_or(0));
    (0..n)
        .map(|i| {
            let h = headers.get(i).map_or(0, |h| width(h));
            let r = rows
                .iter()
                .map(|r| r.get(i).map_or(0, |c| width(c)))
                .max()
                .unwrap_or(0);
            h.max(r) + 4
        })
        .collect()
}

fn layout(sections: &[Section]) -> String {
    // Every section spans the same total width (inside its indentation borders).
    let mut total = 0usize;
    for s in sections {
        let (indent, need) = match s {
            Section::Title { indent, title } => (*indent, width(title) + 4),
            Section::Grid {
                indent,
                headers,
                rows,
            } => {
                let w = column_widths(headers, rows);
                (*indent, w.iter().sum::<usize>() + w.len().saturating_sub(1))
            }
        };
        total = total.max(need + 2 * indent);
    }
    let mut out = String::new();
    let line = |out: &mut String, indent: usize, body: &str, edge: char| {
        out.push_str(&"|".repeat(indent));
        out.push(edge);
        out.push_str(body);
        out.push(edge);
        out.push_str(&"|".repeat(indent));
        out.push('\n');
    };
    out.push_str(&"-".repeat(total + 2));
    out.push('\n');
    for s in sections {
        match s {
            Section::Title { indent, title } => {
                let inner = total - 2 * indent;
                let pad = inner - width(title);
                let left = pad / 2;
                let body = format!("{}{title}{}", " ".repeat(left), " ".repeat(pad - left));
                line(&mut out, *indent, &body, '|');
                line(&mut out, *indent, &"-".repeat(inner), '+');
            }
            Section::Grid {
                indent,
                headers,
                rows,
            } => {
                let inner = total - 2 * indent;
                let mut w = column_widths(headers, rows);
                let used = w.iter().sum::<usize>() + w.len().saturating_sub(1);
                if let Some(last) = w.last_mut() {
                    *last += inner - used;
                }
                let sep: String = w
                    .iter()
                    .map(|n| "-".repeat(*n))
                    .collect::<Vec<_>>()
                    .join("+");
                let row_text = |cells: &[String], center: bool| -> String {
                    w.iter()
                        .enumerate()
                        .map(|(i, n)| {
                            let c = cells.get(i).map(String::as_str).unwrap_or("");
                            let pad = n - width(c);
                            if center {
                                let l = pad / 2;
                                format!("{}{c}{}", " ".repeat(l), " ".repeat(pad - l))
                            } else {
                                format!("  {c}{}", " ".repeat(pad - 2))
                            }
                        })
                        .collect::<Vec<_>>()
                        .join("|")
                };
                if !headers.is_empty() {
                    line(&mut out, *indent, &row_text(headers, true), '|');
                    line(&mut out, *indent, &sep, '+');
                }
                for r in rows {
                    line(&mut out, *indent, &row_text(r, false), '|');
                }
                line(&mut out, *indent, &sep, '+');
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// NextToken (the AWS CLI's resume token)
// ---------------------------------------------------------------------------

/// Where `--max-items` stopped: the marker of the page to fetch again (`None` for the
/// first page) and how many of its items were already printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumeToken {
    /// The `Marker` to send.
    pub marker: Option<String>,
    /// Items of that page to skip.
    pub skip: usize,
}

impl ResumeToken {
    /// Encodes as the AWS CLI does: base64 of `{"Marker": ..., "boto_truncate_amount": N}`
    /// (the amount only when non-zero).
    pub fn encode(&self) -> String {
        let marker = serde_json::to_string(&self.marker).expect("strings serialize");
        let json = if self.skip == 0 {
            format!("{{\"Marker\": {marker}}}")
        } else {
            format!(
                "{{\"Marker\": {marker}, \"boto_truncate_amount\": {}}}",
                self.skip
            )
        };
        base64::engine::general_purpose::STANDARD.encode(json)
    }

    /// Decodes a `--starting-token`: the AWS CLI's base64 JSON form, or the legacy
    /// `marker___amount` form, or else a raw `NextMarker` value.
    pub fn decode(token: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "invalid --starting-token '{token}': pass the NextToken printed by a previous \
                 run with --max-items"
            )
        };
        if token.is_empty() {
            return Err(bad());
        }
        if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(token)
            && let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(&bytes)
        {
            let marker = match m.get("Marker") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => return Err(bad()),
            };
            let skip = match m.get("boto_truncate_amount") {
                None => 0,
                Some(v) => v
                    .as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(bad)?,
            };
            return Ok(Self { marker, skip });
        }
        if let Some((marker, amount)) = token.rsplit_once("___")
            && let Ok(skip) = amount.parse::<usize>()
        {
            return Ok(Self {
                marker: (!marker.is_empty() && marker != "None").then(|| marker.to_owned()),
                skip,
            });
        }
        Ok(Self {
            marker: Some(token.to_owned()),
            skip: 0,
        })
    }
}
