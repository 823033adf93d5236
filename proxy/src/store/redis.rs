//! The Redis [`Store`] (`--redis-url`): every replica sees the same counts.
//!
//! Every operation is one round trip: a Lua script (run atomically by Redis) or one
//! command, so two replicas never interleave a read and a write. Times come from the
//! Redis server's own clock (`TIME` inside the scripts), so replicas whose clocks differ
//! still agree. Every key expires by itself, so Redis memory stays bounded by the
//! traffic of one window.
//!
//! The connection is a `redis::aio::ConnectionManager` made on first use: the proxy
//! starts (not ready) while Redis is down, every command has a deadline, and after a
//! connection-level error the manager is made anew on the next operation, so the proxy
//! reconnects by itself when Redis returns.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::Mutex;

use super::{Events, RedisUrl, Store, StoreError};
use crate::metrics::Metrics;

/// Deadline of one operation, connecting included.
pub const OP_TIMEOUT: Duration = Duration::from_secs(2);

/// Every key this proxy writes starts with this.
pub const KEY_PREFIX: &str = "mailsetup:";

/// Adds an event to a sorted set scored by the server's time in microseconds, drops
/// events older than the window and all but the newest `keep`, and sets the expiry.
/// KEYS[1] = key; ARGV = window (µs), keep, a member unique to this call.
const ADD_EVENT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - window))
redis.call('ZADD', KEYS[1], string.format('%.0f', now), ARGV[3])
local n = redis.call('ZCARD', KEYS[1])
local keep = tonumber(ARGV[2])
if n > keep then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - keep - 1) end
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
return n
";

/// The events within the window: `{count, age of the oldest in µs}`.
/// KEYS[1] = key; ARGV[1] = window (µs).
const EVENTS: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - tonumber(ARGV[1])))
local n = redis.call('ZCARD', KEYS[1])
if n == 0 then return {0, 0} end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {n, now - tonumber(first[2])}
";

/// A token bucket in a hash (`tokens`, `last` in µs of server time); a missing bucket is
/// full. Returns 0 when a token was taken, else the wait in µs.
/// KEYS[1] = key; ARGV = capacity, period (µs) of a full refill.
const TAKE_TOKEN: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local cap = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local rate = cap / period
local v = redis.call('HMGET', KEYS[1], 'tokens', 'last')
local tokens = tonumber(v[1])
local last = tonumber(v[2])
if tokens == nil or last == nil then tokens = cap; last = now end
tokens = math.min(cap, tokens + math.max(0, now - last) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) / rate) end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'last', string.format('%.0f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(period / 1000))
return wait
";

/// A value and its remaining lifetime in ms, or nil. KEYS[1] = key.
const GET: &str = r"
local v = redis.call('GET', KEYS[1])
if not v then return nil end
return {v, redis.call('PTTL', KEYS[1])}
";

/// The Redis-backed store.
pub struct RedisStore {
    client: redis::Client,
    url: RedisUrl,
    conn: Mutex<Option<ConnectionManager>>,
    metrics: Arc<Metrics>,
    scripts: Scripts,
    /// Makes event members unique across calls of this process.
    nonce: std::sync::atomic::AtomicU64,
    /// Tells this process's event members from other replicas'.
    instance: u64,
}

struct Scripts {
    add_event: redis::Script,
    events: redis::Script,
    take_token: redis::Script,
    get: redis::Script,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

impl RedisStore {
    /// A store for `url`; nothing is connected until the first operation.
    pub fn new(url: &RedisUrl, metrics: Arc<Metrics>) -> anyhow::Result<Self> {
        let client = redis::Client::open(url.expose())
            .map_err(|e| anyhow::anyhow!("--redis-url {url}: {e}"))?;
        let instance = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(0))
            ^ u64::from(std::process::id()).rotate_left(32);
        Ok(Self {
            client,
            url: url.clone(),
            conn: Mutex::new(None),
            metrics,
            scripts: Scripts {
                add_event: redis::Script::new(ADD_EVENT),
                events: redis::Script::new(EVENTS),
                take_token: redis::Script::new(TAKE_TOKEN),
                get: redis::Script::new(GET),
            },
            nonce: std::sync::atomic::AtomicU64::new(0),
            instance,
        })
    }

    /// The connection manager, made on first use (and anew after a connection failure).
    async fn connection(&self) -> Result<ConnectionManager, redis::RedisError> {
        let mut slot = self.conn.lock().await;
        if let Some(conn) = slot.as_ref() {
            return Ok(conn.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(self.client.clone(), config)?;
        *slot = Some(conn.clone());
        Ok(conn)
    }

    /// Runs one operation with the deadline, counting it and its errors.
    async fn run<T, F, Fut>(&self, op: &'static str, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = Result<T, redis::RedisError>>,
    {
        self.metrics.store_operation(op);
        let result = tokio::time::timeout(OP_TIMEOUT, async {
            let conn = self.connection().await?;
            f(conn).await
        })
        .await;
        let err = match result {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(err)) => {
                if err.is_io_error()
                    || err.is_timeout()
                    || err.is_connection_dropped()
                    || err.is_connection_refusal()
                    || err.is_unrecoverable_error()
                {
                    self.conn.lock().await.take();
                }
                err.to_string()
            }
            Err(_) => {
                self.conn.lock().await.take();
                format!("no answer within {} s", OP_TIMEOUT.as_secs())
            }
        };
        self.metrics.redis_error(op);
        tracing::warn!(op, error = %err, redis = %self.url, "redis operation failed");
        Err(StoreError(err))
    }
}

fn prefixed(key: &str) -> String {
    format!("{KEY_PREFIX}{key}")
}

#[async_trait::async_trait]
impl Store for RedisStore {
    async fn add_event(&self, key: &str, window: Duration, keep: u32) -> Result<(), StoreError> {
        let n = self
            .nonce
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let member = format!("{:x}-{n:x}", self.instance);
        let key = prefixed(key);
        self.run("add_event", |mut conn| async move {
            self.scripts
                .add_event
                .key(&key)
                .arg(micros(window))
                .arg(keep.max(1))
                .arg(member)
                .invoke_async::<i64>(&mut conn)
                .await
                .map(|_| ())
        })
        .await
    }

    async fn events(&self, key: &str, window: Duration) -> Result<Events, StoreError> {
        let key = prefixed(key);
        let (count, age): (i64, i64) = self
            .run("events", |mut conn| async move {
                self.scripts
                    .events
                    .key(&key)
                    .arg(micros(window))
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        Ok(Events {
            count: u32::try_from(count.max(0)).unwrap_or(u32::MAX),
            oldest_age: Duration::from_micros(u64::try_from(age.max(0)).unwrap_or(0)),
        })
    }

    async fn clear_events(&self, key: &str) -> Result<(), StoreError> {
        let key = prefixed(key);
        self.run("clear_events", |mut conn| async move {
            redis::cmd("DEL")
                .arg(&key)
                .query_async::<i64>(&mut conn)
                .await
                .map(|_| ())
        })
        .await
    }

    async fn take_token(
        &self,
        key: &str,
        capacity: u32,
        period: Duration,
    ) -> Result<Option<Duration>, StoreError> {
        let key = prefixed(key);
        let wait: i64 = self
            .run("take_token", |mut conn| async move {
                self.scripts
                    .take_token
                    .key(&key)
                    .arg(capacity.max(1))
                    .arg(micros(period))
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        Ok((wait > 0).then(|| Duration::from_micros(u64::try_from(wait).unwrap_or(0))))
    }

    async fn get(&self, key: &str) -> Result<Option<(Vec<u8>, Duration)>, StoreError> {
        let key = prefixed(key);
        let found: Option<(Vec<u8>, i64)> = self
            .run("get", |mut conn| async move {
                self.scripts.get.key(&key).invoke_async(&mut conn).await
            })
            .await?;
        Ok(found.and_then(|(value, pttl)| {
            // -1: no expiry (never written so by us); -2: gone meanwhile.
            let left = u64::try_from(pttl).ok()?;
            Some((value, Duration::from_millis(left)))
        }))
    }

    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        if ms == 0 {
            return Ok(());
        }
        let key = prefixed(key);
        self.run("put", |mut conn| async move {
            redis::cmd("SET")
                .arg(&key)
                .arg(value)
                .arg("PX")
                .arg(ms)
                .query_async::<()>(&mut conn)
                .await
        })
        .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.run("ping", |mut conn| async move {
            redis::cmd("PING")
                .query_async::<String>(&mut conn)
                .await
                .map(|_| ())
        })
        .await
    }

    fn kind(&self) -> &'static str {
        "redis"
    }
}
