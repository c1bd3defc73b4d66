//! Output of the `kms` CLI, shaped like the AWS CLI's: JSON (4-space indent, members
//! in the service model's order, ISO 8601 timestamps), text (tab-separated, the AWS
//! CLI's text format) and a bordered table. Pure functions, so they can be
//! snapshot-tested.

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::query::Query;

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

/// JSON as the AWS CLI prints it: 4-space indent, non-ASCII kept, trailing newline;
/// nothing for an empty object (what a `--query` may leave).
pub fn render_json(value: &Value) -> String {
    use serde::Serialize;
    if value.as_object().is_some_and(Map::is_empty) {
        return String::new();
    }
    let mut out = Vec::new();
    let fmt = PyFormatter(serde_json::ser::PrettyFormatter::with_indent(b"    "));
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    value
        .serialize(&mut ser)
        .expect("a JSON value always serializes");
    let mut s = String::from_utf8(out).expect("serde_json writes UTF-8");
    s.push('\n');
    s
}

/// `PrettyFormatter` writing floats as Python's `json.dumps` does (`1e-07`, `1e+16`).
struct PyFormatter<'a>(serde_json::ser::PrettyFormatter<'a>);

impl serde_json::ser::Formatter for PyFormatter<'_> {
    fn write_f64<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        value: f64,
    ) -> std::io::Result<()> {
        w.write_all(py_float(value).as_bytes())
    }
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// Python's `repr()` of a float (what `str()` and `json.dumps` write): the shortest
/// digits that read back the same, in positional notation from 1e-4 up to 1e16 (with
/// `.0` when whole), else as `1.5e+16` / `1e-05` (a sign and two digits at least).
pub(crate) fn py_float(value: f64) -> String {
    if !value.is_finite() {
        return if value.is_nan() {
            "NaN".into()
        } else if value > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let sci = format!("{value:e}");
    let (mantissa, exp) = sci.split_once('e').expect("{:e} writes an exponent");
    let exp: i32 = exp.parse().expect("{:e} writes an integer exponent");
    let (sign, mantissa) = mantissa
        .strip_prefix('-')
        .map_or(("", mantissa), |m| ("-", m));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exp) {
        let point = exp + 1;
        let body = if point <= 0 {
            format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
        } else {
            let point = point as usize;
            let int = format!("{digits:0<point$}");
            let frac = digits.get(point..).filter(|f| !f.is_empty()).unwrap_or("0");
            format!("{}.{frac}", &int[..point])
        };
        format!("{sign}{body}")
    } else {
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{exp_sign}{:02}", exp.unsigned_abs())
    }
}

/// A JSON number as Python writes what `json.loads` made of it.
pub(crate) fn py_number(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(f) if n.is_f64() => py_float(f),
        _ => n.to_string(),
    }
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
        Value::Number(n) => py_number(n),
        // A structure in a scalar's place (a `--query` made it so): Python's `str()`.
        other => py_repr(other),
    }
}

/// The AWS CLI's text format of one value (`awscli.text.format_text`).
pub fn render_text(value: &Value) -> String {
    let mut out = String::new();
    format_text(value, &mut out, None, None);
    out
}

/// Text for an auto-paginated result, page by page as the AWS CLI writes it,
/// then `NEXTTOKEN\t<token>` when `--max-items` stopped early. A `--query` is applied
/// to each page and to the token's `{"NextToken": {"NextToken": ...}}` on its own, as
/// the AWS CLI applies it (so a query for the stores prints `None` for the token); with
/// the query's error when it fails on one, the text then that of those before it (which
/// the AWS CLI has printed by then).
pub fn render_text_pages(
    pages: &[Vec<CustomKeyStoresListEntry>],
    next_token: Option<&str>,
    ts: TimestampFormat,
    query: Option<&Query>,
) -> (String, Option<String>) {
    let mut out = String::new();
    for page in pages {
        let (text, failed) = render_text_page(page, ts, query);
        out.push_str(&text);
        if failed.is_some() {
            return (out, failed);
        }
    }
    let (text, failed) = render_text_token(next_token, query);
    out.push_str(&text);
    (out, failed)
}

/// One page of [`render_text_pages`], printed as it comes as the AWS CLI prints it; with
/// the error of a query that failed on it.
pub fn render_text_page(
    page: &[CustomKeyStoresListEntry],
    ts: TimestampFormat,
    query: Option<&Query>,
) -> (String, Option<String>) {
    queried_text(paginated_to_json(page, None, ts), query)
}

/// The `NextToken` that [`render_text_pages`] prints after the pages (nothing without
/// one), queried on its own.
pub fn render_text_token(
    next_token: Option<&str>,
    query: Option<&Query>,
) -> (String, Option<String>) {
    let Some(t) = next_token else {
        return (String::new(), None);
    };
    let mut token = Map::new();
    token.insert("NextToken".into(), Value::String(t.to_owned()));
    let mut outer = Map::new();
    outer.insert("NextToken".into(), Value::Object(token));
    queried_text(Value::Object(outer), query)
}

fn queried_text(value: Value, query: Option<&Query>) -> (String, Option<String>) {
    match query.map(|q| q.search(&value)) {
        None => (render_text(&value), None),
        Some(Ok(found)) => (render_text(&found), None),
        Some(Err(e)) => (String::new(), Some(e)),
    }
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
    // Under a name, a line per value; a bare list, one line.
    if let Some(id) = identifier {
        for v in list {
            out.push_str(&format!("{}\t{}\n", id.to_uppercase(), py_str(v)));
        }
        return;
    }
    let parts: Vec<String> = list.iter().map(|v| py_str(v)).collect();
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

/// The width the AWS CLI lays a table out for when stdout is not a terminal.
pub const DEFAULT_TABLE_WIDTH: usize = 80;

/// One titled box of a table: column headers (maybe none) and rows of cells, as the
/// AWS CLI's `awscli.table.Section`.
#[derive(Default)]
struct Section {
    title: String,
    indent: usize,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    /// The widest cell of each column, headers included.
    max_widths: Vec<usize>,
}

impl Section {
    fn new(title: &str, indent: usize) -> Self {
        Self {
            title: title.to_owned(),
            indent,
            ..Self::default()
        }
    }

    fn update_max_widths(&mut self, cells: &[String]) {
        if self.max_widths.is_empty() {
            self.max_widths = cells.iter().map(|c| width(c)).collect();
        } else {
            for (max, cell) in self.max_widths.iter_mut().zip(cells) {
                *max = (*max).max(width(cell));
            }
        }
    }

    fn add_header(&mut self, headers: Vec<String>) {
        self.update_max_widths(&headers);
        self.headers = headers;
    }

    fn add_row(&mut self, row: Vec<String>) {
        self.update_max_widths(&row);
        self.rows.push(row);
    }

    /// The width the section needs: its widest cells padded by two spaces on each
    /// side, its borders and its indentation (`Section.total_width`).
    fn total_width(&self) -> usize {
        let columns: usize = self.max_widths.iter().map(|w| w + 4).sum();
        let outer = 2 + 2 * self.indent;
        (width(&self.title) + outer).max(columns + outer)
    }

    /// Column widths (each with its padding and right border, the first also with the
    /// left border) scaled to fill `max_width`, rounded and adjusted as the AWS CLI's
    /// `Section.calculate_column_widths` does it.
    fn column_widths(&self, max_width: usize) -> Vec<usize> {
        let unscaled: Vec<usize> = self.max_widths.iter().map(|w| w + 4).collect();
        let sum: usize = unscaled.iter().sum();
        if unscaled.is_empty() || sum == 0 {
            return unscaled;
        }
        // Python's `int(round(x))`: halves to even.
        let scale = max_width as f64 / sum as f64;
        let mut scaled: Vec<i64> = unscaled
            .iter()
            .map(|w| (scale * *w as f64).round_ties_even() as i64)
            .collect();
        let target = i64::try_from(max_width).unwrap_or(i64::MAX);
        let mut off_by = scaled.iter().sum::<i64>() - target;
        while off_by != 0 {
            let order: Vec<usize> = if off_by < 0 {
                (0..scaled.len()).rev().collect()
            } else {
                (0..scaled.len()).collect()
            };
            for i in order {
                if off_by > 0 {
                    scaled[i] -= 1;
                    off_by -= 1;
                } else {
                    scaled[i] += 1;
                    off_by += 1;
                }
                if off_by == 0 {
                    break;
                }
            }
        }
        scaled
            .into_iter()
            .map(|w| usize::try_from(w).unwrap_or(0))
            .collect()
    }
}

/// A bordered table as the AWS CLI's `--output table` prints it (`awscli.formatter.
/// TableFormatter` and `awscli.table.MultiTable`) for a stdout that is not a terminal,
/// laid out for [`DEFAULT_TABLE_WIDTH`] columns; see [`render_table_width`].
pub fn render_table(title: &str, value: &Value) -> String {
    render_table_width(title, value, DEFAULT_TABLE_WIDTH)
}

/// A bordered table as the AWS CLI prints it on a terminal `terminal_width` columns
/// wide: a titled box per structure (its scalar members as one row under sorted
/// column headers, or a single member as a name/value row), nested structures and
/// lists of structures as indented boxes; every box's columns scaled to the widest
/// box. When the table is wider than the terminal, each box of one row is turned into
/// name/value rows. A multi-line value (`TrustAnchorCertificate`, a PEM) is written
/// whole, its line breaks included, and padded by its length, as the AWS CLI writes
/// it: no data is dropped, though its lines break the borders. Nothing at all is
/// printed for an empty value.
pub fn render_table_width(title: &str, value: &Value, terminal_width: usize) -> String {
    let mut sections = Vec::new();
    if !build_table(Some(title), value, 0, &mut sections) {
        return String::new();
    }
    let mut max_width = table_width(&sections);
    if max_width > terminal_width {
        to_vertical(&mut sections);
        max_width = table_width(&sections);
    }
    let mut out = "-".repeat(max_width);
    out.push('\n');
    for section in &sections {
        render_section(section, max_width, &mut out);
    }
    out
}

/// Whether `value` is one that Python's `not value` calls false.
fn is_falsy(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
    }
}

/// The scalar members of `map`, sorted, and the others, sorted.
fn group_scalar_keys(map: &Map<String, Value>) -> (Vec<String>, Vec<String>) {
    let mut scalars = Vec::new();
    let mut more = Vec::new();
    for (k, v) in map {
        if is_scalar(v) {
            scalars.push(k.clone());
        } else {
            more.push(k.clone());
        }
    }
    scalars.sort();
    more.sort();
    (scalars, more)
}

/// `TableFormatter._build_table`: false when `value` is empty (nothing is printed).
fn build_table(title: Option<&str>, value: &Value, indent: usize, out: &mut Vec<Section>) -> bool {
    if is_falsy(value) {
        return false;
    }
    if let Some(title) = title {
        out.push(Section::new(title, indent));
    }
    match value {
        Value::Array(list) => {
            if list.first().is_some_and(Value::is_object) {
                build_from_list(list, indent, title.unwrap_or_default(), out);
            } else {
                for item in list {
                    match item {
                        Value::Array(items) if items.iter().all(is_scalar) => {
                            current(out).add_row(items.iter().map(py_str).collect());
                        }
                        Value::Array(_) | Value::Object(_) => {
                            build_table(None, item, 0, out);
                        }
                        scalar => current(out).add_row(vec![py_str(scalar)]),
                    }
                }
            }
        }
        Value::Object(map) => build_from_dict(map, indent, out),
        _ => {}
    }
    true
}

/// The section rows are added to: the last one (the AWS CLI's current section).
fn current(out: &mut Vec<Section>) -> &mut Section {
    if out.is_empty() {
        out.push(Section::default());
    }
    out.last_mut().expect("a section was just added")
}

/// `_build_sub_table_from_dict`: one scalar member as a name/value row, several as a
/// row under their names; the other members as boxes of their own, one level in.
fn build_from_dict(map: &Map<String, Value>, indent: usize, out: &mut Vec<Section>) {
    let (headers, more) = group_scalar_keys(map);
    if let [only] = headers.as_slice() {
        current(out).add_row(vec![only.clone(), py_str(&map[only])]);
    } else if !headers.is_empty() {
        let row = headers.iter().map(|h| py_str(&map[h])).collect();
        let section = current(out);
        section.add_header(headers);
        section.add_row(row);
    }
    for key in &more {
        build_table(Some(key), &map[key], indent + 1, out);
    }
}

/// `_build_sub_table_from_list`: one row per structure under the sorted names of every
/// scalar member; when the structures hold more than scalars, each gets a box of its
/// own followed by the boxes of its other members.
fn build_from_list(list: &[Value], indent: usize, title: &str, out: &mut Vec<Section>) {
    let mut headers = Vec::new();
    let mut more = Vec::new();
    for map in list.iter().filter_map(Value::as_object) {
        let (h, m) = group_scalar_keys(map);
        headers.extend(h);
        more.extend(m);
    }
    headers.sort();
    headers.dedup();
    more.sort();
    more.dedup();
    current(out).add_header(headers.clone());
    for (i, element) in list.iter().enumerate() {
        let map = element.as_object();
        if i > 0 && !more.is_empty() {
            out.push(Section::new(title, indent));
            current(out).add_header(headers.clone());
        }
        let row = headers
            .iter()
            .map(|h| map.and_then(|m| m.get(h)).map(py_str).unwrap_or_default())
            .collect();
        current(out).add_row(row);
        for key in &more {
            if let Some(v) = map.and_then(|m| m.get(key)) {
                build_table(Some(key), v, indent + 1, out);
            }
        }
    }
}

/// `MultiTable._calculate_max_width`.
fn table_width(sections: &[Section]) -> usize {
    sections.iter().map(Section::total_width).max().unwrap_or(0)
}

/// `convert_to_vertical_table`: every box of one row under headers becomes a box of
/// name/value rows.
fn to_vertical(sections: &mut [Section]) {
    for section in sections.iter_mut() {
        if section.rows.len() == 1 && !section.headers.is_empty() {
            let mut vertical = Section::new(&section.title, section.indent);
            let headers = std::mem::take(&mut section.headers);
            let row = std::mem::take(&mut section.rows[0]);
            for (header, cell) in headers.into_iter().zip(row) {
                vertical.add_row(vec![header, cell]);
            }
            *section = vertical;
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

/// `center_text`: `text` centred between `left` and `right` in `length` columns.
fn center_text(text: &str, length: usize, left: &str, right: &str) -> String {
    let text_length = width(text);
    let start = (length / 2) as isize - (text_length / 2) as isize - 1;
    let so_far = left.len() as isize + start + text_length as isize;
    let right_spaces = length as isize - right.len() as isize - so_far;
    format!(
        "{left}{}{text}{}{right}",
        spaces(start),
        spaces(right_spaces)
    )
}

/// `align_left`: `text` after two spaces (none when it does not fit), then padded to
/// `length` columns.
fn align_left(text: &str, length: usize, left: &str, right: &str) -> String {
    let text_length = width(text);
    let padding = if text_length + 2 + left.len() + right.len() <= length {
        2
    } else {
        0
    };
    let rest =
        length as isize - (left.len() + padding + text_length) as isize - right.len() as isize;
    format!("{left}{}{text}{}{right}", " ".repeat(padding), spaces(rest))
}

/// Python's `' ' * n`: nothing for a negative `n`.
fn spaces(n: isize) -> String {
    " ".repeat(usize::try_from(n).unwrap_or(0))
}

/// One box, with the AWS CLI's `IndentedStream`: each line written between `indent`
/// bars on both sides (a multi-line cell's inner line breaks included, unbarred).
fn render_section(section: &Section, max_width: usize, out: &mut String) {
    let bars = "|".repeat(section.indent);
    let mut line = |text: &str| {
        out.push_str(&bars);
        out.push_str(text);
        out.push_str(&bars);
        out.push('\n');
    };
    let max_width = max_width.saturating_sub(2 * section.indent);
    if !section.title.is_empty() {
        line(&center_text(&section.title, max_width, "|", "|"));
        if section.headers.is_empty() && section.rows.is_empty() {
            line(&format!("+{}+", "-".repeat(max_width.saturating_sub(2))));
        }
    }
    let widths = section.column_widths(max_width);
    let line_break = |widths: &[usize]| -> String {
        widths
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if i == 0 {
                    format!("+{}+", "-".repeat(w.saturating_sub(2)))
                } else {
                    format!("{}+", "-".repeat(w.saturating_sub(1)))
                }
            })
            .collect()
    };
    let cells = |cells: &[String], cell: &dyn Fn(&str, usize, &str) -> String| -> String {
        widths
            .iter()
            .zip(cells)
            .enumerate()
            .map(|(i, (w, c))| cell(c, *w, if i == 0 { "|" } else { "" }))
            .collect()
    };
    if !section.headers.is_empty() {
        line(&line_break(&widths));
        line(&cells(&section.headers, &|c, w, left| {
            center_text(c, w, left, "|")
        }));
    }
    if !section.rows.is_empty() && !widths.is_empty() {
        line(&line_break(&widths));
        for row in &section.rows {
            line(&cells(row, &|c, w, left| align_left(c, w, left, "|")));
        }
        line(&line_break(&widths));
    }
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

    /// Decodes a `--starting-token` as botocore decodes it: the AWS CLI's base64 JSON
    /// form, else the legacy `marker___amount` form, else a raw `NextMarker` value. A
    /// marker `None` is no marker; an empty one is kept, for the parameter check to
    /// refuse, as botocore's does.
    pub fn decode(token: &str) -> Result<Self, StartingTokenError> {
        let bad = || StartingTokenError::Bad(format!("Bad starting token: {token}"));
        let marker = |m: &str| (m != "None").then(|| m.to_owned());
        if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(token)
            && let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(&bytes)
        {
            let marker = match m.get("Marker") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => marker(s),
                Some(other) => {
                    return Err(StartingTokenError::MarkerType(format!(
                        "Invalid type for parameter Marker, value: {}, type: <class '{}'>, \
                         valid types: <class 'str'>",
                        py_repr(other),
                        py_type(other)
                    )));
                }
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
        // The legacy form: one part per input token (KMS has one, Marker), then the
        // amount; a token whose last part is not a whole number is a raw marker.
        let parts: Vec<&str> = token.split("___").collect();
        match parts[..] {
            [m, amount] => match py_uint(amount) {
                Some(skip) => Ok(Self {
                    marker: marker(m),
                    skip,
                }),
                None => Ok(Self {
                    marker: marker(token),
                    skip: 0,
                }),
            },
            [m] => Ok(Self {
                marker: marker(m),
                skip: 0,
            }),
            _ => Err(bad()),
        }
    }
}

/// Why a `--starting-token` cannot be used, in the AWS CLI's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartingTokenError {
    /// Its `Marker` is not a string: botocore's parameter check's line for it
    /// (`Invalid type for parameter Marker, value: True, type: <class 'bool'>, valid
    /// types: <class 'str'>`), to report with the other parameters' problems.
    MarkerType(String),
    /// It is no token botocore reads: `Bad starting token: a___b___3`.
    Bad(String),
}

impl std::fmt::Display for StartingTokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MarkerType(line) | Self::Bad(line) => f.write_str(line),
        }
    }
}

impl std::error::Error for StartingTokenError {}

/// botocore's `PaginationError` for a service that returned a marker a second time
/// ([`Error::RepeatedMarker`](crate::Error::RepeatedMarker)), as the AWS CLI prints it:
/// `Error during pagination: The same next token was received twice: {'Marker': 'm1'}`.
pub fn repeated_marker_message(marker: &str) -> String {
    format!(
        "Error during pagination: The same next token was received twice: {{'Marker': {}}}",
        py_repr(&Value::String(marker.to_owned()))
    )
}

/// Python's `int(text)` when it is zero or more: white space around, an optional `+`,
/// ASCII digits with single underscores between them.
fn py_uint(text: &str) -> Option<usize> {
    let digits = text.trim();
    let digits = digits.strip_prefix('+').unwrap_or(digits);
    let well_formed = !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_');
    well_formed
        .then(|| digits.replace('_', "").parse().ok())
        .flatten()
}

/// The name of the Python type `json.loads` makes of `v`.
fn py_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Python's `repr()` of what `json.loads` makes of `v`.
fn py_repr(v: &Value) -> String {
    match v {
        Value::String(s) => {
            let quote = if s.contains('\'') && !s.contains('"') {
                '"'
            } else {
                '\''
            };
            let mut out = String::from(quote);
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if c == quote => {
                        out.push('\\');
                        out.push(c);
                    }
                    // Python's unprintable characters of Latin-1 (a marker's range):
                    // the controls, the no-break space and the soft hyphen.
                    c if c.is_control() || c == '\u{a0}' || c == '\u{ad}' => {
                        out.push_str(&format!("\\x{:02x}", u32::from(c)));
                    }
                    c => out.push(c),
                }
            }
            out.push(quote);
            out
        }
        Value::Number(n) => py_number(n),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(py_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", py_repr(&Value::String(k.clone())), py_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => py_str(other),
    }
}
