//! A scripted HTTP/1.1 server on 127.0.0.1 for tests, on `std` alone (no async runtime, no crates), so
//! integration tests can include this same file with `#[path]`.
//!
//! Each path has a script: a list of [`Reply`]s served in order, the last one repeating. A reply can be
//! delayed, hang, lie about its `Content-Length`, stall in the middle of its body, trickle it a byte at a
//! time, stream a large or endless (chunked) body generated on the fly, or reset the connection in the
//! middle of it. A TLS handshake arriving on this plain-HTTP port is answered the way plain servers
//! answer one: `400 Bad Request`, recorded as a request with method `TLS`. One thread per connection and
//! `Connection: close` on every response keep each request on its own connection, so what the server
//! records is exactly what the client did: every request with its headers, body and arrival time, how
//! many body bytes it wrote before the client hung up, and the most requests it ever had in flight at
//! once.

// Shared by the library's unit tests and the integration tests, each using a part of it.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// How long a hanging reply holds its connection: far beyond any timeout a test configures.
const HANG: Duration = Duration::from_secs(30);

/// One scripted response.
#[derive(Debug, Clone)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: ReplyBody,
    /// `None`: the real length; `Some(None)`: no header, the body ends when the connection closes;
    /// `Some(Some(n))`: announce `n` whatever is sent.
    content_length: Option<Option<u64>>,
    delay: Duration,
    hang: bool,
    stall: Option<(usize, Duration)>,
    /// Pause before each body byte.
    trickle: Option<Duration>,
    /// After this many body bytes, reset the connection (RST, not a clean close).
    reset_after: Option<u64>,
}

#[derive(Debug, Clone)]
enum ReplyBody {
    Bytes(Vec<u8>),
    Zeros(u64),
    /// `Transfer-Encoding: chunked` zeros that never end: written until the client hangs up.
    EndlessChunked,
}

impl ReplyBody {
    fn len(&self) -> u64 {
        match self {
            ReplyBody::Bytes(b) => b.len() as u64,
            ReplyBody::Zeros(n) => *n,
            ReplyBody::EndlessChunked => u64::MAX,
        }
    }
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: ReplyBody::Bytes(Vec::new()),
            content_length: None,
            delay: Duration::ZERO,
            hang: false,
            stall: None,
            trickle: None,
            reset_after: None,
        }
    }

    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        Reply::status(200).body(body)
    }

    /// A 200 with a `Content-Type`.
    pub fn ok_as(content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Reply::ok(body).header("Content-Type", content_type)
    }

    /// A redirect with the given status and `Location`.
    pub fn redirect(status: u16, location: &str) -> Self {
        Reply::status(status).header("Location", location)
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = ReplyBody::Bytes(body.into());
        self
    }

    /// A body of `len` zero bytes, generated while sending (nothing that size is held in memory).
    pub fn zeros(mut self, len: u64) -> Self {
        self.body = ReplyBody::Zeros(len);
        self
    }

    /// Announce `len` as the `Content-Length`, whatever the body really is.
    pub fn content_length(mut self, len: u64) -> Self {
        self.content_length = Some(Some(len));
        self
    }

    /// Send no `Content-Length`: the body ends when the connection closes.
    pub fn until_close(mut self) -> Self {
        self.content_length = Some(None);
        self
    }

    /// Wait before sending anything.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Read the request, then send nothing and keep the connection open.
    pub fn hang(mut self) -> Self {
        self.hang = true;
        self
    }

    /// Send the head and the first `after` body bytes, then go quiet for `pause` before the rest.
    pub fn stall(mut self, after: usize, pause: Duration) -> Self {
        self.stall = Some((after, pause));
        self
    }

    /// Send the body one byte at a time, `every` apart (a slowloris server: never idle for long, never done).
    pub fn trickle(mut self, every: Duration) -> Self {
        self.trickle = Some(every);
        self
    }

    /// A chunked body of zeros that never ends; the server writes until the client hangs up.
    pub fn endless_chunked(mut self) -> Self {
        self.body = ReplyBody::EndlessChunked;
        self.content_length = Some(None);
        self.headers.push(("Transfer-Encoding".to_owned(), "chunked".to_owned()));
        self
    }

    /// Send the first `after` body bytes, then reset the connection (TCP RST) instead of finishing.
    pub fn reset_after(mut self, after: u64) -> Self {
        self.reset_after = Some(after);
        self
    }
}

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Names lowercased, in the order received.
    pub headers: Vec<(String, String)>,
    /// The request body (read by its `Content-Length`; empty without one).
    pub body: Vec<u8>,
    /// When the request head had been read.
    pub at: Instant,
    /// Body bytes written to the socket before the response ended or the client hung up (the kernel's
    /// buffers hold a few MB of these that the client never read).
    pub body_bytes_sent: u64,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

#[derive(Default)]
struct State {
    scripts: Mutex<HashMap<String, VecDeque<Reply>>>,
    log: Mutex<Vec<Recorded>>,
    /// Requests read whose response has not started (the scripted delay is inside this window).
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// Connections accepted and not yet closed.
    open: AtomicUsize,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The server; it runs until the test process exits.
pub struct TestServer {
    addr: SocketAddr,
    state: Arc<State>,
}

impl TestServer {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(State::default());
        let accept_state = Arc::clone(&state);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = Arc::clone(&accept_state);
                state.open.fetch_add(1, Ordering::SeqCst);
                thread::spawn(move || {
                    serve(&stream, &state);
                    state.open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        TestServer { addr, state }
    }

    /// Scripts `path` (e.g. `/feed.xml`): replies in order, the last one repeating. Unscripted paths get 404.
    pub fn route(&self, path: &str, replies: impl IntoIterator<Item = Reply>) -> &Self {
        lock(&self.state.scripts).insert(path.to_owned(), replies.into_iter().collect());
        self
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.state.log).clone()
    }

    pub fn requests_to(&self, path: &str) -> Vec<Recorded> {
        self.requests().into_iter().filter(|r| r.path == path).collect()
    }

    /// The most requests that were ever waiting for their response at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    /// Waits until every connection has been closed by the server (so `body_bytes_sent` is final).
    /// It blocks the thread: from a tokio test use `flavor = "multi_thread"`, or the client's connection
    /// task never runs to hang up.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.state.open.load(Ordering::SeqCst) > 0 {
            if Instant::now() > deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(10));
        }
        true
    }
}

fn serve(mut stream: &TcpStream, state: &State) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = match read_head(stream) {
        Some(Head::Http(request)) => request,
        Some(Head::Tls(request)) => {
            lock(&state.log).push(request);
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
            let _ = stream.shutdown(std::net::Shutdown::Write);
            return;
        }
        None => return,
    };
    let reply = {
        let mut scripts = lock(&state.scripts);
        match scripts.get_mut(&request.path) {
            Some(script) if script.len() > 1 => script.pop_front(),
            Some(script) => script.front().cloned(),
            None => None,
        }
    }
    .unwrap_or_else(|| Reply::status(404));
    let index = {
        let mut log = lock(&state.log);
        log.push(request);
        log.len() - 1
    };

    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now, Ordering::SeqCst);
    thread::sleep(reply.delay);
    if reply.hang {
        thread::sleep(HANG);
    }
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
    if reply.hang {
        return;
    }

    let sent = write_reply(stream, &reply);
    lock(&state.log)[index].body_bytes_sent = sent;
    if reply.reset_after.is_some() {
        // Let the head and the first bytes arrive first: a reset discards whatever is still unsent.
        thread::sleep(Duration::from_millis(100));
        // Linger 0: closing now sends RST, and the client sees "connection reset" rather than an end.
        let _ = socket2::SockRef::from(stream).set_linger(Some(Duration::ZERO));
        return;
    }
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Write);
    // Let the client read to the end before the socket closes (an early close can reset the connection).
    let _ = stream.read(&mut [0; 1]);
}

enum Head {
    Http(Recorded),
    /// The first bytes were a TLS handshake record: an https:// client on this plain port.
    Tls(Recorded),
}

/// Reads the request head (and the body its `Content-Length` announces) into a record stamped when the
/// head was read; `None` if the client closed or sent garbage.
fn read_head(mut stream: &TcpStream) -> Option<Head> {
    let mut buf = Vec::new();
    let mut chunk = [0; 4096];
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut chunk).ok().filter(|&n| n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
        // 0x16 0x03: a TLS handshake record; it has no blank line to wait for.
        if buf.starts_with(&[0x16, 0x03]) {
            let at = Instant::now();
            let (method, path) = ("TLS".to_owned(), String::new());
            return Some(Head::Tls(Recorded {
                method,
                path,
                headers: Vec::new(),
                body: Vec::new(),
                at,
                body_bytes_sent: 0,
            }));
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
    };
    let at = Instant::now();
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let path = request_line.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0)
        .min(1024 * 1024);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).ok().filter(|&n| n > 0)?;
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
    Some(Head::Http(Recorded { method, path, headers, body, at, body_bytes_sent: 0 }))
}

/// Writes the head and body; returns how many body bytes were written before the client hung up.
fn write_reply(mut stream: &TcpStream, reply: &Reply) -> u64 {
    let mut head = format!("HTTP/1.1 {} {}\r\nConnection: close\r\n", reply.status, reason(reply.status));
    match reply.content_length {
        None => head += &format!("Content-Length: {}\r\n", reply.body.len()),
        Some(Some(len)) => head += &format!("Content-Length: {len}\r\n"),
        Some(None) => {}
    }
    for (name, value) in &reply.headers {
        head += &format!("{name}: {value}\r\n");
    }
    head += "\r\n";
    if stream.write_all(head.as_bytes()).is_err() {
        return 0;
    }

    if let ReplyBody::EndlessChunked = reply.body {
        return write_endless_chunks(stream);
    }
    let total = reply.body.len();
    let limit = reply.reset_after.map_or(total, |n| n.min(total));
    let step = if reply.trickle.is_some() { 1 } else { 16 * 1024 };
    let mut sent = 0u64;
    let zeros = [0u8; 16 * 1024];
    while sent < limit {
        let mut end = limit.min(sent + step);
        if let Some((after, _)) = reply.stall {
            if sent < after as u64 {
                end = end.min(after as u64);
            }
        }
        let piece = match &reply.body {
            ReplyBody::Bytes(bytes) => &bytes[sent as usize..end as usize],
            ReplyBody::Zeros(_) | ReplyBody::EndlessChunked => &zeros[..(end - sent) as usize],
        };
        if let Some(every) = reply.trickle {
            thread::sleep(every);
        }
        if stream.write_all(piece).is_err() {
            return sent;
        }
        sent = end;
        if let Some((after, pause)) = reply.stall {
            if sent == after as u64 {
                let _ = stream.flush();
                thread::sleep(pause);
            }
        }
    }
    sent
}

/// 16 KiB chunks of zeros until a write fails (the client hung up); returns the body bytes written.
fn write_endless_chunks(mut stream: &TcpStream) -> u64 {
    let mut chunk = format!("{:x}\r\n", 16 * 1024).into_bytes();
    chunk.extend_from_slice(&[0u8; 16 * 1024]);
    chunk.extend_from_slice(b"\r\n");
    let mut sent = 0u64;
    while stream.write_all(&chunk).is_ok() {
        sent += 16 * 1024;
    }
    sent
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        404 => "Not Found",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}
