"""Peer: pyca/cryptography loads a DER CRL, verifies its signature with the CA
certificate's key, and iterates every revoked serial (what an analyst's
Python would do). usage: pyca_crl.py CRL CA_CERT"""
import sys

from cryptography import x509

crl = x509.load_der_x509_crl(open(sys.argv[1], "rb").read())
ca = x509.load_der_x509_certificate(open(sys.argv[2], "rb").read())
if not crl.is_signature_valid(ca.public_key()):
    sys.exit("signature invalid")
n = 0
acc = 0
for r in crl:
    acc ^= r.serial_number
    n += 1
print(n)
