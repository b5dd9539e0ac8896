//! Table schemas, read from the machine-readable files in `schemas/` (the
//! same files the documentation and the tests use), so the columns written
//! can never drift from the columns documented.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use serde::Deserialize;

use crate::error::WriteError;

/// One column of a table schema.
#[derive(Debug, Clone, Deserialize)]
pub struct ColumnSpec {
    pub name: String,
    /// `string`, `timestamp` (input: any unit), `timestamp_us_utc`, `bool`, `int32`, `int64`.
    #[serde(rename = "type")]
    pub kind: String,
    /// For inputs: the column must be present.
    #[serde(default)]
    pub required: bool,
    pub nullable: bool,
    /// The column holds personal data: never logged.
    #[serde(default)]
    pub personal: bool,
    pub description: String,
}

/// A table schema file.
#[derive(Debug, Clone, Deserialize)]
pub struct TableSchema {
    pub name: String,
    pub kind: String,
    pub schema_version: u32,
    #[serde(default)]
    pub path: Option<String>,
    pub description: String,
    pub columns: Vec<ColumnSpec>,
}

/// The schema files, embedded at build time.
pub const RECORDS_JSON: &str = include_str!("../../../schemas/records.schema.json");
pub const RESULTS_JSON: &str = include_str!("../../../schemas/results.schema.json");
pub const SUMMARY_JSON: &str = include_str!("../../../schemas/summary.schema.json");
pub const REJECTS_JSON: &str = include_str!("../../../schemas/rejects.schema.json");
pub const REVOKED_JSON: &str = include_str!("../../../schemas/revoked.schema.json");

impl TableSchema {
    pub fn parse(json: &str) -> Result<Self, WriteError> {
        serde_json::from_str(json).map_err(|e| WriteError::Schema(e.to_string()))
    }

    pub fn records() -> Result<Self, WriteError> {
        Self::parse(RECORDS_JSON)
    }

    pub fn results() -> Result<Self, WriteError> {
        Self::parse(RESULTS_JSON)
    }

    pub fn summary() -> Result<Self, WriteError> {
        Self::parse(SUMMARY_JSON)
    }

    pub fn rejects() -> Result<Self, WriteError> {
        Self::parse(REJECTS_JSON)
    }

    pub fn revoked() -> Result<Self, WriteError> {
        Self::parse(REVOKED_JSON)
    }

    pub fn column(&self, name: &str) -> Option<&ColumnSpec> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The Arrow schema of an output table.
    pub fn arrow(&self) -> Result<SchemaRef, WriteError> {
        let fields = self
            .columns
            .iter()
            .map(|c| Ok(Field::new(&c.name, output_type(&c.kind)?, c.nullable)))
            .collect::<Result<Vec<Field>, WriteError>>()?;
        Ok(Arc::new(Schema::new(fields)))
    }
}

impl TableSchema {
    /// The Arrow schema with the named string columns as
    /// `Dictionary(Int32, Utf8)`: the same Parquet column (a dictionary-encoded
    /// UTF-8 byte array), built from small integer keys.
    pub fn arrow_with_dictionaries(&self, names: &[&str]) -> Result<SchemaRef, WriteError> {
        let fields = self
            .columns
            .iter()
            .map(|c| {
                let t = output_type(&c.kind)?;
                let t = if names.contains(&c.name.as_str()) && t == DataType::Utf8 {
                    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
                } else {
                    t
                };
                Ok(Field::new(&c.name, t, c.nullable))
            })
            .collect::<Result<Vec<Field>, WriteError>>()?;
        Ok(Arc::new(Schema::new(fields)))
    }
}

/// The Arrow type of an output column type name.
pub fn output_type(kind: &str) -> Result<DataType, WriteError> {
    Ok(match kind {
        "string" => DataType::Utf8,
        "timestamp_us_utc" => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        "bool" => DataType::Boolean,
        "int32" => DataType::Int32,
        "int64" => DataType::Int64,
        other => return Err(WriteError::Schema(format!("unknown output column type {other:?}"))),
    })
}
