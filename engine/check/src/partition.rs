//! Matching a certificate's CRL distribution point (the records columns
//! `auth_crl_dp` / `sign_crl_dp`) against the issuingDistributionPoint of
//! each partition CRL.
//!
//! RFC 5280 §5.2.5: a CRL with an issuingDistributionPoint covers only the
//! certificates whose cRLDistributionPoints names that distribution point;
//! so a certificate is `good` only when the partition naming its point is
//! fresh and verified.
//!
//! A record gives the distribution point as one of:
//! - a directory name in RFC 4514 string form, most specific RDN first, as
//!   LDAP writes DNs: `CN=City0001 CRLDP,OU=Hokkaido,OU=CRL Distribution
//!   Points,OU=JPKI for digital signature,O=JPKI,C=JP`;
//! - the same name as `crlbatch inspect` shows an issuingDistributionPoint
//!   (`DirName:C=JP, O=JPKI, ..., CN=City0001 CRLDP`, root first);
//! - a URI (`http://...`, `ldap://...`), matched exactly.
//!
//! Names compare RDN by RDN, attribute types and values case-insensitively
//! with runs of spaces squeezed (caseIgnoreMatch, which the naming
//! attributes `CN`, `OU`, `O` and `C` use). Departure: a value that itself
//! contains `, ` in an issuingDistributionPoint cannot be told from two RDNs
//! (JPKI names have none); it then matches nothing, so its certificates are
//! `unknown`, never `good`.

/// One RDN (`type=value`) in comparison form.
fn rdn_key(rdn: &str) -> String {
    let rdn = rdn.trim();
    match rdn.split_once('=') {
        Some((t, v)) => {
            let v: Vec<&str> = v.split_whitespace().collect();
            format!("{}={}", t.trim().to_ascii_lowercase(), v.join(" ").to_lowercase())
        }
        None => rdn.to_lowercase(),
    }
}

/// The comparison key of an issuingDistributionPoint name as the CRL
/// parser renders it (`DirName:C=JP, O=JPKI, ...` root first, `URI:...`).
pub fn key_from_idp_name(name: &str) -> String {
    if let Some(dn) = name.strip_prefix("DirName:") {
        let rdns: Vec<String> = dn.split(", ").map(rdn_key).collect();
        return format!("dn:{}", rdns.join(","));
    }
    if let Some(uri) = name.strip_prefix("URI:") {
        return format!("uri:{}", uri.trim());
    }
    format!("other:{name}")
}

/// Split an RFC 4514 string at unescaped commas, removing the escapes.
fn split_rfc4514(dn: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = dn.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            ',' => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// The comparison key of a distribution point given in a record.
pub fn key_from_record(dp: &str) -> String {
    let dp = dp.trim();
    if dp.starts_with("DirName:") || dp.starts_with("URI:") {
        return key_from_idp_name(dp);
    }
    if dp.contains("://") {
        return format!("uri:{dp}");
    }
    let mut rdns: Vec<String> = split_rfc4514(dp).iter().map(|r| rdn_key(r)).collect();
    // RFC 4514 writes the most specific RDN first; DER (and the key) root first.
    rdns.reverse();
    format!("dn:{}", rdns.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_of_one_point_match() {
        let idp = "DirName:C=JP, O=JPKI, OU=JPKI for digital signature, OU=CRL Distribution Points, OU=Hokkaido, CN=City0001 CRLDP";
        let k = key_from_idp_name(idp);
        assert_eq!(
            k,
            "dn:c=jp,o=jpki,ou=jpki for digital signature,ou=crl distribution points,ou=hokkaido,cn=city0001 crldp"
        );
        assert_eq!(
            key_from_record(
                "CN=City0001 CRLDP,OU=Hokkaido,OU=CRL Distribution Points,OU=JPKI for digital signature,O=JPKI,C=JP"
            ),
            k
        );
        assert_eq!(
            key_from_record(
                "cn=city0001  crldp, ou=hokkaido,ou=CRL Distribution Points,ou=JPKI for digital signature,o=JPKI,c=JP"
            ),
            k
        );
        assert_eq!(key_from_record(idp), k);
        assert_ne!(
            key_from_record(
                "CN=City0002 CRLDP,OU=Aomori,OU=CRL Distribution Points,OU=JPKI for digital signature,O=JPKI,C=JP"
            ),
            k
        );
        assert_eq!(key_from_record(r"CN=a\,b,C=JP"), "dn:c=jp,cn=a,b");
        assert_eq!(key_from_record("http://x/p1.crl"), key_from_idp_name("URI:http://x/p1.crl"));
    }
}
