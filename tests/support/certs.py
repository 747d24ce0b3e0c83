"""A private CA and a server certificate for 127.0.0.1, made with the openssl CLI as
docs/operations.md shows: the TLS tests of the broker and of the ledger link use it."""

from __future__ import annotations

import subprocess
from pathlib import Path

EC = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certificates(directory: Path, server: str = "server") -> Path:
    """`directory` with ca.crt/ca.key (a private CA) and <server>.crt/<server>.key signed by it
    for 127.0.0.1 and localhost; returns `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    openssl("req", "-x509", *EC, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
            "-subj", "/CN=Stockwire test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=directory)  # fmt: skip
    openssl("req", *EC, "-keyout", f"{server}.key", "-out", f"{server}.csr",
            "-subj", "/CN=127.0.0.1", cwd=directory)  # fmt: skip
    (directory / f"{server}.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n"
        "authorityKeyIdentifier=keyid\n"
    )
    openssl("x509", "-req", "-in", f"{server}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", f"{server}.crt", "-days", "2",
            "-extfile", f"{server}.ext", cwd=directory)  # fmt: skip
    return directory
