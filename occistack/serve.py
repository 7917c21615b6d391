"""How the server is served.

The paste server runner of the embedded default: waitress, on a port the command line can
change (``pserve development.ini http_port=8080``). PasteDeploy never lets a command-line
variable override a value the ini file sets, so the ini file does not set ``http_port``; this
runner takes it when given and the ``port`` option otherwise.

And the TLS context of gunicorn for client certificates (``ssl_context =
occistack.serve.client_certificate_tls`` in ``[server:main]``; production.ini shows it whole).
"""

from __future__ import annotations

import logging
import ssl
from pathlib import Path

import waitress

log = logging.getLogger(__name__)


def waitress_runner(wsgi_app, global_conf, host: str = "127.0.0.1", port: str = "6543", **options):
    port = global_conf.get("http_port") or port
    waitress.serve(wsgi_app, host=host, port=int(port), **options)


def client_certificate_tls(config, default_ssl_context_factory) -> ssl.SSLContext:
    """gunicorn's ``ssl_context`` hook: TLS that asks for a client certificate and accepts RFC 3820
    proxies, which OpenSSL refuses unless told (``X509_V_FLAG_ALLOW_PROXY_CERTS``; the
    environment variable of older OpenSSLs does nothing in 3.x).

    gunicorn's ``ca_certs`` may name a file or, as grid sites keep them, a directory of CA
    certificates (``/etc/grid-security/certificates``), all of which are loaded. A client
    certificate is optional unless ``cert_reqs = 2``: OCCI clients may authenticate otherwise,
    and one that sends no certificate is answered by the application with the methods it
    accepts rather than cut off in the handshake. A presented certificate that does not verify
    (untrusted, expired, a broken proxy) still fails the handshake; revocation is the
    application's to check (federation/x509.py), from CRLs it re-reads as fetch-crl renews them.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile=config.certfile, keyfile=config.keyfile)
    authorities = Path(config.ca_certs) if config.ca_certs else None
    if authorities is None:
        raise ValueError("client certificates need ca_certs: the CA certificates (a file or a directory)")
    files = sorted(path for path in authorities.iterdir() if _is_certificate_file(path)) if authorities.is_dir() \
        else [authorities]
    loaded = 0
    for path in files:
        try:
            context.load_verify_locations(cafile=str(path))
            loaded += 1
        except (ssl.SSLError, OSError) as error:
            log.warning("not a CA certificate file, skipped: %s (%s)", path, error)
    if not loaded:
        raise ValueError(f"no CA certificate could be loaded from {authorities}")
    context.verify_mode = ssl.CERT_REQUIRED if config.cert_reqs == ssl.CERT_REQUIRED else ssl.CERT_OPTIONAL
    context.verify_flags |= ssl.VERIFY_ALLOW_PROXY_CERTS
    # Python 3.13 turns strict RFC 5280 checks on by default; grid CAs and proxies predate them.
    context.verify_flags &= ~getattr(ssl, "VERIFY_X509_STRICT", 0)
    if config.ciphers:
        context.set_ciphers(config.ciphers)
    return context


def _is_certificate_file(path: Path) -> bool:
    stem, dot, suffix = path.name.rpartition(".")
    return path.is_file() and bool(dot) and (suffix in ("pem", "crt", "cer") or (suffix.isdigit() and len(stem) == 8))
