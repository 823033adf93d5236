//! A small authoritative DNS server on loopback for discovery and check tests: serves A,
//! AAAA, MX and SRV records from a [`Zone`] over UDP (and TCP), with optional per-name
//! delays so tests can make one lookup slower than a deadline, and per-name failure codes
//! (SERVFAIL, REFUSED) for resolver failures. In-process (hickory-proto messages), on a
//! thread and runtime of its own; stopped when dropped. [`SilentDns`] is a DNS server that
//! never answers.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, MX, SRV};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// Response codes for [`Zone::fail`].
pub use hickory_proto::op::ResponseCode as Rcode;

/// The records served, by lowercase name without the root dot.
#[derive(Clone, Debug, Default)]
pub struct Zone {
    records: HashMap<String, Vec<RData>>,
    delays: HashMap<String, Duration>,
    failures: HashMap<String, ResponseCode>,
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn dns_name(name: &str) -> anyhow::Result<Name> {
    if name == "." || name.is_empty() {
        return Ok(Name::root());
    }
    Name::from_ascii(format!("{}.", name.trim_end_matches('.')))
        .with_context(|| format!("bad DNS name {name}"))
}

impl Zone {
    /// An empty zone (every name is NXDOMAIN).
    pub fn new() -> Self {
        Self::default()
    }

    fn push(&mut self, name: &str, rdata: RData) {
        self.records.entry(key(name)).or_default().push(rdata);
    }

    /// An A or AAAA record.
    pub fn addr(mut self, name: &str, ip: &str) -> Self {
        match ip.parse::<IpAddr>() {
            Ok(IpAddr::V4(v4)) => self.push(name, RData::A(A(v4))),
            Ok(IpAddr::V6(v6)) => self.push(name, RData::AAAA(AAAA(v6))),
            Err(_) => panic!("bad IP {ip} in test zone"),
        }
        self
    }

    /// An MX record.
    pub fn mx(mut self, name: &str, preference: u16, exchange: &str) -> Self {
        let exchange = dns_name(exchange).unwrap_or_else(|e| panic!("{e}"));
        self.push(name, RData::MX(MX::new(preference, exchange)));
        self
    }

    /// An SRV record (`target` "." for "service not offered").
    pub fn srv(mut self, name: &str, priority: u16, weight: u16, port: u16, target: &str) -> Self {
        let target = dns_name(target).unwrap_or_else(|e| panic!("{e}"));
        self.push(name, RData::SRV(SRV::new(priority, weight, port, target)));
        self
    }

    /// Answers for `name` (any type) only after `delay`.
    pub fn delay(mut self, name: &str, delay: Duration) -> Self {
        self.delays.insert(key(name), delay);
        self
    }

    /// Answers every query for `name` with `code` (SERVFAIL, REFUSED...) and no records.
    pub fn fail(mut self, name: &str, code: ResponseCode) -> Self {
        self.failures.insert(key(name), code);
        self
    }

    /// The response to one query message.
    fn answer(&self, query: &Message) -> Message {
        let mut resp = Message::new();
        resp.set_id(query.id())
            .set_message_type(MessageType::Response)
            .set_op_code(query.op_code())
            .set_recursion_desired(query.recursion_desired())
            .set_recursion_available(true)
            .set_authoritative(true);
        let mut code = ResponseCode::NoError;
        for q in query.queries() {
            resp.add_query(q.clone());
            let name = key(&q.name().to_ascii());
            if let Some(failure) = self.failures.get(&name) {
                code = *failure;
                continue;
            }
            let Some(records) = self.records.get(&name) else {
                code = ResponseCode::NXDomain;
                continue;
            };
            for r in records {
                let wanted = q.query_type() == RecordType::ANY || r.record_type() == q.query_type();
                if wanted {
                    resp.add_answer(Record::from_rdata(q.name().clone(), 60, r.clone()));
                }
            }
        }
        resp.set_response_code(code);
        resp
    }

    fn delay_for(&self, query: &Message) -> Option<Duration> {
        query
            .queries()
            .iter()
            .find_map(|q| self.delays.get(&key(&q.name().to_ascii())).copied())
    }
}

/// The DNS server; serves until dropped.
#[derive(Debug)]
pub struct DnsServer {
    /// Where it listens (UDP and TCP, same port, 127.0.0.1).
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl DnsServer {
    /// Starts serving `zone` on a free loopback port.
    pub fn start(zone: Zone) -> anyhow::Result<Self> {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").context("bind UDP")?;
        let addr = udp.local_addr()?;
        let tcp = std::net::TcpListener::bind(addr).context("bind TCP on the same port")?;
        udp.set_nonblocking(true)?;
        tcp.set_nonblocking(true)?;
        let zone = Arc::new(zone);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                let (Ok(udp), Ok(tcp)) = (
                    tokio::net::UdpSocket::from_std(udp),
                    tokio::net::TcpListener::from_std(tcp),
                ) else {
                    return;
                };
                let udp = Arc::new(udp);
                tokio::select! {
                    _ = stop_rx => {}
                    () = serve_udp(udp, zone.clone()) => {}
                    () = serve_tcp(tcp, zone) => {}
                }
            });
        });
        Ok(Self {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

async fn serve_udp(socket: Arc<tokio::net::UdpSocket>, zone: Arc<Zone>) {
    let mut buf = vec![0u8; 4096];
    loop {
        let Ok((n, peer)) = socket.recv_from(&mut buf).await else {
            continue;
        };
        let Ok(query) = Message::from_vec(&buf[..n]) else {
            continue;
        };
        let socket = socket.clone();
        let zone = zone.clone();
        tokio::spawn(async move {
            if let Some(d) = zone.delay_for(&query) {
                tokio::time::sleep(d).await;
            }
            if let Ok(bytes) = zone.answer(&query).to_vec() {
                let _ = socket.send_to(&bytes, peer).await;
            }
        });
    }
}

async fn serve_tcp(listener: tokio::net::TcpListener, zone: Arc<Zone>) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let zone = zone.clone();
        tokio::spawn(async move {
            let mut len = [0u8; 2];
            while stream.read_exact(&mut len).await.is_ok() {
                let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
                if stream.read_exact(&mut buf).await.is_err() {
                    return;
                }
                let Ok(query) = Message::from_vec(&buf) else {
                    return;
                };
                if let Some(d) = zone.delay_for(&query) {
                    tokio::time::sleep(d).await;
                }
                let Ok(bytes) = zone.answer(&query).to_vec() else {
                    return;
                };
                let Ok(n) = u16::try_from(bytes.len()) else {
                    return;
                };
                if stream.write_all(&n.to_be_bytes()).await.is_err()
                    || stream.write_all(&bytes).await.is_err()
                {
                    return;
                }
            }
        });
    }
}

/// A DNS server that never answers: a UDP socket and a TCP listener on one loopback port
/// that take queries and connections and say nothing (a resolver that is down or whose
/// packets are dropped). Closed when dropped.
#[derive(Debug)]
pub struct SilentDns {
    /// Where it listens (UDP and TCP, same port, 127.0.0.1).
    pub addr: SocketAddr,
    _udp: std::net::UdpSocket,
    _tcp: std::net::TcpListener,
}

impl SilentDns {
    /// Binds a free loopback port. Queries pile up unread in the socket's buffer; TCP
    /// connections wait in the accept queue.
    pub fn start() -> anyhow::Result<Self> {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").context("bind UDP")?;
        let addr = udp.local_addr()?;
        let tcp = std::net::TcpListener::bind(addr).context("bind TCP on the same port")?;
        Ok(Self {
            addr,
            _udp: udp,
            _tcp: tcp,
        })
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
