//! Cheap logs for the per-request line: the `kms-server` binary's `tracing` output.
//!
//! Two pieces, each a drop-in for a `tracing-subscriber` default that cost the
//! server a sizeable share of its CPU per request under load:
//!
//! - [`FastFields`] and [`FastTime`] format exactly what `tracing-subscriber`'s
//!   `DefaultFields` and `time::SystemTime` format (the tests compare byte for
//!   byte), with plain string, integer and boolean fields and the timestamp written
//!   directly instead of through `core::fmt` and `Debug` wrappers. Anything unusual
//!   (coloured output, errors with sources, strings that need escaping) goes to
//!   `tracing-subscriber`'s own code.
//! - [`BufferedWriter`] collects formatted lines in memory and a background thread
//!   writes them out in batches, at most [`DEFAULT_LINGER`] after a line was
//!   logged, instead of one `write` system call per line. [`FlushGuard`] writes
//!   what is left when the program ends; a writer that falls more than
//!   [`MAX_BUFFERED`] bytes behind is written to by the logging thread itself
//!   (as an unbuffered writer would), so memory stays bounded.

use std::fmt;
use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing_subscriber::field::{MakeVisitor, VisitFmt, VisitOutput};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::{DefaultVisitor, Writer};
use tracing_subscriber::fmt::time::FormatTime;

/// Longest time a logged line waits in memory before it is written.
pub const DEFAULT_LINGER: Duration = Duration::from_millis(5);
/// Bytes of pending lines beyond which the logging thread writes them itself.
pub const MAX_BUFFERED: usize = 1 << 20;

// ---------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------

/// `tracing-subscriber`'s `DefaultFields` output (`message`, then `name=value`
/// separated by spaces), written without `core::fmt` for strings, integers and
/// booleans.
#[derive(Debug, Clone, Copy, Default)]
pub struct FastFields;

impl<'a> MakeVisitor<Writer<'a>> for FastFields {
    type Visitor = FastVisitor<'a>;

    fn make_visitor(&self, target: Writer<'a>) -> Self::Visitor {
        FastVisitor {
            writer: target,
            is_empty: true,
            result: Ok(()),
        }
    }
}

/// The visitor of [`FastFields`].
#[derive(Debug)]
pub struct FastVisitor<'a> {
    writer: Writer<'a>,
    is_empty: bool,
    result: fmt::Result,
}

/// A string `Debug` prints as itself between double quotes: printable ASCII
/// other than `"` and `\`.
fn debug_is_verbatim(s: &str) -> bool {
    s.bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
}

/// Text `tracing-subscriber`'s ANSI sanitizer leaves unchanged: no ESC, BEL, BS,
/// FF, DEL nor C1 control character.
fn sanitizer_keeps(s: &str) -> bool {
    s.chars().all(|c| {
        !matches!(c, '\x1b' | '\x07' | '\x08' | '\x0c' | '\x7f')
            && !('\u{80}'..='\u{9f}').contains(&c)
    })
}

/// Up to 256 bytes of text on the stack; writing more fails.
struct StackText {
    bytes: [u8; 256],
    len: usize,
}

impl Default for StackText {
    fn default() -> Self {
        Self {
            bytes: [0; 256],
            len: 0,
        }
    }
}

impl StackText {
    fn as_str(&self) -> &str {
        // Only whole `&str`s are ever copied in.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

impl fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Decimal digits of `n`, in `buf`.
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[i..]).unwrap_or_default()
}

impl FastVisitor<'_> {
    /// Lets `tracing-subscriber`'s `DefaultVisitor` record this field.
    fn delegate(&mut self, record: impl FnOnce(&mut DefaultVisitor<'_>)) {
        let mut visitor = DefaultVisitor::new(self.writer.by_ref(), self.is_empty);
        record(&mut visitor);
        self.result = visitor.finish();
        self.is_empty = false;
    }

    /// Whether this field goes to `DefaultVisitor` regardless of its value.
    fn unusual(&self, name: &str) -> bool {
        self.writer.has_ansi_escapes() || name.starts_with("r#")
    }

    /// Writes the separator and `name=`.
    fn name(&mut self, name: &str) -> fmt::Result {
        if self.is_empty {
            self.is_empty = false;
        } else {
            self.writer.write_char(' ')?;
        }
        self.writer.write_str(name)?;
        self.writer.write_char('=')
    }

    /// Writes the message as `DefaultVisitor` would when its ANSI sanitizer leaves it
    /// unchanged; `false` (nothing written) when it would not.
    fn message(&mut self, value: &str) -> bool {
        if self.writer.sanitizes_ansi_escapes() && !sanitizer_keeps(value) {
            return false;
        }
        if !self.is_empty {
            self.result = self.writer.write_char(' ');
        }
        self.is_empty = false;
        self.result = self.result.and_then(|()| self.writer.write_str(value));
        true
    }

    fn plain(&mut self, field: &Field, value: &str) {
        self.result = self
            .name(field.name())
            .and_then(|()| self.writer.write_str(value));
    }
}

impl Visit for FastVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        let name = field.name();
        if self.result.is_err() || name.starts_with("log.") {
            return;
        }
        if self.unusual(name) {
            return self.delegate(|v| v.record_str(field, value));
        }
        if name == "message" {
            if !self.message(value) {
                self.delegate(|v| v.record_str(field, value));
            }
        } else if debug_is_verbatim(value) {
            self.result = self
                .name(name)
                .and_then(|()| self.writer.write_char('"'))
                .and_then(|()| self.writer.write_str(value))
                .and_then(|()| self.writer.write_char('"'));
        } else {
            self.delegate(|v| v.record_str(field, value));
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.result.is_err() || field.name().starts_with("log.") {
            return;
        }
        if self.unusual(field.name()) {
            return self.delegate(|v| v.record_u64(field, value));
        }
        self.plain(field, decimal(value, &mut [0; 20]));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if self.result.is_err() || field.name().starts_with("log.") {
            return;
        }
        if self.unusual(field.name()) || value < 0 {
            return self.delegate(|v| v.record_i64(field, value));
        }
        self.plain(field, decimal(value.unsigned_abs(), &mut [0; 20]));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if self.result.is_err() || field.name().starts_with("log.") {
            return;
        }
        if self.unusual(field.name()) {
            return self.delegate(|v| v.record_bool(field, value));
        }
        self.plain(field, if value { "true" } else { "false" });
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if self.result.is_err() || field.name().starts_with("log.") {
            return;
        }
        self.delegate(|v| v.record_error(field, value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let name = field.name();
        if self.result.is_err() || name.starts_with("log.") {
            return;
        }
        if self.unusual(name) {
            return self.delegate(|v| v.record_debug(field, value));
        }
        if name == "message" {
            // A message is `format_args!(…)`: rendered once on the stack, then written
            // unless the sanitizer would change it (`DefaultVisitor` escapes it a
            // character at a time).
            let mut text = StackText::default();
            if fmt::Write::write_fmt(&mut text, format_args!("{value:?}")).is_err()
                || !self.message(text.as_str())
            {
                self.delegate(|v| v.record_debug(field, value));
            }
            return;
        }
        self.result = self
            .name(name)
            .and_then(|()| write!(self.writer, "{value:?}"));
    }
}

impl VisitOutput<fmt::Result> for FastVisitor<'_> {
    fn finish(self) -> fmt::Result {
        self.result
    }
}

impl VisitFmt for FastVisitor<'_> {
    fn writer(&mut self) -> &mut dyn fmt::Write {
        &mut self.writer
    }
}

/// The timestamp `tracing-subscriber`'s `time::SystemTime` writes
/// (`2026-12-04T18:01:56.871168Z`, UTC, microseconds), without `core::fmt`.
#[derive(Debug, Clone, Copy, Default)]
pub struct FastTime;

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ` of `unix_micros`, for years 0 to 9999.
pub fn rfc3339_micros(unix_micros: u64) -> Option<[u8; 27]> {
    let secs = unix_micros / 1_000_000;
    let micros = unix_micros % 1_000_000;
    let date = kms_types::Timestamp::from_secs(i64::try_from(secs).ok()?).to_date_time();
    let (year, month, day) = (date.year, date.month, date.day);
    if !(0..=9999).contains(&year) {
        return None;
    }
    let rem = secs % 86_400;
    let mut out = *b"0000-00-00T00:00:00.000000Z";
    let mut put = |at: usize, width: usize, mut n: u64| {
        for i in (at..at + width).rev() {
            out[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, 4, year as u64);
    put(5, 2, u64::from(month));
    put(8, 2, u64::from(day));
    put(11, 2, rem / 3600);
    put(14, 2, rem / 60 % 60);
    put(17, 2, rem % 60);
    put(20, 6, micros);
    Some(out)
}

/// [`rfc3339_micros`], remembering the last second formatted: lines logged in
/// the same second (most of them, under load) only get their microseconds
/// written.
#[derive(Debug, Default)]
struct LastSecond(std::cell::Cell<Option<(u64, [u8; 27])>>);

impl LastSecond {
    fn format(&self, unix_micros: u64) -> Option<[u8; 27]> {
        let secs = unix_micros / 1_000_000;
        let mut out = match self.0.get() {
            Some((cached, out)) if cached == secs => out,
            _ => {
                let out = rfc3339_micros(unix_micros)?;
                self.0.set(Some((secs, out)));
                return Some(out);
            }
        };
        let mut micros = unix_micros % 1_000_000;
        for digit in out[20..26].iter_mut().rev() {
            *digit = b'0' + (micros % 10) as u8;
            micros /= 10;
        }
        Some(out)
    }
}

thread_local! {
    static LAST_SECOND: LastSecond = LastSecond::default();
}

impl FormatTime for FastTime {
    fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
        let now = std::time::SystemTime::now();
        let formatted = now
            .duration_since(UNIX_EPOCH)
            .ok()
            .and_then(|d| u64::try_from(d.as_micros()).ok())
            .and_then(|micros| LAST_SECOND.with(|last| last.format(micros)));
        match formatted {
            Some(bytes) => w.write_str(std::str::from_utf8(&bytes).map_err(|_| fmt::Error)?),
            None => tracing_subscriber::fmt::time::SystemTime.format_time(w),
        }
    }
}

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

struct Pending {
    lines: Vec<u8>,
    /// The flusher waits for lines (so a writer must wake it).
    flusher_waiting: bool,
    closed: bool,
}

struct Shared {
    pending: Mutex<Pending>,
    wake: Condvar,
    /// The destination; held while writing so that batches stay in order.
    out: Mutex<Box<dyn Write + Send>>,
    linger: Duration,
    max_buffered: usize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these locks leaves nothing half-done that matters.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    /// Writes every pending line, in order.
    fn drain(&self, spare: &mut Vec<u8>) {
        let mut out = lock(&self.out);
        std::mem::swap(&mut lock(&self.pending).lines, spare);
        if !spare.is_empty() {
            // Like tracing-subscriber's own writer: a failed log write is dropped.
            let _ = out.write_all(spare);
            let _ = out.flush();
            spare.clear();
        }
    }

    fn run_flusher(&self) {
        let mut spare = Vec::new();
        loop {
            {
                let mut pending = lock(&self.pending);
                while pending.lines.is_empty() && !pending.closed {
                    pending.flusher_waiting = true;
                    pending = self.wake.wait(pending).unwrap_or_else(|p| p.into_inner());
                }
                pending.flusher_waiting = false;
                // Let the lines of a burst gather into one write (unless closing).
                let deadline = Instant::now() + self.linger;
                while !pending.closed {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    pending = self
                        .wake
                        .wait_timeout(pending, left)
                        .unwrap_or_else(|p| p.into_inner())
                        .0;
                }
                if pending.closed {
                    break;
                }
            }
            self.drain(&mut spare);
        }
        self.drain(&mut spare);
    }
}

/// A `MakeWriter` whose lines are written in batches by a background thread (see
/// the module documentation). Cheap to clone.
#[derive(Clone)]
pub struct BufferedWriter {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for BufferedWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BufferedWriter")
            .field("linger", &self.shared.linger)
            .finish_non_exhaustive()
    }
}

/// Writes the lines still pending and stops the background thread when dropped
/// (or on [`FlushGuard::flush`]).
#[derive(Debug)]
pub struct FlushGuard {
    writer: BufferedWriter,
    thread: Option<JoinHandle<()>>,
}

impl BufferedWriter {
    /// Lines written to `out` at most [`DEFAULT_LINGER`] after they were logged.
    pub fn new(out: impl Write + Send + 'static) -> io::Result<(Self, FlushGuard)> {
        Self::with_linger(out, DEFAULT_LINGER, MAX_BUFFERED)
    }

    /// Lines written to `out` at most `linger` after they were logged; beyond
    /// `max_buffered` pending bytes the logging thread writes them itself.
    pub fn with_linger(
        out: impl Write + Send + 'static,
        linger: Duration,
        max_buffered: usize,
    ) -> io::Result<(Self, FlushGuard)> {
        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending {
                lines: Vec::new(),
                flusher_waiting: false,
                closed: false,
            }),
            wake: Condvar::new(),
            out: Mutex::new(Box::new(out)),
            linger,
            max_buffered,
        });
        let flusher = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || flusher.run_flusher())?;
        let writer = Self { shared };
        Ok((
            writer.clone(),
            FlushGuard {
                writer,
                thread: Some(thread),
            },
        ))
    }

    fn append(&self, bytes: &[u8]) {
        let shared = &*self.shared;
        let mut pending = lock(&shared.pending);
        if pending.closed {
            drop(pending);
            let mut out = lock(&shared.out);
            let _ = out.write_all(bytes);
            let _ = out.flush();
            return;
        }
        pending.lines.extend_from_slice(bytes);
        let full = pending.lines.len() >= shared.max_buffered;
        let wake = std::mem::take(&mut pending.flusher_waiting);
        drop(pending);
        if wake {
            shared.wake.notify_one();
        }
        if full {
            shared.drain(&mut Vec::new());
        }
    }
}

impl FlushGuard {
    /// Writes every pending line and stops the background thread; lines logged
    /// afterwards are written directly.
    pub fn flush(&mut self) {
        self.close(None);
    }

    /// [`flush`](Self::flush), waiting at most `limit` for the output to take the
    /// pending lines: one that takes nothing (a pipe nobody reads, say a test harness's
    /// `stderr=PIPE`) would otherwise hold the program at its exit forever. Whether every
    /// line was written; if not, the background thread is left to it, not waited for,
    /// and a line logged afterwards waits for the output as an unbuffered writer's would.
    pub fn flush_within(&mut self, limit: Duration) -> bool {
        self.close(Some(limit))
    }

    fn close(&mut self, limit: Option<Duration>) -> bool {
        let Some(thread) = self.thread.take() else {
            return true;
        };
        lock(&self.writer.shared.pending).closed = true;
        self.writer.shared.wake.notify_one();
        if let Some(limit) = limit {
            let deadline = Instant::now() + limit;
            while !thread.is_finished() {
                if Instant::now() >= deadline {
                    return false;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        let _ = thread.join();
        self.writer.shared.drain(&mut Vec::new());
        true
    }
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        self.flush();
    }
}

/// One event's handle on a [`BufferedWriter`].
#[derive(Debug)]
pub struct LineWriter<'a> {
    writer: &'a BufferedWriter,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.append(buf);
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer.append(buf);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BufferedWriter {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter { writer: self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::fmt::format::DefaultFields;
    use tracing_subscriber::fmt::time::SystemTime as SubscriberTime;

    /// An in-memory `io::Write` shared with the test.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            lock(&self.0).extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Sink {
        type Writer = Sink;
        fn make_writer(&'a self) -> Sink {
            self.clone()
        }
    }

    impl Sink {
        fn text(&self) -> String {
            String::from_utf8(lock(&self.0).clone()).unwrap()
        }
    }

    #[derive(Debug)]
    struct Outer;
    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("outer failed")
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&Inner)
        }
    }
    #[derive(Debug)]
    struct Inner;
    impl std::fmt::Display for Inner {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("inner cause")
        }
    }
    impl std::error::Error for Inner {}

    /// Logs a fixed set of events through `fields`, without timestamps.
    fn log_with<N>(fields: N, ansi: bool) -> String
    where
        N: for<'w> tracing_subscriber::fmt::FormatFields<'w> + Send + Sync + 'static,
    {
        let sink = Sink::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(sink.clone())
            .with_ansi(ansi)
            .with_target(false)
            .without_time()
            .fmt_fields(fields)
            .with_max_level(tracing::Level::TRACE)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let id = "521a805d-aa3e-4416-ba72-9cd5769b7f0f".to_owned();
            tracing::info!(
                request_id = %id,
                operation = "DescribeCustomKeyStores",
                account = "111122223333",
                status = 200u16,
                error = "-",
                latency_us = 6u64,
                "request"
            );
            tracing::warn!(
                quoted = "say \"hi\"\\",
                tab = "a\tb",
                unicode = "résumé ✓",
                c1 = "x\u{85}y",
                negative = -5i64,
                positive = 7i64,
                max = u64::MAX,
                zero = 0u64,
                flag = true,
                off = false,
                float = 1.5f64,
                debug = ?vec![1, 2],
                r#type = "raw",
                "plain message"
            );
            tracing::error!(
                error = &Outer as &(dyn std::error::Error + 'static),
                "failed: {}",
                3
            );
            tracing::debug!("escape \u{1b}[31m red \u{7} \u{85}");
            tracing::info!(only = 1u64);
            tracing::info!(empty = "", "");
            tracing::info!("shutting down: finishing in-flight requests");
            // Longer than the stack buffer of the message fast path.
            tracing::info!("{} {}", "long".repeat(70), "résumé");
            let span = tracing::info_span!("conn", peer = "127.0.0.1", n = 3u64);
            span.in_scope(|| tracing::info!(inside = true, "in a span"));
        });
        sink.text()
    }

    #[test]
    fn fields_are_formatted_like_tracing_subscriber() {
        for ansi in [false, true] {
            let ours = log_with(FastFields, ansi);
            let theirs = log_with(DefaultFields::new(), ansi);
            assert_eq!(ours, theirs, "ansi {ansi}");
            assert_eq!(ours.lines().count(), 9, "{ours}");
        }
        let plain = log_with(FastFields, false);
        assert!(
            plain.starts_with(
                " INFO request request_id=521a805d-aa3e-4416-ba72-9cd5769b7f0f operation=\"DescribeCustomKeyStores\" account=\"111122223333\" status=200 error=\"-\" latency_us=6\n"
            ),
            "{plain}"
        );
    }

    #[test]
    fn timestamps_are_formatted_like_tracing_subscriber() {
        let at = |micros: u64| String::from_utf8(rfc3339_micros(micros).unwrap().to_vec()).unwrap();
        assert_eq!(at(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(at(1_796_407_316_871_168), "2026-12-04T18:01:56.871168Z");
        assert_eq!(at(951_782_400_000_001), "2000-02-29T00:00:00.000001Z");
        assert_eq!(at(253_402_300_799_999_999), "9999-12-31T23:59:59.999999Z");
        assert_eq!(rfc3339_micros(253_402_300_800_000_000), None);
        // Remembering the second changes nothing: forwards, backwards, same second.
        let last = LastSecond::default();
        for micros in [
            1_796_407_316_871_168,
            1_796_407_316_000_000,
            1_796_407_316_999_999,
            1_796_407_317_000_001,
            1_796_407_316_500_000,
            951_782_400_000_001,
            951_782_400_000_001,
            0,
            253_402_300_799_999_999,
        ] {
            assert_eq!(last.format(micros), rfc3339_micros(micros), "{micros}");
        }
        assert_eq!(last.format(253_402_300_800_000_000), None);

        // Same shape as tracing-subscriber's clock, read around ours.
        let render = |timer: &dyn FormatTime| {
            let mut s = String::new();
            timer.format_time(&mut Writer::new(&mut s)).unwrap();
            s
        };
        let before = render(&SubscriberTime);
        let ours = render(&FastTime);
        let after = render(&SubscriberTime);
        assert_eq!(ours.len(), before.len());
        assert!(before <= ours && ours <= after, "{before} {ours} {after}");
    }

    #[test]
    fn buffered_lines_are_written_in_order_and_flushed_by_the_guard() {
        let sink = Sink::default();
        let (writer, mut guard) =
            BufferedWriter::with_linger(sink.clone(), Duration::from_secs(3600), 1 << 20).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let writer = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..250 {
                        let mut w = writer.make_writer();
                        w.write_all(format!("t{t} line {i}\n").as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        // An hour of linger: nothing written yet.
        assert_eq!(sink.text(), "");
        guard.flush();
        let text = sink.text();
        assert_eq!(text.lines().count(), 1000);
        for t in 0..4 {
            let mine: Vec<_> = text
                .lines()
                .filter(|l| l.starts_with(&format!("t{t} ")))
                .collect();
            let expected: Vec<_> = (0..250).map(|i| format!("t{t} line {i}")).collect();
            assert_eq!(mine, expected);
        }
        // After the guard: written directly.
        writer.make_writer().write_all(b"late\n").unwrap();
        assert!(sink.text().ends_with("late\n"));
        drop(guard);
    }

    #[test]
    fn lines_are_written_after_the_linger_without_a_flush() {
        let sink = Sink::default();
        let (writer, _guard) =
            BufferedWriter::with_linger(sink.clone(), Duration::from_millis(1), 1 << 20).unwrap();
        writer.make_writer().write_all(b"one\n").unwrap();
        // No wall-clock assertion: wait (up to a minute) for the thread to write it.
        for _ in 0..60_000 {
            if sink.text() == "one\n" {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(sink.text(), "one\n");
        writer.make_writer().write_all(b"two\n").unwrap();
        for _ in 0..60_000 {
            if sink.text() == "one\ntwo\n" {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(sink.text(), "one\ntwo\n");
    }

    /// An output that never takes a line (a pipe nobody reads).
    struct Stuck(std::sync::mpsc::Receiver<()>);

    impl Write for Stuck {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            // Blocks until the test ends (its sender dropped).
            let _ = self.0.recv();
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A flush with a limit gives up on an output that takes nothing, where `flush`
    /// waits for it forever; with an output that takes the lines, it writes them all.
    #[test]
    fn a_flush_within_a_limit_gives_up_on_a_stuck_output() {
        let (release, stuck) = std::sync::mpsc::channel();
        let (writer, mut guard) =
            BufferedWriter::with_linger(Stuck(stuck), Duration::from_millis(1), 1 << 20).unwrap();
        writer.make_writer().write_all(b"never written\n").unwrap();
        assert!(!guard.flush_within(Duration::from_millis(50)));
        // Dropping the guard does not wait for the stuck thread either.
        drop(guard);
        drop(release);

        let sink = Sink::default();
        let (writer, mut guard) =
            BufferedWriter::with_linger(sink.clone(), Duration::from_secs(3600), 1 << 20).unwrap();
        writer.make_writer().write_all(b"one\n").unwrap();
        assert!(guard.flush_within(Duration::from_secs(60)));
        assert_eq!(sink.text(), "one\n");
    }

    #[test]
    fn a_full_buffer_is_written_by_the_logging_thread() {
        let sink = Sink::default();
        let (writer, guard) =
            BufferedWriter::with_linger(sink.clone(), Duration::from_secs(3600), 10).unwrap();
        writer.make_writer().write_all(b"12345\n").unwrap();
        assert_eq!(sink.text(), "");
        writer.make_writer().write_all(b"67890\n").unwrap();
        assert_eq!(sink.text(), "12345\n67890\n");
        drop(guard);
    }
}
