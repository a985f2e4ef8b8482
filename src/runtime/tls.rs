//! RTMPS: the session's TCP stream wrapped in TLS (rustls on ring). The app supplies
//! the server's certificate chain and key, and what a client trusts, as PEM.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::{self, CryptoProvider};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio_rustls::rustls::{
    ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme,
};
use tokio_rustls::{server, TlsAcceptor, TlsConnector, TlsStream};

use super::transport::Transport;
use super::RuntimeError;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(crypto::ring::default_provider())
}

fn config_error(what: &str, e: impl std::fmt::Display) -> RuntimeError {
    RuntimeError::TlsConfig(format!("{what}: {e}"))
}

/// The server side of RTMPS: a certificate chain and its private key.
#[derive(Clone)]
pub struct TlsServer(TlsAcceptor);

impl TlsServer {
    /// Reads a PEM certificate chain (leaf first) and a PEM private key (PKCS#8,
    /// PKCS#1 or SEC1).
    pub fn from_pem(cert_chain: &[u8], key: &[u8]) -> Result<Self, RuntimeError> {
        let certs = CertificateDer::pem_slice_iter(cert_chain)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| config_error("certificate", e))?;
        if certs.is_empty() {
            return Err(config_error("certificate", "no PEM certificate found"));
        }
        let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| config_error("key", e))?;
        let config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| config_error("protocol versions", e))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| config_error("certificate and key", e))?;
        Ok(Self(TlsAcceptor::from(Arc::new(config))))
    }

    /// Completes the TLS handshake of an accepted connection within `timeout`.
    pub(super) async fn accept(
        &self,
        stream: TcpStream,
        timeout: Duration,
    ) -> Result<Transport, RuntimeError> {
        let tls = self.handshake(stream, timeout).await?;
        Ok(Transport::Tls(Box::new(TlsStream::Server(tls))))
    }

    /// The server's side of the TLS handshake (RFC 8446 §2), within `timeout`.
    pub(super) async fn handshake(
        &self,
        stream: TcpStream,
        timeout: Duration,
    ) -> Result<server::TlsStream<TcpStream>, RuntimeError> {
        tokio::time::timeout(timeout, self.0.accept(stream))
            .await
            .map_err(|_| RuntimeError::HandshakeTimeout(timeout.as_millis()))?
            .map_err(RuntimeError::Tls)
    }
}

/// What a client trusts: Mozilla's roots (webpki-roots), the app's own PEM
/// certificates, or, with verification off, any certificate.
pub enum Trust<'a> {
    WebPkiRoots,
    Pem(&'a [u8]),
    AnyCertificate,
}

/// The client side of RTMPS: the trust configuration.
#[derive(Clone)]
pub struct TlsClient(TlsConnector);

impl TlsClient {
    pub fn new(trust: Trust<'_>) -> Result<Self, RuntimeError> {
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| config_error("protocol versions", e))?;
        let config = match trust {
            Trust::AnyCertificate => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider())))
                .with_no_client_auth(),
            Trust::WebPkiRoots => {
                let roots =
                    RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
                builder.with_root_certificates(roots).with_no_client_auth()
            }
            Trust::Pem(pem) => {
                let mut roots = RootCertStore::empty();
                for cert in CertificateDer::pem_slice_iter(pem) {
                    let cert = cert.map_err(|e| config_error("ca", e))?;
                    roots.add(cert).map_err(|e| config_error("ca", e))?;
                }
                if roots.is_empty() {
                    return Err(config_error("ca", "no PEM certificate found"));
                }
                builder.with_root_certificates(roots).with_no_client_auth()
            }
        };
        Ok(Self(TlsConnector::from(Arc::new(config))))
    }

    /// Completes the TLS handshake with `host` (its name is checked against the
    /// certificate and sent as SNI) within `timeout`.
    pub(super) async fn connect(
        &self,
        host: &str,
        stream: TcpStream,
        timeout: Duration,
    ) -> Result<Transport, RuntimeError> {
        let name =
            ServerName::try_from(host.to_string()).map_err(|e| config_error("server name", e))?;
        let tls = tokio::time::timeout(timeout, self.0.connect(name, stream))
            .await
            .map_err(|_| RuntimeError::HandshakeTimeout(timeout.as_millis()))?
            .map_err(RuntimeError::Tls)?;
        Ok(Transport::Tls(Box::new(TlsStream::Client(tls))))
    }
}

/// Accepts any server certificate (`rejectUnauthorized: false`), still checking that
/// the handshake signatures are made with the certificate's key.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, tokio_rustls::rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, tokio_rustls::rustls::Error> {
        crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, tokio_rustls::rustls::Error> {
        crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
