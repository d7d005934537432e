"""mitmproxy's CA for the tools crosswire starts: its files, and the variables common tools read.

Two kinds of variable, two files beside the CA in mitmproxy's confdir (rewritten on every use):

- variables that *replace* a tool's trust store (``SSL_CERT_FILE``, ``REQUESTS_CA_BUNDLE``,
  ``CURL_CA_BUNDLE``, …) get ``crosswire-ca-bundle.pem``: the trust store the user's tools use now
  (their own ``SSL_CERT_FILE`` or ``REQUESTS_CA_BUNDLE``, else OpenSSL's default file, else
  certifi's), their extra CAs, and mitmproxy's CA, so the tool still reaches hosts crosswire does
  not route;
- variables that *add* to it (``NODE_EXTRA_CA_CERTS``, ``CODEX_CA_CERTIFICATE``, ``DENO_CERT``) get
  ``crosswire-extra-ca.pem``: mitmproxy's CA plus the extra CAs those variables named before.

Nothing turns verification off: the tool verifies every certificate, mitmproxy's included.
"""

from __future__ import annotations

import os
import re
import shlex
import ssl
from collections.abc import Mapping
from pathlib import Path

CA_CERT = "mitmproxy-ca-cert.pem"
BUNDLE = "crosswire-ca-bundle.pem"
EXTRA = "crosswire-extra-ca.pem"
# Variables whose file is the whole trust store (Python's ssl/httpx, requests, curl, git, the AWS and
# Google SDKs, pip, httplib2, gRPC, Nix) and variables whose file is added to the built-in one.
REPLACING = (
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "GIT_SSL_CAINFO",
    "AWS_CA_BUNDLE",
    "PIP_CERT",
    "HTTPLIB2_CA_CERTS",
    "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH",
    "NIX_SSL_CERT_FILE",
    "CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE",
)
ADDING = ("NODE_EXTRA_CA_CERTS", "CODEX_CA_CERTIFICATE", "DENO_CERT")
# Where systems keep their trust store when OpenSSL's default file is missing (Debian, Fedora, Alpine/macOS).
SYSTEM_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem")
_PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----\r?\n.*?-----END CERTIFICATE-----", re.S)


def default_confdir() -> Path:
    from mitmproxy.options import CONF_DIR

    return Path(os.path.expanduser(CONF_DIR))


def ensure_ca(confdir: Path) -> Path:
    """mitmproxy's CA certificate in ``confdir``, created the way mitmproxy creates it on first start."""
    cert = confdir / CA_CERT
    if not cert.is_file():
        from mitmproxy import certs
        from mitmproxy.options import CONF_BASENAME, KEY_SIZE

        certs.CertStore.from_store(confdir, CONF_BASENAME, KEY_SIZE)
    return cert


def trust_store(environ: Mapping[str, str]) -> Path:
    """The CA file the user's tools trust now, to keep trusting alongside mitmproxy's CA."""
    user = (environ.get("SSL_CERT_FILE"), environ.get("REQUESTS_CA_BUNDLE"))
    for candidate in (*user, ssl.get_default_verify_paths().openssl_cafile, *SYSTEM_BUNDLES):
        if candidate and Path(candidate).is_file() and _certificates(Path(candidate)):
            return Path(candidate)
    import certifi  # installed with mitmproxy

    return Path(certifi.where())


def _certificates(path: Path) -> list[bytes]:
    try:
        return _PEM_CERT.findall(path.read_bytes())
    except OSError:
        return []


def _write(path: Path, sources: list[Path]) -> None:
    seen: dict[bytes, None] = {}  # each certificate once, in order
    for source in sources:
        seen.update(dict.fromkeys(_certificates(source)))
    partial = path.with_name(path.name + f".{os.getpid()}.partial")
    partial.write_bytes(b"\n".join(seen) + b"\n")
    os.replace(partial, path)  # a tool reading it meanwhile sees the old or the new file, whole


def variables(confdir: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """Write the two files for ``confdir``'s CA and return every CA variable for a tool's environment."""
    cert = ensure_ca(confdir)
    extras = [Path(v) for name in ADDING if (v := environ.get(name)) and Path(v).is_file()]
    bundle, extra = confdir / BUNDLE, confdir / EXTRA
    _write(bundle, [trust_store(environ), *extras, cert])
    _write(extra, [cert, *extras])
    return {**dict.fromkeys(REPLACING, str(bundle)), **dict.fromkeys(ADDING, str(extra))}


def export_lines(values: Mapping[str, str]) -> list[str]:
    """``export NAME=VALUE`` lines a POSIX shell can ``eval``."""
    return [f"export {name}={shlex.quote(value)}" for name, value in values.items()]
