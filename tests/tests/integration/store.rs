//! The shared-state store: one suite of behaviour run against both implementations (in
//! memory, and Redis on a private `redis-server`), plus Redis going away and coming back.

use std::sync::Arc;
use std::time::Duration;

use mailsetup_proxy::metrics::Metrics;
use mailsetup_proxy::store::{MemoryStore, RedisStore, RedisUrl, SharedStore};
use mailsetup_tests::redis::RedisServer;

fn redis_store(server: &RedisServer) -> (SharedStore, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::new());
    let url = RedisUrl::parse(&server.url()).unwrap();
    (
        Arc::new(RedisStore::new(&url, metrics.clone()).unwrap()),
        metrics,
    )
}

/// The behaviour every store must have. Keys are made unique per run with `tag`.
async fn conformance(store: SharedStore, tag: &str) {
    let minute = Duration::from_secs(60);
    store.ping().await.unwrap();

    // Event logs: counted within the window, only the newest `keep` kept, cleared.
    let key = format!("{tag}:events");
    assert_eq!(store.events(&key, minute).await.unwrap().count, 0);
    for _ in 0..3 {
        store.add_event(&key, minute, 2).await.unwrap();
    }
    let e = store.events(&key, minute).await.unwrap();
    assert_eq!(e.count, 2);
    assert!(e.oldest_age < Duration::from_secs(5), "{e:?}");
    store.clear_events(&key).await.unwrap();
    assert_eq!(store.events(&key, minute).await.unwrap().count, 0);

    // Events older than the window are forgotten.
    let short = Duration::from_millis(300);
    let key = format!("{tag}:short");
    store.add_event(&key, short, 5).await.unwrap();
    assert_eq!(store.events(&key, short).await.unwrap().count, 1);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(store.events(&key, short).await.unwrap().count, 0);

    // Token buckets: a full bucket, then the wait for the next token.
    let key = format!("{tag}:bucket");
    for _ in 0..3 {
        assert_eq!(store.take_token(&key, 3, minute).await.unwrap(), None);
    }
    let wait = store.take_token(&key, 3, minute).await.unwrap().unwrap();
    assert!(
        wait > Duration::from_secs(19) && wait <= Duration::from_secs(20),
        "{wait:?}"
    );

    // Values with a time to live.
    let key = format!("{tag}:value");
    assert_eq!(store.get(&key).await.unwrap(), None);
    store.put(&key, b"answer", minute).await.unwrap();
    let (value, left) = store.get(&key).await.unwrap().unwrap();
    assert_eq!(value, b"answer");
    assert!(left > Duration::from_secs(58) && left <= minute, "{left:?}");
    store.put(&key, b"short", short).await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(store.get(&key).await.unwrap(), None);

    // Atomicity: many takers at once get exactly the bucket's tokens, many failures at
    // once are all counted.
    let key = format!("{tag}:race");
    let takes = (0..50).map(|_| {
        let store = store.clone();
        let key = key.clone();
        tokio::spawn(async move { store.take_token(&key, 20, minute).await.unwrap() })
    });
    let mut taken = 0;
    for t in takes {
        if t.await.unwrap().is_none() {
            taken += 1;
        }
    }
    assert_eq!(taken, 20);
    let key = format!("{tag}:many");
    let adds = (0..40).map(|_| {
        let store = store.clone();
        let key = key.clone();
        tokio::spawn(async move { store.add_event(&key, minute, 100).await.unwrap() })
    });
    for a in adds {
        a.await.unwrap();
    }
    assert_eq!(store.events(&key, minute).await.unwrap().count, 40);
}

#[tokio::test]
async fn memory_store_behaves() {
    conformance(Arc::new(MemoryStore::new()), "memory").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_behaves_the_same() {
    let server = RedisServer::start().unwrap();
    let (store, metrics) = redis_store(&server);
    conformance(store.clone(), "redis").await;
    // Two clients (two replicas) see the same state.
    let (other, _) = redis_store(&server);
    store
        .add_event("shared", Duration::from_secs(60), 5)
        .await
        .unwrap();
    assert_eq!(
        other
            .events("shared", Duration::from_secs(60))
            .await
            .unwrap()
            .count,
        1
    );
    // Every key expires by itself and carries the prefix.
    let keys = server.command("KEYS *").unwrap();
    assert!(keys.contains("mailsetup:"), "{keys}");
    let ttl = server.command("PTTL mailsetup:shared").unwrap();
    assert!(ttl.starts_with(':') && !ttl.starts_with(":-"), "{ttl}");
    assert!(
        metrics
            .render()
            .contains("mailsetup_store_operations_total{op=\"take_token\"}")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_fails_fast_when_redis_is_gone_and_reconnects_by_itself() {
    let server = RedisServer::start().unwrap();
    let (store, metrics) = redis_store(&server);
    store.ping().await.unwrap();
    server.stop();
    let started = std::time::Instant::now();
    let err = store.ping().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3), "{err}");
    assert!(store.events("x", Duration::from_secs(60)).await.is_err());
    assert!(
        metrics.render().contains("mailsetup_redis_errors_total"),
        "{}",
        metrics.render()
    );
    server.restart().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while store.ping().await.is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "no reconnection within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    store
        .add_event("after", Duration::from_secs(60), 5)
        .await
        .unwrap();
}
