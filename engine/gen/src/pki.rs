//! Synthetic JPKI certification authorities: two hierarchies (digital
//! signature and user authentication), each in generations that share one
//! distinguished name but have different keys, as J-LIS's do.

use sha1::Digest;

use crate::der_write::{self as w, attr};
use crate::keys::{Key, KeyKind, SigAlg};
use crate::GenError;
use crlbatch_crl::Timestamp;

/// The two JPKI certificate kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Hierarchy {
    /// 署名用電子証明書: carries the basic four information.
    Sign,
    /// 利用者証明用電子証明書: no personal data.
    Auth,
}

impl Hierarchy {
    pub fn short(self) -> &'static str {
        match self {
            Hierarchy::Sign => "sign",
            Hierarchy::Auth => "auth",
        }
    }

    /// The OU that distinguishes the hierarchy in the JPKI DN.
    pub fn ou(self) -> &'static str {
        match self {
            Hierarchy::Sign => "JPKI for digital signature",
            Hierarchy::Auth => "JPKI for user authentication",
        }
    }
}

/// The organisation OU shared by every JPKI CA.
pub const JLIS_OU: &str = "Japan Agency for Local Authority Information Systems";

/// The CA subject: `C=JP, O=JPKI, OU=<hierarchy>, OU=J-LIS` (DER order).
pub fn ca_subject(h: Hierarchy) -> Vec<u8> {
    w::name(&[(attr::C, "JP"), (attr::O, "JPKI"), (attr::OU, h.ou()), (attr::OU, JLIS_OU)])
}

/// One CA to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaSpec {
    pub hierarchy: Hierarchy,
    /// The generation's year (2019, 2023, ...).
    pub generation: u16,
    pub key: KeyKind,
}

impl CaSpec {
    pub fn new(hierarchy: Hierarchy, generation: u16) -> Self {
        Self { hierarchy, generation, key: KeyKind::Rsa2048 }
    }

    /// `sign-2023`, `auth-2019`, ...
    pub fn name(&self) -> String {
        format!("{}-{}", self.hierarchy.short(), self.generation)
    }
}

/// The default PKI: both hierarchies, generations 2019 and 2023.
pub fn default_cas() -> Vec<CaSpec> {
    let mut v = Vec::new();
    for h in [Hierarchy::Sign, Hierarchy::Auth] {
        for g in [2019, 2023] {
            v.push(CaSpec::new(h, g));
        }
    }
    v
}

/// A generated CA.
#[derive(Debug, Clone)]
pub struct Ca {
    pub spec: CaSpec,
    pub key: Key,
    pub alg: SigAlg,
    pub subject_der: Vec<u8>,
    pub spki_der: Vec<u8>,
    /// subjectKeyIdentifier: SHA-1 of the subjectPublicKey (RFC 5280 method 1).
    pub kid: Vec<u8>,
    pub cert_der: Vec<u8>,
}

/// Options for the CA certificate (tests vary them).
#[derive(Debug, Clone)]
pub struct CaCertOptions {
    pub with_ski: bool,
    /// keyUsage bits (first octet); `None` leaves the extension out.
    pub key_usage: Option<u8>,
}

impl Default for CaCertOptions {
    fn default() -> Self {
        // keyCertSign (bit 5) | cRLSign (bit 6)
        Self { with_ski: true, key_usage: Some(0x06) }
    }
}

fn time_der(t: Timestamp) -> Result<Vec<u8>, GenError> {
    let (tag, content) = t.to_der_time().ok_or_else(|| GenError::Invalid(format!("time {t} out of range")))?;
    Ok(w::tlv(tag, &content))
}

impl Ca {
    /// Generate a CA with its self-signed certificate.
    pub fn generate(spec: &CaSpec, seed: u64) -> Result<Ca, GenError> {
        Self::generate_with(spec, seed, &CaCertOptions::default())
    }

    pub fn generate_with(spec: &CaSpec, seed: u64, opts: &CaCertOptions) -> Result<Ca, GenError> {
        let key = Key::generate(spec.key, seed, &format!("ca-key/{}", spec.name()))?;
        let alg = key.default_alg();
        let subject_der = ca_subject(spec.hierarchy);
        let spki_der = key.spki_der()?;
        let bits = crlbatch_crl::subject_public_key_bits(&spki_der).map_err(|e| GenError::Invalid(e.to_string()))?;
        let kid = sha1::Sha1::digest(bits).to_vec();

        let year = i64::from(spec.generation);
        let not_before = Timestamp::parse_rfc3339(&format!("{year:04}-04-01T00:00:00Z")).map_err(GenError::Invalid)?;
        let not_after =
            Timestamp::parse_rfc3339(&format!("{:04}-04-01T00:00:00Z", year + 10)).map_err(GenError::Invalid)?;

        let version = w::cons(0xa0, &[&w::uint(2)]);
        let serial =
            w::uint(u64::from(spec.generation) * 100 + u64::from(spec.hierarchy == crate::pki::Hierarchy::Auth));
        let alg_id = alg.alg_id();
        let validity = w::seq(&[&time_der(not_before)?, &time_der(not_after)?]);
        let mut exts: Vec<Vec<u8>> = Vec::new();
        // basicConstraints: critical, cA TRUE
        exts.push(w::extension(&[0x55, 0x1d, 0x13], true, &w::seq(&[&w::boolean_true()])));
        if let Some(ku) = opts.key_usage {
            // BIT STRING with trailing zero bits counted as unused.
            let unused = u8::try_from(ku.trailing_zeros().min(7)).unwrap_or(0);
            exts.push(w::extension(&[0x55, 0x1d, 0x0f], true, &w::tlv(0x03, &[unused, ku])));
        }
        if opts.with_ski {
            exts.push(w::extension(&[0x55, 0x1d, 0x0e], false, &w::octets(&kid)));
        }
        let ext_refs: Vec<&[u8]> = exts.iter().map(Vec::as_slice).collect();
        let ext_seq = w::seq(&ext_refs);
        let exts_wrapped = w::cons(0xa3, &[&ext_seq]);
        let tbs =
            w::seq(&[&version, &serial, &alg_id, &subject_der, &validity, &subject_der, &spki_der, &exts_wrapped]);
        let sig = alg.sign(&key, &tbs, seed)?;
        let cert_der = w::seq(&[&tbs, &alg_id, &w::bits(&sig)]);
        Ok(Ca { spec: spec.clone(), key, alg, subject_der, spki_der, kid, cert_der })
    }

    pub fn kid_hex(&self) -> String {
        crlbatch_crl::hex(&self.kid)
    }
}
