//! A real OpenLDAP `slapd` (Debian package `slapd`) on loopback, with a
//! throw-away configuration and mdb database in a temporary folder, loaded
//! offline with `slapadd` from an LDIF written here. Stopped on drop.

#![allow(dead_code, clippy::cast_possible_truncation)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const SLAPD: &str = "/usr/sbin/slapd";
pub const SLAPADD: &str = "/usr/sbin/slapadd";

/// One entry to load: its DN (RFC 4514, most specific first) and the value
/// of `certificateRevocationList;binary`, if any.
pub struct Entry {
    pub dn: String,
    pub crl: Option<Vec<u8>>,
}

pub struct Slapd {
    _dir: tempfile::TempDir,
    pub port: u16,
    child: Child,
}

fn base64(b: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in b.chunks(3) {
        let n = c.iter().enumerate().fold(0u32, |n, (i, &x)| n | (u32::from(x) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= c.len() {
                out.push(char::from(T[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// LDIF for `entries` and every entry above them (country, organization,
/// organizational units), parents first.
pub fn ldif(entries: &[Entry]) -> String {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = String::new();
    for e in entries {
        let rdns: Vec<&str> = e.dn.split(',').collect();
        for k in (0..rdns.len()).rev() {
            let dn = rdns[k..].join(",");
            if !seen.insert(dn.to_lowercase()) {
                continue;
            }
            let (t, v) = rdns[k].split_once('=').unwrap();
            let class = match t.to_ascii_lowercase().as_str() {
                "c" => "country",
                "o" => "organization",
                "ou" => "organizationalUnit",
                _ => "cRLDistributionPoint",
            };
            out.push_str(&format!("dn: {dn}\nobjectClass: {class}\n{t}: {v}\n"));
            if k == 0 {
                if let Some(crl) = &e.crl {
                    out.push_str(&format!("certificateRevocationList;binary:: {}\n", base64(crl)));
                }
            }
            out.push('\n');
        }
    }
    out
}

/// A free loopback port (bound and released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Slapd {
    /// A server holding `entries` under `c=JP`.
    pub fn start(entries: &[Entry]) -> Slapd {
        Self::start_on(free_port(), entries)
    }

    pub fn start_on(port: u16, entries: &[Entry]) -> Slapd {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("db")).unwrap();
        let conf = d.join("slapd.conf");
        std::fs::write(
            &conf,
            format!(
                "include /etc/ldap/schema/core.schema\nmodulepath /usr/lib/ldap\nmoduleload back_mdb\n\
                 pidfile {d}/slapd.pid\nsizelimit 500\ndatabase mdb\nsuffix \"c=JP\"\n\
                 rootdn \"cn=admin,c=JP\"\nrootpw secret\ndirectory {d}/db\nmaxsize 268435456\n",
                d = d.display()
            ),
        )
        .unwrap();
        let data = d.join("data.ldif");
        std::fs::write(&data, ldif(entries)).unwrap();
        let o = Command::new(SLAPADD).arg("-f").arg(&conf).arg("-l").arg(&data).output().unwrap();
        assert!(o.status.success(), "slapadd: {}", String::from_utf8_lossy(&o.stderr));
        let child = Command::new(SLAPD)
            .arg("-f")
            .arg(&conf)
            .arg("-h")
            .arg(format!("ldap://127.0.0.1:{port}/"))
            .args(["-d", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let s = Slapd { _dir: dir, port, child };
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(start.elapsed() < Duration::from_secs(10), "slapd did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        s
    }

    pub fn server(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The LDAP DN of a distribution point as gen.json writes it
/// (`DirName:C=JP, O=JPKI, ..., CN=City0001 CRLDP`, root first).
pub fn dn_of(dirname: &str) -> String {
    let mut rdns: Vec<&str> = dirname.strip_prefix("DirName:").unwrap().split(", ").collect();
    rdns.reverse();
    rdns.join(",")
}

pub fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap()
}

pub fn path(p: &Path) -> PathBuf {
    p.to_owned()
}
