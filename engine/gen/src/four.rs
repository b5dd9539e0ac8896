//! JPKI-shaped signing certificates carrying the basic four information in
//! subjectAltName otherNames (`shared/jpki.md`), for the basic-four diff,
//! with ground truth by construction.
//!
//! For N PPIDs (deterministic from the seed) it writes the certificates a
//! service held when it took its snapshot (`four/before/`) and the latest
//! ones (`four/after/`), and what a diff must find (`four/expected.parquet`).
//! Mix per PPID: 62% unchanged (same certificate, not revoked); 12% change
//! of address, 5% of name (marriage), 3% both, 1% a corrected date of birth
//! and 1% a corrected gender, each with the old certificate revoked for
//! affiliationChanged (its serial taken from an affiliationChanged entry of
//! the signing CA's generated CRL) and a new one from sign-2023; 5% renewed
//! (old revoked superseded, same fields); 3% a change of address whose old
//! certificate is not on the CRL yet; 3% new since the snapshot; 3% gone;
//! 2% whose latest row is not a signing certificate (a user-identification
//! certificate without subjectAltName, or bytes that are no certificate).
//! A third of the changed PPIDs also keep their old certificate as an
//! extra row after the new one in `after/` (the latest by notBefore wins).
//!
//! Names and addresses are realistic Japanese UTF-8 (family and given name
//! joined by an ideographic space U+3000), some with rare kanji (𠮷, 髙, 﨑,
//! 濵, 𣘺 outside the BMP or in the compatibility block) written directly,
//! some replaced by a common substitute with its position flagged `1`.
//! Dates of birth cover every era and era 0 (unknown), in the
//! Gregorian-year reading of `EYYYYMMDD`.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{BinaryBuilder, BooleanBuilder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use rand::Rng;
use rand_chacha::ChaCha20Rng;

use crate::der_write::{self as w, attr};
use crate::keys::{rng_for, Key, KeyKind};
use crate::pki::Ca;
use crate::records::Listed;
use crate::GenError;
use crlbatch_crl::{Reason, Serial, Timestamp};

/// The otherName type-ids, content octets of `1.2.392.200149.8.5.5.{1..6}`.
pub fn field_oid(n: u8) -> Vec<u8> {
    // 1.2 -> 0x2a; 392 -> 0x83 0x08; 200149 -> 0x8c 0x9b 0x55; 8, 5, 5, n.
    vec![0x2a, 0x83, 0x08, 0x8c, 0x9b, 0x55, 0x08, 0x05, 0x05, n]
}

/// One otherName of the subjectAltName: (last arc 1..=6, UTF8String value).
pub type FourField = (u8, String);

/// What a generated signing certificate holds.
#[derive(Debug, Clone)]
pub struct SignCertSpec {
    pub serial: Serial,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
    /// subjectAltName otherNames in order (tests may omit or repeat some);
    /// empty: no subjectAltName at all.
    pub fields: Vec<FourField>,
    /// Subject CN.
    pub cn: String,
}

const L: &[u8] = &[0x55, 0x04, 0x07];

/// A DER signing certificate issued by `ca` with key `subject_key`.
pub fn signing_cert(ca: &Ca, subject_key: &Key, spec: &SignCertSpec, seed: u64) -> Result<Vec<u8>, GenError> {
    let time = |t: Timestamp| -> Result<Vec<u8>, GenError> {
        let (tag, content) = t.to_der_time().ok_or_else(|| GenError::Invalid(format!("time {t} out of range")))?;
        Ok(w::tlv(tag, &content))
    };
    let version = w::cons(0xa0, &[&w::uint(2)]);
    let serial = w::tlv(0x02, &spec.serial.to_der_integer());
    let alg_id = ca.alg.alg_id();
    let validity = w::seq(&[&time(spec.not_before)?, &time(spec.not_after)?]);
    let subject = w::name(&[(attr::C, "JP"), (L, "Tokyo"), (attr::CN, &spec.cn)]);
    let spki = subject_key.spki_der()?;
    let mut exts: Vec<Vec<u8>> = Vec::new();
    // keyUsage: digitalSignature | nonRepudiation, critical.
    exts.push(w::extension(&[0x55, 0x1d, 0x0f], true, &w::tlv(0x03, &[0x06, 0xc0])));
    exts.push(w::extension(&[0x55, 0x1d, 0x23], false, &w::seq(&[&w::tlv(0x80, &ca.kid)])));
    if !spec.fields.is_empty() {
        let names: Vec<Vec<u8>> = spec
            .fields
            .iter()
            .map(|(n, v)| {
                let value = w::cons(0xa0, &[&w::tlv(0x0c, v.as_bytes())]);
                w::cons(0xa0, &[&w::oid(&field_oid(*n)), &value])
            })
            .collect();
        let refs: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
        exts.push(w::extension(&[0x55, 0x1d, 0x11], false, &w::seq(&refs)));
    }
    let ext_refs: Vec<&[u8]> = exts.iter().map(Vec::as_slice).collect();
    let exts_wrapped = w::cons(0xa3, &[&w::seq(&ext_refs)]);
    let tbs = w::seq(&[&version, &serial, &alg_id, &ca.subject_der, &validity, &subject, &spki, &exts_wrapped]);
    let sig = ca.alg.sign(&ca.key, &tbs, seed)?;
    Ok(w::seq(&[&tbs, &alg_id, &w::bits(&sig)]))
}

/// (common form, rare form, position of the rare character in the rare form)
const RARE_FAMILY: [(&str, &str, usize); 6] = [
    ("吉田", "𠮷田", 0),
    ("高橋", "髙橋", 0),
    ("山崎", "山﨑", 1),
    ("浜田", "濵田", 0),
    ("斉藤", "齋藤", 0),
    ("渡辺", "渡邉", 1),
];
const FAMILY: [&str; 20] = [
    "佐藤",
    "鈴木",
    "田中",
    "伊藤",
    "山本",
    "中村",
    "小林",
    "加藤",
    "山田",
    "佐々木",
    "山口",
    "松本",
    "井上",
    "木村",
    "林",
    "清水",
    "森",
    "池田",
    "橋本",
    "阿部",
];
const GIVEN: [&str; 20] = [
    "太郎",
    "花子",
    "一郎",
    "美咲",
    "翔太",
    "陽菜",
    "蓮",
    "結衣",
    "大翔",
    "さくら",
    "健一",
    "由美子",
    "昭",
    "和子",
    "ゆい",
    "浩二",
    "真由美",
    "拓海",
    "愛",
    "キヨ",
];
const PLACES: [&str; 12] = [
    "東京都千代田区",
    "東京都世田谷区",
    "大阪府大阪市北区",
    "北海道札幌市中央区",
    "神奈川県横浜市港北区",
    "愛知県名古屋市中区",
    "福岡県福岡市博多区",
    "京都府京都市左京区",
    "沖縄県那覇市",
    "宮城県仙台市青葉区",
    "広島県広島市中区",
    "新潟県新潟市中央区",
];
const TOWNS: [&str; 8] = ["本町", "中央", "栄町", "旭町", "緑町", "大手町", "桜丘", "松原"];
/// A town with a rare character (𣘺, a variant of 橋, outside the BMP) and its substitute.
const RARE_TOWN: (&str, &str) = ("𣘺本町", "橋本町");

fn pick<'a>(rng: &mut ChaCha20Rng, list: &[&'a str]) -> &'a str {
    list.get(rng.gen_range(0..list.len())).copied().unwrap_or("")
}

fn full_width(n: u32) -> String {
    n.to_string().chars().map(|c| char::from_u32(u32::from(c) - u32::from('0') + 0xff10).unwrap_or(c)).collect()
}

fn no_flags(s: &str) -> String {
    "0".repeat(s.chars().count())
}

/// The basic four information of one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    pub name_flags: String,
    pub gender: String,
    pub birth: String,
    pub address: String,
    pub address_flags: String,
}

impl Person {
    pub fn fields(&self) -> Vec<FourField> {
        vec![
            (1, self.name.clone()),
            (2, self.name_flags.clone()),
            (3, self.gender.clone()),
            (4, self.birth.clone()),
            (5, self.address.clone()),
            (6, self.address_flags.clone()),
        ]
    }
}

fn draw_name(rng: &mut ChaCha20Rng) -> (String, String) {
    let given = pick(rng, &GIVEN);
    if rng.gen_range(0..100) < 15 {
        let (common, rare, pos) =
            RARE_FAMILY.get(rng.gen_range(0..RARE_FAMILY.len())).copied().unwrap_or(("吉田", "𠮷田", 0));
        if rng.gen_bool(0.5) {
            // The rare character itself.
            let name = format!("{rare}\u{3000}{given}");
            let flags = no_flags(&name);
            return (name, flags);
        }
        // The certificate holds the common substitute, its position flagged.
        let name = format!("{common}\u{3000}{given}");
        let flags: String = name.chars().enumerate().map(|(i, _)| if i == pos { '1' } else { '0' }).collect();
        return (name, flags);
    }
    let name = format!("{}\u{3000}{given}", pick(rng, &FAMILY));
    let flags = no_flags(&name);
    (name, flags)
}

fn draw_address(rng: &mut ChaCha20Rng) -> (String, String) {
    let place = pick(rng, &PLACES);
    let block = format!(
        "{}丁目{}番{}号",
        full_width(rng.gen_range(1..6)),
        full_width(rng.gen_range(1..30)),
        full_width(rng.gen_range(1..20))
    );
    if rng.gen_range(0..100) < 5 {
        if rng.gen_bool(0.5) {
            let a = format!("{place}{}{block}", RARE_TOWN.0);
            return (a.clone(), no_flags(&a));
        }
        let a = format!("{place}{}{block}", RARE_TOWN.1);
        let at = place.chars().count();
        let flags = a.chars().enumerate().map(|(i, _)| if i == at { '1' } else { '0' }).collect();
        return (a, flags);
    }
    let a = format!("{place}{}{block}", pick(rng, &TOWNS));
    (a.clone(), no_flags(&a))
}

/// Eras: (digit, first day, last day) as RFC 3339 dates, and weight per mille.
const ERAS: [(u8, &str, &str, u32); 6] = [
    (1, "1900-01-01", "1912-07-29", 5),
    (2, "1912-07-30", "1926-12-24", 20),
    (3, "1926-12-25", "1989-01-07", 500),
    (4, "1989-01-08", "2019-04-30", 350),
    (5, "2019-05-01", "2026-11-01", 100),
    (0, "", "", 25),
];

fn day(s: &str) -> i64 {
    Timestamp::parse_rfc3339(&format!("{s}T00:00:00Z")).map(|t| t.0 / 86_400).unwrap_or(0)
}

/// A date of birth, `EYYYYMMDD` with the Gregorian year (era 0: `000000000`).
pub fn draw_birth(rng: &mut ChaCha20Rng) -> String {
    let roll = rng.gen_range(0..1000);
    let mut acc = 0;
    for (digit, first, last, weight) in ERAS {
        acc += weight;
        if roll < acc {
            if digit == 0 {
                return "000000000".to_owned();
            }
            let d = rng.gen_range(day(first)..=day(last));
            let (y, m, dd, ..) = Timestamp(d * 86_400).fields();
            return format!("{digit}{y:04}{m:02}{dd:02}");
        }
    }
    "000000000".to_owned()
}

fn draw_person(rng: &mut ChaCha20Rng) -> Person {
    let (name, name_flags) = draw_name(rng);
    let (address, address_flags) = draw_address(rng);
    let gender = if rng.gen_range(0..100) < 2 {
        "3"
    } else if rng.gen_bool(0.5) {
        "1"
    } else {
        "2"
    };
    Person { name, name_flags, gender: gender.to_owned(), birth: draw_birth(rng), address, address_flags }
}

/// What happened to one PPID between the snapshot and now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Category {
    Unchanged,
    Address,
    Name,
    NameAddress,
    BirthDate,
    Gender,
    Renewed,
    AddressNotListed,
    New,
    Gone,
    Reject,
}

impl Category {
    fn draw(rng: &mut ChaCha20Rng) -> Category {
        let table = [
            (Category::Unchanged, 620),
            (Category::Address, 120),
            (Category::Name, 50),
            (Category::NameAddress, 30),
            (Category::BirthDate, 10),
            (Category::Gender, 10),
            (Category::Renewed, 50),
            (Category::AddressNotListed, 30),
            (Category::New, 30),
            (Category::Gone, 30),
            (Category::Reject, 20),
        ];
        let roll = rng.gen_range(0..1000);
        let mut acc = 0;
        for (c, weight) in table {
            acc += weight;
            if roll < acc {
                return c;
            }
        }
        Category::Unchanged
    }

    fn name(self) -> &'static str {
        match self {
            Category::Unchanged => "unchanged",
            Category::Address => "address",
            Category::Name => "name",
            Category::NameAddress => "name_address",
            Category::BirthDate => "birth_date",
            Category::Gender => "gender",
            Category::Renewed => "renewed",
            Category::AddressNotListed => "address_not_listed",
            Category::New => "new",
            Category::Gone => "gone",
            Category::Reject => "reject",
        }
    }

    /// (name, address, birth date, gender) changed.
    fn changes(self) -> [bool; 4] {
        match self {
            Category::Address | Category::AddressNotListed => [false, true, false, false],
            Category::Name => [true, false, false, false],
            Category::NameAddress => [true, true, false, false],
            Category::BirthDate => [false, false, true, false],
            Category::Gender => [false, false, false, true],
            _ => [false; 4],
        }
    }
}

/// A signing CA and its CRL entries.
#[derive(Debug)]
pub struct FourCa<'a> {
    pub ca: &'a Ca,
    pub listed: Vec<Listed>,
    pub base: u64,
    pub span: u64,
}

/// What to write.
#[derive(Debug, Clone)]
pub struct FourOptions {
    pub ppids: u64,
    pub seed: u64,
    /// The evaluation time the expected flags assume (CRLs fresh).
    pub at: Timestamp,
}

/// Counts written to gen.json.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GenFour {
    pub ppids: u64,
    pub before_rows: u64,
    pub after_rows: u64,
    pub at: Timestamp,
}

fn certs_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("ppid", DataType::Utf8, false),
        Field::new("sign_cert_der", DataType::Binary, false),
    ]))
}

fn expected_schema() -> SchemaRef {
    let b = |n: &str| Field::new(n, DataType::Boolean, true);
    let s = |n: &str| Field::new(n, DataType::Utf8, true);
    Arc::new(Schema::new(vec![
        Field::new("ppid", DataType::Utf8, false),
        Field::new("category", DataType::Utf8, false),
        Field::new("comparison", DataType::Utf8, false),
        b("name_changed"),
        b("address_changed"),
        b("birth_date_changed"),
        b("gender_changed"),
        s("old_issuer_kid"),
        s("old_serial"),
        s("new_issuer_kid"),
        s("new_serial"),
        s("old_reason"),
        b("old_revoked_affiliation_changed"),
        Field::new("reject_row", DataType::Int64, true),
    ]))
}

struct Certs {
    ppid: StringBuilder,
    der: BinaryBuilder,
    rows: u64,
}

impl Certs {
    fn new() -> Self {
        Certs { ppid: StringBuilder::new(), der: BinaryBuilder::new(), rows: 0 }
    }

    fn push(&mut self, ppid: &str, der: &[u8]) -> u64 {
        self.ppid.append_value(ppid);
        self.der.append_value(der);
        self.rows += 1;
        self.rows - 1
    }

    fn write(mut self, path: &Path) -> Result<u64, GenError> {
        let cols: Vec<ArrayRef> = vec![Arc::new(self.ppid.finish()), Arc::new(self.der.finish())];
        let batch = RecordBatch::try_new(certs_schema(), cols).map_err(|e| GenError::Invalid(e.to_string()))?;
        write_parquet(path, &batch)?;
        Ok(self.rows)
    }
}

fn write_parquet(path: &Path, batch: &RecordBatch) -> Result<(), GenError> {
    let io = |e: &dyn std::fmt::Display| GenError::Io(format!("{}: {e}", path.display()));
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(|e| io(&e))?;
    }
    let file = std::fs::File::create(path).map_err(|e| io(&e))?;
    let props = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
    let mut wr = ArrowWriter::try_new(file, batch.schema(), Some(props)).map_err(|e| io(&e))?;
    wr.write(batch).map_err(|e| io(&e))?;
    wr.close().map_err(|e| io(&e))?;
    Ok(())
}

/// A serial of `ca` not on its CRL and not used yet.
fn fresh_serial(rng: &mut ChaCha20Rng, ca: &FourCa<'_>, used: &mut HashSet<u64>) -> Serial {
    loop {
        let s = ca.base + rng.gen_range(0..ca.span.max(1));
        let listed = ca.listed.binary_search_by(|l| l.serial.to_u64().unwrap_or(u64::MAX).cmp(&s)).is_ok();
        if !listed && used.insert(s) {
            return Serial::from_u64(s);
        }
    }
}

/// An entry of `ca`'s CRL with `reason`, not used yet.
fn listed_serial(rng: &mut ChaCha20Rng, ca: &FourCa<'_>, reason: Reason, used: &mut HashSet<u64>) -> Option<Listed> {
    for _ in 0..10_000 {
        let l = ca.listed.get(rng.gen_range(0..ca.listed.len().max(1)))?;
        let Some(s) = l.serial.to_u64() else { continue };
        if l.reason == Some(reason) && used.insert(s) {
            return Some(l.clone());
        }
    }
    None
}

const YEAR: i64 = 365 * 86_400;

/// Write `four/before/certs.parquet`, `four/after/certs.parquet` and
/// `four/expected.parquet` under `out`. `cas` are the signing CAs, oldest
/// generation first; new certificates come from the last.
pub fn write_four(out: &Path, opts: &FourOptions, cas: &[FourCa<'_>]) -> Result<GenFour, GenError> {
    let current = cas.last().ok_or_else(|| GenError::Invalid("--four needs a signing CA with a CRL".into()))?;
    let mut rng = rng_for(opts.seed, "four");
    let keys: Vec<Key> = (0..3)
        .map(|i| Key::generate(KeyKind::Rsa2048, opts.seed, &format!("four-subject/{i}")))
        .collect::<Result<_, _>>()?;
    let mut used: HashSet<u64> = HashSet::new();
    let mut before = Certs::new();
    let mut after = Certs::new();
    let mut e = ExpectedRows::new();
    let at = opts.at;
    for i in 0..opts.ppids {
        let ppid = format!("{:016x}{:08x}", rng.gen::<u64>(), i);
        let cat = Category::draw(&mut rng);
        let old_ca = if cas.len() > 1 && rng.gen_range(0..100) < 30 { cas.first() } else { Some(current) };
        let old_ca = old_ca.unwrap_or(current);
        let person = draw_person(&mut rng);
        let Some(key) = keys.get(rng.gen_range(0..keys.len())) else { continue };
        let cn = format!("{:016X}", rng.gen::<u64>());
        // The old certificate: listed for the categories revoked by the change.
        let reason = match cat {
            Category::Address | Category::Name | Category::NameAddress | Category::BirthDate | Category::Gender => {
                Some(Reason::AffiliationChanged)
            }
            Category::Renewed => Some(Reason::Superseded),
            _ => None,
        };
        let listed = match reason {
            Some(r) => Some(
                listed_serial(&mut rng, old_ca, r, &mut used)
                    .ok_or_else(|| GenError::Invalid(format!("the CRL has too few {} entries for --four", r.name())))?,
            ),
            None => None,
        };
        let old_serial = match &listed {
            Some(l) => l.serial,
            None => fresh_serial(&mut rng, old_ca, &mut used),
        };
        let old_nb = match &listed {
            Some(l) => Timestamp(l.revoked.0 - rng.gen_range(86_400..4 * YEAR)),
            None => Timestamp(at.0 - rng.gen_range(86_400..4 * YEAR)),
        };
        let old_spec = SignCertSpec {
            serial: old_serial,
            not_before: old_nb,
            not_after: Timestamp(old_nb.0 + 5 * YEAR),
            fields: person.fields(),
            cn: cn.clone(),
        };
        let old_der = signing_cert(old_ca.ca, key, &old_spec, opts.seed)?;
        // The new person and certificate.
        let mut new_person = person.clone();
        let [n, a, b, g] = cat.changes();
        if n {
            loop {
                let (name, flags) = draw_name(&mut rng);
                if name != person.name {
                    new_person.name = name;
                    new_person.name_flags = flags;
                    break;
                }
            }
        }
        if a {
            loop {
                let (addr, flags) = draw_address(&mut rng);
                if addr != person.address {
                    new_person.address = addr;
                    new_person.address_flags = flags;
                    break;
                }
            }
        }
        if b {
            loop {
                let d = draw_birth(&mut rng);
                if d != person.birth {
                    new_person.birth = d;
                    break;
                }
            }
        }
        if g {
            new_person.gender = if person.gender == "1" { "2".into() } else { "1".into() };
        }
        let new_nb = match &listed {
            Some(l) => Timestamp((l.revoked.0 + rng.gen_range(0..7 * 86_400)).min(at.0 - 3600)),
            None => Timestamp(at.0 - rng.gen_range(3600..11 * 3600)),
        };
        let reissued = !matches!(cat, Category::Unchanged | Category::Gone | Category::Reject);
        let new_serial = if reissued { Some(fresh_serial(&mut rng, current, &mut used)) } else { None };
        let new_der = match new_serial {
            Some(s) => Some(signing_cert(
                current.ca,
                key,
                &SignCertSpec {
                    serial: s,
                    not_before: new_nb,
                    not_after: Timestamp(new_nb.0 + 5 * YEAR),
                    fields: new_person.fields(),
                    cn: cn.clone(),
                },
                opts.seed,
            )?),
            None => None,
        };
        // Rows.
        if cat != Category::New {
            before.push(&ppid, &old_der);
        }
        let mut reject_row = None;
        match cat {
            Category::Unchanged => {
                after.push(&ppid, &old_der);
            }
            Category::Gone => {}
            Category::Reject => {
                let bad = if rng.gen_bool(0.5) {
                    let s = fresh_serial(&mut rng, current, &mut used);
                    let spec = SignCertSpec {
                        serial: s,
                        not_before: new_nb,
                        not_after: Timestamp(new_nb.0 + 5 * YEAR),
                        fields: Vec::new(),
                        cn,
                    };
                    signing_cert(current.ca, key, &spec, opts.seed)?
                } else {
                    b"not a certificate".to_vec()
                };
                reject_row = Some(after.push(&ppid, &bad));
            }
            _ => {
                if let Some(d) = &new_der {
                    after.push(&ppid, d);
                }
                let history = !matches!(cat, Category::New) && rng.gen_range(0..3) == 0;
                if history {
                    after.push(&ppid, &old_der);
                }
            }
        }
        let comparison = match cat {
            Category::New => "no_snapshot",
            Category::Gone | Category::Reject => "no_certificate",
            _ => "compared",
        };
        let compared = comparison == "compared";
        let has_old = cat != Category::New;
        let (new_kid, new_ser) = match (cat, new_serial) {
            (Category::Unchanged, _) => (Some(old_ca.ca.kid_hex()), Some(old_serial)),
            (_, Some(s)) => (Some(current.ca.kid_hex()), Some(s)),
            _ => (None, None),
        };
        e.push(ExpectedRow {
            ppid,
            category: cat.name(),
            comparison,
            changes: compared.then(|| cat.changes()),
            old: has_old.then(|| (old_ca.ca.kid_hex(), old_serial.to_string())),
            new: new_kid.zip(new_ser.map(|s| s.to_string())),
            old_reason: listed.as_ref().and_then(|l| l.reason).map(|r| r.name()),
            aff: has_old.then_some(reason == Some(Reason::AffiliationChanged)),
            reject_row,
        });
    }
    let dir = out.join("four");
    let before_rows = before.write(&dir.join("before").join("certs.parquet"))?;
    let after_rows = after.write(&dir.join("after").join("certs.parquet"))?;
    let eb = e.finish()?;
    write_parquet(&dir.join("expected.parquet"), &eb)?;
    Ok(GenFour { ppids: opts.ppids, before_rows, after_rows, at })
}

struct ExpectedRow {
    ppid: String,
    category: &'static str,
    comparison: &'static str,
    changes: Option<[bool; 4]>,
    old: Option<(String, String)>,
    new: Option<(String, String)>,
    old_reason: Option<&'static str>,
    aff: Option<bool>,
    reject_row: Option<u64>,
}

struct ExpectedRows(Vec<ExpectedRow>);

impl ExpectedRows {
    fn new() -> Self {
        ExpectedRows(Vec::new())
    }

    fn push(&mut self, r: ExpectedRow) {
        self.0.push(r);
    }

    fn finish(self) -> Result<RecordBatch, GenError> {
        let mut ppid = StringBuilder::new();
        let mut cat = StringBuilder::new();
        let mut cmp = StringBuilder::new();
        let mut flags: [BooleanBuilder; 4] = std::array::from_fn(|_| BooleanBuilder::new());
        let mut ok = StringBuilder::new();
        let mut os = StringBuilder::new();
        let mut nk = StringBuilder::new();
        let mut ns = StringBuilder::new();
        let mut reason = StringBuilder::new();
        let mut aff = BooleanBuilder::new();
        let mut rej = Int64Builder::new();
        for r in &self.0 {
            ppid.append_value(&r.ppid);
            cat.append_value(r.category);
            cmp.append_value(r.comparison);
            for (k, b) in flags.iter_mut().enumerate() {
                b.append_option(r.changes.and_then(|c| c.get(k).copied()));
            }
            ok.append_option(r.old.as_ref().map(|o| o.0.as_str()));
            os.append_option(r.old.as_ref().map(|o| o.1.as_str()));
            nk.append_option(r.new.as_ref().map(|o| o.0.as_str()));
            ns.append_option(r.new.as_ref().map(|o| o.1.as_str()));
            reason.append_option(r.old_reason);
            aff.append_option(r.aff);
            rej.append_option(r.reject_row.and_then(|v| i64::try_from(v).ok()));
        }
        let mut cols: Vec<ArrayRef> = vec![Arc::new(ppid.finish()), Arc::new(cat.finish()), Arc::new(cmp.finish())];
        cols.extend(flags.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
        cols.extend([
            Arc::new(ok.finish()) as ArrayRef,
            Arc::new(os.finish()),
            Arc::new(nk.finish()),
            Arc::new(ns.finish()),
            Arc::new(reason.finish()),
            Arc::new(aff.finish()),
            Arc::new(rej.finish()),
        ]);
        RecordBatch::try_new(expected_schema(), cols).map_err(|e| GenError::Invalid(e.to_string()))
    }
}
