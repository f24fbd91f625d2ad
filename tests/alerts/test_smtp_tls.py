"""TLS and credentials from the environment: STARTTLS, implicit SSL and AUTH against aiosmtpd on 127.0.0.1."""

from __future__ import annotations

import ipaddress
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from alerts.outbox import deliver_due
from tests.alerts.conftest import Inbox
from tests.alerts.factory import NOW
from yuqing.config import load_settings
from yuqing.records import OutboxMessage

x509 = pytest.importorskip("cryptography.x509", reason="cryptography makes the test certificate")


def _certificate(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(datetime.now(UTC) - timedelta(days=1)).not_valid_after(datetime.now(UTC) + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _check(server: object, session: object, envelope: object, mechanism: str, data: object) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"alerts", b"s3cret-pw")
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def tls(tmp_path: Path):
    cert, key = _certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return cert, context


def _env(port: int, db: Path, **extra: str) -> dict[str, str]:
    return {"YUQING_SMTP_HOST": "127.0.0.1", "YUQING_SMTP_PORT": str(port), "YUQING_SMTP_USERNAME": "alerts",
            "YUQING_SMTP_PASSWORD": "s3cret-pw", "YUQING_SMTP_SENDER": "yuqing@example.test",
            "YUQING_STORE_PATH": str(db), **extra}


def _queue(store) -> None:
    store.enqueue(OutboxMessage(to=("duty@example.test",), subject="【红色预警】测试", text="正文",
                                      dedup_key="tls-test", created_at=NOW))


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_tls_and_login_from_environment(store, tmp_path, free_port, tls, monkeypatch, mode) -> None:
    cert, context = tls
    inbox = Inbox()
    if mode == "starttls":
        controller = Controller(inbox, hostname="127.0.0.1", port=free_port, tls_context=context,
                                require_starttls=True, authenticator=_check, auth_require_tls=True)
    else:
        controller = Controller(inbox, hostname="127.0.0.1", port=free_port, ssl_context=context,
                                authenticator=_check, auth_require_tls=False)
    controller.start()
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust the test certificate, as a private CA would be
        settings = load_settings(env=_env(free_port, tmp_path / "yuqing.db", **{f"YUQING_SMTP_{mode.upper()}": "true"}))
        _queue(store)
        assert deliver_due(store.ops, settings, NOW) == 1
        assert [rcpts for _, rcpts, _ in inbox.messages] == [["duty@example.test"]]
    finally:
        controller.stop()


def test_wrong_password_or_untrusted_certificate_keeps_the_message(store, tmp_path, free_port, tls,
                                                                     monkeypatch) -> None:
    cert, context = tls
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port, tls_context=context, require_starttls=True,
                            authenticator=_check, auth_require_tls=True)
    controller.start()
    try:
        _queue(store)
        env = _env(free_port, tmp_path / "yuqing.db", YUQING_SMTP_STARTTLS="true")
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "absent.pem"))
        assert deliver_due(store.ops, load_settings(env=env), NOW) == 0  # certificate not trusted
        assert "CERTIFICATE_VERIFY_FAILED" in store.list_outbox()[0].last_error
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        env["YUQING_SMTP_PASSWORD"] = "wrong"
        assert deliver_due(store.ops, load_settings(env=env), NOW + timedelta(hours=1)) == 0
        assert "535" in store.list_outbox()[0].last_error
        env["YUQING_SMTP_PASSWORD"] = "s3cret-pw"
        assert deliver_due(store.ops, load_settings(env=env), NOW + timedelta(hours=2)) == 1
        assert len(inbox.messages) == 1
    finally:
        controller.stop()
