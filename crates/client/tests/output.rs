//! Snapshots of the CLI output formats, from fixed data.

use kms_client::output::{self, ResumeToken, StartingTokenError, TimestampFormat};
use kms_types::{
    ConnectionErrorCodeType, ConnectionStateType, CustomKeyStoreType, CustomKeyStoresListEntry,
    DescribeCustomKeyStoresResponse, Timestamp, XksProxyConfigurationType,
    XksProxyConnectivityType,
};

fn stores() -> Vec<CustomKeyStoresListEntry> {
    vec![
        CustomKeyStoresListEntry::builder()
            .custom_key_store_id("cks-1234567890abcdef0")
            .custom_key_store_name("ExampleKeyStore")
            .cloud_hsm_cluster_id("cluster-1a23b4cdefg")
            .trust_anchor_certificate(
                "-----BEGIN CERTIFICATE-----\nMIIC...\n-----END CERTIFICATE-----",
            )
            .connection_state(ConnectionStateType::Connected)
            .creation_date(Timestamp::from_millis(1_499_288_695_918))
            .custom_key_store_type(CustomKeyStoreType::AwsCloudhsm)
            .build(),
        CustomKeyStoresListEntry::builder()
            .custom_key_store_id("cks-9876543210fedcba9")
            .custom_key_store_name("ExampleXksVpc")
            .connection_state(ConnectionStateType::Failed)
            .connection_error_code(ConnectionErrorCodeType::XksProxyTimedOut)
            .creation_date(Timestamp::from_secs(1_670_000_000))
            .custom_key_store_type(CustomKeyStoreType::ExternalKeyStore)
            .xks_proxy_configuration(
                XksProxyConfigurationType::builder()
                    .connectivity(XksProxyConnectivityType::VpcEndpointService)
                    .access_key_id("ABCDE12345670EXAMPLE")
                    .uri_endpoint("https://myproxy-private.xks.example.com")
                    .uri_path("/example-prefix/kms/xks/v1")
                    .vpc_endpoint_service_name("com.amazonaws.vpce.us-east-1.vpce-svc-example1")
                    .vpc_endpoint_service_owner("123456789012")
                    .build(),
            )
            .build(),
        CustomKeyStoresListEntry::builder()
            .custom_key_store_id("cks-00000000000000001")
            .custom_key_store_name("store-000001")
            .connection_state(ConnectionStateType::Disconnected)
            .creation_date(Timestamp::new(1_700_000_000, 123_456_789))
            .custom_key_store_type(CustomKeyStoreType::ExternalKeyStore)
            .xks_proxy_configuration(
                XksProxyConfigurationType::builder()
                    .connectivity(XksProxyConnectivityType::PublicEndpoint)
                    .access_key_id("ABCDE98765432EXAMPLE")
                    .uri_endpoint("https://myproxy.xks.example.com")
                    .uri_path("/kms/xks/v1")
                    .build(),
            )
            .build(),
    ]
}

#[test]
fn wire_timestamps_are_epoch_seconds_as_the_service_sent_them() {
    let v = output::paginated_to_json(&stores(), None, TimestampFormat::Wire);
    let dates: Vec<String> = v["CustomKeyStores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["CreationDate"].to_string())
        .collect();
    assert_eq!(dates[..2], ["1499288695.918", "1670000000"]);
    let text =
        output::render_text_pages(&[stores()[..1].to_vec()], None, TimestampFormat::Wire, None).0;
    assert!(text.contains("\t1499288695.918\t"), "{text}");
    for (name, format) in [
        ("iso8601", TimestampFormat::Iso8601),
        ("wire", TimestampFormat::Wire),
        ("none", TimestampFormat::Wire),
    ] {
        assert_eq!(name.parse::<TimestampFormat>(), Ok(format));
    }
    assert_eq!(
        "iso".parse::<TimestampFormat>(),
        Err(
            "Unknown cli_timestamp_format value: iso, valid values are \"none\", \"wire\" or \
             \"iso8601\""
                .to_owned()
        )
    );
}

#[test]
fn table_keeps_a_multi_line_value_whole_as_the_aws_cli_does() {
    let v = output::paginated_to_json(&stores()[..1], None, TimestampFormat::Iso8601);
    let table = output::render_table("DescribeCustomKeyStores", &v);
    assert!(
        table.contains("|  -----BEGIN CERTIFICATE-----\nMIIC...\n-----END CERTIFICATE-----  ||\n"),
        "{table}"
    );
}

/// Columns are padded by the width a terminal shows: a wide (CJK) character takes
/// two columns, so its line holds fewer characters than the borders.
#[test]
fn table_pads_wide_characters_by_their_display_width() {
    // The two external key stores: no multi-line certificate.
    let mut stores = stores().split_off(1);
    stores[0].custom_key_store_name = Some("日本語キーストア🔑".into()); // 9 wide characters
    stores[1].custom_key_store_name = Some("Café".into()); // é is one column
    let v = output::paginated_to_json(&stores, None, TimestampFormat::Iso8601);
    let table = output::render_table("DescribeCustomKeyStores", &v);
    let border = table.lines().next().unwrap().chars().count();
    for line in table.lines() {
        let expected = if line.contains("日本語") {
            border - 9
        } else {
            border
        };
        assert_eq!(line.chars().count(), expected, "{line}\n{table}");
    }
    assert!(table.contains("|  Café  "), "{table}");
}

#[test]
fn cli_timestamps() {
    assert_eq!(
        output::cli_timestamp(Timestamp::from_millis(1_499_288_695_918)),
        "2017-07-05T21:04:55.918000+00:00"
    );
    assert_eq!(
        output::cli_timestamp(Timestamp::from_secs(1_670_000_000)),
        "2022-12-02T16:53:20+00:00"
    );
    assert_eq!(
        output::cli_timestamp(Timestamp::new(1_700_000_000, 999_999_600)),
        "2023-11-14T22:13:21+00:00"
    );
}

#[test]
fn json_paginated() {
    let v = output::paginated_to_json(&stores(), None, TimestampFormat::Iso8601);
    insta::assert_snapshot!(output::render_json(&v));
}

#[test]
fn json_with_next_token() {
    let token = ResumeToken {
        marker: Some("m-2".into()),
        skip: 1,
    }
    .encode();
    let v = output::paginated_to_json(&stores()[..1], Some(&token), TimestampFormat::Iso8601);
    insta::assert_snapshot!(output::render_json(&v));
}

#[test]
fn json_no_paginate() {
    let r = DescribeCustomKeyStoresResponse::builder()
        .custom_key_stores(stores()[..1].to_vec())
        .next_marker("m-1")
        .truncated(true)
        .build();
    insta::assert_snapshot!(output::render_json(&output::response_to_json(
        &r,
        TimestampFormat::Iso8601
    )));
}

#[test]
fn json_empty() {
    assert_eq!(
        output::render_json(&output::paginated_to_json(
            &[],
            None,
            TimestampFormat::Iso8601
        )),
        "{\n    \"CustomKeyStores\": []\n}\n"
    );
}

#[test]
fn text_pages() {
    let s = stores();
    let pages = vec![s[..2].to_vec(), s[2..].to_vec()];
    insta::assert_snapshot!(
        output::render_text_pages(&pages, Some("TOKEN"), TimestampFormat::Iso8601, None).0
    );
}

#[test]
fn table() {
    let v = output::paginated_to_json(&stores(), None, TimestampFormat::Iso8601);
    insta::assert_snapshot!(output::render_table("DescribeCustomKeyStores", &v));
}

#[test]
fn table_without_nested() {
    let v = output::paginated_to_json(&stores()[..1], Some("TOKEN"), TimestampFormat::Iso8601);
    insta::assert_snapshot!(output::render_table("DescribeCustomKeyStores", &v));
}

#[test]
fn resume_tokens_round_trip() {
    for t in [
        ResumeToken {
            marker: None,
            skip: 3,
        },
        ResumeToken {
            marker: Some("abc\"é".into()),
            skip: 0,
        },
        ResumeToken {
            marker: Some("x".into()),
            skip: 7,
        },
    ] {
        assert_eq!(ResumeToken::decode(&t.encode()).unwrap(), t);
    }
    // the AWS CLI's own form
    let cli = "eyJNYXJrZXIiOiBudWxsLCAiYm90b190cnVuY2F0ZV9hbW91bnQiOiAyfQ==";
    assert_eq!(
        ResumeToken::decode(cli).unwrap(),
        ResumeToken {
            marker: None,
            skip: 2
        }
    );
    assert_eq!(
        ResumeToken::decode("m-5___3").unwrap(),
        ResumeToken {
            marker: Some("m-5".into()),
            skip: 3
        }
    );
    assert_eq!(
        ResumeToken::decode("raw-marker").unwrap().marker.as_deref(),
        Some("raw-marker")
    );
    // as botocore reads them: an empty marker is one (for the parameter check to
    // refuse), None is none, Python's int() reads the amount
    for (token, marker, skip) in [
        ("", Some(""), 0),
        ("___3", Some(""), 3),
        ("None", None, 0),
        ("None___ +1_2", None, 12),
        ("m___-1", Some("m___-1"), 0),
        ("eyJNYXJrZXIiOiAiTm9uZSJ9", None, 0), // {"Marker": "None"}
    ] {
        assert_eq!(
            ResumeToken::decode(token),
            Ok(ResumeToken {
                marker: marker.map(str::to_owned),
                skip
            }),
            "{token}"
        );
    }
    assert_eq!(
        ResumeToken::decode("a___b___3"),
        Err(StartingTokenError::Bad(
            "Bad starting token: a___b___3".to_owned()
        ))
    );
    // {"Marker": {"k": ["it's", 1.5, true, null]}}
    assert_eq!(
        ResumeToken::decode("eyJNYXJrZXIiOiB7ImsiOiBbIml0J3MiLCAxLjUsIHRydWUsIG51bGxdfX0="),
        Err(StartingTokenError::MarkerType(
            "Invalid type for parameter Marker, value: {'k': [\"it's\", 1.5, True, None]}, \
             type: <class 'dict'>, valid types: <class 'str'>"
                .to_owned()
        ))
    );
}

/// botocore's error for a marker the service hands out again, the marker in Python's
/// `repr` (as Python 3 prints `{'Marker': 'it\\'s\\xa0"m"\\x85\\xadÿ'}`): quotes, and
/// Latin-1's unprintable characters escaped, its printable ones kept.
#[test]
fn a_repeated_marker_is_botocores_pagination_error() {
    assert_eq!(
        output::repeated_marker_message("it's\u{a0}\"m\"\u{85}\u{ad}\u{ff}"),
        "Error during pagination: The same next token was received twice: \
         {'Marker': 'it\\'s\\xa0\"m\"\\x85\\xadÿ'}"
    );
    assert_eq!(
        output::repeated_marker_message("m1"),
        "Error during pagination: The same next token was received twice: {'Marker': 'm1'}"
    );
}

/// As the AWS CLI's: a table wider than the terminal turns each one-row box into
/// name/value rows; on a terminal wide enough a box keeps its row under the headers.
#[test]
fn table_is_laid_out_for_the_terminal_width() {
    let v = output::paginated_to_json(&stores()[..1], None, TimestampFormat::Iso8601);
    let narrow = output::render_table("DescribeCustomKeyStores", &v);
    assert_eq!(
        narrow,
        output::render_table_width("DescribeCustomKeyStores", &v, output::DEFAULT_TABLE_WIDTH)
    );
    assert!(
        narrow.contains("\n||  CustomKeyStoreId       |  cks-1234567890abcdef0"),
        "{narrow}"
    );
    let wide = output::render_table_width("DescribeCustomKeyStores", &v, 1000);
    let header = wide.lines().nth(5).unwrap();
    let row = wide.lines().nth(7).unwrap();
    for (cell, line) in [("CustomKeyStoreId", header), ("cks-1234567890abcdef0", row)] {
        assert!(line.contains(cell), "{cell} not in {line}:\n{wide}");
    }
    assert!(header.contains("CustomKeyStoreName"), "{wide}");
    // Every line spans the table's width but the three of the certificate's row.
    let width = wide.lines().next().unwrap().len();
    assert!(width > 80, "{wide}");
    assert_eq!(
        wide.lines().filter(|l| l.len() != width).count(),
        3,
        "{wide}"
    );
}
