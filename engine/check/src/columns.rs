//! Typed views of the input columns of one batch, whatever their physical
//! Arrow type (plain, large, view or dictionary strings; timestamps of any
//! unit), so the hot loop does one `match` per value at most.

use arrow_array::cast::AsArray;
use arrow_array::types::{Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type, UInt64Type, UInt8Type};
use arrow_array::{Array, ArrayRef, GenericStringArray, Int32Array, StringViewArray, TimestampMicrosecondArray};
use arrow_array::{TimestampMillisecondArray, TimestampNanosecondArray, TimestampSecondArray};
use arrow_schema::{DataType, TimeUnit};

/// A string column.
pub enum StrCol<'a> {
    Utf8(&'a GenericStringArray<i32>),
    Large(&'a GenericStringArray<i64>),
    View(&'a StringViewArray),
    /// Dictionary: key per row (or `None` for null), values decoded once.
    Dict {
        keys: DictKeys<'a>,
        values: Box<StrCol<'a>>,
    },
    Absent,
}

impl<'a> StrCol<'a> {
    pub fn new(a: Option<&'a ArrayRef>) -> StrCol<'a> {
        let Some(a) = a else { return StrCol::Absent };
        match a.data_type() {
            DataType::Utf8 => StrCol::Utf8(a.as_string::<i32>()),
            DataType::LargeUtf8 => StrCol::Large(a.as_string::<i64>()),
            DataType::Utf8View => StrCol::View(a.as_string_view()),
            DataType::Dictionary(k, _) => {
                macro_rules! dict {
                    ($t:ty) => {{
                        let d = a.as_dictionary::<$t>();
                        let keys = d.keys().iter().map(|k| k.and_then(|k| usize::try_from(k).ok())).collect();
                        StrCol::Dict { keys: DictKeys::Other(keys), values: Box::new(StrCol::new_values(d.values())) }
                    }};
                }
                match k.as_ref() {
                    // What the records reader asks for: the keys as decoded.
                    DataType::Int32 => {
                        let d = a.as_dictionary::<Int32Type>();
                        StrCol::Dict { keys: DictKeys::I32(d.keys()), values: Box::new(StrCol::new_values(d.values())) }
                    }
                    DataType::Int8 => dict!(Int8Type),
                    DataType::Int16 => dict!(Int16Type),
                    DataType::Int64 => dict!(Int64Type),
                    DataType::UInt8 => dict!(UInt8Type),
                    DataType::UInt16 => dict!(UInt16Type),
                    DataType::UInt32 => dict!(UInt32Type),
                    DataType::UInt64 => dict!(UInt64Type),
                    _ => StrCol::Absent,
                }
            }
            _ => StrCol::Absent,
        }
    }

    fn new_values(a: &'a ArrayRef) -> StrCol<'a> {
        match a.data_type() {
            DataType::Utf8 => StrCol::Utf8(a.as_string::<i32>()),
            DataType::LargeUtf8 => StrCol::Large(a.as_string::<i64>()),
            DataType::Utf8View => StrCol::View(a.as_string_view()),
            _ => StrCol::Absent,
        }
    }

    /// The value at row `i`, `None` when null or absent.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            StrCol::Utf8(a) => (i < a.len() && a.is_valid(i)).then(|| a.value(i)),
            StrCol::Large(a) => (i < a.len() && a.is_valid(i)).then(|| a.value(i)),
            StrCol::View(a) => (i < a.len() && a.is_valid(i)).then(|| a.value(i)),
            StrCol::Dict { keys, values } => keys.get(i).and_then(|k| values.get(k)),
            StrCol::Absent => None,
        }
    }

    /// For a dictionary column: the key of row `i` (lets callers decode each
    /// distinct value once).
    #[inline]
    pub fn dict_key(&self, i: usize) -> Option<usize> {
        match self {
            StrCol::Dict { keys, .. } => keys.get(i),
            _ => None,
        }
    }

    pub fn is_dict(&self) -> bool {
        matches!(self, StrCol::Dict { .. })
    }

    pub fn dict_len(&self) -> usize {
        match self {
            StrCol::Dict { values, .. } => values.len(),
            _ => 0,
        }
    }

    pub fn dict_value(&self, k: usize) -> Option<&'a str> {
        match self {
            StrCol::Dict { values, .. } => values.get(k),
            _ => None,
        }
    }

    /// The values at `rows` as a string view array: a view column is taken
    /// (views copied, the page buffers shared); any other form is copied.
    pub fn take_views(&self, rows: &[u32]) -> Result<ArrayRef, arrow_schema::ArrowError> {
        if let StrCol::View(a) = self {
            let idx = arrow_array::UInt32Array::from(rows.to_vec());
            return arrow_select::take::take(a, &idx, None);
        }
        let mut b = arrow_array::builder::StringViewBuilder::with_capacity(rows.len());
        for &r in rows {
            b.append_option(self.get(r as usize));
        }
        Ok(std::sync::Arc::new(b.finish()))
    }

    fn len(&self) -> usize {
        match self {
            StrCol::Utf8(a) => a.len(),
            StrCol::Large(a) => a.len(),
            StrCol::View(a) => a.len(),
            StrCol::Dict { keys, .. } => keys.len(),
            StrCol::Absent => 0,
        }
    }
}

/// The keys of a dictionary column.
pub enum DictKeys<'a> {
    /// `Int32` keys, read in place.
    I32(&'a Int32Array),
    /// Any other key type, converted once per batch.
    Other(Vec<Option<usize>>),
}

impl DictKeys<'_> {
    /// The key of row `i`, `None` when null.
    #[inline]
    fn get(&self, i: usize) -> Option<usize> {
        match self {
            DictKeys::I32(a) => {
                (i < a.len() && a.is_valid(i)).then(|| a.value(i)).and_then(|k| usize::try_from(k).ok())
            }
            DictKeys::Other(v) => v.get(i).copied().flatten(),
        }
    }

    fn len(&self) -> usize {
        match self {
            DictKeys::I32(a) => a.len(),
            DictKeys::Other(v) => v.len(),
        }
    }
}

/// A timestamp column, read as microseconds since the epoch (UTC).
pub enum TsCol<'a> {
    S(&'a TimestampSecondArray),
    Ms(&'a TimestampMillisecondArray),
    Us(&'a TimestampMicrosecondArray),
    Ns(&'a TimestampNanosecondArray),
    Absent,
}

impl<'a> TsCol<'a> {
    pub fn new(a: Option<&'a ArrayRef>) -> TsCol<'a> {
        let Some(a) = a else { return TsCol::Absent };
        match a.data_type() {
            DataType::Timestamp(TimeUnit::Second, _) => TsCol::S(a.as_primitive()),
            DataType::Timestamp(TimeUnit::Millisecond, _) => TsCol::Ms(a.as_primitive()),
            DataType::Timestamp(TimeUnit::Microsecond, _) => TsCol::Us(a.as_primitive()),
            DataType::Timestamp(TimeUnit::Nanosecond, _) => TsCol::Ns(a.as_primitive()),
            _ => TsCol::Absent,
        }
    }

    /// Microseconds at row `i` (saturating), `None` when null.
    #[inline]
    pub fn micros(&self, i: usize) -> Option<i64> {
        match self {
            TsCol::S(a) => (i < a.len() && a.is_valid(i)).then(|| a.value(i).saturating_mul(1_000_000)),
            TsCol::Ms(a) => (i < a.len() && a.is_valid(i)).then(|| a.value(i).saturating_mul(1_000)),
            TsCol::Us(a) => (i < a.len() && a.is_valid(i)).then(|| a.value(i)),
            TsCol::Ns(a) => (i < a.len() && a.is_valid(i)).then(|| a.value(i).div_euclid(1_000)),
            TsCol::Absent => None,
        }
    }
}
