"""The demo's certificates: a throwaway self-signed one, and the demo CA.

The self-signed certificate is what the HTTPS listener presents by default. No
client trusts it, which is the point: an https link to the demo web is the
demo's TLS failure case. The demo CA signs the certificate of each host that
serves HTTPS properly (`DemoSite.https`, chosen by SNI); its certificate is the
demo config's `[crawl] ca_bundle`, so that host passes `https`. All are made in
memory with `cryptography` (a Scrapy dependency); a key is written only to a
private temporary directory removed once the context has loaded it.
"""

from __future__ import annotations

import datetime as dt
import ssl
import tempfile
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_DAYS = 30
SERVER_VALID_DAYS = 397   # the longest a public CA may issue; far past the https check's 30-day warning
CA_VALID_DAYS = 3650


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "govmon 演示网"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _server_context(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey,
                    chain: Sequence[x509.Certificate] = ()) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    with tempfile.TemporaryDirectory(prefix="govmon-demo-tls-") as folder:
        cert_path, key_path = Path(folder) / "cert.pem", Path(folder) / "key.pem"
        cert_path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (cert, *chain)))
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        context.load_cert_chain(cert_path, key_path)
    return context


def self_signed_context(names: tuple[str, ...] = ("demo.test",)) -> ssl.SSLContext:
    """A server context with a fresh self-signed certificate for `names`."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "govmon 演示网（自签名）")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=VALID_DAYS))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .sign(key, hashes.SHA256()))
    return _server_context(cert, key)


class DemoCA:
    """A certificate authority made for one demo web: `pem` is its certificate (the config's
    ca_bundle), `server_context(names)` a server context whose certificate it signed for `names`."""

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        subject = _name("govmon 演示网根证书")
        self.cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                     .public_key(self._key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - dt.timedelta(days=1))
                     .not_valid_after(now + dt.timedelta(days=CA_VALID_DAYS))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                     .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                                  key_encipherment=False, data_encipherment=False,
                                                  key_agreement=False, key_cert_sign=True, crl_sign=True,
                                                  encipher_only=False, decipher_only=False), critical=True)
                     .add_extension(x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()),
                                    critical=False)
                     .sign(self._key, hashes.SHA256()))

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def server_context(self, names: Sequence[str]) -> ssl.SSLContext:
        """A server context presenting a certificate for `names` (DNS names) signed by this CA."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        ca_key_id = self.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        cert = (x509.CertificateBuilder().subject_name(_name(names[0])).issuer_name(self.cert.subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=SERVER_VALID_DAYS))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_key_id),
                               critical=False)
                .sign(self._key, hashes.SHA256()))
        return _server_context(cert, key)
