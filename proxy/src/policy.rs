//! The egress policy: which addresses and ports the proxy may connect to on a user's behalf,
//! so that it is not an open relay or a port scanner into the operator's network.
//!
//! Invariant: every socket the proxy opens to a mail server goes to a `SocketAddr` that
//! [`EgressPolicy::check`] accepted; names are resolved once and the checked address is the
//! one connected to (no second resolution).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The ports mail servers listen on: IMAP 143/993, POP3 110/995, SMTP 25/465/587/2525.
pub const MAIL_PORTS: [u16; 8] = [143, 993, 110, 995, 25, 465, 587, 2525];

/// The web ports discovery may fetch autoconfig documents from: HTTP 80 and HTTPS 443.
pub const WEB_PORTS: [u16; 2] = [80, 443];

/// What the operator allows beyond the safe defaults.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EgressPolicy {
    /// Allow ports other than [`MAIL_PORTS`] (`--allow-any-port`).
    pub allow_any_port: bool,
    /// Allow loopback, private, link-local and other non-public addresses
    /// (`--allow-private-targets`; tests and on-premises mail servers).
    pub allow_private_targets: bool,
}

/// Why the policy refused a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The port is not a mail port.
    #[error("port {0} is not a mail port (allowed: 143, 993, 110, 995, 25, 465, 587, 2525)")]
    PortNotAllowed(u16),
    /// The port is not a web port (autoconfig fetches).
    #[error("port {0} is not a web port (allowed: 80, 443)")]
    WebPortNotAllowed(u16),
    /// The address is not a public unicast address.
    #[error("{addr} is a {class} address, which this proxy does not connect to")]
    AddressNotAllowed {
        /// The refused address.
        addr: IpAddr,
        /// Its class, in words ("loopback", "private"...).
        class: &'static str,
    },
}

impl PolicyError {
    /// The refusal in every language.
    pub fn message(&self) -> mailsetup_shared::api::Text {
        use mailsetup_shared::api::Text;
        match self {
            Self::PortNotAllowed(port) => Text::new(
                self.to_string(),
                format!(
                    "порт {port} не почтовый (разрешены: 143, 993, 110, 995, 25, 465, 587, 2525)"
                ),
            ),
            Self::WebPortNotAllowed(port) => Text::new(
                self.to_string(),
                format!("порт {port} не веб-порт (разрешены: 80, 443)"),
            ),
            Self::AddressNotAllowed { addr, .. } => Text::new(
                self.to_string(),
                format!(
                    "{addr} не публичный адрес в интернете; к таким адресам этот сервис не \
                     подключается"
                ),
            ),
        }
    }
}

impl EgressPolicy {
    /// Whether the port alone is allowed.
    pub fn check_port(&self, port: u16) -> Result<(), PolicyError> {
        if self.allow_any_port || MAIL_PORTS.contains(&port) {
            Ok(())
        } else {
            Err(PolicyError::PortNotAllowed(port))
        }
    }

    /// Whether discovery may fetch a web document (autoconfig, ISPDB) from `addr`: only
    /// ports 80 and 443 (any with `allow_any_port`), and the same address classes as
    /// [`Self::check`]. Mail checks never use this.
    pub fn check_web(&self, addr: SocketAddr) -> Result<(), PolicyError> {
        if !self.allow_any_port && !WEB_PORTS.contains(&addr.port()) {
            return Err(PolicyError::WebPortNotAllowed(addr.port()));
        }
        self.check_address(addr)
    }

    /// Whether the proxy may reach an endpoint the operator configured (an OAuth token
    /// endpoint) at `addr`: any port, since the operator named it, but the same address
    /// classes as [`Self::check`], so a name that resolves to loopback or a private
    /// network is refused unless `allow_private_targets`.
    pub fn check_configured_endpoint(&self, addr: SocketAddr) -> Result<(), PolicyError> {
        self.check_address(addr)
    }

    /// Whether the address class of `addr` is allowed (the port is not looked at).
    fn check_address(&self, addr: SocketAddr) -> Result<(), PolicyError> {
        if self.allow_private_targets {
            return Ok(());
        }
        match non_public_class(addr.ip()) {
            Some(class) => Err(PolicyError::AddressNotAllowed {
                addr: addr.ip(),
                class,
            }),
            None => Ok(()),
        }
    }

    /// Whether the proxy may connect to `addr`.
    pub fn check(&self, addr: SocketAddr) -> Result<(), PolicyError> {
        self.check_port(addr.port())?;
        if self.allow_private_targets {
            return Ok(());
        }
        match non_public_class(addr.ip()) {
            Some(class) => Err(PolicyError::AddressNotAllowed {
                addr: addr.ip(),
                class,
            }),
            None => Ok(()),
        }
    }
}

/// The class of a non-public address, or `None` for a public unicast one.
pub fn non_public_class(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_class(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4_class(v4).map(|_| "IPv4-mapped non-public");
            }
            v6_class(v6)
        }
    }
}

fn v4_class(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    if ip.is_unspecified() || o[0] == 0 {
        Some("unspecified")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if ip.is_broadcast() || o[0] >= 240 {
        Some("reserved")
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        Some("shared (carrier-grade NAT)")
    } else if o[0] == 198 && (o[1] & 0xfe) == 18 {
        Some("benchmarking")
    } else if (o[0] == 192 && o[1] == 0 && (o[2] == 0 || o[2] == 2))
        || (o[0] == 198 && o[1] == 51 && o[2] == 100)
        || (o[0] == 203 && o[1] == 0 && o[2] == 113)
    {
        Some("documentation or protocol-assignment")
    } else {
        None
    }
}

/// The IPv4 address in segments `hi` and `lo` of an IPv6 address.
fn v4_from(hi: u16, lo: u16) -> Ipv4Addr {
    let [a, b] = hi.to_be_bytes();
    let [c, d] = lo.to_be_bytes();
    Ipv4Addr::new(a, b, c, d)
}

/// IPv6 classes. Only global unicast (2000::/3) is public, and within it every form that
/// carries an IPv4 address (6to4, Teredo, NAT64, ISATAP) is judged by that address, so no
/// IPv6 spelling reaches an IPv4 target the policy refuses.
fn v6_class(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    if s[0..6] == [0, 0, 0, 0, 0, 0] {
        return Some("IPv4-compatible (deprecated)");
    }
    // SIIT's IPv4-translated form, ::ffff:0:a.b.c.d (RFC 2765).
    if s[0..6] == [0, 0, 0, 0, 0xffff, 0] {
        return v4_class(v4_from(s[6], s[7])).map(|_| "IPv4-translated non-public");
    }
    if s[0] == 0x0064 && s[1] == 0xff9b {
        if s[2..6] == [0, 0, 0, 0] {
            // NAT64's well-known prefix 64:ff9b::/96 (RFC 6052): judge the IPv4 address.
            return v4_class(v4_from(s[6], s[7])).map(|_| "NAT64 non-public");
        }
        // 64:ff9b:1::/48 is for local NAT64 networks (RFC 8215): never public.
        return Some("local-use NAT64");
    }
    if ip.is_multicast() {
        return Some("multicast");
    }
    if (s[0] & 0xffc0) == 0xfe80 {
        return Some("link-local");
    }
    if (s[0] & 0xfe00) == 0xfc00 {
        return Some("unique-local");
    }
    if (s[0] & 0xffc0) == 0xfec0 {
        return Some("site-local");
    }
    if s[0] & 0xe000 != 0x2000 {
        // Outside 2000::/3: not assigned for global unicast (100::/64 discard, ...).
        return Some("reserved");
    }
    if s[0] == 0x2001 && s[1] == 0x0db8 || (s[0] & 0xfff0) == 0x3ff0 {
        return Some("documentation");
    }
    if s[0] == 0x2001 && s[1] == 0 {
        // Teredo (RFC 4380): the server's address in clear, the client's inverted.
        let server = v4_from(s[2], s[3]);
        let client = v4_from(!s[6], !s[7]);
        if v4_class(server).is_some() || v4_class(client).is_some() {
            return Some("Teredo non-public");
        }
        return None;
    }
    if s[0] == 0x2001 && s[1] < 0x0200 {
        // The rest of 2001::/23: IETF protocol assignments (ORCHID, benchmarking, AMT...).
        return Some("protocol-assignment");
    }
    if s[0] == 0x2002 {
        // 6to4 (RFC 3056): 2002:a.b.c.d::/48.
        return v4_class(v4_from(s[1], s[2])).map(|_| "6to4 non-public");
    }
    if (s[4] & 0xfdff) == 0 && s[5] == 0x5efe {
        // ISATAP interface identifier (RFC 5214): ::0:5efe:a.b.c.d or ::200:5efe:a.b.c.d.
        return v4_class(v4_from(s[6], s[7])).map(|_| "ISATAP non-public");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(ip: &str) -> bool {
        let addr = SocketAddr::new(ip.parse().unwrap(), 993);
        EgressPolicy::default().check(addr).is_err()
    }

    #[test]
    fn refuses_every_non_public_class() {
        for ip in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "100.64.0.1",
            "198.18.0.1",
            "192.0.2.1",
            "::",
            "::1",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2001:db8::1",
            "::127.0.0.1",
        ] {
            assert!(refused(ip), "{ip} should be refused");
        }
    }

    /// Every IPv6 form that carries an IPv4 address is judged by that address (or refused
    /// outright when its range is never public).
    #[test]
    fn ipv6_forms_embedding_ipv4_are_judged_by_the_ipv4_address() {
        let table = [
            // (address, refused?)
            ("::ffff:127.0.0.1", true),                     // IPv4-mapped
            ("::ffff:8.8.8.8", false),                      // IPv4-mapped, public
            ("::ffff:0:127.0.0.1", true),                   // SIIT IPv4-translated
            ("::ffff:0:10.1.2.3", true),                    // SIIT, private
            ("::ffff:0:8.8.8.8", false),                    // SIIT, public
            ("::127.0.0.1", true),                          // IPv4-compatible
            ("::8.8.8.8", true),                            // IPv4-compatible, deprecated outright
            ("2002:7f00:1::", true),                        // 6to4 of 127.0.0.1
            ("2002:7f00:1::1", true),                       // 6to4 of 127.0.0.1, host part
            ("2002:a00:1::", true),                         // 6to4 of 10.0.0.1
            ("2002:c0a8:101::", true),                      // 6to4 of 192.168.1.1
            ("2002:a9fe:a9fe::", true),                     // 6to4 of 169.254.169.254
            ("2002:808:808::", false),                      // 6to4 of 8.8.8.8
            ("2001:0:4136:e378:8000:63bf:80ff:fffe", true), // Teredo, client 127.0.0.1
            ("2001:0:7f00:1::", true),                      // Teredo, server 127.0.0.1
            ("2001:0:808:808:0:0:f7f7:f7f7", false), // Teredo, server 8.8.8.8, client 8.8.8.8
            ("64:ff9b::7f00:1", true),               // NAT64 well-known, 127.0.0.1
            ("64:ff9b::a00:1", true),                // NAT64 well-known, 10.0.0.1
            ("64:ff9b::808:808", false),             // NAT64 well-known, 8.8.8.8
            ("64:ff9b:1::7f00:1", true),             // local-use NAT64 /48, any form
            ("64:ff9b:1:7f00:1::", true),            // local-use NAT64 with a /64 prefix
            ("64:ff9b:1::808:808", true),            // local-use NAT64 even with a public v4
            ("2a00:1450:4010::5efe:7f00:1", true),   // ISATAP of 127.0.0.1
            ("2a00:1450:4010:0:200:5efe:a00:1", true), // ISATAP of 10.0.0.1
            ("100::1", true),                        // discard-only
            ("2001:2::1", true),                     // benchmarking
            ("2001:10::1", true),                    // ORCHID
            ("3fff::1", true),                       // documentation (RFC 9637)
            ("4000::1", true),                       // outside global unicast
        ];
        for (ip, should_refuse) in table {
            assert_eq!(refused(ip), should_refuse, "{ip}");
        }
    }

    #[test]
    fn accepts_public_unicast() {
        for ip in [
            "142.250.1.108",
            "77.88.21.125",
            "2a00:1450:4010::6c",
            "::ffff:8.8.8.8",
        ] {
            assert!(!refused(ip), "{ip} should be allowed");
        }
    }

    #[test]
    fn only_mail_ports_by_default() {
        let p = EgressPolicy::default();
        let ip: IpAddr = "142.250.1.108".parse().unwrap();
        for port in MAIL_PORTS {
            assert!(p.check(SocketAddr::new(ip, port)).is_ok());
        }
        for port in [22, 80, 443, 6379, 8080, 10993] {
            assert_eq!(
                p.check(SocketAddr::new(ip, port)),
                Err(PolicyError::PortNotAllowed(port))
            );
        }
        let open = EgressPolicy {
            allow_any_port: true,
            allow_private_targets: true,
        };
        assert!(open.check("127.0.0.1:10993".parse().unwrap()).is_ok());
    }

    #[test]
    fn web_ports_only_for_web_fetches() {
        let p = EgressPolicy::default();
        let ip: IpAddr = "142.250.1.108".parse().unwrap();
        for port in WEB_PORTS {
            assert!(p.check_web(SocketAddr::new(ip, port)).is_ok());
            assert!(p.check(SocketAddr::new(ip, port)).is_err());
        }
        for port in [993, 8443, 22] {
            assert_eq!(
                p.check_web(SocketAddr::new(ip, port)),
                Err(PolicyError::WebPortNotAllowed(port))
            );
        }
        assert!(matches!(
            p.check_web("127.0.0.1:443".parse().unwrap()),
            Err(PolicyError::AddressNotAllowed { .. })
        ));
        assert!(matches!(
            p.check_web("[::ffff:10.0.0.1]:80".parse().unwrap()),
            Err(PolicyError::AddressNotAllowed { .. })
        ));
        let open = EgressPolicy {
            allow_any_port: true,
            allow_private_targets: true,
        };
        assert!(open.check_web("127.0.0.1:8443".parse().unwrap()).is_ok());
    }
}
