//! HTTPS: `cairn serve` with a certificate and key answers over TLS (checked
//! by a rustls client that trusts only that certificate), and a half-given
//! TLS configuration is refused.

use std::sync::Arc;

use cairn_server::config::ServeConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

async fn https_get(
    addr: std::net::SocketAddr,
    cert: &CertificateDer<'static>,
    path: &str,
) -> std::io::Result<String> {
    let mut roots = RootCertStore::empty();
    roots.add(cert.clone()).map_err(std::io::Error::other)?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(std::io::Error::other)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from("localhost").map_err(std::io::Error::other)?;
    let mut tls = TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await?;
    tls.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await?;
    let mut out = String::new();
    tls.read_to_string(&mut out).await.or_else(|e| {
        // Some servers close without close_notify after the response.
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            Ok(0)
        } else {
            Err(e)
        }
    })?;
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_https_with_the_given_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let generated =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("certificate");
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, generated.cert.pem()).expect("write cert");
    std::fs::write(&key_path, generated.signing_key.serialize_pem()).expect("write key");
    let cert_der = generated.cert.der().clone();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let config = ServeConfig {
        data_dir: dir.path().join("data"),
        tls_cert: Some(cert_path.clone()),
        tls_key: Some(key_path.clone()),
        ..ServeConfig::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(cairn_server::http::serve(listener, config, async move {
        let _ = stopped.await;
    }));
    let mut answer = String::new();
    for _ in 0..100 {
        if let Ok(a) = https_get(addr, &cert_der, "/readyz").await {
            if a.starts_with("HTTP/1.1 200") {
                answer = a;
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "no HTTPS answer: {answer:?}"
    );
    let collections = https_get(addr, &cert_der, "/collections")
        .await
        .expect("https request");
    assert!(collections.contains("\"collections\":[]"), "{collections}");

    // Plain HTTP on the TLS port gets no API answer.
    let mut plain = TcpStream::connect(addr).await.expect("connect");
    plain
        .write_all(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        plain.read_to_end(&mut raw),
    )
    .await;
    assert!(
        !String::from_utf8_lossy(&raw).contains("ready"),
        "plain HTTP must not be served"
    );

    let _ = stop.send(());
    server
        .await
        .expect("join")
        .expect("HTTPS server shut down cleanly");

    // A certificate without a key is refused before serving.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let half = ServeConfig {
        data_dir: dir.path().join("data"),
        tls_cert: Some(cert_path),
        ..ServeConfig::default()
    };
    let err = cairn_server::http::serve(listener, half, async {})
        .await
        .expect_err("half TLS config");
    assert!(err.to_string().contains("--tls-key"), "{err}");
}
