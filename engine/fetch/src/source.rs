//! Where a CRL comes from, as configured in a job's `[[ca]] crl = [...]`.

use std::path::{Path, PathBuf};

use sha2::Digest;

use crate::FetchError;

/// A CRL source as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A local file (from a plain path or a `file://` URL).
    File(PathBuf),
    /// An `http://` or `https://` URL, fetched into the job's store.
    Http(String),
    /// An `ldap://` or `ldaps://` URL (RFC 4516: one entry, one attribute),
    /// read into the job's store; see [`crate::ldap`].
    Ldap(String),
}

impl Source {
    /// Parse a configured source; relative paths resolve against `base`.
    pub fn parse(text: &str, base: &Path) -> Result<Source, FetchError> {
        let lower = text.get(..8).unwrap_or(text).to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            let url = reqwest::Url::parse(text).map_err(|e| FetchError::BadUrl(text.to_owned(), e.to_string()))?;
            if url.host_str().is_none_or(str::is_empty) {
                return Err(FetchError::BadUrl(text.to_owned(), "no host".into()));
            }
            if !url.username().is_empty() || url.password().is_some() {
                // Credentials in a job file would end up in logs and manifests.
                return Err(FetchError::BadUrl(text.to_owned(), "credentials in URLs are not accepted".into()));
            }
            return Ok(Source::Http(text.to_owned()));
        }
        if lower.starts_with("ldap://") || lower.starts_with("ldaps://") {
            crate::ldap::LdapTarget::parse(text)?;
            return Ok(Source::Ldap(text.to_owned()));
        }
        let path = if let Some(rest) = text.strip_prefix("file://") {
            // file:///abs/path or file://localhost/abs/path
            let rest = rest.strip_prefix("localhost").unwrap_or(rest);
            if !rest.starts_with('/') {
                return Err(FetchError::Unsupported(text.to_owned()));
            }
            PathBuf::from(percent_decode(rest))
        } else if text.contains("://") {
            return Err(FetchError::Unsupported(text.to_owned()));
        } else {
            PathBuf::from(text)
        };
        Ok(Source::File(if path.is_absolute() { path } else { base.join(path) }))
    }

    /// The local file of a file source.
    pub fn local_path(&self) -> Option<&Path> {
        match self {
            Source::File(p) => Some(p),
            Source::Http(_) | Source::Ldap(_) => None,
        }
    }

    /// Whether the source is fetched over the network.
    pub fn is_remote(&self) -> bool {
        matches!(self, Source::Http(_) | Source::Ldap(_))
    }

    /// The source as text (path or URL), for logs and manifests.
    pub fn display(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Http(u) | Source::Ldap(u) => u.clone(),
        }
    }

    /// The source in a normal form, to tell two spellings of one source
    /// apart from two sources (URL case of scheme and host, default port).
    pub fn normalized(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Http(u) => reqwest::Url::parse(u).map(|x| x.to_string()).unwrap_or_else(|_| u.clone()),
            Source::Ldap(u) => crate::ldap::LdapTarget::parse(u).map(|t| t.normalized()).unwrap_or_else(|_| u.clone()),
        }
    }

    /// A stable folder name for this source in a store: the first 16 octets
    /// of the SHA-256 of its normal form, hex.
    pub fn store_key(&self) -> String {
        let d = sha2::Sha256::digest(self.normalized().as_bytes());
        d.iter().take(16).map(|b| format!("{b:02x}")).collect()
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            if let Some(v) = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sources() {
        let base = Path::new("/jobs");
        let p = |s: &str| Source::parse(s, base).unwrap();
        assert_eq!(p("a/b.crl").local_path(), Some(Path::new("/jobs/a/b.crl")));
        assert_eq!(p("/x/b.crl").local_path(), Some(Path::new("/x/b.crl")));
        assert_eq!(p("file:///x/a%20b.crl").local_path(), Some(Path::new("/x/a b.crl")));
        assert_eq!(p("file://localhost/x/b.crl").local_path(), Some(Path::new("/x/b.crl")));
        assert_eq!(p("http://example/x.crl"), Source::Http("http://example/x.crl".into()));
        assert_eq!(p("HTTPS://example:8443/x.crl"), Source::Http("HTTPS://example:8443/x.crl".into()));
        assert!(p("https://example/x.crl").is_remote());
        assert_eq!(
            Source::parse("ftp://example/x.crl", base),
            Err(FetchError::Unsupported("ftp://example/x.crl".into()))
        );
        assert!(Source::parse("file://host/x.crl", base).is_err());
        assert!(matches!(Source::parse("http://user:pw@example/x.crl", base), Err(FetchError::BadUrl(..))));
        assert!(matches!(Source::parse("http://", base), Err(FetchError::BadUrl(..))));
        assert!(matches!(Source::parse("http://exa mple/x.crl", base), Err(FetchError::BadUrl(..))));
        assert_eq!(p("http://example/x.crl").store_key().len(), 32);
        // Two spellings of one URL share a store.
        assert_eq!(p("HTTP://Example:80/x.crl").store_key(), p("http://example/x.crl").store_key());
        assert_ne!(p("http://example/x.crl").store_key(), p("http://example/y.crl").store_key());
    }
}
