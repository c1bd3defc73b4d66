//! Timestamps as awsJson writes them: epoch seconds, a JSON number with a fraction where needed.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

const NANOS_PER_SEC: u32 = 1_000_000_000;

/// A point in time with nanosecond precision, written on the wire as epoch seconds
/// (`1551129207.775`) and read from any finite JSON number (`1.499288695918E9` too).
///
/// # Converting
///
/// To and from [`SystemTime`] with `From` (and so to other date-time crates: chrono's
/// `DateTime<Utc>` and time's `OffsetDateTime` are `From<SystemTime>`); to text with
/// `Display` ([`Timestamp::to_rfc3339`]) and back with `parse` (`FromStr`,
/// [`Timestamp::parse_rfc3339`]); to a UTC calendar date with [`Timestamp::to_date_time`]:
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use kms_types::Timestamp;
///
/// let created = Timestamp::new(1_551_129_207, 775_000_000); // a store's `creation_date`
/// let age = SystemTime::now().duration_since(created.into()).unwrap();
/// assert!(age > Duration::from_secs(365 * 86_400));
/// assert_eq!(created.to_string(), "2019-02-25T21:13:27.775Z");
/// assert_eq!(created.to_date_time().year, 2019);
/// ```
///
/// # Precision on the wire
///
/// awsJson sends epoch seconds as a JSON number, and serde reads and writes it as an
/// `f64`, as smithy-rs (the AWS SDK for Rust) does: a whole second is written exactly
/// (`1551129207`), a fraction through the `f64` nearest to it, in its shortest decimal
/// form. An `f64` has 53 bits of mantissa, so for current dates (around 2³¹ seconds)
/// the fraction survives to about a microsecond (milliseconds, which is all KMS sends,
/// round-trip); the nanoseconds beyond that are lost, and a fraction below half
/// a microsecond may be written as `.0`:
///
/// ```
/// use kms_types::Timestamp;
///
/// let t = Timestamp::new(1_551_129_207, 123_456_789);
/// let json = serde_json::to_string(&t).unwrap();
/// assert_eq!(json, "1551129207.1234567");
/// let back: Timestamp = serde_json::from_str(&json).unwrap();
/// assert_eq!(back.subsec_nanos(), 123_456_700);
/// ```
///
/// The value itself ([`Timestamp::new`], [`Timestamp::to_rfc3339`], [`SystemTime`]
/// conversions) keeps every nanosecond, and so do serde formats that are not
/// human-readable (bincode): they get the exact pair `(secs, nanos)`, not the wire form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    secs: i64,
    nanos: u32,
}

/// Text or a number that is not a timestamp of the expected form.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("`{text}` is not {expected}")]
pub struct TimestampError {
    text: String,
    expected: &'static str,
}

impl TimestampError {
    /// The error for `text`, quoting at most its first 64 characters: a timestamp is
    /// never longer, and the text may be megabytes sent by a peer.
    fn new(text: &str, expected: &'static str) -> Self {
        Self {
            text: crate::validation::excerpt(text, 64).into_owned(),
            expected,
        }
    }

    fn epoch_seconds(text: &str) -> Self {
        Self::new(
            text,
            "epoch seconds a timestamp can hold (a finite number from -2^63 up to 2^63)",
        )
    }
}

/// 2⁶³, the first `f64` of epoch seconds past what `i64` seconds hold.
const EPOCH_SECONDS_LIMIT: f64 = 9_223_372_036_854_775_808.0;

impl Timestamp {
    /// `secs` seconds and `nanos` nanoseconds after the Unix epoch. Whole seconds in
    /// `nanos` (10⁹ or more) are carried into `secs`; should that overflow `i64`, the
    /// result saturates at the latest representable instant (`i64::MAX` seconds and
    /// 999,999,999 nanoseconds) — it never panics or wraps.
    ///
    /// ```
    /// use kms_types::Timestamp;
    ///
    /// assert_eq!(Timestamp::new(1, 2_500_000_000), Timestamp::new(3, 500_000_000));
    /// let last = Timestamp::new(i64::MAX, 1_000_000_000);
    /// assert_eq!((last.secs(), last.subsec_nanos()), (i64::MAX, 999_999_999));
    /// ```
    pub const fn new(secs: i64, nanos: u32) -> Self {
        match secs.checked_add((nanos / NANOS_PER_SEC) as i64) {
            Some(secs) => Self {
                secs,
                nanos: nanos % NANOS_PER_SEC,
            },
            None => Self {
                secs: i64::MAX,
                nanos: NANOS_PER_SEC - 1,
            },
        }
    }

    /// Whole seconds after the epoch.
    pub const fn from_secs(secs: i64) -> Self {
        Self { secs, nanos: 0 }
    }

    /// Milliseconds after the epoch.
    pub const fn from_millis(millis: i64) -> Self {
        Self {
            secs: millis.div_euclid(1000),
            nanos: (millis.rem_euclid(1000) as u32) * 1_000_000,
        }
    }

    /// The current time.
    pub fn now() -> Self {
        Self::from(SystemTime::now())
    }

    /// Parses epoch seconds from a finite `f64`, keeping the fraction as written
    /// in its shortest decimal form (so `1551129207.775` stays `.775`). Any value from
    /// −2⁶³ up to, not including, 2⁶³ (what `i64` seconds hold, as an integer on the
    /// wire is read) is one.
    pub fn from_epoch_seconds(value: f64) -> Result<Self, TimestampError> {
        // −2⁶³ is `i64::MIN`; every `f64` above it and below 2⁶³ has a whole part that
        // fits in `i64`.
        if !value.is_finite() || !(-EPOCH_SECONDS_LIMIT..EPOCH_SECONDS_LIMIT).contains(&value) {
            return Err(TimestampError::epoch_seconds(&value.to_string()));
        }
        if value == -EPOCH_SECONDS_LIMIT {
            // Exact, where its shortest decimal form (`-9223372036854776000`) is not.
            return Ok(Self::from_secs(i64::MIN));
        }
        let text = format!("{value}");
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.as_str()),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let whole: i128 = whole
            .parse()
            .map_err(|_| TimestampError::epoch_seconds(&text))?;
        let mut nanos: u64 = 0;
        for (i, d) in fraction
            .bytes()
            .chain(std::iter::repeat(b'0'))
            .take(10)
            .enumerate()
        {
            let d = u64::from(d - b'0');
            if i < 9 {
                nanos = nanos * 10 + d;
            } else if d >= 5 {
                nanos += 1;
            }
        }
        let total = whole * i128::from(NANOS_PER_SEC) + i128::from(nanos);
        let total = if negative { -total } else { total };
        let secs = total.div_euclid(i128::from(NANOS_PER_SEC));
        let nanos = total.rem_euclid(i128::from(NANOS_PER_SEC));
        Ok(Self {
            secs: i64::try_from(secs).map_err(|_| TimestampError::epoch_seconds(&text))?,
            nanos: nanos as u32,
        })
    }

    /// Whole seconds after the epoch (rounded towards negative infinity).
    pub const fn secs(&self) -> i64 {
        self.secs
    }

    /// The nanoseconds past [`Timestamp::secs`].
    pub const fn subsec_nanos(&self) -> u32 {
        self.nanos
    }

    /// Epoch seconds as an `f64`, the wire form: the `f64` nearest to the exact value
    /// (`1.118` for 1 s and 118 ms, where adding `0.118` to `1.0` would round twice
    /// and give `1.1179999999999999`). Within 1,024 s of `i64::MAX` seconds, where the
    /// nearest would be 2⁶³ (no timestamp), it is the `f64` below, which reads back.
    pub fn as_epoch_seconds(&self) -> f64 {
        let nearest = self.nearest_epoch_seconds();
        if nearest >= EPOCH_SECONDS_LIMIT {
            return f64::from_bits(EPOCH_SECONDS_LIMIT.to_bits() - 1);
        }
        nearest
    }

    fn nearest_epoch_seconds(&self) -> f64 {
        if self.nanos == 0 {
            return self.secs as f64;
        }
        // Whole milliseconds or microseconds: n and 10³ (10⁶) are exact `f64`s while
        // |n| ≤ 2⁵³, and IEEE division rounds their exact quotient once, to nearest —
        // the same `f64` the decimal text parses to.
        const EXACT: i128 = 1 << 53;
        for (unit, per_sec, divisor) in [(1_000_000, 1_000, 1e3), (1_000, 1_000_000, 1e6)] {
            if self.nanos.is_multiple_of(unit) {
                let n = i128::from(self.secs) * per_sec + i128::from(self.nanos / unit);
                if n.abs() <= EXACT {
                    return n as f64 / divisor;
                }
            }
        }
        self.epoch_seconds_from_text()
    }

    /// [`Timestamp::as_epoch_seconds`] through decimal text, which parses to the nearest
    /// `f64`: the exact value, rounded once. Written on the stack, not allocated.
    fn epoch_seconds_from_text(&self) -> f64 {
        use std::fmt::Write as _;

        let total = i128::from(self.secs) * i128::from(NANOS_PER_SEC) + i128::from(self.nanos);
        let sign = if total < 0 { "-" } else { "" };
        let magnitude = total.unsigned_abs();
        let nanos_per_sec = u128::from(NANOS_PER_SEC);
        let mut text = StackText::default();
        write!(
            text,
            "{sign}{}.{:09}",
            magnitude / nanos_per_sec,
            magnitude % nanos_per_sec
        )
        .expect("an i64 of seconds and 9 digits of fraction fit in 32 bytes");
        text.as_str()
            .parse()
            .expect("a decimal number always parses as an f64")
    }

    /// ISO 8601 / RFC 3339 in UTC, as the AWS CLI prints timestamps:
    /// `2019-02-25T21:13:27.775000+00:00` style is the CLI's; this writes
    /// `2019-02-25T21:13:27.775Z`, with the fraction only when present.
    pub fn to_rfc3339(&self) -> String {
        let DateTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
            nanos,
        } = self.to_date_time();
        let mut out = format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}");
        if nanos != 0 {
            let fraction = format!("{nanos:09}");
            out.push('.');
            out.push_str(fraction.trim_end_matches('0'));
        }
        out.push('Z');
        out
    }

    /// Parses an RFC 3339 date-time — `2026-12-05T03:00:00Z`, with an optional fraction
    /// of a second and a `Z` or `±hh:mm` offset — as the expirations of temporary AWS
    /// credentials are written (instance metadata, container endpoints,
    /// `credential_process`). A lower-case `t`/`z` is accepted, as RFC 3339 allows.
    pub fn parse_rfc3339(text: &str) -> Result<Self, TimestampError> {
        let error =
            || TimestampError::new(text, "an RFC 3339 date-time such as 2026-12-05T03:00:00Z");
        let b = text.as_bytes();
        let separators = b.get(4) == Some(&b'-')
            && b.get(7) == Some(&b'-')
            && matches!(b.get(10), Some(b'T' | b't'))
            && b.get(13) == Some(&b':')
            && b.get(16) == Some(&b':');
        if !separators {
            return Err(error());
        }
        let field = |at: usize, len: usize| decimal(&b[at..at + len]).ok_or_else(error);
        let mut t = DateTime {
            year: i64::from(field(0, 4)?),
            month: field(5, 2)?,
            day: field(8, 2)?,
            hour: field(11, 2)?,
            minute: field(14, 2)?,
            second: b.get(17..19).and_then(decimal).ok_or_else(error)?,
            nanos: 0,
        };
        // Bytes 0..19 are ASCII, so 19 is a character boundary.
        let mut rest = &b[19..];
        if let Some(fraction) = rest.strip_prefix(b".") {
            let len = fraction.iter().take_while(|d| d.is_ascii_digit()).count();
            if len == 0 {
                return Err(error());
            }
            for (i, d) in fraction[..len].iter().take(9).enumerate() {
                t.nanos += u32::from(d - b'0') * 10u32.pow(8 - i as u32);
            }
            rest = &fraction[len..];
        }
        let offset_secs = match rest {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), hh @ .., b':', _, _] if hh.len() == 2 => {
                let hours = decimal(hh).filter(|h| *h < 24).ok_or_else(error)?;
                let minutes = decimal(&rest[4..]).filter(|m| *m < 60).ok_or_else(error)?;
                let secs = i64::from(hours * 3600 + minutes * 60);
                if *sign == b'-' { -secs } else { secs }
            }
            _ => return Err(error()),
        };
        let local = Self::from_date_time(&t).ok_or_else(error)?;
        Ok(Self {
            secs: local.secs - offset_secs,
            nanos: local.nanos,
        })
    }

    /// Parses a credential expiration as botocore reads one (with dateutil's parser, for
    /// `credential_process`, the container endpoint, instance metadata and the SSO token
    /// cache), so that what works with the AWS CLI works here: RFC 3339, the ISO 8601
    /// variants programs write — a space for the `T`, an offset without its colon
    /// (`+0000`, what Python's `%z` writes) or minutes (`+00`), `UTC` or `GMT` for `Z` —
    /// and an HTTP date (`Tue, 01 Jan 2030 00:00:00 GMT`, what JavaScript's
    /// `toUTCString` writes). A date-time without an offset is refused, as the AWS CLI
    /// fails on it ("can't subtract offset-naive and offset-aware datetimes"), and so are
    /// epoch seconds, which dateutil reads as a year.
    pub fn parse_expiration(text: &str) -> Result<Self, TimestampError> {
        let error = || {
            TimestampError::new(
                text,
                "a date-time with its offset such as 2026-12-05T03:00:00Z",
            )
        };
        let trimmed = text.trim();
        if let Ok(t) = Self::parse_http_date(trimmed) {
            return Ok(t);
        }
        let rfc3339 = iso8601_as_rfc3339(trimmed).ok_or_else(error)?;
        Self::parse_rfc3339(&rfc3339).map_err(|_| error())
    }

    /// Parses an HTTP date, RFC 7231's IMF-fixdate (`Sat, 05 Dec 2026 15:46:40 GMT`), as
    /// the SDKs and programs write it: the weekday may be left out, the day may have one
    /// digit, and the zone may be `GMT`, `UTC`, `+0000` or `-0000` (botocore's `Date`
    /// header).
    pub fn parse_http_date(text: &str) -> Result<Self, TimestampError> {
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let error =
            || TimestampError::new(text, "an HTTP date such as Sat, 05 Dec 2026 15:46:40 GMT");
        let rest = text.split_once(", ").map_or(text, |(_, rest)| rest);
        let mut parts = rest.split_ascii_whitespace();
        let mut next = || parts.next().ok_or_else(error);
        let (day, month, year, time, zone) = (next()?, next()?, next()?, next()?, next()?);
        if next().is_ok() || !matches!(zone, "GMT" | "UTC" | "+0000" | "-0000") {
            return Err(error());
        }
        let month = 1 + MONTHS.iter().position(|m| *m == month).ok_or_else(error)?;
        let digits = |s: &str, len: std::ops::RangeInclusive<usize>| {
            len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
        };
        if !digits(day, 1..=2) || !digits(year, 4..=4) || time.len() != 8 {
            return Err(error());
        }
        Self::parse_rfc3339(&format!("{year}-{month:02}-{day:0>2}T{time}Z")).map_err(|_| error())
    }

    /// The UTC calendar date and time of day.
    pub fn to_date_time(&self) -> DateTime {
        let (year, month, day) = civil_from_days(self.secs.div_euclid(86_400));
        let secs_of_day = self.secs.rem_euclid(86_400) as u32;
        DateTime {
            year,
            month,
            day,
            hour: secs_of_day / 3600,
            minute: secs_of_day / 60 % 60,
            second: secs_of_day % 60,
            nanos: self.nanos,
        }
    }

    /// The timestamp of a UTC calendar date and time; `None` when a field is out of
    /// range (month 13, February 30, hour 24, a leap second, nanos ≥ 10⁹, …).
    pub fn from_date_time(t: &DateTime) -> Option<Self> {
        let valid = (1..=12).contains(&t.month)
            && (1..=days_in_month(t.year, t.month)).contains(&t.day)
            && t.hour < 24
            && t.minute < 60
            && t.second < 60
            && t.nanos < NANOS_PER_SEC
            && t.year.abs() < 1_000_000_000;
        valid.then(|| Self {
            secs: days_from_civil(t.year, t.month, t.day) * 86_400
                + i64::from(t.hour * 3600 + t.minute * 60 + t.second),
            nanos: t.nanos,
        })
    }
}

/// A short text written on the stack: a sign, 19 digits, a point and 9 digits at the most.
#[derive(Default)]
struct StackText {
    bytes: [u8; 32],
    len: usize,
}

impl StackText {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).expect("only whole `str`s are written")
    }
}

impl fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        self.bytes
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// A UTC calendar date (proleptic Gregorian) and time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    /// The year (`1970`).
    pub year: i64,
    /// 1 to 12.
    pub month: u32,
    /// 1 to 31.
    pub day: u32,
    /// 0 to 23.
    pub hour: u32,
    /// 0 to 59.
    pub minute: u32,
    /// 0 to 59.
    pub second: u32,
    /// 0 to 999,999,999.
    pub nanos: u32,
}

/// ASCII digits as a number (`None` for an empty slice or any other byte).
/// `YYYY-MM-DD[T ]HH:MM:SS[.fraction]` and an offset (`Z`, `UTC`, `GMT`, `±HH:MM`,
/// `±HHMM`, `±HH`, after an optional space) as RFC 3339; `None` for anything else.
fn iso8601_as_rfc3339(text: &str) -> Option<String> {
    let b = text.as_bytes();
    if b.len() < 20 || !b[..19].is_ascii() || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let digits = b[19..].iter().take_while(|d| d.is_ascii_digit()).count();
    let (date_time, mut rest) = match b[19] {
        b'.' => {
            let len = 1 + b[20..].iter().take_while(|d| d.is_ascii_digit()).count();
            text.split_at(19 + len)
        }
        _ if digits == 0 => text.split_at(19),
        _ => return None,
    };
    rest = rest.strip_prefix(' ').unwrap_or(rest);
    let offset = match rest.as_bytes() {
        [b'Z' | b'z'] => "Z".to_owned(),
        _ if rest.eq_ignore_ascii_case("UTC") || rest.eq_ignore_ascii_case("GMT") => "Z".to_owned(),
        [sign @ (b'+' | b'-'), h1, h2] => {
            format!("{}{}{}:00", *sign as char, *h1 as char, *h2 as char)
        }
        [sign @ (b'+' | b'-'), h1, h2, m1, m2] => format!(
            "{}{}{}:{}{}",
            *sign as char, *h1 as char, *h2 as char, *m1 as char, *m2 as char
        ),
        [b'+' | b'-', _, _, b':', _, _] => rest.to_owned(),
        _ => return None,
    };
    Some(format!("{}T{}{offset}", &date_time[..10], &date_time[11..]))
}

fn decimal(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u32, |n, &d| {
        d.is_ascii_digit()
            .then(|| n.checked_mul(10)?.checked_add(u32::from(d - b'0')))
            .flatten()
    })
}

fn days_in_month(year: i64, month: u32) -> u32 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = (i64::from(month) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl From<SystemTime> for Timestamp {
    fn from(time: SystemTime) -> Self {
        match time.duration_since(UNIX_EPOCH) {
            Ok(d) => Self::new(d.as_secs() as i64, d.subsec_nanos()),
            Err(before) => {
                let d = before.duration();
                let total =
                    -(i128::from(d.as_secs()) * 1_000_000_000 + i128::from(d.subsec_nanos()));
                Self {
                    secs: total.div_euclid(1_000_000_000) as i64,
                    nanos: total.rem_euclid(1_000_000_000) as u32,
                }
            }
        }
    }
}

impl From<Timestamp> for SystemTime {
    fn from(t: Timestamp) -> Self {
        if t.secs >= 0 {
            UNIX_EPOCH + Duration::new(t.secs as u64, t.nanos)
        } else {
            UNIX_EPOCH - Duration::from_secs(t.secs.unsigned_abs())
                + Duration::from_nanos(u64::from(t.nanos))
        }
    }
}

/// [`Timestamp::to_rfc3339`]: `2019-02-25T21:13:27.775Z`.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// [`Timestamp::parse_rfc3339`], so that what [`Display`](fmt::Display) writes — for
/// years 0 to 9999, all RFC 3339 can write — reads back with `parse`:
///
/// ```
/// use kms_types::Timestamp;
///
/// let created = Timestamp::new(1_551_129_207, 775_000_000);
/// let text = created.to_string(); // "2019-02-25T21:13:27.775Z", in your own API or database
/// assert_eq!(text.parse::<Timestamp>(), Ok(created));
/// assert!("1551129207.775".parse::<Timestamp>().is_err()); // epoch seconds: `from_epoch_seconds`
/// ```
impl std::str::FromStr for Timestamp {
    type Err = TimestampError;

    fn from_str(text: &str) -> Result<Self, TimestampError> {
        Self::parse_rfc3339(text)
    }
}

/// A human-readable format (JSON) gets the wire form, epoch seconds: an integer for
/// whole seconds, else an `f64` ([`Timestamp::as_epoch_seconds`]). Any other (bincode)
/// gets the exact value, the pair `(secs, nanos)`, which reads back unchanged.
impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if !serializer.is_human_readable() {
            (self.secs, self.nanos).serialize(serializer)
        } else if self.nanos == 0 {
            serializer.serialize_i64(self.secs)
        } else {
            serializer.serialize_f64(self.as_epoch_seconds())
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    /// From a human-readable format, any finite number of epoch seconds: asked for as an
    /// `f64` rather than "anything", so that serde_json parses the number itself whatever
    /// its features (with `arbitrary_precision`, `deserialize_any` gives a map holding
    /// the text of any number but an integer: `1551129207.775` would not read);
    /// integers are taken exactly. From any other format, the pair `(secs, nanos)` that
    /// [`Serialize`] writes there, nanos below 10⁹.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EpochSeconds;
        impl Visitor<'_> for EpochSeconds {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("epoch seconds as a JSON number")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
                Ok(Timestamp::from_secs(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
                i64::try_from(v)
                    .map(Timestamp::from_secs)
                    .map_err(|_| E::custom(TimestampError::epoch_seconds(&v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Timestamp, E> {
                Timestamp::from_epoch_seconds(v).map_err(E::custom)
            }
        }
        if deserializer.is_human_readable() {
            return deserializer.deserialize_f64(EpochSeconds);
        }
        let (secs, nanos) = <(i64, u32)>::deserialize(deserializer)?;
        if nanos >= NANOS_PER_SEC {
            return Err(de::Error::invalid_value(
                de::Unexpected::Unsigned(u64::from(nanos)),
                &"nanoseconds below 1,000,000,000",
            ));
        }
        Ok(Timestamp { secs, nanos })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Timestamp {
        serde_json::from_str(json).unwrap()
    }

    /// Each form botocore reads in a credential answer (dateutil's parser, checked with
    /// botocore 1.43 and the AWS CLI) is the same instant; a date-time without an
    /// offset and epoch seconds, which the AWS CLI fails on, and anything else are
    /// refused.
    #[test]
    fn an_expiration_is_read_as_botocore_reads_it() {
        let at = Timestamp::parse_rfc3339("2030-01-01T00:00:00Z").unwrap();
        for text in [
            "2030-01-01T00:00:00Z",
            "2030-01-01T00:00:00+00:00",
            "2030-01-01T00:00:00+0000",
            "2030-01-01T00:00:00+00",
            "2030-01-01 00:00:00Z",
            "2030-01-01T00:00:00UTC",
            "2030-01-01T00:00:00 GMT",
            "2030-01-01t00:00:00z",
            "2029-12-31T19:00:00-0500",
            "2030-01-01T01:30:00+01:30",
            " 2030-01-01T00:00:00Z\n",
            "Tue, 01 Jan 2030 00:00:00 GMT",
            "1 Jan 2030 00:00:00 +0000",
        ] {
            assert_eq!(Timestamp::parse_expiration(text), Ok(at), "{text:?}");
        }
        assert_eq!(
            Timestamp::parse_expiration("2030-01-01T00:00:00.123456+0000"),
            Ok(Timestamp::new(at.secs, 123_456_000)),
        );
        for bad in [
            "2030-01-01T00:00:00",
            "2030-01-01T00:00:00.5",
            "2030-01-01T00:00:000Z",
            "2030-01-01T00:00:00+5",
            "2030-01-01T00:00:00+24:00",
            "2030-01-01T00:00:00+00:0",
            "2030-01-01X00:00:00Z",
            "2030-13-01T00:00:00Z",
            "Tue, 01 Jan 2030 00:00:00 PST",
            "Tue, 01 Foo 2030 00:00:00 GMT",
            "soon",
            "",
            ".",
            "1893456000",
            "2030-01-01T00:00:00Zé",
        ] {
            let e = Timestamp::parse_expiration(bad).unwrap_err();
            assert!(e.to_string().contains("offset"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn reads_every_finite_number_form() {
        assert_eq!(parse("1551129207"), Timestamp::from_secs(1_551_129_207));
        assert_eq!(
            parse("1551129207.775"),
            Timestamp::new(1_551_129_207, 775_000_000)
        );
        assert_eq!(
            parse("1.499288695918E9"),
            Timestamp::new(1_499_288_695, 918_000_000)
        );
        assert_eq!(parse("-1.5"), Timestamp::new(-2, 500_000_000));
        assert_eq!(
            serde_json::from_str::<Timestamp>("\"1551129207\"")
                .unwrap_err()
                .to_string(),
            "invalid type: string \"1551129207\", expected epoch seconds as a JSON number at \
             line 1 column 12"
        );
        // As far as an integer on the wire is read, whichever way it is written: `1e18`
        // used to be refused as "not finite" while `1000000000000000000` was read.
        assert_eq!(
            parse("1e18"),
            Timestamp::from_secs(1_000_000_000_000_000_000)
        );
        assert_eq!(
            parse("-9.1e18"),
            Timestamp::from_secs(-9_100_000_000_000_000_000)
        );
        // Up to 2⁶³ (9.22e18), as integers are read.
        assert_eq!(
            parse("9.2e18"),
            Timestamp::from_secs(9_200_000_000_000_000_000)
        );
        assert_eq!(
            parse("-9.2e18"),
            Timestamp::from_secs(-9_200_000_000_000_000_000)
        );
        // The last `f64` below 2⁶³ in magnitude, as its shortest decimal form writes it.
        assert_eq!(
            Timestamp::from_epoch_seconds(-9_223_372_036_854_774_784.0),
            Ok(Timestamp::from_secs(-9_223_372_036_854_775_000))
        );
        assert_eq!(
            serde_json::from_str::<Timestamp>("9.3e18")
                .unwrap_err()
                .to_string(),
            "`9300000000000000000` is not epoch seconds a timestamp can hold (a finite number \
             from -2^63 up to 2^63) at line 1 column 6"
        );
        // −2⁶³ is `i64::MIN` seconds, as the integer `-9223372036854775808` reads;
        // 2⁶³ is past `i64::MAX`.
        assert_eq!(
            parse("-9.223372036854776e18"),
            Timestamp::from_secs(i64::MIN)
        );
        assert!(serde_json::from_str::<Timestamp>("9.223372036854776e18").is_err());
        assert!(serde_json::from_str::<Timestamp>("-9.223372036854778e18").is_err());
        assert!(serde_json::from_str::<Timestamp>("1e300").is_err());
        assert!(Timestamp::from_epoch_seconds(f64::NAN).is_err());
        assert!(Timestamp::from_epoch_seconds(f64::INFINITY).is_err());
    }

    /// Digits past the nanosecond round to the nearest one, half up in magnitude: the
    /// tenth digit of the fraction decides.
    #[test]
    fn digits_past_the_nanosecond_round_to_the_nearest() {
        assert_eq!(parse("0.0000000015"), Timestamp::new(0, 2));
        assert_eq!(parse("0.0000000014"), Timestamp::new(0, 1));
        assert_eq!(parse("1.9999999996"), Timestamp::from_secs(2));
        assert_eq!(parse("-0.0000000015"), Timestamp::new(-1, 999_999_998));
    }

    /// A number as serde_json 1.0 reads it with its `arbitrary_precision` feature (which
    /// Cargo turns on for every crate of a build once any dependency asks for it). An
    /// integer is visited as a `u64` (unsigned) or an `i64` (negative) whichever way it
    /// is asked for, as long as it fits (`-0` is not an integer here); anything else —
    /// a fraction, an exponent, an integer too large — is, from `deserialize_any`, a
    /// one-entry map holding the number's text, and from `deserialize_f64` (serde_json's
    /// `deserialize_number`) an `f64`. Emulated because a feature of serde_json cannot be
    /// turned on for this test alone: in this workspace, it would be on for every crate
    /// and test.
    struct ArbitraryPrecision(&'static str);

    impl ArbitraryPrecision {
        /// Visits the number as an integer when serde_json does, else with `other`.
        fn visit<'de, V: Visitor<'de>>(
            self,
            visitor: V,
            other: fn(V, &'static str) -> Result<V::Value, de::value::Error>,
        ) -> Result<V::Value, de::value::Error> {
            let text = self.0;
            if !text.starts_with('-') {
                if let Ok(n) = text.parse::<u64>() {
                    return visitor.visit_u64(n);
                }
            } else if let Ok(n) = text.parse::<i64>()
                && n != 0
            {
                return visitor.visit_i64(n);
            }
            other(visitor, text)
        }
    }

    impl<'de> Deserializer<'de> for ArbitraryPrecision {
        type Error = de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            self.visit(visitor, |visitor, text| {
                visitor.visit_map(de::value::MapDeserializer::new(std::iter::once((
                    "$serde_json::private::Number",
                    text,
                ))))
            })
        }

        fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            self.visit(visitor, |visitor, text| {
                visitor.visit_f64(text.parse().map_err(de::Error::custom)?)
            })
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map
            struct enum identifier ignored_any
        }
    }

    /// The emulation visits what serde_json 1.0.154 with `arbitrary_precision` visits
    /// (as printed by a build with the feature on): from `deserialize_any` an integer for
    /// integers, the map only for other numbers; from `deserialize_f64` never the map.
    #[test]
    fn the_arbitrary_precision_emulation_visits_what_serde_json_does() {
        struct Visited;
        impl<'de> Visitor<'de> for Visited {
            type Value = String;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_u64<E>(self, v: u64) -> Result<String, E> {
                Ok(format!("u64 {v}"))
            }
            fn visit_i64<E>(self, v: i64) -> Result<String, E> {
                Ok(format!("i64 {v}"))
            }
            fn visit_f64<E>(self, v: f64) -> Result<String, E> {
                Ok(format!("f64 {v:?}"))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<String, A::Error> {
                let (key, text): (String, String) = map.next_entry()?.expect("one entry");
                Ok(format!("map {key} {text}"))
            }
        }
        let number = "map $serde_json::private::Number";
        for (text, any, f64) in [
            ("1551129207", "u64 1551129207", "u64 1551129207"),
            ("0", "u64 0", "u64 0"),
            ("-5", "i64 -5", "i64 -5"),
            (
                "-9223372036854775808",
                "i64 -9223372036854775808",
                "i64 -9223372036854775808",
            ),
            ("-0", &format!("{number} -0"), "f64 -0.0"),
            ("1.5", &format!("{number} 1.5"), "f64 1.5"),
            (
                "18446744073709551616",
                &format!("{number} 18446744073709551616"),
                "f64 1.8446744073709552e19",
            ),
            (
                "-9223372036854775809",
                &format!("{number} -9223372036854775809"),
                "f64 -9.223372036854776e18",
            ),
        ] {
            let visited = ArbitraryPrecision(text).deserialize_any(Visited);
            assert_eq!(visited.as_deref(), Ok(any), "deserialize_any {text}");
            let visited = ArbitraryPrecision(text).deserialize_f64(Visited);
            assert_eq!(visited.as_deref(), Ok(f64), "deserialize_f64 {text}");
        }
    }

    #[test]
    fn reads_numbers_as_serde_json_gives_them_with_arbitrary_precision() {
        let read = |text| Timestamp::deserialize(ArbitraryPrecision(text));
        assert_eq!(read("1551129207"), Ok(Timestamp::from_secs(1_551_129_207)));
        assert_eq!(
            read("1551129207.775"),
            Ok(Timestamp::new(1_551_129_207, 775_000_000))
        );
        assert_eq!(
            read("1.499288695918E9"),
            Ok(Timestamp::new(1_499_288_695, 918_000_000))
        );
        assert_eq!(read("-1.5"), Ok(Timestamp::new(-2, 500_000_000)));
        assert!(read("1e300").is_err());
    }

    /// bincode (not human-readable) gets the exact `(secs, nanos)`: every nanosecond and
    /// every `i64` of seconds round-trip, which an `f64` of epoch seconds cannot carry.
    #[test]
    fn formats_that_are_not_self_describing_round_trip_exactly() {
        for t in [
            Timestamp::from_secs(1_551_129_207),
            Timestamp::new(1_551_129_207, 775_000_000),
            Timestamp::new(-2, 500_000_000),
            Timestamp::new(1_551_129_207, 123_456_789),
            Timestamp::new(1_551_129_207, 1),
            Timestamp::new(-1, 999_999_999),
            Timestamp::from_secs(100_000_000_000_000_001),
            Timestamp::new(-100_000_000_000_000_001, 7),
            Timestamp::new(i64::MAX, 999_999_999),
            Timestamp::new(i64::MIN, 1),
            Timestamp::from_secs(i64::MIN),
        ] {
            let bytes = bincode::serialize(&t).unwrap();
            assert_eq!(bytes.len(), 12, "{t:?}");
            assert_eq!(bincode::deserialize::<Timestamp>(&bytes).unwrap(), t);
        }
        let bad = bincode::serialize(&(0i64, NANOS_PER_SEC)).unwrap();
        let error = bincode::deserialize::<Timestamp>(&bad).unwrap_err();
        assert!(error.to_string().contains("nanoseconds below"), "{error}");
    }

    #[test]
    fn writes_epoch_seconds_keeping_the_fraction() {
        assert_eq!(
            serde_json::to_string(&parse("1551129207.775")).unwrap(),
            "1551129207.775"
        );
        assert_eq!(
            serde_json::to_string(&Timestamp::from_secs(1_551_129_207)).unwrap(),
            "1551129207"
        );
        assert_eq!(
            serde_json::to_string(&parse("1.499288695918E9")).unwrap(),
            "1499288695.918"
        );
    }

    /// Every timestamp, even at the ends of `i64` seconds, is written as a number that
    /// reads back, as near to it as an `f64` can be (its spacing there is 2,048 s).
    #[test]
    fn writes_what_reads_back_at_the_ends_of_the_range() {
        for written in [
            Timestamp::new(i64::MAX, 999_999_999),
            Timestamp::new(i64::MAX - 100, 5),
            Timestamp::new(i64::MAX - 1_100, 5),
            Timestamp::new(i64::MIN, 1),
            Timestamp::new(i64::MIN + 1_000, 999_999_999),
        ] {
            let json = serde_json::to_string(&written).unwrap();
            let read: Timestamp = serde_json::from_str(&json)
                .unwrap_or_else(|e| panic!("{written:?} written as {json}: {e}"));
            let gap = (i128::from(read.secs()) - i128::from(written.secs())).abs();
            assert!(
                gap <= 2_048,
                "{written:?} written as {json}, read as {read:?}"
            );
        }
    }

    /// Every millisecond of some seconds, near the epoch and at realistic dates, is
    /// written as its own decimal: the `f64` nearest to it, in its shortest form.
    #[test]
    fn writes_each_millisecond_as_its_decimal() {
        for secs in [
            0,
            1,
            -1,
            -2,
            59,
            1_551_129_207,
            1_700_000_000,
            1_767_225_599,
            2_147_483_647,
            4_102_444_799,
            253_402_300_799,
        ] {
            for millis in 0..1000u32 {
                let t = Timestamp::new(secs, millis * 1_000_000);
                let total = secs * 1000 + i64::from(millis);
                let sign = if total < 0 { "-" } else { "" };
                let (whole, fraction) = (total.unsigned_abs() / 1000, total.unsigned_abs() % 1000);
                let expected = if fraction == 0 {
                    format!("{sign}{whole}")
                } else {
                    let fraction = format!("{fraction:03}");
                    format!("{sign}{whole}.{}", fraction.trim_end_matches('0'))
                };
                let json = serde_json::to_string(&t).unwrap();
                assert_eq!(json, expected, "{secs} s {millis} ms");
                assert_eq!(parse(&json), t, "{json}");
            }
        }
        assert_eq!(
            serde_json::to_string(&Timestamp::new(1, 118_000_000)).unwrap(),
            "1.118"
        );
    }

    /// The whole-millisecond and whole-microsecond fast paths of `as_epoch_seconds` give
    /// the very `f64` the decimal text parses to: every millisecond of some seconds,
    /// many microseconds, and values on both sides of the 2⁵³ limits.
    #[test]
    fn epoch_seconds_fast_paths_match_the_decimal_text() {
        let check = |t: Timestamp| {
            assert_eq!(
                t.as_epoch_seconds().to_bits(),
                t.epoch_seconds_from_text().to_bits(),
                "{} s {} ns",
                t.secs,
                t.nanos
            );
        };
        const MS_LIMIT: i64 = (1 << 53) / 1_000;
        const US_LIMIT: i64 = (1 << 53) / 1_000_000;
        let mut seconds = vec![
            0,
            1,
            -1,
            -2,
            59,
            1_551_129_207,
            1_767_225_599,
            2_147_483_647,
            4_102_444_799,
            253_402_300_799,
            -62_135_596_800,
        ];
        for limit in [MS_LIMIT, US_LIMIT] {
            for delta in -2..=2 {
                seconds.extend([limit + delta, -limit + delta]);
            }
        }
        for &secs in &seconds {
            for millis in 0..1000 {
                check(Timestamp::new(secs, millis * 1_000_000));
            }
            // Every microsecond of the first and last millisecond, a stride through
            // the rest.
            for micros in (0..1000)
                .chain(999_000..1_000_000)
                .chain((0..1_000_000).step_by(997))
            {
                check(Timestamp::new(secs, micros * 1000));
            }
        }
        // Pseudo-random seconds (within ±2⁴⁰) and microseconds.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..200_000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let secs = (state >> 24) as i64 - (1 << 39);
            let micros = (state % 1_000_000) as u32;
            check(Timestamp::new(secs, micros * 1000));
            check(Timestamp::new(secs, (micros % 1000) * 1_000_000));
        }
    }

    /// What is written reads back to a value written the same: serde_json parses
    /// numbers exactly (`float_roundtrip`); without it, 1 in 6 of these read a ulp off
    /// (`1938584044.6737242` read back as `.673724`).
    #[test]
    fn the_wire_form_reads_back_to_itself() {
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..100_000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let t = Timestamp::new(
                1_000_000_000 + (state >> 34) as i64,
                (state % 10_000_000) as u32 * 100,
            );
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(serde_json::to_string(&parse(&json)).unwrap(), json, "{t:?}");
        }
        assert_eq!(parse("1938584044.6737242").subsec_nanos(), 673_724_200);
    }

    #[test]
    fn new_carries_and_saturates_instead_of_overflowing() {
        let below_carry = Timestamp::new(5, 999_999_999);
        assert_eq!(
            (below_carry.secs(), below_carry.subsec_nanos()),
            (5, 999_999_999)
        );
        let carried = Timestamp::new(5, 1_000_000_001);
        assert_eq!((carried.secs(), carried.subsec_nanos()), (6, 1));
        assert_eq!(Timestamp::new(-1, 4_000_000_000), Timestamp::new(3, 0));
        let last = Timestamp::new(i64::MAX, 999_999_999);
        assert_eq!(Timestamp::new(i64::MAX, 1_000_000_000), last);
        assert_eq!(Timestamp::new(i64::MAX, u32::MAX), last);
        assert_eq!(Timestamp::new(i64::MAX - 3, u32::MAX), last);
        assert_eq!(
            Timestamp::new(i64::MAX - 4, u32::MAX),
            Timestamp::new(i64::MAX, 294_967_295)
        );
    }

    #[test]
    fn the_wire_form_is_an_f64_so_sub_microsecond_digits_are_lost() {
        let t = Timestamp::new(1_551_129_207, 123_456_789);
        assert_eq!(serde_json::to_string(&t).unwrap(), "1551129207.1234567");
        assert_eq!(parse("1551129207.1234567").subsec_nanos(), 123_456_700);
        let tiny = Timestamp::new(1_551_129_207, 1);
        assert_eq!(serde_json::to_string(&tiny).unwrap(), "1551129207.0");
        for millis in [1, 775, 918, 999] {
            let t = Timestamp::new(1_551_129_207, millis * 1_000_000);
            assert_eq!(parse(&serde_json::to_string(&t).unwrap()), t);
        }
    }

    #[test]
    fn from_millis_splits_seconds_and_nanoseconds() {
        assert_eq!(
            Timestamp::from_millis(1_499_288_695_918),
            Timestamp::new(1_499_288_695, 918_000_000)
        );
        assert_eq!(Timestamp::from_millis(-1), Timestamp::new(-1, 999_000_000));
        assert_eq!(Timestamp::from_millis(3_000), Timestamp::from_secs(3));
    }

    /// Every month's name reads, and an HTTP date has whole seconds: no fraction.
    #[test]
    fn parses_http_dates() {
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        for (i, month) in MONTHS.iter().enumerate() {
            assert_eq!(
                Timestamp::parse_http_date(&format!("05 {month} 2026 15:46:40 GMT")),
                Timestamp::parse_rfc3339(&format!("2026-{:02}-05T15:46:40Z", i + 1)),
                "{month}"
            );
        }
        let e = Timestamp::parse_http_date("Tue, 01 Jan 2030 00:00:00.5 GMT").unwrap_err();
        assert!(e.to_string().contains("is not an HTTP date"), "{e}");
    }

    #[test]
    fn rfc3339() {
        assert_eq!(Timestamp::from_secs(0).to_rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(
            parse("1551129207.775").to_rfc3339(),
            "2019-02-25T21:13:27.775Z"
        );
        assert_eq!(
            Timestamp::from_secs(951_782_400).to_rfc3339(),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            Timestamp::from_secs(-1).to_rfc3339(),
            "1969-12-31T23:59:59Z"
        );
    }

    /// A peer's megabyte of text is not quoted back whole (a `credential_process` printed a
    /// 5 MB `Expiration`; the error was 5 MB).
    #[test]
    fn an_error_quotes_at_most_64_characters() {
        let long = "2".repeat(5_000_000);
        let message = Timestamp::parse_rfc3339(&long).unwrap_err().to_string();
        assert!(
            message.starts_with(&format!("`{}…` is not", "2".repeat(64))),
            "{message:.200}"
        );
        assert!(message.len() < 200, "{message:.200}");
        let short = Timestamp::parse_rfc3339("yesterday")
            .unwrap_err()
            .to_string();
        assert!(short.starts_with("`yesterday` is not"), "{short}");
    }

    #[test]
    fn parses_rfc3339() {
        let p = Timestamp::parse_rfc3339;
        assert_eq!(p("1970-01-01T00:00:00Z"), Ok(Timestamp::from_secs(0)));
        assert_eq!(
            p("2019-02-25T21:13:27.775Z"),
            Ok(Timestamp::new(1_551_129_207, 775_000_000))
        );
        // Lower case, and digits past nanoseconds dropped.
        assert_eq!(
            p("2019-02-25t21:13:27.7750000009z"),
            Ok(Timestamp::new(1_551_129_207, 775_000_000))
        );
        // Offsets: the same instant.
        assert_eq!(
            p("2019-02-25T23:43:27+02:30"),
            Ok(Timestamp::from_secs(1_551_129_207))
        );
        assert_eq!(
            p("2019-02-25T20:13:27-01:00"),
            Ok(Timestamp::from_secs(1_551_129_207))
        );
        assert_eq!(
            p("2000-02-29T00:00:00Z"),
            Ok(Timestamp::from_secs(951_782_400))
        );
        for bad in [
            "",
            "2019-02-25",
            "2019-02-25T21:13:27",
            "2019-02-25 21:13:27Z",
            "2019-02-25T21:13:27.Z",
            "2019-02-25T21:13:27+0200",
            "2019-02-25T21:13:27+02:3",
            "2019-02-25T21:13:27+2:30",
            "2019-02-25T21:13:27+24:00",
            "2019-02-25T21:13:27+02:60",
            "2019-02-30T21:13:27Z",
            "2019-02-25T24:00:00Z",
            "2019-02-25T21:60:27Z",
            "2019-02-25T21:13:60Z",
            "2019-02-25T21:13:27Zjunk",
            "+019-02-25T21:13:27Z",
            "2019-02-25T21:13:2\u{e9}Z",
            "2019-02-25T21:13:\u{e9}Z",
        ] {
            let e = p(bad).unwrap_err();
            assert!(
                e.to_string().contains("is not an RFC 3339 date-time"),
                "{bad}: {e}"
            );
        }
        // What this type writes reads back.
        let t = Timestamp::new(1_700_000_000, 123_000_000);
        assert_eq!(p(&t.to_rfc3339()), Ok(t));
    }

    /// `Display` and `FromStr` are each other's inverse: a timestamp a program printed
    /// (to its logs, its own API, a database) is read back with `parse`.
    #[test]
    fn what_display_writes_parses_back() {
        for t in [
            Timestamp::from_secs(0),
            Timestamp::new(1_551_129_207, 775_000_000),
            Timestamp::new(1_700_000_000, 123_456_789),
            Timestamp::new(-1, 1),
            Timestamp::from_secs(253_402_300_799),
        ] {
            assert_eq!(t.to_string().parse::<Timestamp>(), Ok(t), "{t}");
        }
        let e = "yesterday".parse::<Timestamp>().unwrap_err();
        assert!(
            e.to_string().contains("is not an RFC 3339 date-time"),
            "{e}"
        );
    }

    #[test]
    fn system_time_round_trip() {
        let t = Timestamp::new(1_700_000_000, 123_456_789);
        assert_eq!(Timestamp::from(SystemTime::from(t)), t);
        let before = Timestamp::new(-5, 250_000_000);
        assert_eq!(Timestamp::from(SystemTime::from(before)), before);
    }

    /// Day after day across four centuries (1600 to 2400: leap centuries and not, and
    /// the 1st of March after them, where the calendar arithmetic is most delicate), the
    /// date is the day after the one before, and reads back.
    #[test]
    fn every_day_follows_the_one_before() {
        let first = Timestamp::parse_rfc3339("1600-01-01T00:00:00Z").unwrap();
        let mut before = first.to_date_time();
        assert_eq!((before.year, before.month, before.day), (1600, 1, 1));
        for day in 1..=292_194 {
            let t = Timestamp::from_secs(first.secs() + day * 86_400);
            let date = t.to_date_time();
            let expected = if before.day < days_in_month(before.year, before.month) {
                (before.year, before.month, before.day + 1)
            } else if before.month < 12 {
                (before.year, before.month + 1, 1)
            } else {
                (before.year + 1, 1, 1)
            };
            assert_eq!((date.year, date.month, date.day), expected, "{t:?}");
            assert_eq!(Timestamp::from_date_time(&date), Some(t));
            before = date;
        }
        assert_eq!((before.year, before.month, before.day), (2400, 1, 1));
    }

    #[test]
    fn date_times_round_trip() {
        for secs in [
            0,
            951_782_400,
            1_440_938_160,
            4_102_444_799,
            -1,
            -62_135_596_800,
            253_402_300_799,
        ] {
            let t = Timestamp::new(secs, 123_456_789);
            assert_eq!(
                Timestamp::from_date_time(&t.to_date_time()),
                Some(t),
                "{secs}"
            );
        }
        let leap_day = Timestamp::from_secs(951_782_400).to_date_time();
        assert_eq!((leap_day.year, leap_day.month, leap_day.day), (2000, 2, 29));
        let dt = |year, month, day, hour| DateTime {
            year,
            month,
            day,
            hour,
            minute: 0,
            second: 0,
            nanos: 0,
        };
        assert_eq!(Timestamp::from_date_time(&dt(1900, 2, 29, 0)), None);
        assert_eq!(Timestamp::from_date_time(&dt(2023, 4, 31, 0)), None);
        assert_eq!(Timestamp::from_date_time(&dt(2023, 13, 1, 0)), None);
        assert_eq!(Timestamp::from_date_time(&dt(2023, 1, 0, 0)), None);
        assert_eq!(Timestamp::from_date_time(&dt(2023, 1, 1, 24)), None);
        assert!(Timestamp::from_date_time(&dt(2024, 2, 29, 23)).is_some());
        let minute_60 = DateTime {
            minute: 60,
            ..dt(2023, 1, 1, 0)
        };
        assert_eq!(Timestamp::from_date_time(&minute_60), None);
        let nanos_10e9 = DateTime {
            nanos: NANOS_PER_SEC,
            ..dt(2023, 1, 1, 0)
        };
        assert_eq!(Timestamp::from_date_time(&nanos_10e9), None);
        // Years up to ±999,999,999.
        for year in [999_999_999, -999_999_999] {
            assert!(
                Timestamp::from_date_time(&dt(year, 1, 1, 0)).is_some(),
                "{year}"
            );
        }
        for year in [1_000_000_000, -1_000_000_000] {
            assert_eq!(
                Timestamp::from_date_time(&dt(year, 1, 1, 0)),
                None,
                "{year}"
            );
        }
    }
}
