"""The CA files `crosswire run`, `proxy` and `env` give tools: mitmproxy's CA added to, never replacing,
what the user's tools already trust."""

from __future__ import annotations

import re
import ssl
from pathlib import Path

from crosswire import ca

CERT = re.compile(rb"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", re.S)


def _certs(path: str | Path) -> list[bytes]:
    return CERT.findall(Path(path).read_bytes())


def test_the_bundle_keeps_the_trust_store_and_adds_mitmproxys_ca(tmp_path: Path) -> None:
    system = ca.trust_store({})
    values = ca.variables(tmp_path / "conf", {})
    mitm = _certs(tmp_path / "conf" / ca.CA_CERT)
    assert len(mitm) == 1
    bundle = _certs(values["SSL_CERT_FILE"])
    assert set(_certs(system)) | set(mitm) == set(bundle) and len(bundle) > 10
    assert _certs(values["NODE_EXTRA_CA_CERTS"]) == mitm
    assert {name for name, v in values.items() if v == values["SSL_CERT_FILE"]} == set(ca.REPLACING)
    assert {name for name, v in values.items() if v == values["NODE_EXTRA_CA_CERTS"]} == set(ca.ADDING)
    ssl.create_default_context(cafile=values["SSL_CERT_FILE"])  # a file OpenSSL loads


def test_the_users_own_cas_stay_trusted(tmp_path: Path) -> None:
    corporate = ca.variables(tmp_path / "corp", {})  # any other CA will do: this one is a real certificate
    corporate_ca = tmp_path / "corp" / ca.CA_CERT
    own_bundle = tmp_path / "own.pem"
    own_bundle.write_bytes(Path(ca.trust_store({})).read_bytes() + corporate_ca.read_bytes())
    env = {"SSL_CERT_FILE": str(own_bundle), "NODE_EXTRA_CA_CERTS": str(corporate_ca)}
    values = ca.variables(tmp_path / "conf", env)
    assert ca.trust_store(env) == own_bundle
    corp = _certs(corporate_ca)[0]
    assert corp in _certs(values["SSL_CERT_FILE"])
    assert corp in _certs(values["NODE_EXTRA_CA_CERTS"])
    assert _certs(tmp_path / "conf" / ca.CA_CERT)[0] in _certs(values["NODE_EXTRA_CA_CERTS"])
    assert corporate["SSL_CERT_FILE"] != values["SSL_CERT_FILE"]


def test_a_second_run_reuses_the_ca_and_a_bundle_of_our_own_does_not_grow(tmp_path: Path) -> None:
    first = ca.variables(tmp_path, {})
    cert = (tmp_path / ca.CA_CERT).read_bytes()
    size = Path(first["SSL_CERT_FILE"]).stat().st_size
    again = ca.variables(
        tmp_path, {"SSL_CERT_FILE": first["SSL_CERT_FILE"], "NODE_EXTRA_CA_CERTS": first["NODE_EXTRA_CA_CERTS"]}
    )
    assert (tmp_path / ca.CA_CERT).read_bytes() == cert
    assert Path(again["SSL_CERT_FILE"]).stat().st_size == size


def test_export_lines_quote_for_the_shell() -> None:
    assert ca.export_lines({"A": "/x y/z", "B": "/plain"}) == ["export A='/x y/z'", "export B=/plain"]
