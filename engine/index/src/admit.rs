//! Admission: which CRLs may stand behind a `good`.
//!
//! A CRL is admitted for an issuer when it parses strictly, verifies against
//! the issuer's CA certificate (issuer name, authorityKeyIdentifier, keyUsage,
//! signature), is complete for end-entity certificates (not a delta CRL; no
//! issuingDistributionPoint restriction to CA or attribute certificates or to
//! some reasons), and is fresh at the evaluation time. Several CRLs of one
//! issuer are accepted only as partitions: each carries a distinct
//! issuingDistributionPoint.

use std::collections::HashSet;
use std::path::Path;

use rayon::prelude::*;

use crlbatch_crl::{
    CaCert, CrlError, CrlInfo, EntryColumns, EntrySink, Freshness, ParseOptions, Timestamp, VerifyError,
};

use crate::builder::IndexBuilder;
use crate::index::RevocationIndex;
use crate::meta::{CrlMeta, IndexMeta};
use crate::stream::{Built, TimeStream};

/// Why a CRL cannot be used as a basis for `good`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// It does not parse (malformed, unknown critical extension, indirect, ...).
    #[error("{source_name}: {error}")]
    Parse { source_name: String, error: CrlError },
    /// It does not verify against the CA.
    #[error("{source_name}: {error}")]
    Verify { source_name: String, error: VerifyError },
    /// It is not a complete CRL for end-entity certificates.
    #[error("{source_name}: {why}")]
    Incomplete { source_name: String, why: String },
    /// It is not fresh at the evaluation time.
    #[error("{source_name}: {}", .freshness.detail().unwrap_or_default())]
    NotFresh { source_name: String, freshness: Freshness },
    /// The set of CRLs given for one issuer is not a set of partitions.
    #[error("{0}")]
    NotPartitions(String),
}

impl Rejection {
    /// The `detail` of an `unknown` verdict caused by this rejection.
    pub fn detail(&self) -> String {
        match self {
            Rejection::Parse { error, .. } => format!("CRL rejected: {error}"),
            Rejection::Verify { error: VerifyError::SignatureInvalid { .. }, .. } => "CRL signature invalid".to_owned(),
            Rejection::Verify { error, .. } => format!("CRL does not verify: {error}"),
            Rejection::Incomplete { why, .. } => why.clone(),
            Rejection::NotFresh { freshness, .. } => freshness.detail().unwrap_or_default(),
            Rejection::NotPartitions(why) => why.clone(),
        }
    }

    /// Whether waiting may help (a stale or not-yet-valid CRL), as opposed to
    /// bad data.
    pub fn is_temporary(&self) -> bool {
        matches!(self, Rejection::NotFresh { .. })
    }
}

/// Completeness for end-entity certificates.
pub fn completeness(info: &CrlInfo) -> Result<(), String> {
    let ext = &info.extensions;
    if let Some(base) = &ext.delta_base {
        return Err(format!("delta CRL only (base CRL number {base}); a delta is never a complete CRL"));
    }
    if let Some(idp) = &ext.idp {
        if idp.only_contains_ca_certs {
            return Err("CRL covers only CA certificates (issuingDistributionPoint)".to_owned());
        }
        if idp.only_contains_attribute_certs {
            return Err("CRL covers only attribute certificates (issuingDistributionPoint)".to_owned());
        }
        if let Some(r) = &idp.only_some_reasons {
            return Err(format!("CRL covers only some reasons ({})", r.join(", ")));
        }
    }
    Ok(())
}

/// Check one parsed CRL (its description) against the CA, completeness
/// and freshness.
pub fn admit(source_name: &str, info: &CrlInfo, ca: &CaCert, at: Timestamp) -> Result<(), Rejection> {
    crlbatch_crl::verify_crl(info, ca)
        .map_err(|error| Rejection::Verify { source_name: source_name.to_owned(), error })?;
    completeness(info).map_err(|why| Rejection::Incomplete { source_name: source_name.to_owned(), why })?;
    let f = crlbatch_crl::freshness(info.this_update, info.next_update, at);
    if !f.is_fresh() {
        return Err(Rejection::NotFresh { source_name: source_name.to_owned(), freshness: f });
    }
    Ok(())
}

/// Whether indexing requires the CRLs to be fresh now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FreshnessPolicy {
    /// Refuse a CRL that is not fresh at the evaluation time (`crlbatch index`).
    #[default]
    Require,
    /// Index it anyway: freshness is judged at each lookup, so a stale index
    /// answers `unknown`, never `good` (the job keeps it for the record).
    Defer,
}

/// Parse, admit and index the CRLs of one CA (one full CRL, or partitions).
pub fn index_crls(
    ca: &CaCert,
    sources: &[(String, &Path)],
    at: Timestamp,
    opts: &ParseOptions,
) -> Result<RevocationIndex, Rejection> {
    index_crls_with(ca, sources, at, opts, FreshnessPolicy::Require)
}

/// Parse one CRL into `builder`, then admit it.
fn build_one(
    ca: &CaCert,
    name: &str,
    path: &Path,
    opts: &ParseOptions,
    mut builder: IndexBuilder,
    check: impl Fn(&str, &CrlInfo) -> Result<(), Rejection>,
) -> Result<(IndexBuilder, IndexMeta), Rejection> {
    let info = crlbatch_crl::parse_path_into(path, opts, &mut builder)
        .map_err(|error| Rejection::Parse { source_name: name.to_owned(), error })?;
    check(name, &info)?;
    let metas = vec![CrlMeta::from_info(name, &info)];
    Ok((builder, IndexMeta::new(ca, metas, Timestamp::now())))
}

/// Why [`index_crl_streamed`] gave no index.
#[derive(Debug, thiserror::Error)]
pub enum StreamedIndexError {
    /// The CRL cannot be used.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// The index file being written failed (not the CRL).
    #[error(transparent)]
    Output(#[from] crate::error::IndexError),
}

/// [`index_crls`] for one CRL whose index is to be written to the file
/// `stream` was made for: the revocation times go to it while the CRL is
/// parsed. Write the result with [`Built::save_and_free`]; on an error the
/// stream's file is removed.
pub fn index_crl_streamed(
    ca: &CaCert,
    source: (&str, &Path),
    at: Timestamp,
    opts: &ParseOptions,
    stream: TimeStream,
) -> Result<Built, StreamedIndexError> {
    let (name, path) = source;
    let parse_err = |error| Rejection::Parse { source_name: name.to_owned(), error };
    let mut builder = IndexBuilder::streaming(stream);
    let parsed = crlbatch_crl::parse_path_into(path, opts, &mut builder);
    if let Some(e) = builder.take_output_error() {
        return Err(e.into());
    }
    let info = parsed.map_err(parse_err)?;
    admit(name, &info, ca, at)?;
    let metas = vec![CrlMeta::from_info(name, &info)];
    Ok(builder.finish_streamed(IndexMeta::new(ca, metas, Timestamp::now())).map_err(parse_err)?)
}

/// [`index_crls`] with an explicit freshness policy.
pub fn index_crls_with(
    ca: &CaCert,
    sources: &[(String, &Path)],
    at: Timestamp,
    opts: &ParseOptions,
    policy: FreshnessPolicy,
) -> Result<RevocationIndex, Rejection> {
    let check = |name: &str, info: &CrlInfo| -> Result<(), Rejection> {
        match admit(name, info, ca, at) {
            Err(Rejection::NotFresh { .. }) if policy == FreshnessPolicy::Defer => Ok(()),
            other => other,
        }
    };
    if let [(name, path)] = sources {
        // One CRL: entries stream straight into the index builder.
        let (builder, meta) = build_one(ca, name, path, opts, IndexBuilder::new(), check)?;
        return builder.finish(meta).map_err(|error| Rejection::Parse { source_name: name.clone(), error });
    }
    // Partitions (JPKI: ~1,700 per CA, each small): parsed and verified
    // concurrently, one file per task; their entries interleave, so the
    // index is built from all of them at once.
    let parsed: Vec<Result<(CrlInfo, EntryColumns), Rejection>> = sources
        .par_iter()
        .map(|(name, path)| {
            let mut cols = EntryColumns::default();
            let info = crlbatch_crl::parse_path_into(path, opts, &mut cols)
                .map_err(|error| Rejection::Parse { source_name: name.clone(), error })?;
            check(name, &info)?;
            Ok((info, cols))
        })
        .collect();
    let mut metas = Vec::with_capacity(sources.len());
    let mut idps: HashSet<Vec<u8>> = HashSet::with_capacity(sources.len());
    let mut all = EntryColumns::default();
    all.reserve(parsed.iter().map(|r| r.as_ref().map_or(0, |(_, c)| c.serials.len())).sum());
    for ((name, _), r) in sources.iter().zip(parsed) {
        let (info, cols) = r?;
        let idp = info.extensions.idp.as_ref().map(|i| i.der.clone()).ok_or_else(|| {
            Rejection::NotPartitions(format!(
                "{name}: several CRLs given for issuer {} but this one has no issuingDistributionPoint (only partitions can be combined)",
                ca.kid_hex()
            ))
        })?;
        if !idps.insert(idp) {
            return Err(Rejection::NotPartitions(format!("{name}: two CRLs for the same distribution point")));
        }
        all.extend_from(&cols).map_err(|error| Rejection::Parse { source_name: name.clone(), error })?;
        metas.push(CrlMeta::from_info(name, &info));
    }
    Ok(RevocationIndex::build(IndexMeta::new(ca, metas, Timestamp::now()), all))
}
