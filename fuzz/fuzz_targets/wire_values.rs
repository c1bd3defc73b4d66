//! The wire forms of single values: timestamps (epoch seconds: integers, fractions,
//! exponents, huge, negative), awsJson floats (`__private::float`: NaN and the
//! infinities as strings), blobs (base64) and enums' `Unknown`, each from arbitrary bytes
//! and through the round trip.
#![no_main]

use kms_types::__private::float::{self, Ser};
use kms_types::aws_json;
use kms_types::{
    Blob, ConnectionErrorCodeType, ConnectionStateType, CustomKeyStoreType, Timestamp,
    XksProxyConnectivityType,
};
use kms_types_fuzz::{blob, check_message, decode_both, range, timestamp};
use libfuzzer_sys::fuzz_target;

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap()
}

/// What every timestamp must satisfy, whatever made it.
fn timestamp_invariants(t: Timestamp) {
    assert!(t.subsec_nanos() < 1_000_000_000);
    // Exact through formats that are not human-readable.
    let bytes = bincode::serialize(&t).unwrap();
    assert_eq!(bincode::deserialize::<Timestamp>(&bytes).unwrap(), t);
    // The wire form reads back, and from then on is stable.
    let once = json(&t);
    let t2: Timestamp = serde_json::from_str(&once)
        .unwrap_or_else(|e| panic!("{t:?} writes {once}, which does not read: {e}"));
    let twice = json(&t2);
    let t3: Timestamp = serde_json::from_str(&twice).unwrap();
    assert_eq!(t3, t2, "{t:?} -> {once} -> {t2:?} -> {twice} -> {t3:?}");
    // Close to the original: within the f64's precision (and a nanosecond).
    let a = i128::from(t.secs()) * 1_000_000_000 + i128::from(t.subsec_nanos());
    let b = i128::from(t2.secs()) * 1_000_000_000 + i128::from(t2.subsec_nanos());
    let ulp_ns = (3.0 * t.as_epoch_seconds().abs() * f64::EPSILON * 1e9) as i128 + 1;
    assert!(
        (a - b).abs() <= ulp_ns,
        "{t:?} read back as {t2:?} ({once})"
    );
    // Milliseconds round-trip at realistic dates (the documented promise).
    if t.subsec_nanos() % 1_000_000 == 0 && t.secs().unsigned_abs() < 1 << 35 {
        assert_eq!(t2, t, "milliseconds lost: {t:?} -> {once}");
    }
    // RFC 3339 where four digits of year can say it.
    let dt = t.to_date_time();
    let text = t.to_rfc3339();
    if (0..=9999).contains(&dt.year) {
        assert_eq!(Timestamp::parse_rfc3339(&text), Ok(t), "{text}");
    }
    if dt.year.abs() < 1_000_000_000 {
        assert_eq!(Timestamp::from_date_time(&dt), Some(t));
    }
    assert_eq!(Timestamp::from(std::time::SystemTime::from(t)), t);
}

fn float_round_trip_f64(v: f64) {
    let text = serde_json::to_string(&Ser(&v)).unwrap();
    let mut de = serde_json::Deserializer::from_str(&text);
    let back: f64 = float::deserialize(&mut de).unwrap();
    if v.is_nan() {
        assert!(back.is_nan());
    } else {
        let ulps = (back.to_bits() as i64)
            .wrapping_sub(v.to_bits() as i64)
            .unsigned_abs();
        let strict = std::env::var_os("FUZZ_STRICT_FLOATS").is_some();
        assert!(
            ulps == 0 || (!strict && ulps <= 2),
            "{v:?} -> {text} -> {back:?}"
        );
    }
}

fn float_round_trip_f32(v: f32) {
    let text = serde_json::to_string(&Ser(&v)).unwrap();
    let mut de = serde_json::Deserializer::from_str(&text);
    let back: f32 = float::deserialize(&mut de).unwrap();
    if v.is_nan() {
        assert!(back.is_nan());
    } else {
        assert_eq!(back.to_bits(), v.to_bits(), "{v:?} -> {text} -> {back:?}");
    }
}

macro_rules! check_enum {
    ($ty:ty, $s:expr) => {{
        let s: &str = $s;
        let value = <$ty>::from(s);
        assert_eq!(value.as_str(), s);
        assert_eq!(value.is_unknown(), !<$ty>::values().contains(&s));
        let text = json(&value);
        let back: $ty = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
        assert_eq!(back.to_string(), s);
    }};
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    match mode % 9 {
        // Epoch seconds from any f64.
        0 => {
            let Some(bits) = rest.get(..8) else { return };
            let v = f64::from_le_bytes(bits.try_into().unwrap());
            match Timestamp::from_epoch_seconds(v) {
                Ok(t) => {
                    let got = t.as_epoch_seconds();
                    assert!(
                        (got - v).abs() <= v.abs() * 4.0 * f64::EPSILON + 1e-9,
                        "{v:?} read as {t:?} ({got:?})"
                    );
                    timestamp_invariants(t);
                }
                Err(e) => {
                    assert!(
                        !v.is_finite() || v.abs() >= 9.223372036854775808e18,
                        "{v:?}: {e}"
                    );
                }
            }
        }
        // Any (secs, nanos).
        1 => {
            let Some(bytes) = rest.get(..12) else { return };
            let secs = i64::from_le_bytes(bytes[..8].try_into().unwrap());
            let nanos = u32::from_le_bytes(bytes[8..].try_into().unwrap());
            timestamp_invariants(Timestamp::new(secs, nanos));
            timestamp_invariants(Timestamp::new(
                secs,
                nanos % 1_000_000_000 / 1_000_000 * 1_000_000,
            ));
        }
        // A timestamp member given any JSON text.
        2 => {
            let body = format!(r#"{{"CreatedAt": {text}, "DeletedAt": {text}}}"#);
            match decode_both::<timestamp::RunResponse>(body.as_bytes()) {
                Ok(r) => {
                    for t in [r.created_at, r.deleted_at].into_iter().flatten() {
                        timestamp_invariants(t);
                    }
                }
                Err(e) => check_message(&e),
            }
            let _ = Timestamp::parse_rfc3339(&text);
        }
        // Any f64 / f32 through awsJson's float wire form.
        3 => {
            if let Some(bits) = rest.get(..8) {
                float_round_trip_f64(f64::from_le_bytes(bits.try_into().unwrap()));
            }
            if let Some(bits) = rest.get(..4) {
                float_round_trip_f32(f32::from_le_bytes(bits.try_into().unwrap()));
            }
        }
        // Float members (double, list of double, float with a default) given any text.
        4 => {
            let body =
                format!(r#"{{"Ratio": {text}, "Weights": [{text}, {text}], "Scale": {text}}}"#);
            if let Ok(r) = decode_both::<range::RunRequest>(body.as_bytes()) {
                // As serde_json reads the number itself, or the special strings.
                let direct: Option<f64> = serde_json::from_str(&text).ok();
                if let (Some(d), Some(ratio)) = (direct, r.ratio) {
                    assert_eq!(d.to_bits(), ratio.to_bits(), "{text}");
                }
                if let Some(ratio) = r.ratio {
                    assert_eq!(
                        (ratio as f32).to_bits() == r.scale.to_bits(),
                        true,
                        "{text}: {ratio} vs {}",
                        r.scale
                    );
                }
            }
            let body = format!(r#"{{"Ratio": {text}}}"#);
            let _ = decode_both::<range::RunRequest>(body.as_bytes());
        }
        // Any bytes as a blob, through base64.
        5 => {
            let blob = Blob::new(rest.to_vec());
            let text = json(&blob);
            let back: Blob = serde_json::from_str(&text).unwrap();
            assert_eq!(back, blob);
            assert_eq!(format!("{blob:?}"), format!("Blob({} bytes)", rest.len()));
        }
        // A blob member given any text as its string.
        6 => {
            let body = serde_json::json!({ "Signature": text.as_ref() }).to_string();
            match decode_both::<blob::RunResponse>(body.as_bytes()) {
                Ok(r) => {
                    // Only canonical base64 reads: it is written back as it came.
                    let again = json(&r.signature.unwrap());
                    assert_eq!(again, serde_json::to_string(text.as_ref()).unwrap());
                }
                Err(e) => check_message(&e),
            }
            // And any raw JSON there.
            let body = format!(r#"{{"Signature": {text}}}"#);
            let _ = decode_both::<blob::RunResponse>(body.as_bytes());
        }
        // Enums: any string is a value, known or Unknown, and reads back as itself.
        7 => {
            check_enum!(ConnectionStateType, &text);
            check_enum!(ConnectionErrorCodeType, &text);
            check_enum!(CustomKeyStoreType, &text);
            check_enum!(XksProxyConnectivityType, &text);
        }
        // An enum member given any JSON text.
        _ => {
            let body = format!(
                r#"{{"CustomKeyStores": [{{"ConnectionState": {text}, "CustomKeyStoreType": {text}, "XksProxyConfiguration": {{"Connectivity": {text}}}}}]}}"#
            );
            let _ = decode_both::<kms_types::DescribeCustomKeyStoresResponse>(body.as_bytes());
            let _ = aws_json::decode::<kms_types::DescribeCustomKeyStoresRequest>(body.as_bytes());
        }
    }
});
