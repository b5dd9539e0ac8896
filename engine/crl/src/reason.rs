//! Revocation reasons (RFC 5280 §5.3.1), with the names used in every output.
//!
//! ```text
//! CRLReason ::= ENUMERATED {
//!      unspecified             (0),
//!      keyCompromise           (1),
//!      cACompromise            (2),
//!      affiliationChanged      (3),
//!      superseded              (4),
//!      cessationOfOperation    (5),
//!      certificateHold         (6),
//!           -- value 7 is not used
//!      removeFromCRL           (8),
//!      privilegeWithdrawn      (9),
//!      aACompromise           (10) }
//! ```
//! An entry without a reasonCode has no reason (`None`), which is not the same
//! as an explicit `unspecified`.

use std::fmt;

/// A CRLReason value. `#[repr(u8)]` with the RFC 5280 codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Reason {
    Unspecified = 0,
    KeyCompromise = 1,
    CaCompromise = 2,
    /// In JPKI: the basic four information (name, address, date of birth,
    /// gender) changed.
    AffiliationChanged = 3,
    Superseded = 4,
    CessationOfOperation = 5,
    CertificateHold = 6,
    RemoveFromCrl = 8,
    PrivilegeWithdrawn = 9,
    AaCompromise = 10,
}

impl Reason {
    /// Every reason, in code order.
    pub const ALL: [Reason; 10] = [
        Reason::Unspecified,
        Reason::KeyCompromise,
        Reason::CaCompromise,
        Reason::AffiliationChanged,
        Reason::Superseded,
        Reason::CessationOfOperation,
        Reason::CertificateHold,
        Reason::RemoveFromCrl,
        Reason::PrivilegeWithdrawn,
        Reason::AaCompromise,
    ];

    /// From the numeric code; `None` for 7 and anything above 10.
    #[inline]
    pub fn from_code(code: u8) -> Option<Reason> {
        Some(match code {
            0 => Reason::Unspecified,
            1 => Reason::KeyCompromise,
            2 => Reason::CaCompromise,
            3 => Reason::AffiliationChanged,
            4 => Reason::Superseded,
            5 => Reason::CessationOfOperation,
            6 => Reason::CertificateHold,
            8 => Reason::RemoveFromCrl,
            9 => Reason::PrivilegeWithdrawn,
            10 => Reason::AaCompromise,
            _ => return None,
        })
    }

    /// The RFC 5280 code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The RFC 5280 name, exactly as written there.
    pub fn name(self) -> &'static str {
        match self {
            Reason::Unspecified => "unspecified",
            Reason::KeyCompromise => "keyCompromise",
            Reason::CaCompromise => "cACompromise",
            Reason::AffiliationChanged => "affiliationChanged",
            Reason::Superseded => "superseded",
            Reason::CessationOfOperation => "cessationOfOperation",
            Reason::CertificateHold => "certificateHold",
            Reason::RemoveFromCrl => "removeFromCRL",
            Reason::PrivilegeWithdrawn => "privilegeWithdrawn",
            Reason::AaCompromise => "aACompromise",
        }
    }

    /// From the RFC 5280 name.
    pub fn from_name(name: &str) -> Option<Reason> {
        Reason::ALL.iter().copied().find(|r| r.name() == name)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Compact storage: the code, or [`NO_REASON`] for an entry without one.
pub const NO_REASON: u8 = 0xff;

/// Encode an optional reason in one octet.
#[inline]
pub fn reason_to_u8(r: Option<Reason>) -> u8 {
    r.map_or(NO_REASON, Reason::code)
}

/// Decode [`reason_to_u8`]; unknown codes read as `None`.
#[inline]
pub fn reason_from_u8(v: u8) -> Option<Reason> {
    if v == NO_REASON {
        None
    } else {
        Reason::from_code(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names() {
        for r in Reason::ALL {
            assert_eq!(Reason::from_code(r.code()), Some(r));
            assert_eq!(Reason::from_name(r.name()), Some(r));
            assert_eq!(reason_from_u8(reason_to_u8(Some(r))), Some(r));
        }
        assert_eq!(Reason::from_code(7), None);
        assert_eq!(Reason::from_code(11), None);
        assert_eq!(Reason::AffiliationChanged.name(), "affiliationChanged");
        assert_eq!(Reason::CaCompromise.name(), "cACompromise");
        assert_eq!(reason_from_u8(reason_to_u8(None)), None);
    }
}
