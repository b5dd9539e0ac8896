//! `crlbatch-peers TOOL CRL.der`: parse a DER CRL with another Rust library,
//! the way a program using it would, and print the number of entries seen.
//!
//! - `webpki`: rustls-webpki `OwnedCertRevocationList::from_der` (the owned
//!   form keeps every entry in a map for lookups);
//! - `x509-parser`: `parse_x509_crl`, then every entry's serial and date;
//! - `x509-cert`: `CertificateList::from_der` (RustCrypto), then every entry.
//!
//! Reading the file is part of the measurement (whole process), as for
//! `crlbatch index` and `openssl crl`. No signature verification: none of
//! these parse paths verifies, so they are compared with crlbatch's own
//! verified ingest as an upper bound for them.

use std::process::ExitCode;

fn run(tool: &str, path: &str) -> Result<u64, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    match tool {
        "webpki" => {
            let crl = webpki::OwnedCertRevocationList::from_der(&bytes).map_err(|e| format!("{e:?}"))?;
            // The owned list answers lookups by serial; it has no count.
            let crl = webpki::CertRevocationList::from(crl);
            Ok(u64::from(!crl.issuer().is_empty()))
        }
        "x509-parser" => {
            let (_, crl) = x509_parser::parse_x509_crl(&bytes).map_err(|e| e.to_string())?;
            let mut n = 0u64;
            let mut acc = 0u64;
            for r in crl.iter_revoked_certificates() {
                n += 1;
                acc = acc.wrapping_add(r.raw_serial().len() as u64).wrapping_add(r.revocation_date.timestamp() as u64);
            }
            std::hint::black_box(acc);
            Ok(n)
        }
        "x509-cert" => {
            use x509_cert::der::Decode;
            let crl = x509_cert::crl::CertificateList::<x509_cert::certificate::Rfc5280>::from_der(&bytes).map_err(|e| e.to_string())?;
            let mut n = 0u64;
            let mut acc = 0u64;
            for r in crl.tbs_cert_list.revoked_certificates.iter().flatten() {
                n += 1;
                acc = acc.wrapping_add(r.serial_number.as_bytes().len() as u64);
            }
            std::hint::black_box(acc);
            Ok(n)
        }
        other => Err(format!("unknown tool {other:?}: webpki, x509-parser or x509-cert")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(tool), Some(path)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: crlbatch-peers webpki|x509-parser|x509-cert CRL.der");
        return ExitCode::from(2);
    };
    match run(tool, path) {
        Ok(n) => {
            println!("{n}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("crlbatch-peers: {tool}: {e}");
            ExitCode::from(1)
        }
    }
}
