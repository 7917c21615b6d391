"""Where the IPMI driver reaches into pyghmi's internals (written against pyghmi 1.6.x).

Two things: a fix for pyghmi's cipher suite negotiation (below), and dropping the sessions
pyghmi keeps for a BMC that stopped answering (:func:`forget_sessions`).

**Cipher suite negotiation.** Opening an RMCP+ session, pyghmi's client proposes
RAKP-HMAC-SHA256 (cipher suite 17) and falls back to RAKP-HMAC-SHA1 (suite 3) only when the BMC
answers with an error status. Some BMCs do not refuse: they answer "OK" and name the algorithms
they picked instead. pyghmi ignores the algorithms named in the answer (its own TODO says so),
carries on with SHA-256 and breaks in the next step with ``struct.error: pack expected 32 items
for packing (got 20)``: a 20-byte SHA-1 digest where it expected 32 bytes.

Servers seen doing this: pyghmi's own BMC server (``pyghmi.ipmi.bmc``), and so virtualbmc,
which is built on it -- both only speak suite 3. OpenIPMI's ``ipmi_sim`` answers correctly and
needs no fix; neither do BMCs that speak SHA-256.

The fix reads the authentication algorithm the BMC picked and, when it picked SHA-1 while
pyghmi proposed SHA-256, retries the open-session request with SHA-1 -- the same retry pyghmi
makes after an error answer. Every other answer goes to pyghmi untouched, so BMCs that accept
SHA-256 keep it.
"""

from __future__ import annotations

import threading

#: RAKP-HMAC-SHA1, IPMI 2.0 table 13-17
_RAKP_HMAC_SHA1 = 0x01
#: where the open-session response (after the RMCP+ header) holds its status and the picked
#: authentication algorithm (IPMI 2.0 table 13-10)
_STATUS_OFFSET = 1
_AUTH_ALGORITHM_OFFSET = 16
#: pyghmi's marker (Session.attemptedhash) for "proposed SHA-256" and "proposed SHA-1"
_PROPOSED_SHA256, _PROPOSED_SHA1 = 256, 1

_installed = False
_install_lock = threading.Lock()


def install_cipher_suite_fallback() -> None:
    """Patch pyghmi's Session once per process; calling it again does nothing."""
    global _installed
    with _install_lock:
        if _installed:
            return
        from pyghmi.ipmi.private import session

        original = session.Session._got_rmcp_response

        def _got_rmcp_response(self, data):
            if (self.attemptedhash == _PROPOSED_SHA256
                    and len(data) > _AUTH_ALGORITHM_OFFSET
                    and data[0] == self.rmcptag  # an answer to this request, not a stale one
                    and data[_STATUS_OFFSET] == 0
                    and data[_AUTH_ALGORITHM_OFFSET] == _RAKP_HMAC_SHA1):
                self.attemptedhash = _PROPOSED_SHA1
                self._open_rmcpplus_request()
                return None
            return original(self, data)

        session.Session._got_rmcp_response = _got_rmcp_response
        _installed = True


def forget_sessions(address: str, port: int) -> None:
    """Mark every session pyghmi keeps for the BMC at ``address``:``port`` broken.

    pyghmi notices a dead session only after some 30 s of retries, and until then it hands the
    same session to every new caller -- also when the BMC came back after a restart, when the
    old session id means nothing to it (the first call then took 19 s here). The driver calls
    this when its own timeout ran out, so the next call logs in afresh, and a command still
    waiting on the old session gives up at its next wake-up instead of holding on.
    """
    from pyghmi.ipmi.private import session

    for handlers in list(session.Session.bmc_handlers.values()):
        for candidate in list(handlers.values()):
            if candidate.bmc == address and candidate.port == port and not candidate.broken:
                # Logged out first, so that _mark_broken does not try to send a "close session"
                # (it would queue behind the command that is stuck, and nobody answers anyway).
                candidate.logged = 0
                candidate.logging = False
                candidate._mark_broken(f"forgotten after no answer from {address}:{port}")
