//! The load generator's HTTP/1.1 client, as lean as wrk's or oha's: one
//! keep-alive TCP connection per client index, each request's head and body
//! written in one `write_all`, and the answer's head parsed with `httparse`,
//! all on the caller's task.
//!
//! Why not reqwest for the measured requests: the generator shares the 2
//! cores with the server under test, and reqwest's URL parsing, connection
//! pool, header maps and the hop to a connection task are CPU the server
//! then lacks (the README's HTTP section has the before/after). Setup
//! requests (loading, calibration's `set_ef`) still go through reqwest.

use std::net::SocketAddr;

use anyhow::{bail, Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

/// At most this many response-head lines are parsed.
const MAX_HEADERS: usize = 32;

/// A fixed set of keep-alive connections to one server, opened on first use
/// and reopened after an error.
pub struct LeanHttp {
    addr: SocketAddr,
    slots: Vec<Mutex<Option<Connection>>>,
}

/// What one exchange read: the status, where the body lies in the
/// connection's input buffer, and whether the server keeps the connection.
struct Answer {
    status: u16,
    body: std::ops::Range<usize>,
    keep_alive: bool,
}

struct Connection {
    stream: TcpStream,
    /// Outgoing request, then the incoming answer (reused, so no request
    /// allocates once the buffers have grown).
    out: Vec<u8>,
    input: Vec<u8>,
}

impl LeanHttp {
    pub fn new(addr: SocketAddr, connections: usize) -> LeanHttp {
        LeanHttp {
            addr,
            slots: (0..connections.max(1)).map(|_| Mutex::new(None)).collect(),
        }
    }

    /// Sends `method path` with a JSON `body` on connection `client` (modulo
    /// the number of connections) and hands a successful answer's body to
    /// `parse`. A non-2xx status is an error carrying the start of the body.
    pub async fn request<R>(
        &self,
        client: usize,
        method: &str,
        path: &str,
        body: &[u8],
        parse: impl FnOnce(&[u8]) -> Result<R>,
    ) -> Result<R> {
        let mut slot = self.slots[client % self.slots.len()].lock().await;
        let conn = match slot.take() {
            Some(c) => c,
            None => Connection::open(self.addr).await?,
        };
        let (
            conn,
            Answer {
                status,
                body,
                keep_alive,
            },
        ) = conn.exchange(self.addr, method, path, body).await?;
        let answer = &conn.input[body];
        let result = if (200..300).contains(&status) {
            parse(answer)
        } else {
            let text = String::from_utf8_lossy(&answer[..answer.len().min(300)]).into_owned();
            Err(anyhow::anyhow!("{method} {path}: status {status}: {text}"))
        };
        // Only a connection that finished its exchange, and that the server
        // keeps open, is used again.
        if keep_alive {
            *slot = Some(conn);
        }
        result
    }
}

impl Connection {
    async fn open(addr: SocketAddr) -> Result<Connection> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream,
            out: Vec::new(),
            input: Vec::new(),
        })
    }

    /// One request and its answer; hands the connection back beside it.
    async fn exchange(
        mut self,
        addr: SocketAddr,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<(Connection, Answer)> {
        use std::io::Write;
        self.out.clear();
        write!(
            self.out,
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )?;
        self.out.extend_from_slice(body);
        self.stream.write_all(&self.out).await?;

        self.input.clear();
        let (head_len, status, content_length, keep_alive) = loop {
            if self.read_more().await? == 0 {
                bail!("{addr} closed the connection before answering {method} {path}");
            }
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut response = httparse::Response::new(&mut headers);
            if let httparse::Status::Complete(head_len) = response.parse(&self.input)? {
                let status = response.code.unwrap_or(0);
                let header = |name: &str| {
                    response
                        .headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case(name))
                        .map(|h| h.value)
                };
                let keep_alive =
                    !header("connection").is_some_and(|v| v.eq_ignore_ascii_case(b"close"));
                let length = header("content-length")
                    .and_then(|v| std::str::from_utf8(v).ok()?.trim().parse::<usize>().ok())
                    .with_context(|| {
                        format!("{method} {path}: the answer has no Content-Length (chunked answers are not supported)")
                    })?;
                break (head_len, status, length, keep_alive);
            }
        };
        let end = head_len + content_length;
        while self.input.len() < end {
            if self.read_more().await? == 0 {
                bail!("{addr} closed the connection in the middle of an answer");
            }
        }
        let answer = Answer {
            status,
            body: head_len..end,
            keep_alive,
        };
        Ok((self, answer))
    }

    /// Appends what the socket has (at least one byte unless it closed).
    async fn read_more(&mut self) -> Result<usize> {
        if self.input.capacity() - self.input.len() < 4096 {
            self.input.reserve(16 * 1024);
        }
        Ok(self.stream.read_buf(&mut self.input).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// Answers each request on one connection with the next canned
    /// answer, written in two halves so the client must read across them.
    async fn serve(answers: Vec<&'static str>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            // A second connection is refused, so a client that did not
            // keep the first one fails instead of hanging.
            drop(listener);
            let mut buf = vec![0; 64 * 1024];
            for answer in answers {
                let _ = socket.read(&mut buf).await.expect("read");
                let (a, b) = answer.split_at(answer.len() / 2);
                socket.write_all(a.as_bytes()).await.expect("write");
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                socket.write_all(b.as_bytes()).await.expect("write");
            }
        });
        addr
    }

    #[tokio::test]
    async fn reads_split_answers_reuses_the_connection_and_reports_bad_statuses() {
        let addr = serve(vec![
            "HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\n{\"ok\":true}",
            "HTTP/1.1 404 Not Found\r\nContent-Length: 18\r\n\r\ncollection missing",
        ])
        .await;
        let http = LeanHttp::new(addr, 1);
        let body = http
            .request(0, "POST", "/a", b"{}", |b| Ok(b.to_vec()))
            .await
            .expect("first answer");
        assert_eq!(body, b"{\"ok\":true}");
        // The canned server accepts one connection only, so this answer
        // arriving at all shows the connection was kept.
        let err = http
            .request(0, "POST", "/b", b"{}", |_| Ok(()))
            .await
            .expect_err("a 404 is an error");
        let text = format!("{err:#}");
        assert!(
            text.contains("404") && text.contains("collection missing"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn an_answer_without_content_length_is_a_clear_error() {
        let addr = serve(vec![
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
        ])
        .await;
        let err = LeanHttp::new(addr, 1)
            .request(0, "GET", "/", b"", |_| Ok(()))
            .await
            .expect_err("chunked answers are refused");
        assert!(format!("{err:#}").contains("Content-Length"), "{err:#}");
    }
}
