//! [`wire_enum!`]: an enum whose values are names on the wire (JSON fields, SSE event
//! names, `data-*` attributes), declared once as `Variant = "name"`, so the serde name,
//! [`as_str`](crate::api::Side::as_str), `from_wire` and `ALL` can never disagree.

/// Declares a fieldless enum whose values travel as strings.
///
/// ```ignore
/// wire_enum! {
///     /// Which side of a check.
///     pub enum Side {
///         /// IMAP or POP3.
///         Incoming = "incoming",
///         /// SMTP.
///         Outgoing = "outgoing",
///     }
/// }
/// ```
///
/// derives `Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize` (more derives
/// and attributes may be given above `pub enum`) and adds `ALL` (declaration order),
/// `as_str`, `from_wire` and `Display` (the wire name).
///
/// A second enum may extend the first with more values: `..First` stands for all of the
/// first's values (names and docs), and `From<First>` is added:
///
/// ```ignore
/// wire_enum! {
///     /// Where a candidate came from.
///     pub enum CandidateSource {
///         /// The domain's MX hosts.
///         Mx = "mx",
///     }
///     /// What a trace entry tried: every [`CandidateSource`], or the cache.
///     pub enum TraceMethod {
///         ..CandidateSource,
///         /// The answer cache.
///         Cache = "cache",
///     }
/// }
/// ```
///
/// Wire names are the variants' names in `snake_case`: serde takes each `"name"`, and the
/// enum also carries `rename_all = "snake_case"` for utoipa's OpenAPI schemas, which read
/// only that (a test in `api` checks the two agree for every wire enum).
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+
        }
        $(#[$xmeta:meta])*
        pub enum $xname:ident {
            ..$base:ident,
            $( $(#[$xvmeta:meta])* $xvariant:ident = $xwire:literal, )+
        }
    ) => {
        wire_enum! {
            $(#[$meta])*
            pub enum $name {
                $( $(#[$vmeta])* $variant = $wire, )+
            }
        }

        wire_enum! {
            $(#[$xmeta])*
            pub enum $xname {
                $( $(#[$vmeta])* $variant = $wire, )+
                $( $(#[$xvmeta])* $xvariant = $xwire, )+
            }
        }

        impl From<$base> for $xname {
            fn from(value: $base) -> Self {
                match value {
                    $($name::$variant => Self::$variant,)+
                }
            }
        }
    };
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $wire)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [Self; [$($wire),+].len()] = [$(Self::$variant),+];

            /// The name on the wire, as in JSON.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)+
                }
            }

            /// The value whose wire name is `name`.
            pub fn from_wire(name: &str) -> Option<Self> {
                Self::ALL.into_iter().find(|v| v.as_str() == name)
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
