//! Credentials as AWS hands them out reach KMS byte for byte, from every source, through
//! the library and the `kms` binary: session tokens of 1,000 to 2,000+ base64
//! characters with `+`, `/` and `=` padding, secret keys with `/` and `+`, role ARNs
//! with paths, expirations with fractional seconds and offsets, a `credential_process`
//! line with quotes and long arguments continued on the next line, SSO and web identity
//! tokens of a thousand characters and more, and what the AWS CLI caches. (Every setting
//! of the shared files was once cut to 128 characters: no test held a realistic value.)
//!
//! KMS, STS, the SSO portal and OIDC, the container endpoint and instance metadata are
//! scripted endpoints on 127.0.0.1 that record what they receive; each call's session
//! token and access key id are compared with what was given, and its signature checked
//! with the secret given (kms-server's verifier).

mod common;

use std::path::Path;

use common::{Received, Scripted, form, verify_signature};
use kms_client::{Client, Credentials, Overrides};
use kms_server::demo::REGION;
use kms_types::Timestamp;

// ---------------------------------------------------------------------------
// Realistic values
// ---------------------------------------------------------------------------

const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64_URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/// The characters of access key ids after `AKIA` / `ASIA`.
const KEY_ID: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// `len` characters of `alphabet`, drawn deterministically from `seed`.
fn drawn(seed: u64, alphabet: &[u8], len: usize) -> String {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            alphabet[(state >> 33) as usize % alphabet.len()] as char
        })
        .collect()
}

/// Temporary credentials as STS hands them out: an `ASIA…` key id, a 40-character secret
/// key with `/` and `+`, and a session token of `token_len` base64 characters (starting
/// as STS's do, ending in `=` padding).
fn session(seed: u64, token_len: usize) -> Credentials {
    let padding = if seed.is_multiple_of(2) { "=" } else { "==" };
    let body = token_len - "IQoJb3JpZ2luX2Vj".len() - padding.len();
    let token = format!("IQoJb3JpZ2luX2Vj{}{padding}", drawn(seed, BASE64, body));
    assert!(token.contains('+') && token.contains('/') && token.len() == token_len);
    Credentials::new(
        format!("ASIA{}", drawn(seed + 1, KEY_ID, 16)),
        format!(
            "{}/{}+{}",
            drawn(seed + 2, BASE64, 12),
            drawn(seed + 3, BASE64, 14),
            drawn(seed + 4, BASE64, 12)
        ),
        Some(token),
    )
}

/// A JWT of about `len` characters (header, claims, signature: base64url with dots), as
/// OIDC providers, EKS and IAM Identity Center hand out tokens.
fn jwt(seed: u64, len: usize) -> String {
    let claims = len - 36 - 342 - 2;
    format!(
        "eyJhbGciOiJSUzI1NiIsImtpZCI6{}.{}.{}",
        drawn(seed, BASE64_URL, 8),
        drawn(seed + 1, BASE64_URL, claims),
        drawn(seed + 2, BASE64_URL, 342)
    )
}

/// A [`jwt`] written to `name` in `home` as token files are, ending in a newline; the
/// token and the file.
fn jwt_file(home: &Path, name: &str, seed: u64, len: usize) -> (String, std::path::PathBuf) {
    let token = jwt(seed, len);
    let file = home.join(name);
    write(&file, &format!("{token}\n"));
    (token, file)
}

/// An expiration an hour from now, with fractional seconds and then `offset` (`+00:00`,
/// `Z`), as services and helpers write it.
fn in_an_hour(fraction: &str, offset: &str) -> String {
    let at = Timestamp::from_secs(Timestamp::now().secs() + 3600).to_rfc3339();
    format!("{}.{fraction}{offset}", at.trim_end_matches('Z'))
}

const ROLE_ARN: &str =
    "arn:aws:iam::111122223333:role/service-role/team/prod/KmsCustomKeyStoreAdmin-2024";
/// A session name with every punctuation STS allows.
const SESSION_NAME: &str = "ops@example.com+audit=2024,eu.west-3_a";

// ---------------------------------------------------------------------------
// What arrives
// ---------------------------------------------------------------------------

/// Panics unless `got` is `expected`, saying where they part (values are too long for
/// a diff to show it).
#[track_caller]
fn same(what: &str, got: Option<&str>, expected: Option<&str>) {
    if got == expected {
        return;
    }
    let (got, expected) = (got.unwrap_or_default(), expected.unwrap_or_default());
    let at = got
        .bytes()
        .zip(expected.bytes())
        .position(|(a, b)| a != b)
        .unwrap_or(got.len().min(expected.len()));
    panic!(
        "{what} differs from byte {at}: {} bytes arrived, {} were given\n arrived: …{}\n   given: …{}",
        got.len(),
        expected.len(),
        got.get(at..)
            .unwrap_or_default()
            .chars()
            .take(60)
            .collect::<String>(),
        expected
            .get(at..)
            .unwrap_or_default()
            .chars()
            .take(60)
            .collect::<String>(),
    );
}

/// Panics unless `request` is signed for `service` with exactly `expected`: its access
/// key id in the Credential scope, its session token in `X-Amz-Security-Token`, and a
/// signature that verifies with its secret key.
#[track_caller]
fn assert_signed_with(request: &Received, service: &str, expected: &Credentials) {
    same(
        "X-Amz-Security-Token",
        request
            .headers
            .get("x-amz-security-token")
            .map(String::as_str),
        expected.session_token.as_deref(),
    );
    let auth = verify_signature(request, &expected.secret_access_key).unwrap_or_else(|e| {
        panic!(
            "the {service} request is not signed with the secret key given: {e}; \
             Authorization: {:?}",
            request.headers.get("authorization")
        )
    });
    same(
        "the access key id of the Credential scope",
        Some(&auth.access_key_id),
        Some(&expected.access_key_id),
    );
    assert_eq!(auth.service, service);
}

/// A KMS endpoint that records its calls and answers each with no stores.
async fn kms() -> Scripted {
    Scripted::start(|_: &Received, _| {
        Some((
            200,
            r#"{"CustomKeyStores":[],"Truncated":false}"#.to_owned(),
        ))
    })
    .await
}

/// Calls KMS with the configuration `vars` (and `profile`, as `--profile`) give, through
/// the library, then through the `kms` binary, and checks that each call arrived signed
/// with `expected`. Instance metadata is off unless `vars` give its endpoint.
async fn assert_both_sign_with(
    home: &Path,
    vars: &[(&str, &str)],
    profile: Option<&str>,
    expected: &Credentials,
) {
    let mut vars = vars.to_vec();
    if !vars
        .iter()
        .any(|(k, _)| *k == "AWS_EC2_METADATA_SERVICE_ENDPOINT")
    {
        vars.push(("AWS_EC2_METADATA_DISABLED", "true"));
    }

    let endpoint = kms().await;
    let mut with_kms = vars.clone();
    with_kms.push(("AWS_ENDPOINT_URL_KMS", &endpoint.url));
    let overrides = Overrides {
        profile: profile.map(str::to_owned),
        ..Overrides::default()
    };
    let client = Client::new(common::config_from(home, &with_kms, &overrides));
    if let Err(e) = client.describe_custom_key_stores().send().await {
        panic!("the library's call failed: {e}");
    }
    let seen = endpoint.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_signed_with(&seen[0], "kms", expected);

    let endpoint = kms().await;
    run_kms(home, &vars, profile, &endpoint).await;
    let seen = endpoint.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_signed_with(&seen[0], "kms", expected);
}

/// `kms describe-custom-key-stores` with only `vars` (and HOME, PATH, the region), KMS
/// at `endpoint`; panics unless it succeeds.
async fn run_kms(home: &Path, vars: &[(&str, &str)], profile: Option<&str>, endpoint: &Scripted) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kms"));
    command
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_REGION", REGION)
        .envs(vars.iter().copied())
        .env("AWS_ENDPOINT_URL_KMS", &endpoint.url);
    if let Some(profile) = profile {
        command.args(["--profile", profile]);
    }
    command.arg("describe-custom-key-stores");
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "kms failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

// ---------------------------------------------------------------------------
// The environment and the shared files
// ---------------------------------------------------------------------------

#[tokio::test]
async fn keys_from_the_environment_arrive_whole() {
    let home = tempfile::tempdir().unwrap();
    let given = session(10, 1_140);
    let token = given.session_token.clone().unwrap();
    let vars = [
        ("AWS_ACCESS_KEY_ID", given.access_key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", given.secret_access_key.as_str()),
        ("AWS_SESSION_TOKEN", token.as_str()),
    ];
    assert_both_sign_with(home.path(), &vars, None, &given).await;
}

#[tokio::test]
async fn keys_from_either_shared_file_arrive_whole() {
    let home = tempfile::tempdir().unwrap();
    // The credentials file as edited on Windows (CRLF), `=` without spaces, a token of
    // more than 2,000 characters.
    let in_credentials = session(20, 2_164);
    write(
        &home.path().join(".aws/credentials"),
        &format!(
            "[default]\r\naws_access_key_id={}\r\naws_secret_access_key={}\r\n\
             aws_session_token={}\r\n",
            in_credentials.access_key_id,
            in_credentials.secret_access_key,
            in_credentials.session_token.as_deref().unwrap()
        ),
    );
    // The config file, with blanks around the values.
    let in_config = session(30, 1_032);
    write(
        &home.path().join(".aws/config"),
        &format!(
            "[profile ci]\nregion = {REGION}\naws_access_key_id = {} \n\
             aws_secret_access_key =\t{}\naws_session_token = {}   \n",
            in_config.access_key_id,
            in_config.secret_access_key,
            in_config.session_token.as_deref().unwrap()
        ),
    );
    assert_both_sign_with(home.path(), &[], None, &in_credentials).await;
    assert_both_sign_with(home.path(), &[], Some("ci"), &in_config).await;
    assert_both_sign_with(home.path(), &[("AWS_PROFILE", "ci")], None, &in_config).await;
}

/// The credentials JSON of a `credential_process` helper.
fn process_json(given: &Credentials, expiration: &str) -> String {
    format!(
        r#"{{"Version": 1, "AccessKeyId": "{}", "SecretAccessKey": "{}", "SessionToken": "{}", "Expiration": "{expiration}"}}"#,
        given.access_key_id,
        given.secret_access_key,
        given.session_token.as_deref().unwrap()
    )
}

/// The command line is read whole, its continuation joined as botocore joins it
/// (configparser: a newline, which shlex.split takes as a space); the helper's output,
/// with an expiration as Python's `isoformat()` writes it, arrives whole.
#[cfg(unix)]
#[tokio::test]
async fn a_credential_process_line_and_its_output_arrive_whole() {
    let home = tempfile::tempdir().unwrap();
    let given = session(40, 1_416);
    let output = home.path().join("helper output.json");
    write(
        &output,
        &process_json(&given, &in_an_hour("482913", "+00:00")),
    );
    let received = home.path().join("args");
    let helper = home.path().join("bin/aws-creds helper.sh");
    write(
        &helper,
        &format!(
            "printf '%s\\n' \"$@\" > '{}'\ncat '{}'\n",
            received.display(),
            output.display()
        ),
    );
    let long_argument = format!("--assertion={}", drawn(41, BASE64, 420));
    write(
        &home.path().join(".aws/config"),
        &format!(
            "[profile tool]\n\
             credential_process = sh \"{}\" --role-arn {ROLE_ARN} --label 'prod \"eu\" 1'\n    \
             --session-tags \"team=kms,cost center=42\" {long_argument}\n\
             region = {REGION}\n",
            helper.display()
        ),
    );
    let expected_args = [
        "--role-arn",
        ROLE_ARN,
        "--label",
        "prod \"eu\" 1",
        "--session-tags",
        "team=kms,cost center=42",
        &long_argument,
    ];
    assert_both_sign_with(home.path(), &[], Some("tool"), &given).await;
    let args = std::fs::read_to_string(&received).unwrap();
    assert_eq!(args.lines().collect::<Vec<_>>(), expected_args);
}

// ---------------------------------------------------------------------------
// Roles assumed with STS
// ---------------------------------------------------------------------------

/// An STS `…Response` holding `given`, expiring at `expiration`.
fn sts_answer(action: &str, given: &Credentials, expiration: &str) -> String {
    format!(
        "<{action}Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><{action}Result>\
         <Credentials><AccessKeyId>{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey>\
         <SessionToken>{}</SessionToken><Expiration>{expiration}</Expiration></Credentials>\
         <AssumedRoleUser><AssumedRoleId>AROA3XFRBF535PLBIFPI4:s</AssumedRoleId>\
         <Arn>arn:aws:sts::111122223333:assumed-role/KmsCustomKeyStoreAdmin-2024/s</Arn>\
         </AssumedRoleUser></{action}Result><ResponseMetadata><RequestId>\
         c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata></{action}Response>",
        given.access_key_id,
        given.secret_access_key,
        given.session_token.as_deref().unwrap()
    )
}

/// A scripted STS answering every request with `given`, expiring at `expiration`.
async fn sts(action: &str, given: &Credentials, expiration: String) -> Scripted {
    let answer = sts_answer(action, given, &expiration);
    Scripted::start(move |_: &Received, _| Some((200, answer.clone()))).await
}

/// Panics unless every `AssumeRole` STS received asks for [`ROLE_ARN`] as
/// [`SESSION_NAME`], signed with `signer`.
#[track_caller]
fn assert_assume_role_calls(sts: &Scripted, signer: &Credentials) {
    let seen = sts.seen();
    assert!(!seen.is_empty(), "STS was not called");
    for request in &seen {
        assert_signed_with(request, "sts", signer);
        let params = form(&request.body);
        assert_eq!(params["Action"], "AssumeRole");
        assert_eq!(params["RoleArn"], ROLE_ARN);
        assert_eq!(params["RoleSessionName"], SESSION_NAME);
    }
}

#[tokio::test]
async fn a_role_assumed_with_a_source_profiles_session_token_arrives_whole() {
    let home = tempfile::tempdir().unwrap();
    let source = session(50, 1_380);
    let role = session(60, 1_652);
    write(
        &home.path().join(".aws/credentials"),
        &format!(
            "[base]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {}\n",
            source.access_key_id,
            source.secret_access_key,
            source.session_token.as_deref().unwrap()
        ),
    );
    write(
        &home.path().join(".aws/config"),
        &format!(
            "[profile admin]\nrole_arn = {ROLE_ARN}\nsource_profile = base\n\
             role_session_name = {SESSION_NAME}\n"
        ),
    );
    // Expiring as in STS's documentation: milliseconds, `Z`.
    let endpoint = sts("AssumeRole", &role, in_an_hour("359", "Z")).await;
    let vars = [("AWS_ENDPOINT_URL_STS", endpoint.url.as_str())];
    assert_both_sign_with(home.path(), &vars, Some("admin"), &role).await;
    assert_assume_role_calls(&endpoint, &source);

    // The binary cached them for the AWS CLI, under botocore's name for these
    // arguments (computed with botocore 1.43), whole.
    let cache = home
        .path()
        .join(".aws/cli/cache/0ca864528a0747c74a745f515ad87c0c2a1fee25.json");
    let cached: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&cache).unwrap()).unwrap();
    let cached = &cached["Credentials"];
    same(
        "the cached SessionToken",
        cached["SessionToken"].as_str(),
        role.session_token.as_deref(),
    );
    same(
        "the cached SecretAccessKey",
        cached["SecretAccessKey"].as_str(),
        Some(&role.secret_access_key),
    );

    // The next run signs with the cached ones (STS refuses everything now), and so
    // with what the AWS CLI writes there: its `…UTC` expiration, its other members.
    let refusing = Scripted::start(|_: &Received, _| Some((500, String::new()))).await;
    let vars = [("AWS_ENDPOINT_URL_STS", refusing.url.as_str())];
    let endpoint = kms().await;
    run_kms(home.path(), &vars, Some("admin"), &endpoint).await;
    assert_signed_with(&endpoint.seen()[0], "kms", &role);
    let by_the_aws_cli = session(70, 1_888);
    let expiration = Timestamp::from_secs(Timestamp::now().secs() + 3600).to_rfc3339();
    write(
        &cache,
        &format!(
            r#"{{"Credentials": {{"AccessKeyId": "{}", "SecretAccessKey": "{}", "SessionToken": "{}", "Expiration": "{}UTC", "AccountId": "111122223333"}}, "AssumedRoleUser": {{"AssumedRoleId": "AROA3XFRBF535PLBIFPI4:{SESSION_NAME}", "Arn": "arn:aws:sts::111122223333:assumed-role/KmsCustomKeyStoreAdmin-2024/{SESSION_NAME}"}}, "ResponseMetadata": {{"RequestId": "c6104cbe-af31-11e0-8154-cbc7ccf896c7", "HTTPStatusCode": 200, "RetryAttempts": 0}}}}"#,
            by_the_aws_cli.access_key_id,
            by_the_aws_cli.secret_access_key,
            by_the_aws_cli.session_token.as_deref().unwrap(),
            expiration.trim_end_matches('Z')
        ),
    );
    let endpoint = kms().await;
    run_kms(home.path(), &vars, Some("admin"), &endpoint).await;
    assert_signed_with(&endpoint.seen()[0], "kms", &by_the_aws_cli);
    assert!(refusing.seen().is_empty(), "{:?}", refusing.seen());
}

/// `credential_source`: the environment's keys, or the container endpoint's, sign the
/// AssumeRole call whole.
#[tokio::test]
async fn a_role_assumed_with_its_credential_source_arrives_whole() {
    let home = tempfile::tempdir().unwrap();
    write(
        &home.path().join(".aws/config"),
        &format!(
            "[profile from-env]\nrole_arn = {ROLE_ARN}\ncredential_source = Environment\n\
             role_session_name = {SESSION_NAME}\n\
             [profile from-container]\nrole_arn = {ROLE_ARN}\n\
             credential_source = EcsContainer\nrole_session_name = {SESSION_NAME}\n"
        ),
    );
    let role = session(80, 1_204);

    let in_env = session(90, 1_096);
    let token = in_env.session_token.clone().unwrap();
    let endpoint = sts("AssumeRole", &role, in_an_hour("8", "+00:00")).await;
    let vars = [
        ("AWS_ENDPOINT_URL_STS", endpoint.url.as_str()),
        ("AWS_ACCESS_KEY_ID", in_env.access_key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", in_env.secret_access_key.as_str()),
        ("AWS_SESSION_TOKEN", token.as_str()),
    ];
    assert_both_sign_with(home.path(), &vars, Some("from-env"), &role).await;
    assert_assume_role_calls(&endpoint, &in_env);

    // Not the role's credentials the binary cached for the AWS CLI above.
    std::fs::remove_dir_all(home.path().join(".aws/cli/cache")).unwrap();
    let of_container = session(100, 1_312);
    let container = container(&of_container, &in_an_hour("5", "+00:00")).await;
    let endpoint = sts("AssumeRole", &role, in_an_hour("8", "+00:00")).await;
    let full_uri = format!("{}/v1/credentials", container.url);
    let vars = [
        ("AWS_ENDPOINT_URL_STS", endpoint.url.as_str()),
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", full_uri.as_str()),
    ];
    assert_both_sign_with(home.path(), &vars, Some("from-container"), &role).await;
    assert_assume_role_calls(&endpoint, &of_container);
}

/// A web identity token of EKS's size (a JWT of about 1,100 characters, the file ending
/// in a newline), from the environment and from a profile.
#[tokio::test]
async fn a_web_identity_token_and_the_role_it_gets_arrive_whole() {
    let home = tempfile::tempdir().unwrap();
    let (token, token_file) = jwt_file(
        home.path(),
        "eks.amazonaws.com/serviceaccount/token",
        110,
        1_104,
    );
    let role = session(120, 1_528);
    let token_path = token_file.display().to_string();
    write(
        &home.path().join(".aws/config"),
        &format!(
            "[profile pod]\nrole_arn = {ROLE_ARN}\nweb_identity_token_file = {token_path}\n\
             role_session_name = {SESSION_NAME}\n"
        ),
    );
    for profile in [None, Some("pod")] {
        let endpoint = sts(
            "AssumeRoleWithWebIdentity",
            &role,
            in_an_hour("512", "+00:00"),
        )
        .await;
        let mut vars = vec![("AWS_ENDPOINT_URL_STS", endpoint.url.as_str())];
        if profile.is_none() {
            vars.extend([
                ("AWS_ROLE_ARN", ROLE_ARN),
                ("AWS_WEB_IDENTITY_TOKEN_FILE", token_path.as_str()),
                ("AWS_ROLE_SESSION_NAME", SESSION_NAME),
            ]);
        }
        assert_both_sign_with(home.path(), &vars, profile, &role).await;
        let seen = endpoint.seen();
        assert_eq!(seen.len(), 2);
        for request in &seen {
            let params = form(&request.body);
            same(
                "WebIdentityToken",
                params.get("WebIdentityToken").map(String::as_str),
                Some(&token),
            );
            assert_eq!(params["RoleArn"], ROLE_ARN);
            assert_eq!(params["RoleSessionName"], SESSION_NAME);
        }
    }
}

// ---------------------------------------------------------------------------
// IAM Identity Center
// ---------------------------------------------------------------------------

/// The SSO portal's answer with `given`, expiring in an hour (milliseconds).
fn role_credentials(given: &Credentials) -> String {
    format!(
        r#"{{"roleCredentials":{{"accessKeyId":"{}","secretAccessKey":"{}","sessionToken":"{}","expiration":{}}}}}"#,
        given.access_key_id,
        given.secret_access_key,
        given.session_token.as_deref().unwrap(),
        (Timestamp::now().secs() + 3600) * 1000 + 417
    )
}

/// A scripted SSO portal: `given` for any request, recording the bearer tokens.
async fn portal(given: &Credentials) -> Scripted {
    let answer = role_credentials(given);
    Scripted::start(move |_: &Received, _| Some((200, answer.clone()))).await
}

/// Profile `dev` on `[sso-session my-sso]`, and `aws sso login`'s cache of that
/// session (botocore's name for it) holding `access_token`, expiring in `secs`.
fn sso_home(home: &Path, access_token: &str, secs: i64) -> std::path::PathBuf {
    write(
        &home.join(".aws/config"),
        "[profile dev]\nsso_session = my-sso\nsso_account_id = 111122223333\n\
         sso_role_name = AWSAdministratorAccess\n\
         [sso-session my-sso]\nsso_start_url = https://d-9067a1b2c3.awsapps.com/start#/\n\
         sso_region = us-east-1\nsso_registration_scopes = sso:account:access\n",
    );
    let at = |secs: i64| Timestamp::from_secs(Timestamp::now().secs() + secs).to_rfc3339();
    let refresh_token = format!(
        "aorAAAAAG{}:{}",
        drawn(132, BASE64, 380),
        drawn(133, BASE64, 96)
    );
    let cache = home.join(".aws/sso/cache/0ad374308c5a4e22f723adf10145eafad7c4031c.json");
    // As the AWS CLI v2 writes it: client registration and refresh token included.
    write(
        &cache,
        &format!(
            r#"{{"startUrl": "https://d-9067a1b2c3.awsapps.com/start#/", "region": "us-east-1", "accessToken": "{access_token}", "expiresAt": "{}", "clientId": "{}", "clientSecret": "{}", "registrationExpiresAt": "{}", "refreshToken": "{}"}}"#,
            at(secs),
            drawn(130, BASE64_URL, 43),
            jwt(131, 1_536),
            at(86_400 * 90),
            refresh_token,
        ),
    );
    cache
}

#[tokio::test]
async fn an_sso_token_and_the_role_it_gets_arrive_whole() {
    let home = tempfile::tempdir().unwrap();
    let access_token = format!("aoa{}", jwt(140, 1_248));
    sso_home(home.path(), &access_token, 3600);
    let role = session(150, 1_460);
    let endpoint = portal(&role).await;
    let vars = [("AWS_ENDPOINT_URL_SSO", endpoint.url.as_str())];
    assert_both_sign_with(home.path(), &vars, Some("dev"), &role).await;
    let seen = endpoint.seen();
    assert_eq!(seen.len(), 2);
    for request in &seen {
        same(
            "x-amz-sso_bearer_token",
            request
                .headers
                .get("x-amz-sso_bearer_token")
                .map(String::as_str),
            Some(&access_token),
        );
    }
}

/// A token near expiry is refreshed with the cached refresh token and client secret,
/// sent whole; the new token (and refresh token) are written back whole and used.
#[tokio::test]
async fn a_refreshed_sso_token_arrives_whole_and_is_cached_whole() {
    let home = tempfile::tempdir().unwrap();
    let cache = sso_home(home.path(), &jwt(160, 1_200), 120);
    let before: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&cache).unwrap()).unwrap();
    let new_token = format!("aoa{}", jwt(170, 1_310));
    let new_refresh = format!(
        "aorAAAAAG{}:{}",
        drawn(171, BASE64, 402),
        drawn(172, BASE64, 96)
    );
    let answer = serde_json::json!({
        "accessToken": new_token, "expiresIn": 28_800, "tokenType": "Bearer",
        "refreshToken": new_refresh,
    })
    .to_string();
    let oidc = Scripted::start(move |_: &Received, _| Some((200, answer.clone()))).await;
    let role = session(180, 1_340);
    let endpoint = portal(&role).await;
    let vars = [
        ("AWS_ENDPOINT_URL_SSO", endpoint.url.as_str()),
        ("AWS_ENDPOINT_URL_SSO_OIDC", oidc.url.as_str()),
    ];
    let kms_endpoint = kms().await;
    let mut with_kms = vars.to_vec();
    with_kms.push(("AWS_ENDPOINT_URL_KMS", &kms_endpoint.url));
    let overrides = Overrides {
        profile: Some("dev".into()),
        ..Overrides::default()
    };
    let client = Client::new(common::config_from(home.path(), &with_kms, &overrides));
    client.describe_custom_key_stores().send().await.unwrap();
    assert_signed_with(&kms_endpoint.seen()[0], "kms", &role);

    let asked: serde_json::Value = serde_json::from_str(&oidc.seen()[0].body).unwrap();
    for member in ["refreshToken", "clientSecret", "clientId"] {
        same(member, asked[member].as_str(), before[member].as_str());
    }
    same(
        "the bearer token after the refresh",
        endpoint.seen()[0]
            .headers
            .get("x-amz-sso_bearer_token")
            .map(String::as_str),
        Some(&new_token),
    );
    let after: serde_json::Value = serde_json::from_slice(&std::fs::read(&cache).unwrap()).unwrap();
    same(
        "the cached accessToken",
        after["accessToken"].as_str(),
        Some(&new_token),
    );
    same(
        "the cached refreshToken",
        after["refreshToken"].as_str(),
        Some(&new_refresh),
    );
    same(
        "the cached clientSecret",
        after["clientSecret"].as_str(),
        before["clientSecret"].as_str(),
    );
}

// ---------------------------------------------------------------------------
// The container endpoint and instance metadata
// ---------------------------------------------------------------------------

/// A scripted container endpoint answering `given`, expiring at `expiration`.
async fn container(given: &Credentials, expiration: &str) -> Scripted {
    let answer = format!(
        r#"{{"AccessKeyId":"{}","SecretAccessKey":"{}","Token":"{}","AccountId":"111122223333","Expiration":"{expiration}"}}"#,
        given.access_key_id,
        given.secret_access_key,
        given.session_token.as_deref().unwrap()
    );
    Scripted::start(move |_: &Received, _| Some((200, answer.clone()))).await
}

/// EKS Pod Identity: an authorization token of a JWT's size from a file, sent whole; the
/// credentials, expiring with fractional seconds and `+00:00`, arrive whole.
#[tokio::test]
async fn container_credentials_and_their_authorization_token_arrive_whole() {
    let home = tempfile::tempdir().unwrap();
    let (token, token_file) = jwt_file(home.path(), "eks-pod-identity-token", 190, 1_020);
    let given = session(200, 1_236);
    let endpoint = container(&given, &in_an_hour("123", "+00:00")).await;
    let full_uri = format!("{}/v1/credentials", endpoint.url);
    let vars = [
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", full_uri.as_str()),
        (
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
            token_file.to_str().unwrap(),
        ),
    ];
    assert_both_sign_with(home.path(), &vars, None, &given).await;
    let seen = endpoint.seen();
    assert_eq!(seen.len(), 2);
    for request in &seen {
        same(
            "the container endpoint's Authorization",
            request.headers.get("authorization").map(String::as_str),
            Some(&token),
        );
    }
}

/// IMDSv2: its session token sent back whole; the role's credentials, expiring with
/// fractional seconds and `+00:00`, arrive whole.
#[tokio::test]
async fn instance_metadata_credentials_arrive_whole() {
    let home = tempfile::tempdir().unwrap();
    let given = session(210, 1_172);
    let imds_token = format!("AQAEAOPk{}==", drawn(211, BASE64, 46));
    // Laid out as instance metadata writes it.
    let answer = format!(
        "{{\n  \"Code\" : \"Success\",\n  \"LastUpdated\" : \"2026-01-01T00:00:00Z\",\n  \
         \"Type\" : \"AWS-HMAC\",\n  \"AccessKeyId\" : \"{}\",\n  \"SecretAccessKey\" : \"{}\",\n  \
         \"Token\" : \"{}\",\n  \"Expiration\" : \"{}\"\n}}",
        given.access_key_id,
        given.secret_access_key,
        given.session_token.as_deref().unwrap(),
        in_an_hour("000001", "+00:00")
    );
    let session_token = imds_token.clone();
    let metadata = Scripted::start(move |r: &Received, _| {
        Some(match r.path.as_str() {
            "/latest/api/token" => (200, session_token.clone()),
            "/latest/meta-data/iam/security-credentials/" => {
                (200, "KmsCustomKeyStoreAdmin-2024".to_owned())
            }
            "/latest/meta-data/iam/security-credentials/KmsCustomKeyStoreAdmin-2024" => {
                (200, answer.clone())
            }
            _ => (404, String::new()),
        })
    })
    .await;
    let vars = [("AWS_EC2_METADATA_SERVICE_ENDPOINT", metadata.url.as_str())];
    assert_both_sign_with(home.path(), &vars, None, &given).await;
    let seen = metadata.seen();
    assert_eq!(seen.len(), 6);
    for request in seen.iter().filter(|r| r.method == "GET") {
        same(
            "X-aws-ec2-metadata-token",
            request
                .headers
                .get("x-aws-ec2-metadata-token")
                .map(String::as_str),
            Some(&imds_token),
        );
    }
}
