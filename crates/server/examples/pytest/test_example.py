"""Tests of code that reads custom key stores, against kms-server: the fixtures are
conftest.py's, the stores stores.json's. From the repository's root:

    cargo build -p kms-server
    KMS_SERVER=target/debug/kms-server python3 -m pytest crates/server/examples/pytest
"""

import pytest
from botocore.config import Config


def connected_store_ids(kms):
    """The code under test: the ids of the connected custom key stores."""
    pages = kms.get_paginator("describe_custom_key_stores").paginate()
    return [
        store["CustomKeyStoreId"]
        for page in pages
        for store in page["CustomKeyStores"]
        if store["ConnectionState"] == "CONNECTED"
    ]


def test_describe_custom_key_stores(kms_client):
    answer = kms_client().describe_custom_key_stores(CustomKeyStoreName="prod-xks")
    [store] = answer["CustomKeyStores"]
    assert store["ConnectionState"] == "FAILED"
    assert store["ConnectionErrorCode"] == "XKS_PROXY_TIMED_OUT"
    assert store["XksProxyConfiguration"]["UriEndpoint"] == "https://xks.example.com"


def test_the_paginator_follows_the_markers(kms_client):
    paginator = kms_client().get_paginator("describe_custom_key_stores")
    pages = paginator.paginate(PaginationConfig={"PageSize": 2})
    assert [[s["CustomKeyStoreName"] for s in p["CustomKeyStores"]] for p in pages] == [
        ["prod-hsm", "prod-xks"],
        ["staging-hsm"],
    ]


def test_an_unknown_store_is_not_found(kms_client):
    kms = kms_client()
    with pytest.raises(kms.exceptions.CustomKeyStoreNotFoundException):
        kms.describe_custom_key_stores(CustomKeyStoreName="no-such-store")


def test_a_store_that_disconnects(kms_server, kms_client):
    kms = kms_client()
    assert connected_store_ids(kms) == ["cks-00000000000000001"]
    # Read the stores served (--data format), change one, serve them.
    data = kms_server.admin("stores", method="GET")
    for store in data["Stores"][0]["CustomKeyStores"]:
        if store["CustomKeyStoreName"] == "prod-hsm":
            store["ConnectionState"] = "DISCONNECTED"
    kms_server.admin("stores", data)
    assert connected_store_ids(kms) == []
    # What the next test gets: the stores of stores.json again.
    kms_server.admin("reset", method="POST")
    assert connected_store_ids(kms) == ["cks-00000000000000001"]


def test_retries_ride_out_throttling(kms_server, kms_client):
    # The next two calls are throttled; botocore's third attempt gets the stores.
    faults = {"FailRate": 0, "FailFirst": 2, "FailWith": ["ThrottlingException"]}
    kms_server.admin("faults", faults)
    kms = kms_client(config=Config(retries={"mode": "standard", "max_attempts": 3}))
    assert connected_store_ids(kms) == ["cks-00000000000000001"]
    # The requests the server answered: each attempt.
    answered = kms_server.admin("requests", method="GET")["Requests"]
    assert [r.get("ErrorCode") for r in answered] == [
        "ThrottlingException",
        "ThrottlingException",
        None,
    ]
