//! A real HTTP/1.1 server on loopback for the fetcher's tests, with every
//! fault scripted per path: statuses, validators (304), Retry-After, a reset
//! or a close in the middle of the body, a slow body, no Content-Length.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the server answers to one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with the body; 304 when the request's If-None-Match equals `etag`.
    Ok { body: Vec<u8>, etag: Option<String>, last_modified: Option<String> },
    /// Any status, with an optional Retry-After.
    Status { code: u16, retry_after: Option<String> },
    /// Declares the whole body, sends `after` bytes, then resets (RST).
    Reset { body: Vec<u8>, after: usize },
    /// Declares the whole body, sends `after` bytes, then closes (FIN).
    Truncated { body: Vec<u8>, after: usize },
    /// 200, body in `chunk`-byte pieces with `pause` between them.
    Slow { body: Vec<u8>, chunk: usize, pause: Duration },
    /// 200 without Content-Length: the body ends when the connection closes.
    Unsized { body: Vec<u8> },
}

impl Reply {
    pub fn ok(body: &[u8], etag: &str) -> Self {
        Reply::Ok { body: body.to_vec(), etag: Some(format!("\"{etag}\"")), last_modified: None }
    }
    pub fn status(code: u16) -> Self {
        Reply::Status { code, retry_after: None }
    }
}

/// A request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub path: String,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<String>,
}

/// Replies per path: taken in order; the last one repeats.
#[derive(Debug, Clone, Default)]
pub struct Server {
    pub port: u16,
    script: Arc<Mutex<HashMap<String, VecDeque<Reply>>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = Server { port, ..Default::default() };
        let s = server.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let s = s.clone();
                std::thread::spawn(move || s.serve(conn));
            }
        });
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Replace the script of `path`.
    pub fn script(&self, path: &str, replies: Vec<Reply>) {
        self.script.lock().unwrap().insert(path.to_owned(), replies.into());
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn clear_seen(&self) {
        self.seen.lock().unwrap().clear();
    }

    fn next_reply(&self, path: &str) -> Option<Reply> {
        let mut script = self.script.lock().unwrap();
        let q = script.get_mut(path)?;
        if q.len() > 1 {
            q.pop_front()
        } else {
            q.front().cloned()
        }
    }

    fn serve(&self, conn: TcpStream) {
        let mut reader = BufReader::new(conn.try_clone().unwrap());
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let mut seen = Seen { path: path.clone(), if_none_match: None, if_modified_since: None };
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                match k.trim().to_ascii_lowercase().as_str() {
                    "if-none-match" => seen.if_none_match = Some(v.trim().to_owned()),
                    "if-modified-since" => seen.if_modified_since = Some(v.trim().to_owned()),
                    _ => {}
                }
            }
        }
        self.seen.lock().unwrap().push(seen.clone());
        let mut w = conn;
        let head = |code: u16, extra: &str, len: Option<usize>| {
            let reason = match code {
                200 => "OK",
                304 => "Not Modified",
                404 => "Not Found",
                429 => "Too Many Requests",
                500 => "Internal Server Error",
                503 => "Service Unavailable",
                _ => "Status",
            };
            let len = len.map(|n| format!("Content-Length: {n}\r\n")).unwrap_or_default();
            format!("HTTP/1.1 {code} {reason}\r\nConnection: close\r\n{len}{extra}\r\n")
        };
        let _ = match self.next_reply(&path) {
            None => w.write_all(head(404, "", Some(0)).as_bytes()),
            Some(Reply::Ok { body, etag, last_modified }) => {
                let mut extra = String::from("Content-Type: application/pkix-crl\r\n");
                if let Some(e) = &etag {
                    extra.push_str(&format!("ETag: {e}\r\n"));
                }
                if let Some(l) = &last_modified {
                    extra.push_str(&format!("Last-Modified: {l}\r\n"));
                }
                if etag.is_some() && seen.if_none_match == etag {
                    w.write_all(head(304, &extra, None).as_bytes())
                } else {
                    w.write_all(head(200, &extra, Some(body.len())).as_bytes()).and_then(|()| w.write_all(&body))
                }
            }
            Some(Reply::Status { code, retry_after }) => {
                let extra = retry_after.map(|r| format!("Retry-After: {r}\r\n")).unwrap_or_default();
                w.write_all(head(code, &extra, Some(0)).as_bytes())
            }
            Some(Reply::Reset { body, after }) => {
                let _ = w.write_all(head(200, "", Some(body.len())).as_bytes());
                let _ = w.write_all(&body[..after]);
                let _ = w.flush();
                std::thread::sleep(Duration::from_millis(20));
                socket2::SockRef::from(&w).set_linger(Some(Duration::ZERO)).unwrap();
                Ok(())
            }
            Some(Reply::Truncated { body, after }) => {
                let _ = w.write_all(head(200, "", Some(body.len())).as_bytes());
                w.write_all(&body[..after])
            }
            Some(Reply::Slow { body, chunk, pause }) => {
                let mut r = w.write_all(head(200, "", Some(body.len())).as_bytes());
                for piece in body.chunks(chunk) {
                    std::thread::sleep(pause);
                    r = w.write_all(piece).and_then(|()| w.flush());
                    if r.is_err() {
                        break;
                    }
                }
                r
            }
            Some(Reply::Unsized { body }) => {
                w.write_all(head(200, "", None).as_bytes()).and_then(|()| w.write_all(&body))
            }
        };
    }
}
