//! The in-process test server shared by the HTTP tests.
#![allow(dead_code)]

use std::path::PathBuf;

use cairn_server::config::ServeConfig;
use reqwest::{Client, Method, StatusCode};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct Server {
    pub base: String,
    pub client: Client,
    pub stop: Option<oneshot::Sender<()>>,
    pub task: Option<JoinHandle<anyhow::Result<()>>>,
    pub data_dir: PathBuf,
    pub dir: Option<tempfile::TempDir>,
}

impl Server {
    pub async fn start_with(max_body_bytes: usize) -> Server {
        Server::start_config(|c| c.max_body_bytes = max_body_bytes).await
    }

    pub async fn start_config(tweak: impl FnOnce(&mut ServeConfig)) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let mut config = ServeConfig {
            data_dir: dir.path().join("data"),
            ..ServeConfig::default()
        };
        tweak(&mut config);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(cairn_server::http::serve(listener, config, async move {
            let _ = stopped.await;
        }));
        let server = Server {
            base,
            client: Client::new(),
            stop: Some(stop),
            task: Some(task),
            data_dir: dir.path().join("data"),
            dir: Some(dir),
        };
        for _ in 0..100 {
            let ready = server
                .client
                .get(format!("{}/readyz", server.base))
                .header("api-key", "full-key");
            if ready
                .send()
                .await
                .is_ok_and(|r| r.status() == StatusCode::OK)
            {
                return server;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("server did not become ready");
    }

    pub async fn start() -> Server {
        Server::start_with(32 << 20).await
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// A GET whose answer is plain JSON, not Qdrant's envelope.
    pub async fn ok_raw(&self, path: &str) -> Value {
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), StatusCode::OK, "GET {path}");
        resp.json().await.expect("json")
    }

    /// A call that must succeed; returns `result`.
    pub async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, v) = self.call(method.clone(), path, body).await;
        assert_eq!(status, StatusCode::OK, "{method} {path}: {v}");
        assert_eq!(v["status"], "ok", "{v}");
        assert!(v["time"].is_number());
        v["result"].clone()
    }

    /// A call that must fail with `code`; checks Qdrant's error shape.
    pub async fn fails(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        code: StatusCode,
        needle: &str,
    ) {
        let (status, v) = self.call(method.clone(), path, body).await;
        assert_eq!(status, code, "{method} {path}: {v}");
        let msg = v["status"]["error"]
            .as_str()
            .unwrap_or_else(|| panic!("error shape: {v}"));
        assert!(
            msg.contains(needle),
            "{method} {path}: {msg:?} should mention {needle:?}"
        );
    }

    /// Stops the server; the returned directory keeps its data alive.
    pub async fn shutdown(mut self) -> (PathBuf, tempfile::TempDir) {
        let _ = self.stop.take().expect("running").send(());
        self.task
            .take()
            .expect("running")
            .await
            .expect("join")
            .expect("serve ended cleanly");
        (self.data_dir.clone(), self.dir.take().expect("dir"))
    }
}
