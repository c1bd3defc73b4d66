// The AWS SDK for JavaScript v3 against kms-server, as a Node test suite calls it: run by
// crates/server/tests/js_sdk.rs with the environment the server's banner prints (its
// `export` line, plus AWS_ENDPOINT_URL_KMS), which asserts on the JSON this prints.
//
//   node describe.mjs http    # a server started with --admin
//   node describe.mjs https   # a server started with --tls-self-signed
//   node describe.mjs untrusted   # the same, without NODE_EXTRA_CA_CERTS
//   node describe.mjs global   # a role profile, with AWS_ENDPOINT_URL for every service
import { createRequire } from "node:module";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import https from "node:https";
import {
  KMSClient,
  KMSServiceException,
  DescribeCustomKeyStoresCommand,
  paginateDescribeCustomKeyStores,
  CustomKeyStoreNotFoundException,
  InvalidMarkerException,
  KMSInternalException,
} from "@aws-sdk/client-kms";
import { NodeHttpHandler } from "@smithy/node-http-handler";

const mode = process.argv[2];
const endpoint = process.env.AWS_ENDPOINT_URL_KMS;
if (!endpoint || !["http", "https", "untrusted", "global"].includes(mode)) {
  throw new Error("usage: AWS_ENDPOINT_URL_KMS=... node describe.mjs http|https|untrusted|global");
}
const require = createRequire(import.meta.url);
const out = {
  sdk: require("@aws-sdk/client-kms/package.json").version,
  handler: require("@smithy/node-http-handler/package.json").version,
};

// Credentials, region and endpoint from the environment (the banner's export line and
// AWS_ENDPOINT_URL_KMS), as a suite configured by its CI would get them.
const client = (config = {}) => new KMSClient({ ...config });
const describe = (kms, input = {}) => kms.send(new DescribeCustomKeyStoresCommand(input));
const ids = (page) => page.CustomKeyStores.map((s) => s.CustomKeyStoreId);
const paged = async (kms, pageSize) => {
  const all = [];
  let pages = 0;
  for await (const page of paginateDescribeCustomKeyStores({ client: kms, pageSize }, {})) {
    pages += 1;
    all.push(...ids(page));
  }
  return { pages, ids: all };
};
// What a caller can see of an error: its class, name, status, fault, retryability,
// message and attempts.
const caught = async (call) => {
  try {
    await call();
  } catch (e) {
    return {
      name: e.name,
      kms: e instanceof KMSServiceException,
      notFound: e instanceof CustomKeyStoreNotFoundException,
      invalidMarker: e instanceof InvalidMarkerException,
      internal: e instanceof KMSInternalException,
      status: e.$metadata?.httpStatusCode ?? null,
      fault: e.$fault ?? null,
      retryable: e.$retryable ?? null,
      message: e.message,
      attempts: e.$metadata?.attempts ?? null,
      requestId: e.$metadata?.requestId ?? null,
      code: e.code ?? null,
    };
  }
  return null;
};

if (mode === "https") {
  // The CA given to the SDK's HTTP handler explicitly ...
  const ca = readFileSync(process.env.AWS_CA_BUNDLE);
  const withCa = client({
    requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ ca }) }),
  });
  out.explicit = ids(await describe(withCa));
  out.paged = await paged(withCa, 5);
  out.notFound = await caught(() => describe(withCa, { CustomKeyStoreName: "no-such-store" }));
  // ... and through the environment alone (NODE_EXTRA_CA_CERTS, read by Node at start).
  out.environment = ids(await describe(client()));
} else if (mode === "untrusted") {
  // Without NODE_EXTRA_CA_CERTS and without the CA, the server's certificate is refused.
  const e = await caught(() => describe(client({ maxAttempts: 1 })));
  out.untrusted = e && { name: e.name, code: e.code, kms: e.kms, message: e.message };
} else if (mode === "global") {
  // The endpoint given to every service (AWS_ENDPOINT_URL, not AWS_ENDPOINT_URL_KMS) with a
  // profile that assumes a role: the SDK asks kms-server for STS's AssumeRole, and what
  // it reports is kms-server's answer, saying to give the endpoint to KMS alone.
  const dir = mkdtempSync(join(tmpdir(), "kms-server-js-"));
  try {
    const config = join(dir, "config");
    writeFileSync(
      config,
      "[profile role]\nrole_arn = arn:aws:iam::111122223333:role/demo\nsource_profile = keys\n" +
        `[profile keys]\naws_access_key_id = ${process.env.AWS_ACCESS_KEY_ID}\n` +
        `aws_secret_access_key = ${process.env.AWS_SECRET_ACCESS_KEY}\n`,
    );
    for (const name of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL_KMS"]) {
      delete process.env[name];
    }
    Object.assign(process.env, { AWS_CONFIG_FILE: config, AWS_PROFILE: "role", AWS_ENDPOINT_URL: endpoint });
    out.assumeRole = await caught(() => describe(client({ maxAttempts: 1 })));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} else {
  const admin = async (path, body, method = "PUT") => {
    const answer = await fetch(`${endpoint}/_kms-server/${path}`, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!answer.ok) throw new Error(`${method} ${path}: ${answer.status} ${await answer.text()}`);
    return answer.json();
  };
  const kms = client();
  const first = await describe(kms);
  out.plain = { ids: ids(first), truncated: first.Truncated, marker: first.NextMarker ?? null };
  out.creationDate = first.CustomKeyStores[0].CreationDate.toISOString();
  // Limit and Marker by hand, then the paginator.
  const one = await describe(kms, { Limit: 2 });
  const two = await describe(kms, { Limit: 2, Marker: one.NextMarker });
  out.manual = [ids(one), one.Truncated, ids(two), two.Truncated];
  out.paged = await paged(kms, 5);
  out.byId = ids(await describe(kms, { CustomKeyStoreId: "cks-1234567890abcdef6" }));
  out.byName = ids(await describe(kms, { CustomKeyStoreName: "ExampleCloudHSMKeyStore" }));
  // Modeled errors arrive as their classes.
  out.notFound = await caught(() => describe(kms, { CustomKeyStoreName: "no-such-store" }));
  out.invalidMarker = await caught(() => describe(kms, { Marker: "not-a-marker-of-this-server" }));
  // A marker of another listing (without the filter it was issued for).
  out.foreignMarker = await caught(() =>
    describe(kms, { Marker: one.NextMarker, CustomKeyStoreName: "ExampleCloudHSMKeyStore" }),
  );
  // Errors outside the model: KMSServiceException with the wire code as name.
  out.validation = await caught(() => describe(kms, { Limit: 0 }));
  out.both = await caught(() =>
    describe(kms, { CustomKeyStoreId: "cks-1234567890abcdef0", CustomKeyStoreName: "x" }),
  );
  const credentials = {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID,
    secretAccessKey: "not-the-secret-key-of-the-demo-account-00",
  };
  out.wrongSecret = await caught(() => describe(client({ credentials })));
  out.wrongRegion = await caught(() => describe(client({ region: "eu-west-1" })));
  out.sessionWithoutToken = await caught(() =>
    describe(
      client({
        credentials: {
          accessKeyId: "ASIAIOSFODNN7SESSION",
          secretAccessKey: "SessionSecretKeyEXAMPLEKEY000000000000000",
        },
      }),
    ),
  );

  // Retries: two throttled attempts, then the answer on the SDK's third.
  await admin("faults", { FailRate: 0, FailFirst: 2, FailWith: ["ThrottlingException"] });
  await admin("requests", undefined, "DELETE");
  const retried = await describe(client({ maxAttempts: 3 }));
  out.retried = { ids: ids(retried), attempts: retried.$metadata.attempts };
  const journal = (await admin("requests", undefined, "DELETE")).Requests;
  out.retriedJournal = journal.map((r) => [r.ErrorCode ?? null, r.Injected ?? null, r.SdkRequest]);
  out.retriedInvocations = new Set(journal.map((r) => r.SdkInvocationId)).size;
  // KMSInternalException on every attempt: the SDK gives up after maxAttempts.
  await admin("faults", { FailRate: 1, FailWith: ["KMSInternalException"] });
  out.internal = await caught(() => describe(client({ maxAttempts: 2 })));
  out.internalJournal = (await admin("requests", undefined, "DELETE")).Requests.map((r) => [
    r.Status,
    r.ErrorCode,
    r.SdkRequest,
  ]);
  // A slow KMS against the SDK's request timeout (which only warns unless told to throw).
  await admin("faults", { FailRate: 0, LatencyMs: 3000 });
  out.timeout = await caught(() =>
    describe(
      client({
        maxAttempts: 1,
        requestHandler: new NodeHttpHandler({ requestTimeout: 200, throwOnRequestTimeout: true }),
      }),
    ),
  );
  out.reset = await admin("reset", undefined, "POST");
  out.after = ids(await describe(kms));
}
process.stdout.write(JSON.stringify(out));
