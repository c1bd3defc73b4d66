//! The runtime of the generated endpoint resolver ([`crate::resolve_endpoint`]): AWS
//! partitions (the rules' `aws.partition` function) and the resolution error.

use std::fmt;

/// An AWS partition: the DNS suffixes and capabilities shared by a group of regions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// `aws`, `aws-cn`, `aws-us-gov`, ...
    pub name: &'static str,
    /// e.g. `amazonaws.com`
    pub dns_suffix: &'static str,
    /// e.g. `api.aws`
    pub dual_stack_dns_suffix: &'static str,
    /// Whether the partition has FIPS endpoints (`kms-fips.{region}…`), which
    /// `use_fips` asks for.
    pub supports_fips: bool,
    /// Whether the partition has dual-stack (IPv4 and IPv6) endpoints, on
    /// [`Partition::dual_stack_dns_suffix`], which `use_dual_stack` asks for.
    pub supports_dual_stack: bool,
    /// The region that signs requests to the partition's global endpoints.
    pub implicit_global_region: &'static str,
    /// Region names are `{prefix}-{word}-{number}` with one of these prefixes.
    region_prefixes: &'static [&'static str],
    /// Regions of the partition whose names do not follow that shape.
    global_regions: &'static [&'static str],
}

const fn partition(
    name: &'static str,
    dns_suffix: &'static str,
    dual_stack_dns_suffix: &'static str,
    implicit_global_region: &'static str,
    region_prefixes: &'static [&'static str],
    global_regions: &'static [&'static str],
) -> Partition {
    Partition {
        name,
        dns_suffix,
        dual_stack_dns_suffix,
        supports_fips: true,
        supports_dual_stack: true,
        implicit_global_region,
        region_prefixes,
        global_regions,
    }
}

/// The partitions, from the AWS SDKs' `partitions.json` (version 1.1); the first one
/// is the default for a region that matches none.
pub const PARTITIONS: &[Partition] = &[
    partition(
        "aws",
        "amazonaws.com",
        "api.aws",
        "us-east-1",
        &["us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx"],
        &["aws-global"],
    ),
    partition(
        "aws-cn",
        "amazonaws.com.cn",
        "api.amazonwebservices.com.cn",
        "cn-northwest-1",
        &["cn"],
        &["aws-cn-global"],
    ),
    partition(
        "aws-eusc",
        "amazonaws.eu",
        "api.amazonwebservices.eu",
        "eusc-de-east-1",
        &["eusc-de"],
        &[],
    ),
    partition(
        "aws-iso",
        "c2s.ic.gov",
        "api.aws.ic.gov",
        "us-iso-east-1",
        &["us-iso"],
        &["aws-iso-global"],
    ),
    partition(
        "aws-iso-b",
        "sc2s.sgov.gov",
        "api.aws.scloud",
        "us-isob-east-1",
        &["us-isob"],
        &["aws-iso-b-global"],
    ),
    partition(
        "aws-iso-e",
        "cloud.adc-e.uk",
        "api.cloud-aws.adc-e.uk",
        "eu-isoe-west-1",
        &["eu-isoe"],
        &["aws-iso-e-global"],
    ),
    partition(
        "aws-iso-f",
        "csp.hci.ic.gov",
        "api.aws.hci.ic.gov",
        "us-isof-south-1",
        &["us-isof"],
        &["aws-iso-f-global"],
    ),
    partition(
        "aws-us-gov",
        "amazonaws.com",
        "api.aws",
        "us-gov-west-1",
        &["us-gov"],
        &["aws-us-gov-global"],
    ),
];

impl Partition {
    /// Whether `region` belongs here: a global region of the partition, or
    /// `{prefix}-{word}-{number}` (the SDKs' `regionRegex`, e.g. `^cn\-\w+\-\d+$`).
    fn contains(&self, region: &str) -> bool {
        self.global_regions.contains(&region)
            || self.region_prefixes.iter().any(|prefix| {
                region
                    .strip_prefix(prefix)
                    .and_then(|rest| rest.strip_prefix('-'))
                    .and_then(|rest| rest.split_once('-'))
                    .is_some_and(|(word, number)| {
                        !word.is_empty()
                            && word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                            && !number.is_empty()
                            && number.bytes().all(|b| b.is_ascii_digit())
                    })
            })
    }

    /// The `aws.partition` function of the endpoint rules: the partition of `region`,
    /// else the `aws` partition (as the SDKs do for a region they do not know).
    pub fn of(region: &str) -> &'static Partition {
        PARTITIONS
            .iter()
            .find(|p| p.global_regions.contains(&region))
            .or_else(|| PARTITIONS.iter().find(|p| p.contains(region)))
            .unwrap_or(&PARTITIONS[0])
    }
}

/// Whether `region` may go into a host name, by botocore's rule for region names
/// (`validate_region_name`, `^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{1,63}(?<!-)$`): a host
/// label of letters, digits and `-`, 1 to 63 of them, neither first nor last a `-`,
/// and not digits only. Stricter than Smithy's `isValidHostLabel`, which takes `123`.
///
/// ```
/// use kms_types::endpoint::is_valid_region;
///
/// assert!(is_valid_region("us-east-1"));
/// assert!(!is_valid_region("evil.com/#"));
/// assert!(!is_valid_region("123"));
/// ```
pub fn is_valid_region(region: &str) -> bool {
    let bytes = region.as_bytes();
    (1..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && bytes.first() != Some(&b'-')
        && bytes.last() != Some(&b'-')
        && !bytes.iter().all(u8::is_ascii_digit)
}

/// Checks the region before it goes into a host name, as botocore's
/// `validate_region_name` does ([`is_valid_region`]); else an error naming it, so that
/// `evil.com/#` never becomes `https://kms.evil.com/#…`. The generated
/// [`crate::resolve_endpoint`] calls it first, whenever a region is set.
pub fn check_region(region: &str) -> Result<(), EndpointError> {
    if is_valid_region(region) {
        Ok(())
    } else {
        Err(EndpointError::new(format!(
            "Invalid Configuration: region `{region}` is not a valid host label (letters, \
             digits and hyphens, 1 to 63 of them, neither first nor last a hyphen, not \
             digits only)"
        )))
    }
}

/// Why no endpoint could be resolved: the message of the rule that applied, e.g.
/// `Invalid Configuration: FIPS and custom endpoint are not supported`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointError {
    message: String,
}

impl EndpointError {
    /// An error with `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// The message, as the model words it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EndpointError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_find_their_partition() {
        for (region, partition) in [
            ("us-east-1", "aws"),
            ("il-central-1", "aws"),
            ("mx-central-1", "aws"),
            ("aws-global", "aws"),
            ("cn-north-1", "aws-cn"),
            ("aws-cn-global", "aws-cn"),
            ("us-gov-west-1", "aws-us-gov"),
            ("us-iso-east-1", "aws-iso"),
            ("us-isob-east-1", "aws-iso-b"),
            ("eu-isoe-west-1", "aws-iso-e"),
            ("us-isof-south-1", "aws-iso-f"),
            ("eusc-de-east-1", "aws-eusc"),
            // Unknown shapes fall back to the aws partition.
            ("local", "aws"),
            ("xx-unknown-1", "aws"),
            ("us-east-", "aws"),
        ] {
            assert_eq!(Partition::of(region).name, partition, "{region}");
        }
    }

    #[test]
    fn regions_must_be_host_labels() {
        for region in [
            "us-east-1",
            "local",
            "a",
            "A1",
            "1a",
            "1-2",
            &"a".repeat(63),
            &format!("1{}", "a".repeat(62)),
        ] {
            assert!(is_valid_region(region), "{region}");
            assert_eq!(check_region(region), Ok(()), "{region}");
        }
        for region in [
            "",
            "evil.com/#",
            "us-east-1.",
            "-us",
            "us-",
            "-",
            "-us-east-1",
            "us-east-1-",
            "1",
            "123",
            "0123456789",
            "us east",
            "us_east_1",
            "é",
            &"a".repeat(64),
            &"1".repeat(63),
        ] {
            assert!(!is_valid_region(region), "{region}");
            let error = check_region(region).unwrap_err();
            assert!(
                error.message().starts_with(&format!(
                    "Invalid Configuration: region `{region}` is not a valid host label"
                )),
                "{region}: {error}"
            );
        }
    }

    #[test]
    fn region_shape_is_prefix_word_number() {
        let aws = &PARTITIONS[0];
        assert!(aws.contains("us-west-2"));
        assert!(!aws.contains("us-gov-west-1"), "two words");
        assert!(!aws.contains("us-west-2a"));
        assert!(!aws.contains("us--2"));
        assert!(!aws.contains("usa-west-2"));
        // The word is the SDKs' `\w`: letters, digits and `_`, nothing else.
        assert!(aws.contains("us-west_gov-2"));
        assert!(!aws.contains("us-we.st-2"));
    }

    #[test]
    fn an_endpoint_error_displays_as_its_message() {
        let error = check_region("us_east_1").unwrap_err();
        assert_eq!(error.to_string(), error.message());
        assert_eq!(
            EndpointError::new("Invalid Configuration: FIPS and custom endpoint are not supported")
                .to_string(),
            "Invalid Configuration: FIPS and custom endpoint are not supported"
        );
    }
}
