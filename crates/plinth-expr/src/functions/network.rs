//! IP network arithmetic: cidrhost, cidrnetmask, cidrsubnet, cidrsubnets — IPv4 and IPv6,
//! as Terraform's.
//!
//! An address is held as a `u128` with its width (32 or 128 bits). As Terraform (a
//! historical accident it keeps), IPv4 octets with leading zeros are read as decimal.
//! The given prefix's host bits are ignored: `10.1.2.3/16` is the network `10.1.0.0/16`.

use std::net::{Ipv4Addr, Ipv6Addr};

use plinth_value::Value;

use super::Arity::{AtLeast, Exact};
use super::Marks::Whole;
use super::{Args, Builtin};
use crate::error::EvalError;

pub(super) const TABLE: &[Builtin] = &[
    Builtin {
        name: "cidrhost",
        arity: Exact(2),
        takes: "a CIDR prefix and a host number (negative: from the end)",
        example: "cidrhost(\"10.12.112.0/20\", 16)",
        marks: Whole,
        run: cidrhost,
    },
    Builtin {
        name: "cidrnetmask",
        arity: Exact(1),
        takes: "an IPv4 CIDR prefix",
        example: "cidrnetmask(\"172.16.0.0/12\")",
        marks: Whole,
        run: cidrnetmask,
    },
    Builtin {
        name: "cidrsubnet",
        arity: Exact(3),
        takes: "a CIDR prefix, the bits to add to it, and the subnet's number",
        example: "cidrsubnet(\"10.0.0.0/16\", 8, 2)",
        marks: Whole,
        run: cidrsubnet,
    },
    Builtin {
        name: "cidrsubnets",
        arity: AtLeast(1),
        takes: "a CIDR prefix, then the bits to add for each consecutive subnet",
        example: "cidrsubnets(\"10.1.0.0/16\", 4, 4, 8, 4)",
        marks: Whole,
        run: cidrsubnets,
    },
];

/// A network: its first address, its prefix length and its width (32 or 128).
#[derive(Clone, Copy)]
struct Net {
    addr: u128,
    len: u32,
    bits: u32,
}

impl Net {
    fn host_bits(self) -> u32 {
        self.bits - self.len
    }

    /// The mask of the first `len` bits of a `bits`-wide address.
    fn mask(len: u32, bits: u32) -> u128 {
        let all = if bits == 128 {
            u128::MAX
        } else {
            (1u128 << bits) - 1
        };
        if len == 0 {
            0
        } else {
            all & !((1u128 << (bits - len)) - 1)
        }
    }

    /// The last address of the network.
    fn last(self) -> u128 {
        self.addr | !Net::mask(self.len, self.bits) & Net::mask(self.bits, self.bits)
    }

    fn text(self, addr: u128) -> String {
        if self.bits == 32 {
            Ipv4Addr::from(addr as u32).to_string()
        } else {
            Ipv6Addr::from(addr).to_string()
        }
    }

    fn cidr(self) -> String {
        format!("{}/{}", self.text(self.addr), self.len)
    }
}

/// Parses argument `i` as `address/length`.
fn prefix(a: &Args<'_>, i: usize) -> Result<Net, EvalError> {
    let s = a.string(i)?;
    let bad = || {
        a.error(i, format!("{} is not a CIDR prefix", a.nth(i)))
            .with_help("a prefix is written like \"10.0.0.0/16\" or \"fd00::/48\"")
    };
    let (ip, len) = s.split_once('/').ok_or_else(bad)?;
    let (addr, bits) = if ip.contains(':') {
        (u128::from(ip.parse::<Ipv6Addr>().map_err(|_| bad())?), 128)
    } else {
        (u128::from(ipv4(ip).ok_or_else(bad)?), 32)
    };
    let len: u32 = len.parse().ok().filter(|l| *l <= bits).ok_or_else(bad)?;
    Ok(Net {
        addr: addr & Net::mask(len, bits),
        len,
        bits,
    })
}

/// Dotted-quad IPv4, leading zeros read as decimal (as Terraform).
fn ipv4(s: &str) -> Option<u32> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut out = 0u32;
    for p in parts {
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        out = (out << 8) | u32::from(p.parse::<u8>().ok()?);
    }
    Some(out)
}

fn cidrhost(a: &Args<'_>) -> Result<Value, EvalError> {
    let net = prefix(a, 0)?;
    let n = a.integer(1)?;
    // The number of addresses, None for 2^128 (a /0 IPv6 prefix).
    let size = 1u128.checked_shl(net.host_bits());
    let back = u128::from(n.unsigned_abs());
    let host = match (n < 0, size) {
        (true, Some(size)) => size.checked_sub(back),
        (true, None) => Some(u128::MAX - (back - 1)),
        (false, Some(size)) => Some(back).filter(|h| *h < size),
        (false, None) => Some(back),
    };
    let host = host.ok_or_else(|| {
        a.error(
            1,
            format!(
                "the host number is outside the prefix, which has {} host bits",
                net.host_bits()
            ),
        )
    })?;
    Ok(Value::String(net.text(net.addr | host)))
}

fn cidrnetmask(a: &Args<'_>) -> Result<Value, EvalError> {
    let net = prefix(a, 0)?;
    if net.bits != 32 {
        return Err(a.error(0, "IPv6 prefixes have no netmask; only IPv4 ones do"));
    }
    Ok(Value::String(net.text(Net::mask(net.len, 32))))
}

/// The subnet `num` of `newbits` more bits inside `net`.
fn subnet(a: &Args<'_>, net: Net, newbits_at: usize, num: u128) -> Result<Net, EvalError> {
    let newbits = a.count(newbits_at)?;
    let len = net.len as usize + newbits;
    if len > net.bits as usize {
        return Err(a.error(
            newbits_at,
            format!(
                "the prefix has only {} bits left to add, so {} is too many",
                net.host_bits(),
                a.nth(newbits_at)
            ),
        ));
    }
    let len = len as u32;
    if newbits < 128 && num >> newbits != 0 {
        return Err(a.error(
            2,
            "the subnet number does not fit in the added bits (it must be less than 2^newbits)",
        )
        .with_help("use a smaller subnet number, or add more bits (the second argument): 8 added bits number subnets 0 to 255"));
    }
    let shift = net.bits - len;
    let offset = num.checked_shl(shift).unwrap_or(0);
    Ok(Net {
        addr: net.addr | offset,
        len,
        bits: net.bits,
    })
}

fn cidrsubnet(a: &Args<'_>) -> Result<Value, EvalError> {
    let net = prefix(a, 0)?;
    let num = a.integer(2)?;
    if num < 0 {
        return Err(a.error(2, "the subnet number must not be negative"));
    }
    Ok(Value::String(subnet(a, net, 1, num as u128)?.cidr()))
}

/// Terraform's cidrsubnets: each subnet starts right after the previous one, aligned to its
/// own size.
fn cidrsubnets(a: &Args<'_>) -> Result<Value, EvalError> {
    let net = prefix(a, 0)?;
    let mut out = Vec::new();
    let mut prev: Option<Net> = None;
    for i in 1..a.len() {
        let first = subnet(a, net, i, 0)?;
        let next = match prev {
            None => first,
            Some(p) => {
                // The subnet of this size holding the previous one's last address, then the
                // one after it.
                let mask = Net::mask(first.len, net.bits);
                let size = 1u128.checked_shl(net.bits - first.len);
                let start = size.and_then(|size| (p.last() & mask).checked_add(size));
                match start.filter(|s| *s <= net.last()) {
                    Some(s) => Net {
                        addr: s & mask,
                        len: first.len,
                        bits: net.bits,
                    },
                    None => {
                        return Err(a.error(
                            i,
                            format!(
                                "not enough address space left for the subnet of {}",
                                a.nth(i)
                            ),
                        ));
                    }
                }
            }
        };
        out.push(Value::String(next.cidr()));
        prev = Some(next);
    }
    Ok(Value::List(out))
}
