//! Building an index while a CRL streams in.
//!
//! Batches arrive in CRL order on the parsing thread. While the serials keep
//! ascending (the common case: CRL issuers such as OpenSSL sort entries by
//! serial), they go straight into the roaring treemap and no serial column
//! is kept; the times and reasons are then already in rank order. At the
//! first serial out of order, the builder recovers the exact prefix from the
//! treemap (strictly ascending, so nothing was lost) and falls back to
//! collecting every serial and sorting at the end.

use crlbatch_crl::{CrlError, EntryColumns, EntrySink, Timestamp};

use crate::ascending::AscendingMembers;
use crate::error::IndexError;
use crate::index::RevocationIndex;
use crate::meta::IndexMeta;
use crate::stream::{Built, StreamedIndex, TimeStream};

/// Incremental index builder; feed it with `crlbatch_crl::parse_path_into`
/// (one or several CRLs of one issuer), then [`IndexBuilder::finish`].
#[derive(Debug, Default)]
pub struct IndexBuilder {
    /// Membership while the input ascends.
    members: AscendingMembers,
    last: Option<u64>,
    /// Every fast-path serial in input order, once the input stopped ascending.
    unsorted: Option<Vec<u64>>,
    /// Time codes of fast-path entries, unless they went to `stream`.
    times: Vec<u32>,
    /// Fast-path entries taken (in `times` or in `stream`).
    fast_len: usize,
    reasons: Vec<u8>,
    time_overflow: Vec<(u32, Timestamp)>,
    invalidity: Vec<(u32, Timestamp)>,
    long: Vec<crlbatch_crl::LongEntry>,
    /// Where the times go instead of `times` while the input ascends
    /// (`crlbatch index`).
    stream: Option<TimeStream>,
    /// Why the times could not be taken back from the stream: the index
    /// file failed, not the CRL.
    output_error: Option<IndexError>,
}

fn ascending(v: &[u64]) -> bool {
    v.windows(2).all(|w| matches!(w, [a, b] if a < b))
}

impl IndexBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder that hands the revocation times to `stream` instead of
    /// keeping them while the serials ascend (they are then final in rank
    /// order), so that the index file is mostly written by the end of the
    /// parse. At the first serial out of order the times are read back from
    /// the stream and it is dropped (its file removed).
    pub fn streaming(stream: TimeStream) -> Self {
        Self { stream: Some(stream), ..Self::default() }
    }

    /// [`Self::finish`] for a streaming builder: an index to write with the
    /// stream, or a plain index if the stream was given up.
    pub fn finish_streamed(mut self, meta: IndexMeta) -> Result<Built, CrlError> {
        match self.stream.take() {
            Some(stream) => Ok(Built::Streamed(StreamedIndex::new(self.assemble(meta)?, stream))),
            None => Ok(Built::Index(self.assemble(meta)?)),
        }
    }

    /// Finish: de-duplicate and sort if needed, and attach `meta`.
    pub fn finish(mut self, meta: IndexMeta) -> Result<RevocationIndex, CrlError> {
        if let Some(stream) = self.stream.take() {
            self.times = stream.take_back().map_err(|e| CrlError::Io(e.to_string()))?;
        }
        self.assemble(meta)
    }

    /// The error of the index file that stopped the parse, if that is what
    /// stopped it (the parse reports it as an I/O error).
    pub fn take_output_error(&mut self) -> Option<IndexError> {
        self.output_error.take()
    }

    /// The index of what was taken; its times are missing if they went to a
    /// stream.
    fn assemble(self, meta: IndexMeta) -> Result<RevocationIndex, CrlError> {
        Ok(match self.unsorted {
            None => RevocationIndex::from_sorted(
                meta,
                self.members.finish()?,
                self.times,
                self.reasons,
                self.time_overflow,
                self.invalidity,
                self.long,
            ),
            Some(serials) => RevocationIndex::build(
                meta,
                EntryColumns {
                    serials,
                    times: self.times,
                    reasons: self.reasons,
                    time_overflow: self.time_overflow,
                    invalidity: self.invalidity,
                    long: self.long,
                },
            ),
        })
    }
}

impl EntrySink for IndexBuilder {
    fn reserve(&mut self, entries: usize) {
        if self.stream.is_none() {
            self.times.reserve(entries);
        }
        self.reasons.reserve(entries);
    }

    fn accept(&mut self, batch: &EntryColumns) -> Result<(), CrlError> {
        let base = u32::try_from(self.fast_len).map_err(|_| CrlError::TooManyEntries { limit: u64::from(u32::MAX) })?;
        let EntryColumns { serials, times, reasons, time_overflow, invalidity, long } = batch;
        match &mut self.unsorted {
            Some(all) => all.extend_from_slice(serials),
            None => {
                let continues = serials.first().is_none_or(|&f| self.last.is_none_or(|l| f > l)) && ascending(serials);
                if continues {
                    if let Some(&l) = serials.last() {
                        self.last = Some(l);
                    }
                    self.members.extend(serials)?;
                    if let Some(stream) = &mut self.stream {
                        stream.push(times);
                    }
                } else {
                    if let Some(stream) = self.stream.take() {
                        self.times = stream.take_back().map_err(|e| {
                            let message = e.to_string();
                            self.output_error = Some(e);
                            CrlError::Io(message)
                        })?;
                    }
                    let members = std::mem::take(&mut self.members);
                    let mut all = members.into_serials(self.fast_len + serials.len())?;
                    all.extend_from_slice(serials);
                    self.unsorted = Some(all);
                }
            }
        }
        if self.stream.is_none() {
            self.times.extend_from_slice(times);
        }
        self.fast_len += times.len();
        self.reasons.extend_from_slice(reasons);
        self.time_overflow.extend(time_overflow.iter().map(|&(i, t)| (i + base, t)));
        self.invalidity.extend(invalidity.iter().map(|&(i, t)| (i + base, t)));
        self.long.extend_from_slice(long);
        Ok(())
    }
}
