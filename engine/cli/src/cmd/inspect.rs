//! `crlbatch inspect`

use serde_json::json;

use crlbatch_crl::{FileDigest, Reason};

use crate::args::InspectArgs;
use crate::cmd;
use crate::exit::{self, CliError, CliResult};

pub fn run(a: InspectArgs) -> CliResult {
    let at = cmd::at(&a.at)?;
    let ca = a.ca.as_deref().map(cmd::load_ca).transpose()?;
    let opts = cmd::parse_options(&a.limits, FileDigest::Sha256);
    let crl = crlbatch_crl::parse_path(&a.crl, &opts).map_err(|e| {
        let code = CliError::from(e.clone()).code;
        CliError::new(code, format!("{}: {e}", a.crl.display()))
    })?;
    let info = &crl.info;
    let counts = crl.entries.reason_counts();
    let mut reasons = serde_json::Map::new();
    for r in Reason::ALL {
        let n = counts.get(usize::from(r.code())).copied().unwrap_or(0);
        if n > 0 {
            reasons.insert(r.name().to_owned(), n.into());
        }
    }
    let no_reason = counts.get(11).copied().unwrap_or(0);
    let duplicates = crlbatch_index::count_duplicates(&crl.entries);
    let verification = ca.as_ref().map(|ca| crlbatch_crl::verify_crl(info, ca));
    let signature = match &verification {
        None => "not_checked",
        Some(Ok(())) => "valid",
        Some(Err(_)) => "invalid",
    };
    let freshness = crlbatch_crl::freshness(info.this_update, info.next_update, at);
    let completeness = crlbatch_index::completeness(&crl.info);
    let crl_number = info.extensions.crl_number.as_ref().map(|n| match n.to_u64() {
        Some(v) => json!(v),
        None => json!(n.to_decimal()),
    });
    if a.json {
        let v = json!({
            "issuer": info.issuer,
            "authority_key_id": info.extensions.authority_key_id.as_deref().map(crlbatch_crl::hex),
            "crl_number": crl_number,
            "this_update": info.this_update,
            "next_update": info.next_update,
            "entries": info.entries,
            "reasons": reasons,
            "entries_without_reason": no_reason,
            "duplicates": duplicates,
            "long_serials": crl.entries.long.len(),
            "signature": signature,
            "signature_algorithm": info.signature_algorithm.as_ref().map(|s| s.name()).unwrap_or_else(|e| e.to_string()),
            "signature_error": verification.as_ref().and_then(|v| v.as_ref().err()).map(|e| e.to_string()),
            "fresh": freshness.is_fresh(),
            "freshness_detail": freshness.detail(),
            "at": at,
            "delta": info.is_delta(),
            "delta_base_crl_number": info.extensions.delta_base.as_ref().map(|n| n.to_decimal()),
            "complete": completeness.is_ok(),
            "idp": info.extensions.idp,
            "version": info.version,
            "size": info.size,
            "sha256": info.file_sha256.map(|d| crlbatch_crl::hex(&d)),
            "ca_kid": ca.as_ref().map(|c| c.kid_hex()),
        });
        cmd::print_json(&v)?;
    } else {
        println!("issuer:            {}", info.issuer);
        println!(
            "authority key id:  {}",
            info.extensions.authority_key_id.as_deref().map_or("(none)".to_owned(), crlbatch_crl::hex)
        );
        println!(
            "crl number:        {}",
            info.extensions.crl_number.as_ref().map_or("(none)".to_owned(), |n| n.to_decimal())
        );
        println!("this update:       {}", info.this_update);
        println!("next update:       {}", info.next_update.map_or("(none)".to_owned(), |t| t.to_string()));
        println!(
            "entries:           {} (duplicates {duplicates}, long serials {})",
            info.entries,
            crl.entries.long.len()
        );
        let mut parts: Vec<String> = reasons.iter().map(|(k, v)| format!("{k} {v}")).collect();
        if no_reason > 0 {
            parts.push(format!("(no reasonCode) {no_reason}"));
        }
        println!("reasons:           {}", parts.join(", "));
        println!(
            "signature:         {signature} ({})",
            info.signature_algorithm.as_ref().map(|s| s.name()).unwrap_or_else(|e| e.to_string())
        );
        println!("freshness at {at}: {}", freshness.detail().unwrap_or_else(|| "fresh".to_owned()));
        println!(
            "delta:             {}",
            info.extensions.delta_base.as_ref().map_or("no".to_owned(), |b| format!("yes (base CRL number {b})"))
        );
        let idp = info.extensions.idp.as_ref().map_or("(none)".to_owned(), |i| {
            if i.distribution_point.is_empty() {
                i.relative_name.clone().unwrap_or_else(|| "(no name)".to_owned())
            } else {
                i.distribution_point.join("; ")
            }
        });
        println!("distribution pt:   {idp}");
        println!("size:              {} bytes", info.size);
        println!("sha256:            {}", info.file_sha256.map(|d| crlbatch_crl::hex(&d)).unwrap_or_default());
    }
    match verification {
        Some(Err(e)) => Err(CliError::new(exit::DATAERR, format!("{}: {e}", a.crl.display()))),
        Some(Ok(())) if !freshness.is_fresh() => Err(CliError::new(
            exit::TEMPFAIL,
            format!("{}: {}", a.crl.display(), freshness.detail().unwrap_or_default()),
        )),
        _ => Ok(()),
    }
}
