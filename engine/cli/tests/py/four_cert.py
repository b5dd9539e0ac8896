"""Make a JPKI-shaped signing certificate with pyca/cryptography (another
producer than crlbatch gen): the basic four information as subjectAltName
otherNames, UTF8String values. Usage: four_cert.py OUT.der VALUES.json
where VALUES.json maps the last OID arc ("1".."6") to the value and may set
"serial" (int) and "aki" (hex)."""

import datetime
import json
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID


def utf8string(value: str) -> bytes:
    body = value.encode("utf-8")
    n = len(body)
    if n < 0x80:
        length = bytes([n])
    elif n < 0x100:
        length = bytes([0x81, n])
    else:
        length = bytes([0x82, n >> 8, n & 0xFF])
    return b"\x0c" + length + body


def main() -> None:
    out, values_path = sys.argv[1], sys.argv[2]
    with open(values_path, encoding="utf-8") as f:
        values = json.load(f)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    issuer = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "JPKI"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "JPKI for digital signature"),
    ])
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.COMMON_NAME, "PYCA-TEST"),
    ])
    names = [
        x509.OtherName(x509.ObjectIdentifier(f"1.2.392.200149.8.5.5.{arc}"), utf8string(values[arc]))
        for arc in ["1", "2", "3", "4", "5", "6"]
        if arc in values
    ]
    nb = datetime.datetime(2025, 6, 1, tzinfo=datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(int(values.get("serial", 0x0A1B2C3D4E5F)))
        .not_valid_before(nb)
        .not_valid_after(nb + datetime.timedelta(days=5 * 365))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier(bytes.fromhex(values.get("aki", "ab" * 20)), None, None), critical=False
        )
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
        )
    )
    cert = builder.sign(key, hashes.SHA256())
    with open(out, "wb") as f:
        f.write(cert.public_bytes(Encoding.DER))


if __name__ == "__main__":
    main()
