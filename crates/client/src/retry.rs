//! Retry policy for KMS calls, as the AWS SDKs' standard retry mode: AWS-SDK-style
//! error classification, capped exponential backoff with full jitter (1 s, 2 s, 4 s …
//! caps), a retry quota shared by a client and its clones, and a deadline-aware retry
//! loop.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// How many times to try a request and how long to wait between tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryConfig {
    /// Total number of attempts, *including* the first one. `0` is treated as `1`.
    pub max_attempts: u32,
    /// Upper bound of the first backoff (before attempt 2).
    pub initial_backoff: Duration,
    /// No single backoff ever exceeds this.
    pub max_backoff: Duration,
}

/// The AWS SDKs' standard mode: 3 attempts, backoff caps of 1 s, 2 s, 4 s … up to 20 s
/// (botocore's `rand() * min(2^(attempt-1), 20)` seconds; aws-sdk-rust's defaults).
impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(20),
        }
    }
}

/// The standard retry mode's retry quota (the AWS SDKs' token bucket, as botocore keeps
/// it), shared by a client and its clones: it starts with [`RetryQuota::INITIAL`]
/// tokens; a retry takes [`RetryQuota::RETRY_COST`] of them
/// ([`RetryQuota::TIMEOUT_RETRY_COST`] after a timeout), and is not made when too few
/// are left — the call then fails with its last error at once. A call that succeeds
/// gives back what its last retry took, or one token when it needed none. So while a service keeps failing,
/// a busy client soon stops multiplying its load by retrying, and starts again as calls
/// succeed.
#[derive(Debug)]
pub struct RetryQuota {
    available: AtomicU32,
    max: u32,
}

impl Default for RetryQuota {
    fn default() -> Self {
        Self::new(Self::INITIAL)
    }
}

impl RetryQuota {
    /// The tokens a quota starts with, and holds at most (the SDKs' 500).
    pub const INITIAL: u32 = 500;
    /// What a retry takes.
    pub const RETRY_COST: u32 = 5;
    /// What a retry after a timeout takes.
    pub const TIMEOUT_RETRY_COST: u32 = 10;

    /// A quota of `tokens` (at most, and at first).
    pub fn new(tokens: u32) -> Self {
        Self {
            available: AtomicU32::new(tokens),
            max: tokens,
        }
    }

    /// The tokens left.
    pub fn available(&self) -> u32 {
        self.available.load(Ordering::Relaxed)
    }

    /// Takes `cost` tokens if there are that many.
    fn acquire(&self, cost: u32) -> bool {
        self.available
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(cost))
            .is_ok()
    }

    /// Gives back `tokens`, up to the maximum.
    fn release(&self, tokens: u32) {
        let _ = self
            .available
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                Some(n.saturating_add(tokens).min(self.max))
            });
    }
}

impl RetryConfig {
    /// A policy that makes exactly one attempt.
    pub fn disabled() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The cap used for the backoff after failed attempt number `attempt`
    /// (1-based; `0` is treated as `1`): `min(max_backoff, initial_backoff * 2^(attempt-1))`.
    pub fn backoff_cap(&self, attempt: u32) -> Duration {
        let exp = attempt.max(1) - 1;
        let grown = 2u32
            .checked_pow(exp)
            .and_then(|factor| self.initial_backoff.checked_mul(factor))
            .unwrap_or(Duration::MAX);
        grown.min(self.max_backoff)
    }

    /// Full jitter: a uniformly random duration in
    /// `[0, min(max_backoff, initial_backoff * 2^(attempt-1))]`, where `attempt`
    /// is the 1-based number of the attempt that just failed, drawn from `random`,
    /// a uniformly random `u64` (such as [`random_u64`]'s).
    pub fn backoff(&self, attempt: u32, random: u64) -> Duration {
        let cap = self.backoff_cap(attempt);
        let cap_nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
        // Multiply-shift maps the u64 onto [0, cap_nanos] evenly.
        let nanos = (u128::from(random) * (u128::from(cap_nanos) + 1)) >> 64;
        Duration::from_nanos(nanos as u64)
    }
}

/// Why a failed request may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetryKind {
    /// The service asked us to slow down.
    Throttling,
    /// The service failed (500, 502, 503, 504 or `KMSInternalException`).
    ServerFault,
    /// Connection problems and timeouts.
    Transient,
}

const THROTTLING_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

const TRANSIENT_CODES: &[&str] = &["RequestTimeout", "RequestTimeoutException", "InternalError"];

/// Error codes are sanitized as `../shared/PROTOCOL.md` says, by the shared helper in kms-types:
/// `com.amazonaws.kms#ThrottlingException:http://...` → `ThrottlingException`.
use kms_types::aws_json::sanitize_error_code as sanitize_code;

/// Classify a failed response like the AWS SDKs do.
///
/// The error code (from `__type` / `x-amzn-ErrorType`, namespace prefixes are
/// tolerated) is checked first, so e.g. `SlowDown` on a 503 is `Throttling`
/// and `InternalError` on a 500 is `Transient`; then `KMSInternalException`
/// or a [transient status](is_transient_status) is `ServerFault`. Everything else
/// (validation, authentication, not-found, 501 Not Implemented, 505, ...) is not
/// retryable.
pub fn classify(status: u16, code: Option<&str>) -> Option<RetryKind> {
    if let Some(code) = code.map(sanitize_code) {
        if THROTTLING_CODES.contains(&code) {
            return Some(RetryKind::Throttling);
        }
        if TRANSIENT_CODES.contains(&code) {
            return Some(RetryKind::Transient);
        }
        if code == "KMSInternalException" {
            return Some(RetryKind::ServerFault);
        }
    }
    is_transient_status(status).then_some(RetryKind::ServerFault)
}

/// The statuses the AWS SDKs' standard mode retries whatever the error
/// (botocore's and smithy-rs' transient status codes): 500, 502, 503 and 504. Other
/// 5xx (501 Not Implemented, 505, 507 …) would come again and are not retried.
pub fn is_transient_status(status: u16) -> bool {
    matches!(status, 500 | 502 | 503 | 504)
}

/// Run `attempt_fn` up to `cfg.max_attempts` times (it receives the 1-based
/// attempt number), sleeping a jittered backoff between attempts.
///
/// Stops at the first success, at the first error for which `is_retryable`
/// is false, or after the last attempt; in each failure case the error of the
/// last attempt is returned. The whole loop never runs past `total` (measured
/// from the call): if the backoff sleep would reach the deadline, no further
/// attempt could start in time, so the last error is returned immediately
/// instead of sleeping. An attempt already in flight is not cancelled; bound
/// each attempt yourself (e.g. `tokio::time::timeout`) if it can hang.
///
/// The returned future is `Send` when `F`, `Fut`, `T`, `E` and the predicate are.
pub async fn run<T, E, F, Fut>(
    cfg: &RetryConfig,
    total: Duration,
    attempt_fn: F,
    is_retryable: impl Fn(&E) -> bool,
) -> Result<T, E>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let unlimited = RetryQuota::new(u32::MAX);
    run_with_quota(cfg, total, &unlimited, attempt_fn, |e| {
        is_retryable(e).then_some(0)
    })
    .await
}

/// [`run`], drawing each retry from `quota`: `retry_cost` says what retrying after an
/// error takes (`None`: the error is not retried). When the quota has too few tokens
/// left, the last error is returned without retrying; a success gives back what its
/// last retry took, or one token when it needed none.
pub async fn run_with_quota<T, E, F, Fut>(
    cfg: &RetryConfig,
    total: Duration,
    quota: &RetryQuota,
    mut attempt_fn: F,
    retry_cost: impl Fn(&E) -> Option<u32>,
) -> Result<T, E>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    // What the last retry took, given back on success.
    let mut last_cost = None;
    let start = tokio::time::Instant::now();
    let deadline = start.checked_add(total);
    let max_attempts = cfg.max_attempts.max(1);
    let mut attempt = 1u32;
    loop {
        let err = match attempt_fn(attempt).await {
            Ok(value) => {
                quota.release(last_cost.unwrap_or(1));
                return Ok(value);
            }
            Err(err) => err,
        };
        let Some(cost) = retry_cost(&err).filter(|_| attempt < max_attempts) else {
            return Err(err);
        };
        let delay = cfg.backoff(attempt, random_u64());
        if let Some(deadline) = deadline {
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            // tokio's timer wakes on whole milliseconds, so a sleep may overrun by
            // up to one: do not start an attempt that close to the deadline.
            if delay + Duration::from_millis(1) >= remaining {
                return Err(err);
            }
        }
        if !quota.acquire(cost) {
            return Err(err);
        }
        last_cost = Some(cost);
        tokio::time::sleep(delay).await;
        attempt += 1;
    }
}

/// A uniformly random `u64` for jitter and invocation ids (not for secrets): a
/// process-wide counter hashed with SipHash under the standard library's randomly
/// keyed `RandomState`, so no RNG crate is needed.
pub fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::rc::Rc;

    /// SplitMix64: a seeded stream of uniformly distributed `u64`s for the tests.
    struct SplitMix(u64);

    impl SplitMix {
        fn seeded(seed: u64) -> Self {
            Self(seed)
        }

        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
    }

    #[test]
    fn defaults_and_disabled() {
        let d = RetryConfig::default();
        assert_eq!(d.max_attempts, 3);
        assert_eq!(d.initial_backoff, Duration::from_secs(1));
        assert_eq!(d.max_backoff, Duration::from_secs(20));
        assert_eq!(RetryConfig::disabled().max_attempts, 1);
    }

    #[test]
    fn backoff_cap_grows_then_saturates() {
        // The standard mode's caps: 1 s, 2 s, 4 s … 20 s.
        let c = RetryConfig::default();
        assert_eq!(c.backoff_cap(0), Duration::from_secs(1));
        assert_eq!(c.backoff_cap(1), Duration::from_secs(1));
        assert_eq!(c.backoff_cap(2), Duration::from_secs(2));
        assert_eq!(c.backoff_cap(3), Duration::from_secs(4));
        assert_eq!(c.backoff_cap(5), Duration::from_secs(16));
        assert_eq!(c.backoff_cap(6), Duration::from_secs(20));
        assert_eq!(c.backoff_cap(40), Duration::from_secs(20));
        assert_eq!(c.backoff_cap(u32::MAX), Duration::from_secs(20));
        let huge = RetryConfig {
            max_attempts: 3,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::MAX,
        };
        assert_eq!(huge.backoff_cap(200), Duration::MAX);
        let mut rng = SplitMix::seeded(1);
        let _ = huge.backoff(200, rng.next()); // must not panic
    }

    #[test]
    fn backoff_bounds_growth_and_full_range() {
        let c = RetryConfig::default();
        let mut rng = SplitMix::seeded(42);
        const N: usize = 20_000;
        let mut prev_mean = 0.0f64;
        for attempt in 1..=12u32 {
            let cap = c.backoff_cap(attempt);
            let samples: Vec<Duration> = (0..N).map(|_| c.backoff(attempt, rng.next())).collect();
            assert!(
                samples.iter().all(|s| *s <= cap),
                "attempt {attempt} above cap"
            );
            assert!(samples.iter().all(|s| *s <= c.max_backoff));
            let mean = samples.iter().map(|s| s.as_secs_f64()).sum::<f64>() / N as f64;
            let expected = cap.as_secs_f64() / 2.0;
            assert!(
                (mean - expected).abs() < expected * 0.05,
                "attempt {attempt}: mean {mean} vs {expected}"
            );
            if cap < c.max_backoff {
                assert!(mean > prev_mean * 1.8, "attempt {attempt} did not grow");
            } else {
                assert!(mean >= prev_mean * 0.95);
            }
            prev_mean = mean;
            // full range: every tenth of [0, cap] is hit, including both ends
            let mut buckets = [0usize; 10];
            for s in &samples {
                let b = ((s.as_secs_f64() / cap.as_secs_f64()) * 10.0) as usize;
                buckets[b.min(9)] += 1;
            }
            assert!(buckets.iter().all(|&n| n > N / 20), "{buckets:?}");
            let min = samples.iter().min().unwrap().as_secs_f64();
            let max = samples.iter().max().unwrap().as_secs_f64();
            assert!(min < cap.as_secs_f64() * 0.001);
            assert!(max > cap.as_secs_f64() * 0.999);
        }
    }

    #[test]
    fn backoff_ends_of_the_range() {
        let c = RetryConfig::default();
        assert_eq!(c.backoff(3, 0), Duration::ZERO);
        assert_eq!(c.backoff(3, u64::MAX), c.backoff_cap(3));
        assert_eq!(c.backoff(3, u64::MAX / 2), c.backoff_cap(3) / 2);
    }

    #[test]
    fn random_u64_differs_and_spreads() {
        let samples: Vec<u64> = (0..10_000).map(|_| random_u64()).collect();
        let distinct: std::collections::BTreeSet<_> = samples.iter().collect();
        assert_eq!(distinct.len(), samples.len());
        for bit in [0, 31, 63] {
            let set = samples.iter().filter(|v| *v >> bit & 1 == 1).count();
            assert!((4_500..5_500).contains(&set), "bit {bit} set {set} times");
        }
    }

    #[test]
    fn zero_backoff_is_zero() {
        let c = RetryConfig {
            max_attempts: 3,
            initial_backoff: Duration::ZERO,
            max_backoff: Duration::from_secs(1),
        };
        let mut rng = SplitMix::seeded(7);
        assert_eq!(c.backoff(5, rng.next()), Duration::ZERO);
    }

    /// A retry takes its cost from the quota and is not made when too few tokens are
    /// left; a success gives back what its retries took, or one token.
    #[tokio::test]
    async fn the_retry_quota_limits_retries_and_refills_on_success() {
        let cfg = RetryConfig {
            max_attempts: 10,
            initial_backoff: Duration::ZERO,
            max_backoff: Duration::ZERO,
        };
        let quota = RetryQuota::new(12);
        let calls = Cell::new(0u32);
        let failing = |_| {
            calls.set(calls.get() + 1);
            async { Err::<(), _>("down") }
        };
        let out = run_with_quota(&cfg, Duration::from_secs(60), &quota, failing, |_| Some(5)).await;
        assert_eq!(out, Err("down"));
        // Two retries took 10 tokens; a third would need 5 of the 2 left.
        assert_eq!((calls.get(), quota.available()), (3, 2));

        // A first-attempt success gives back one token.
        let ok = run_with_quota(
            &cfg,
            Duration::from_secs(60),
            &quota,
            |_| async { Ok::<_, &str>(()) },
            |_| Some(5),
        )
        .await;
        assert_eq!((ok, quota.available()), (Ok(()), 3));

        // A success after retries gives back what the last retry took.
        let quota = RetryQuota::new(30);
        let costs = [10, 3];
        let twice = |attempt: u32| async move { if attempt < 3 { Err(attempt) } else { Ok(()) } };
        let cost_of = |&attempt: &u32| Some(costs[attempt as usize - 1]);
        let ok = run_with_quota(&cfg, Duration::from_secs(60), &quota, twice, cost_of).await;
        assert_eq!((ok, quota.available()), (Ok(()), 30 - 10 - 3 + 3));
        // Never past the maximum.
        let quota = RetryQuota::new(12);
        let once = |attempt: u32| async move { if attempt == 1 { Err("blip") } else { Ok(()) } };
        let ok = run_with_quota(&cfg, Duration::from_secs(60), &quota, once, |_| Some(10)).await;
        assert_eq!((ok, quota.available()), (Ok(()), 12));
        // Errors that are not retried take nothing.
        let out = run_with_quota(
            &cfg,
            Duration::from_secs(60),
            &quota,
            |_| async { Err::<(), _>("no") },
            |_| None,
        )
        .await;
        assert_eq!((out, quota.available()), (Err("no"), 12));
    }

    #[test]
    fn classify_table() {
        use RetryKind::*;
        for code in THROTTLING_CODES {
            assert_eq!(classify(400, Some(code)), Some(Throttling), "{code}");
        }
        let cases: &[(u16, Option<&str>, Option<RetryKind>)] = &[
            (400, Some("ThrottlingException"), Some(Throttling)),
            (503, Some("SlowDown"), Some(Throttling)),
            (429, Some("TooManyRequestsException"), Some(Throttling)),
            (
                400,
                Some("com.amazonaws.kms#ThrottlingException"),
                Some(Throttling),
            ),
            (
                400,
                Some("ThrottlingException:http://internal.amazon.com/"),
                Some(Throttling),
            ),
            (500, Some("KMSInternalException"), Some(ServerFault)),
            (400, Some("KMSInternalException"), Some(ServerFault)),
            (500, None, Some(ServerFault)),
            (502, None, Some(ServerFault)),
            (503, Some("ServiceUnavailable"), Some(ServerFault)),
            (504, None, Some(ServerFault)),
            (599, Some("Whatever"), None),
            (501, None, None),
            (505, None, None),
            (507, Some("InsufficientStorage"), None),
            (511, None, None),
            (999, None, None),
            (408, Some("RequestTimeout"), Some(Transient)),
            (400, Some("RequestTimeoutException"), Some(Transient)),
            (500, Some("InternalError"), Some(Transient)),
            (400, Some("ValidationException"), None),
            (400, Some("InvalidCiphertextException"), None),
            (400, Some("NotFoundException"), None),
            (400, Some("DisabledException"), None),
            (400, Some("KMSInvalidStateException"), None),
            (403, Some("AccessDeniedException"), None),
            (400, Some("UnrecognizedClientException"), None),
            (400, Some("IncompleteSignature"), None),
            (400, Some("throttlingexception"), None), // codes are case-sensitive
            (400, None, None),
            (404, None, None),
            (499, None, None),
            (200, None, None),
        ];
        for (status, code, want) in cases {
            assert_eq!(classify(*status, *code), *want, "{status} {code:?}");
        }
    }

    #[derive(Debug, PartialEq)]
    enum TestErr {
        Throttled(u32),
        Fault(u32),
        Invalid(u32),
    }

    fn retryable(e: &TestErr) -> bool {
        !matches!(e, TestErr::Invalid(_))
    }

    fn cfg(max_attempts: u32) -> RetryConfig {
        RetryConfig {
            max_attempts,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(20),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn succeeds_after_two_throttles() {
        let calls = Rc::new(Cell::new(Vec::new()));
        let c = calls.clone();
        let start = tokio::time::Instant::now();
        let out = run(
            &cfg(3),
            Duration::from_secs(60),
            move |n| {
                let c = c.clone();
                async move {
                    let mut v = c.take();
                    v.push(n);
                    c.set(v);
                    if n < 3 {
                        Err(TestErr::Throttled(n))
                    } else {
                        Ok("done")
                    }
                }
            },
            retryable,
        )
        .await;
        assert_eq!(out, Ok("done"));
        assert_eq!(calls.take(), vec![1, 2, 3]);
        // slept at most 100ms + 200ms
        assert!(start.elapsed() <= Duration::from_millis(300));
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_three_server_faults_with_last_error() {
        let count = Cell::new(0u32);
        let out: Result<(), _> = run(
            &cfg(3),
            Duration::from_secs(60),
            |n| {
                count.set(count.get() + 1);
                async move { Err(TestErr::Fault(n)) }
            },
            retryable,
        )
        .await;
        assert_eq!(out, Err(TestErr::Fault(3)));
        assert_eq!(count.get(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn never_retries_non_retryable() {
        let count = Cell::new(0u32);
        let start = tokio::time::Instant::now();
        let out: Result<(), _> = run(
            &cfg(5),
            Duration::from_secs(60),
            |n| {
                count.set(count.get() + 1);
                async move { Err(TestErr::Invalid(n)) }
            },
            retryable,
        )
        .await;
        assert_eq!(out, Err(TestErr::Invalid(1)));
        assert_eq!(count.get(), 1);
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn non_retryable_after_retryable_stops() {
        let out: Result<(), _> = run(
            &cfg(5),
            Duration::from_secs(60),
            |n| async move {
                if n == 1 {
                    Err(TestErr::Throttled(n))
                } else {
                    Err(TestErr::Invalid(n))
                }
            },
            retryable,
        )
        .await;
        assert_eq!(out, Err(TestErr::Invalid(2)));
    }

    #[tokio::test(start_paused = true)]
    async fn disabled_makes_one_attempt() {
        let count = Cell::new(0u32);
        let out: Result<(), _> = run(
            &RetryConfig::disabled(),
            Duration::from_secs(60),
            |n| {
                count.set(count.get() + 1);
                async move { Err(TestErr::Fault(n)) }
            },
            retryable,
        )
        .await;
        assert_eq!(out, Err(TestErr::Fault(1)));
        assert_eq!(count.get(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn respects_total_deadline() {
        // Instant failures, backoff up to 2s, deadline 5s, plenty of attempts allowed:
        // the loop must give up before the deadline rather than sleep past it.
        let c = RetryConfig {
            max_attempts: 1000,
            initial_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(2),
        };
        let total = Duration::from_secs(5);
        for _ in 0..50 {
            let start = tokio::time::Instant::now();
            let count = Cell::new(0u32);
            let out: Result<(), _> = run(
                &c,
                total,
                |n| {
                    count.set(count.get() + 1);
                    async move { Err(TestErr::Throttled(n)) }
                },
                retryable,
            )
            .await;
            let elapsed = start.elapsed();
            assert!(elapsed < total, "elapsed {elapsed:?}");
            let n = count.get();
            assert!((3..1000).contains(&n), "attempts {n}"); // sleeps <= 2s each
            assert_eq!(out, Err(TestErr::Throttled(n))); // the last error
        }
    }

    #[tokio::test(start_paused = true)]
    async fn no_attempt_starts_after_deadline() {
        // Slow attempts (1s each): every attempt starts before the deadline, and
        // the loop ends at most one in-flight attempt after it.
        let c = RetryConfig {
            max_attempts: 1000,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_millis(500),
        };
        let total = Duration::from_secs(5);
        let start = tokio::time::Instant::now();
        let starts = Rc::new(Cell::new(Vec::new()));
        let s = starts.clone();
        let out: Result<(), _> = run(
            &c,
            total,
            move |n| {
                let s = s.clone();
                async move {
                    let mut v = s.take();
                    v.push(start.elapsed());
                    s.set(v);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    Err(TestErr::Fault(n))
                }
            },
            retryable,
        )
        .await;
        let starts = starts.take();
        assert!(starts.iter().all(|t| *t < total), "{starts:?}");
        assert!(start.elapsed() <= total + Duration::from_secs(1));
        assert_eq!(out, Err(TestErr::Fault(starts.len() as u32)));
        assert!(starts.len() >= 3);
    }

    #[tokio::test(start_paused = true)]
    async fn zero_deadline_means_single_attempt() {
        let count = Cell::new(0u32);
        let out: Result<(), _> = run(
            &cfg(3),
            Duration::ZERO,
            |n| {
                count.set(count.get() + 1);
                async move { Err(TestErr::Throttled(n)) }
            },
            retryable,
        )
        .await;
        assert_eq!(out, Err(TestErr::Throttled(1)));
        assert_eq!(count.get(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn sleeps_happen_between_attempts() {
        // With a deadline far away the sleeps are the only passage of time and
        // each is bounded by the per-attempt cap.
        let times = Rc::new(Cell::new(Vec::new()));
        let t = times.clone();
        let start = tokio::time::Instant::now();
        let _: Result<(), _> = run(
            &cfg(4),
            Duration::from_secs(3600),
            move |n| {
                let t = t.clone();
                async move {
                    let mut v = t.take();
                    v.push(start.elapsed());
                    t.set(v);
                    Err(TestErr::Fault(n))
                }
            },
            retryable,
        )
        .await;
        let v = times.take();
        assert_eq!(v.len(), 4);
        let c = cfg(4);
        for i in 1..v.len() {
            let gap = v[i] - v[i - 1];
            assert!(gap <= c.backoff_cap(i as u32), "gap {i}: {gap:?}");
        }
    }

    #[test]
    fn run_future_is_send() {
        fn assert_send<T: Send>(_: T) {}
        let c = RetryConfig::default();
        assert_send(run(
            &c,
            Duration::from_secs(1),
            |_n| async { Ok::<u8, String>(1) },
            |_e: &String| true,
        ));
    }
}
