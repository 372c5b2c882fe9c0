"""Makes the TLS certificates of docker-compose.yml's Kafka into
deploy/compose/certs/ (gitignored): a private CA, the broker's certificate and
the init job's client certificate, as PEM files Kafka reads directly.

    python deploy/compose/make_certs.py          # keeps existing files; --force makes new ones

- ca.pem            the CA certificate: every client's trust anchor (KAFKA_SSL_CAFILE)
- kafka.pem         the broker's key and certificate chain (CN kafka-broker; DNS kafka, localhost):
                    the client listener (SASL_SSL) and, with client authentication, the
                    controller and inter-broker listeners
- bus-init.pem      the init job's key and certificate (CN bus-init), the only super user
                    besides the broker itself: it creates the SCRAM users, topics and ACLs

Keys are unencrypted (Kafka's PEM keystores need no password then) and readable
by the containers' users (the directory is gitignored): a local stack's
certificates, never production's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HERE = Path(__file__).resolve().parent
DEFAULT_DIR = HERE / "certs"
VALID_DAYS = 825


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _builder(subject: x509.Name, issuer: x509.Name, public_key, days: int = VALID_DAYS) -> x509.CertificateBuilder:  # noqa: ANN001
    now = dt.datetime.now(dt.UTC)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days)))


def make_ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = _key()
    name = _name("brobygger compose CA")
    cert = (_builder(name, name, key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def issue(ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate, common_name: str, dns: list[str],
          usages: list[x509.ObjectIdentifier]) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = _key()
    builder = (_builder(_name(common_name), ca.subject, key.public_key())
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage(usages), critical=False))
    if dns:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


def make(directory: Path = DEFAULT_DIR, force: bool = False) -> list[str]:
    """Writes the files; returns their names (none when they exist and not `force`)."""
    files = ("ca.pem", "kafka.pem", "bus-init.pem")
    if not force and all((directory / f).is_file() for f in files):
        return []
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca = make_ca()
    broker_key, broker = issue(ca_key, ca, "kafka-broker", ["kafka", "localhost"],
                               [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH])
    init_key, init = issue(ca_key, ca, "bus-init", [], [ExtendedKeyUsageOID.CLIENT_AUTH])
    contents = {
        "ca.pem": _pem_cert(ca),
        "kafka.pem": _pem_key(broker_key) + _pem_cert(broker) + _pem_cert(ca),
        "bus-init.pem": _pem_key(init_key) + _pem_cert(init) + _pem_cert(ca),
    }
    for name, data in contents.items():
        path = directory / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    return list(contents)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--force", action="store_true", help="make new ones even when they exist")
    args = parser.parse_args()
    written = make(args.output, args.force)
    print(f"{args.output}: " + (", ".join(written) if written else "kept the existing certificates"))


if __name__ == "__main__":
    main()
