//! TLS to the state database: tokio-postgres's `MakeTlsConnect` over `tokio-rustls` (the rustls 0.23
//! with ring that reqwest already builds), trusting the Mozilla roots or the CAs of `[state] ca_file`.
//!
//! Our own rather than `tokio-postgres-rustls`: that crate parses the server certificate with
//! `x509-cert` (and `der`, `spki`, `const-oid`, `tls_codec`) only to learn its signature hash for
//! SCRAM channel binding; [`signature_hash`] reads that one field from the DER itself.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::pki_types::{CertificateDer, ServerName};
use sha2::Digest;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// Makes a TLS connection per pooled connection, all sharing one rustls configuration.
#[derive(Clone)]
pub(super) struct MakeRustls {
    config: Arc<rustls::ClientConfig>,
    /// What the server's certificate must chain to, for messages.
    trusted: &'static str,
}

impl MakeRustls {
    /// Trusts `roots`: the CAs of `[state] ca_file` when given, else the Mozilla roots.
    pub(super) fn new(roots: Option<&[CertificateDer<'static>]>) -> Result<MakeRustls, String> {
        let trusted = if roots.is_some() { "the CAs of `[state] ca_file`" } else { "the Mozilla roots" };
        let roots = match roots {
            None => rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() },
            Some(certs) => {
                let mut store = rustls::RootCertStore::empty();
                for cert in certs {
                    store.add(cert.clone()).map_err(|e| format!("TLS: a CA certificate is not usable: {e}"))?;
                }
                store
            }
        };
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(MakeRustls { config: Arc::new(config), trusted })
    }
}

impl<S> MakeTlsConnect<S> for MakeRustls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsConnect;
    type Error = rustls::pki_types::InvalidDnsNameError;

    fn make_tls_connect(&mut self, host: &str) -> Result<RustlsConnect, Self::Error> {
        let name = ServerName::try_from(host)?.to_owned();
        Ok(RustlsConnect { name, connector: TlsConnector::from(Arc::clone(&self.config)), trusted: self.trusted })
    }
}

/// One connection's handshake, for the host it was made for.
pub(super) struct RustlsConnect {
    name: ServerName<'static>,
    connector: TlsConnector,
    trusted: &'static str,
}

impl<S> TlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = io::Error;
    // Boxed: one allocation per connection, and no pin projection (the crate forbids `unsafe`).
    type Future = Pin<Box<dyn Future<Output = io::Result<RustlsStream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        let connect = self.connector.connect(self.name, stream);
        let trusted = self.trusted;
        Box::pin(async move { connect.await.map(RustlsStream).map_err(|e| explain(e, trusted)) })
    }
}

/// A certificate the client refused, said with what to do about it (rustls's own words kept).
fn explain(e: io::Error, trusted: &str) -> io::Error {
    use rustls::CertificateError::{NotValidForName, NotValidForNameContext, UnknownIssuer};
    let hint = match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::InvalidCertificate(UnknownIssuer)) => format!(
            "the server's certificate is not signed by {trusted}: name the CA that signed it in `[state] ca_file`"
        ),
        Some(rustls::Error::InvalidCertificate(NotValidForName | NotValidForNameContext { .. })) => {
            "the server's certificate does not name the host the URL gives: use a name it holds".to_owned()
        }
        _ => return e,
    };
    io::Error::new(e.kind(), format!("{e} ({hint})"))
}

/// An established TLS connection to the server.
pub(super) struct RustlsStream<S>(TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> tokio_postgres::tls::TlsStream for RustlsStream<S> {
    /// `tls-server-end-point` (RFC 5929): the server certificate hashed with its signature's hash,
    /// SHA-256 for SHA-1 (as PostgreSQL computes it). A certificate whose hash is not known here
    /// (Ed25519, RSA-PSS: PostgreSQL cannot bind to those either) gets none: SCRAM then runs without
    /// channel binding, as under libpq's default `channel_binding=prefer`.
    fn channel_binding(&self) -> ChannelBinding {
        let (_, session) = self.0.get_ref();
        let Some(cert) = session.peer_certificates().and_then(<[_]>::first) else {
            return ChannelBinding::none();
        };
        match signature_hash(cert) {
            Some(Hash::Sha256) => ChannelBinding::tls_server_end_point(sha2::Sha256::digest(cert).to_vec()),
            Some(Hash::Sha384) => ChannelBinding::tls_server_end_point(sha2::Sha384::digest(cert).to_vec()),
            Some(Hash::Sha512) => ChannelBinding::tls_server_end_point(sha2::Sha512::digest(cert).to_vec()),
            None => ChannelBinding::none(),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

/// The hash channel binding uses for a certificate.
#[derive(Debug, PartialEq, Eq)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

/// The hash of a DER certificate's outer `signatureAlgorithm`: `Certificate ::= SEQUENCE {
/// tbsCertificate SEQUENCE, signatureAlgorithm SEQUENCE { algorithm OID, … }, … }`. `None` for an
/// algorithm not listed or bytes that are not such a structure.
fn signature_hash(der: &[u8]) -> Option<Hash> {
    const SEQUENCE: u8 = 0x30;
    const OID: u8 = 0x06;
    let (certificate, _) = tlv(der, SEQUENCE)?;
    let (_tbs, rest) = tlv(certificate, SEQUENCE)?;
    let (algorithm, _) = tlv(rest, SEQUENCE)?;
    let (oid, _) = tlv(algorithm, OID)?;
    // RSA PKCS#1 v1.5 (1.2.840.113549.1.1.n) and ECDSA (1.2.840.10045.4.x); SHA-1 counts as SHA-256.
    const RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01];
    const ECDSA_SHA1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01];
    const ECDSA_SHA2: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03];
    if oid == ECDSA_SHA1 {
        return Some(Hash::Sha256);
    }
    let (prefix, last) = oid.split_last().map(|(last, prefix)| (prefix, *last))?;
    match (prefix, last) {
        (RSA, 0x05 | 0x0b) | (ECDSA_SHA2, 0x02) => Some(Hash::Sha256),
        (RSA, 0x0c) | (ECDSA_SHA2, 0x03) => Some(Hash::Sha384),
        (RSA, 0x0d) | (ECDSA_SHA2, 0x04) => Some(Hash::Sha512),
        _ => None,
    }
}

/// Splits one DER element of type `tag` off `bytes`: its contents and what follows it.
fn tlv(bytes: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&first, rest) = bytes.split_first()?;
    if first != tag {
        return None;
    }
    let (&len, mut rest) = rest.split_first()?;
    let len = if len < 0x80 {
        usize::from(len)
    } else {
        // Long form: the low bits count the length's bytes (a certificate needs at most 4).
        let count = usize::from(len & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (digits, after) = rest.split_at(count);
        rest = after;
        digits.iter().fold(0usize, |n, &d| (n << 8) | usize::from(d))
    };
    (rest.len() >= len).then(|| rest.split_at(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A DER element: `tag`, its length (short or long form), `contents`.
    fn der(tag: u8, contents: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        match contents.len() {
            n @ 0..=0x7f => out.push(n as u8),
            n @ 0x80..=0xff => out.extend([0x81, n as u8]),
            n => out.extend([0x82, (n >> 8) as u8, n as u8]),
        }
        out.extend_from_slice(contents);
        out
    }

    /// A certificate's outline: a `tbs` of `tbs_len` bytes, then the algorithm `oid`.
    fn certificate(tbs_len: usize, oid: &[u8]) -> Vec<u8> {
        let mut body = der(0x30, &vec![0x02; tbs_len]);
        body.extend(der(0x30, &der(0x06, oid)));
        body.extend(der(0x03, &[0, 1, 2, 3]));
        der(0x30, &body)
    }

    #[test]
    fn the_binding_hash_is_read_from_the_signature_algorithm_past_a_long_tbs() {
        let sha256_rsa = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
        let sha1_rsa = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05];
        let sha512_rsa = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d];
        let ecdsa_sha384 = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
        let ed25519 = [0x2b, 0x65, 0x70];
        // 10, 200 and 1,000 bytes of tbs: the short, one-byte and two-byte length forms.
        for tbs in [10, 200, 1000] {
            assert_eq!(signature_hash(&certificate(tbs, &sha256_rsa)), Some(Hash::Sha256), "{tbs}");
            assert_eq!(signature_hash(&certificate(tbs, &sha1_rsa)), Some(Hash::Sha256), "{tbs}");
            assert_eq!(signature_hash(&certificate(tbs, &sha512_rsa)), Some(Hash::Sha512), "{tbs}");
            assert_eq!(signature_hash(&certificate(tbs, &ecdsa_sha384)), Some(Hash::Sha384), "{tbs}");
            assert_eq!(signature_hash(&certificate(tbs, &ed25519)), None, "{tbs}");
        }
    }

    #[test]
    fn bytes_that_are_no_certificate_give_no_binding() {
        let good = certificate(300, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]);
        assert_eq!(signature_hash(&good), Some(Hash::Sha256));
        // Every truncation, and a wrong outer tag.
        for cut in 0..good.len() {
            assert_eq!(signature_hash(&good[..cut]), None, "cut at {cut}");
        }
        let mut wrong = good.clone();
        wrong[0] = 0x31;
        assert_eq!(signature_hash(&wrong), None);
        assert_eq!(signature_hash(&[0x30, 0x85, 1, 1, 1, 1, 1]), None, "a length of five bytes");
    }
}
