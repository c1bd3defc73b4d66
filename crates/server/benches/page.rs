//! One page of 100 custom key stores fetched in-process through the
//! `DescribeCustomKeyStores` handler (not HTTP) — first page and a page from the
//! middle (continued by a marker) — at 1k, 100k and 1M stores. The cost should stay
//! flat: O(log n + page).

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use kms_server::demo;
use kms_server::handler::{Context, Handler, KeyStore, StoreHandler};
use kms_server::marker::{self, MarkerKey, MarkerScope};
use kms_server::store::{MemoryStore, Owner};
use kms_types::{DescribeCustomKeyStores, DescribeCustomKeyStoresRequest};

fn bench_pages(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let ctx = Context {
        account_id: demo::ACCOUNT_ID.into(),
        region: demo::REGION.into(),
        principal_arn: demo::PRINCIPAL_ARN.into(),
        request_id: "bench".into(),
    };
    let key = MarkerKey::from_passphrase("bench marker key");
    let mut group = c.benchmark_group("describe_custom_key_stores_page_100");
    for n in [1_000u64, 100_000, 1_000_000] {
        let store = MemoryStore::new();
        store
            .bulk_load((1..=n).map(|i| {
                (
                    Owner::new(demo::ACCOUNT_ID, demo::REGION),
                    KeyStore::new(demo::generated_store(i)).unwrap(),
                )
            }))
            .unwrap();
        let handler = StoreHandler::new(Arc::new(store), key.clone());
        let scope = MarkerScope {
            account: demo::ACCOUNT_ID,
            region: demo::REGION,
            filter: "",
        };
        let middle = demo::generated_store(n / 2).custom_key_store_id.unwrap();
        let first = DescribeCustomKeyStoresRequest::builder().limit(100).build();
        let from_middle = DescribeCustomKeyStoresRequest::builder()
            .limit(100)
            .marker(marker::issue(&key, &scope, &middle))
            .build();
        for (label, request) in [("first", first), ("middle", from_middle)] {
            group.bench_with_input(BenchmarkId::new(label, n), &request, |b, request| {
                b.to_async(&runtime).iter(|| async {
                    // What the server sends: the page encoded as its awsJson body.
                    let body = Handler::<DescribeCustomKeyStores>::handle_encoded(
                        &handler,
                        &ctx,
                        request.clone(),
                    )
                    .await
                    .unwrap();
                    assert!(body.starts_with(b"{\"CustomKeyStores\":["));
                    black_box(body)
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_pages);
criterion_main!(benches);
