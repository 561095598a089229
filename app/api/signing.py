"""RSA-SHA256 signatures for OpenDSR responses and callbacks.

The private key and its X.509 certificate come from OPENDSR_SIGNING_KEY and
OPENDSR_CERTIFICATE. Outside production a self-signed pair is generated into the instance folder
the first time it is needed, so `make run` works out of the box; production refuses to sign
without configured files (a self-signed certificate must never reach controllers: OpenDSR 4.1).
"""
import base64
import os
import tempfile
from datetime import timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from flask import current_app

from ..models import utcnow
from .opendsr import processor_domain


class SigningUnavailable(Exception):
    """No key to sign with (production without OPENDSR_SIGNING_KEY / OPENDSR_CERTIFICATE)."""


def _generate_pair(domain):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = utcnow()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def _write_development_pair(key_path, cert_path):
    """Write both files into a fresh folder and rename it into place: the web process and a
    worker may both get here first, and a key must never end up next to another key's cert."""
    key_path.parent.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=key_path.parent.parent, prefix=".opendsr-"))
    key_pem, cert_pem = _generate_pair(processor_domain())
    fd = os.open(staging / key_path.name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key_pem)
    (staging / cert_path.name).write_bytes(cert_pem)
    try:
        os.rename(staging, key_path.parent)
    except OSError:
        # Someone else's pair won the race (or the folder exists): use theirs.
        for leftover in staging.iterdir():
            leftover.unlink()
        staging.rmdir()


def _paths(config):
    return Path(config["OPENDSR_SIGNING_KEY"]), Path(config["OPENDSR_CERTIFICATE"])


def _development_default(config):
    default_dir = Path(config["INSTANCE_DIR"]) / "opendsr"
    key_path, cert_path = _paths(config)
    return key_path.parent == default_dir and cert_path.parent == default_dir


def _load(app):
    config = app.config
    key_path, cert_path = _paths(config)
    if not (key_path.exists() and cert_path.exists()):
        if config["ENV_NAME"] == "production" or not _development_default(config):
            raise SigningUnavailable("OPENDSR_SIGNING_KEY and OPENDSR_CERTIFICATE must name "
                                     "an existing key and certificate")
        _write_development_pair(key_path, cert_path)
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    cert_pem = cert_path.read_bytes()
    x509.load_pem_x509_certificate(cert_pem)  # refuse a broken file now, not at first use
    return key, cert_pem


def _material():
    app = current_app._get_current_object()
    cached = app.extensions.get("dsr_opendsr_signing")
    if cached is None:
        cached = app.extensions["dsr_opendsr_signing"] = _load(app)
    return cached


def sign(body):
    """Base64 of the RSA PKCS#1 v1.5 signature over the SHA-256 of `body` (bytes)."""
    key, _ = _material()
    return base64.b64encode(key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()


def certificate_pem():
    return _material()[1]


def signature_headers(body):
    """The two OpenDSR headers for a signed body (responses and callbacks alike)."""
    return {"X-OpenDSR-Processor-Domain": processor_domain(),
            "X-OpenDSR-Signature": sign(body)}
